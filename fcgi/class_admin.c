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
	{ "name",	  F_NAME,	F_REQUIRED,	ADMIN_NAME_MAX,
	  "The name of the user on the underlying system" },
	{ "description",  F_TEXT,	0,		4096,
	  "A text string with descriptive information" },
	{ "roles",	  F_ROLES,	0,		0,
	  "ClusterWare roles: role.authuser, role.operator, role.configadmin, "
	  "role.fulladmin; PATCH overwrites the whole list" },
	{ "keys",	  F_ARRAY_STR,	0,		KEYS_MAX,
	  "A list of one or more ssh public keys" },
	{ "gui_settings", F_OBJECT,	0,		GUI_MAX,
	  "Used internally by the GUI" },
	{ "tenant",	  F_NAME,	0,		63,
	  "corral: the tenant the admin belongs to (default: the creator's); "
	  "only the superadministrator may set it" },
};

const struct bodyspec b_admin = {
	admin_fields, sizeof(admin_fields) / sizeof(admin_fields[0]), 0
};

/* POST/PUT/DELETE /admin/:id/keys take one key or a list of keys. */
const struct bodyspec b_keys = { NULL, 0, 1 };

/* PATCH takes an object of settings; DELETE a list of keys to remove. */
const struct bodyspec b_gui = { NULL, 0, 1 };

static const struct field newtoken_fields[] = {
	{ "timeout", F_INT, 0, 86400 * 30, "Lifetime of the token, seconds" },
};
const struct bodyspec b_admin_newtoken = { newtoken_fields, 1, 0 };

static enum apierr	admin_prepare(struct req *, json_t *, int);
static void		admin_render(struct req *, json_t *);
static enum apierr	admin_may_change(struct req *, const struct objrow *,
			    const json_t *);

