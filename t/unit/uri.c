/*
 * Unit tests of power URIs: the reference's example end to end (template,
 * then parse), valid[] URIs with the whole parsed object, invalid[] URIs
 * with their reasons.
 */
#include <string.h>

#include "extern.h"
#include "../tap.h"

/* The reference's node attributes in its power_uri example. */
static const char *
ref_lookup(const char *name, void *arg)
{
	(void)arg;
	if (strcmp(name, "ipmi_user") == 0)
		return "service";
	if (strcmp(name, "ipmi_pass") == 0)
		return "servicepass";
	return NULL;
}

/* Whether got (borrowed) dumps the same as the JSON text want. */
static int
same_json(json_t *got, const char *want, const char *name)
{
	json_t	*w;
	char	*g = NULL, *d = NULL;
	int	 pass;

	if ((w = json_loads(want, 0, NULL)) == NULL) {
		diag("bad expected JSON: %s", want);
		return ok(0, "%s", name);
	}
	if (got != NULL)
		g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
	d = json_dumps(w, JSON_SORT_KEYS | JSON_COMPACT);
	pass = is_str(g, d, "%s", name);
	free(g);
	free(d);
	json_decref(w);
	return pass;
}

#define LABEL64	"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"
#define NOUSER	"\"server_username\": null, \"username\": null, " \
		"\"password\": null"

static const struct {
	const char	*uri;
	const char	*want;
} valid[] = {
	{ "ipmi://service:servicepass@10.10.1.3/ipmi",
	  "{\"scheme\": \"ipmi\", \"schemes\": \"\", \"server\": \"10.10.1.3\", "
	  "\"path\": \"ipmi\", \"server_username\": \"service:servicepass\", "
	  "\"username\": null, \"password\": null, \"host\": \"ipmi\"}" },
	{ "redfish+https://admin:pw@bmc1.cluster.local:8443/Systems/1",
	  "{\"scheme\": \"redfish\", \"schemes\": \"https\", "
	  "\"server\": \"bmc1.cluster.local:8443\", \"path\": \"Systems/1\", "
	  "\"server_username\": \"admin:pw\", \"username\": null, "
	  "\"password\": null, \"host\": \"Systems\"}" },
	{ "ipmi://10.0.0.1",
	  "{\"scheme\": \"ipmi\", \"schemes\": \"\", \"server\": \"10.0.0.1\", "
	  "\"path\": \"\", \"host\": null, " NOUSER "}" },
	{ "ipmi://10.0.0.1/",
	  "{\"scheme\": \"ipmi\", \"schemes\": \"\", \"server\": \"10.0.0.1\", "
	  "\"path\": \"\", \"host\": null, " NOUSER "}" },
	{ "ssh://root@[fe80::1]:22/n1",
	  "{\"scheme\": \"ssh\", \"schemes\": \"\", \"server\": \"[fe80::1]:22\", "
	  "\"path\": \"n1\", \"host\": \"n1\", \"server_username\": \"root\", "
	  "\"username\": null, \"password\": null}" },
	{ "redfish+http://[::1]/",
	  "{\"scheme\": \"redfish\", \"schemes\": \"http\", "
	  "\"server\": \"[::1]\", \"path\": \"\", \"host\": null, " NOUSER "}" },
	{ "virsh://head1/vm-n3?username=u%40x&password=p%26w%3D",
	  "{\"scheme\": \"virsh\", \"schemes\": \"\", \"server\": \"head1\", "
	  "\"path\": \"vm-n3\", \"host\": \"vm-n3\", \"server_username\": null, "
	  "\"username\": \"u@x\", \"password\": \"p&w=\"}" },
	{ "ipmi://us%3Aer:p%40ss@bmc/",
	  "{\"scheme\": \"ipmi\", \"schemes\": \"\", \"server\": \"bmc\", "
	  "\"path\": \"\", \"host\": null, \"server_username\": \"us:er:p@ss\", "
	  "\"username\": null, \"password\": null}" },
	{ "ipmi://a@b@bmc",
	  "{\"scheme\": \"ipmi\", \"schemes\": \"\", \"server\": \"bmc\", "
	  "\"path\": \"\", \"host\": null, \"server_username\": \"a@b\", "
	  "\"username\": null, \"password\": null}" },
	{ "ipmi://bmc?password=a+b=c",
	  "{\"scheme\": \"ipmi\", \"schemes\": \"\", \"server\": \"bmc\", "
	  "\"path\": \"\", \"host\": null, \"server_username\": null, "
	  "\"username\": null, \"password\": \"a+b=c\"}" },
	{ "ipmi://bmc?username=&password=x",
	  "{\"scheme\": \"ipmi\", \"schemes\": \"\", \"server\": \"bmc\", "
	  "\"path\": \"\", \"host\": null, \"server_username\": null, "
	  "\"username\": \"\", \"password\": \"x\"}" },
	{ "ipmi://bmc:65535/a//b",
	  "{\"scheme\": \"ipmi\", \"schemes\": \"\", \"server\": \"bmc:65535\", "
	  "\"path\": \"a//b\", \"host\": \"a\", " NOUSER "}" },
	{ "ipmi://bmc//x",
	  "{\"scheme\": \"ipmi\", \"schemes\": \"\", \"server\": \"bmc\", "
	  "\"path\": \"/x\", \"host\": null, " NOUSER "}" },
	{ "ipmi2://B-M-C.example.com:1/slot%201",
	  "{\"scheme\": \"ipmi2\", \"schemes\": \"\", "
	  "\"server\": \"B-M-C.example.com:1\", \"path\": \"slot%201\", "
	  "\"host\": \"slot%201\", " NOUSER "}" },
	{ "ipmi://p:a%25s%20s@bmc?",
	  "{\"scheme\": \"ipmi\", \"schemes\": \"\", \"server\": \"bmc\", "
	  "\"path\": \"\", \"host\": null, \"server_username\": \"p:a%s s\", "
	  "\"username\": null, \"password\": null}" },
};

