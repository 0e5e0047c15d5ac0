/*
 * Running a power job (parameters checked by power_plan_parse, job.c).
 *
 *   prepare  load the node, expand its power_uri with its secrets in the
 *            clear (only here, in the runner, never in a job's stored
 *            parameters or a log line), pick the driver
 *   run      status/on/cycle/reset/soft: one BMC command; off: the plan's
 *            steps in order (ssh: run [power] ssh_command on the node;
 *            soft: the BMC's ACPI off; hard: the BMC's power off), each
 *            but the last followed by up to its wait for the BMC to
 *            report off
 *   record   remember the state the BMC reported (node_power), so lists
 *            and selectors (s[power]) need not ask every BMC
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

#define OFF_POLL_SECS	1	/* how often a graceful off asks the BMC */

struct power_job {
	struct bmc		 bmc;
	struct power_opts	 opts;
	struct power_plan	 plan;
	char			*uri;		/* expanded: holds the password */
	json_t			*parsed;	/* owns bmc's strings */
	char			*host;		/* bmc.host without brackets */
	char			*user, *pass;
	struct node_ssh		 node;		/* for an ssh step */
	char			*ssh_why;	/* why the node cannot be reached */
	char			*learned;	/* host key learned by an ssh step */
	enum power_state	 state;
	int			 state_known;
};

static const char *const state_names[] = { "unknown", "on", "off" };

/*
 * Split parsed's server ("host", "host:port", "[v6]:port") and userinfo
 * ("user:pass", or the username=/password= of the query) into pj->bmc.
 */
static int
power_bmc(struct power_job *pj, char *err, size_t errsz)
{
	const char	*scheme, *schemes, *server, *ui, *path, *errstr;
	const char	*colon;
	size_t		 n;

	scheme = json_string_value(json_object_get(pj->parsed, "scheme"));
	schemes = json_string_value(json_object_get(pj->parsed, "schemes"));
	server = json_string_value(json_object_get(pj->parsed, "server"));
	path = json_string_value(json_object_get(pj->parsed, "path"));
	if (scheme == NULL || server == NULL) {
		snprintf(err, errsz, "power_uri has no scheme or server");
		return -1;
	}
	if (strcmp(scheme, "ipmi") == 0 && (schemes == NULL || *schemes == '\0'))
		pj->bmc.scheme = "ipmi";
	else if (strcmp(scheme, "redfish") == 0 && (schemes == NULL ||
	    *schemes == '\0' || strcmp(schemes, "https") == 0))
		pj->bmc.scheme = "redfish";
	else if (strcmp(scheme, "redfish") == 0 && strcmp(schemes, "http") == 0)
		pj->bmc.scheme = "redfish+http";
	else {
		snprintf(err, errsz, "power_uri scheme %s%s%s is not supported "
		    "(ipmi, redfish, redfish+http)", scheme, schemes != NULL &&
		    *schemes != '\0' ? "+" : "", schemes != NULL ? schemes : "");
		return -1;
	}
	if (server[0] == '[') {
		n = strcspn(server + 1, "]");
		pj->host = xstrndup(server + 1, n);
		colon = server[1 + n] == ']' && server[2 + n] == ':' ?
		    server + 2 + n : NULL;
	} else {
		colon = strrchr(server, ':');
		pj->host = xstrndup(server, colon != NULL ?
		    (size_t)(colon - server) : strlen(server));
	}
	pj->bmc.host = pj->host;
	if (colon != NULL) {
		pj->bmc.port = (int)num_parse(colon + 1, 1, 65535, &errstr);
		if (errstr != NULL) {
			snprintf(err, errsz, "power_uri port is %s", errstr);
			return -1;
		}
	}
	if ((ui = json_string_value(json_object_get(pj->parsed,
	    "server_username"))) != NULL) {
		n = strcspn(ui, ":");
		pj->user = xstrndup(ui, n);
		pj->pass = xstrdup(ui[n] == ':' ? ui + n + 1 : "");
	} else {
		ui = json_string_value(json_object_get(pj->parsed, "username"));
		pj->user = ui != NULL ? xstrdup(ui) : NULL;
		ui = json_string_value(json_object_get(pj->parsed, "password"));
		pj->pass = ui != NULL ? xstrdup(ui) : NULL;
	}
	pj->bmc.user = pj->user;
	pj->bmc.pass = pj->pass;
	/*
	 * A Redfish URI's path names the system ("Systems/2" or
	 * "redfish/v1/Systems/2"); without one the BMC's first system is
	 * used.  An IPMI URI's path ("ipmi" in the reference) names nothing.
	 */
	pj->bmc.path = strcmp(pj->bmc.scheme, "ipmi") != 0 && path != NULL &&
	    *path != '\0' ? path : NULL;
	return 0;
}

