/*
 * Admin objects (reference: "Admin Objects"): the people who may use the
 * API.  Names are operating-system user names, unique across tenants
 * because login names no tenant.  An admin belongs to one tenant; a
 * role.fulladmin of the management tenant is the superadministrator.
 *
 * Who may change what:
 * - role.fulladmin: every admin of its tenant (the superadministrator:
 *   every admin), including roles; may not delete itself.
 * - anyone else: only its own description, keys and gui_settings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define ADMIN_NAME_MAX	32	/* the useradd(8) limit */
#define KEYS_MAX	64
#define GUI_MAX		65536

static const struct field admin_fields[] = {
	FIELD("name",         F_NAME,      F_REQUIRED, ADMIN_NAME_MAX, "The name of the user on the underlying system"),
	FIELD("description",  F_TEXT,      0,          4096,           "A text string with descriptive information"),
	FIELD("roles",        F_ROLES,     0,          0,              "ClusterWare roles: role.authuser, role.operator, role.configadmin, role.fulladmin; PATCH overwrites the whole list, a PUT without it keeps it"),
	FIELD("keys",         F_ARRAY_STR, 0,          KEYS_MAX,       "A list of one or more ssh public keys"),
	FIELD("gui_settings", F_OBJECT,    0,          GUI_MAX,        "Used internally by the GUI"),
	FIELD("tenant",       F_NAME,      0,          63,             "corral: the tenant the admin belongs to (default: the creator's); only the superadministrator may set it"),
};

/* POST/PUT/DELETE /admin/:id/keys take one key or a list of keys. */
const struct bodyspec b_keys = { .fields = NULL, .nfields = 0, .any = 1 };

/* PATCH takes an object of settings; DELETE a list of keys to remove. */
const struct bodyspec b_gui = { .fields = NULL, .nfields = 0, .any = 1 };

static enum apierr	admin_prepare(struct ctx *, json_t *, enum how);
static enum apierr	admin_assign(struct ctx *, struct objrow *,
			    const json_t *, const json_t *);
static enum apierr	admin_may_change(struct ctx *, const struct objrow *,
			    const json_t *);
static enum apierr	admin_may_delete(struct ctx *, const struct objrow *);

const struct objclass admin_class = {
	.name = "admin", .plural = "admins", .label = "admin",
	.spec = FIELDS(admin_fields),
	.global_names = 1,
	.prepare = admin_prepare,
	.may_change = admin_may_change,
	.may_delete = admin_may_delete,
	.assign = admin_assign,
};

/*
 * Whether s looks like an OpenSSH public key line: a known type, a
 * base64 blob, an optional comment.
 */
static int
valid_sshkey(const char *s)
{
	static const char *const types[] = {
		"ssh-ed25519 ", "ssh-rsa ", "ecdsa-sha2-nistp256 ",
		"ecdsa-sha2-nistp384 ", "ecdsa-sha2-nistp521 ",
		"sk-ssh-ed25519@openssh.com ", "sk-ecdsa-sha2-nistp256@openssh.com ",
	};
	size_t	 i, len, n = 0;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		len = strlen(types[i]);
		if (strncmp(s, types[i], len) == 0)
			break;
	}
	if (i == sizeof(types) / sizeof(types[0]))
		return 0;
	for (s += len; *s != '\0' && *s != ' '; s++, n++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '+' || *s == '/' || *s == '='))
			return 0;
	return n >= 16 && valid_text(s, 1024) && strchr(s, '\n') == NULL;
}

/*
 * Check "keys" and "gui_settings" as every write path stores them: keys
 * must be OpenSSH public keys, one per entry (a newline could smuggle a
 * second line into an authorized_keys file), kept once each.
 */
