/*
 * corral: libFuzzer harness for tmpl_expand() and tmpl_expand_as().
 *
 * The input is a template, expanded with a lookup that knows a few names,
 * some of whose values look like references themselves or hold control
 * characters and quotes, under a large and a small cap, verbatim,
 * line-safe, JSON-escaped and both.  Success must give a string within
 * the cap and no reason; failure no string and a reason.  A template
 * without '<' must come back unchanged.  Line-safe, the result holds
 * exactly the template's own control characters; only line-safe refuses.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const attrs[][2] = {
	{ "ipmi_user",	"service" },
	{ "ipmi_pass",	"servicepass" },
	{ "a",		"A" },
	{ "empty",	"" },
	{ "loop",	"<loop>" },
	{ "lt",		"<" },
	{ "x.y-z_0",	"<a><a><a><a>" },
	{ "nl",		"a\nb" },
	{ "tab",	"\t" },
	{ "q",		"\"\\\x7f" },
};

/* The number of control characters (as TMPL_LINE_SAFE counts them) in s. */
static size_t
controls(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			n++;
	return n;
}

static const char *
lookup(const char *name, void *arg)
{
	size_t	 i;

	(void)arg;
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (strcmp(attrs[i][0], name) == 0)
			return attrs[i][1];
	return NULL;
}

static void
expand(const char *tmpl, size_t maxlen, int how)
{
	char	 err[256];
	char	*out = (char *)&err;	/* must be overwritten */
	int	 rc;

	err[0] = 'x';
	err[1] = '\0';
	rc = how == -1 ? tmpl_expand(tmpl, lookup, NULL, maxlen, &out, err,
	    sizeof(err)) : tmpl_expand_as(tmpl, how, lookup, NULL, maxlen, &out,
	    err, sizeof(err));
	if (rc == 0) {
		if (out == NULL || strlen(out) > maxlen || err[0] != '\0')
			abort();
		if (strchr(tmpl, '<') == NULL && strcmp(out, tmpl) != 0)
			abort();
		if (how != -1 && (how & TMPL_LINE_SAFE) &&
		    controls(out) != controls(tmpl))
			abort();
	} else if ((rc != -1 && (rc != TMPL_REFUSED || how == -1 ||
	    !(how & TMPL_LINE_SAFE))) || out != NULL || err[0] == '\0')
		abort();
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*in;

	in = malloc(size + 1);
	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	expand(in, 65536, -1);
	expand(in, 16, -1);
	expand(in, 65536, TMPL_LINE_SAFE);
	expand(in, 65536, TMPL_JSON);
	expand(in, 16, TMPL_LINE_SAFE | TMPL_JSON);
	free(in);
	return 0;
}
