/*
 * The audit log (sql/0012-audit.sql): who did what, in which tenant, to
 * which object, with what result, when, from where.  route_dispatch
 * calls audit_request once per request, after the handler; corral-jobd
 * calls audit_event for what it does on its own.
 *
 * Recorded: every write (POST, PUT, PATCH, DELETE), which covers power
 * and exec, logins good and bad, token issues, and the tenancy token
 * routes, including those the front line refused (401, 403, 404, 405).
 * Not recorded: PUT /node/putstatus, the telemetry every node sends
 * every few seconds; a row each would drown the log and cost every
 * report an INSERT.
 *
 * A row is written after the handler, in its own autocommit statement,
 * so a write that failed and rolled back is recorded with its failure.
 * It holds the names of the body's top-level keys, never a value, and
 * for a login the user name tried, never the password.  Losing a row
 * (the database went away) is logged; it never changes the answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extern.h"

#define AUDIT_STR_MAX	255	/* object, route and reason columns */
#define AUDIT_KEYS_MAX	64	/* body keys recorded */
#define AUDIT_KEY_MAX	64	/* bytes of one key recorded */

/*
 * GET routes recorded all the same: they issue a token, start a job
 * that changes something, or are the tenancy token's routes.
 */
static const char *const audited_gets[] = {
	"/newtoken",
	"/image/:id/capture",
	"/gitrepo/:id/sync",
	"/tenancy/members",
	"/tenancy/power/:id",
};

/* Writes not recorded (see the top of the file). */
static const struct {
	enum method	 m;
	const char	*pattern;
} unaudited[] = {
	{ M_PUT, "/node/putstatus" },
};

/*
 * Whether a request with method m on the route whose pattern is pattern
 * (NULL: no route matched) gets an audit row.
 */
int
audit_wanted(enum method m, const char *pattern)
{
	size_t	 i;

	if (m == M_GET || m == M_HEAD) {
		for (i = 0; pattern != NULL && i < nitems(audited_gets); i++)
			if (strcmp(pattern, audited_gets[i]) == 0)
				return 1;
		return 0;
	}
	if (m >= M__MAX)
		return 0;
	for (i = 0; pattern != NULL && i < nitems(unaudited); i++)
		if (m == unaudited[i].m && strcmp(pattern, unaudited[i].pattern) == 0)
			return 0;
	return 1;
}