static enum apierr
admin_check_extras(struct ctx *c, json_t *doc)
{
	json_t	*keys, *uniq, *e, *g;
	size_t	 i;

	if ((keys = json_object_get(doc, "keys")) != NULL) {
		if (!json_is_array(keys) || json_array_size(keys) > KEYS_MAX)
			return ctx_fail(c, API_BAD_REQUEST, "Field keys must be "
			    "a list of at most %d ssh public keys", KEYS_MAX);
		uniq = json_array();
		json_array_foreach(keys, i, e) {
			if (!json_is_string(e) || !valid_sshkey(json_string_value(e))) {
				json_decref(uniq);
				return ctx_fail(c, API_BAD_REQUEST, "Entry %zu of "
				    "keys is not an ssh public key", i);
			}
			if (!json_list_has(uniq, json_string_value(e)))
				json_array_append(uniq, e);
		}
		json_object_set_new(doc, "keys", uniq);
	}
	if ((g = json_object_get(doc, "gui_settings")) != NULL) {
		if (!json_is_object(g) || json_size(g) > GUI_MAX)
			return ctx_fail(c, API_BAD_REQUEST, "Field gui_settings "
			    "must be an object of at most %d bytes", GUI_MAX);
	}
	return API_OK;
}

/* Turn "roles" (a list or a comma-separated string) into the canonical list. */
static enum apierr
admin_prepare(struct ctx *c, json_t *doc, enum how how)
{
	json_t		*v, *e;
	unsigned int	 roles = 0, bit;
	char		*list, *tok, *save;
	size_t		 i;
	enum apierr	 rc;

	if ((rc = admin_check_extras(c, doc)) != API_OK)
		return rc;
	if ((v = json_object_get(doc, "roles")) == NULL)
		return API_OK;
	if (json_is_string(v)) {
		list = xstrdup(json_string_value(v));
		for (tok = strtok_r(list, ", ", &save); tok != NULL;
		    tok = strtok_r(NULL, ", ", &save)) {
			if (role_parse(tok, &bit) == -1) {
				ctx_fail(c, API_BAD_REQUEST, "Unknown role: %.64s",
				    tok);
				free(list);
				return API_BAD_REQUEST;
			}
			roles |= bit;
		}
		free(list);
	} else {
		json_array_foreach(v, i, e) {
			if (!json_is_string(e) ||
			    role_parse(json_string_value(e), &bit) == -1)
				return ctx_fail(c, API_BAD_REQUEST,
				    "Field roles must be a list of role names");
			roles |= bit;
		}
	}
	json_object_set_new(doc, "roles", roles_json(roles));
	return API_OK;
}

/*
 * Roles not sent: a new admin gets role.authuser and role.fulladmin, as
 * the reference's example shows (only a role.fulladmin may create one);
 * a replace keeps the stored roles, so a PUT never raises privileges
 * implicitly.
 */
static enum apierr
admin_assign(struct ctx *c, struct objrow *o, const json_t *before,
    const json_t *change)
{
	json_t	*roles;

	if (json_object_get(o->doc, "roles") != NULL)
		return API_OK;
	if ((roles = json_object_get(before, "roles")) != NULL)
		json_object_set(o->doc, "roles", roles);
	else if (before == NULL)
		json_object_set_new(o->doc, "roles",
		    roles_json(ROLE_AUTHUSER | ROLE_FULLADMIN));
	else
		json_object_set_new(o->doc, "roles", json_array());
	return API_OK;
}

/*
 * Whether the scope may change admin target: fulladmins may change any
 * admin in scope, others only themselves and never their roles or name.
 */
static enum apierr
admin_may_change(struct ctx *c, const struct objrow *target,
    const json_t *change)
{
	const char	*k;
	json_t		*v;

	if (c->scope.roles & ROLE_FULLADMIN)
		return API_OK;
	if (strcmp(target->uid, c->scope.actor_uid) != 0)
		return ctx_fail(c, API_FORBIDDEN, "Only a role.fulladmin may "
		    "change another admin");
	json_object_foreach((json_t *)(uintptr_t)change, k, v)
		if (strcmp(k, "description") != 0 && strcmp(k, "keys") != 0 &&
		    strcmp(k, "gui_settings") != 0)
			return ctx_fail(c, API_FORBIDDEN, "Only a role.fulladmin "
			    "may change %s", k);
	return API_OK;
}

