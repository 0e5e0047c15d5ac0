/*
 * The "noop" job kind: sleeps, echoes, or fails on request.  It does no
 * work of its own; it exists so the whole job path (API, queue, claim,
 * runner, result, restart recovery) can be exercised and measured without
 * a BMC or a node.
 *
 * Parameters, all optional:
 *   "sleep"  number of seconds, 0 to 3600, fractions allowed
 *   "echo"   any JSON value, handed back in the result
 *   "fail"   boolean; true makes the job fail (after sleeping)
 * Result: {"echo": <echo or null>, "slept": <seconds>}.  The runner is
 * run_noop.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "extern.h"

#define NOOP_SLEEP_MAX	3600	/* seconds */

/*
 * Check params against the rules above.  Returns 0 when they hold, else
 * -1 with a reason naming the key and the rule in why.  NULL params means
 * none were given and is fine.
 */
int
noop_params(const json_t *params, char *why, size_t whysz,
    double *sleep_out, int *fail_out)
{
	const char	*key;
	json_t		*val;
	double		 secs = 0;

	*sleep_out = 0;
	*fail_out = 0;
	if (params == NULL)
		return 0;
	if (!json_is_object(params)) {
		snprintf(why, whysz, "noop parameters must be a JSON object");
		return -1;
	}
	/* json_object_foreach wants a non-const object; it only reads it. */
	json_object_foreach((json_t *)(uintptr_t)params, key, val) {
		if (strcmp(key, "sleep") == 0) {
			if (!json_is_number(val)) {
				snprintf(why, whysz, "sleep must be a number "
				    "of seconds");
				return -1;
			}
			secs = json_number_value(val);
			if (!isfinite(secs) || secs < 0 || secs > NOOP_SLEEP_MAX) {
				snprintf(why, whysz, "sleep must be between 0 "
				    "and %d seconds", NOOP_SLEEP_MAX);
				return -1;
			}
		} else if (strcmp(key, "fail") == 0) {
			if (!json_is_boolean(val)) {
				snprintf(why, whysz, "fail must be true or false");
				return -1;
			}
			*fail_out = json_is_true(val);
		} else if (strcmp(key, "echo") != 0) {
			snprintf(why, whysz, "Unhandled parameter(s): %.64s "
			    "(noop takes sleep, echo and fail)", key);
			return -1;
		}
	}
	*sleep_out = secs;
	return 0;
}

/* The API's check of a noop job's parameters: 0, or -1 with why. */
static int
noop_params_ok(const json_t *params, char *why, size_t whysz)
{
	double	 secs;
	int	 fail;

	return noop_params(params, why, whysz, &secs, &fail);
}

const struct jobkind job_noop = { "noop", 1, noop_params_ok };