/* Make s storable and showable: valid UTF-8, no control characters. */
static void
audit_clean(char *s)
{
	unsigned char	*p;

	utf8_clean(s);
	for (p = (unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* Copy client bytes src into dst[dstsz], cut to fit and cleaned. */
static void
audit_copy(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src != NULL ? src : "");
	audit_clean(dst);
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The JSON list of the body's top-level keys, sorted, each once (for a
 * list of objects, the keys of all of them): new allocation, or NULL when
 * the body was no JSON object or list.  Values are never looked at.
 */
static char *
audit_fields(json_t *body)
{
	const char	*keys[AUDIT_KEYS_MAX], *k;
	char		 buf[AUDIT_KEY_MAX + 1];
	json_t		*o, *v;
	json_t		*list;
	size_t		 n = 0, i, j;
	char		*out;

	if (!json_is_object(body) && !json_is_array(body))
		return NULL;
	for (i = 0; i < (json_is_array(body) ? json_array_size(body) : 1); i++) {
		o = json_is_array(body) ? json_array_get(body, i) : body;
		if (!json_is_object(o))
			continue;
		json_object_foreach(o, k, v) {
			for (j = 0; j < n && strcmp(keys[j], k) != 0; j++)
				continue;
			if (j == n && n < nitems(keys))
				keys[n++] = k;
		}
	}
	qsort(keys, n, sizeof(keys[0]), key_cmp);
	list = json_array();
	for (i = 0; i < n; i++) {
		audit_copy(buf, sizeof(buf), keys[i]);
		json_array_append_new(list, json_string(buf));
	}
	out = json_dumps(list, JSON_COMPACT);
	json_decref(list);
	return out;
}

/*
 * The object a request acted on into obj[objsz]: the user name a login
 * tried, the route's first capture, or the UID a create or bulk action
 * answered (UIDs joined by ',').  "" if none.
 */
static void
audit_object(const struct req *r, enum apierr rc, char *obj, size_t objsz)
{
	const json_t	*e;
	size_t		 i, len;

	obj[0] = '\0';
	if (r->route != NULL && strcmp(r->route->pattern, "/login") == 0)
		audit_copy(obj, objsz, json_string_value(json_object_get(r->json,
		    "user")));
	else if (r->nparams > 0)
		audit_copy(obj, objsz, r->params[0]);
	else if (rc == API_OK && json_is_string(r->data))
		audit_copy(obj, objsz, json_string_value(r->data));
	else if (rc == API_OK && json_is_array(r->data)) {
		json_array_foreach(r->data, i, e) {
			len = strlen(obj);
			if (!json_is_string(e) || len + 1 >= objsz)
				break;
			snprintf(obj + len, objsz - len, "%s%s", len ? "," : "",
			    json_string_value(e));
		}
		audit_clean(obj);
	}
}

/*
 * Who made request r, into actor[actorsz], the admin's UID into
 * uid[UID_LEN + 1] and the tenant it acted in into *tenant (0: none
 * known).  A good login is its admin's, read from the token it issued.
 */
static void
audit_actor(const struct req *r, enum apierr rc, char *actor, size_t actorsz,
    char uid[UID_LEN + 1], long long *tenant)
{
	const char	*addr = r->remote_addr != NULL ? r->remote_addr : "?";
	const char	*tok;
	struct claims	 c;

	uid[0] = '\0';
	*tenant = 0;
	tok = json_string_value(json_object_get(json_object_get(r->data,
	    "token"), "access_token"));
	if (r->who.authed) {
		/* Tenancy tokens name themselves "tenancy:<name>". */
		snprintf(actor, actorsz, "%s%s", strchr(r->ctx.scope.actor, ':') ?
		    "" : "admin:", r->ctx.scope.actor);
		snprintf(uid, UID_LEN + 1, "%s", r->ctx.scope.actor_uid);
		*tenant = r->ctx.scope.tenant > 0 ? r->ctx.scope.tenant :
		    r->who.tok.tid;
	} else if (rc == API_OK && r->route != NULL &&
	    strcmp(r->route->pattern, "/login") == 0 && tok != NULL &&
	    token_check(r->key, tok, TOK_ACCESS, time(NULL), &c) == TOKEN_OK) {
		snprintf(actor, actorsz, "admin:%s", c.name);
		snprintf(uid, UID_LEN + 1, "%s", c.sub);
		*tenant = c.tid;
	} else if (r->route != NULL && r->route->need == NEED_HEAD)
		snprintf(actor, actorsz, "head:%s", addr);
	else if (r->route != NULL && r->route->need == NEED_NONE &&
	    strncmp(r->route->pattern, "/node/", 6) == 0)
		snprintf(actor, actorsz, "node:%s", addr);
	else
		snprintf(actor, actorsz, "anonymous");
}

static void
audit_insert(struct db *db, const char *actor, const char *uid,
    long long tenant, const char *method, const char *route,
    const char *object, const char *fields, int status, const char *reason,
    const char *source, const char *request_id)
{
	enum dbrc	 drc;

	drc = db_run(db, SQL_AUDIT_INSERT, "dssissssisss", time_now(),
	    actor, uid, tenant, method, route, object, fields, (long long)status,
	    reason, source, request_id);
	if (drc != DB_OK)
		log_err("audit: the row for %s %s by %s (%d) is lost", method,
		    route, actor, status);
}

/*
 * Record request r, answered with rc, if it is one the log keeps (see
 * audit_wanted).  Runs after the handler: a transaction it left open is
 * rolled back first, so the row is its own autocommit statement.
 */
void
audit_request(struct req *r, enum apierr rc)
{
	const char	*pattern = r->route != NULL ? r->route->pattern : NULL;
	char		 actor[ACTOR_MAX + 16], uid[UID_LEN + 1];
	char		 object[AUDIT_STR_MAX + 1], route[AUDIT_STR_MAX + 1];
	char		 reason[AUDIT_STR_MAX + 1], source[IP_STR_MAX];
	char		 reqid[65];
	char		*fields;
	long long	 tenant;
	int		 status;

	if (r->ctx.db == NULL || !audit_wanted(r->method, pattern))
		return;
	db_rollback(r->ctx.db);
	audit_actor(r, rc, actor, sizeof(actor), uid, &tenant);
	audit_object(r, rc, object, sizeof(object));
	audit_copy(route, sizeof(route), pattern != NULL ? pattern : r->path);
	audit_copy(reason, sizeof(reason), r->ctx.reason);
	audit_copy(source, sizeof(source), r->remote_addr);
	audit_copy(reqid, sizeof(reqid), r->request_id);
	fields = audit_fields(r->json);
	/*
	 * A power call, exec or upload the handler handed to corral-jobd's
	 * waiter (X-Accel-Redirect): the client's answer comes from the job,
	 * after this row.  202, accepted; the job holds the outcome.
	 */
	status = resp_status(rc);
	if (rc == API_OK && r->raw) {
		status = 202;
		snprintf(reason, sizeof(reason), "handed to corral-jobd; the "
		    "job holds the outcome");
	} else if (rc == API_OK)
		reason[0] = '\0';
	audit_insert(r->ctx.db, actor, uid, tenant, method_name(r->method),
	    route, *object ? object : NULL, fields, status,
	    *reason ? reason : NULL, *source ? source : NULL,
	    *reqid ? reqid : NULL);
	free(fields);
}

/*
 * Record something done outside a request (corral-jobd deploying or
 * deleting a tenant): actor (e.g. "jobd") did what ("tenant deployed")
 * to object in tenant (0: none), ending with HTTP-like status, detail a
 * short note or NULL.  The row goes in with c's transaction if one is
 * open, on its own otherwise.
 */
void
audit_event(struct ctx *c, const char *actor, long long tenant,
    const char *what, const char *object, int status, const char *detail)
{
	char	 act[ACTOR_MAX + 16], route[AUDIT_STR_MAX + 1];
	char	 obj[AUDIT_STR_MAX + 1], note[AUDIT_STR_MAX + 1];

	audit_copy(act, sizeof(act), actor);
	audit_copy(route, sizeof(route), what);
	audit_copy(obj, sizeof(obj), object);
	audit_copy(note, sizeof(note), detail);
	audit_insert(c->db, act, "", tenant, "EVENT", route, *obj ? obj : NULL,
	    NULL, status, *note ? note : NULL, NULL, NULL);
}
