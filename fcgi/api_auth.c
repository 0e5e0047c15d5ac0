/*
 * Login and tokens (reference: "Authentication").
 *
 * Access tokens are stateless: they carry the admin's uid, name, tenant
 * and roles, signed by the head's secret, and live auth.access_ttl (20
 * minutes).  So a role change or deletion takes effect at the next
 * refresh, never later than one access lifetime.  Refresh tokens are also
 * recorded in the database: each may be used once, and a second use
 * revokes every token of its family (the login it descends from).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extern.h"

static const struct field login_fields[] = {
	FIELD("user",   F_STRING, F_REQUIRED, 64,   "The admin's user name"),
	FIELD("pass",   F_STRING, 0,          1024, "The user's password"),
	FIELD("secret", F_STRING, 0,          1024, "A one-time password from the head's socket"),
};
const struct bodyspec b_login = FIELDS(login_fields);

static const struct field newtoken_fields[] = {
	FIELD("timeout", F_INT, 0, 86400 * 30, "Lifetime of the token, seconds"),
};
const struct bodyspec b_admin_newtoken = FIELDS(newtoken_fields);

#define LOGIN_FAILED	"Invalid username or password"

/*
 * The admin id (a UID or a user name) names, whatever its tenant: login
 * and refresh find the admin before anyone knows its scope.
 */
static enum apierr
admin_any_tenant(struct req *r, const char *id, struct objrow *o)
{
	struct ctx	 any;
	enum apierr	 rc;

	ctx_init(&any, r->ctx.db, r->conf, scope_of_tenant(SCOPE_ALL, 0,
	    "login"));
	rc = obj_find(&any, &admin_class, id, 0, o);
	return rc == API_NOT_FOUND ? rc : ctx_pass(&r->ctx, &any, rc);
}

/* Claims for admin o, of type typ, living ttl seconds. */
static int
claims_for(struct claims *c, const struct objrow *o, enum toktype typ,
    const char *fam, int ttl)
{
	time_t	 now = time(NULL);

	memset(c, 0, sizeof(*c));
	c->typ = typ;
	snprintf(c->sub, sizeof(c->sub), "%s", o->uid);
	snprintf(c->name, sizeof(c->name), "%s", o->name);
	c->tid = o->tenant_id;
	c->roles = admin_roles(o->doc);
	if (uid_new(c->jti) == -1)
		return -1;
	if (fam != NULL)
		snprintf(c->fam, sizeof(c->fam), "%s", fam);
	c->iat = c->nbf = now;
	c->exp = now + ttl;
	return 0;
}

/*
 * Issue an access and a refresh token for o inside the caller's
 * transaction; fam continues a family, NULL starts one.  Returns the
 * reference's "token" object (new reference) or NULL.
 */
static json_t *
tokens_issue(struct req *r, const struct objrow *o, const char *fam)
{
	struct claims	 ac, rc;
	char		 newfam[UID_LEN + 1];
	char		*at = NULL, *rt = NULL;
	json_t		*out = NULL;

	if (fam == NULL) {
		if (uid_new(newfam) == -1)
			return NULL;
		fam = newfam;
	}
	if (claims_for(&ac, o, TOK_ACCESS, NULL, r->conf->auth_access_ttl) == -1 ||
	    claims_for(&rc, o, TOK_REFRESH, fam, r->conf->auth_refresh_ttl) == -1)
		return NULL;
	if ((at = token_make(r->key, &ac)) == NULL ||
	    (rt = token_make(r->key, &rc)) == NULL)
		goto out;
	if (db_run(r->ctx.db, SQL_REFRESH_INSERT, "sssi", rc.jti, rc.fam, o->uid,
	    rc.exp) != DB_OK)
		goto out;
	out = json_pack("{s:s, s:i, s:s, s:i}", "access_token", at,
	    "expires_in", r->conf->auth_access_ttl, "refresh_token", rt,
	    "refresh_expires_in", r->conf->auth_refresh_ttl);
out:
	free(at);
	free(rt);
	return out;
}

