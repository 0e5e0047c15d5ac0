/*
 * Cluster settings: the keys of GET/PATCH /cluster, as the reference
 * lists them, and where each lives.
 *
 * Some belong to the cluster (its name and ID, whether unknown nodes are
 * booted, the monitoring token, the authentication settings): one value,
 * changed by the superadministrator only.  The others name a tenant's
 * own objects (its default group, naming pattern and distro), so each
 * tenant has its own value, changed by its role.fulladmin; a tenant that
 * never set one sees the default.  Secret keys are shown as "********"
 * to everyone but the superadministrator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* Where a setting lives and who reads it, in the field's flags. */
#define S_TENANT	0x100u	/* one value per tenant (tenant_settings) */
#define S_SECRET	0x200u	/* masked for all but the superadministrator */

static const struct field cluster_fields[] = {
	FIELD("default_group",    F_STRING, S_TENANT, NAME_MAX_LEN, "The attribute group every node of the tenant joins first (per tenant)"),
	FIELD("naming",           F_STRING, S_TENANT, 64,           "The default naming pattern, n{} unless set (per tenant)"),
	FIELD("default_distro",   F_STRING, S_TENANT, NAME_MAX_LEN, "The default distro (per tenant)"),
	FIELD("accept_new_nodes", F_BOOL,   0,        0,            "Whether unknown nodes are booted"),
	FIELD("influx_token",     F_STRING, S_SECRET, 256,          "Token of the monitoring system"),
	FIELD("cluster_name",     F_STRING, 0,        63,           "The name of the cluster"),
	FIELD("cluster_id",       F_STRING, 0,        64,           "The vendor's cluster ID"),
	FIELD("auth_config",      F_OBJECT, S_SECRET | S_TENANT, 8192, "Settings of the authentication system (per tenant)"),
	FIELD("ssh_keys",         F_ARRAY_STR, S_TENANT, 64,        "corral: more public keys the tenant's nodes authorize (per tenant; /cluster/sshkeys)"),
	FIELD("ca_bundle",        F_STRING, S_TENANT, 65536,        "corral: more CA certificates (PEM) the tenant's nodes trust (per tenant; /cluster/cabundle)"),
	FIELD("tenancy_vlans",    F_STRING, 0,        32,           "corral: the VLANs tenancies are given, FIRST-LAST (\"\": none unless asked for)"),
	FIELD("tenancy_vnis",     F_STRING, 0,        32,           "corral: the VNIs tenancies are given, FIRST-LAST"),
	FIELD("tenancy_pkeys",    F_STRING, 0,        32,           "corral: the partition keys tenancies are given, FIRST-LAST"),
	FIELD("tenancy_power_off", F_BOOL,  0,        0,            "corral: whether a node is powered off when it enters or leaves a tenant"),
};

const struct bodyspec b_cluster = FIELDS(cluster_fields);

static const struct field *
setting_field(const char *k)
{
	size_t	 i;

	for (i = 0; i < nitems(cluster_fields); i++)
		if (strcmp(cluster_fields[i].name, k) == 0)
			return &cluster_fields[i];
	return NULL;
}

/* Whether every entry of keys is one line that is an OpenSSH public key. */
static int
ssh_keys_ok(const json_t *keys)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	json_array_foreach((json_t *)(uintptr_t)keys, i, v) {
		k = json_string_value(v);
		if (k == NULL || strpbrk(k, "\r\n") != NULL ||
		    (strncmp(k, "ssh-", 4) != 0 && strncmp(k, "ecdsa-", 6) != 0 &&
		    strncmp(k, "sk-", 3) != 0))
			return 0;
	}
	return 1;
}

/* The value of a tenant setting nobody set (new reference). */
static json_t *
setting_default(const struct field *f)
{
	if (strcmp(f->name, "naming") == 0)
		return json_string("n{}");
	return f->type == F_BOOL ? json_false() : f->type == F_OBJECT ?
	    json_object() : f->type == F_ARRAY_STR ? json_array() :
	    json_string("");
}

/* Add the rows of statement q (k, v) to out: decoded values by key. */
static enum apierr
settings_rows(struct ctx *c, enum sql q, json_t *out)
{
	char		*k, *v, err[128];
	json_t		*jv;
	enum dbrc	 rc;

	while ((rc = db_next(c->db, q, "ss", &k, &v)) == DB_OK) {
		if ((jv = json_decode_strict(v, strlen(v), err, sizeof(err))) != NULL)
			json_object_set_new(out, k, jv);
		free(k);
		free(v);
	}
	db_done(c->db, q);
	return rc == DB_DONE ? API_OK : ctx_dbfail(c, rc);
}

/*
 * Every setting as tenant sees it (new reference in *out): the cluster's
 * values, the tenant's own (or the defaults), secrets masked unless
 * show_secrets.
 */
