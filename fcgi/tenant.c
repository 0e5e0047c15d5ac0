/*
 * Tenants as the superadministrator manages them (the tenant-management,
 * TAPMS and tenant API documents, DESIGN §3): their settings and limits,
 * the cluster's pool of workers they share, and their life:
 *
 *   POST  -> New --(jobd: bootstrap, key)--> Deploying --> Deployed
 *   DELETE -> Deleting --(jobd: tenancies torn down, objects, admins,
 *             queued jobs and key gone)--> no row at all
 *
 * The API (api_tenant.c) checks and records a change; corral-jobd
 * (run_tenant.c) does the slow parts with the functions here, so both
 * use one set of rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extern.h"

#define TENANT_LIMIT_MAX	1000000

/* Key types corral makes (crypto_tenant_key). */
static const char *const kms_keytypes[] = {
	"aes256-gcm96", "rsa-2048", "rsa-3072", "rsa-4096", NULL
};

/* Release what tenant_load filled. */
void
tenant_free(struct tenant *t)
{
	free(t->name);
	free(t->label);
	free(t->description);
	free(t->customer);
	free(t->state);
	free(t->last_modified_on);
	free(t->last_modified_by);
	json_decref(t->hooks);
	json_decref(t->kms);
	memset(t, 0, sizeof(*t));
}

/* A nullable limit column, as text, into a number (-1: none). */
static long long
limit_of(const char *text)
{
	const char	*errstr;
	long long	 v;

	if (text == NULL)
		return -1;
	v = num_parse(text, 0, TENANT_LIMIT_MAX, &errstr);
	return errstr != NULL ? -1 : v;
}

/* One TENANT_COLS row of statement q into t. */
static enum dbrc
tenant_row(struct ctx *c, enum sql q, struct tenant *t)
{
	char		*uid = NULL, *maxt = NULL, *maxn = NULL, *hooks = NULL,
			*kms = NULL;
	long long	 boot = 0;
	enum dbrc	 rc;

	memset(t, 0, sizeof(*t));
	rc = db_next(c->db, q, "issssssissssididss", &t->id, &uid, &t->name,
	    &t->label, &t->description, &t->customer, &t->state, &t->workers,
	    &maxt, &maxn, &hooks, &kms, &boot, &t->created_at, &t->version,
	    &t->last_modified, &t->last_modified_on, &t->last_modified_by);
	if (rc == DB_OK) {
		snprintf(t->uid, sizeof(t->uid), "%s", uid != NULL ? uid : "");
		t->max_tenancies = limit_of(maxt);
		t->max_nodes = limit_of(maxn);
		t->bootstrap = boot != 0;
		t->hooks = hooks == NULL ? NULL : json_loads(hooks, 0, NULL);
		t->kms = kms == NULL ? NULL : json_loads(kms, 0, NULL);
		if (!json_is_array(t->hooks)) {
			json_decref(t->hooks);
			t->hooks = json_array();
		}
		if (!json_is_object(t->kms)) {
			json_decref(t->kms);
			t->kms = json_object();
		}
	}
	free(uid);
	free(maxt);
	free(maxn);
	free(hooks);
	free(kms);
	return rc;
}

/*
 * The tenant with UID or name id into *t (tenant_free it).  404 with the
 * reference's wording when there is none.
 */
enum apierr
tenant_load(struct ctx *c, const char *id, struct tenant *t)
{
	char		 echo[80];
	enum dbrc	 rc;

	memset(t, 0, sizeof(*t));
	if ((rc = db_run(c->db, SQL_TENANT_GET, "ss", id, id)) != DB_OK)
		return ctx_dbfail(c, rc);
	rc = tenant_row(c, SQL_TENANT_GET, t);
	db_done(c->db, SQL_TENANT_GET);
	if (rc == DB_DONE) {
		snprintf(echo, sizeof(echo), "%.64s", id);
		utf8_clean(echo);
		return ctx_fail(c, API_NOT_FOUND, "No tenant found for ID=%s",
		    echo);
	}
	return rc == DB_OK ? API_OK : ctx_dbfail(c, rc);
}