/*
 * POST /login {"user", "pass"}: the password is checked against the
 * password file, then PAM; the user must also be an admin.  Every failure
 * is the same 401 so names cannot be probed.
 */
enum apierr
api_login(struct req *r)
{
	struct objrow	 o;
	const char	*user, *pass;
	json_t		*tok;
	enum apierr	 rc;
	int		 ok = 0;

	memset(&o, 0, sizeof(o));
	user = json_string_value(json_object_get(r->json, "user"));
	pass = json_string_value(json_object_get(r->json, "pass"));
	if (json_object_get(r->json, "secret") != NULL)
		return req_fail(r, API_UNAUTHORIZED, "One-time-password login is "
		    "not available on this head");
	if (user == NULL || pass == NULL)
		return req_fail(r, API_BAD_REQUEST, "Send \"user\" and \"pass\"");
	if (!valid_name(user))
		return req_fail(r, API_UNAUTHORIZED, LOGIN_FAILED);

	if (r->conf->auth_passwd_file != NULL)
		ok = passwd_check(r->conf->auth_passwd_file, user, pass) == 1;
	if (!ok && r->conf->auth_pam_service != NULL &&
	    *r->conf->auth_pam_service != '\0')
		ok = pam_check(r->conf->auth_pam_service, user, pass) == 1;
	if (!ok) {
		log_info("login failed for %s from %s", user,
		    r->remote_addr != NULL ? r->remote_addr : "?");
		return req_fail(r, API_UNAUTHORIZED, LOGIN_FAILED);
	}
	/*
	 * By name only: a user called like another admin's UID must not
	 * become that admin.
	 */
	if ((rc = admin_any_tenant(r, user, &o)) == API_OK &&
	    strcmp(o.name, user) != 0) {
		objrow_free(&o);
		rc = API_NOT_FOUND;
	}
	if (rc != API_OK) {
		if (rc == API_NOT_FOUND) {
			log_info("login: %s is not an admin", user);
			return req_fail(r, API_UNAUTHORIZED, LOGIN_FAILED);
		}
		return rc;
	}
	if ((tok = tokens_issue(r, &o, NULL)) == NULL) {
		objrow_free(&o);
		return ctx_internal(&r->ctx, "tokens for %s could not be made",
		    user);
	}
	log_info("login: %s from %s", o.name,
	    r->remote_addr != NULL ? r->remote_addr : "?");
	r->data = json_pack("{s:s, s:o}", "user", o.name, "token", tok);
	objrow_free(&o);
	return API_OK;
}

/*
 * GET /newtoken with a refresh token: rotate it.  The old token is spent;
 * presenting a spent token revokes its whole family.
 */
