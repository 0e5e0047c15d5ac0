/*
 * The tenant and tenancy endpoints (tenant-management, TAPMS and tenant
 * API documents; reference: "Tenancy Primitives").  The rules live in
 * tenant.c and tenancy.c; this file speaks HTTP.
 *
 * Tenants are the superadministrator's to create, change and delete; a
 * tenant's own admins may read their tenant and nothing else.  Tenancies
 * are the superadministrator's to make and fill; a tenant's admins read
 * their own.  A tenancy token reaches only /tenancy/members and
 * /tenancy/power/<mac>, for that tenancy's nodes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

static const struct field tenant_fields[] = {
	FIELD("name",          F_NAME,   0,          63,    "Starts with a letter; lowercase letters, digits, '-' (DNS-safe); cannot change"),
	FIELD("label",         F_TEXT,   0,          255,   "A name for people; may change"),
	FIELD("description",   F_TEXT,   0,          4096,  "A text string with descriptive information"),
	FIELD("customer",      F_TEXT,   0,          255,   "Whom the tenant is for"),
	FIELD("state",         F_STRING, F_READONLY, 0,     "New, Deploying, Deployed or Deleting (as TAPMS reports them)"),
	FIELD("max_tenancies", F_ANY,    0,          0,     "At most this many tenancies; null: no limit"),
	FIELD("max_nodes",     F_ANY,    0,          0,     "At most this many nodes; null: no limit"),
	FIELD("workers",       F_INT,    0,          4096,  "How many of its jobs run at once; taken from the cluster's pool (default 1)"),
	FIELD("hooks",         F_ANY,    0,          0,     "Webhooks: [{name, url, blockingcall, eventtypes: [CREATE|UPDATE|DELETE], timeout, secret}]"),
	FIELD("kms",           F_OBJECT, 0,          0,     "{enablekms, keyname, keytype (aes256-gcm96, rsa-2048/3072/4096)}; status shows the key made"),
	FIELD("bootstrap",     F_BOOL,   0,          0,     "On create: copy the management tenant's groups, boot configs, images, pools, networks and dynamic groups"),
	FIELD("created_at",    F_STRING, F_READONLY, 0,     "When it was created (ISO 8601)"),
};

static const struct field tenancy_newtoken_fields[] = {
	FIELD("lifetime", F_INT, 0, 0, "Seconds the token lasts ([tenants] token_ttl by default)"),
};
const struct bodyspec b_tenancy_newtoken = FIELDS(tenancy_newtoken_fields);

static const struct field tenancy_revoke_fields[] = {
	FIELD("jti", F_STRING, 0, UID_LEN, "The token to revoke; no body: all of them"),
};
const struct bodyspec b_tenancy_revoke = FIELDS(tenancy_revoke_fields);

/* Tenant jobs are queued only by the tenant endpoints (run_tenant.c). */
const struct jobkind job_tenant = { "tenant", 0, NULL };

/* {"mac": ...}, a key the reference repeats: decoded by nodes_body_macs. */
const struct bodyspec b_mac_list = { .fields = NULL, .nfields = 0, .any = 1, .raw = 1 };

/* Only for the body check and /tenants/meta: tenants are not objects. */
const struct objclass tenant_class = {
	.name = "tenant", .plural = "tenants", .label = "tenant",
	.spec = FIELDS(tenant_fields),
};

/*
 * The tenant :id as the caller may see it: its own, or any for the
 * superadministrator; another tenant's is a 404 exactly like a missing
 * one.
 */
static enum apierr
tenant_param(struct req *r, struct tenant *t)
{
	enum apierr	 rc;
	char		 echo[80];

	if ((rc = tenant_load(&r->ctx, req_param(r, "id"), t)) != API_OK)
		return rc;
	if (!r->who.super && t->id != r->who.tok.tid) {
		tenant_free(t);
		snprintf(echo, sizeof(echo), "%.64s", req_param(r, "id"));
		utf8_clean(echo);
		return req_fail(r, API_NOT_FOUND, "No tenant found for ID=%s",
		    echo);
	}
	return API_OK;
}

/* Queue the tenant job op ("deploy" or "delete") for t; its UID into uid. */
static enum apierr
tenant_job(struct req *r, const struct tenant *t, const char *op,
    char uid[UID_LEN + 1])
{
	struct jobspec	 js;
	json_t		*params;
	enum apierr	 rc;

	memset(&js, 0, sizeof(js));
	params = json_pack("{s:s, s:s}", "op", op, "tenant", t->uid);
	js.kind = &job_tenant;
	js.params = params;
	js.target = t->name;
	rc = job_queue(r, &js, uid);
	json_decref(params);
	return rc;
}

