/*
 * Attributes (reference: "Attribute-Group Objects", and node attributes):
 * one level of key-value pairs that nodes inherit from groups, the
 * merged view a node sees, the secrets among them, and what a node may
 * write about itself.
 *
 * The reference says the store "can only reference one level": values
 * are strings, numbers or booleans, never objects or lists.
 *
 * Secrets.  Keys named by [attributes] secret_keys (default ipmi_pass,
 * redfish_pass, bmc_pass) hold BMC credentials.  Their values are sealed
 * when an object is stored: the document keeps "********" and the value
 * goes to object_secrets, so every list and every object GET, spliced
 * from the stored text, shows the mask and nothing else.  Only the
 * endpoints where the reference shows them (/<class>/:id/attributes and
 * /node/:id/power_uri) unseal them, and only for role.configadmin and
 * above of the owning tenant, and for corral-jobd (attrs_node_view).
 * Writing "********" back keeps the stored value, so a client may PUT
 * what it read.
 *
 * At rest a secret is sealed (crypto.c): object_secrets.v holds the
 * JSON string "cs1:<data key id>:<base64>", bound to the object and the
 * key.  A value stored before that (migration 0004) is {"clear": value}
 * after migration 0006, or the bare value if written by hand; the
 * corral-api master seals those when it starts (attrs_seal_stored).
 *
 * Merging, later keys overriding earlier ones: the tenant's default_group
 * (the group of that name in the node's tenant), the node's groups in
 * order (or, when it has none, its naming pool's group), then the node's
 * own attributes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define ATTR_KEY_MAX	64
#define ATTR_VALUE_MAX	4096
#define ATTRS_MAX	512

/* Whether k is an attribute key: 1–64 of [A-Za-z0-9_.-]. */
static int
valid_attr_key(const char *k)
{
	size_t	 i;

	for (i = 0; k[i] != '\0'; i++)
		if (i >= ATTR_KEY_MAX || !((k[i] >= 'a' && k[i] <= 'z') ||
		    (k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= '0' && k[i] <= '9') ||
		    k[i] == '_' || k[i] == '.' || k[i] == '-'))
			return 0;
	return i > 0;
}

/*
 * Check an attributes object: keys, one level of scalar values, bounded
 * sizes.  API_OK, or API_BAD_REQUEST naming the key in why.
 */
enum apierr
attrs_check(const json_t *attrs, char *why, size_t whysz)
{
	const char	*k;
	json_t		*v;

	if (!json_is_object(attrs)) {
		snprintf(why, whysz, "Attributes must be a JSON object of "
		    "key-value pairs");
		return API_BAD_REQUEST;
	}
	if (json_object_size(attrs) > ATTRS_MAX) {
		snprintf(why, whysz, "At most %d attributes", ATTRS_MAX);
		return API_BAD_REQUEST;
	}
	json_object_foreach((json_t *)(uintptr_t)attrs, k, v) {
		if (!valid_attr_key(k)) {
			snprintf(why, whysz, "Attribute key %.64s must be 1 to "
			    "%d letters, digits, '_', '.' or '-'",
			    valid_text(k, 64) ? k : "?", ATTR_KEY_MAX);
			utf8_clean(why);
			return API_BAD_REQUEST;
		}
		if (json_is_string(v) &&
		    !valid_text(json_string_value(v), ATTR_VALUE_MAX)) {
			snprintf(why, whysz, "Attribute %s: text of at most %d "
			    "bytes without control characters", k, ATTR_VALUE_MAX);
			return API_BAD_REQUEST;
		}
		if (!json_is_string(v) && !json_is_number(v) &&
		    !json_is_boolean(v)) {
			snprintf(why, whysz, "Attribute %s must be a string, a "
			    "number or true/false", k);
			return API_BAD_REQUEST;
		}
	}
	return API_OK;
}

/* Whether key's values are secrets ([attributes] secret_keys). */
int
attr_is_secret(const struct conf *conf, const char *key)
{
	return conf_list_has(conf->attr_secret_keys, key);
}

static int
is_mask(const json_t *v)
{
	return json_is_string(v) && strcmp(json_string_value(v), SECRET_MASK) == 0;
}

