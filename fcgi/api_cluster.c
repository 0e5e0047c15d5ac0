/*
 * Cluster-wide endpoints (reference: "Cluster-wide Endpoints").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* The keys PATCH /cluster accepts, as the reference lists them. */
static const struct field cluster_fields[] = {
	{ "default_group",    F_STRING, 0, NAME_MAX_LEN, "The default group nodes join" },
	{ "naming",	      F_STRING, 0, 64,   "The default naming scheme" },
	{ "accept_new_nodes", F_BOOL,   0, 0,    "Whether unknown nodes are booted" },
	{ "default_distro",   F_STRING, 0, NAME_MAX_LEN, "The default distro" },
	{ "influx_token",     F_STRING, 0, 256,  "Token of the monitoring system" },
	{ "cluster_name",     F_STRING, 0, 63,   "The name of the cluster" },
	{ "cluster_id",	      F_STRING, 0, 64,   "The vendor's cluster ID" },
	{ "auth_config",      F_OBJECT, 0, 8192, "Settings of the authentication system" },
};
const struct bodyspec b_cluster = {
	cluster_fields, sizeof(cluster_fields) / sizeof(cluster_fields[0]), 0
};

/*
 * GET /cluster: the settings, the time, this head and its API version.
 */
enum apierr
api_cluster_get(struct req *r)
{
	char		*k, *v, err[128];
	json_t		*settings, *jv;
	enum dbrc	 rc;

	if ((rc = db_run(r->db, SQL_CLUSTER_LIST, "")) != DB_OK)
		return rc == DB_GONE ? API_UNAVAILABLE : API_INTERNAL;
	settings = json_object();
	while ((rc = db_next(r->db, SQL_CLUSTER_LIST, "ss", &k, &v)) == DB_OK) {
		if ((jv = json_decode_strict(v, strlen(v), err, sizeof(err))) != NULL)
			json_object_set_new(settings, k, jv);
		free(k);
		free(v);
	}
	db_done(r->db, SQL_CLUSTER_LIST);
	if (rc != DB_DONE) {
		json_decref(settings);
		return rc == DB_GONE ? API_UNAVAILABLE : API_INTERNAL;
	}
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
 * PATCH /cluster: overwrite each sent key, all in one transaction.
 */
enum apierr
api_cluster_patch(struct req *r)
{
	const char	*k;
	json_t		*v;
	char		*s;
	enum dbrc	 rc = DB_OK;

	if (json_object_size(r->json) == 0)
		return req_fail(r, API_BAD_REQUEST, "Send at least one setting");
	if ((rc = db_begin(r->db)) != DB_OK)
		return rc == DB_GONE ? API_UNAVAILABLE : API_INTERNAL;
	json_object_foreach(r->json, k, v) {
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		rc = db_run(r->db, SQL_CLUSTER_SET, "ss", k, s);
		free(s);
		if (rc != DB_OK)
			break;
	}
	if (rc == DB_OK)
		rc = db_commit(r->db);
	db_rollback(r->db);
	if (rc != DB_OK)
		return rc == DB_GONE ? API_UNAVAILABLE : API_INTERNAL;
	return API_OK;
}

/* GET /cluster/time (public): the head's clock, epoch seconds. */
enum apierr
api_cluster_time(struct req *r)
{
	r->data = json_real(time_now());
	return API_OK;
}

/* GET /cluster/database (public): what database serves this head. */
enum apierr
api_cluster_database(struct req *r)
{
	char		*version = NULL, *name = NULL;
	long long	 schema = 0;
	enum dbrc	 rc;

	if ((rc = db_run(r->db, SQL_DB_INFO, "")) != DB_OK)
		return rc == DB_GONE ? API_UNAVAILABLE : API_INTERNAL;
	rc = db_next(r->db, SQL_DB_INFO, "ssi", &version, &name, &schema);
	db_done(r->db, SQL_DB_INFO);
	if (rc != DB_OK)
		return rc == DB_GONE ? API_UNAVAILABLE : API_INTERNAL;
	r->data = json_pack("{s:s, s:s, s:s?, s:I, s:I, s:s}", "engine", "MariaDB",
	    "server_version", version, "database", name, "schema_version",
	    (json_int_t)schema, "schema_expected", (json_int_t)SCHEMA_VERSION,
	    "status", schema == SCHEMA_VERSION ? "ok" : "schema mismatch");
	free(version);
	free(name);
	return API_OK;
}
