/*
 * Hostname records (reference: "Hostname Objects"): extra DNS records
 * (A, AAAA, SRV) served beside the nodes'; an A/AAAA record with a MAC
 * also gets a DHCP entry.
 */
#include <string.h>

#include "extern.h"

static const char *const rtypes[] = { "arec", "aaaarec", "srvrec", NULL };
static const char *const protos[] = { "tcp", "udp", NULL };

static const struct field hostname_fields[] = {
	FIELD("name",        F_NAME,   F_REQUIRED, 63,    "The name for the host"),
	FIELD_ENUM("type",   F_ENUM,   0,          0,     rtypes, "arec (IPv4), aaaarec (IPv6) or srvrec (service); default from ip"),
	FIELD("description", F_TEXT,   0,          4096,  "A text string with descriptive information"),
	FIELD("ip",          F_IP,     0,          0,     "Required for arec and aaaarec: the address"),
	FIELD("mac",         F_MAC,    F_UNIQUE,   0,     "Optional for arec and aaaarec: the MAC DHCP answers"),
	FIELD("target",      F_STRING, 0,          253,   "Required for srvrec: the server running the service"),
	FIELD("port",        F_INT,    0,          65535, "Required for srvrec: the service's port"),
	FIELD("service",     F_NAME,   0,          63,    "Optional for srvrec: the service name (default: the record's name)"),
	FIELD_ENUM("proto",  F_ENUM,   0,          0,     protos, "Optional for srvrec: tcp or udp"),
	FIELD("weight",      F_INT,    0,          65535, "Optional for srvrec: weight among records of one target"),
	FIELD("priority",    F_INT,    0,          65535, "Optional for srvrec: priority among records of one target"),
	FIELD("domain",      F_STRING, 0,          253,   "Optional for srvrec: the domain part of the FQDN"),
};

static const char *const a_only[] = { "ip", "mac", NULL };
static const char *const srv_only[] = {
	"target", "port", "service", "proto", "weight", "priority", "domain", NULL
};

/*
 * The type follows from what is sent when not given; each type takes
 * only its own fields, as the reference lists them.
 */
static enum apierr
hostname_prepare(struct ctx *c, json_t *doc, enum how how)
{
	const char		*type = json_string_value(json_object_get(doc, "type"));
	const char		*ip = json_string_value(json_object_get(doc, "ip"));
	const char		*s;
	const char *const	*other;
	int			 v4;
	size_t			 i;

	if (type == NULL) {
		type = ip == NULL ? "srvrec" : strchr(ip, ':') ? "aaaarec" : "arec";
		json_object_set_new(doc, "type", json_string(type));
	}
	other = strcmp(type, "srvrec") == 0 ? a_only : srv_only;
	for (i = 0; other[i] != NULL; i++)
		if (json_object_get(doc, other[i]) != NULL)
			return ctx_fail(c, API_BAD_REQUEST, "Field %s does not "
			    "apply to a %s record", other[i], type);
	if (strcmp(type, "srvrec") == 0) {
		if ((s = json_string_value(json_object_get(doc, "target"))) == NULL ||
		    json_object_get(doc, "port") == NULL)
			return ctx_fail(c, API_BAD_REQUEST, "A srvrec needs "
			    "target and port");
		if (!valid_dnsname(s))
			return ctx_fail(c, API_BAD_REQUEST, "Field target must "
			    "be a DNS name");
		if ((s = json_string_value(json_object_get(doc, "domain"))) != NULL &&
		    !valid_dnsname(s))
			return ctx_fail(c, API_BAD_REQUEST, "Field domain must "
			    "be a DNS name");
		return API_OK;
	}
	if (ip == NULL)
		return ctx_fail(c, API_BAD_REQUEST, "An %s needs ip", type);
	v4 = strchr(ip, ':') == NULL;
	if (v4 != (strcmp(type, "arec") == 0))
		return ctx_fail(c, API_BAD_REQUEST, "An %s needs an %s address",
		    type, v4 ? "IPv6" : "IPv4");
	return API_OK;
}

const struct objclass hostname_class = {
	.name = "hostname", .plural = "hostnames", .label = "hostname",
	.spec = FIELDS(hostname_fields),
	.prepare = hostname_prepare,
};

static int
match_uid_part(const json_t *o, const char *uid, const char *what)
{
	return strstr(uid, what) != NULL;
}

/* GET /hostnames/bypart/:part: the UIDs that hold part. */
const struct search hostnames_bypart = { match_uid_part };