/* The F_ATTRS field of cls, or NULL: where its secrets live. */
static const struct field *
attrs_field(const struct objclass *cls)
{
	size_t	 i;

	for (i = 0; i < cls->spec.nfields; i++)
		if (cls->spec.fields[i].type == F_ATTRS)
			return &cls->spec.fields[i];
	return NULL;
}

/* The sealed values of object uid, key -> JSON text, into *out (new). */
static enum apierr
secrets_load(struct ctx *c, const char *uid, json_t **out)
{
	char		*k, *v;
	enum dbrc	 rc;

	*out = json_object();
	if ((rc = db_run(c->db, SQL_SECRET_LIST, "s", uid)) != DB_OK)
		return ctx_dbfail(c, rc);
	while ((rc = db_next(c->db, SQL_SECRET_LIST, "ss", &k, &v)) == DB_OK) {
		json_object_set_new(*out, k, json_string(v));
		free(k);
		free(v);
	}
	db_done(c->db, SQL_SECRET_LIST);
	return rc == DB_DONE ? API_OK : ctx_dbfail(c, rc);
}

/* Whether v, a stored secret decoded, is a sealed value. */
static int
is_sealed(const json_t *v)
{
	return json_is_string(v) && strncmp(json_string_value(v), SEAL_PREFIX,
	    strlen(SEAL_PREFIX)) == 0;
}

/*
 * Seal value v of object uid's (of tenant) attribute k: the JSON text to
 * store (new reference, a JSON string) into *out.
 */