enum apierr
api_newtoken(struct req *r)
{
	struct objrow	 o;
	char		*fam = NULL, *admin = NULL;
	long long	 used = 0, revoked = 0;
	json_t		*tok = NULL;
	enum apierr	 rc;
	enum dbrc	 drc;

	memset(&o, 0, sizeof(o));
	if ((drc = db_begin(r->ctx.db)) != DB_OK)
		return ctx_dbfail(&r->ctx, drc);
	if ((drc = db_run(r->ctx.db, SQL_REFRESH_GET, "s", r->who.tok.jti)) != DB_OK) {
		rc = ctx_dbfail(&r->ctx, drc);
		goto out;
	}
	drc = db_next(r->ctx.db, SQL_REFRESH_GET, "ssii", &fam, &admin, &used, &revoked);
	db_done(r->ctx.db, SQL_REFRESH_GET);
	if (drc == DB_DONE || (drc == DB_OK && (revoked ||
	    strcmp(fam, r->who.tok.fam) != 0))) {
		rc = req_fail(r, API_UNAUTHORIZED, "Refresh token revoked");
		goto out;
	}
	if (drc != DB_OK) {
		rc = ctx_dbfail(&r->ctx, drc);
		goto out;
	}
	if (used) {
		/* Replay: whoever holds this family's tokens, stop them all. */
		if (db_run(r->ctx.db, SQL_REFRESH_REVOKE_FAMILY, "s", fam) != DB_OK ||
		    db_commit(r->ctx.db) != DB_OK) {
			rc = API_UNAVAILABLE;
			goto out;
		}
		log_warn("refresh token reuse for %s: family revoked", r->who.tok.name);
		rc = req_fail(r, API_UNAUTHORIZED, "Refresh token already used; "
		    "every token of this login is revoked");
		goto out;
	}
	if ((drc = db_run(r->ctx.db, SQL_REFRESH_USE, "s", r->who.tok.jti)) != DB_OK) {
		rc = ctx_dbfail(&r->ctx, drc);
		goto out;
	}
	if ((rc = admin_any_tenant(r, admin, &o)) != API_OK) {
		if (rc == API_NOT_FOUND)
			rc = req_fail(r, API_UNAUTHORIZED, "Admin no longer exists");
		goto out;
	}
	if ((tok = tokens_issue(r, &o, fam)) == NULL) {
		rc = ctx_internal(&r->ctx, "tokens for %s could not be made",
		    o.name);
		goto out;
	}
	if ((drc = db_commit(r->ctx.db)) != DB_OK) {
		rc = ctx_dbfail(&r->ctx, drc);
		goto out;
	}
	r->data = json_pack("{s:s, s:s, s:s, s:O}", "authorized_by", o.name,
	    "userid", o.name, "uid", o.uid, "token", tok);
	rc = API_OK;
out:
	db_rollback(r->ctx.db);
	json_decref(tok);
	free(fam);
	free(admin);
	objrow_free(&o);
	return rc;
}

/*
 * POST /admin/:id/newtoken {"timeout"}: an access token for automation,
 * living timeout seconds (default the access lifetime).  For oneself, or
 * by a role.fulladmin for any admin in its scope.
 */
enum apierr
api_admin_newtoken(struct req *r)
{
	struct objrow	 o;
	struct claims	 c;
	json_t		*t;
	char		*tok;
	int		 ttl = r->conf->auth_access_ttl;
	enum apierr	 rc;

	if ((t = json_object_get(r->json, "timeout")) != NULL) {
		if (json_integer_value(t) < 1)
			return req_fail(r, API_BAD_REQUEST,
			    "Field timeout must be at least 1 second");
		ttl = (int)json_integer_value(t);
	}
	if ((rc = obj_find(&r->ctx, &admin_class, req_param(r, "id"), 0, &o)) !=
	    API_OK)
		return rc;
	if (strcmp(o.uid, r->who.tok.sub) != 0 &&
	    !(r->who.tok.roles & ROLE_FULLADMIN)) {
		objrow_free(&o);
		return req_fail(r, API_FORBIDDEN, "Only a role.fulladmin may make "
		    "tokens for another admin");
	}
	if (claims_for(&c, &o, TOK_ACCESS, NULL, ttl) == -1 ||
	    (tok = token_make(r->key, &c)) == NULL) {
		objrow_free(&o);
		return ctx_internal(&r->ctx, "a token for %s could not be made",
		    o.name);
	}
	log_info("token for %s made by %s, %d s", o.name, r->who.tok.name, ttl);
	r->data = json_pack("{s:s, s:s, s:{s:s, s:i}}", "authorized_by",
	    r->who.tok.name, "userid", o.name, "token", "access_token", tok,
	    "expires_in", ttl);
	free(tok);
	objrow_free(&o);
	return API_OK;
}

/* GET /whoami: the caller as its token says, with its tenant's name. */
enum apierr
api_whoami(struct req *r)
{
	long long	 id = 0;
	char		*uid = NULL, *name = NULL;
	enum dbrc	 rc;

	if ((rc = db_run(r->ctx.db, SQL_TENANT_BY_ID, "i", r->who.tok.tid)) != DB_OK)
		return ctx_dbfail(&r->ctx, rc);
	rc = db_next(r->ctx.db, SQL_TENANT_BY_ID, "iss", &id, &uid, &name);
	db_done(r->ctx.db, SQL_TENANT_BY_ID);
	r->data = json_pack("{s:s, s:s, s:s?, s:o, s:b, s:I}", "name",
	    r->who.tok.name, "uid", r->who.tok.sub, "tenant",
	    rc == DB_OK ? name : NULL, "roles", roles_json(r->who.tok.roles),
	    "superadmin", r->who.super, "expires", (json_int_t)r->who.tok.exp);
	free(uid);
	free(name);
	return API_OK;
}