/* Nobody deletes itself, so nobody locks itself out by accident. */
static enum apierr
admin_may_delete(struct ctx *c, const struct objrow *target)
{
	if (strcmp(target->uid, c->scope.actor_uid) == 0)
		return ctx_fail(c, API_CONFLICT, "An admin cannot delete itself");
	return API_OK;
}

/* The body of a keys request as a list of valid keys (new reference). */
static json_t *
keys_body(struct req *r, enum apierr *rc)
{
	json_t	*e;
	size_t	 i;

	*rc = API_OK;
	if (json_is_string(r->json) && valid_sshkey(json_string_value(r->json)))
		return json_pack("[O]", r->json);
	if (json_is_array(r->json) && json_array_size(r->json) <= KEYS_MAX) {
		json_array_foreach(r->json, i, e)
			if (!json_is_string(e) || !valid_sshkey(json_string_value(e)))
				goto bad;
		return json_incref(r->json);
	}
bad:
	*rc = req_fail(r, API_BAD_REQUEST, "Send an ssh public key or a list "
	    "of at most %d", KEYS_MAX);
	return NULL;
}


struct keychange {
	enum keyop	 op;
	json_t		*sent;		/* NULL: no body (remove every key) */
};

/* The new "keys" from the locked admin and the request (a change_fn). */
static enum apierr
keys_merge(struct ctx *c, const struct objrow *o, const void *arg,
    json_t **change)
{
	const struct keychange	*kc = arg;
	json_t			*keys, *e;
	size_t			 i;

	keys = json_array();
	if (kc->op == KEYS_ADD || (kc->op == KEYS_REMOVE && kc->sent != NULL))
		json_array_foreach(json_object_get(o->doc, "keys"), i, e)
			if (json_is_string(e) && (kc->op == KEYS_ADD ||
			    !json_list_has(kc->sent, json_string_value(e))))
				json_array_append(keys, e);
	if (kc->op != KEYS_REMOVE)
		json_array_foreach(kc->sent, i, e)
			json_array_append(keys, e);
	*change = json_pack("{s:o}", "keys", keys);
	return API_OK;
}

/*
 * POST /admin/:id/keys adds keys (each kept once), PUT replaces the list,
 * DELETE removes the sent keys, or all of them without a body; the
 * route's argument is the enum keyop.
 */
enum apierr
api_admin_keys(struct req *r)
{
	struct keychange	 kc;
	enum apierr		 rc;

	kc.op = *(const enum keyop *)r->route->arg;
	kc.sent = NULL;
	if ((r->json != NULL || kc.op != KEYS_REMOVE) &&
	    (kc.sent = keys_body(r, &rc)) == NULL)
		return rc;
	/* Entries are checked (and duplicates dropped) by admin_prepare. */
	rc = obj_change_by(&r->ctx, &admin_class, req_param(r, "id"), keys_merge,
	    &kc);
	json_decref(kc.sent);
	return rc;
}

/*
 * PATCH /admin/:id/gui_settings merges the sent keys; DELETE removes the
 * listed keys, or every key without a body (the route's argument is the
 * enum keyedit).
 */
enum apierr
api_admin_gui(struct req *r)
{
	struct fieldedit	 fe = { "gui_settings",
				    *(const enum keyedit *)r->route->arg, r->json };

	if (fe.op != KEYEDIT_REMOVE && !json_is_object(r->json))
		return req_fail(r, API_BAD_REQUEST, "Send a JSON object of settings");
	if (fe.op == KEYEDIT_REMOVE && r->json != NULL && !json_is_array(r->json))
		return req_fail(r, API_BAD_REQUEST, "Send a list of setting names");
	return obj_change_by(&r->ctx, &admin_class, req_param(r, "id"),
	    obj_field_edit, &fe);
}

