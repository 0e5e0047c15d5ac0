/*
 * Cluster-wide endpoints (reference: "Cluster-wide Endpoints").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/*
 * GET /cluster: the settings as the caller's tenant sees them (secrets
 * masked but for the superadministrator), the time, this head and its
 * API version.
 */
enum apierr
api_cluster_get(struct req *r)
{
	json_t		*settings;
	enum apierr	 rc;

	if ((rc = settings_get(&r->ctx, r->who.tok.tid, r->who.super,
	    &settings)) != API_OK)
		return rc;
	json_object_set_new(settings, "time", json_real(time_now()));
	json_object_set_new(settings, "head", json_string(r->conf->head_name));
	json_object_set_new(settings, "version", json_string(PACKAGE_VERSION));
	json_object_set_new(settings, "auth", json_pack("{s:b, s:b, s:i, s:i}",
	    "password_file", r->conf->auth_passwd_file != NULL,
	    "pam", r->conf->auth_pam_service != NULL &&
	    *r->conf->auth_pam_service != '\0',
	    "access_ttl", r->conf->auth_access_ttl,
	    "refresh_ttl", r->conf->auth_refresh_ttl));
	r->data = settings;
	return API_OK;
}

/*
 * PATCH /cluster: overwrite each sent key, all in one transaction; the
 * per-tenant keys for the caller's tenant, the cluster-wide ones only by
 * the superadministrator.
 */
enum apierr
api_cluster_patch(struct req *r)
{
	if (json_object_size(r->json) == 0)
		return req_fail(r, API_BAD_REQUEST, "Send at least one setting");
	return settings_patch(&r->ctx, r->who.tok.tid, r->json, r->who.super);
}

/* GET /cluster/time (public): the head's clock, epoch seconds. */
enum apierr
api_cluster_time(struct req *r)
{
	r->data = json_real(time_now());
	return API_OK;
}

/*
 * GET /cluster/database (public): that a database serves this head, of
 * which kind, and whether its schema is the one this corral needs.  No
 * server build strings: a public endpoint tells nobody what to attack.
 */
enum apierr
api_cluster_database(struct req *r)
{
	long long	 schema = 0;
	enum dbrc	 rc;

	if ((rc = db_run(r->ctx.db, SQL_SCHEMA_VERSION, "")) != DB_OK)
		return ctx_dbfail(&r->ctx, rc);
	rc = db_next(r->ctx.db, SQL_SCHEMA_VERSION, "i", &schema);
	db_done(r->ctx.db, SQL_SCHEMA_VERSION);
	if (rc != DB_OK)
		return ctx_dbfail(&r->ctx, rc);
	r->data = json_pack("{s:s, s:s, s:I, s:I}", "engine", "MariaDB",
	    "status", schema == SCHEMA_VERSION ? "ok" : "schema mismatch",
	    "schema_version", (json_int_t)schema,
	    "schema_expected", (json_int_t)SCHEMA_VERSION);
	return API_OK;
}

/* The classes /cluster/summary lists, by their stored names. */
static const struct objclass *const summary_classes[] = {
	&admin_class, &attrib_class, &bootconfig_class, &distro_class,
	&dyngroup_class, &gitrepo_class, &head_class, &hostname_class,
	&image_class, &namingpool_class, &net_class, &node_class, &repo_class,
};

#define NSUMMARY	(sizeof(summary_classes) / sizeof(summary_classes[0]))

/*
 * GET /cluster/summary: the UIDs of every object in scope, as lists
 * keyed by class ("nodes", "images", ...), each sorted by name.
 */
/*
 * Add to out what corral remembers of the nodes without asking them, as
 * more lists of node UIDs (so the summary stays {name: [UIDs]}):
 * "power_on", "power_off", "power_unknown" by the state each BMC last
 * reported (nodes never asked are in none), and "stale", the nodes silent
 * for [status] stale_after seconds.  DB_DONE when all was read.
 */