const struct objclass admin_class = {
	"admin", "admins", "admin",
	admin_fields, sizeof(admin_fields) / sizeof(admin_fields[0]),
	&b_admin, 1, admin_prepare, admin_render, admin_may_change,
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
admin_check_extras(struct req *r, json_t *doc)
{
	json_t	*keys, *uniq, *e, *g;
	char	*dump;
	size_t	 i, len;

	if ((keys = json_object_get(doc, "keys")) != NULL) {
		if (!json_is_array(keys) || json_array_size(keys) > KEYS_MAX)
			return req_fail(r, API_BAD_REQUEST, "Field keys must be "
			    "a list of at most %d ssh public keys", KEYS_MAX);
		uniq = json_array();
		json_array_foreach(keys, i, e) {
			if (!json_is_string(e) || !valid_sshkey(json_string_value(e))) {
				json_decref(uniq);
				return req_fail(r, API_BAD_REQUEST, "Entry %zu of "
				    "keys is not an ssh public key", i);
			}
			if (!json_list_has(uniq, json_string_value(e)))
				json_array_append(uniq, e);
		}
		json_object_set_new(doc, "keys", uniq);
	}
	if ((g = json_object_get(doc, "gui_settings")) != NULL) {
		dump = json_dumps(g, JSON_COMPACT | JSON_ENCODE_ANY);
		len = dump == NULL ? 0 : strlen(dump);
		free(dump);
		if (!json_is_object(g) || len > GUI_MAX)
			return req_fail(r, API_BAD_REQUEST, "Field gui_settings "
			    "must be an object of at most %d bytes", GUI_MAX);
	}
	return API_OK;
}

/*
 * Turn "roles" (a list or a comma-separated string) into the canonical
 * list; new admins get role.authuser and role.fulladmin, as the
 * reference's example shows.
 */
static enum apierr
admin_prepare(struct req *r, json_t *doc, int creating)
{
	json_t		*v, *e;
	unsigned int	 roles = 0, bit;
	char		*list, *tok, *save;
	size_t		 i;
	enum apierr	 rc;

	if ((rc = admin_check_extras(r, doc)) != API_OK)
		return rc;
	if ((v = json_object_get(doc, "roles")) == NULL) {
		if (creating)
			json_object_set_new(doc, "roles",
			    roles_json(ROLE_AUTHUSER | ROLE_FULLADMIN));
		return API_OK;
	}
	if (json_is_string(v)) {
		list = xstrdup(json_string_value(v));
		for (tok = strtok_r(list, ", ", &save); tok != NULL;
		    tok = strtok_r(NULL, ", ", &save)) {
			if (role_parse(tok, &bit) == -1) {
				req_fail(r, API_BAD_REQUEST,
				    "Unknown role: %.64s", tok);
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
				return req_fail(r, API_BAD_REQUEST,
				    "Field roles must be a list of role names");
			roles |= bit;
		}
	}
	json_object_set_new(doc, "roles", roles_json(roles));
	return API_OK;
}

/* gui_settings and keys appear only when set, as in the reference. */
static void
admin_render(struct req *r, json_t *out)
{
	json_t	*v;

	if ((v = json_object_get(out, "gui_settings")) != NULL &&
	    json_object_size(v) == 0)
		json_object_del(out, "gui_settings");
	if ((v = json_object_get(out, "keys")) != NULL && json_array_size(v) == 0)
		json_object_del(out, "keys");
}

/*
 * Whether the caller may change admin target: fulladmins may change any
 * admin in scope, others only themselves and never their roles or name.
 */
static enum apierr
admin_may_change(struct req *r, const struct objrow *target, const json_t *body)
{
	const char	*k;
	json_t		*v;

	if (r->who.tok.roles & ROLE_FULLADMIN)
		return API_OK;
	if (strcmp(target->uid, r->who.tok.sub) != 0)
		return req_fail(r, API_FORBIDDEN, "Only a role.fulladmin may "
		    "change another admin");
	json_object_foreach((json_t *)(uintptr_t)body, k, v)
		if (strcmp(k, "description") != 0 && strcmp(k, "keys") != 0 &&
		    strcmp(k, "gui_settings") != 0)
			return req_fail(r, API_FORBIDDEN, "Only a role.fulladmin "
			    "may change %s", k);
	return API_OK;
}

/* GET /admins */
enum apierr
api_admin_list(struct req *r)
{
	return obj_list(r, &admin_class);
}

/* GET /admins/meta (public) */
enum apierr
api_admin_meta(struct req *r)
{
	return obj_meta(r, &admin_class);
}

/* GET /admin/:id (by UID or user name) */
enum apierr
api_admin_get(struct req *r)
{
	return obj_get(r, &admin_class);
}

/*
 * POST /admins: create an admin.  400 on bad fields, 409 if the user
 * name exists (in any tenant).
 */
enum apierr
api_admin_post(struct req *r)
{
	return obj_post(r, &admin_class);
}

/* PATCH /admin/:id: changes only the sent fields; roles are replaced whole. */
enum apierr
api_admin_patch(struct req *r)
{
	return obj_update(r, &admin_class, 0);
}

/* PUT /admin/:id: replaces the admin; unsent fields return to defaults. */
enum apierr
api_admin_put(struct req *r)
{
	return obj_update(r, &admin_class, 1);
}

/* DELETE /admin/:id: 409 for oneself, so nobody locks themselves out. */
enum apierr
api_admin_delete(struct req *r)
{
	struct objrow	 o;
	enum apierr	 rc;

	if ((rc = obj_find(r, &admin_class, req_param(r, "id"), 0, &o)) != API_OK)
		return rc;
	if (strcmp(o.uid, r->who.tok.sub) == 0) {
		objrow_free(&o);
		return req_fail(r, API_CONFLICT, "An admin cannot delete itself");
	}
	objrow_free(&o);
	return obj_delete(r, &admin_class);
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

/* How the keys endpoints combine the stored list with the sent one. */
enum keyop { KEYS_ADD, KEYS_SET, KEYS_REMOVE };

struct keychange {
	enum keyop	 op;
	json_t		*sent;		/* NULL: no body (remove every key) */
};

/* The new "keys" from the locked admin and the request (a change_fn). */
static enum apierr
keys_merge(struct req *r, const struct objrow *o, void *arg, json_t **change)
{
	struct keychange	*kc = arg;
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

static enum apierr
admin_keys(struct req *r, enum keyop op)
{
	struct keychange	 kc;
	enum apierr		 rc;

	kc.op = op;
	kc.sent = NULL;
	if ((r->json != NULL || op != KEYS_REMOVE) &&
	    (kc.sent = keys_body(r, &rc)) == NULL)
		return rc;
	/* Entries are checked (and duplicates dropped) by admin_prepare. */
	rc = obj_change_by(r, &admin_class, req_param(r, "id"), keys_merge, &kc);
	json_decref(kc.sent);
	return rc;
}

/* POST /admin/:id/keys: add keys (duplicates are kept once). */
enum apierr
api_admin_keys_post(struct req *r)
{
	return admin_keys(r, KEYS_ADD);
}

/* PUT /admin/:id/keys: replace the list. */
enum apierr
api_admin_keys_put(struct req *r)
{
	return admin_keys(r, KEYS_SET);
}

/* DELETE /admin/:id/keys: remove the sent keys, or all without a body. */
enum apierr
api_admin_keys_delete(struct req *r)
{
	return admin_keys(r, KEYS_REMOVE);
}

/* GET /admin/:id/gui_settings */
enum apierr
api_admin_gui_get(struct req *r)
{
	return obj_field_get(r, &admin_class, req_param(r, "id"), "gui_settings",
	    json_object());
}

/*
 * PATCH /admin/:id/gui_settings merges the sent keys; DELETE removes the
 * listed keys, or every key without a body.
 */
static enum apierr
admin_gui_change(struct req *r, int removing)
{
	struct fieldedit	 fe = { "gui_settings",
				    removing ? KEYEDIT_REMOVE : KEYEDIT_MERGE };

	if (!removing && !json_is_object(r->json))
		return req_fail(r, API_BAD_REQUEST, "Send a JSON object of settings");
	if (removing && r->json != NULL && !json_is_array(r->json))
		return req_fail(r, API_BAD_REQUEST, "Send a list of setting names");
	return obj_change_by(r, &admin_class, req_param(r, "id"),
	    obj_field_edit, &fe);
}

enum apierr
api_admin_gui_patch(struct req *r)
{
	return admin_gui_change(r, 0);
}

enum apierr
api_admin_gui_delete(struct req *r)
{
	return admin_gui_change(r, 1);
}

/*
 * Create the superadministrator name in the management tenant unless an
 * admin of that name exists.  For `corral-api bootstrap NAME` at first
 * start.  Returns 1 created, 0 existed, -1 error (logged).
 */
int
admin_bootstrap(struct db *db, const struct conf *c, const char *name)
{
	struct req	 r;
	struct objrow	 o;
	char		 uid[UID_LEN + 1];
	enum apierr	 rc;
	long long	 tid;

	if (!valid_name(name) || strlen(name) > ADMIN_NAME_MAX) {
		log_err("bootstrap: %s is not a valid user name", name);
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.db = db;
	r.conf = c;
	snprintf(r.who.tok.name, sizeof(r.who.tok.name), "corral-bootstrap");
	r.who.super = 1;
	tid = tenant_lookup(&r, MGMT_TENANT, &rc);
	if (rc != API_OK || tid == 0) {
		log_err("bootstrap: no management tenant (run scripts/migrate)");
		return -1;
	}
	if ((rc = obj_find(&r, &admin_class, name, 0, &o)) == API_OK) {
		objrow_free(&o);
		return 0;
	}
	if (rc != API_NOT_FOUND) {
		log_err("bootstrap: %s", r.reason);
		return -1;
	}
	rc = obj_create(&r, &admin_class, json_pack("{s:s, s:s, s:o}",
	    "name", name, "description", "Superadministrator (created at "
	    "first start)", "roles", roles_json(ROLE_AUTHUSER | ROLE_FULLADMIN)),
	    tid, uid);
	if (rc != API_OK) {
		log_err("bootstrap: %s", r.reason);
		return -1;
	}
	return 1;
}
