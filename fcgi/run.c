/*
 * One job's runner: a child of corral-jobd that runs one claimed job and
 * exits.  It holds the job's lease while it works.
 *
 *   claimed --(SQL_JOB_START: still ours?)--> running --> done | failed
 *
 * The lease is the row itself: claimed_by names the jobd that claimed it,
 * and heartbeat_at is renewed every lease/3 seconds by a small thread of
 * the runner for as long as the job's slow part runs.  A runner that dies
 * stops renewing, and any head's jobd fails the job once the lease has
 * run out (see jobd.c).  A runner that finds its lease gone (SQL_JOB_BEAT
 * matched nothing: it was declared dead while the database was away)
 * still finishes what it is doing, but its result is not written.
 *
 * A kind runs in three steps (struct runkind):
 *   prepare  with the database: load what the job needs (a node's power
 *            URI with its secrets, a host key)
 *   run      without it: the slow part (a BMC, an ssh session)
 *   record   with the database again: side results (the node's power
 *            state, a host key learned on first contact)
 * so the heartbeat thread is the only user of the connection while run()
 * works.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

#define RUNNER_FINISH_TRIES	30	/* writing a result while the db is gone */
#define RUNNER_FINISH_WAIT	2	/* s between those tries */

static const struct runkind *const runkinds[] = {
	&run_noop,
	&run_tenant,
	&run_power,
	&run_exec,
	&run_ingest,
	&run_export,
	&run_import,
	&run_gitsync,
	&run_gitread,
	/* ISO and capture */
	&run_mkiso,
	&run_capture,
	/* webhooks */
	&run_hook,
	&run_hookgate,
};

static const struct runkind *
runkind_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(runkinds); i++)
		if (strcmp(runkinds[i]->name, name) == 0)
			return runkinds[i];
	return NULL;
}

/*
 * How to reach node o over ssh, into ns (free with node_ssh_free): its "ip", port [exec] port or its
 * _ssh_port attribute (an admin's to set; a node may not write "_" keys
 * about itself), [exec] user, its UID as the host key alias, and the host
 * key recorded for it (node_hostkeys), if any.  With the database, in a
 * kind's prepare step.  Returns 0, or -1 with a reason in err.
 */
int
node_ssh_load(struct jobrun *jr, const struct objrow *o, struct node_ssh *ns,
    char *err, size_t errsz)
{
	const char	*ip, *port, *errstr;
	json_t		*attrs = NULL;
	char		*key = NULL;
	long long	 n;
	int		 rc = -1;

	memset(ns, 0, sizeof(*ns));
	if ((ip = json_string_value(json_object_get(o->doc, "ip"))) == NULL) {
		snprintf(err, errsz, "%s has no IP address to reach it at",
		    o->name);
		return -1;
	}
	ns->ip = xstrdup(ip);
	ns->t.host = ns->ip;
	ns->t.port = jr->conf->exec_port;
	ns->t.user = jr->conf->exec_user;
	ns->alias = xstrdup(o->uid);
	ns->t.alias = ns->alias;
	if (attrs_node_view(&jr->ctx, o, 1, &attrs) == API_OK &&
	    (port = json_string_value(json_object_get(attrs, "_ssh_port"))) !=
	    NULL) {
		n = num_parse(port, 1, 65535, &errstr);
		if (errstr != NULL) {
			snprintf(err, errsz, "%s: attribute _ssh_port is %s",
			    o->name, errstr);
			goto out;
		}
		ns->t.port = (int)n;
	}
	if (db_run(jr->ctx.db, SQL_HOSTKEY_GET, "s", o->uid) == DB_OK &&
	    db_next(jr->ctx.db, SQL_HOSTKEY_GET, "s", &key) == DB_OK)
		ns->hostkey = key;
	db_done(jr->ctx.db, SQL_HOSTKEY_GET);
	ns->t.known = ns->hostkey;
	rc = 0;
out:
	json_decref(attrs);
	return rc;
}

void
node_ssh_free(struct node_ssh *ns)
{
	free(ns->ip);
	free(ns->alias);
	free(ns->hostkey);
	memset(ns, 0, sizeof(*ns));
}

/* The heartbeat thread's state. */
struct beat {
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 stop;
	int		 lost;		/* SQL_JOB_BEAT matched nothing */
	struct jobrun	*jr;
};

/*
 * Renew the lease every lease/3 seconds until told to stop.  A failed
 * renewal (database away) is tried again at the next beat; the lease is
 * long enough to ride out two misses.
 */
