/*
 * Unit tests of strict JSON decoding, body specs and the name and text
 * validators: valid[] and invalid[] tables.
 */
#include <string.h>

#include "extern.h"
#include "../tap.h"

static const char *const valid_json[] = {
	"{}", "{\"a\": 1}", "[1, 2]", "\"s\"", "{\"a\": {\"b\": [null, true]}}",
};
static const char *const invalid_json[] = {
	"", "{", "{\"a\": 1, \"a\": 2}", "{\"a\": 1} x", "{'a': 1}",
	"{\"a\": \"\\u0000\"}", "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]",
	"{\"a\": 01}", "\xff",
};
static const char *const valid_names[] = {
	"admin", "n1", "gpu-001", "a.b_c", "_x", "A9",
};
static const char *const invalid_names[] = {
	"", ".hidden", "-x", "a b", "a/b", "../etc", "a;rm", "x'", "a\"b",
	"é", "a\nb", "$(id)",
};

static const struct field fields[] = {
	FIELD("name",  F_NAME,      F_REQUIRED, 32,  ""),
	FIELD("count", F_INT,       0,          10,  ""),
	FIELD("on",    F_BOOL,      0,          0,   ""),
	FIELD("desc",  F_TEXT,      0,          16,  ""),
	FIELD("list",  F_ARRAY_STR, 0,          2,   ""),
	FIELD("roles", F_ROLES,     0,          0,   ""),
	FIELD("uid",   F_STRING,    F_READONLY, 32,  ""),
	FIELD("attrs", F_ATTRS,     0,          256, ""),
};
static const struct bodyspec spec = FIELDS(fields);

static const struct {
	const char	*body;
	int		 partial;
	enum apierr	 want;
	const char	*reason;	/* a substring of the reason */
} bodies[] = {
	{ "{\"name\": \"a\"}", 0, API_OK, NULL },
	{ "{\"count\": 3}", 1, API_OK, NULL },
	{ "{\"count\": 3}", 0, API_BAD_REQUEST, "Missing required field: name" },
	{ "{\"name\": \"a\", \"bogus\": 1, \"x\": 2}", 0, API_BAD_REQUEST,
	    "Unhandled parameter(s): bogus, x" },
	{ "{\"name\": \"a\", \"uid\": \"x\"}", 0, API_BAD_REQUEST,
	    "Unhandled parameter(s): uid" },
	{ "{\"name\": 5}", 0, API_BAD_REQUEST, "Field name must be" },
	{ "{\"name\": \"a b\"}", 0, API_BAD_REQUEST, "Field name must be" },
	{ "{\"name\": \"a\", \"count\": \"3\"}", 0, API_BAD_REQUEST,
	    "Field count must be an integer" },
	{ "{\"name\": \"a\", \"count\": 11}", 0, API_BAD_REQUEST, "from 0 to 10" },
	{ "{\"name\": \"a\", \"count\": -1}", 0, API_BAD_REQUEST, "from 0 to 10" },
	{ "{\"name\": \"a\", \"on\": 1}", 0, API_BAD_REQUEST, "true or false" },
	{ "{\"name\": \"a\", \"desc\": \"0123456789abcdefg\"}", 0,
	    API_BAD_REQUEST, "at most 16 bytes" },
	{ "{\"name\": \"a\", \"desc\": \"it's; DROP\"}", 0, API_OK, NULL },
	{ "{\"name\": \"a\", \"desc\": \"bell\\u0007\"}", 0, API_BAD_REQUEST,
	    "control characters" },
	{ "{\"name\": \"a\", \"list\": [\"x\", \"y\", \"z\"]}", 0,
	    API_BAD_REQUEST, "at most 2 entries" },
	{ "{\"name\": \"a\", \"list\": [1]}", 0, API_BAD_REQUEST, "list of strings" },
	{ "{\"name\": \"a\", \"roles\": [\"role.authuser\"]}", 0, API_OK, NULL },
	{ "{\"name\": \"a\", \"roles\": [\"role.god\"]}", 0, API_BAD_REQUEST,
	    "Unknown role: role.god" },
	{ "[1]", 0, API_BAD_REQUEST, "Expected a JSON object" },
	{ "{\"name\": \"a\", \"attrs\": {\"ipmi_user\": \"root\", \"n\": 2}}", 0,
	    API_OK, NULL },
	{ "{\"name\": \"a\", \"attrs\": {\"x\": [1]}}", 0, API_BAD_REQUEST,
	    "Attribute x must be a string, a number or true/false" },
	{ "{\"name\": \"a\", \"attrs\": {\"a b\": 1}}", 0, API_BAD_REQUEST,
	    "Attribute key a b must be" },
	{ "{\"name\": \"a\", \"attrs\": 5}", 0, API_BAD_REQUEST,
	    "Field attrs must be a JSON object of key-value pairs" },
};

static const struct { const char *in, *out; } macs[] = {
	{ "52:54:00:00:00:03", "52:54:00:00:00:03" },
	{ "52-54-00-AB-cd-EF", "52:54:00:ab:cd:ef" },
	{ "52:54:00:00:00", NULL },
	{ "52:54:00:00:00:03:04", NULL },
	{ "52:54:00:00:00:0g", NULL },
	{ "5254.0000.0003", NULL },
	{ "52:54:00:00:00:3", NULL },
	{ "", NULL },
};

int
main(void)
{
	char		 err[256], why[REASON_MAX];
	json_t		*v;
	enum apierr	 rc;
	size_t		 i;

	for (i = 0; i < sizeof(valid_json) / sizeof(valid_json[0]); i++) {
		v = json_decode_strict(valid_json[i], strlen(valid_json[i]),
		    err, sizeof(err));
		ok(v != NULL, "decodes %s", valid_json[i]);
		json_decref(v);
	}
	for (i = 0; i < sizeof(invalid_json) / sizeof(invalid_json[0]); i++) {
		v = json_decode_strict(invalid_json[i], strlen(invalid_json[i]),
		    err, sizeof(err));
		ok(v == NULL && err[0] != '\0', "refuses invalid JSON #%zu", i);
		json_decref(v);
	}
	for (i = 0; i < sizeof(valid_names) / sizeof(valid_names[0]); i++)
		ok(valid_name(valid_names[i]), "name %s is valid", valid_names[i]);
	for (i = 0; i < sizeof(invalid_names) / sizeof(invalid_names[0]); i++)
		ok(!valid_name(invalid_names[i]), "name #%zu is refused", i);
	ok(!valid_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	    "a 256-character name is refused");

	for (i = 0; i < sizeof(macs) / sizeof(macs[0]); i++) {
		char	 mac[18];
		int	 mrc = mac_normalize(macs[i].in, mac);

		if (macs[i].out != NULL)
			ok(mrc == 0 && strcmp(mac, macs[i].out) == 0,
			    "MAC %s normalizes to %s", macs[i].in, macs[i].out);
		else
			ok(mrc == -1, "MAC '%s' is refused", macs[i].in);
	}

	for (i = 0; i < nitems(bodies); i++) {
		why[0] = '\0';
		v = json_decode_strict(bodies[i].body, strlen(bodies[i].body),
		    err, sizeof(err));
		rc = json_check_object(&spec, v, bodies[i].partial, why,
		    sizeof(why));
		is_int(rc, bodies[i].want, "body %s", bodies[i].body);
		if (bodies[i].reason != NULL)
			ok(strstr(why, bodies[i].reason) != NULL,
			    "reason '%s' holds '%s'", why, bodies[i].reason);
		json_decref(v);
	}
	return done_testing();
}