static const struct {
	const char	*uri;
	const char	*reason;	/* a part of the reason */
} invalid[] = {
	{ "",				"empty" },
	{ "ipmi://bmc /x",		"space, control or non-ASCII byte at position 11" },
	{ "ipmi://bmc\t",		"space, control or non-ASCII byte at position 11" },
	{ "ipmi://bmc/\xc3\xa9",	"non-ASCII byte at position 12" },
	{ "ipmi://bmc#frag",		"fragment ('#') at position 11" },
	{ "ipmi://<ipmi_user>@bmc",	"'<' at position 8; write it as %3C" },
	{ "ipmi://bmc/a|b",		"'|' at position 13" },
	{ "IPMI://bmc",			"lowercase scheme" },
	{ "1pmi://bmc",			"lowercase scheme" },
	{ "//bmc",			"lowercase scheme" },
	{ "ipmi:bmc",			"\"://\" at position 5" },
	{ "ipmi//bmc",			"\"://\" at position 5" },
	{ "redfish+://bmc",		"after '+' at position 8" },
	{ "redfish+h2://bmc",		"\"://\" at position 10" },
	{ "ipmi://",			"no server at position 8" },
	{ "ipmi:///ipmi",		"no server at position 8" },
	{ "ipmi://user@/x",		"no server at position 13" },
	{ "ipmi://@bmc",		"empty user before '@' at position 8" },
	{ "ipmi://bmc:0",		"port at position 12" },
	{ "ipmi://bmc:65536",		"port at position 12" },
	{ "ipmi://bmc:",		"port at position 12" },
	{ "ipmi://bmc:12a",		"port at position 12" },
	{ "ipmi://bmc:+80",		"port at position 12" },
	{ "ipmi://bmc:000080",		"port at position 12" },
	{ "ipmi://:623",		"no server at position 8" },
	{ "ipmi://fe80::1/x",		"IPv6 address in brackets" },
	{ "ipmi://[fe80::1/x",		"'[' without ']'" },
	{ "ipmi://[zz::1]/x",		"not a valid IPv6 address" },
	{ "ipmi://[]/x",		"not a valid IPv6 address" },
	{ "ipmi://[fe80::1]x/",		"text after ']' at position 17" },
	{ "ipmi://[fe80::1%25eth0]/",	"not a valid IPv6 address" },
	{ "ipmi://256.1.1.1/",		"not a valid IPv4 address" },
	{ "ipmi://10.1.1/",		"not a valid IPv4 address" },
	{ "ipmi://010.1.1.1/",		"not a valid IPv4 address" },
	{ "ipmi://-bmc/",		"not a valid host name" },
	{ "ipmi://bmc-/",		"not a valid host name" },
	{ "ipmi://b_mc/",		"not a valid host name" },
	{ "ipmi://a..b/",		"not a valid host name" },
	{ "ipmi://bmc./",		"not a valid host name" },
	{ "ipmi://u%zz@bmc",		"not an escape at position 9" },
	{ "ipmi://u%@bmc",		"not an escape at position 9" },
	{ "ipmi://u%0a@bmc",		"decodes to a control" },
	{ "ipmi://u%ff@bmc",		"non-ASCII" },
	{ "ipmi://bmc/a%2",		"not an escape at position 13" },
	{ "ipmi://bmc/a%2x",		"not an escape at position 13" },
	{ "ipmi://bmc/a[1]",		"escape it as %5B" },
	{ "ipmi://bmc?user=x",		"query at position 12 may only hold" },
	{ "ipmi://bmc?username",	"may only hold" },
	{ "ipmi://bmc?&",		"may only hold" },
	{ "ipmi://bmc?username=a&username=b", "second username at position 23" },
	{ "ipmi://bmc?password=%00",	"decodes to a control" },
	{ "ipmi://bmc?password=%",	"not an escape at position 21" },
};

