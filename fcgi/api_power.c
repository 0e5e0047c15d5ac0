/*
 * Power and exec (reference: Node Objects), one node at a time as the
 * reference shows them, and in bulk (corral's own: /nodes/power_state,
 * /nodes/exec, /batch/<ID>).
 *
 * Nothing here talks to a BMC or a node, or holds a BMC password: each
 * action is a job that corral-jobd runs.  A synchronous call queues its
 * job and hands the connection to the waiter (job_wait); the answer comes
 * from GET /job/<ID>/result once the job has ended.  ?async=1 answers the
 * job's UID at once instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define BULK_NODES_MAX	100000

static const struct field power_fields[] = {
	FIELD("state", F_STRING, F_REQUIRED, 32,  "power on, power off, power cycle, power reset or power soft"),
	FIELD("force", F_BOOL,   0,          0,   "true: off goes straight to the BMC's hard off"),
	FIELD("steps", F_ANY,    0,          0,   "off only: [\"ssh\"|\"soft\"|\"hard\" or {\"do\", \"wait\"}, ...]"),
};
const struct bodyspec b_power = FIELDS(power_fields);

static const struct field exec_fields[] = {
	FIELD("cmd",    F_ANY,    F_REQUIRED, 0,  "The command line, run by the node's shell"),
	FIELD("stdin",  F_ANY,    0,          0,  "Text fed to the command's standard input"),
};
const struct bodyspec b_exec = FIELDS(exec_fields);

static const struct field bulk_power_fields[] = {
	FIELD("nodes",      F_ARRAY_STR, 0,          BULK_NODES_MAX, "Node names, UIDs, MACs or IPs"),
	FIELD("selector",   F_TEXT,      0,          SEL_TEXT_MAX,   "A node selector, as dynamic groups use"),
	FIELD("group",      F_NAME,      0,          NAME_MAX_LEN,   "An attribute group or dynamic group"),
	FIELD("state",      F_STRING,    F_REQUIRED, 32,             "power on, power off, power cycle, power reset or power soft"),
	FIELD("force",      F_BOOL,      0,          0,              "true: off goes straight to the BMC's hard off"),
	FIELD("steps",      F_ANY,       0,          0,              "off only: as for one node"),
	FIELD("stagger_ms", F_INT,       0,          600000,         "ms between power-ons (inrush); default [power] stagger_ms"),
};
const struct bodyspec b_bulk_power = FIELDS(bulk_power_fields);

static const struct field bulk_exec_fields[] = {
	FIELD("nodes",    F_ARRAY_STR, 0,          BULK_NODES_MAX, "Node names, UIDs, MACs or IPs"),
	FIELD("selector", F_TEXT,      0,          SEL_TEXT_MAX,   "A node selector, as dynamic groups use"),
	FIELD("group",    F_NAME,      0,          NAME_MAX_LEN,   "An attribute group or dynamic group"),
	FIELD("cmd",      F_ANY,       F_REQUIRED, 0,              "The command line, run by each node's shell"),
	FIELD("stdin",    F_ANY,       0,          0,              "Text fed to each command's standard input"),
};
const struct bodyspec b_bulk_exec = FIELDS(bulk_exec_fields);

/* The reference's states and corral's additions, as job ops. */
static const struct {
	const char	*state;
	const char	*op;
} power_states[] = {
	{ "power on", "on" }, { "power off", "off" },
	{ "power cycle", "cycle" }, { "power reset", "reset" },
	{ "power soft", "soft" },
	{ "on", "on" }, { "off", "off" }, { "cycle", "cycle" },
	{ "reset", "reset" }, { "soft", "soft" },
};

/*
 * The power job's parameters from a PUT body: {"op", "force", "steps"}
 * (new reference), or NULL with the reason set.
 */
