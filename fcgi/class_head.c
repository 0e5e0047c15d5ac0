/*
 * Head nodes (reference: "Head Node Endpoints"): the heads serving the
 * cluster, as the management tenant records them.  A head brings its own
 * UID (the reference: "usually configured via a file on disk"), so the
 * UID may be sent on create.
 */
#include <string.h>

#include "extern.h"

#define PEM_MAX		65536

static const struct field head_fields[] = {
	FIELD("uid",         F_STRING, 0,          UID_LEN, "The head's own UID (32 hex); made up if not sent"),
	FIELD("name",        F_NAME,   F_REQUIRED, 253,     "The head's host name"),
	FIELD("ssh_public",  F_STRING, F_REQUIRED, 16384,   "The SSH public key of this head"),
	FIELD("description", F_TEXT,   0,          4096,    "A text string with descriptive information"),
	FIELD("ca_pem",      F_ANY,    0,          PEM_MAX, "The head's CA certificate, PEM"),
	FIELD("ip",          F_STRING, 0,          45,      "The head's address; calls between heads come from it without a token"),
};

/* Whether s is PEM-shaped: BEGIN/END armour, printable lines. */
static int
valid_pem(const char *s)
{
	size_t	 i;

	if (strncmp(s, "-----BEGIN ", 11) != 0 || strstr(s, "-----END ") == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= PEM_MAX || ((unsigned char)s[i] < 0x20 &&
		    s[i] != '\n' && s[i] != '\r') || s[i] == 0x7f)
			return 0;
	return 1;
}

static enum apierr
head_prepare(struct ctx *c, json_t *doc, enum how how)
{
	json_t		*pem = json_object_get(doc, "ca_pem");
	const char	*key = json_string_value(json_object_get(doc, "ssh_public"));
	const char	*ip;

	if (pem != NULL && !json_is_null(pem) &&
	    (!json_is_string(pem) || !valid_pem(json_string_value(pem))))
		return ctx_fail(c, API_BAD_REQUEST, "Field ca_pem must be a PEM "
		    "certificate");
	if ((ip = json_string_value(json_object_get(doc, "ip"))) != NULL &&
	    !valid_ip(ip))
		return ctx_fail(c, API_BAD_REQUEST, "Field ip must be an IP "
		    "address");
	if (key != NULL && strncmp(key, "ssh-", 4) != 0 &&
	    strncmp(key, "ecdsa-", 6) != 0)
		return ctx_fail(c, API_BAD_REQUEST, "Field ssh_public must be an "
		    "OpenSSH public key");
	return API_OK;
}

const struct objclass head_class = {
	.name = "head", .plural = "heads", .label = "head",
	.spec = FIELDS(head_fields),
	.global_names = 1,
	.client_uid = 1,
	.prepare = head_prepare,
};

/* What head_at_addr looks for, and whether it found it. */
struct headaddr {
	const char	*addr;
	int		 found;
};

static void
head_addr_match(const struct objrow *o, void *arg)
{
	struct headaddr	*h = arg;
	const char	*ip = json_string_value(json_object_get(o->doc, "ip"));

	if (ip != NULL && strcmp(ip, h->addr) == 0)
		h->found = 1;
}

/*
 * Whether addr is the "ip" of a head object: the endpoints the reference
 * opens to "another known head node" without a token.  Heads are few.
 */
int
head_at_addr(struct ctx *c, const char *addr)
{
	struct headaddr	 h = { addr, 0 };

	if (addr == NULL || !valid_ip(addr))
		return 0;
	obj_each(c, &head_class, SCOPE_ALL, head_addr_match, &h);
	return h.found;
}