int
main(void)
{
	json_t	*o;
	char	 err[256], *uri = NULL, *expanded = NULL, *big;
	size_t	 i;
	int	 rc;

	/* The reference's example, from template to parsed object. */
	rc = tmpl_expand("ipmi://<ipmi_user>:<ipmi_pass>@10.10.1.3/ipmi",
	    ref_lookup, NULL, URI_MAX_LEN, &expanded, err, sizeof(err));
	is_int(rc, 0, "reference: the template expands");
	is_str(expanded, "ipmi://service:servicepass@10.10.1.3/ipmi",
	    "reference: the unparsed URI");
	o = uri_parse_power(expanded, err, sizeof(err));
	same_json(o, "{\"scheme\": \"ipmi\", \"schemes\": \"\", \"server\": "
	    "\"10.10.1.3\", \"path\": \"ipmi\", \"server_username\": "
	    "\"service:servicepass\", \"username\": null, \"password\": null, "
	    "\"host\": \"ipmi\"}", "reference: the parsed object");
	is_int(json_object_size(o), 8, "reference: eight keys, no more");
	json_decref(o);
	free(expanded);
	rc = tmpl_expand("ipmi://<ipmi_user>:<ipmi_password>@10.10.1.3/ipmi",
	    ref_lookup, NULL, URI_MAX_LEN, &expanded, err, sizeof(err));
	is_str(err, "Unknown attribute <ipmi_password> at position 20",
	    "reference: the prose's <ipmi_password> is not an attribute");

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		o = uri_parse_power(valid[i].uri, err, sizeof(err));
		if (!ok(o != NULL, "parse %s", valid[i].uri))
			diag("%s", err);
		same_json(o, valid[i].want, valid[i].uri);
		json_decref(o);
	}

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		err[0] = '\0';
		o = uri_parse_power(invalid[i].uri, err, sizeof(err));
		ok(o == NULL, "refuse %s", invalid[i].uri);
		if (!ok(strstr(err, invalid[i].reason) != NULL,
		    "... saying '%s'", invalid[i].reason))
			diag("reason: %s", err);
		json_decref(o);
	}

	o = uri_parse_power(NULL, err, sizeof(err));
	ok(o == NULL && strstr(err, "empty") != NULL, "NULL is empty");

	/* The length cap, exactly. */
	big = xmalloc(URI_MAX_LEN + 2);
	memcpy(big, "ipmi://bmc/", 11);
	memset(big + 11, 'a', URI_MAX_LEN + 1 - 11);
	big[URI_MAX_LEN] = '\0';
	o = uri_parse_power(big, err, sizeof(err));
	ok(o != NULL, "%d bytes are accepted", URI_MAX_LEN);
	json_decref(o);
	big[URI_MAX_LEN] = 'a';
	big[URI_MAX_LEN + 1] = '\0';
	o = uri_parse_power(big, err, sizeof(err));
	ok(o == NULL && strstr(err, "longer than 2048 bytes") != NULL,
	    "%d bytes are refused", URI_MAX_LEN + 1);
	free(big);

	/* Host names: 63-character labels, 253 characters in all. */
	xasprintf(&uri, "ipmi://%.63s.x/", LABEL64);
	o = uri_parse_power(uri, err, sizeof(err));
	ok(o != NULL, "a 63-character label is accepted");
	json_decref(o);
	free(uri);
	xasprintf(&uri, "ipmi://%.64s.x/", LABEL64);
	o = uri_parse_power(uri, err, sizeof(err));
	ok(o == NULL, "a 64-character label is refused");
	json_decref(o);
	free(uri);
	big = xmalloc(300);
	memcpy(big, "ipmi://", 7);
	for (i = 0; i < 127; i++)
		memcpy(big + 7 + 2 * i, "a.", 2);
	big[7 + 253] = '\0';		/* "a.a.(...)a.a": 253 characters */
	o = uri_parse_power(big, err, sizeof(err));
	ok(o != NULL, "a 253-character host name is accepted");
	json_decref(o);
	big[7 + 253] = 'a';
	big[7 + 254] = '\0';
	o = uri_parse_power(big, err, sizeof(err));
	ok(o == NULL, "a 254-character host name is refused");
	json_decref(o);
	free(big);

	return done_testing();
}