static json_t *
power_params(struct req *r)
{
	const char		*state;
	struct power_plan	 plan;
	json_t			*p;
	size_t			 i;

	if ((state = json_string_value(json_object_get(r->json, "state"))) ==
	    NULL) {
		req_fail(r, API_BAD_REQUEST, "state is required: power on, "
		    "power off, power cycle, power reset or power soft");
		return NULL;
	}
	for (i = 0; i < nitems(power_states); i++)
		if (strcmp(state, power_states[i].state) == 0)
			break;
	if (i == nitems(power_states)) {
		req_fail(r, API_BAD_REQUEST, "state must be power on, power off, "
		    "power cycle, power reset or power soft");
		return NULL;
	}
	p = json_pack("{s:s}", "op", power_states[i].op);
	if (json_object_get(r->json, "force") != NULL)
		json_object_set(p, "force", json_object_get(r->json, "force"));
	if (json_object_get(r->json, "steps") != NULL)
		json_object_set(p, "steps", json_object_get(r->json, "steps"));
	if (power_plan_parse(p, r->conf, &plan, r->ctx.reason,
	    sizeof(r->ctx.reason)) == -1) {
		json_decref(p);
		return NULL;
	}
	return p;
}

/* The exec job's parameters from a PUT body (new reference), or NULL. */
static json_t *
exec_params(struct req *r)
{
	const char	*mode = req_header(r, "HTTP_X_STDERR");
	json_t		*p;

	if (json_object_get(r->json, "cmd") == NULL) {
		req_fail(r, API_BAD_REQUEST, "cmd is required: the command line "
		    "to run");
		return NULL;
	}
	p = json_pack("{s:O, s:O?}", "cmd", json_object_get(r->json, "cmd"),
	    "stdin", json_object_get(r->json, "stdin"));
	if (mode != NULL)
		json_object_set_new(p, "stderr", json_string(mode));
	if (job_exec.check(p, r->ctx.reason, sizeof(r->ctx.reason)) == -1) {
		if (mode != NULL && strstr(r->ctx.reason, "stderr") != NULL)
			snprintf(r->ctx.reason, sizeof(r->ctx.reason), "Header "
			    "X-Stderr must be merge or discard");
		json_decref(p);
		return NULL;
	}
	return p;
}

/*
 * How long a synchronous power call waits: [power] wait, plus what a
 * graceful off may spend waiting between its steps.
 */
static long long
power_wait_secs(const struct conf *conf, const json_t *params)
{
	struct power_plan	 plan;
	char			 why[8];
	long long		 secs = conf->power_wait;
	size_t			 i;

	if (power_plan_parse(params, conf, &plan, why, sizeof(why)) == 0)
		for (i = 0; i < plan.nsteps; i++)
			secs += plan.wait[i] + conf->power_timeout_ms / 1000 + 1;
	return secs;
}

/*
 * The BMC host of node o ("server" of its expanded power URI), for the
 * per-BMC limit, into host; "" when it has none.  The host is never a
 * secret: the password stays masked (and is not decrypted) here.
 */
static enum apierr
power_host(struct req *r, const struct objrow *o, char *host, size_t hostsz)
{
	char		*uri = NULL;
	json_t		*parsed = NULL;
	enum apierr	 rc;

	host[0] = '\0';
	if ((rc = node_power_uri(&r->ctx, o, 0, &uri, &parsed)) != API_OK)
		return rc;
	if (parsed != NULL)
		snprintf(host, hostsz, "%s",
		    json_string_value(json_object_get(parsed, "server")));
	free(uri);
	json_decref(parsed);
	return API_OK;
}

/* With [power] busy = refuse, a node with a job not yet ended is a 409. */
static enum apierr
node_not_busy(struct req *r, const struct objrow *o)
{
	long long	 n = 0;
	enum dbrc	 rc;

	if (strcmp(r->conf->power_busy, "refuse") != 0)
		return API_OK;
	if ((rc = db_run(r->ctx.db, SQL_JOB_NODE_BUSY, "s", o->uid)) != DB_OK ||
	    (rc = db_next(r->ctx.db, SQL_JOB_NODE_BUSY, "i", &n)) != DB_OK) {
		db_done(r->ctx.db, SQL_JOB_NODE_BUSY);
		return ctx_dbfail(&r->ctx, rc);
	}
	db_done(r->ctx.db, SQL_JOB_NODE_BUSY);
	if (n > 0)
		return req_fail(r, API_CONFLICT, "Node %s is busy with another "
		    "power or exec job; try again when it has ended", o->name);
	return API_OK;
}