static enum dbrc
summary_power(struct req *r, json_t *out)
{
	static const char *const lists[] = {
		"power_on", "power_off", "power_unknown", "stale"
	};
	char		*uid, *state, key[32];
	long long	 tid = r->ctx.scope.tenant, silent;
	size_t		 i;
	json_t		*l;
	enum dbrc	 rc;

	for (i = 0; i < nitems(lists); i++)
		json_object_set_new(out, lists[i], json_array());
	rc = db_run(r->ctx.db, SQL_NODE_POWER_LIST, "dii", time_now() -
	    r->conf->status_stale_after, tid, tid);
	while (rc == DB_OK && (rc = db_next(r->ctx.db, SQL_NODE_POWER_LIST,
	    "ssi", &uid, &state, &silent)) == DB_OK) {
		snprintf(key, sizeof(key), "power_%s", state);
		if ((l = json_object_get(out, key)) != NULL)
			json_array_append_new(l, json_string(uid));
		if (silent)
			json_array_append_new(json_object_get(out, "stale"),
			    json_string(uid));
		free(uid);
		free(state);
	}
	db_done(r->ctx.db, SQL_NODE_POWER_LIST);
	return rc;
}

enum apierr
api_cluster_summary(struct req *r)
{
	char		*cls, *uid;
	long long	 tid = r->ctx.scope.tenant;
	json_t		*out, *list;
	size_t		 i;
	enum dbrc	 rc;

	out = json_object();
	for (i = 0; i < NSUMMARY; i++)
		json_object_set_new(out, summary_classes[i]->plural, json_array());
	if ((rc = db_run(r->ctx.db, SQL_OBJ_UIDS, "ii", tid, tid)) != DB_OK) {
		json_decref(out);
		return ctx_dbfail(&r->ctx, rc);
	}
	while ((rc = db_next(r->ctx.db, SQL_OBJ_UIDS, "ss", &cls, &uid)) == DB_OK) {
		for (i = 0; i < NSUMMARY; i++)
			if (strcmp(summary_classes[i]->name, cls) == 0)
				break;
		if (i < NSUMMARY &&
		    (list = json_object_get(out, summary_classes[i]->plural)) != NULL)
			json_array_append_new(list, json_string(uid));
		free(cls);
		free(uid);
	}
	db_done(r->ctx.db, SQL_OBJ_UIDS);
	if (rc != DB_DONE || (rc = summary_power(r, out)) != DB_DONE) {
		json_decref(out);
		return ctx_dbfail(&r->ctx, rc);
	}
	r->data = out;
	return API_OK;
}

/* Collects {key: value} of objects: their name or UID, and a field. */
struct pairs {
	int		 by_uid;	/* key by UID rather than name */
	const char	*field;
	json_t		*out;
};

static void
pairs_add(const struct objrow *o, void *arg)
{
	struct pairs	*p = arg;
	json_t		*v = json_object_get(o->doc, p->field);

	if (json_is_string(v))
		json_object_set(p->out, p->by_uid ? o->uid : o->name, v);
}

/*
 * GET /cluster/hosts (public): {host name: address} of the nodes with an
 * address and the arec/aaaarec host records, for /etc/hosts.
 */
enum apierr
api_cluster_hosts(struct req *r)
{
	struct pairs	 hosts = { 0, "ip", NULL };
	long long	 tid;
	enum apierr	 rc;

	if ((tid = public_tenant(r, &rc)) == 0)
		return rc != API_OK ? rc : API_INTERNAL;
	hosts.out = json_object();
	if ((rc = obj_each(&r->ctx, &hostname_class, tid, pairs_add, &hosts)) != API_OK ||
	    (rc = obj_each(&r->ctx, &node_class, tid, pairs_add, &hosts)) != API_OK) {
		json_decref(hosts.out);
		return rc;
	}
	r->data = hosts.out;
	return API_OK;
}

static void
keys_add(const struct objrow *o, void *arg)
{
	json_t	*k;
	size_t	 i;

	json_array_foreach(json_object_get(o->doc, "keys"), i, k)
		json_array_append(arg, k);
}

/*
 * The public half of this head's ssh key (the one corral-jobd logs in to
 * nodes with, for exec and graceful power off), as a JSON string, or null
 * before jobd has made it.  Nodes put it in root's authorized_keys.
 */
static json_t *
head_ssh_key(const struct conf *c)
{
	char	 path[1024], line[4096];
	FILE	*f;
	json_t	*key = NULL;

	snprintf(path, sizeof(path), "%s.pub", c->exec_key);
	if ((f = fopen(path, "r")) == NULL)
		return json_null();
	if (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (valid_text(line, sizeof(line)))
			key = json_string(line);
	}
	fclose(f);
	return key != NULL ? key : json_null();
}

/*
 * GET /cluster/sshkeys (public): the keys nodes authorize: the admins'
 * of the tenant (a list), the heads' own by head UID (they run commands
 * on nodes), and "corral", the key this head's corral-jobd uses.
 */