/* GET /tenants: the pool's workers and every tenant, keyed by UID. */
enum apierr
api_tenants_list(struct req *r)
{
	struct tenant	 t;
	json_t		*all, *workers, *uids;
	char		*uid, *name;
	long long	 id;
	size_t		 i;
	enum apierr	 rc;
	enum dbrc	 drc;

	if ((rc = tenant_workers_json(&r->ctx, 0, &workers)) != API_OK)
		return rc;
	/* The UIDs first: tenant_json reads more while rendering each. */
	uids = json_array();
	if ((drc = db_run(r->ctx.db, SQL_TENANT_ALL, "")) == DB_OK)
		while ((drc = db_next(r->ctx.db, SQL_TENANT_ALL, "iss", &id, &uid,
		    &name)) == DB_OK) {
			json_array_append_new(uids, json_string(uid));
			free(uid);
			free(name);
		}
	db_done(r->ctx.db, SQL_TENANT_ALL);
	if (drc != DB_DONE) {
		json_decref(uids);
		json_decref(workers);
		return ctx_dbfail(&r->ctx, drc);
	}
	all = json_object();
	for (i = 0; i < json_array_size(uids); i++) {
		if ((rc = tenant_load(&r->ctx, json_string_value(json_array_get(
		    uids, i)), &t)) == API_NOT_FOUND)
			continue;	/* deleted meanwhile */
		if (rc != API_OK)
			break;
		json_object_set_new(all, t.uid, tenant_json(&r->ctx, &t));
		tenant_free(&t);
	}
	json_decref(uids);
	if (rc != API_OK && rc != API_NOT_FOUND) {
		json_decref(all);
		json_decref(workers);
		return rc;
	}
	r->data = json_pack("{s:o, s:o}", "workers", workers, "tenants", all);
	return API_OK;
}

/*
 * The blocking hooks' word on a change of tenant uid (NULL: not made
 * yet) whose hooks will be hooks (client's, NULL: stored) and whose
 * document will be doc (api_hook.c's hook_gate).  A client's hooks are
 * checked and sealed on a copy first, bound to the pending tenant, so the
 * gate can sign with their secrets.
 */
static enum apierr
tenant_gate(struct req *r, const char *uid, const json_t *stored,
    const json_t *sent, const char *event, json_t *doc, int *passed)
{
	json_t		*hooks = NULL;
	enum apierr	 rc;

	if (sent != NULL) {
		hooks = json_deep_copy(sent);
		if ((rc = hooks_check(&r->ctx, hooks, stored, uid != NULL ? uid :
		    "pending")) != API_OK) {
			json_decref(hooks);
			return rc;
		}
		json_object_set(doc, "hooks", hooks);
	}
	rc = hook_gate(r, uid != NULL ? uid : "pending", hooks != NULL ? hooks :
	    stored, event, doc, passed);
	json_decref(hooks);
	return rc;
}

/* After a change: the non-blocking hooks are told (jobs; never waited for). */
static void
tenant_notify(struct req *r, const struct tenant *t, const char *event)
{
	struct tenant	 now;
	json_t		*doc = NULL;

	/* As stored: what create and change leave in t is not all of it. */
	memset(&now, 0, sizeof(now));
	if (tenant_load_id(&r->ctx, t->id, &now) == API_OK) {
		doc = tenant_json(&r->ctx, &now);
		json_object_set_new(doc, "tenantresources",
		    tenant_resources(&r->ctx, &now));
	}
	if (doc == NULL || hook_notify(&r->ctx, t->id, t->uid, t->hooks, event,
	    doc) != API_OK)
		log_warn("tenant %s: %s hooks not queued: %s", t->name, event,
		    r->ctx.reason);
	json_decref(doc);
	tenant_free(&now);
}

/*
 * Tell tenant tid's hooks (UPDATE) that its tenancies or their nodes
 * changed; the management tenant's own moves (Available, Quarantine) are
 * not a tenant's change.
 */
void
tenant_notify_id(struct req *r, long long tid, const char *event)
{
	struct tenant	 t;

	if (tid == tenant_mgmt_id(&r->ctx) ||
	    tenant_load_id(&r->ctx, tid, &t) != API_OK) {
		r->ctx.reason[0] = '\0';
		return;
	}
	tenant_notify(r, &t, event);
	tenant_free(&t);
}