/*
 * Queue one node's job and answer: the job's UID with ?async=1, else the
 * synchronous answer through the waiter.
 */
static enum apierr
node_job(struct req *r, const struct objrow *o, const struct jobkind *kind,
    const json_t *params, const char *host, long long wait)
{
	struct jobspec	 js;
	enum apierr	 rc;

	if ((rc = node_not_busy(r, o)) != API_OK)
		return rc;
	memset(&js, 0, sizeof(js));
	js.kind = kind;
	js.params = params;
	js.target = o->name;
	js.node_uid = o->uid;
	js.bmc_host = host != NULL && *host != '\0' ? host : NULL;
	/* exec's output is spooled on the head that runs it: this one. */
	js.head = kind == &job_exec ? r->conf->head_name : NULL;
	return job_answer(r, &js, wait, 1);
}

/* The node a power call is for, refusing one without a power_uri. */
static enum apierr
power_node(struct req *r, struct objrow *o, char *host, size_t hostsz)
{
	enum apierr	 rc;

	if ((rc = obj_find(&r->ctx, &node_class, req_param(r, "id"), 0, o)) !=
	    API_OK)
		return rc;
	if (json_string_value(json_object_get(o->doc, "power_uri")) == NULL)
		rc = req_fail(r, API_BAD_REQUEST, "Node %s has no power_uri; "
		    "set one (e.g. ipmi://<ipmi_user>:<ipmi_pass>@<bmc>/) to "
		    "control its power", o->name);
	else
		rc = power_host(r, o, host, hostsz);
	if (rc != API_OK)
		objrow_free(o);
	return rc;
}

/*
 * The state the node's BMC last reported, without asking it again:
 * "unknown" if it was never asked or could not tell.
 */
static enum apierr
power_remembered(struct req *r, const struct objrow *o)
{
	char		*state = NULL, *error = NULL;
	double		 at;
	enum dbrc	 rc;

	if ((rc = db_run(r->ctx.db, SQL_POWER_GET, "s", o->uid)) == DB_OK)
		rc = db_next(r->ctx.db, SQL_POWER_GET, "sds", &state, &at, &error);
	db_done(r->ctx.db, SQL_POWER_GET);
	if (rc != DB_OK && rc != DB_DONE)
		return ctx_dbfail(&r->ctx, rc);
	r->data = json_string(state != NULL ? state : "unknown");
	free(state);
	free(error);
	return API_OK;
}

/*
 * GET /node/:id/power_state: "on", "off" or "unknown", asked of the BMC
 * now (a job), within [power] wait.  ?cached=1: what it said last time.
 */
enum apierr
api_node_power_get(struct req *r)
{
	struct objrow	 o;
	char		 host[URI_MAX_LEN], buf[8];
	json_t		*p;
	enum apierr	 rc;

	if ((rc = power_node(r, &o, host, sizeof(host))) != API_OK)
		return rc;
	if (req_query(r, "cached", buf, sizeof(buf)) != NULL &&
	    strcmp(buf, "1") == 0) {
		rc = power_remembered(r, &o);
		objrow_free(&o);
		return rc;
	}
	p = json_pack("{s:s}", "op", "status");
	rc = node_job(r, &o, &job_power, p, host, r->conf->power_wait);
	json_decref(p);
	objrow_free(&o);
	return rc;
}

/*
 * PUT /node/:id/power_state {"state", "force", "steps"}: {"success": true}
 * once the BMC confirmed; a 502 with the BMC's reason when it did not.
 */
enum apierr
api_node_power_put(struct req *r)
{
	struct objrow	 o;
	char		 host[URI_MAX_LEN];
	json_t		*p;
	enum apierr	 rc;

	if ((p = power_params(r)) == NULL)
		return API_BAD_REQUEST;
	if ((rc = power_node(r, &o, host, sizeof(host))) == API_OK) {
		rc = node_job(r, &o, &job_power, p, host,
		    power_wait_secs(r->conf, p));
		objrow_free(&o);
	}
	json_decref(p);
	return rc;
}