enum apierr
api_cluster_sshkeys(struct req *r)
{
	struct pairs	 heads = { 1, "ssh_public", NULL };
	long long	 tid, mgmt;
	enum apierr	 rc;
	json_t		*admins, *own = NULL;

	if ((tid = public_tenant(r, &rc)) == 0 ||
	    (mgmt = tenant_lookup(&r->ctx, MGMT_TENANT, &rc)) == 0)
		return rc != API_OK ? rc : API_INTERNAL;
	admins = json_array();
	heads.out = json_object();
	if ((rc = obj_each(&r->ctx, &admin_class, tid, keys_add, admins)) != API_OK ||
	    (rc = obj_each(&r->ctx, &head_class, mgmt, pairs_add, &heads)) != API_OK) {
		json_decref(admins);
		json_decref(heads.out);
		return rc;
	}
	if ((rc = settings_get(&r->ctx, tid, 0, &own)) != API_OK) {
		json_decref(admins);
		json_decref(heads.out);
		return rc;
	}
	r->data = json_pack("{s:o, s:o, s:o, s:O}", "admins", admins, "heads",
	    heads.out, "corral", head_ssh_key(r->conf), "tenant",
	    json_object_get(own, "ssh_keys"));
	json_decref(own);
	return API_OK;
}

/*
 * GET /cluster/cabundle (public): the heads' CA certificates, by head
 * UID, and under "tenant" the extra bundle of the caller's tenant (known
 * by the node's address; the management tenant's for anyone else).
 */
enum apierr
api_cluster_cabundle(struct req *r)
{
	struct pairs	 pems = { 1, "ca_pem", NULL };
	long long	 mgmt, tid;
	json_t		*own = NULL;
	const char	*pem;
	enum apierr	 rc;

	if ((tid = public_tenant(r, &rc)) == 0 ||
	    (mgmt = tenant_lookup(&r->ctx, MGMT_TENANT, &rc)) == 0)
		return rc != API_OK ? rc : API_INTERNAL;
	pems.out = json_object();
	if ((rc = obj_each(&r->ctx, &head_class, mgmt, pairs_add, &pems)) != API_OK ||
	    (rc = settings_get(&r->ctx, tid, 0, &own)) != API_OK) {
		json_decref(pems.out);
		return rc;
	}
	pem = json_string_value(json_object_get(own, "ca_bundle"));
	if (pem != NULL && *pem != '\0')
		json_object_set_new(pems.out, "tenant", json_string(pem));
	json_decref(own);
	r->data = pems.out;
	return API_OK;
}

/*
 * GET /cluster/license: corral needs no license key; this says so, in the
 * shape scripts reading ClusterWare's answer look for.
 */
enum apierr
api_cluster_license(struct req *r)
{
	r->data = json_pack("{s:s, s:s, s:b, s:n, s:n, s:s}", "product", "corral",
	    "version", PACKAGE_VERSION, "valid", 1, "expires", "max_nodes",
	    "terms", "No license key is needed");
	return API_OK;
}

/*
 * GET /cluster/head/:id: a head's record, and whether it is the head
 * answering (with its version and clock then).
 */
enum apierr
api_cluster_head(struct req *r)
{
	struct objrow	 o;
	enum apierr	 rc;
	int		 self;

	if ((rc = obj_find(&r->ctx, &head_class, req_param(r, "id"), 0, &o)) != API_OK)
		return rc;
	r->data = obj_render(&head_class, &o);
	self = strcmp(o.name, r->conf->head_name) == 0;
	json_object_set_new(r->data, "this_head", json_boolean(self));
	if (self) {
		json_object_set_new(r->data, "version", json_string(PACKAGE_VERSION));
		json_object_set_new(r->data, "time", json_real(time_now()));
	}
	objrow_free(&o);
	return API_OK;
}

/*
 * POST /cluster/rekey (superadministrator): a new master key, every
 * tenant's data key re-wrapped under it in one transaction, the old key
 * files removed after the commit (crypto.c).  Answers the new key's id
 * and how many data keys were re-wrapped.  Other heads need the new file
 * copied to their key_dir (README, "Secrets at rest").
 */
enum apierr
api_cluster_rekey(struct req *r)
{
	char		 id[UID_LEN + 1];
	long long	 n;
	enum apierr	 rc;

	if ((rc = crypto_rekey(&r->ctx, id, &n)) != API_OK)
		return rc;
	r->data = json_pack("{s:s, s:I}", "master_key", id, "rewrapped",
	    (json_int_t)n);
	return API_OK;
}
