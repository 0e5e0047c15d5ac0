/*
 * Jobs (corral's own endpoints; the ClusterWare reference keeps its
 * long-running jobs behind the endpoints that start them).  A job is a
 * row; corral-jobd runs it.
 *
 * Waiting never happens here.  A request that wants a job's outcome
 * (POST /jobs with "wait", GET /job/<ID>?wait=, and the synchronous
 * ClusterWare endpoints: power, exec) is handed to the waiter with
 * X-Accel-Redirect (job_wait); the waiter lets it go when the job ends or
 * the wait runs out, and nginx then asks GET /job/<ID> or
 * GET /job/<ID>/result, answered here from the stored row.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "extern.h"

#define JOBS_PAGE_MAX	1000

static const struct field job_fields[] = {
	FIELD("kind",   F_NAME,   F_REQUIRED, 32,           "What to run: noop"),
	FIELD("params", F_OBJECT, 0,          65536,        "The kind's parameters"),
	FIELD("target", F_NAME,   0,          NAME_MAX_LEN, "The object the job acts on"),
	FIELD("wait",   F_INT,    0,          JOB_WAIT_MAX, "Seconds to wait for the result"),
};
const struct bodyspec b_job = FIELDS(job_fields);

/* Send one datagram to the unix socket at path; best effort. */
static void
wake_send(int *fd, const char *path)
{
	struct sockaddr_un	 sun;

	if (path == NULL || strlen(path) >= sizeof(sun.sun_path))
		return;
	if (*fd == -1 && (*fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	(void)sendto(*fd, "!", 1, 0, (struct sockaddr *)&sun, sizeof(sun));
}

/*
 * Nudge corral-jobd so a new job starts now rather than at its next poll.
 * Best effort: a lost datagram costs at most one poll interval.
 */
void
jobd_wake(const struct conf *c)
{
	static int	 fd = -1;

	wake_send(&fd, c->jobd_socket);
}

/*
 * Tell this head's waiter that a job ended, so the request waiting for it
 * goes on now rather than at the waiter's next poll.
 */
void
jobd_wake_waiters(const struct conf *c)
{
	static int	 fd = -1;
	char		 path[512];

	if (c->jobd_wait_socket == NULL)
		return;
	snprintf(path, sizeof(path), "%s.wake", c->jobd_wait_socket);
	wake_send(&fd, path);
}

/*
 * Queue the job js describes in tenant tid, made by who, without a
 * request (corral-jobd and engine calls queue jobs too).  uid receives
 * the new job's UID.  The caller wakes jobd.
 */
enum apierr
job_insert(struct ctx *c, long long tid, const char *who,
    const struct jobspec *js, char uid[UID_LEN + 1])
{
	char		*ptext;
	enum dbrc	 rc;

	if ((ptext = json_dumps(js->params, JSON_COMPACT)) == NULL)
		return ctx_internal(c, "job parameters cannot be encoded");
	if (uid_new(uid) == -1) {
		free(ptext);
		return ctx_internal(c, "no random bytes for a job UID");
	}
	rc = db_run(c->db, SQL_JOB_INSERT, "sissssdsissdd", uid, tid,
	    js->kind->name, js->target, ptext, who, time_now(), js->node_uid,
	    js->batch, js->bmc_host, js->head, js->not_before, js->expires_at);
	free(ptext);
	if (rc != DB_OK)
		return ctx_dbfail(c, rc);
	return API_OK;
}

/*
 * Queue the job js describes, in the caller's tenant.  uid receives the
 * new job's UID.
 */
enum apierr
job_queue(struct req *r, const struct jobspec *js, char uid[UID_LEN + 1])
{
	return job_insert(&r->ctx, r->who.tok.tid, r->who.tok.name, js, uid);
}

/* Whether the caller asked for the job's UID at once (?async=1). */
int
req_async(const struct req *r)
{
	char	 buf[8];

	return req_query(r, "async", buf, sizeof(buf)) != NULL &&
	    (strcmp(buf, "1") == 0 || strcmp(buf, "true") == 0);
}

/*
 * Queue the job js describes, wake corral-jobd, and answer: the job's UID
 * when the caller asked for ?async=1 (and async_ok), else the job's answer
 * through the waiter after at most wait seconds (a job that has not
 * started by then is cancelled; an async one never expires).
 */
enum apierr
job_answer(struct req *r, struct jobspec *js, long long wait, int async_ok)
{
	char		 uid[UID_LEN + 1];
	int		 async = async_ok && req_async(r);
	enum apierr	 rc;

	js->expires_at = async ? 0 : time_now() + (double)wait;
	if ((rc = job_queue(r, js, uid)) != API_OK)
		return rc;
	jobd_wake(r->conf);
	if (async) {
		r->data = json_string(uid);
		return API_OK;
	}
	return job_wait(r, uid, wait, 1);
}

/*
 * job_answer for a job of kind that works on this head's files (an
 * upload in staging, an archive in the spool): only this head's jobd may
 * run it.
 */
enum apierr
job_here(struct req *r, const struct jobkind *kind, const json_t *params,
    const char *target, long long wait, int async_ok)
{
	struct jobspec	 js;

	memset(&js, 0, sizeof(js));
	js.kind = kind;
	js.params = params;
	js.target = target;
	js.head = r->conf->head_name;
	return job_answer(r, &js, wait, async_ok);
}

/*
 * Answer by handing the request to the waiter for up to secs seconds;
 * nginx then asks GET /job/<uid>/result (result set) or GET /job/<uid>.
 */
enum apierr
job_wait(struct req *r, const char *uid, long long secs, int result)
{
	char	 uri[128];

	if (secs < 1)
		secs = 1;
	else if (secs > JOB_WAIT_MAX)
		secs = JOB_WAIT_MAX;	/* a longer exec limit: follow the job */
	snprintf(uri, sizeof(uri), "/_jobwait/%s?t=%lld%s", uid, secs,
	    result == JOB_WAIT_GITREAD ? "&r=git" :
	    result == JOB_WAIT_HOOKGATE ? "&r=hookgate" :
	    result ? "&r=result" : "");
	resp_redirect(r, uri);
	return API_OK;
}

/* A job row, as GET /job/<ID> and the result renderers read it. */
struct jobrow {
	char		*uid, *kind, *target, *params, *state, *result, *by;
	char		*batch;
	long long	 tenant, attempts;
	double		 created, started, finished;
};

static void
jobrow_free(struct jobrow *j)
{
	free(j->uid);
	free(j->kind);
	free(j->target);
	free(j->params);
	free(j->state);
	free(j->result);
	free(j->by);
	free(j->batch);
	memset(j, 0, sizeof(*j));
}

/* Load job uid if it is in the caller's scope: API_OK or the failure. */
static enum apierr
jobrow_load(struct req *r, const char *uid, struct jobrow *j)
{
	enum dbrc	 rc;

	memset(j, 0, sizeof(*j));
	if (!uid_valid(uid))
		return req_fail(r, API_NOT_FOUND, "No job found for ID=%.32s", uid);
	if ((rc = db_run(r->ctx.db, SQL_JOB_GET, "s", uid)) != DB_OK) {
		db_done(r->ctx.db, SQL_JOB_GET);
		return ctx_dbfail(&r->ctx, rc);
	}
	rc = db_next(r->ctx.db, SQL_JOB_GET, "sissssissddds", &j->uid,
	    &j->tenant, &j->kind, &j->target, &j->params, &j->state,
	    &j->attempts, &j->result, &j->by, &j->created, &j->started,
	    &j->finished, &j->batch);
	db_done(r->ctx.db, SQL_JOB_GET);
	if (rc == DB_OK && r->ctx.scope.tenant != SCOPE_ALL &&
	    j->tenant != r->ctx.scope.tenant)
		rc = DB_DONE;
	if (rc == DB_DONE) {
		jobrow_free(j);
		return req_fail(r, API_NOT_FOUND, "No job found for ID=%.32s", uid);
	}
	if (rc != DB_OK) {
		jobrow_free(j);
		return ctx_dbfail(&r->ctx, rc);
	}
	return API_OK;
}

/* The job as GET /job/<ID> shows it (new reference). */
static json_t *
jobrow_json(const struct jobrow *j)
{
	char	 err[128];
	json_t	*p, *res;

	p = json_decode_strict(j->params, strlen(j->params), err, sizeof(err));
	res = j->result == NULL ? json_null() :
	    json_decode_strict(j->result, strlen(j->result), err, sizeof(err));
	/* Not yet started or finished reads 0, as it always has. */
	return json_pack("{s:s, s:s, s:s?, s:o?, s:s, s:I, s:o?, s:s, s:f, "
	    "s:f, s:f, s:s?}", "uid", j->uid, "kind", j->kind, "target",
	    j->target, "params", p, "state", j->state, "attempts",
	    (json_int_t)j->attempts, "result", res, "created_by", j->by,
	    "created_at", j->created, "started_at", j->started, "finished_at",
	    j->finished, "batch", j->batch);
}

/*
 * POST /jobs {"kind", "params", "target", "wait"}: queue a job of a
 * generic kind; answer its UID, or with "wait" the job as it stands when
 * it ended or the wait ran out.
 */
enum apierr
api_job_post(struct req *r)
{
	struct jobspec	 js;
	json_t		*params;
	char		 uid[UID_LEN + 1];
	long long	 wait;
	enum apierr	 rc;

	memset(&js, 0, sizeof(js));
	js.kind = jobkind_find(json_string_value(json_object_get(r->json,
	    "kind")));
	if (js.kind == NULL || !js.kind->generic)
		return req_fail(r, API_BAD_REQUEST, "Unknown job kind (POST "
		    "/jobs runs noop; power and exec have their own endpoints)");
	params = json_object_get(r->json, "params");
	params = params != NULL ? json_incref(params) : json_object();
	if (js.kind->check != NULL && js.kind->check(params, r->ctx.reason,
	    sizeof(r->ctx.reason)) == -1) {
		json_decref(params);
		return API_BAD_REQUEST;
	}
	js.params = params;
	js.target = json_string_value(json_object_get(r->json, "target"));
	wait = json_integer_value(json_object_get(r->json, "wait"));
	rc = job_queue(r, &js, uid);
	json_decref(params);
	if (rc != API_OK)
		return rc;
	jobd_wake(r->conf);
	if (wait > 0)
		return job_wait(r, uid, wait, 0);
	r->data = json_string(uid);
	return API_OK;
}

/* Whether a job in state will change no more. */
int
job_state_ended(const char *state)
{
	return strcmp(state, "done") == 0 || strcmp(state, "failed") == 0 ||
	    strcmp(state, "cancelled") == 0;
}

/*
 * GET /job/:id[?wait=<seconds>]: a job of the caller's tenant; with wait,
 * as it stands once it ended or the wait ran out.
 */
enum apierr
api_job_get(struct req *r)
{
	struct jobrow	 j;
	const char	*errstr = NULL;
	char		 buf[16];
	long long	 wait = 0;
	enum apierr	 rc;

	if (req_query(r, "wait", buf, sizeof(buf)) != NULL &&
	    (wait = num_parse(buf, 0, JOB_WAIT_MAX, &errstr), errstr != NULL))
		return req_fail(r, API_BAD_REQUEST, "wait must be 0 to %d "
		    "seconds", JOB_WAIT_MAX);
	if ((rc = jobrow_load(r, req_param(r, "id"), &j)) != API_OK)
		return rc;
	if (wait > 0 && !job_state_ended(j.state))
		rc = job_wait(r, j.uid, wait, 0);
	else {
		r->data = jobrow_json(&j);
		/* An exec job's command and stdin are the operator's to see. */
		if (strcmp(j.kind, "exec") == 0 && !req_allows(r, NEED_OPERATOR))
			json_object_del(r->data, "params");
		hook_params_mask(json_object_get(r->data, "params"));
	}
	jobrow_free(&j);
	return rc;
}

/* The "error" of a stored result, or a stand-in. */
static const char *
result_error(const json_t *res)
{
	const char	*e = json_string_value(json_object_get(res, "error"));

	return e != NULL ? e : "failed without a reason";
}

/*
 * What GET /node/<ID>/power_state answers: {"success": true, "data":
 * "on"}, and for a BMC that could not tell, "unknown" with the reason
 * beside it (the reference's answer stays a success: the state is
 * unknown, which is a state).
 */
static enum apierr
result_power_state(struct req *r, const struct jobrow *j, const json_t *res)
{
	json_t		*env;
	char		*s;

	if (strcmp(j->state, "done") == 0) {
		r->data = json_incref(json_object_get(res, "state"));
		return API_OK;
	}
	env = json_pack("{s:b, s:s, s:s++}", "success", 1, "data", "unknown",
	    "reason", j->target != NULL ? j->target : "node", ": ",
	    result_error(res));
	s = env != NULL ? json_dumps(env, JSON_COMPACT) : NULL;
	json_decref(env);
	if (s == NULL)
		return ctx_internal(&r->ctx, "power state answer not encodable");
	resp_raw(r, 200, "application/json", s, strlen(s));
	free(s);
	return API_OK;
}

/*
 * exec's answer: the output, streamed by nginx from the spool file, with
 * the exit status in X-Exit-Status (the spool location adds it from the
 * URI) and X-Exec-Ended when a limit ended the command.
 */
static enum apierr
result_exec(struct req *r, const struct jobrow *j, const json_t *res)
{
	char		 path[1024], uri[160];
	const char	*ended = "";

	snprintf(path, sizeof(path), "%s/%s", r->conf->jobd_spool, j->uid);
	if (access(path, R_OK) == -1)
		return req_fail(r, API_NOT_FOUND, "The output of job %s is no "
		    "longer kept (%s)", j->uid, errno == ENOENT ?
		    "removed after [jobd] spool_keep" : "unreadable");
	if (json_is_true(json_object_get(res, "timed_out")))
		ended = "time_limit";
	else if (json_is_true(json_object_get(res, "truncated")))
		ended = "max_output";
	snprintf(uri, sizeof(uri), "/_spool/%s?exit=%lld&ended=%s", j->uid,
	    (long long)json_integer_value(json_object_get(res, "exit")), ended);
	resp_redirect(r, uri);
	return API_OK;
}

/*
 * GET /job/:id/result: the answer the endpoint that queued the job gives
 * synchronously, rendered from the stored row: "on" for a power state,
 * {"success": true} for a power change, the raw output for exec, the
 * result for other kinds.  A job that has not ended is a 504; one still
 * queued then (its node busy, its tenant's workers all taken) is
 * cancelled, so it does not run after its caller gave up.
 */
enum apierr
api_job_result(struct req *r)
{
	struct jobrow	 j;
	json_t		*res = NULL, *params = NULL;
	const char	*op;
	char		 err[128];
	json_int_t	 status;
	enum apierr	 rc;
	enum dbrc	 drc;

	if ((rc = jobrow_load(r, req_param(r, "id"), &j)) != API_OK)
		return rc;
	/* A command's output is as much the operator's as running it. */
	if (strcmp(j.kind, "exec") == 0 && !req_allows(r, NEED_OPERATOR)) {
		rc = req_fail(r, API_FORBIDDEN, "Reading exec output needs "
		    "role.operator");
		goto out;
	}
	if (strcmp(j.state, "queued") == 0) {
		drc = db_run(r->ctx.db, SQL_JOB_CANCEL, "sds", "{\"error\":"
		    "\"did not start within the wait; cancelled\"}", time_now(),
		    j.uid);
		if (drc != DB_OK) {
			rc = ctx_dbfail(&r->ctx, drc);
			goto out;
		}
		if (db_affected(r->ctx.db, SQL_JOB_CANCEL) == 1) {
			rc = req_fail(r, API_TIMEOUT, "%s: the job did not start "
			    "within the wait (another job held the node, or "
			    "every worker of the tenant was busy); it was "
			    "cancelled", j.target != NULL ? j.target : j.uid);
			goto out;
		}
		/* It started meanwhile: answer from the row as it is now. */
		jobrow_free(&j);
		if ((rc = jobrow_load(r, req_param(r, "id"), &j)) != API_OK)
			return rc;
	}
	if (!job_state_ended(j.state)) {
		rc = req_fail(r, API_TIMEOUT, "%s: still running after the "
		    "wait; follow it with GET /job/%s", j.target != NULL ?
		    j.target : "job", j.uid);
		goto out;
	}
	res = j.result != NULL ? json_decode_strict(j.result, strlen(j.result),
	    err, sizeof(err)) : NULL;
	params = json_decode_strict(j.params, strlen(j.params), err, sizeof(err));
	if (strcmp(j.state, "cancelled") == 0) {
		rc = req_fail(r, API_CONFLICT, "%s: %s", j.target != NULL ?
		    j.target : j.uid, result_error(res));
		goto out;
	}
	op = json_string_value(json_object_get(params, "op"));
	if (strcmp(j.kind, "power") == 0 && op != NULL &&
	    strcmp(op, "status") == 0) {
		rc = result_power_state(r, &j, res);
		goto out;
	}
	if (strcmp(j.state, "failed") == 0) {
		/* A job refusing what it was given (a checksum) says so. */
		status = json_integer_value(json_object_get(res, "status"));
		rc = req_fail(r, status >= 400 && status != 500 ?
		    resp_code((int)status) : API_BAD_GATEWAY, "%s: %s",
		    j.target != NULL ? j.target : j.uid, result_error(res));
		goto out;
	}
	if (strcmp(j.kind, "exec") == 0)
		rc = result_exec(r, &j, res);
	else if (strcmp(j.kind, "export") == 0)
		rc = export_result(r, j.uid, res);
	else if (strcmp(j.kind, "mkiso") == 0)
		rc = mkiso_result(r, j.uid, j.target);	/* api_image.c */
	else if (strcmp(j.kind, "power") != 0)
		r->data = json_incref(res);
out:
	json_decref(res);
	json_decref(params);
	jobrow_free(&j);
	return rc;
}

/*
 * DELETE /job/:id: cancel a job that has not started.  One that runs
 * finishes (a BMC command half sent cannot be taken back): 409.
 */
enum apierr
api_job_delete(struct req *r)
{
	struct jobrow	 j;
	enum apierr	 rc;
	enum dbrc	 drc;

	if ((rc = jobrow_load(r, req_param(r, "id"), &j)) != API_OK)
		return rc;
	drc = db_run(r->ctx.db, SQL_JOB_CANCEL, "sds",
	    "{\"error\":\"cancelled by an admin\"}", time_now(), j.uid);
	if (drc != DB_OK)
		rc = ctx_dbfail(&r->ctx, drc);
	else if (db_affected(r->ctx.db, SQL_JOB_CANCEL) == 0)
		rc = req_fail(r, API_CONFLICT, "Job %s is %s; only a queued job "
		    "can be cancelled", j.uid, j.state);
	else
		jobd_wake_waiters(r->conf);
	jobrow_free(&j);
	return rc;
}

static const char *const job_states[] = {
	"queued", "claimed", "running", "done", "failed", "cancelled"
};

/*
 * GET /jobs[?state=&kind=&node=&batch=&limit=&before=]: the caller's
 * tenant's jobs, newest first, a page at a time: {"jobs": [...], "next":
 * <cursor for ?before=, or null>}.
 */
enum apierr
api_jobs_list(struct req *r)
{
	struct objrow	 node;
	struct jobrow	 j;
	const char	*errstr = NULL, *state, *kind;
	char		 sbuf[16], kbuf[33], nbuf[NAME_MAX_LEN + 1], bbuf[40];
	char		 lbuf[16], cbuf[24], *node_uid = NULL;
	long long	 limit = 100, before = (1LL << 62), batch = 0, id = 0;
	long long	 last = 0, tid = r->ctx.scope.tenant, n = 0;
	size_t		 i;
	json_t		*list;
	enum apierr	 rc = API_OK;
	enum dbrc	 drc;

	memset(&node, 0, sizeof(node));
	state = req_query(r, "state", sbuf, sizeof(sbuf));
	for (i = 0; state != NULL && i < nitems(job_states); i++)
		if (strcmp(state, job_states[i]) == 0)
			break;
	if (state != NULL && i == nitems(job_states))
		return req_fail(r, API_BAD_REQUEST, "state must be one of "
		    "queued, claimed, running, done, failed, cancelled");
	kind = req_query(r, "kind", kbuf, sizeof(kbuf));
	if (kind != NULL && jobkind_find(kind) == NULL)
		return req_fail(r, API_BAD_REQUEST, "Unknown job kind");
	if (req_query(r, "limit", lbuf, sizeof(lbuf)) != NULL &&
	    (limit = num_parse(lbuf, 1, JOBS_PAGE_MAX, &errstr), errstr != NULL))
		return req_fail(r, API_BAD_REQUEST, "limit must be 1 to %d",
		    JOBS_PAGE_MAX);
	if (req_query(r, "before", cbuf, sizeof(cbuf)) != NULL &&
	    (before = num_parse(cbuf, 1, 1LL << 62, &errstr), errstr != NULL))
		return req_fail(r, API_BAD_REQUEST, "before must be a cursor "
		    "from an earlier page's next");
	if (req_query(r, "batch", bbuf, sizeof(bbuf)) != NULL &&
	    (rc = batch_find(r, bbuf, &batch, NULL)) != API_OK)
		return rc;
	if (req_query(r, "node", nbuf, sizeof(nbuf)) != NULL) {
		if ((rc = obj_find(&r->ctx, &node_class, nbuf, 0, &node)) != API_OK)
			return rc;
		node_uid = node.uid;
	}
	if ((drc = db_run(r->ctx.db, SQL_JOB_LIST, "iissssssiiii", tid, tid,
	    state, state, kind, kind, node_uid, node_uid, batch, batch, before,
	    limit)) != DB_OK) {
		db_done(r->ctx.db, SQL_JOB_LIST);
		objrow_free(&node);
		return ctx_dbfail(&r->ctx, drc);
	}
	list = json_array();
	memset(&j, 0, sizeof(j));
	while ((drc = db_next(r->ctx.db, SQL_JOB_LIST, "ssssissdddsi", &j.uid,
	    &j.kind, &j.target, &j.state, &j.attempts, &j.result, &j.by,
	    &j.created, &j.started, &j.finished, &j.batch, &id)) == DB_OK) {
		j.params = xstrdup("{}");
		json_array_append_new(list, jobrow_json(&j));
		json_object_del(json_array_get(list, json_array_size(list) - 1),
		    "params");
		jobrow_free(&j);
		last = id;
		n++;
	}
	db_done(r->ctx.db, SQL_JOB_LIST);
	objrow_free(&node);
	if (drc != DB_DONE) {
		json_decref(list);
		return ctx_dbfail(&r->ctx, drc);
	}
	r->data = json_pack("{s:o, s:o}", "jobs", list, "next", n == limit ?
	    json_integer(last) : json_null());
	return API_OK;
}

/*
 * GET /jobs/stats: queued and in-progress jobs per tenant in scope and
 * in total, with each tenant's workers.
 */
enum apierr
api_jobs_stats(struct req *r)
{
	char		*name;
	long long	 workers, queued, active, tq = 0, ta = 0;
	long long	 tid = r->ctx.scope.tenant;
	json_t		*per;
	enum dbrc	 drc;

	if ((drc = db_run(r->ctx.db, SQL_JOB_STATS, "ii", tid, tid)) != DB_OK) {
		db_done(r->ctx.db, SQL_JOB_STATS);
		return ctx_dbfail(&r->ctx, drc);
	}
	per = json_object();
	while ((drc = db_next(r->ctx.db, SQL_JOB_STATS, "siii", &name, &workers,
	    &queued, &active)) == DB_OK) {
		json_object_set_new(per, name, json_pack("{s:I, s:I, s:I}",
		    "workers", (json_int_t)workers, "queued", (json_int_t)queued,
		    "in_progress", (json_int_t)active));
		tq += queued;
		ta += active;
		free(name);
	}
	db_done(r->ctx.db, SQL_JOB_STATS);
	if (drc != DB_DONE) {
		json_decref(per);
		return ctx_dbfail(&r->ctx, drc);
	}
	r->data = json_pack("{s:o, s:{s:I, s:I}}", "tenants", per, "total",
	    "queued", (json_int_t)tq, "in_progress", (json_int_t)ta);
	return API_OK;
}
