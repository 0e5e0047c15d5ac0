/*
 * Running webhook jobs (queued by api_hook.c; one call is hook.c's):
 *
 *   hook      one non-blocking hook of one event.  A failure is tried
 *             again after [hooks] backoff seconds, doubling each time up
 *             to backoff_max, [hooks] retries times; then the job fails
 *             with the last reason.
 *   hookgate  the blocking hooks of a change, in turn, each within its
 *             timeout; the first that does not answer 2xx fails the job
 *             with a reason naming it and status 409, and the change is
 *             refused (api_hook.c's /_hookgate).  Never retried: a caller
 *             is waiting.
 *
 * Secrets come still sealed in the parameters and are opened in prepare
 * (with the database), kept only in the runner's memory and wiped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* The opened secrets of a job's hooks, in the order of its targets. */
struct hook_secrets {
	size_t	 n;
	char	**clear;	/* NULL: that hook has no secret */
};

static void
hook_secrets_free(struct hook_secrets *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		crypto_clear_free(s->clear[i]);
	free(s->clear);
	free(s);
}

/* Open the secrets of targets (a list of hook targets) into jr->priv. */
static int
hook_open(struct jobrun *jr, const json_t *targets, char *err, size_t errsz)
{
	struct hook_secrets	*s;
	const json_t		*t, *sealed;
	size_t			 i;

	s = xcalloc(1, sizeof(*s));
	s->n = json_array_size(targets);
	s->clear = xcalloc(s->n + 1, sizeof(*s->clear));
	jr->priv = s;
	for (i = 0; i < s->n; i++) {
		t = json_array_get(targets, i);
		if (!json_is_string(json_object_get(t, "url")) ||
		    !json_is_string(json_object_get(t, "name"))) {
			snprintf(err, errsz, "hook job without a URL");
			return -1;
		}
		if ((sealed = json_object_get(t, "sealed")) == NULL)
			continue;
		if (crypto_unseal(&jr->ctx, json_string_value(json_object_get(
		    sealed, "uid")), json_string_value(json_object_get(sealed,
		    "key")), json_string_value(json_object_get(sealed,
		    "value")), &s->clear[i]) != API_OK) {
			snprintf(err, errsz, "hook %s: its secret cannot be "
			    "decrypted (%s)", json_string_value(
			    json_object_get(t, "name")), jr->ctx.reason);
			return -1;
		}
	}
	return 0;
}

/* Call target t (secret: clear or NULL) with the job's body.  0 or -1. */
static int
hook_call(struct jobrun *jr, const json_t *t, const char *secret,
    long *status, char *why, size_t whysz)
{
	struct hook_call	 c;
	const char		*body;

	if ((body = json_string_value(json_object_get(jr->params, "body"))) ==
	    NULL) {
		snprintf(why, whysz, "hook job without a body");
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.url = json_string_value(json_object_get(t, "url"));
	c.id = jr->uid;
	c.body = body;
	c.secret = secret;
	c.timeout = (int)json_integer_value(json_object_get(t, "timeout"));
	if (c.timeout < 1 || c.timeout > 60)
		c.timeout = jr->conf->hooks_timeout;
	return hook_deliver(jr->conf, &c, status, why, whysz);
}

static int
hook_prepare(struct jobrun *jr, char *err, size_t errsz)
{
	json_t	*one;
	int	 rc;

	one = json_pack("[O]", json_object_get(jr->params, "hook"));
	rc = hook_open(jr, one, err, errsz);
	json_decref(one);
	return rc;
}

/* The seconds before try n + 1 (n >= 1): backoff doubled, capped. */
static double
hook_backoff(const struct conf *conf, long long n)
{
	double	 secs = conf->hooks_backoff;

	while (--n > 0 && secs < conf->hooks_backoff_max)
		secs *= 2;
	return secs < conf->hooks_backoff_max ? secs : conf->hooks_backoff_max;
}

/* {"status", "attempts"}, or NULL with err (and a retry set while tries are left). */
static json_t *
hook_run(struct jobrun *jr, char *err, size_t errsz)
{
	struct hook_secrets	*s = jr->priv;
	const json_t		*t = json_object_get(jr->params, "hook");
	char			 why[512];
	long			 status;
	double			 wait;

	if (hook_call(jr, t, s->clear[0], &status, why, sizeof(why)) == 0)
		return json_pack("{s:I, s:I}", "status", (json_int_t)status,
		    "attempts", (json_int_t)jr->attempts);
	if (jr->attempts <= jr->conf->hooks_retries) {
		wait = hook_backoff(jr->conf, jr->attempts);
		jr->retry_at = time_now() + wait;
		snprintf(err, errsz, "Hook %s: %s (attempt %lld of %d; tried "
		    "again in %.0f s)", json_string_value(json_object_get(t,
		    "name")), why, jr->attempts, jr->conf->hooks_retries + 1,
		    wait);
	} else
		snprintf(err, errsz, "Hook %s: %s (after %lld attempts)",
		    json_string_value(json_object_get(t, "name")), why,
		    jr->attempts);
	return NULL;
}

static void
hook_cleanup(struct jobrun *jr)
{
	hook_secrets_free(jr->priv);
	jr->priv = NULL;
}

static int
hookgate_prepare(struct jobrun *jr, char *err, size_t errsz)
{
	return hook_open(jr, json_object_get(jr->params, "hooks"), err, errsz);
}

/* {"passed": [names]}, or NULL with the first refusal (status 409). */
static json_t *
hookgate_run(struct jobrun *jr, char *err, size_t errsz)
{
	struct hook_secrets	*s = jr->priv;
	const json_t		*t;
	json_t			*passed;
	char			 why[512];
	long			 status;
	size_t			 i;

	passed = json_array();
	json_array_foreach(json_object_get(jr->params, "hooks"), i, t) {
		if (hook_call(jr, t, s->clear[i], &status, why,
		    sizeof(why)) == -1) {
			snprintf(err, errsz, "Hook %s refused the change: %s",
			    json_string_value(json_object_get(t, "name")), why);
			jr->fail_status = 409;
			json_decref(passed);
			return NULL;
		}
		json_array_append(passed, json_object_get(t, "name"));
	}
	return json_pack("{s:o}", "passed", passed);
}

const struct runkind run_hook = { "hook", hook_prepare, hook_run, NULL,
    hook_cleanup };
const struct runkind run_hookgate = { "hookgate", hookgate_prepare,
    hookgate_run, NULL, hook_cleanup };