static int
power_prepare(struct jobrun *jr, char *err, size_t errsz)
{
	struct power_job	*pj;
	struct objrow		 o;
	char			 why[256];
	size_t			 i;
	int			 rc = -1;

	pj = jr->priv = xcalloc(1, sizeof(*pj));
	if (power_plan_parse(jr->params, jr->conf, &pj->plan, err, errsz) == -1)
		return -1;
	if (jr->node == NULL || obj_find(&jr->ctx, &node_class, jr->node, 0,
	    &o) != API_OK) {
		snprintf(err, errsz, "the node no longer exists");
		return -1;
	}
	if (node_power_uri(&jr->ctx, &o, 1, &pj->uri, &pj->parsed) != API_OK) {
		/* The reason names the node and the template's problem. */
		snprintf(err, errsz, "%s", jr->ctx.reason);
		goto out;
	}
	if (pj->uri == NULL) {
		snprintf(err, errsz, "%s has no power_uri", o.name);
		goto out;
	}
	if (power_bmc(pj, err, errsz) == -1)
		goto out;
	pj->opts.timeout_ms = jr->conf->power_timeout_ms;
	pj->opts.retries = jr->conf->power_retries;
	pj->opts.ipmi_version = jr->conf->power_ipmi_version;
	pj->opts.ipmi_cipher = jr->conf->power_ipmi_cipher;
	pj->opts.ipmi_priv = jr->conf->power_ipmi_priv;
	pj->opts.ipmi_workarounds = jr->conf->power_ipmi_workarounds;
	pj->opts.ca_bundle = jr->conf->power_ca_bundle;
	pj->opts.tls_verify = jr->conf->power_tls_verify;
	/*
	 * An ssh step needs the node's address and recorded host key; a node
	 * that has none fails that step (and the next one runs), not the job.
	 */
	for (i = 0; i < pj->plan.nsteps; i++)
		if (pj->plan.step[i] == STEP_SSH) {
			if (node_ssh_load(jr, &o, &pj->node, why,
			    sizeof(why)) == -1)
				pj->ssh_why = xstrdup(why);
			break;
		}
	rc = 0;
out:
	objrow_free(&o);
	return rc;
}

/* One BMC command through the URI's driver. */
static int
power_bmc_do(struct power_job *pj, enum power_op op, char *err, size_t errsz)
{
	enum power_state	 st = POWER_UNKNOWN;
	int			 rc;

	if (strcmp(pj->bmc.scheme, "ipmi") == 0)
		rc = ipmi_power(&pj->bmc, &pj->opts, op, &st, err, errsz);
	else
		rc = redfish_power(&pj->bmc, &pj->opts, op, &st, err, errsz);
	if (rc == 0 && op == POWER_STAT) {
		pj->state = st;
		pj->state_known = 1;
	} else if (rc == 0 && (op == POWER_ON || op == POWER_CYCLE ||
	    op == POWER_RESET)) {
		pj->state = POWER_IS_ON;
		pj->state_known = 1;
	} else if (rc == 0 && op == POWER_OFF) {
		pj->state = POWER_IS_OFF;
		pj->state_known = 1;
	}
	return rc;
}

/* Ask the BMC every OFF_POLL_SECS for up to secs whether it is off. */
static int
power_wait_off(struct power_job *pj, int secs)
{
	char	 err[256];
	time_t	 until = time(NULL) + secs;

	for (;;) {
		if (power_bmc_do(pj, POWER_STAT, err, sizeof(err)) == 0 &&
		    pj->state == POWER_IS_OFF)
			return 1;
		if (time(NULL) >= until)
			return 0;
		sleep(OFF_POLL_SECS);
	}
}

/* Ask the node's OS to shut down: [power] ssh_command over ssh. */
static int
power_ssh(struct jobrun *jr, struct power_job *pj, char *err, size_t errsz)
{
	struct ssh_opts		 o;
	struct ssh_result	 res;
	int			 rc, devnull;

	if (pj->ssh_why != NULL) {
		snprintf(err, errsz, "%s", pj->ssh_why);
		return -1;
	}
	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	o.key = jr->conf->exec_key;
	o.connect_timeout = jr->conf->exec_connect_timeout;
	o.time_limit = 30;
	o.max_output = 65536;
	o.stderr_mode = SSH_STDERR_DISCARD;
	if ((devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "/dev/null: cannot open");
		return -1;
	}
	rc = ssh_exec(&pj->node.t, &o, jr->conf->power_ssh_command, NULL, 0,
	    devnull, &res, err, errsz);
	close(devnull);
	if (res.learned != NULL && pj->learned == NULL) {
		pj->learned = res.learned;
		res.learned = NULL;
	}
	ssh_result_free(&res);
	return rc;
}

