/*
 * corral: libFuzzer harness for naming_parse(), naming_format() and
 * naming_match().
 *
 * The input is "pattern" or "pattern\nname".  A pattern that parses must
 * round-trip: the name format writes for an index is a valid DNS label
 * and matches back to that same index.  A name that matches must be the
 * very name format writes for the index it matched.  Anything else aborts.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const long long	 indexes[] = {
	0, 1, 7, 9, 10, 99, 100, 999, 1000, 65535, 123456789, 999999999
};

static void
round_trip(const struct naming *nm, long long index)
{
	char		 name[128];
	long long	 back = -1;

	if (naming_format(nm, index, name, sizeof(name)) == -1) {
		/* Only a long name may fail, never the shortest. */
		if (index == 0)
			abort();
		return;
	}
	if (strlen(name) > NAMING_LABEL_MAX || !valid_name(name))
		abort();
	if (naming_match(nm, name, &back) != 1 || back != index)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct naming	 nm;
	char		 err[256], again[128];
	char		*in, *name;
	long long	 index = -1;
	size_t		 i;

	in = malloc(size + 1);
	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if ((name = strchr(in, '\n')) != NULL)
		*name++ = '\0';

	if (naming_parse(in, &nm, err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			abort();
		goto out;
	}
	for (i = 0; i < sizeof(indexes) / sizeof(indexes[0]); i++)
		round_trip(&nm, indexes[i]);
	if (size >= 4)
		round_trip(&nm, (long long)(data[size - 1] |
		    data[size - 2] << 8 | data[size - 3] << 16));
	if (name != NULL && naming_match(&nm, name, &index) == 1) {
		if (naming_format(&nm, index, again, sizeof(again)) == -1 ||
		    strcmp(again, name) != 0)
			abort();
	}
out:
	free(in);
	return 0;
}