static enum apierr
seal_value(struct ctx *c, long long tenant, const char *uid, const char *k,
    const json_t *v, json_t **out)
{
	char		*clear, *sealed, *text;
	json_t		*s;
	enum apierr	 rc;

	*out = NULL;
	if ((clear = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return ctx_internal(c, "attribute %s cannot be encoded", k);
	rc = crypto_seal(c, tenant, uid, k, clear, &sealed);
	crypto_clear_free(clear);
	if (rc != API_OK)
		return rc;
	s = json_string(sealed);
	text = json_dumps(s, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(s);
	free(sealed);
	*out = json_string(text);
	free(text);
	return API_OK;
}

/*
 * The clear value (new reference) of object uid's secret k, stored as
 * text: sealed, or still clear as migration 0006 left it ({"clear": v})
 * or as 0004 stored it (v).  A stored text that is not JSON is a 500.
 */
static enum apierr
secret_open(struct ctx *c, const char *uid, const char *k, const char *text,
    json_t **out)
{
	json_t		*v;
	char		*clear;
	enum apierr	 rc;

	*out = NULL;
	if ((v = json_loads(text, JSON_DECODE_ANY, NULL)) == NULL)
		return ctx_internal(c, "secret %s of %s: stored text is not JSON",
		    k, uid);
	if (!is_sealed(v)) {
		if (json_is_object(v) && json_object_get(v, "clear") != NULL)
			*out = json_incref(json_object_get(v, "clear"));
		else
			*out = json_incref(v);
		json_decref(v);
		return API_OK;
	}
	rc = crypto_unseal(c, uid, k, json_string_value(v), &clear);
	json_decref(v);
	if (rc != API_OK)
		return rc;
	*out = json_loads(clear, JSON_DECODE_ANY, NULL);
	crypto_clear_free(clear);
	if (*out == NULL)
		return ctx_internal(c, "secret %s of %s: sealed text is not JSON",
		    k, uid);
	return API_OK;
}

/*
 * Seal the secrets of object o (class cls), before its document is
 * written: each new secret value moves from the document (which keeps
 * the mask) to *sealed (key -> JSON text, sealed; new reference); "********"
 * keeps the stored value (a 400 when none is stored); a stored secret
 * whose key is gone, or no longer holds the mask, is marked for deletion
 * (key -> null).  attrs_seal_write stores that once the row exists.
 */
enum apierr
attrs_seal(struct ctx *c, const struct objclass *cls, struct objrow *o,
    json_t **sealed)
{
	const struct field	*f = attrs_field(cls);
	const char		*k;
	json_t			*attrs, *stored = NULL, *v, *text;
	enum apierr		 rc = API_OK;

	*sealed = json_object();
	if (f == NULL)
		return API_OK;
	attrs = json_object_get(o->doc, f->name);
	if (o->version != 0 && (rc = secrets_load(c, o->uid, &stored)) != API_OK)
		goto out;
	json_object_foreach(stored, k, v)
		if (!is_mask(json_object_get(attrs, k)))
			json_object_set_new(*sealed, k, json_null());
	json_object_foreach(attrs, k, v) {
		if (!attr_is_secret(c->conf, k))
			continue;
		if (is_mask(v)) {
			if (json_object_get(stored, k) == NULL) {
				rc = ctx_fail(c, API_BAD_REQUEST, "Attribute %s: "
				    "%s stands for the stored secret, and none "
				    "is stored", k, SECRET_MASK);
				goto out;
			}
			continue;
		}
		if ((rc = seal_value(c, o->tenant_id, o->uid, k, v, &text)) !=
		    API_OK)
			goto out;
		json_object_set_new(*sealed, k, text);
		json_object_set_new(attrs, k, json_string(SECRET_MASK));
	}
out:
	json_decref(stored);
	return rc;
}

/*
 * Seal object from_uid's secret values again for object to_uid of tenant
 * to_tenant and store them there (in the caller's transaction; to_uid's
 * row exists).  A sealed value is bound to its object and tenant, so a
 * node's BMC secrets that move to the management tenant's keeping while
 * the node is leased (tenancy.c) are opened and sealed again, never
 * copied.  Values to_uid already has under the same keys are replaced.
 */
enum apierr
attrs_secrets_copy(struct ctx *c, const char *from_uid, const char *to_uid,
    long long to_tenant)
{
	const char	*k;
	json_t		*stored = NULL, *v, *clear = NULL, *text = NULL;
	enum apierr	 rc;
	enum dbrc	 drc;

	if ((rc = secrets_load(c, from_uid, &stored)) != API_OK)
		goto out;
	json_object_foreach(stored, k, v) {
		if ((rc = secret_open(c, from_uid, k, json_string_value(v),
		    &clear)) != API_OK ||
		    (rc = seal_value(c, to_tenant, to_uid, k, clear, &text)) !=
		    API_OK)
			goto out;
		if ((drc = db_run(c->db, SQL_SECRET_PUT, "sss", to_uid, k,
		    json_string_value(text))) != DB_OK) {
			rc = ctx_dbfail(c, drc);
			goto out;
		}
		json_decref(clear);
		json_decref(text);
		clear = text = NULL;
	}
out:
	json_decref(clear);
	json_decref(text);
	json_decref(stored);
	return rc;
}

/* Store what attrs_seal decided for object uid, in the caller's transaction. */
enum apierr
attrs_seal_write(struct ctx *c, const char *uid, const json_t *sealed)
{
	const char	*k;
	json_t		*v;
	enum dbrc	 rc = DB_OK;

	json_object_foreach((json_t *)(uintptr_t)sealed, k, v) {
		if (json_is_null(v))
			rc = db_run(c->db, SQL_SECRET_DELETE, "ss", uid, k);
		else
			rc = db_run(c->db, SQL_SECRET_PUT, "sss", uid, k,
			    json_string_value(v));
		if (rc != DB_OK)
			return ctx_dbfail(c, rc);
	}
	return API_OK;
}

/*
 * Put the stored values of object uid's secrets, decrypted, in place of
 * their masks in attrs (its attributes, changed in place).  Only for a
 * scope that scope_sees_secrets allows, or corral-jobd; the caller
 * decides.  A value that does not decrypt is a 409 naming it (crypto.c).
 */
enum apierr
attrs_unseal(struct ctx *c, const char *uid, json_t *attrs)
{
	const char	*k;
	json_t		*stored, *v, *clear;
	enum apierr	 rc;

	if ((rc = secrets_load(c, uid, &stored)) != API_OK) {
		json_decref(stored);
		return rc;
	}
	json_object_foreach(stored, k, v) {
		if (!is_mask(json_object_get(attrs, k)))
			continue;
		if ((rc = secret_open(c, uid, k, json_string_value(v), &clear)) !=
		    API_OK)
			break;
		json_object_set_new(attrs, k, clear);
	}
	json_decref(stored);
	return rc;
}

/* One transaction of attrs_seal_stored. */
static enum apierr
seal_stored_once(struct ctx *c, long long *count)
{
	const char	*cuid, *ck, *cv;
	char		*uid, *k, *v;
	long long	 tid;
	json_t		*rows, *row, *clear, *text;
	size_t		 i;
	enum dbrc	 rc;
	enum apierr	 arc = API_OK;

	*count = 0;
	rows = json_array();
	if ((rc = db_begin(c->db)) != DB_OK ||
	    (rc = db_run(c->db, SQL_SECRET_CLEAR_LOCK, "")) != DB_OK) {
		json_decref(rows);
		return ctx_dbfail(c, rc);
	}
	while ((rc = db_next(c->db, SQL_SECRET_CLEAR_LOCK, "sssi", &uid, &k, &v,
	    &tid)) == DB_OK) {
		json_array_append_new(rows, json_pack("[s, s, s, I]", uid, k, v,
		    (json_int_t)tid));
		free(uid);
		free(k);
		free(v);
	}
	db_done(c->db, SQL_SECRET_CLEAR_LOCK);
	if (rc != DB_DONE)
		arc = ctx_dbfail(c, rc);
	json_array_foreach(rows, i, row) {
		if (arc != API_OK)
			break;
		cuid = json_string_value(json_array_get(row, 0));
		ck = json_string_value(json_array_get(row, 1));
		cv = json_string_value(json_array_get(row, 2));
		clear = json_loads(cv, JSON_DECODE_ANY, NULL);
		/* Sealed, but spelt otherwise than corral writes it. */
		if (clear != NULL && is_sealed(clear)) {
			json_decref(clear);
			continue;
		}
		json_decref(clear);
		if ((arc = secret_open(c, cuid, ck, cv, &clear)) != API_OK)
			break;
		arc = seal_value(c, json_integer_value(json_array_get(row, 3)),
		    cuid, ck, clear, &text);
		json_decref(clear);
		if (arc != API_OK)
			break;
		if ((rc = db_run(c->db, SQL_SECRET_PUT, "sss", cuid, ck,
		    json_string_value(text))) != DB_OK)
			arc = ctx_dbfail(c, rc);
		json_decref(text);
		(*count)++;
	}
	json_decref(rows);
	if (arc != API_OK) {
		db_rollback(c->db);
		*count = 0;
		return arc;
	}
	if ((rc = db_commit(c->db)) != DB_OK) {
		*count = 0;
		return ctx_dbfail(c, rc);
	}
	return API_OK;
}

/*
 * Seal every secret value still stored in the clear (from before
 * migration 0006, or written by hand), in one transaction; *sealed says
 * how many.  Idempotent, and safe with several heads doing it at once:
 * the rows are locked, and a transaction that loses to another head's
 * (a conflict) is tried again and then finds nothing left to do.
 */
enum apierr
attrs_seal_stored(struct ctx *c, long long *sealed)
{
	enum apierr	 rc = API_OK;
	int		 tries;

	for (tries = 0; tries < 3; tries++)
		if ((rc = seal_stored_once(c, sealed)) != API_CONFLICT)
			break;
	return rc;
}

void
attrview_free(struct attrview *v)
{
	json_decref(v->groups);
	json_decref(v->byname);
	json_decref(v->pool_group);
	free(v->default_group);
	memset(v, 0, sizeof(*v));
}

/* An attrview and the context it loads in, for obj_each's callbacks. */
struct viewload {
	struct attrview	*v;
	struct ctx	*c;
	enum apierr	 rc;
};

static void
view_add_group(const struct objrow *o, void *arg)
{
	struct viewload	*vl = arg;
	json_t		*a = json_object_get(o->doc, "attributes");

	a = a != NULL ? json_deep_copy(a) : json_object();
	if (vl->v->clear && vl->rc == API_OK)
		vl->rc = attrs_unseal(vl->c, o->uid, a);
	json_object_set_new(vl->v->groups, o->uid, a);
	json_object_set_new(vl->v->byname, o->name, json_string(o->uid));
}

static void
view_add_pool(const struct objrow *o, void *arg)
{
	struct viewload	*vl = arg;
	json_t		*g = json_object_get(o->doc, "group");

	if (json_is_string(g))
		json_object_set(vl->v->pool_group, o->uid, g);
}

/*
 * Load what merging the attributes of tenant tid's nodes needs; with
 * clear, the groups' secrets are unsealed (see attrs_unseal).
 */
enum apierr
attrview_load(struct ctx *c, long long tid, int clear, struct attrview *v)
{
	struct viewload	 vl = { v, c, API_OK };
	enum apierr	 rc;

	memset(v, 0, sizeof(*v));
	v->groups = json_object();
	v->byname = json_object();
	v->pool_group = json_object();
	v->clear = clear;
	if ((rc = obj_each(c, &attrib_class, tid, view_add_group, &vl)) != API_OK ||
	    (rc = vl.rc) != API_OK ||
	    (rc = obj_each(c, &namingpool_class, tid, view_add_pool, &vl)) !=
	    API_OK ||
	    (rc = setting_string(c, tid, "default_group", &v->default_group)) !=
	    API_OK)
		attrview_free(v);
	return rc;
}

/*
 * The attributes node doc sees (new reference), its own being own (its
 * "attributes", perhaps unsealed; NULL for none): see the top of the file.
 */
json_t *
attrs_merged(const struct attrview *v, const json_t *doc, const json_t *own)
{
	json_t		*out, *groups, *g, *from[66];
	const char	*uid;
	size_t		 i, n = 0;

	if (v->default_group != NULL && (uid = json_string_value(
	    json_object_get(v->byname, v->default_group))) != NULL &&
	    (g = json_object_get(v->groups, uid)) != NULL)
		from[n++] = g;
	groups = json_object_get(doc, "groups");
	if (json_array_size(groups) > 0) {
		json_array_foreach(groups, i, g)
			if (n < nitems(from) - 1 && (g = json_object_get(v->groups,
			    json_string_value(g))) != NULL)
				from[n++] = g;
	} else if ((uid = json_string_value(json_object_get(v->pool_group,
	    json_string_value(json_object_get(doc, "naming_pool"))))) != NULL &&
	    (g = json_object_get(v->groups, uid)) != NULL)
		from[n++] = g;
	/* Most nodes inherit nothing: their own attributes are the view. */
	if (n == 0)
		return json_is_object(own) ? json_incref((json_t *)(uintptr_t)own) :
		    json_object();
	out = json_object();
	for (i = 0; i < n; i++)
		json_object_update(out, from[i]);
	if (json_is_object(own))
		json_object_update(out, (json_t *)(uintptr_t)own);
	return out;
}

/*
 * The attributes node sees (new reference in *out): merged from its
 * groups; with clear, the secrets decrypted (the caller decides: a scope
 * that scope_sees_secrets allows, or corral-jobd filling a power URI).
 */
enum apierr
attrs_node_view(struct ctx *c, const struct objrow *node, int clear,
    json_t **out)
{
	struct attrview	 v;
	json_t		*own;
	enum apierr	 rc;

	*out = NULL;
	/* Unsealing writes into them: a copy, then, else the stored ones. */
	own = json_object_get(node->doc, "attributes");
	own = clear && json_is_object(own) ? json_deep_copy(own) :
	    json_incref(own);
	if ((clear && own != NULL && (rc = attrs_unseal(c, node->uid, own)) !=
	    API_OK) || (rc = attrview_load(c, node->tenant_id, clear, &v)) !=
	    API_OK) {
		json_decref(own);
		return rc;
	}
	*out = attrs_merged(&v, node->doc, own);
	attrview_free(&v);
	json_decref(own);
	return API_OK;
}

/* A tmpl_lookup that records each <name> a template refers to. */
static const char *
name_collect(const char *name, void *arg)
{
	json_array_append_new(arg, json_string(name));
	return "x";
}

/*
 * Whether the node itself (a report from its own address, or an operator
 * on its behalf) may write attrs into its record.  Protected: keys
 * starting with '_' (boot configuration and the like are the admins'),
 * secret keys, every key the node's power_uri or redfish_uri template is
 * filled from, and [attributes] node_protected.  403 naming the key.
 */
enum apierr
attrs_node_may_write(struct ctx *c, const struct objrow *node,
    const json_t *attrs)
{
	static const char *const uris[] = { "power_uri", "redfish_uri" };
	const char	*k, *tmpl;
	json_t		*v, *named;
	char		*out, err[128];
	size_t		 i;
	enum apierr	 rc = API_OK;

	named = json_array();
	for (i = 0; i < nitems(uris); i++) {
		tmpl = json_string_value(json_object_get(node->doc, uris[i]));
		out = NULL;
		if (tmpl != NULL)
			(void)tmpl_expand(tmpl, name_collect, named, URI_MAX_LEN,
			    &out, err, sizeof(err));
		free(out);
	}
	json_object_foreach((json_t *)(uintptr_t)attrs, k, v) {
		if (k[0] == '_')
			rc = ctx_fail(c, API_FORBIDDEN, "A node may not set "
			    "attribute %s: keys starting with '_' are the "
			    "admins'", k);
		else if (attr_is_secret(c->conf, k))
			rc = ctx_fail(c, API_FORBIDDEN, "A node may not set "
			    "attribute %s: it is a secret", k);
		else if (json_list_has(named, k))
			rc = ctx_fail(c, API_FORBIDDEN, "A node may not set "
			    "attribute %s: its power URI is filled from it", k);
		else if (conf_list_has(c->conf->attr_node_protected, k))
			rc = ctx_fail(c, API_FORBIDDEN, "A node may not set "
			    "attribute %s: it is protected ([attributes] "
			    "node_protected)", k);
		if (rc != API_OK)
			break;
	}
	json_decref(named);
	return rc;
}

/*
 * GET /<class>/:id/attributes: the object's own key-value pairs, secrets
 * in the clear for role.configadmin and above of its tenant.
 */
enum apierr
api_attrs_get(struct req *r)
{
	struct objrow	 o;
	json_t		*a;
	enum apierr	 rc;

	if ((rc = obj_find(&r->ctx, r->route->cls, req_param(r, "id"), 0, &o)) !=
	    API_OK)
		return rc;
	a = json_object_get(o.doc, "attributes");
	a = json_is_object(a) ? json_deep_copy(a) : json_object();
	if (scope_sees_secrets(&r->ctx.scope, o.tenant_id) &&
	    (rc = attrs_unseal(&r->ctx, o.uid, a)) != API_OK)
		json_decref(a);
	else
		r->data = a;
	objrow_free(&o);
	return rc;
}

/*
 * PUT /<class>/:id/attributes replaces every pair, PATCH sets the sent
 * keys and keeps the rest, DELETE removes one key or a list of keys:
 * the route's argument is the enum keyedit.
 */
enum apierr
api_attrs_edit(struct req *r)
{
	const enum keyedit	*op = r->route->arg;
	struct fieldedit	 fe = { "attributes", *op, r->json };
	json_t			*e;
	enum apierr		 rc;
	size_t			 i;

	if (*op == KEYEDIT_REMOVE) {
		/* One key or a list of keys, as the reference says. */
		if (json_is_array(r->json)) {
			json_array_foreach(r->json, i, e)
				if (!json_is_string(e))
					return req_fail(r, API_BAD_REQUEST,
					    "Send a key or a list of keys");
		} else if (!json_is_string(r->json))
			return req_fail(r, API_BAD_REQUEST,
			    "Send a key or a list of keys");
	} else if ((rc = attrs_check(r->json, r->ctx.reason,
	    sizeof(r->ctx.reason))) != API_OK)
		return rc;
	return obj_change_by(&r->ctx, r->route->cls, req_param(r, "id"),
	    obj_field_edit, &fe);
}