static void *
beat_main(void *arg)
{
	struct beat	*b = arg;
	struct timespec	 at;
	double		 every = b->jr->conf->jobd_lease / 3.0;
	enum dbrc	 rc;

	pthread_mutex_lock(&b->mu);
	while (!b->stop) {
		clock_gettime(CLOCK_REALTIME, &at);
		at.tv_sec += (time_t)every;
		at.tv_nsec += (long)((every - (double)(time_t)every) * 1e9);
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&b->cv, &b->mu, &at) != ETIMEDOUT ||
		    b->stop)
			continue;
		pthread_mutex_unlock(&b->mu);
		rc = db_run(b->jr->ctx.db, SQL_JOB_BEAT, "is", b->jr->id,
		    b->jr->claimed_by);
		if (rc == DB_OK && db_affected(b->jr->ctx.db, SQL_JOB_BEAT) == 0) {
			log_warn("job %lld: lease lost; its result will not "
			    "be written", b->jr->id);
			pthread_mutex_lock(&b->mu);
			b->lost = 1;
			continue;
		}
		pthread_mutex_lock(&b->mu);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/*
 * Write the job's outcome.  A result in hand is worth waiting for, so a
 * lost database connection is retried for a while before giving up.
 */
static void
runner_finish(struct jobrun *jr, const char *state, const char *result)
{
	struct db	*db = jr->ctx.db;
	enum dbrc	 rc;
	double		 at = time_now();
	int		 tries;

	/* The same time each try: a second run must match the first's row. */
	for (tries = 1; ; tries++) {
		rc = db_run(db, SQL_JOB_FINISH, "ssdissd", state, result, at,
		    jr->id, jr->claimed_by, state, at);
		if (rc != DB_GONE || tries == RUNNER_FINISH_TRIES)
			break;
		sleep(RUNNER_FINISH_WAIT);
	}
	if (rc != DB_OK)
		log_err("job %lld: could not write its result (%s); it will "
		    "be failed when its lease runs out", jr->id, state);
	else if (db_affected(db, SQL_JOB_FINISH) == 0)
		log_warn("job %lld: lease lost (declared dead while the "
		    "database was away); result %s discarded", jr->id, state);
	else
		jobd_wake_waiters(jr->conf);
}

/*
 * Put the job back in the queue to be tried again at jr->retry_at, with
 * the failure in result; a lost connection or lease leaves it to the
 * reaper, as runner_finish does.
 */
static void
runner_retry(struct jobrun *jr, const char *result)
{
	enum dbrc	 rc;

	rc = db_run(jr->ctx.db, SQL_JOB_RETRY, "dsis", jr->retry_at, result,
	    jr->id, jr->claimed_by);
	if (rc != DB_OK)
		log_err("job %lld: could not queue it again; it will be "
		    "failed when its lease runs out", jr->id);
	else if (db_affected(jr->ctx.db, SQL_JOB_RETRY) == 0)
		log_warn("job %lld: lease lost; not queued again", jr->id);
}

/* Load the claimed row.  0, or -1 when the database would not say. */
static int
runner_load(struct jobrun *jr)
{
	char		*params = NULL, err[128];
	long long	 tenant = 0;
	int		 rc = -1;

	if (db_run(jr->ctx.db, SQL_JOB_LOAD, "i", jr->id) != DB_OK ||
	    db_next(jr->ctx.db, SQL_JOB_LOAD, "sissssi", &jr->uid, &tenant,
	    &jr->kind, &jr->target, &params, &jr->node, &jr->attempts) != DB_OK)
		goto out;
	jr->tenant = tenant;
	jr->params = json_decode_strict(params, strlen(params), err, sizeof(err));
	if (jr->params == NULL)
		jr->params = json_object();
	rc = 0;
out:
	db_done(jr->ctx.db, SQL_JOB_LOAD);
	free(params);
	return rc;
}

static void
jobrun_free(struct jobrun *jr)
{
	free(jr->uid);
	free(jr->kind);
	free(jr->target);
	free(jr->node);
	json_decref(jr->params);
}

/*
 * Run the kind's three steps.  Returns the result text (malloc'd) and
 * sets *state to "done" or "failed".
 */