static enum power_op
power_op_of(const char *op)
{
	if (strcmp(op, "on") == 0)
		return POWER_ON;
	if (strcmp(op, "off") == 0)
		return POWER_OFF;
	if (strcmp(op, "cycle") == 0)
		return POWER_CYCLE;
	if (strcmp(op, "reset") == 0)
		return POWER_RESET;
	if (strcmp(op, "soft") == 0)
		return POWER_SOFT;
	return POWER_STAT;
}

/*
 * Power off by the plan's steps.  Each step's outcome goes into steps; a
 * step that fails or does not bring the node down within its wait hands
 * on to the next.  Returns 0 once the BMC reports off (or took a hard
 * off), -1 with the last reason when every step failed.
 */
static int
power_off(struct jobrun *jr, struct power_job *pj, json_t *steps, char *err,
    size_t errsz)
{
	static const char *const names[] = { "ssh", "soft", "hard" };
	char		 why[512];
	double		 t0;
	size_t		 i;
	int		 rc;

	for (i = 0; i < pj->plan.nsteps; i++) {
		t0 = time_now();
		why[0] = '\0';
		switch (pj->plan.step[i]) {
		case STEP_SSH:
			rc = power_ssh(jr, pj, why, sizeof(why));
			break;
		case STEP_SOFT:
			rc = power_bmc_do(pj, POWER_SOFT, why, sizeof(why));
			break;
		default:
			rc = power_bmc_do(pj, POWER_OFF, why, sizeof(why));
			break;
		}
		if (rc == 0 && pj->plan.step[i] != STEP_HARD &&
		    !power_wait_off(pj, pj->plan.wait[i])) {
			snprintf(why, sizeof(why), "still on after %d s",
			    pj->plan.wait[i]);
			rc = -1;
		}
		json_array_append_new(steps, json_pack("{s:s, s:b, s:f, s:s?}",
		    "do", names[pj->plan.step[i]], "ok", rc == 0, "secs",
		    time_now() - t0, "error", rc == 0 ? NULL : why));
		if (rc == 0)
			return 0;
		snprintf(err, errsz, "%s: %s", names[pj->plan.step[i]], why);
	}
	return -1;
}

static json_t *
power_run(struct jobrun *jr, char *err, size_t errsz)
{
	struct power_job	*pj = jr->priv;
	enum power_op		 op = power_op_of(pj->plan.op);
	json_t			*steps = NULL, *out;
	int			 rc;

	if (op == POWER_OFF) {
		steps = json_array();
		rc = power_off(jr, pj, steps, err, errsz);
	} else
		rc = power_bmc_do(pj, op, err, errsz);
	if (rc == -1) {
		json_decref(steps);
		return NULL;
	}
	out = json_pack("{s:s, s:s}", "op", pj->plan.op, "state",
	    pj->state_known ? state_names[pj->state] : "unknown");
	if (steps != NULL)
		json_object_set_new(out, "steps", steps);
	return out;
}

/* Remember what the BMC said, and a host key an ssh step learned. */
static void
power_record(struct jobrun *jr, const json_t *result, const char *err)
{
	struct power_job	*pj = jr->priv;
	const char		*state = "unknown";

	if (pj == NULL || jr->node == NULL || pj->bmc.scheme == NULL)
		return;
	if (result != NULL)
		state = json_string_value(json_object_get(result, "state"));
	(void)db_run(jr->ctx.db, SQL_POWER_PUT, "ssds", jr->node,
	    state != NULL ? state : "unknown", time_now(),
	    result == NULL ? err : NULL);
	if (pj->learned != NULL)
		(void)db_run(jr->ctx.db, SQL_HOSTKEY_PUT, "ssd", jr->node,
		    pj->learned, time_now());
}

static void
power_cleanup(struct jobrun *jr)
{
	struct power_job	*pj = jr->priv;

	if (pj == NULL)
		return;
	if (pj->uri != NULL)
		wipe(pj->uri, strlen(pj->uri));
	if (pj->pass != NULL)
		wipe(pj->pass, strlen(pj->pass));
	free(pj->uri);
	free(pj->host);
	free(pj->user);
	free(pj->pass);
	node_ssh_free(&pj->node);
	free(pj->ssh_why);
	free(pj->learned);
	json_decref(pj->parsed);
	free(pj);
	jr->priv = NULL;
}

const struct runkind run_power = {
	"power", power_prepare, power_run, power_record, power_cleanup
};