/*
 * PUT /node/:id/exec {"cmd", "stdin"}: the command's output as
 * application/octet-stream, no envelope (the reference), with
 * X-Exit-Status.
 */
enum apierr
api_node_exec(struct req *r)
{
	struct objrow	 o;
	json_t		*p;
	enum apierr	 rc;

	if ((p = exec_params(r)) == NULL)
		return API_BAD_REQUEST;
	if ((rc = obj_find(&r->ctx, &node_class, req_param(r, "id"), 0, &o)) ==
	    API_OK) {
		if (json_string_value(json_object_get(o.doc, "ip")) == NULL)
			rc = req_fail(r, API_BAD_REQUEST, "Node %s has no IP "
			    "address to reach it at", o.name);
		else
			rc = node_job(r, &o, &job_exec, p, NULL,
			    r->conf->exec_time_limit +
			    r->conf->exec_connect_timeout + 5);
		objrow_free(&o);
	}
	json_decref(p);
	return rc;
}

/* DELETE /node/:id/hostkey: forget the node's SSH host key. */
enum apierr
api_node_hostkey_delete(struct req *r)
{
	struct objrow	 o;
	enum apierr	 rc;
	enum dbrc	 drc;

	if ((rc = obj_find(&r->ctx, &node_class, req_param(r, "id"), 0, &o)) !=
	    API_OK)
		return rc;
	if ((drc = db_run(r->ctx.db, SQL_HOSTKEY_DELETE, "s", o.uid)) != DB_OK)
		rc = ctx_dbfail(&r->ctx, drc);
	else if (db_affected(r->ctx.db, SQL_HOSTKEY_DELETE) == 0)
		rc = req_fail(r, API_NOT_FOUND, "No host key is recorded for "
		    "node %s", o.name);
	objrow_free(&o);
	return rc;
}

/* ------------------------------------------------------------------ bulk */

/* Nodes of group uid: a callback of obj_each. */
struct in_group {
	const char	*uid;
	json_t		*uids;
};

static void
node_in_group(const struct objrow *o, void *arg)
{
	struct in_group	*g = arg;
	json_t		*e;
	size_t		 i;

	json_array_foreach(json_object_get(o->doc, "groups"), i, e)
		if (json_is_string(e) && strcmp(json_string_value(e), g->uid) == 0) {
			json_array_append_new(g->uids, json_string(o->uid));
			break;
		}
}

/*
 * The nodes a bulk request names, by exactly one of "nodes", "selector"
 * or "group" (an attribute group, else a dynamic group of that name), as
 * UIDs in *uids (new reference).  Selecting nothing is a 400: a bulk call
 * never means "all nodes".
 */
static enum apierr
bulk_targets(struct req *r, json_t **uids)
{
	const json_t	*nodes = json_object_get(r->json, "nodes");
	const char	*text = json_string_value(json_object_get(r->json, "selector"));
	const char	*group = json_string_value(json_object_get(r->json, "group"));
	struct objrow	 o;
	struct in_group	 g;
	struct sel	*sel;
	json_t		*e;
	char		 err[256];
	size_t		 i;
	enum apierr	 rc = API_OK;

	*uids = NULL;
	if ((nodes != NULL) + (text != NULL) + (group != NULL) != 1)
		return req_fail(r, API_BAD_REQUEST, "Give exactly one of nodes, "
		    "selector or group");
	if (nodes != NULL) {
		*uids = json_array();
		json_array_foreach(nodes, i, e) {
			if ((rc = obj_find(&r->ctx, &node_class,
			    json_string_value(e), 0, &o)) != API_OK)
				break;
			json_array_append_new(*uids, json_string(o.uid));
			objrow_free(&o);
		}
	} else if (group != NULL) {
		if ((rc = obj_find(&r->ctx, &attrib_class, group, 0, &o)) ==
		    API_OK) {
			g.uid = o.uid;
			g.uids = *uids = json_array();
			rc = obj_each(&r->ctx, &node_class, r->ctx.scope.tenant,
			    node_in_group, &g);
			objrow_free(&o);
		} else if (rc == API_NOT_FOUND &&
		    (rc = obj_find(&r->ctx, &dyngroup_class, group, 0, &o)) ==
		    API_OK) {
			text = json_string_value(json_object_get(o.doc, "selector"));
			if ((sel = sel_parse(text != NULL ? text : "", NULL, err,
			    sizeof(err))) == NULL)
				rc = ctx_internal(&r->ctx, "dyngroup %s: stored "
				    "selector does not parse: %s", o.uid, err);
			else
				rc = sel_nodes(&r->ctx, o.tenant_id, sel, uids);
			sel_free(sel);
			objrow_free(&o);
		} else if (rc == API_NOT_FOUND)
			rc = req_fail(r, API_NOT_FOUND, "No attribute group or "
			    "dynamic group found for ID=%.64s", group);
	} else {
		if ((sel = sel_parse(text, NULL, err, sizeof(err))) == NULL)
			return req_fail(r, API_BAD_REQUEST, "%s", err);
		rc = sel_nodes(&r->ctx, r->ctx.scope.tenant, sel, uids);
		sel_free(sel);
	}
	if (rc == API_OK && json_array_size(*uids) == 0)
		rc = req_fail(r, API_BAD_REQUEST, "The request selects no nodes; "
		    "nothing was done");
	if (rc != API_OK) {
		json_decref(*uids);
		*uids = NULL;
	}
	return rc;
}

