/*
 * corral: libFuzzer harness for uri_parse_power().
 *
 * The input is a power URI.  A parse must give exactly the reference's
 * eight keys with the right types and dump as JSON; a failure must give
 * a reason.  Anything else aborts.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const strings[] = { "scheme", "schemes", "server", "path" };
static const char *const nullable[] = {
	"server_username", "username", "password", "host"
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t	*o, *v;
	char	 err[256];
	char	*in, *dump;
	size_t	 i;

	in = malloc(size + 1);
	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if ((o = uri_parse_power(in, err, sizeof(err))) == NULL) {
		if (err[0] == '\0')
			abort();
		free(in);
		return 0;
	}
	if (!json_is_object(o) || json_object_size(o) != 8 || err[0] != '\0')
		abort();
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (!json_is_string(json_object_get(o, strings[i])))
			abort();
	for (i = 0; i < sizeof(nullable) / sizeof(nullable[0]); i++) {
		v = json_object_get(o, nullable[i]);
		if (!json_is_string(v) && !json_is_null(v))
			abort();
	}
	if ((dump = json_dumps(o, JSON_SORT_KEYS)) == NULL)
		abort();
	free(dump);
	json_decref(o);
	free(in);
	return 0;
}