/*
 * Whether the admin a verified token names still stands behind it: the
 * admin exists in the token's tenant, and that tenant is not deleted or
 * being deleted.  The token's roles are cut to those the admin holds now,
 * so a demotion holds from the next request (a promotion needs a new
 * token).  Read through the head's read cache, which the change feed
 * keeps within [cache] max_lag_ms of every head's writes.  API_OK,
 * API_UNAUTHORIZED with the reason, or the database's failure.
 */
enum apierr
admin_token_current(struct ctx *c, struct claims *cl)
{
	/*
	 * The roles in the admin document seen last (most requests come from
	 * few admins): the same text need not be decoded again.
	 */
	static char		*seen_doc;
	static unsigned int	 seen_roles;
	struct ctx	 all;
	struct objrow	 o;
	json_t		*doc, *e;
	unsigned int	 roles = 0, bit;
	char		*text = NULL, state[32];
	size_t		 i;
	enum apierr	 rc;

	ctx_init(&all, c->db, c->conf, scope_of_tenant(SCOPE_ALL, 0, "auth"));
	rc = obj_find_text(&all, &admin_class, cl->sub, &o, &text);
	ctx_clear(&all);
	if (rc == API_NOT_FOUND || (rc == API_OK && o.tenant_id != cl->tid)) {
		objrow_free(&o);
		free(text);
		return ctx_fail(c, API_UNAUTHORIZED, "Admin %s no longer exists",
		    cl->name);
	}
	if (rc != API_OK)
		return ctx_fail(c, rc, "%s", all.reason);
	if (seen_doc != NULL && strcmp(seen_doc, text) == 0)
		roles = seen_roles;
	else {
		doc = json_loads(text, 0, NULL);
		json_array_foreach(json_object_get(doc, "roles"), i, e)
			if (json_is_string(e) &&
			    role_parse(json_string_value(e), &bit) == 0)
				roles |= bit;
		json_decref(doc);
		free(seen_doc);
		seen_doc = text;
		seen_roles = roles;
		text = NULL;
	}
	objrow_free(&o);
	free(text);
	cl->roles &= roles;
	if ((rc = tenant_state(c, cl->tid, state, sizeof(state))) != API_OK)
		return rc;
	if (*state == '\0' || strcmp(state, "Deleting") == 0)
		return ctx_fail(c, API_UNAUTHORIZED, "The tenant of admin %s "
		    "is deleted", cl->name);
	return API_OK;
}

/*
 * Create the superadministrator name in the management tenant unless an
 * admin of that name exists.  For `corral-api bootstrap NAME` at first
 * start.  Returns 1 created, 0 existed, -1 error (logged).
 */
int
admin_bootstrap(struct db *db, const struct conf *conf, const char *name)
{
	struct ctx	 c;
	struct objrow	 o;
	char		 uid[UID_LEN + 1];
	enum apierr	 rc;
	long long	 tid;

	if (!valid_name(name) || strlen(name) > ADMIN_NAME_MAX) {
		log_err("bootstrap: %s is not a valid user name", name);
		return -1;
	}
	ctx_init(&c, db, conf, scope_of_tenant(SCOPE_ALL, ROLES_ALL,
	    "corral-bootstrap"));
	tid = tenant_lookup(&c, MGMT_TENANT, &rc);
	if (rc != API_OK || tid == 0) {
		log_err("bootstrap: no management tenant (run scripts/migrate)");
		return -1;
	}
	if ((rc = obj_find(&c, &admin_class, name, 0, &o)) == API_OK) {
		objrow_free(&o);
		return 0;
	}
	if (rc != API_NOT_FOUND) {
		log_err("bootstrap: %s", c.reason);
		return -1;
	}
	rc = obj_create(&c, &admin_class, json_pack("{s:s, s:s, s:o}",
	    "name", name, "description", "Superadministrator (created at "
	    "first "
	    "start)", "roles", roles_json(ROLE_AUTHUSER | ROLE_FULLADMIN)),
	    tid, uid);
	if (rc != API_OK) {
		log_err("bootstrap: %s", c.reason);
		return -1;
	}
	return 1;
}