/* The tenant with id tid into *t (tenant_free it); 404 when gone. */
enum apierr
tenant_load_id(struct ctx *c, long long tid, struct tenant *t)
{
	char		*uid = NULL, *name = NULL;
	long long	 id;
	enum dbrc	 rc;
	enum apierr	 arc;

	memset(t, 0, sizeof(*t));
	if ((rc = db_run(c->db, SQL_TENANT_BY_ID, "i", tid)) != DB_OK)
		return ctx_dbfail(c, rc);
	rc = db_next(c->db, SQL_TENANT_BY_ID, "iss", &id, &uid, &name);
	db_done(c->db, SQL_TENANT_BY_ID);
	if (rc == DB_DONE)
		arc = ctx_fail(c, API_NOT_FOUND, "No such tenant");
	else if (rc != DB_OK)
		arc = ctx_dbfail(c, rc);
	else
		arc = tenant_load(c, uid, t);
	free(uid);
	free(name);
	return arc;
}

/* The management tenant's id, looked up once per process (0 on failure). */
long long
tenant_mgmt_id(struct ctx *c)
{
	static long long	 id;
	enum apierr		 rc;

	if (id == 0)
		id = tenant_lookup(c, MGMT_TENANT, &rc);
	return id;
}

/*
 * Tenant tid's state ("Deployed", "Deleting", ...) into state, "" when it
 * does not exist: for the token check of every request, so through the
 * head's read cache.  API_OK or the database's failure.
 */
enum apierr
tenant_state(struct ctx *c, long long tid, char *state, size_t sz)
{
	struct cachefill fill = { 0, 0 };
	char		*st = NULL;
	enum dbrc	 rc;

	if (cache_tenant_get(tid, state, sz, &fill) == CACHE_HIT)
		return API_OK;
	if ((rc = db_run(c->db, SQL_TENANT_STATE_OF, "i", tid)) != DB_OK)
		return ctx_dbfail(c, rc);
	rc = db_next(c->db, SQL_TENANT_STATE_OF, "s", &st);
	db_done(c->db, SQL_TENANT_STATE_OF);
	if (rc != DB_OK && rc != DB_DONE)
		return ctx_dbfail(c, rc);
	snprintf(state, sz, "%s", rc == DB_OK && st != NULL ? st : "");
	free(st);
	/* A missing tenant is not stored: its creation would not be seen. */
	if (*state != '\0')
		cache_tenant_store(&fill, tid, state);
	return API_OK;
}

/* The workers tenants share: [tenants] worker_pool, else jobd's slots. */
long long
tenant_pool_size(const struct conf *conf)
{
	return conf->tenants_worker_pool > 0 ? conf->tenants_worker_pool :
	    conf->jobd_workers;
}

/* Tenant tid's tenancies and nodes now. */
enum apierr
tenant_usage(struct ctx *c, long long tid, long long *tenancies,
    long long *nodes)
{
	enum dbrc	 rc;

	*tenancies = *nodes = 0;
	if ((rc = db_run(c->db, SQL_TENANT_USAGE, "ii", tid, tid)) != DB_OK)
		return ctx_dbfail(c, rc);
	rc = db_next(c->db, SQL_TENANT_USAGE, "ii", tenancies, nodes);
	db_done(c->db, SQL_TENANT_USAGE);
	return rc == DB_OK ? API_OK : ctx_dbfail(c, rc);
}

/*
 * The pool's numbers as GET /tenants shows them (new reference): total,
 * assigned, available, and the jobs in progress and queued of tenant tid
 * (0: of every tenant).
 */
enum apierr
tenant_workers_json(struct ctx *c, long long tid, json_t **out)
{
	long long	 assigned = 0, running = 0, queued = 0, total;
	enum dbrc	 rc;

	*out = NULL;
	total = tenant_pool_size(c->conf);
	if ((rc = db_run(c->db, SQL_TENANT_POOL, "")) != DB_OK ||
	    (rc = db_next(c->db, SQL_TENANT_POOL, "i", &assigned)) != DB_OK) {
		db_done(c->db, SQL_TENANT_POOL);
		return ctx_dbfail(c, rc);
	}
	db_done(c->db, SQL_TENANT_POOL);
	if ((rc = db_run(c->db, SQL_TENANT_JOBCOUNT, "ii", tid, tid)) != DB_OK ||
	    (rc = db_next(c->db, SQL_TENANT_JOBCOUNT, "ii", &running,
	    &queued)) != DB_OK) {
		db_done(c->db, SQL_TENANT_JOBCOUNT);
		return ctx_dbfail(c, rc);
	}
	db_done(c->db, SQL_TENANT_JOBCOUNT);
	*out = json_pack("{s:I, s:I, s:I, s:I, s:I}", "total", (json_int_t)total,
	    "assigned", (json_int_t)assigned, "available",
	    (json_int_t)(total > assigned ? total - assigned : 0),
	    "in_progress", (json_int_t)running, "queued", (json_int_t)queued);
	return API_OK;
}

