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

	if (pem != NULL && !json_is_null(pem) &&
	    (!json_is_string(pem) || !valid_pem(json_string_value(pem))))
		return ctx_fail(c, API_BAD_REQUEST, "Field ca_pem must be a PEM "
		    "certificate");
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