/* POST /tenants: create (state New); corral-jobd carries it to Deployed. */
enum apierr
api_tenant_post(struct req *r)
{
	struct tenant	 t;
	char		 job[UID_LEN + 1];
	json_t		*doc;
	int		 passed;
	enum apierr	 rc;

	doc = json_deep_copy(r->json);
	json_object_set_new(doc, "state", json_string("New"));
	rc = tenant_gate(r, NULL, NULL, json_object_get(r->json, "hooks"),
	    "CREATE", doc, &passed);
	json_decref(doc);
	if (rc != API_OK || !passed)
		return rc;
	if ((rc = tenant_create(&r->ctx, r->json, &t)) == API_OK &&
	    (rc = tenant_job(r, &t, "deploy", job)) == API_OK) {
		jobd_wake(r->conf);
		r->data = json_string(t.uid);
		tenant_notify(r, &t, "CREATE");
	}
	tenant_free(&t);
	return rc;
}

/* GET /tenant/:id */
enum apierr
api_tenant_get(struct req *r)
{
	struct tenant	 t;
	enum apierr	 rc;

	if ((rc = tenant_param(r, &t)) != API_OK)
		return rc;
	r->data = tenant_json(&r->ctx, &t);
	tenant_free(&t);
	return API_OK;
}

/* PATCH and PUT /tenant/:id (route arg: how). */
enum apierr
api_tenant_change(struct req *r)
{
	struct tenant	 t;
	json_t		*doc;
	int		 passed;
	enum apierr	 rc;

	if ((rc = tenant_param(r, &t)) != API_OK)
		return rc;
	doc = tenant_json(&r->ctx, &t);
	json_object_update(doc, r->json);
	rc = tenant_gate(r, t.uid, t.hooks, json_object_get(r->json, "hooks"),
	    "UPDATE", doc, &passed);
	json_decref(doc);
	if (rc != API_OK || !passed) {
		tenant_free(&t);
		return rc;
	}
	if ((rc = tenant_change(&r->ctx, &t, r->json,
	    *(const enum how *)r->route->arg)) == API_OK) {
		r->data = tenant_json(&r->ctx, &t);
		tenant_notify(r, &t, "UPDATE");
	}
	tenant_free(&t);
	return rc;
}

/*
 * DELETE /tenant/:id: answered at once (state Deleting); corral-jobd
 * tears its tenancies down and removes everything of it.
 */
enum apierr
api_tenant_delete(struct req *r)
{
	struct tenant	 t;
	char		 job[UID_LEN + 1];
	json_t		*doc;
	int		 passed = 0;
	enum apierr	 rc;

	if ((rc = tenant_param(r, &t)) != API_OK)
		return rc;
	doc = tenant_json(&r->ctx, &t);
	if ((rc = tenant_may_delete(&r->ctx, &t)) == API_OK)
		rc = tenant_gate(r, t.uid, t.hooks, NULL, "DELETE", doc, &passed);
	json_decref(doc);
	if (rc != API_OK || !passed) {
		tenant_free(&t);
		return rc;
	}
	if ((rc = tenant_set_state(&r->ctx, t.id, "Deleting")) == API_OK &&
	    (rc = tenant_job(r, &t, "delete", job)) == API_OK) {
		jobd_wake(r->conf);
		r->data = json_pack("{s:s, s:s, s:s}", "uid", t.uid, "state",
		    "Deleting", "job", job);
		tenant_notify(r, &t, "DELETE");
	}
	tenant_free(&t);
	return rc;
}

/* ------------------------------------------------------------ tenancies */

/* The tenancy :id in the caller's scope (trailing slash already gone). */
static enum apierr
tenancy_param(struct req *r, struct objrow *o)
{
	return obj_find(&r->ctx, &tenancy_class, req_param(r, "id"), 0, o);
}

/* GET /tenancies: the UIDs of the tenancies the caller may see. */
enum apierr
api_tenancies_list(struct req *r)
{
	json_t		*all;
	const char	*k;
	json_t		*v;
	enum apierr	 rc;

	if ((rc = obj_list(&r->ctx, &tenancy_class, &all)) != API_OK)
		return rc;
	r->data = json_array();
	json_object_foreach(all, k, v)
		json_array_append_new(r->data, json_string(k));
	json_decref(all);
	return API_OK;
}

/* GET /tenancy/:id: the reference's example, nodes by name. */
enum apierr
api_tenancy_get(struct req *r)
{
	struct objrow	 o;
	enum apierr	 rc;

	if ((rc = tenancy_param(r, &o)) != API_OK)
		return rc;
	rc = tenancy_render(&r->ctx, &o, &r->data);
	objrow_free(&o);
	return rc;
}