/* created_at as the tenant API document shows it: ISO 8601, UTC. */
static json_t *
iso_time(double at)
{
	char		 buf[64];
	struct tm	 tm;
	time_t		 s = (time_t)at;

	gmtime_r(&s, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ld+00:00",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (long)((at - (double)s) * 1e6));
	return json_string(buf);
}

/* A limit for output: null when there is none. */
static json_t *
limit_json(long long v)
{
	return v < 0 ? json_null() : json_integer(v);
}

/*
 * Tenant t as the API shows it (new reference): its settings, state,
 * tenancies (names) and node count; hook secrets masked.
 */
json_t *
tenant_json(struct ctx *c, const struct tenant *t)
{
	json_t		*out, *names;
	long long	 tenancies = 0, nodes = 0;
	struct objrow	 o;
	enum dbrc	 rc;

	names = json_array();
	if (db_run(c->db, SQL_TENANT_OBJS_OF, "si", "tenancy", t->id) == DB_OK) {
		while ((rc = obj_row_next(c, SQL_TENANT_OBJS_OF, &o)) == DB_OK) {
			json_array_append_new(names, json_string(o.name));
			objrow_free(&o);
		}
	}
	db_done(c->db, SQL_TENANT_OBJS_OF);
	(void)tenant_usage(c, t->id, &tenancies, &nodes);
	out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:o, s:O, "
	    "s:b, s:o, s:o, s:I, s:f, s:s, s:s, s:s}",
	    "name", t->name, "label", t->label, "description", t->description,
	    "customer", t->customer, "state", t->state,
	    "max_tenancies", limit_json(t->max_tenancies),
	    "max_nodes", limit_json(t->max_nodes),
	    "workers", (json_int_t)t->workers,
	    "hooks", hooks_render(t->hooks),
	    "kms", t->kms,
	    "active", strcmp(t->state, "Deleting") != 0,
	    "created_at", iso_time(t->created_at),
	    "tenancies", names,
	    "node_count", (json_int_t)nodes,
	    "last_modified", t->last_modified,
	    "last_modified_on", t->last_modified_on,
	    "last_modified_by", t->last_modified_by,
	    "uid", t->uid);
	return out;
}

/*
 * Check a limit field of body (absent: keep *v; null: no limit; else a
 * whole number 0..TENANT_LIMIT_MAX).
 */
static enum apierr
limit_take(struct ctx *c, const json_t *body, const char *k, long long *v)
{
	json_t	*j = json_object_get(body, k);

	if (j == NULL)
		return API_OK;
	if (json_is_null(j)) {
		*v = -1;
		return API_OK;
	}
	if (!json_is_integer(j) || json_integer_value(j) < 0 ||
	    json_integer_value(j) > TENANT_LIMIT_MAX)
		return ctx_fail(c, API_BAD_REQUEST, "Field %s must be null (no "
		    "limit) or a whole number from 0 to %d", k,
		    TENANT_LIMIT_MAX);
	*v = json_integer_value(j);
	return API_OK;
}

/*
 * The kms field: {"enablekms": bool, "keyname": name, "keytype": one of
 * kms_keytypes}, unknown keys refused.  Once a key exists its name and
 * type cannot change (the key would not be the one named).
 */
static enum apierr
kms_check(struct ctx *c, const json_t *kms, const json_t *stored)
{
	const char	*k, *s;
	json_t		*v;
	size_t		 i;

	if (!json_is_object(kms))
		return ctx_fail(c, API_BAD_REQUEST, "Field kms must be an object "
		    "with enablekms, keyname and keytype");
	json_object_foreach((json_t *)(uintptr_t)kms, k, v) {
		if (strcmp(k, "enablekms") == 0) {
			if (!json_is_boolean(v))
				return ctx_fail(c, API_BAD_REQUEST, "Field "
				    "kms.enablekms must be true or false");
		} else if (strcmp(k, "keyname") == 0) {
			if (!json_is_string(v) || !valid_name(json_string_value(v)))
				return ctx_fail(c, API_BAD_REQUEST, "Field "
				    "kms.keyname must be a name (letters, digits, "
				    "'-', '_', '.')");
		} else if (strcmp(k, "keytype") == 0) {
			s = json_string_value(v);
			for (i = 0; s != NULL && kms_keytypes[i] != NULL; i++)
				if (strcmp(s, kms_keytypes[i]) == 0)
					break;
			if (s == NULL || kms_keytypes[i] == NULL)
				return ctx_fail(c, API_BAD_REQUEST, "Field "
				    "kms.keytype must be aes256-gcm96, rsa-2048, "
				    "rsa-3072 or rsa-4096");
		} else if (strcmp(k, "status") != 0)
			return ctx_fail(c, API_BAD_REQUEST, "Unhandled parameter(s): "
			    "kms.%.64s", k);
	}
	if ((v = json_object_get(stored, "status")) != NULL && json_is_object(v))
		for (i = 0; i < 2; i++) {
			k = i == 0 ? "keyname" : "keytype";
			s = json_string_value(json_object_get(kms, k));
			if (s != NULL && strcmp(s, json_string_value(
			    json_object_get(v, k)) ? json_string_value(
			    json_object_get(v, k)) : "") != 0)
				return ctx_fail(c, API_CONFLICT, "The tenant's key "
				    "exists; kms.%s cannot change", k);
		}
	return API_OK;
}