/*
 * Queue one job per node of uids under a new batch, in one transaction,
 * and answer the batch's UID.  A node that cannot be acted on (no power
 * URI, no address) still gets its job, which fails with the reason: the
 * batch reports it per node and the rest go on.
 */
static enum apierr
bulk_queue(struct req *r, const struct jobkind *kind, json_t *params,
    json_t *uids)
{
	struct objrow	 o;
	struct jobspec	 js;
	char		 buid[UID_LEN + 1], juid[UID_LEN + 1], host[URI_MAX_LEN];
	char		*ptext = NULL;
	const json_t	*st;
	double		 now = time_now(), stagger = 0;
	long long	 bid;
	size_t		 i;
	enum apierr	 rc;
	enum dbrc	 drc;

	memset(&o, 0, sizeof(o));
	if (kind == &job_power && strcmp(json_string_value(json_object_get(
	    params, "op")), "on") == 0) {
		st = json_object_get(r->json, "stagger_ms");
		stagger = (st != NULL ? (double)json_integer_value(st) :
		    (double)r->conf->power_stagger_ms) / 1000.0;
	}
	if (uid_new(buid) == -1)
		return ctx_internal(&r->ctx, "no random bytes for a batch UID");
	if ((ptext = json_dumps(params, JSON_COMPACT)) == NULL)
		return ctx_internal(&r->ctx, "batch parameters not encodable");
	if ((drc = db_begin(r->ctx.db)) != DB_OK) {
		free(ptext);
		return ctx_dbfail(&r->ctx, drc);
	}
	drc = db_run(r->ctx.db, SQL_BATCH_INSERT, "sissisd", buid,
	    r->who.tok.tid, kind->name, ptext, (long long)json_array_size(uids),
	    r->who.tok.name, now);
	free(ptext);
	if (drc != DB_OK) {
		rc = ctx_dbfail(&r->ctx, drc);
		goto fail;
	}
	bid = db_insert_id(r->ctx.db, SQL_BATCH_INSERT);
	for (i = 0; i < json_array_size(uids); i++) {
		if ((rc = obj_find(&r->ctx, &node_class, json_string_value(
		    json_array_get(uids, i)), 0, &o)) != API_OK)
			goto fail;
		host[0] = '\0';
		if (kind == &job_power && power_host(r, &o, host,
		    sizeof(host)) != API_OK)
			host[0] = '\0';	/* the job fails with the reason */
		memset(&js, 0, sizeof(js));
		js.kind = kind;
		js.params = params;
		js.target = o.name;
		js.node_uid = o.uid;
		js.batch = bid;
		js.bmc_host = host[0] != '\0' ? host : NULL;
		js.head = kind == &job_exec ? r->conf->head_name : NULL;
		js.not_before = stagger > 0 ? now + stagger * (double)i : 0;
		rc = job_queue(r, &js, juid);
		objrow_free(&o);
		if (rc != API_OK)
			goto fail;
	}
	if ((drc = db_commit(r->ctx.db)) != DB_OK)
		return ctx_dbfail(&r->ctx, drc);
	jobd_wake(r->conf);
	r->data = json_string(buid);
	return API_OK;
fail:
	db_rollback(r->ctx.db);
	return rc;
}