/*
 * The MACs of a nodes body: {"mac": "..."}, {"mac": [...]}, or the
 * reference's {"mac": "...", "mac": "..."} (decoded by hand, since the
 * strict decoder refuses a repeated key).  New reference, or NULL with
 * the 400 set.
 */
static json_t *
nodes_body_macs(struct req *r)
{
	json_t		*macs, *v, *e;
	char		 mac[18], err[160];
	size_t		 i;

	snprintf(err, sizeof(err), "Send {\"mac\": \"<MAC>\"}");
	if (r->body == NULL || (macs = json_repeated_key(r->body, r->bodylen,
	    "mac", err, sizeof(err))) == NULL) {
		req_fail(r, API_BAD_REQUEST, "%s", err);
		return NULL;
	}
	v = macs;
	macs = json_array();
	json_array_foreach(v, i, e) {
		if (json_is_array(e) && json_array_size(v) == 1) {
			json_decref(macs);
			macs = json_deep_copy(e);
			break;
		}
		json_array_append(macs, e);
	}
	json_decref(v);
	if (json_array_size(macs) == 0 || json_array_size(macs) > 10000) {
		json_decref(macs);
		req_fail(r, API_BAD_REQUEST, "Send {\"mac\": \"<MAC>\"} or "
		    "{\"mac\": [\"<MAC>\", ...]} (1 to 10000)");
		return NULL;
	}
	json_array_foreach(macs, i, e)
		if (!json_is_string(e) || mac_normalize(json_string_value(e),
		    mac) == -1) {
			json_decref(macs);
			req_fail(r, API_BAD_REQUEST, "Field mac: entry %zu is not "
			    "a MAC address", i);
			return NULL;
		} else
			json_array_set_new(macs, i, json_string(mac));
	return macs;
}

/*
 * POST and DELETE /tenancy/:id/nodes (route arg: 1 for DELETE): move
 * nodes in or out, all or none; answered in the reference's nested shape.
 */
enum apierr
api_tenancy_nodes(struct req *r)
{
	struct objrow	 o;
	json_t		*macs, *done = NULL, *off;
	enum apierr	 rc;

	if ((rc = tenancy_param(r, &o)) != API_OK)
		return rc;
	if ((macs = nodes_body_macs(r)) == NULL) {
		objrow_free(&o);
		return API_BAD_REQUEST;
	}
	off = json_array();
	rc = tenancy_move(&r->ctx, &o, macs, *(const int *)r->route->arg, off,
	    &done);
	if (rc == API_OK) {
		(void)tenancy_poweroff_queue(&r->ctx, off);
		r->data = json_pack("{s:b, s:o}", "success", 1, "data", done);
		tenant_notify_id(r, o.tenant_id, "UPDATE");
	}
	json_decref(off);
	json_decref(macs);
	objrow_free(&o);
	return rc;
}

/*
 * DELETE /tenancy/teardown/:id: every node to Quarantine (wiped, powered
 * off), the tenancy deleted with its ids and tokens.
 */
enum apierr
api_tenancy_teardown(struct req *r)
{
	struct objrow	 o;
	json_t		*off;
	enum apierr	 rc;
	enum dbrc	 drc;

	if ((rc = tenancy_param(r, &o)) != API_OK)
		return rc;
	off = json_array();
	if ((drc = db_begin(r->ctx.db)) != DB_OK)
		rc = ctx_dbfail(&r->ctx, drc);
	else if ((rc = tenancy_empty(&r->ctx, o.uid, off)) == API_OK &&
	    (drc = db_commit(r->ctx.db)) != DB_OK)
		rc = ctx_dbfail(&r->ctx, drc);
	db_rollback(r->ctx.db);
	ctx_clear(&r->ctx);
	if (rc == API_OK) {
		(void)tenancy_poweroff_queue(&r->ctx, off);
		r->data = json_pack("{s:s, s:I}", "uid", o.uid, "nodes",
		    (json_int_t)json_array_size(off));
		tenant_notify_id(r, o.tenant_id, "UPDATE");
	}
	json_decref(off);
	objrow_free(&o);
	return rc;
}

