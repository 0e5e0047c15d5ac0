/*
 * Unit tests of failure reasons: whatever a client sends (bytes that are
 * not UTF-8, multi-byte characters cut by "%.32s"), every reason that can
 * reach the error envelope is valid UTF-8, so it always encodes (jansson
 * refuses anything else, and a 4xx must never turn into a 500).
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"
#include "../tap.h"

/* Whether s is valid UTF-8: what jansson will encode. */
static int
encodes(const char *s)
{
	json_t	*v = json_string(s);
	int	 ok = v != NULL;

	json_decref(v);
	return ok;
}

static const struct { const char *in, *out; } cleaned[] = {
	{ "plain ascii", "plain ascii" },
	{ "caf\xc3\xa9", "caf\xc3\xa9" },			/* é */
	{ "\xe2\x82\xac 5", "\xe2\x82\xac 5" },			/* € */
	{ "\xf0\x9f\x90\x84!", "\xf0\x9f\x90\x84!" },		/* a cow */
	{ "\xff", "?" },
	{ "a\xffz", "a?z" },
	{ "caf\xc3", "caf?" },					/* é cut */
	{ "\xe2\x82", "??" },					/* € cut */
	{ "\xf0\x9f\x90", "???" },				/* cow cut */
	{ "\xc0\xaf", "??" },					/* overlong '/' */
	{ "\xe0\x80\xaf", "???" },				/* overlong */
	{ "\xed\xa0\x80", "???" },				/* a surrogate */
	{ "\xf4\x90\x80\x80", "????" },				/* > U+10FFFF */
	{ "\x80 lone", "? lone" },
	{ "", "" },
};

/* Strings whose cuts at every byte are fed to every reason path. */
static const char *const hostile[] = {
	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	"\xc3\xa9\xc3\xa9\xc3\xa9",
	"x\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
	"yy\xf0\x9f\x90\x84\xf0\x9f\x90\x84\xf0\x9f\x90\x84\xf0\x9f\x90\x84"
	"\xf0\x9f\x90\x84\xf0\x9f\x90\x84\xf0\x9f\x90\x84\xf0\x9f\x90\x84"
	"\xf0\x9f\x90\x84\xf0\x9f\x90\x84\xf0\x9f\x90\x84\xf0\x9f\x90\x84"
	"\xf0\x9f\x90\x84\xf0\x9f\x90\x84\xf0\x9f\x90\x84\xf0\x9f\x90\x84"
	"\xf0\x9f\x90\x84\xf0\x9f\x90\x84",
	"%ff\xff\xfe\x80\xc3",
};

static const struct field fields[] = {
	FIELD("name",       F_NAME,  0, 32,    ""),
	FIELD("roles",      F_ROLES, 0, 0,     ""),
	FIELD("attributes", F_ATTRS, 0, 65536, ""),
};
static const struct bodyspec spec = FIELDS(fields);

/*
 * body (consumed) is refused by the body check, and the reason it gets
 * encodes: what, from hostile string i.
 */
static void
refused_encodes(json_t *body, const char *what, size_t i)
{
	char	 why[REASON_MAX] = "";

	is_int(json_check_object(&spec, body, 1, why, sizeof(why)),
	    API_BAD_REQUEST, "%s from hostile #%zu: 400", what, i);
	ok(encodes(why), "%s from hostile #%zu: the reason encodes", what, i);
	json_decref(body);
}

int
main(void)
{
	struct ctx	 c;
	char		 buf[256], *p;
	json_t		*body;
	size_t		 i, cut, len;
	int		 all;

	for (i = 0; i < nitems(cleaned); i++) {
		snprintf(buf, sizeof(buf), "%s", cleaned[i].in);
		utf8_clean(buf);
		is_str(buf, cleaned[i].out, "utf8_clean #%zu", i);
		ok(encodes(buf), "utf8_clean #%zu encodes", i);
	}

	ctx_init(&c, NULL, NULL, scope_nobody());
	for (i = 0; i < nitems(hostile); i++) {
		len = strlen(hostile[i]);

		/* ctx_fail with a client's bytes cut anywhere, and whole. */
		all = 1;
		for (cut = 0; cut <= len; cut++) {
			ctx_fail(&c, API_NOT_FOUND, "No node found for ID=%.*s",
			    (int)cut, hostile[i]);
			all &= encodes(c.reason);
		}
		ok(all, "ctx_fail: hostile #%zu cut at every byte encodes", i);
		ctx_fail(&c, API_BAD_REQUEST, "%s", hostile[i]);
		ok(encodes(c.reason), "ctx_fail: hostile #%zu whole encodes", i);

		/* A reason longer than the buffer is cut by vsnprintf itself. */
		p = NULL;
		xasprintf(&p, "%0*d%s%s%s%s%s%s%s%s", (int)sizeof(c.reason) - 40,
		    0, hostile[i], hostile[i], hostile[i], hostile[i],
		    hostile[i], hostile[i], hostile[i], hostile[i]);
		ctx_fail(&c, API_BAD_REQUEST, "Unhandled parameter(s): %s", p);
		ok(encodes(c.reason), "ctx_fail: hostile #%zu past the buffer "
		    "encodes", i);
		free(p);

		/* Unknown keys: "Unhandled parameter(s): %.32s, ..." */
		body = json_object();
		for (cut = 1; cut <= len; cut++) {
			char	 key[256];

			snprintf(key, sizeof(key), "%.*s", (int)cut, hostile[i]);
			utf8_clean(key);	/* jansson keys are valid UTF-8 */
			json_object_set_new(body, key, json_true());
		}
		refused_encodes(body, "unknown keys", i);

		/* Unknown roles: "Unknown role: %.64s" */
		snprintf(buf, sizeof(buf), "%s", hostile[i]);
		utf8_clean(buf);
		refused_encodes(json_pack("{s:[s]}", "roles", buf), "role", i);

		/* Attribute keys: "Attribute key %.64s must be ..." */
		refused_encodes(json_pack("{s:{s:i}}", "attributes", buf, 1),
		    "attribute key", i);
	}
	return done_testing();
}