/*
 * PUT /nodes/power_state {nodes|selector|group, "state", "force",
 * "steps", "stagger_ms"} and PUT /nodes/exec {nodes|selector|group,
 * "cmd", "stdin"} (the route's arg is the job kind): a batch; follow it
 * with GET /batch/<ID>.
 */
enum apierr
api_nodes_bulk(struct req *r)
{
	const struct jobkind	*kind = r->route->arg;
	json_t			*p, *uids = NULL;
	enum apierr		 rc;

	p = kind == &job_power ? power_params(r) : exec_params(r);
	if (p == NULL)
		return API_BAD_REQUEST;
	if ((rc = bulk_targets(r, &uids)) == API_OK)
		rc = bulk_queue(r, kind, p, uids);
	json_decref(uids);
	json_decref(p);
	return rc;
}

/*
 * Batch id (a UID) in the caller's scope: its row id in *bid and, when
 * out is not NULL, its description (new reference).
 */
enum apierr
batch_find(struct req *r, const char *id, long long *bid, json_t **out)
{
	char		*uid = NULL, *kind = NULL, *params = NULL, *by = NULL;
	char		 err[64];
	long long	 tid = 0, total = 0;
	double		 at = 0;
	enum dbrc	 drc;

	if (!uid_valid(id))
		return req_fail(r, API_NOT_FOUND, "No batch found for ID=%.32s", id);
	if ((drc = db_run(r->ctx.db, SQL_BATCH_GET, "s", id)) != DB_OK) {
		db_done(r->ctx.db, SQL_BATCH_GET);
		return ctx_dbfail(&r->ctx, drc);
	}
	drc = db_next(r->ctx.db, SQL_BATCH_GET, "isissisd", bid, &uid, &tid,
	    &kind, &params, &total, &by, &at);
	db_done(r->ctx.db, SQL_BATCH_GET);
	if (drc == DB_OK && r->ctx.scope.tenant != SCOPE_ALL &&
	    tid != r->ctx.scope.tenant)
		drc = DB_DONE;
	if (drc == DB_OK && out != NULL)
		*out = json_pack("{s:s, s:s, s:o?, s:I, s:s, s:f}", "uid", uid,
		    "kind", kind, "params", json_decode_strict(params,
		    strlen(params), err, sizeof(err)), "total", (json_int_t)total,
		    "created_by", by, "created_at", at);
	free(uid);
	free(kind);
	free(params);
	free(by);
	if (drc == DB_DONE)
		return req_fail(r, API_NOT_FOUND, "No batch found for ID=%.32s", id);
	return drc == DB_OK ? API_OK : ctx_dbfail(&r->ctx, drc);
}

/* One job of a batch, as SQL_BATCH_JOBS reads it. */
struct batchjob {
	char	*job, *node_uid, *node, *state, *result;
	double	 started, finished;
};

typedef void	(*batchjob_fn)(const struct batchjob *, void *);

/* Call fn with each job of batch bid, in order. */
static enum apierr
batch_jobs_each(struct req *r, long long bid, batchjob_fn fn, void *arg)
{
	struct batchjob	 b;
	enum dbrc	 drc;

	if ((drc = db_run(r->ctx.db, SQL_BATCH_JOBS, "i", bid)) == DB_OK)
		while ((drc = db_next(r->ctx.db, SQL_BATCH_JOBS, "sssssdd",
		    &b.job, &b.node_uid, &b.node, &b.state, &b.result,
		    &b.started, &b.finished)) == DB_OK) {
			fn(&b, arg);
			free(b.job);
			free(b.node_uid);
			free(b.node);
			free(b.state);
			free(b.result);
		}
	db_done(r->ctx.db, SQL_BATCH_JOBS);
	return drc == DB_DONE ? API_OK : ctx_dbfail(&r->ctx, drc);
}