static char *
runner_steps(struct jobrun *jr, const struct runkind *kind, const char **state)
{
	struct beat	 b;
	json_t		*result = NULL, *fail = NULL;
	char		 err[1024], *text = NULL;
	int		 beating;

	err[0] = '\0';
	if (kind == NULL)
		snprintf(err, sizeof(err), "unknown job kind %s", jr->kind);
	else if (kind->prepare == NULL || kind->prepare(jr, err, sizeof(err)) == 0) {
		memset(&b, 0, sizeof(b));
		b.jr = jr;
		pthread_mutex_init(&b.mu, NULL);
		pthread_cond_init(&b.cv, NULL);
		beating = pthread_create(&b.thread, NULL, beat_main, &b) == 0;
		if (!beating)
			log_warn("job %lld: no heartbeat thread; a run longer "
			    "than the lease will be failed", jr->id);
		result = kind->run(jr, err, sizeof(err));
		if (beating) {
			pthread_mutex_lock(&b.mu);
			b.stop = 1;
			pthread_cond_signal(&b.cv);
			pthread_mutex_unlock(&b.mu);
			pthread_join(b.thread, NULL);
		}
		pthread_mutex_destroy(&b.mu);
		pthread_cond_destroy(&b.cv);
		if (kind->record != NULL)
			kind->record(jr, result, err);
	}
	/*
	 * 16 significant digits: epoch seconds keep their microseconds, and
	 * 0.2 reads 0.2 rather than jansson's default 0.20000000000000001.
	 */
	if (result != NULL && (text = json_dumps(result, JSON_COMPACT |
	    JSON_ENCODE_ANY | JSON_REAL_PRECISION(16))) == NULL)
		snprintf(err, sizeof(err), "result could not be encoded");
	json_decref(result);
	if (text != NULL) {
		*state = "done";
		return text;
	}
	*state = "failed";
	if (err[0] == '\0')
		snprintf(err, sizeof(err), "failed without a reason");
	if ((fail = json_pack("{s:s}", "error", err)) != NULL) {
		/* The caller is told a refusal with its own status (api_job.c). */
		if (jr->fail_status != 0)
			json_object_set_new(fail, "status",
			    json_integer(jr->fail_status));
		text = json_dumps(fail, JSON_COMPACT);
	}
	json_decref(fail);
	return text != NULL ? text :
	    xstrdup("{\"error\":\"unrepresentable error\"}");
}

/*
 * The runner: run job id, claimed by claimed_by, and exit.  Never
 * returns.  Exit status 0 when the job was run or rightly left alone, 1
 * when the database did not let it get that far (the row then stays
 * 'claimed' and is requeued when its lease runs out).
 */
void
runner_main(const struct conf *conf, long long id, const char *claimed_by)
{
	struct jobrun		 jr;
	const struct runkind	*kind;
	const char		*state;
	char			*text = NULL;
	struct db		*db;
	double			 t0;
	int			 status = 1;

	memset(&jr, 0, sizeof(jr));
	jr.conf = conf;
	jr.id = id;
	jr.claimed_by = claimed_by;
	if ((db = db_open(conf)) == NULL || db_ready(db) == -1) {
		log_warn("job %lld: no database; left claimed for the reaper", id);
		goto out;
	}
	/* The job's own checks decide what it may touch; jobd sees all. */
	ctx_init(&jr.ctx, db, conf, scope_of_tenant(SCOPE_ALL, ROLES_ALL,
	    "jobd"));
	if (db_run(db, SQL_JOB_START, "dis", time_now(), id, claimed_by) !=
	    DB_OK)
		goto out;
	status = 0;
	if (db_affected(db, SQL_JOB_START) == 0) {
		log_warn("job %lld: no longer claimed by %s (requeued); "
		    "leaving it", id, claimed_by);
		goto out;
	}
	/* From here the row is 'running': leaving early means 'failed'. */
	if (runner_load(&jr) == -1) {
		status = 1;
		goto out;
	}
	t0 = time_now();
	log_info("job %lld (%s%s%s) started", id, jr.kind,
	    jr.target != NULL ? " " : "", jr.target != NULL ? jr.target : "");
	kind = runkind_find(jr.kind);
	text = runner_steps(&jr, kind, &state);
	if (*state == 'f' && jr.retry_at > 0) {
		runner_retry(&jr, text);
		state = "queued again";
	} else
		runner_finish(&jr, state, text);
	/* After the answer: what the caller need not wait for, and frees. */
	if (kind != NULL && kind->cleanup != NULL)
		kind->cleanup(&jr);
	log_info("job %lld (%s) %s in %.3f s%s%s", id, jr.kind, state,
	    time_now() - t0, *state == 'f' ? ": " : "",
	    *state == 'f' ? text : "");
out:
	free(text);
	jobrun_free(&jr);
	ctx_clear(&jr.ctx);
	db_close(db);
	/* Nothing of jobd's (atexit handlers, stdio buffers) may run here. */
	_exit(status);
}
