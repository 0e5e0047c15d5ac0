/*
 * corral: libFuzzer harness for tmpl_expand().
 *
 * The input is a template, expanded with a lookup that knows a few names,
 * some of whose values look like references themselves, under a large
 * and a small cap.  Success must give a string within the cap and no
 * reason; failure no string and a reason.  A template without '<' must
 * come back unchanged.
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
};

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
expand(const char *tmpl, size_t maxlen)
{
	char	 err[256];
	char	*out = (char *)&err;	/* must be overwritten */
	int	 rc;

	err[0] = 'x';
	err[1] = '\0';
	rc = tmpl_expand(tmpl, lookup, NULL, maxlen, &out, err, sizeof(err));
	if (rc == 0) {
		if (out == NULL || strlen(out) > maxlen || err[0] != '\0')
			abort();
		if (strchr(tmpl, '<') == NULL && strcmp(out, tmpl) != 0)
			abort();
	} else if (rc != -1 || out != NULL || err[0] == '\0')
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
	expand(in, 65536);
	expand(in, 16);
	free(in);
	return 0;
}
