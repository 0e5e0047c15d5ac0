/*
 * corral: libFuzzer harness for the dynamic-group selector (fcgi/sel.c).
 *
 * Each input is a selector.  If it parses, its normalized form must
 * parse again to the same normalized form, read the same namespaces and
 * match the same nodes; any difference abort()s, so libFuzzer keeps the
 * input.  The nodes hold each kind of JSON value under the keys the
 * seeds use, so comparisons of every kind run.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const node_json[][3] = {
	{ "{\"_boot_config\": \"DefaultBoot\", \"x\": \"1\", \"y\": 2,"
	  " \"z\": true, \"rack\": \"r10\", \"n\": null, \"a\": [1], \"o\": {}}",
	  "{\"ram_total\": 137438953472, \"cpus\": \"64\","
	  " \"disk\": \"1.5 TiB\", \"load\": 0.25}",
	  "{\"state\": \"up\", \"x\": false, \"uptime\": 1e9}" },
	{ "{\"x\": \"\", \"y\": \"abc\", \"z\": \"0\", \"rack\": 10}",
	  "{\"ram_total\": \"64GB\", \"cpus\": 8}",
	  "{}" },
};

#define NNODES	(sizeof(node_json) / sizeof(node_json[0]))

static json_t	*nodes[NNODES][3];

static void
fuzz_nodes(void)
{
	size_t	 i, j;

	for (i = 0; i < NNODES; i++)
		for (j = 0; j < 3; j++)
			if ((nodes[i][j] = json_loads(node_json[i][j], 0,
			    NULL)) == NULL)
				abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 ready;
	struct sel	*s = NULL, *again = NULL;
	char		*text, *norm = NULL, *norm2 = NULL;
	char		 err[256];
	size_t		 pos, i;

	if (!ready) {
		fuzz_nodes();
		ready = 1;
	}

	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';

	if ((s = sel_parse(text, &pos, err, sizeof(err))) == NULL) {
		/* A refusal names a place inside the text, or its end. */
		if (pos > strlen(text) || strncmp(err, "Bad selector at "
		    "position ", 25) != 0)
			abort();
		goto out;
	}
	norm = sel_normalize(s);
	if (strlen(norm) > SEL_TEXT_MAX)
		abort();
	if ((again = sel_parse(norm, &pos, err, sizeof(err))) == NULL)
		abort();
	norm2 = sel_normalize(again);
	if (strcmp(norm, norm2) != 0 || sel_uses(s) != sel_uses(again))
		abort();
	for (i = 0; i < NNODES; i++)
		if (sel_eval(s, nodes[i][0], nodes[i][1], nodes[i][2]) !=
		    sel_eval(again, nodes[i][0], nodes[i][1], nodes[i][2]))
			abort();
	(void)sel_eval(s, NULL, NULL, NULL);
out:
	free(norm);
	free(norm2);
	sel_free(s);
	sel_free(again);
	free(text);
	return 0;
}
