/*
 * The job kinds, as the API sees them: a name and a check of the
 * parameters, so an unknown kind or a bad parameter is a 400 before a
 * job row exists.  How a kind runs is corral-jobd's business (run_*.c);
 * nothing here talks to a BMC or a node.
 *
 * A new kind is a check here (or in its own job_*.c), one line in kinds[]
 * and a runner in run_*.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "extern.h"

#define EXEC_CMD_MAX	65536	/* bytes of a command line */
#define EXEC_STDIN_MAX	(1 << 20)

static const struct jobkind *const kinds[] = {
	&job_noop,
	&job_tenant,
	&job_power,
	&job_exec,
	&job_ingest,
	&job_export,
	&job_import,
	&job_gitsync,
	&job_gitread,
	/* ISO and capture (job_image.c) */
	&job_mkiso,
	&job_capture,
	/* webhooks (api_hook.c) */
	&job_hook,
	&job_hookgate,
};

/* The kind called name (borrowed, static), or NULL if there is none. */
const struct jobkind *
jobkind_find(const char *name)
{
	size_t	 i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < nitems(kinds); i++)
		if (strcmp(kinds[i]->name, name) == 0)
			return kinds[i];
	return NULL;
}

/*
 * -1 with "Unhandled parameter(s): <key> (<hint>)" in why if params holds
 * a key that is not one of the words of known, else 0.
 */
static int
params_known(const json_t *params, const char *known, const char *hint,
    char *why, size_t whysz)
{
	const char	*key;
	json_t		*val;

	json_object_foreach((json_t *)(uintptr_t)params, key, val)
		if (!conf_list_has(known, key)) {
			snprintf(why, whysz, "Unhandled parameter(s): %.64s (%s)",
			    key, hint);
			return -1;
		}
	return 0;
}

static const char *const power_ops[] = {
	"on", "off", "cycle", "reset", "soft", "status"
};

static const char *const step_names[] = { "ssh", "soft", "hard" };

/* One entry of "steps": "hard", or {"do": "ssh", "wait": 30}. */
static int
power_step_parse(const json_t *v, const struct conf *conf, size_t i,
    struct power_plan *p, char *why, size_t whysz)
{
	const json_t	*w = NULL;
	const char	*name;
	char		 unknown[160];
	size_t		 k;
	json_int_t	 secs;

	if (json_is_string(v))
		name = json_string_value(v);
	else if (json_is_object(v)) {
		name = json_string_value(json_object_get(v, "do"));
		w = json_object_get(v, "wait");
		if (params_known(v, "do wait", "a step takes do and wait",
		    unknown, sizeof(unknown)) == -1) {
			snprintf(why, whysz, "steps[%zu]: %s", i, unknown);
			return -1;
		}
	} else
		name = NULL;
	for (k = 0; name != NULL && k < nitems(step_names); k++)
		if (strcmp(name, step_names[k]) == 0)
			break;
	if (name == NULL || k == nitems(step_names)) {
		snprintf(why, whysz, "steps[%zu] must be ssh, soft or hard, or "
		    "{\"do\": ..., \"wait\": seconds}", i);
		return -1;
	}
	p->step[i] = (enum power_step)k;
	secs = conf != NULL ? conf->power_off_wait : 30;
	if (w != NULL) {
		if (!json_is_integer(w) || (secs = json_integer_value(w)) < 0 ||
		    secs > 3600) {
			snprintf(why, whysz, "steps[%zu].wait must be 0 to 3600 "
			    "seconds", i);
			return -1;
		}
	}
	p->wait[i] = (int)secs;
	return 0;
}

/*
 * Read a power job's parameters into p (strings borrowed from params):
 *   "op"     on, off, cycle, reset, soft or status (required)
 *   "force"  true: off goes straight to the BMC's hard off
 *   "steps"  off only: the attempts, in order, each "ssh" (run
 *            [power] ssh_command on the node), "soft" (the BMC's ACPI
 *            off) or "hard" (the BMC's power off), with the seconds to
 *            wait for the BMC to report off before the next; default
 *            ssh then hard, each ssh/soft waiting [power] off_wait
 * Returns 0, or -1 with a reason in why.
 */
int
power_plan_parse(const json_t *params, const struct conf *conf,
    struct power_plan *p, char *why, size_t whysz)
{
	const json_t	*steps, *force;
	size_t		 i;