/* Adds each head's ca_pem to the bundle (obj_each's callback). */
static void
ca_collect(const struct objrow *o, void *arg)
{
	const char	*pem = json_string_value(json_object_get(o->doc, "ca_pem"));

	if (pem != NULL && *pem != '\0' && strstr(json_string_value(arg),
	    pem) == NULL) {
		char	*both;

		xasprintf(&both, "%s%s", json_string_value(arg), pem);
		json_string_set(arg, both);
		free(both);
	}
}

/*
 * GET /tenant/:id/credentials?admin=NAME: the tenant API's kubeconfig
 * download for corral: one JSON file with the API's URL, the heads' CA
 * bundle and a fresh access and refresh token for the tenant's admin
 * NAME, for automation.  The superadministrator, or a role.fulladmin of
 * that tenant; another tenant, or an admin not of this one, is a 404.
 */
enum apierr
api_tenant_credentials(struct req *r)
{
	struct tenant	 t;
	struct objrow	 o;
	struct ctx	 all;
	json_t		*tok = NULL, *ca, *file = NULL;
	char		 name[NAME_MAX_LEN + 1], base[1024], *text;
	enum apierr	 rc;
	enum dbrc	 drc;

	memset(&o, 0, sizeof(o));
	if (req_query(r, "admin", name, sizeof(name)) == NULL || *name == '\0')
		return req_fail(r, API_BAD_REQUEST, "Name the admin the token "
		    "is for: ?admin=NAME");
	if ((rc = tenant_load(&r->ctx, req_param(r, "id"), &t)) != API_OK)
		return rc;
	if (!r->who.super && t.id != r->who.tok.tid) {
		tenant_free(&t);
		return req_fail(r, API_NOT_FOUND, "No tenant found for ID=%.64s",
		    req_param(r, "id"));
	}
	if ((rc = obj_find(&r->ctx, &admin_class, name, 0, &o)) != API_OK)
		goto out;
	if (o.tenant_id != t.id) {
		rc = req_fail(r, API_NOT_FOUND, "No admin %.64s in tenant %s",
		    name, t.name);
		goto out;
	}
	if ((rc = req_base_url(r, base, sizeof(base))) != API_OK)
		goto out;
	ca = json_string("");
	ctx_init(&all, r->ctx.db, r->conf, scope_of_tenant(SCOPE_ALL, ROLES_ALL,
	    "corral"));
	(void)obj_each(&all, &head_class, tenant_mgmt_id(&all), ca_collect, ca);
	if ((drc = db_begin(r->ctx.db)) != DB_OK)
		rc = ctx_dbfail(&r->ctx, drc);
	else if ((tok = tokens_issue(r, &o, NULL)) == NULL)
		rc = ctx_internal(&r->ctx, "tokens for %s not made", o.name);
	else if ((drc = db_commit(r->ctx.db)) != DB_OK)
		rc = ctx_dbfail(&r->ctx, drc);
	db_rollback(r->ctx.db);
	if (rc == API_OK) {
		file = json_pack("{s:s, s:s+, s:s, s:s, s:o, s:O}", "kind",
		    "corral-credentials", "api_url", base, API_PREFIX, "tenant",
		    t.name, "admin", o.name, "ca_bundle", ca, "token", tok);
		text = json_dumps(file, JSON_INDENT(2));
		resp_raw(r, 200, "application/json", text, strlen(text));
		free(text);
		json_decref(file);
	} else
		json_decref(ca);
	log_info("credentials for %s of %s made by %s", o.name, t.name,
	    r->who.tok.name);
out:
	json_decref(tok);
	objrow_free(&o);
	tenant_free(&t);
	return rc;
}
