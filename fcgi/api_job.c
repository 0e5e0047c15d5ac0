/*
 * Jobs (corral's own endpoints; the ClusterWare reference keeps its
 * long-running jobs behind the endpoints that start them).  A job is a
 * row; corral-jobd runs it.  POST /jobs with "wait" answers once the job
 * has ended or the wait ran out, which is how synchronous ClusterWare
 * endpoints (power, exec) will use the same path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

#define JOB_WAIT_MAX	300	/* seconds a request may wait for a job */

static const struct field job_fields[] = {
	FIELD("kind",   F_NAME,   F_REQUIRED, 32,           "What to run: noop"),
	FIELD("params", F_OBJECT, 0,          65536,        "The kind's parameters"),
	FIELD("target", F_NAME,   0,          NAME_MAX_LEN, "The object the job acts on"),
	FIELD("wait",   F_INT,    0,          JOB_WAIT_MAX, "Seconds to wait for the result"),
};
const struct bodyspec b_job = FIELDS(job_fields);

/*
 * Nudge corral-jobd so a new job starts now rather than at its next poll.
 * Best effort: a lost datagram costs at most one poll interval.
 */
void
jobd_wake(const struct conf *c)
{
	static int		 fd = -1;
	struct sockaddr_un	 sun;

	if (c->jobd_socket == NULL || strlen(c->jobd_socket) >= sizeof(sun.sun_path))
		return;
	if (fd == -1 && (fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, c->jobd_socket);
	(void)sendto(fd, "!", 1, 0, (struct sockaddr *)&sun, sizeof(sun));
}

/* Load job uid into a JSON object (new reference) if in the caller's scope. */
static enum apierr
job_load(struct req *r, const char *uid, json_t **out)
{
	char		*juid = NULL, *kind = NULL, *target = NULL, *params = NULL;
	char		*state = NULL, *result = NULL, *by = NULL, err[128];
	long long	 tid = 0, attempts = 0;
	double		 created = 0, started = 0, finished = 0;
	json_t		*p, *res;
	enum dbrc	 rc;

	*out = NULL;
	if ((rc = db_run(r->ctx.db, SQL_JOB_GET, "s", uid)) != DB_OK)
		return ctx_dbfail(&r->ctx, rc);
	rc = db_next(r->ctx.db, SQL_JOB_GET, "sissssissddd", &juid, &tid, &kind,
	    &target, &params, &state, &attempts, &result, &by, &created,
	    &started, &finished);
	db_done(r->ctx.db, SQL_JOB_GET);
	if (rc == DB_OK && r->ctx.scope.tenant != SCOPE_ALL &&
	    tid != r->ctx.scope.tenant)
		rc = DB_DONE;
	if (rc == DB_OK) {
		p = json_decode_strict(params, strlen(params), err, sizeof(err));
		res = result == NULL ? json_null() :
		    json_decode_strict(result, strlen(result), err, sizeof(err));
		*out = json_pack("{s:s, s:s, s:s?, s:o?, s:s, s:I, s:o?, s:s, "
		    "s:f, s:f, s:f}", "uid", juid, "kind", kind, "target", target,
		    "params", p, "state", state, "attempts", (json_int_t)attempts,
		    "result", res, "created_by", by, "created_at", created,
		    "started_at", started, "finished_at", finished);
	}
	free(juid);
	free(kind);
	free(target);
	free(params);
	free(state);
	free(result);
	free(by);
	if (rc == DB_DONE)
		return req_fail(r, API_NOT_FOUND, "No job found for ID=%.32s", uid);
	if (rc != DB_OK)
		return ctx_dbfail(&r->ctx, rc);
	return API_OK;
}

/*
 * POST /jobs {"kind", "params", "target", "wait"}: queue a job; answer
 * its UID, or with "wait" the job as it stands when it ended or the wait
 * ran out.
 */
enum apierr
api_job_post(struct req *r)
{
	const struct jobkind	*kind;
	const char		*target;
	json_t			*params, *job = NULL;
	char			 uid[UID_LEN + 1], *ptext;
	long long		 wait;
	double			 deadline;
	struct timespec		 ts = { 0, 20 * 1000 * 1000 };
	enum dbrc		 rc;
	enum apierr		 arc;

	kind = jobkind_find(json_string_value(json_object_get(r->json, "kind")));
	if (kind == NULL)
		return req_fail(r, API_BAD_REQUEST, "Unknown job kind");
	params = json_object_get(r->json, "params");
	if (params == NULL)
		params = json_object();
	else
		json_incref(params);
	if (kind->check != NULL && kind->check(params, r->ctx.reason,
	    sizeof(r->ctx.reason)) == -1) {
		json_decref(params);
		return API_BAD_REQUEST;
	}
	target = json_string_value(json_object_get(r->json, "target"));
	wait = json_integer_value(json_object_get(r->json, "wait"));
	ptext = json_dumps(params, JSON_COMPACT);
	json_decref(params);
	if (uid_new(uid) == -1) {
		free(ptext);
		return ctx_internal(&r->ctx, "no random bytes for a job UID");
	}
	rc = db_run(r->ctx.db, SQL_JOB_INSERT, "sissssd", uid, r->who.tok.tid,
	    kind->name, target, ptext, r->who.tok.name, time_now());
	free(ptext);
	if (rc != DB_OK)
		return ctx_dbfail(&r->ctx, rc);
	jobd_wake(r->conf);
	if (wait == 0) {
		r->data = json_string(uid);
		return API_OK;
	}
	deadline = time_now() + (double)wait;
	for (;;) {
		json_decref(job);
		if ((arc = job_load(r, uid, &job)) != API_OK)
			return arc;
		if (strcmp(json_string_value(json_object_get(job, "state")),
		    "done") == 0 || strcmp(json_string_value(json_object_get(job,
		    "state")), "failed") == 0 || time_now() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	r->data = job;
	return API_OK;
}

/* GET /job/:id: a job of the caller's tenant. */
enum apierr
api_job_get(struct req *r)
{
	const char	*id = req_param(r, "id");

	if (!uid_valid(id))
		return req_fail(r, API_NOT_FOUND, "No job found for ID=%.32s", id);
	return job_load(r, id, &r->data);
}
