/*
 * Running a tenant job (queued by api_tenant.c, in the management
 * tenant): carrying a new tenant from New through Deploying to Deployed
 * (bootstrap, KMS key), or finishing a deletion.  All of it is database
 * work, done in prepare, where the runner holds its connection; run only
 * hands back the result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* New -> Deploying -> (bootstrap, key) -> Deployed, in one transaction. */
static int
tenant_deploy(struct jobrun *jr, struct tenant *t, char *err, size_t errsz)
{
	struct ctx	*c = &jr->ctx;
	json_t		*status;
	const char	*name, *type;
	enum apierr	 rc;
	enum dbrc	 drc;

	if (strcmp(t->state, "New") != 0 && strcmp(t->state, "Deploying") != 0) {
		snprintf(err, errsz, "tenant %s is %s, not New", t->name, t->state);
		return -1;
	}
	if ((rc = tenant_set_state(c, t->id, "Deploying")) != API_OK)
		goto fail;
	if ((drc = db_begin(c->db)) != DB_OK) {
		rc = ctx_dbfail(c, drc);
		goto fail;
	}
	if (json_is_true(json_object_get(t->kms, "enablekms"))) {
		name = json_string_value(json_object_get(t->kms, "keyname"));
		type = json_string_value(json_object_get(t->kms, "keytype"));
		if ((rc = crypto_tenant_key(c, t->id, name != NULL ? name : "",
		    type != NULL ? type : "aes256-gcm96", &status)) != API_OK)
			goto fail;
		json_object_set_new(t->kms, "status", status);
		if ((rc = tenant_set_kms(c, t->id, t->kms)) != API_OK)
			goto fail;
	}
	/* After the key: what bootstrap seals goes under it. */
	if (t->bootstrap && (rc = tenant_bootstrap(c, t->id)) != API_OK)
		goto fail;
	if ((rc = tenant_set_state(c, t->id, "Deployed")) != API_OK)
		goto fail;
	if ((drc = db_commit(c->db)) != DB_OK) {
		rc = ctx_dbfail(c, drc);
		goto fail;
	}
	audit_event(c, "jobd", t->id, "tenant deployed", t->uid, 200, NULL);
	return 0;
fail:
	db_rollback(c->db);
	snprintf(err, errsz, "deploying tenant %s: %s", t->name, c->reason);
	audit_event(c, "jobd", t->id, "tenant deploy failed", t->uid, 500,
	    c->reason);
	return -1;
}

/* Deleting -> gone, in one transaction; then its nodes are powered off. */
static int
tenant_finish_delete(struct jobrun *jr, struct tenant *t, char *err,
    size_t errsz)
{
	struct ctx	*c = &jr->ctx;
	json_t		*off;
	enum apierr	 rc;
	enum dbrc	 drc;

	off = json_array();
	if ((drc = db_begin(c->db)) != DB_OK)
		rc = ctx_dbfail(c, drc);
	else if ((rc = tenant_remove(c, t->id, off)) == API_OK &&
	    (drc = db_commit(c->db)) != DB_OK)
		rc = ctx_dbfail(c, drc);
	db_rollback(c->db);
	if (rc == API_OK)
		(void)tenancy_poweroff_queue(c, off);
	json_decref(off);
	if (rc != API_OK) {
		snprintf(err, errsz, "deleting tenant %s: %s", t->name, c->reason);
		audit_event(c, "jobd", t->id, "tenant delete failed", t->uid, 500,
		    c->reason);
		return -1;
	}
	audit_event(c, "jobd", t->id, "tenant deleted", t->uid, 200, t->name);
	return 0;
}

static int
tenant_prepare(struct jobrun *jr, char *err, size_t errsz)
{
	struct tenant	 t;
	const char	*op = json_string_value(json_object_get(jr->params, "op"));
	const char	*uid = json_string_value(json_object_get(jr->params,
			    "tenant"));
	int		 ret;

	if (op == NULL || uid == NULL) {
		snprintf(err, errsz, "tenant job without op or tenant");
		return -1;
	}
	if (tenant_load(&jr->ctx, uid, &t) != API_OK) {
		snprintf(err, errsz, "%s", jr->ctx.reason);
		return -1;
	}
	if (strcmp(op, "deploy") == 0)
		ret = tenant_deploy(jr, &t, err, errsz);
	else if (strcmp(op, "delete") == 0)
		ret = tenant_finish_delete(jr, &t, err, errsz);
	else {
		snprintf(err, errsz, "tenant job: unknown op %.32s", op);
		ret = -1;
	}
	if (ret == 0)
		jr->priv = json_pack("{s:s, s:s, s:s}", "tenant", t.name, "uid",
		    t.uid, "state", strcmp(op, "deploy") == 0 ? "Deployed" :
		    "deleted");
	tenant_free(&t);
	return ret;
}

static json_t *
tenant_run(struct jobrun *jr, char *err, size_t errsz)
{
	json_t	*res = jr->priv;

	jr->priv = NULL;
	if (res == NULL)
		snprintf(err, errsz, "tenant job: nothing done");
	return res;
}

const struct runkind run_tenant = { "tenant", tenant_prepare, tenant_run,
    NULL, NULL };