/* Whether name is a tenant name: a letter, then letters, digits, '-'; DNS-safe. */
static int
tenant_name_ok(const char *name)
{
	size_t	 i, len = strlen(name);

	if (len == 0 || len > 63 || !(name[0] >= 'a' && name[0] <= 'z') ||
	    name[len - 1] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
			return 0;
	return 1;
}

/* The workers the other tenants hold (t: NULL on create). */
static enum apierr
pool_others(struct ctx *c, const struct tenant *t, long long *others)
{
	enum dbrc	 rc;

	*others = 0;
	if ((rc = db_run(c->db, SQL_TENANT_POOL, "")) != DB_OK ||
	    (rc = db_next(c->db, SQL_TENANT_POOL, "i", others)) != DB_OK) {
		db_done(c->db, SQL_TENANT_POOL);
		return ctx_dbfail(c, rc);
	}
	db_done(c->db, SQL_TENANT_POOL);
	if (t != NULL)
		*others -= t->workers;
	return API_OK;
}

/*
 * Apply body (checked against the route's field table) to t, a stored
 * tenant or (t->id == 0) a new one, in the caller's transaction, which
 * holds the management tenant's row (the pool's lock): every rule of the
 * tenant-management document, each refusal naming its rule.  how is
 * HOW_CREATE, HOW_PATCH or HOW_REPLACE.
 */
static enum apierr
tenant_apply(struct ctx *c, struct tenant *t, const json_t *body, enum how how)
{
	const char	*s;
	json_t		*v, *hooks = NULL;
	long long	 others, tenancies, nodes, pool;
	enum apierr	 rc;
	static const char *const texts[] = { "label", "description", "customer" };
	char		**dst[3];
	size_t		 i;

	dst[0] = &t->label;
	dst[1] = &t->description;
	dst[2] = &t->customer;
	if ((v = json_object_get(body, "name")) != NULL) {
		s = json_string_value(v);
		if (how == HOW_CREATE) {
			if (!tenant_name_ok(s))
				return ctx_fail(c, API_BAD_REQUEST, "Field name: "
				    "a tenant name starts with a letter and holds "
				    "only lowercase letters, digits and '-' (at "
				    "most 63, DNS-safe)");
			free(t->name);
			t->name = xstrdup(s);
		} else if (strcmp(s, t->name) != 0)
			return ctx_fail(c, API_BAD_REQUEST, "Field name: a "
			    "tenant's name cannot change; change its label");
	} else if (how == HOW_CREATE)
		return ctx_fail(c, API_BAD_REQUEST, "Missing required field: name");
	if (json_object_get(body, "bootstrap") != NULL && how != HOW_CREATE)
		return ctx_fail(c, API_BAD_REQUEST, "Field bootstrap is taken "
		    "only when a tenant is created");
	for (i = 0; i < nitems(texts); i++) {
		v = json_object_get(body, texts[i]);
		if (v != NULL || how == HOW_REPLACE) {
			free(*dst[i]);
			*dst[i] = xstrdup(v != NULL ? json_string_value(v) : "");
		}
	}
	if (how == HOW_REPLACE)
		t->max_tenancies = t->max_nodes = -1;
	if ((rc = limit_take(c, body, "max_tenancies", &t->max_tenancies)) !=
	    API_OK ||
	    (rc = limit_take(c, body, "max_nodes", &t->max_nodes)) != API_OK)
		return rc;
	if ((v = json_object_get(body, "workers")) != NULL)
		t->workers = json_integer_value(v);
	else if (how != HOW_PATCH)
		t->workers = how == HOW_CREATE ? 1 : t->workers;
	if ((v = json_object_get(body, "kms")) != NULL) {
		if ((rc = kms_check(c, v, t->kms)) != API_OK)
			return rc;
		v = json_deep_copy(v);
		if (json_object_get(t->kms, "status") != NULL)
			json_object_set(v, "status", json_object_get(t->kms,
			    "status"));
		else
			json_object_del(v, "status");
		json_decref(t->kms);
		t->kms = v;
	}
	if ((v = json_object_get(body, "hooks")) != NULL) {
		hooks = json_deep_copy(v);
		if ((rc = hooks_check(c, hooks, t->hooks, t->uid)) != API_OK) {
			json_decref(hooks);
			return rc;
		}
		json_decref(t->hooks);
		t->hooks = hooks;
	}

	/* The pool: nobody is given workers that are not there. */
	pool = tenant_pool_size(c->conf);
	if ((rc = pool_others(c, t->id == 0 ? NULL : t, &others)) != API_OK)
		return rc;
	if (t->workers > 0 && others + t->workers > pool)
		return ctx_fail(c, API_CONFLICT, "Workers: %lld asked, but only "
		    "%lld of the pool's %lld are available", t->workers,
		    pool > others ? pool - others : 0, pool);
	if (t->id == 0)
		return API_OK;
	/* A limit is never set below what the tenant already has. */
	if ((rc = tenant_usage(c, t->id, &tenancies, &nodes)) != API_OK)
		return rc;
	if (t->max_tenancies >= 0 && tenancies > t->max_tenancies)
		return ctx_fail(c, API_CONFLICT, "max_tenancies: the tenant has "
		    "%lld tenancies, more than %lld", tenancies, t->max_tenancies);
	if (t->max_nodes >= 0 && nodes > t->max_nodes)
		return ctx_fail(c, API_CONFLICT, "max_nodes: the tenant has %lld "
		    "nodes, more than %lld", nodes, t->max_nodes);
	return API_OK;
}

/* A limit for a nullable column: NULL for none. */
static const char *
limit_text(long long v, char buf[24])
{
	if (v < 0)
		return NULL;
	snprintf(buf, 24, "%lld", v);
	return buf;
}

/*
 * Create the tenant body describes (state New) in one transaction, its
 * UID into uid; rules as tenant_apply.  *t receives the stored tenant.
 */
enum apierr
tenant_create(struct ctx *c, const json_t *body, struct tenant *t)
{
	char		*hooks = NULL, *kms = NULL, b1[24], b2[24];
	enum apierr	 rc;
	enum dbrc	 drc;
	double		 now = time_now();

	memset(t, 0, sizeof(*t));
	t->name = xstrdup("");
	t->label = xstrdup("");
	t->description = xstrdup("");
	t->customer = xstrdup("");
	t->state = xstrdup("New");
	t->hooks = json_array();
	t->kms = json_object();
	t->max_tenancies = t->max_nodes = -1;
	t->bootstrap = json_is_true(json_object_get(body, "bootstrap"));
	if (uid_new(t->uid) == -1)
		return ctx_internal(c, "no random bytes for a tenant UID");
	if ((drc = db_begin(c->db)) != DB_OK)
		return ctx_dbfail(c, drc);
	if ((rc = tenant_lock(c, tenant_mgmt_id(c))) != API_OK ||
	    (rc = tenant_apply(c, t, body, HOW_CREATE)) != API_OK)
		goto out;
	hooks = json_dumps(t->hooks, JSON_COMPACT);
	kms = json_dumps(t->kms, JSON_COMPACT);
	drc = db_run(c->db, SQL_TENANT_INSERT, "sssssissssiddss", t->uid,
	    t->name, t->label, t->description, t->customer, t->workers,
	    limit_text(t->max_tenancies, b1), limit_text(t->max_nodes, b2),
	    hooks, kms, (long long)t->bootstrap, now, now, c->conf->head_name,
	    c->scope.actor);
	if (drc == DB_DUP) {
		rc = ctx_fail(c, API_CONFLICT, "tenant with name=%s already "
		    "exists.", t->name);
		goto out;
	}
	if (drc != DB_OK) {
		rc = ctx_dbfail(c, drc);
		goto out;
	}
	t->id = db_insert_id(c->db, SQL_TENANT_INSERT);
	t->created_at = t->last_modified = now;
	if ((drc = db_commit(c->db)) != DB_OK)
		rc = ctx_dbfail(c, drc);
out:
	db_rollback(c->db);
	free(hooks);
	free(kms);
	return rc;
}

/*
 * Change stored tenant t by body (PATCH or PUT) in one transaction, under
 * tenant_apply's rules; t then holds what was stored.
 */
enum apierr
tenant_change(struct ctx *c, struct tenant *t, const json_t *body,
    enum how how)
{
	char		*hooks = NULL, *kms = NULL, b1[24], b2[24];
	enum apierr	 rc;
	enum dbrc	 drc;
	double		 now = time_now();

	if (strcmp(t->state, "Deleting") == 0)
		return ctx_fail(c, API_CONFLICT, "Tenant %s is being deleted",
		    t->name);
	if ((drc = db_begin(c->db)) != DB_OK)
		return ctx_dbfail(c, drc);
	if ((rc = tenant_lock(c, tenant_mgmt_id(c))) != API_OK ||
	    (rc = tenant_lock(c, t->id)) != API_OK ||
	    (rc = tenant_apply(c, t, body, how)) != API_OK)
		goto out;
	hooks = json_dumps(t->hooks, JSON_COMPACT);
	kms = json_dumps(t->kms, JSON_COMPACT);
	if ((drc = db_run(c->db, SQL_TENANT_UPDATE, "sssissssdssi", t->label,
	    t->description, t->customer, t->workers,
	    limit_text(t->max_tenancies, b1), limit_text(t->max_nodes, b2),
	    hooks, kms, now, c->conf->head_name, c->scope.actor, t->id)) !=
	    DB_OK) {
		rc = ctx_dbfail(c, drc);
		goto out;
	}
	t->last_modified = now;
	if ((drc = db_commit(c->db)) != DB_OK)
		rc = ctx_dbfail(c, drc);
out:
	db_rollback(c->db);
	free(hooks);
	free(kms);
	return rc;
}

/* Store tenant tid's kms field (the caller's transaction). */
enum apierr
tenant_set_kms(struct ctx *c, long long tid, const json_t *kms)
{
	char		*text;
	enum dbrc	 rc;

	if ((text = json_dumps(kms, JSON_COMPACT)) == NULL)
		return ctx_internal(c, "kms cannot be encoded");
	rc = db_run(c->db, SQL_TENANT_KMS, "si", text, tid);
	free(text);
	return rc == DB_OK ? API_OK : ctx_dbfail(c, rc);
}

/* Set tenant tid's state (autocommit or the caller's transaction). */
enum apierr
tenant_set_state(struct ctx *c, long long tid, const char *state)
{
	enum dbrc	 rc;

	if ((rc = db_run(c->db, SQL_TENANT_STATE, "sdssi", state, time_now(),
	    c->conf->head_name, c->scope.actor, tid)) != DB_OK)
		return ctx_dbfail(c, rc);
	return API_OK;
}

/*
 * Whether tenant t may be deleted: never the management tenant, and only
 * once its workers are back in the pool (tenant-management document).
 */
enum apierr
tenant_may_delete(struct ctx *c, const struct tenant *t)
{
	if (strcmp(t->name, MGMT_TENANT) == 0)
		return ctx_fail(c, API_FORBIDDEN, "The management tenant %s "
		    "cannot be deleted", MGMT_TENANT);
	if (t->workers > 0)
		return ctx_fail(c, API_CONFLICT, "Tenant %s still has %lld "
		    "workers; set its workers to 0 before deleting it", t->name,
		    t->workers);
	if (strcmp(t->state, "Deleting") == 0)
		return ctx_fail(c, API_CONFLICT, "Tenant %s is already being "
		    "deleted", t->name);
	return API_OK;
}

/* ------------------------------------------------------------ bootstrap */

/* What bootstrap copies, referred-to classes before those that refer. */
static const struct objclass *const bootstrap_classes[] = {
	&net_class, &attrib_class, &image_class, &bootconfig_class,
	&namingpool_class, &dyngroup_class,
};

struct copy {
	const struct objclass	*cls;
	struct objrow		 row;		/* the source */
	char			 uid[UID_LEN + 1];	/* the copy's */
	int			 done;
};

/* Whether every reference of cp's document is to a copy already stored. */
static int
copy_ready(struct copy *cps, size_t n, struct copy *cp, json_t *doc)
{
	const struct field	*f;
	json_t			*v, *e;
	size_t			 i, j, k;

	for (i = 0; i < cp->cls->spec.nfields; i++) {
		f = &cp->cls->spec.fields[i];
		if (f->type != F_REF && f->type != F_REF_LIST)
			continue;
		if ((v = json_object_get(doc, f->name)) == NULL)
			continue;
		for (j = 0; j < (json_is_array(v) ? json_array_size(v) : 1); j++) {
			e = json_is_array(v) ? json_array_get(v, j) : v;
			for (k = 0; k < n; k++)
				if (json_is_string(e) && strcmp(cps[k].uid,
				    json_string_value(e)) == 0 && !cps[k].done)
					return 0;
		}
	}
	return 1;
}

/*
 * cp's document for the new tenant (new reference): references to
 * copied objects turned to the copies' UIDs, references to what is not
 * copied (a distro, a repo) dropped, secrets opened so that storing the
 * copy seals them under the new tenant's key.
 */
static json_t *
copy_doc(struct ctx *c, struct copy *cps, size_t n, struct copy *cp,
    enum apierr *rc)
{
	const struct field	*f;
	json_t			*doc, *v, *e, *list;
	size_t			 i, j, k;

	*rc = API_OK;
	doc = json_deep_copy(cp->row.doc);
	for (i = 0; i < cp->cls->spec.nfields; i++) {
		f = &cp->cls->spec.fields[i];
		if ((v = json_object_get(doc, f->name)) == NULL)
			continue;
		if (f->type == F_ATTRS && (*rc = attrs_unseal(c, cp->row.uid,
		    v)) != API_OK) {
			json_decref(doc);
			return NULL;
		}
		if (f->type != F_REF && f->type != F_REF_LIST)
			continue;
		list = json_array();
		for (j = 0; j < (json_is_array(v) ? json_array_size(v) : 1); j++) {
			e = json_is_array(v) ? json_array_get(v, j) : v;
			for (k = 0; k < n; k++)
				if (json_is_string(e) && strcmp(cps[k].row.uid,
				    json_string_value(e)) == 0)
					json_array_append_new(list,
					    json_string(cps[k].uid));
		}
		if (f->type == F_REF_LIST)
			json_object_set_new(doc, f->name, list);
		else {
			if (json_array_size(list) == 1)
				json_object_set(doc, f->name,
				    json_array_get(list, 0));
			else
				json_object_del(doc, f->name);
			json_decref(list);
		}
	}
	return doc;
}

/*
 * Copy the management tenant's attribute groups, networks, images (their
 * files shared, not copied), boot configs, naming pools and dynamic
 * groups, and its per-tenant settings, into tenant tid, in the caller's
 * transaction.  Secrets are opened and sealed again under the new
 * tenant's key, never copied in the clear or as they were sealed.
 */
enum apierr
tenant_bootstrap(struct ctx *c, long long tid)
{
	struct copy	*cps = NULL;
	struct objrow	 o;
	json_t		*doc;
	size_t		 n = 0, i, k, left, progress;
	enum apierr	 rc = API_OK;
	enum dbrc	 drc;
	long long	 mgmt = tenant_mgmt_id(c);

	for (k = 0; k < nitems(bootstrap_classes); k++) {
		if ((drc = db_run(c->db, SQL_TENANT_OBJS_OF, "si",
		    bootstrap_classes[k]->name, mgmt)) != DB_OK) {
			rc = ctx_dbfail(c, drc);
			goto out;
		}
		while ((drc = obj_row_next(c, SQL_TENANT_OBJS_OF, &o)) == DB_OK) {
			cps = xrealloc(cps, (n + 1) * sizeof(*cps));
			memset(&cps[n], 0, sizeof(cps[n]));
			cps[n].cls = bootstrap_classes[k];
			cps[n].row = o;
			if (uid_new(cps[n].uid) == -1)
				abort();
			n++;
		}
		db_done(c->db, SQL_TENANT_OBJS_OF);
		if (drc != DB_DONE) {
			rc = ctx_dbfail(c, drc);
			goto out;
		}
	}
	/* Store in rounds: each round, what refers only to stored copies. */
	for (left = n; left > 0; left -= progress) {
		progress = 0;
		for (i = 0; i < n; i++) {
			if (cps[i].done)
				continue;
			if ((doc = copy_doc(c, cps, n, &cps[i], &rc)) == NULL)
				goto out;
			if (!copy_ready(cps, n, &cps[i], doc)) {
				json_decref(doc);
				continue;
			}
			memset(&o, 0, sizeof(o));
			o.uid = cps[i].uid;
			o.name = cps[i].row.name;
			o.tenant_id = tid;
			o.doc = doc;
			rc = obj_store(c, cps[i].cls, &o);
			json_decref(doc);
			if (rc != API_OK)
				goto out;
			if ((drc = db_run(c->db, SQL_FILE_REFS_COPY, "ss",
			    cps[i].uid, cps[i].row.uid)) != DB_OK) {
				rc = ctx_dbfail(c, drc);
				goto out;
			}
			cps[i].done = 1;
			progress++;
		}
		if (progress == 0) {
			rc = ctx_internal(c, "bootstrap: references form a cycle");
			goto out;
		}
	}
	if ((drc = db_run(c->db, SQL_TENANT_SETTINGS_COPY, "ii", tid, mgmt)) !=
	    DB_OK)
		rc = ctx_dbfail(c, drc);
out:
	for (i = 0; i < n; i++)
		objrow_free(&cps[i].row);
	free(cps);
	return rc;
}

/* ------------------------------------------------------------ deletion */

/*
 * Remove every trace of tenant tid but its audit rows, in one
 * transaction: its tenancies torn down (their nodes to Quarantine, wiped
 * and powered off), its queued jobs cancelled (running ones finish, and
 * their rows go with the tenant), its objects and admins, settings and
 * data key, then the tenant itself.
 */
enum apierr
tenant_remove(struct ctx *c, long long tid, json_t *poweroff)
{
	struct objrow	 o;
	json_t		*uids;
	size_t		 i;
	enum apierr	 rc = API_OK;
	enum dbrc	 drc;

	uids = json_array();
	if ((drc = db_run(c->db, SQL_TENANT_OBJS_OF, "si", "tenancy", tid)) !=
	    DB_OK)
		return ctx_dbfail(c, drc);
	while ((drc = obj_row_next(c, SQL_TENANT_OBJS_OF, &o)) == DB_OK) {
		json_array_append_new(uids, json_string(o.uid));
		objrow_free(&o);
	}
	db_done(c->db, SQL_TENANT_OBJS_OF);
	if (drc != DB_DONE) {
		rc = ctx_dbfail(c, drc);
		goto out;
	}
	for (i = 0; i < json_array_size(uids); i++)
		if ((rc = tenancy_empty(c, json_string_value(json_array_get(uids,
		    i)), poweroff)) != API_OK)
			goto out;
	if ((drc = db_run(c->db, SQL_TENANT_JOBS_CANCEL, "di", time_now(),
	    tid)) != DB_OK ||
	    (drc = db_run(c->db, SQL_TENANT_REFS_DROP, "i", tid)) != DB_OK ||
	    (drc = db_run(c->db, SQL_TENANT_OBJS_DROP, "i", tid)) != DB_OK ||
	    (drc = db_run(c->db, SQL_TENANT_KEY_DROP, "i", tid)) != DB_OK ||
	    (drc = db_run(c->db, SQL_WRAPKEY_DROP, "i", tid)) != DB_OK ||
	    (drc = db_run(c->db, SQL_TENANT_DELETE, "i", tid)) != DB_OK)
		rc = ctx_dbfail(c, drc);
out:
	json_decref(uids);
	return rc;
}

/*
 * Tenant t's tenancies as TAPMS's tenantresources (new reference): one
 * entry per tenancy, its nodes' names as xnames, exclusive always (a
 * node is never in two tenancies).
 */
json_t *
tenant_resources(struct ctx *c, const struct tenant *t)
{
	json_t		*res, *xnames, *h;
	struct objrow	 o;
	char		*uid, *name, *mac, *ip;
	size_t		 i;
	enum dbrc	 rc;

	res = json_array();
	if (db_run(c->db, SQL_TENANT_OBJS_OF, "si", "tenancy", t->id) == DB_OK)
		while (obj_row_next(c, SQL_TENANT_OBJS_OF, &o) == DB_OK) {
			json_array_append_new(res, json_pack("{s:s, s:[], s:s, "
			    "s:b, s:s}", "type", "compute", "xnames",
			    "hsmgrouplabel", o.name, "enforceexclusivehsmgroups",
			    1, "uid", o.uid));
			objrow_free(&o);
		}
	db_done(c->db, SQL_TENANT_OBJS_OF);
	json_array_foreach(res, i, h) {
		xnames = json_object_get(h, "xnames");
		rc = db_run(c->db, SQL_TENANCY_MEMBERS, "s", json_string_value(
		    json_object_get(h, "uid")));
		while (rc == DB_OK && db_next(c->db, SQL_TENANCY_MEMBERS, "ssss",
		    &uid, &name, &mac, &ip) == DB_OK) {
			json_array_append_new(xnames, json_string(name));
			free(uid);
			free(name);
			free(mac);
			free(ip);
		}
		db_done(c->db, SQL_TENANCY_MEMBERS);
		json_object_del(h, "uid");
	}
	return res;
}