enum apierr
settings_get(struct ctx *c, long long tenant, int show_secrets, json_t **out)
{
	const struct field	*f;
	json_t			*all, *v;
	enum apierr		 rc;
	enum dbrc		 drc;
	size_t			 i;

	*out = NULL;
	all = json_object();
	if ((drc = db_run(c->db, SQL_CLUSTER_LIST, "")) != DB_OK ||
	    (rc = settings_rows(c, SQL_CLUSTER_LIST, all)) != API_OK ||
	    (drc = db_run(c->db, SQL_TENANT_SETTING_LIST, "i", tenant)) != DB_OK ||
	    (rc = settings_rows(c, SQL_TENANT_SETTING_LIST, all)) != API_OK) {
		json_decref(all);
		return drc != DB_OK ? ctx_dbfail(c, drc) : rc;
	}
	*out = json_object();
	for (i = 0; i < nitems(cluster_fields); i++) {
		f = &cluster_fields[i];
		v = json_object_get(all, f->name);
		if (v == NULL)
			json_object_set_new(*out, f->name, setting_default(f));
		else if ((f->flags & S_SECRET) && !show_secrets &&
		    !(json_is_string(v) && json_string_length(v) == 0) &&
		    !(json_is_object(v) && json_object_size(v) == 0))
			json_object_set_new(*out, f->name,
			    json_string(SECRET_MASK));
		else
			json_object_set(*out, f->name, v);
	}
	json_decref(all);
	return API_OK;
}

/*
 * Overwrite each setting of body (checked against b_cluster) in one
 * transaction: the tenant's own value for per-tenant keys, the cluster's
 * for the others, which only may_cluster (the superadministrator) may
 * change: 403 naming the key otherwise.  A secret sent as "********"
 * keeps its value.
 */
enum apierr
settings_patch(struct ctx *c, long long tenant, const json_t *body,
    int may_cluster)
{
	const struct field	*f;
	const char		*k;
	json_t			*v;
	char			*s;
	enum dbrc		 rc = DB_OK;

	json_object_foreach((json_t *)(uintptr_t)body, k, v) {
		if ((f = setting_field(k)) == NULL)
			return ctx_internal(c, "setting %s passed the body check", k);
		if (!(f->flags & S_TENANT) && !may_cluster)
			return ctx_fail(c, API_FORBIDDEN, "Only the "
			    "superadministrator may change %s (a cluster-wide "
			    "setting)", k);
		/* Each key becomes one authorized_keys line on the nodes. */
		if (strcmp(k, "ssh_keys") == 0 && !ssh_keys_ok(v))
			return ctx_fail(c, API_BAD_REQUEST, "Field ssh_keys: each "
			    "entry is one OpenSSH public key line (ssh-..., "
			    "ecdsa-..., sk-...)");
	}
	if ((rc = db_begin(c->db)) != DB_OK)
		return ctx_dbfail(c, rc);
	json_object_foreach((json_t *)(uintptr_t)body, k, v) {
		f = setting_field(k);
		if ((f->flags & S_SECRET) && json_is_string(v) &&
		    strcmp(json_string_value(v), SECRET_MASK) == 0)
			continue;
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (f->flags & S_TENANT)
			rc = db_run(c->db, SQL_TENANT_SETTING_SET, "iss", tenant,
			    k, s);
		else
			rc = db_run(c->db, SQL_CLUSTER_SET, "ss", k, s);
		free(s);
		if (rc != DB_OK)
			break;
	}
	if (rc == DB_OK)
		rc = db_commit(c->db);
	db_rollback(c->db);
	return rc == DB_OK ? API_OK : ctx_dbfail(c, rc);
}

/*
 * Tenant setting k of tenant (a non-empty string; new allocation) into
 * *out, or NULL when it is unset, empty or not a string.
 */
enum apierr
setting_string(struct ctx *c, long long tenant, const char *k, char **out)
{
	char		*v = NULL, err[64];
	json_t		*j;
	enum dbrc	 rc;

	*out = NULL;
	if ((rc = db_run(c->db, SQL_TENANT_SETTING_GET, "is", tenant, k)) != DB_OK)
		return ctx_dbfail(c, rc);
	rc = db_next(c->db, SQL_TENANT_SETTING_GET, "s", &v);
	db_done(c->db, SQL_TENANT_SETTING_GET);
	if (rc == DB_OK && (j = json_decode_strict(v, strlen(v), err,
	    sizeof(err))) != NULL) {
		if (json_is_string(j) && json_string_length(j) > 0)
			*out = xstrdup(json_string_value(j));
		json_decref(j);
	}
	free(v);
	return rc == DB_OK || rc == DB_DONE ? API_OK : ctx_dbfail(c, rc);
}
