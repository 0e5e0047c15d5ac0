/*
 * Networks (reference: "Network Objects"): subnets nodes are deployed on.
 * The name is optional there; corral names an unnamed network after its
 * first_ip, which is a valid name and unique enough to look it up by.
 */
#include <sys/socket.h>

#include <string.h>
#include <strings.h>

#include "extern.h"

static const struct field net_fields[] = {
	FIELD("name",        F_NAME,   0,          63,        "The network's name (default: its first_ip)"),
	FIELD("description", F_TEXT,   0,          4096,      "A text string with descriptive information"),
	FIELD("first_ip",    F_IP,     F_REQUIRED, 0,         "The starting IP address for this network"),
	FIELD("ip_count",    F_INT,    F_REQUIRED, 16777216,  "How many addresses may be assigned"),
	FIELD("mask_bits",   F_INT,    F_REQUIRED, 128,       "Bits of the network mask"),
	FIELD("first_index", F_INT,    0,          999999999, "The first index of the nodes in this network"),
	FIELD("router_ip",   F_IP,     0,          0,         "The router on this network"),
	FIELD("gateway_ip",  F_IP,     0,          0,         "The gateway on this network"),
	FIELD("domain",      F_STRING, 0,          253,       "The DNS domain of this network"),
	FIELD("node_iface",  F_NAME,   0,          15,        "The interface nodes boot from"),
};

/*
 * The addresses must form one subnet: first_ip .. first_ip + ip_count - 1
 * inside first_ip/mask_bits, router and gateway inside it too.
 */
static enum apierr
net_prepare(struct ctx *c, json_t *doc, enum how how)
{
	const char	*first = json_string_value(json_object_get(doc, "first_ip"));
	const char	*dom, *k;
	unsigned char	 base[16], last[16], other[16];
	long long	 count, bits;
	int		 fam, plen;
	size_t		 i;

	if (first == NULL)
		return ctx_fail(c, API_BAD_REQUEST, "Missing required field: first_ip");
	if (json_object_get(doc, "name") == NULL)
		json_object_set_new(doc, "name", json_string(first));
	fam = ip_parse(first, base);
	bits = json_integer_value(json_object_get(doc, "mask_bits"));
	count = json_integer_value(json_object_get(doc, "ip_count"));
	plen = fam == AF_INET ? 96 + (int)bits : (int)bits;
	if ((fam == AF_INET && bits > 32) || bits < 1)
		return ctx_fail(c, API_BAD_REQUEST, "Field mask_bits must be 1 to "
		    "%d for this address", fam == AF_INET ? 32 : 128);
	if (count < 1)
		return ctx_fail(c, API_BAD_REQUEST, "Field ip_count must be at least 1");
	memcpy(last, base, sizeof(last));
	if (ip_add(last, (unsigned long long)count - 1) == -1 ||
	    !ip_same_prefix(base, last, plen))
		return ctx_fail(c, API_BAD_REQUEST, "%lld addresses from %s do not "
		    "fit in a /%lld network", count, first, bits);
	for (i = 0; i < 2; i++) {
		k = i == 0 ? "router_ip" : "gateway_ip";
		if (json_object_get(doc, k) == NULL ||
		    json_is_null(json_object_get(doc, k)))
			continue;
		if (ip_parse(json_string_value(json_object_get(doc, k)), other) != fam ||
		    !ip_same_prefix(base, other, plen))
			return ctx_fail(c, API_BAD_REQUEST, "Field %s must be inside "
			    "%s/%lld", k, first, bits);
	}
	if ((dom = json_string_value(json_object_get(doc, "domain"))) != NULL &&
	    !valid_dnsname(dom))
		return ctx_fail(c, API_BAD_REQUEST, "Field domain must be a DNS name");
	return API_OK;
}

const struct objclass net_class = {
	.name = "net", .plural = "nets", .label = "network",
	.spec = FIELDS(net_fields),
	.prepare = net_prepare,
};

/* Case-insensitive substring, for the partial-match searches. */
static int
has_part(const char *s, const char *part)
{
	size_t	 n = strlen(part);

	for (; s != NULL && *s != '\0'; s++)
		if (strncasecmp(s, part, n) == 0)
			return 1;
	return 0;
}

static int
match_name(const json_t *o, const char *uid, const char *what)
{
	return has_part(json_string_value(json_object_get(o, "name")), what);
}

static int
match_key(const json_t *o, const char *uid, const char *what)
{
	return has_part(uid, what);
}

static int
match_iface(const json_t *o, const char *uid, const char *what)
{
	return has_part(json_string_value(json_object_get(o, "node_iface")), what);
}

/*
 * A full address matches the networks whose range holds it; a partial
 * one ("10.1.") the networks whose first_ip starts with it.
 */
static int
match_ip(const json_t *o, const char *uid, const char *what)
{
	const char	*first = json_string_value(json_object_get(o, "first_ip"));
	unsigned char	 base[16], ip[16], last[16];
	long long	 count = json_integer_value(json_object_get(o, "ip_count"));
	int		 i;

	if (first == NULL)
		return 0;
	if (ip_parse(what, ip) == 0 || ip_parse(first, base) == 0)
		return strncmp(first, what, strlen(what)) == 0;
	memcpy(last, base, sizeof(last));
	if (count < 1 || ip_add(last, (unsigned long long)count - 1) == -1)
		return 0;
	for (i = 0; i < 16 && ip[i] == base[i]; i++)
		;
	if (i < 16 && ip[i] < base[i])
		return 0;
	for (i = 0; i < 16 && ip[i] == last[i]; i++)
		;
	return i == 16 || ip[i] < last[i];
}

/* GET /nets/byname/:part, byip/:ip, bykey/:part, byiface/:part (deprecated) */
const struct search nets_byname = { match_name };
const struct search nets_byip = { match_ip };
const struct search nets_bykey = { match_key };
const struct search nets_byiface = { match_iface };