/* What GET /batch/<ID> adds up. */
struct batchview {
	json_t		*nodes, *counts;
	long long	 open;
};

static void
batch_view_add(const struct batchjob *b, void *arg)
{
	struct batchview	*v = arg;
	/* claimed is running, as far as a reader can tell */
	const char		*state = strcmp(b->state, "claimed") == 0 ?
				    "running" : b->state;
	json_t			*res;
	char			 err[64];

	res = b->result != NULL ? json_decode_strict(b->result,
	    strlen(b->result), err, sizeof(err)) : NULL;
	json_object_set_new(v->counts, state, json_integer(
	    json_integer_value(json_object_get(v->counts, state)) + 1));
	if (!job_state_ended(state))
		v->open++;
	json_object_set_new(v->nodes, b->node != NULL ? b->node : b->job,
	    json_pack("{s:s, s:s?, s:s, s:O?, s:s?}", "job", b->job, "uid",
	    b->node_uid, "state", state, "result", json_object_get(res,
	    "error") == NULL ? res : NULL, "error", json_string_value(
	    json_object_get(res, "error"))));
	json_decref(res);
}

/*
 * GET /batch/:id: the batch, counts by state, "complete" once every job
 * has ended, and per node (by name) its job, state, result and error.
 */
enum apierr
api_batch_get(struct req *r)
{
	struct batchview	 v;
	long long		 bid;
	json_t			*b = NULL;
	enum apierr		 rc;

	if ((rc = batch_find(r, req_param(r, "id"), &bid, &b)) != API_OK)
		return rc;
	v.nodes = json_object();
	v.counts = json_pack("{s:i, s:i, s:i, s:i, s:i}", "queued", 0,
	    "running", 0, "done", 0, "failed", 0, "cancelled", 0);
	v.open = 0;
	if ((rc = batch_jobs_each(r, bid, batch_view_add, &v)) != API_OK) {
		json_decref(b);
		json_decref(v.nodes);
		json_decref(v.counts);
		return rc;
	}
	json_object_set_new(b, "counts", v.counts);
	json_object_set_new(b, "complete", json_boolean(v.open == 0));
	json_object_set_new(b, "nodes", v.nodes);
	r->data = b;
	return API_OK;
}

/* The job of one node in a batch: 1 ended, -1 not yet, 0 not there. */
struct batchfind {
	const char	*node_uid;
	char		 job[UID_LEN + 1];
	int		 found;
};

static void
batch_find_node(const struct batchjob *b, void *arg)
{
	struct batchfind	*f = arg;

	if (f->found != 0 || b->node_uid == NULL ||
	    strcmp(b->node_uid, f->node_uid) != 0)
		return;
	snprintf(f->job, sizeof(f->job), "%s", b->job);
	f->found = job_state_ended(b->state) ? 1 : -1;
}

/*
 * GET /batch/:id/output/:node: one node's exec output, exactly as
 * PUT /node/<ID>/exec would have answered it.
 */
enum apierr
api_batch_output(struct req *r)
{
	struct objrow		 o;
	struct batchfind	 f;
	char			 uri[96];
	long long		 bid;
	enum apierr		 rc;

	if ((rc = batch_find(r, req_param(r, "id"), &bid, NULL)) != API_OK)
		return rc;
	if ((rc = obj_find(&r->ctx, &node_class, req_param(r, "node"), 0, &o)) !=
	    API_OK)
		return rc;
	memset(&f, 0, sizeof(f));
	f.node_uid = o.uid;
	rc = batch_jobs_each(r, bid, batch_find_node, &f);
	if (rc == API_OK && f.found == 0)
		rc = req_fail(r, API_NOT_FOUND, "Node %s is not in batch %s",
		    o.name, req_param(r, "id"));
	else if (rc == API_OK && f.found == -1)
		rc = req_fail(r, API_CONFLICT, "The job of node %s has not "
		    "ended yet; see GET /batch/%s", o.name, req_param(r, "id"));
	else if (rc == API_OK) {
		snprintf(uri, sizeof(uri), "/api/v1/job/%s/result", f.job);
		resp_redirect(r, uri);
	}
	objrow_free(&o);
	return rc;
}