	memset(p, 0, sizeof(*p));
	if (!json_is_object(params)) {
		snprintf(why, whysz, "power parameters must be a JSON object");
		return -1;
	}
	if (params_known(params, "op force steps", "power takes op, force "
	    "and steps", why, whysz) == -1)
		return -1;
	p->op = json_string_value(json_object_get(params, "op"));
	for (i = 0; p->op != NULL && i < nitems(power_ops); i++)
		if (strcmp(p->op, power_ops[i]) == 0)
			break;
	if (p->op == NULL || i == nitems(power_ops)) {
		snprintf(why, whysz, "op must be one of on, off, cycle, reset, "
		    "soft, status");
		return -1;
	}
	force = json_object_get(params, "force");
	if (force != NULL && !json_is_boolean(force)) {
		snprintf(why, whysz, "force must be true or false");
		return -1;
	}
	steps = json_object_get(params, "steps");
	if (steps != NULL && !json_is_null(steps)) {
		if (strcmp(p->op, "off") != 0) {
			snprintf(why, whysz, "steps apply to power off only");
			return -1;
		}
		if (json_is_true(force)) {
			snprintf(why, whysz, "steps and force cannot be "
			    "combined: force means one hard off");
			return -1;
		}
		if (!json_is_array(steps) || json_array_size(steps) == 0 ||
		    json_array_size(steps) > POWER_STEPS_MAX) {
			snprintf(why, whysz, "steps must be a list of 1 to %d "
			    "steps", POWER_STEPS_MAX);
			return -1;
		}
		for (i = 0; i < json_array_size(steps); i++)
			if (power_step_parse(json_array_get(steps, i), conf, i,
			    p, why, whysz) == -1)
				return -1;
		p->nsteps = i;
	} else if (strcmp(p->op, "off") == 0 && !json_is_true(force)) {
		p->step[0] = STEP_SSH;
		p->wait[0] = conf != NULL ? conf->power_off_wait : 30;
		p->step[1] = STEP_HARD;
		p->nsteps = 2;
	} else if (strcmp(p->op, "off") == 0) {
		p->step[0] = STEP_HARD;
		p->nsteps = 1;
	}
	return 0;
}

static int
power_check(const json_t *params, char *why, size_t whysz)
{
	struct power_plan	 p;

	return power_plan_parse(params, NULL, &p, why, whysz);
}

/*
 * An exec job: "cmd" (required, 1 to 64 KiB), "stdin" (optional string,
 * up to 1 MiB), "stderr" ("merge", the default, or "discard").
 */
static int
exec_check(const json_t *params, char *why, size_t whysz)
{
	const json_t	*cmd, *in, *se;

	if (!json_is_object(params)) {
		snprintf(why, whysz, "exec parameters must be a JSON object");
		return -1;
	}
	if (params_known(params, "cmd stdin stderr", "exec takes cmd and "
	    "stdin", why, whysz) == -1)
		return -1;
	cmd = json_object_get(params, "cmd");
	if (!json_is_string(cmd) || json_string_length(cmd) == 0 ||
	    json_string_length(cmd) > EXEC_CMD_MAX ||
	    strlen(json_string_value(cmd)) != json_string_length(cmd)) {
		snprintf(why, whysz, "cmd is required: a command line of 1 to "
		    "%d bytes without NUL", EXEC_CMD_MAX);
		return -1;
	}
	in = json_object_get(params, "stdin");
	if (in != NULL && !json_is_null(in) && (!json_is_string(in) ||
	    json_string_length(in) > EXEC_STDIN_MAX)) {
		snprintf(why, whysz, "stdin must be a string of at most %d "
		    "bytes", EXEC_STDIN_MAX);
		return -1;
	}
	se = json_object_get(params, "stderr");
	if (se != NULL && (!json_is_string(se) ||
	    (strcmp(json_string_value(se), "merge") != 0 &&
	    strcmp(json_string_value(se), "discard") != 0))) {
		snprintf(why, whysz, "stderr must be merge or discard");
		return -1;
	}
	return 0;
}

const struct jobkind job_power = { "power", 0, power_check };
const struct jobkind job_exec = { "exec", 0, exec_check };

/*
 * An ingest job (api_files.c queues it, run_ingest.c runs it): "staged"
 * (the upload's name in the store's staging directory), "obj" (the
 * object's UID), "slot", "by" (the uploader), optional "sha256" and "md5"
 * (hex, what the client said) and "boundary" (a multipart form's).
 */
static int
ingest_check(const json_t *params, char *why, size_t whysz)
{
	const char	*staged, *obj, *slot, *sha, *md5, *b;

	if (!json_is_object(params) || params_known(params, "staged obj slot "
	    "by sha256 md5 boundary", "an upload's", why, whysz) == -1) {
		if (!json_is_object(params))
			snprintf(why, whysz, "ingest parameters must be an object");
		return -1;
	}
	staged = json_string_value(json_object_get(params, "staged"));
	obj = json_string_value(json_object_get(params, "obj"));
	slot = json_string_value(json_object_get(params, "slot"));
	sha = json_string_value(json_object_get(params, "sha256"));
	md5 = json_string_value(json_object_get(params, "md5"));
	b = json_string_value(json_object_get(params, "boundary"));
	if (staged == NULL || !uid_valid(staged) || obj == NULL ||
	    !uid_valid(obj) || fstore_slot_class(slot) == NULL ||
	    (sha != NULL && !valid_sha256(sha)) || (md5 != NULL &&
	    (strlen(md5) != 32 || strspn(md5, "0123456789abcdef") != 32)) ||
	    (b != NULL && (strlen(b) == 0 || strlen(b) > 70))) {
		snprintf(why, whysz, "ingest needs staged, obj (UIDs), a slot, "
		    "and well-formed checksums");
		return -1;
	}
	return 0;
}

const struct jobkind job_ingest = { "ingest", 0, ingest_check };