/* POST /tenancy/:id/newtoken: a tenancy token ({"lifetime": s} optional). */
enum apierr
api_tenancy_newtoken(struct req *r)
{
	struct objrow	 o;
	json_t		*v;
	char		*tok = NULL, jti[UID_LEN + 1];
	long long	 ttl = r->conf->tenants_token_ttl, exp;
	enum apierr	 rc;

	if ((v = json_object_get(r->json, "lifetime")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 60 ||
		    json_integer_value(v) > 86400LL * 3660)
			return req_fail(r, API_BAD_REQUEST, "Field lifetime must "
			    "be a whole number of seconds from 60 to 316224000");
		ttl = json_integer_value(v);
	}
	if ((rc = tenancy_param(r, &o)) != API_OK)
		return rc;
	if ((rc = tenancy_token_new(&r->ctx, r->key, &o, ttl, r->who.tok.name,
	    &tok, jti, &exp)) == API_OK)
		r->data = json_pack("{s:s, s:s, s:I, s:s}", "token", tok, "jti",
		    jti, "expires_at", (json_int_t)exp, "tenancy", o.name);
	free(tok);
	objrow_free(&o);
	return rc;
}

/* GET /tenancy/:id/tokens */
enum apierr
api_tenancy_tokens(struct req *r)
{
	struct objrow	 o;
	enum apierr	 rc;

	if ((rc = tenancy_param(r, &o)) != API_OK)
		return rc;
	rc = tenancy_tokens(&r->ctx, &o, &r->data);
	objrow_free(&o);
	return rc;
}

/* DELETE /tenancy/:id/tokens: {"jti": ...} revokes one, no body all. */
enum apierr
api_tenancy_tokens_revoke(struct req *r)
{
	struct objrow	 o;
	const char	*jti = json_string_value(json_object_get(r->json, "jti"));
	long long	 n = 0;
	enum apierr	 rc;

	if (r->json != NULL && (jti == NULL || !uid_valid(jti)))
		return req_fail(r, API_BAD_REQUEST, "Field jti must be a token "
		    "id (32 hex digits)");
	if ((rc = tenancy_param(r, &o)) != API_OK)
		return rc;
	if ((rc = tenancy_tokens_revoke(&r->ctx, &o, jti, &n)) == API_OK) {
		if (jti != NULL && n == 0)
			rc = req_fail(r, API_NOT_FOUND, "No live token %s of "
			    "tenancy %s", jti, o.name);
		else
			r->data = json_pack("{s:I}", "revoked", (json_int_t)n);
	}
	objrow_free(&o);
	return rc;
}

/* --------------------------------------------------- with a tenancy token */

/* GET /tenancy/members: the token's tenancy's nodes. */
enum apierr
api_tenancy_members(struct req *r)
{
	struct objrow	 o;
	enum apierr	 rc;

	if ((rc = obj_find(&r->ctx, &tenancy_class, r->who.tok.sub, 0, &o)) !=
	    API_OK)
		return req_fail(r, API_UNAUTHORIZED, "The token's tenancy is gone");
	rc = tenancy_members(&r->ctx, &o, &r->data);
	objrow_free(&o);
	return rc;
}

/*
 * GET and POST /tenancy/power/:id: the power of one of the token's
 * tenancy's nodes, by MAC, through the same path as
 * GET/PUT /node/<ID>/power_state.  A MAC outside the tenancy is a 404.
 */
enum apierr
api_tenancy_power(struct req *r)
{
	struct objrow	 o;
	json_t		*members = NULL;
	char		 mac[18];
	const char	*k;
	json_t		*v;
	int		 found = 0;
	enum apierr	 rc;

	if (mac_normalize(req_param(r, "id"), mac) == -1)
		return req_fail(r, API_NOT_FOUND, "No node found for MAC=%.32s",
		    req_param(r, "id"));
	if ((rc = obj_find(&r->ctx, &tenancy_class, r->who.tok.sub, 0, &o)) !=
	    API_OK)
		return req_fail(r, API_UNAUTHORIZED, "The token's tenancy is gone");
	rc = tenancy_members(&r->ctx, &o, &members);
	objrow_free(&o);
	if (rc != API_OK)
		return rc;
	json_object_foreach(members, k, v)
		if (json_is_string(json_object_get(v, "mac")) &&
		    strcmp(json_string_value(json_object_get(v, "mac")), mac) == 0)
			found = 1;
	json_decref(members);
	if (!found)
		return req_fail(r, API_NOT_FOUND, "No node found for MAC=%s", mac);
	/*
	 * The node power handlers find their node by the :id capture; the
	 * request owns it, so it is replaced, not aliased.  The scope is
	 * already the tenancy's tenant, as an operator.
	 */
	free(r->params[0]);
	r->params[0] = xstrdup(mac);
	return r->method == M_POST ? api_node_power_put(r) : api_node_power_get(r);
}
