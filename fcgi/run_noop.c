/*
 * Running a noop job (parameters checked by job_noop.c): sleep, echo, or
 * fail on request.  It exists so the whole job path (API, queue, lease,
 * runner, result, waiting, restart recovery) can be exercised and
 * measured without a BMC or a node.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "extern.h"

/* Sleep secs seconds, going on with the remainder when a signal cuts in. */
static void
noop_sleep(double secs)
{
	struct timespec	 want, left;

	want.tv_sec = (time_t)secs;
	want.tv_nsec = (long)((secs - (double)want.tv_sec) * 1e9);
	if (want.tv_nsec >= 1000000000L)
		want.tv_nsec = 999999999L;
	while (nanosleep(&want, &left) == -1 && errno == EINTR)
		want = left;
}

/* {"echo": ..., "slept": ...}, or NULL with err when asked to fail. */
static json_t *
noop_run(struct jobrun *jr, char *err, size_t errsz)
{
	double	 secs;
	int	 fail;

	/* The API checked these, but a runner trusts no row it did not write. */
	if (noop_params(jr->params, err, errsz, &secs, &fail) == -1)
		return NULL;
	if (secs > 0)
		noop_sleep(secs);
	if (fail) {
		snprintf(err, errsz, "asked to fail");
		return NULL;
	}
	return json_pack("{s:O?, s:f}", "echo", json_object_get(jr->params,
	    "echo"), "slept", secs);
}

const struct runkind run_noop = { "noop", NULL, noop_run, NULL, NULL };
