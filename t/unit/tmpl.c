/*
 * Unit tests of <attribute> templates: valid[] expansions, invalid[]
 * templates with their reasons, the length cap and no recursion.
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
	char	 err[256], big[300];
	char	*out;
	size_t	 i;
	int	 rc, calls;

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

	/* A small err buffer truncates, still terminated. */
	rc = tmpl_expand("<nope>", lookup, &calls, 4096, &out, err, 8);
	is_str(err, "Unknown", "err is truncated to errsz");

	return done_testing();
}
