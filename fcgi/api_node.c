/*
 * What nodes have beyond the basic operations (reference: "Node
 * Objects", "Additional Endpoints"): merged attributes, the groups list,
 * status reports, the expanded power URI; and the endpoints that find
 * nodes: a dynamic group's members, a naming pool's info and push,
 * /whereami.
 *
 * A node's attributes, as it sees them, are merged in this order, later
 * keys overriding earlier ones: the cluster's default_group (the group of
 * that name in the node's tenant), the node's groups in order (or, when
 * it has none, its naming pool's group), then the node's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define STATUS_MAX	(256 * 1024)	/* bytes of one status report */

/* What merging nodes' attributes needs, loaded once per request. */
struct attrview {
	json_t	*groups;	/* attribute group UID -> its attributes */
	json_t	*byname;	/* "<tenant>:<name>" -> group UID */
	json_t	*pool_group;	/* naming pool UID -> group UID */
	char	*default_group;	/* the cluster's default_group, or NULL */
};

static void
attrview_free(struct attrview *v)
{
	json_decref(v->groups);
	json_decref(v->byname);
	json_decref(v->pool_group);
	free(v->default_group);
	memset(v, 0, sizeof(*v));
}

static void
view_add_group(const struct objrow *o, void *arg)
{
	struct attrview	*v = arg;
	char		 key[NAME_MAX_LEN + 32];
	json_t		*a = json_object_get(o->doc, "attributes");

	json_object_set_new(v->groups, o->uid, a ? json_incref(a) : json_object());
	snprintf(key, sizeof(key), "%lld:%s", o->tenant_id, o->name);
	json_object_set_new(v->byname, key, json_string(o->uid));
}

static void
view_add_pool(const struct objrow *o, void *arg)
{
	struct attrview	*v = arg;
	json_t		*g = json_object_get(o->doc, "group");

	if (json_is_string(g))
		json_object_set(v->pool_group, o->uid, g);
}

/* Load what merging the attributes of tenant tid's nodes (0: all) needs. */
static enum apierr
attrview_load(struct req *r, long long tid, struct attrview *v)
{
	enum apierr	 rc;

	memset(v, 0, sizeof(*v));
	v->groups = json_object();
	v->byname = json_object();
	v->pool_group = json_object();
	if ((rc = obj_each(r, "attrib", tid, view_add_group, v)) != API_OK ||
	    (rc = obj_each(r, "namingpool", tid, view_add_pool, v)) != API_OK ||
	    (rc = cluster_setting_string(r, "default_group", &v->default_group)) !=
	    API_OK)
		attrview_free(v);
	return rc;
}

static void
merge_group(json_t *out, const struct attrview *v, const char *uid)
{
	json_t	*a;

	if (uid != NULL && (a = json_object_get(v->groups, uid)) != NULL)
		json_object_update(out, a);
}

/* The attributes node doc of tenant tid sees (new reference). */
static json_t *
node_attrs_merged(const struct attrview *v, long long tid, const json_t *doc)
{
	json_t	*out = json_object(), *groups, *g, *own;
	char	 key[NAME_MAX_LEN + 32];
	size_t	 i;

	if (v->default_group != NULL) {
		snprintf(key, sizeof(key), "%lld:%s", tid, v->default_group);
		merge_group(out, v, json_string_value(json_object_get(v->byname,
		    key)));
	}
	groups = json_object_get(doc, "groups");
	if (json_array_size(groups) > 0)
		json_array_foreach(groups, i, g)
			merge_group(out, v, json_string_value(g));
	else
		merge_group(out, v, json_string_value(json_object_get(
		    v->pool_group, json_string_value(json_object_get(doc,
		    "naming_pool")))));
	if ((own = json_object_get(doc, "attributes")) != NULL &&
	    json_is_object(own))
		json_object_update(out, own);
	return out;
}

/* GET /node/:id/attributes: the merged view. */
enum apierr
api_node_attrs_get(struct req *r)
{
	struct objrow	 o;
	struct attrview	 v;
	enum apierr	 rc;

	if ((rc = obj_find(r, &node_class, req_param(r, "id"), 0, &o)) != API_OK)
		return rc;
	if ((rc = attrview_load(r, o.tenant_id, &v)) == API_OK) {
		r->data = node_attrs_merged(&v, o.tenant_id, o.doc);
		attrview_free(&v);
	}
	objrow_free(&o);
	return rc;
}

/* GET /node/:id/groups: the node's attribute groups, UIDs in order. */
enum apierr
api_node_groups_get(struct req *r)
{
	return obj_field_get(r, &node_class, req_param(r, "id"), "groups",
	    json_array());
}

/* One group ID or a list of them, from the body; NULL if it is neither. */
static json_t *
body_id_list(struct req *r)
{
	json_t	*e;
	size_t	 i;

	if (json_is_string(r->json))
		return json_pack("[O]", r->json);
	if (!json_is_array(r->json) || json_array_size(r->json) == 0 ||
	    json_array_size(r->json) > 64)
		return NULL;
	json_array_foreach(r->json, i, e)
		if (!json_is_string(e))
			return NULL;
	return json_incref(r->json);
}

/*
 * A change_fn: the node's groups with the body's appended (arg non-NULL)
 * or removed, each named by UID or name in the node's tenant.
 */
static enum apierr
groups_edit(struct req *r, const struct objrow *node, void *arg,
    json_t **change)
{
	struct objrow	 g;
	json_t		*ids, *groups, *e;
	enum apierr	 rc = API_OK;
	size_t		 i;

	if ((ids = body_id_list(r)) == NULL)
		return req_fail(r, API_BAD_REQUEST, "Send a group or a list of "
		    "up to 64 groups");
	groups = arg != NULL ? json_deep_copy(json_object_get(node->doc,
	    "groups")) : json_array();
	if (!json_is_array(groups)) {
		json_decref(groups);
		groups = json_array();
	}
	json_array_foreach(ids, i, e) {
		if ((rc = obj_ref_load(r, "attrib", "groups", node->tenant_id,
		    json_string_value(e), &g)) != API_OK)
			break;
		if (arg != NULL && !json_list_has(groups, g.uid))
			json_array_append_new(groups, json_string(g.uid));
		else if (arg == NULL)
			json_array_set_new(ids, i, json_string(g.uid));
		objrow_free(&g);
	}
	if (rc == API_OK && arg == NULL)
		json_array_foreach(json_object_get(node->doc, "groups"), i, e)
			if (!json_list_has(ids, json_string_value(e)))
				json_array_append(groups, e);
	json_decref(ids);
	if (rc != API_OK) {
		json_decref(groups);
		return rc;
	}
	*change = json_pack("{s:o}", "groups", groups);
	return API_OK;
}

/* POST /node/:id/groups: append one group or a list, order kept. */
enum apierr
api_node_groups_post(struct req *r)
{
	static int	 append = 1;

	return obj_change_by(r, &node_class, req_param(r, "id"), groups_edit,
	    &append);
}

/* DELETE /node/:id/groups: remove one group or a list. */
enum apierr
api_node_groups_delete(struct req *r)
{
	return obj_change_by(r, &node_class, req_param(r, "id"), groups_edit,
	    NULL);
}

/* The node's last status report (new reference; {} if none), or NULL. */
static json_t *
status_load(struct req *r, const char *uid, enum apierr *arc)
{
	char		*s = NULL, err[128];
	double		 at;
	json_t		*st = NULL;
	enum dbrc	 rc;

	if ((rc = db_run(r->db, SQL_STATUS_GET, "s", uid)) != DB_OK) {
		*arc = req_dbfail(r, rc);
		return NULL;
	}
	rc = db_next(r->db, SQL_STATUS_GET, "sd", &s, &at);
	db_done(r->db, SQL_STATUS_GET);
	if (rc == DB_OK)
		st = json_decode_strict(s, strlen(s), err, sizeof(err));
	else if (rc == DB_DONE)
		st = json_object();
	free(s);
	if (st == NULL)
		*arc = req_dbfail(r, rc == DB_OK ? DB_ERROR : rc);
	return st;
}

/* GET /node/:id/status: what the node last reported. */
enum apierr
api_node_status_get(struct req *r)
{
	struct objrow	 o;
	enum apierr	 rc = API_OK;

	if ((rc = obj_find(r, &node_class, req_param(r, "id"), 0, &o)) != API_OK)
		return rc;
	r->data = status_load(r, o.uid, &rc);
	objrow_free(&o);
	return rc;
}

/* The body fields of a status report. */
static const struct field report_fields[] = {
	{ "uid",      F_STRING, F_REQUIRED, 64, "The node: UID, name, MAC or IP" },
	{ "status",   F_OBJECT, 0,	    STATUS_MAX, "The node's status" },
	{ "hardware", F_OBJECT, 0,	    65536, "The node's hardware" },
};
const struct bodyspec b_putstatus_uid = { report_fields, 3, 0 };
const struct bodyspec b_putstatus = { report_fields + 1, 2, 0 };

/* A change_fn setting the hardware the report holds (arg). */
static enum apierr
hardware_set(struct req *r, const struct objrow *node, void *arg,
    json_t **change)
{
	*change = json_pack("{s:O}", "hardware", (json_t *)arg);
	return API_OK;
}

/* A change_fn merging the attributes in arg into the node's own. */
static enum apierr
attrs_merge(struct req *r, const struct objrow *node, void *arg,
    json_t **change)
{
	*change = json_pack("{s:o}", "attributes", json_keys_edit(
	    json_object_get(node->doc, "attributes"), arg, KEYEDIT_MERGE));
	return API_OK;
}

/* Record a status report for node uid: its status, then its hardware. */
static enum apierr
report_store(struct req *r, const char *uid, const json_t *body)
{
	json_t		*st = json_object_get(body, "status"),
			*hw = json_object_get(body, "hardware");
	char		*s;
	enum dbrc	 rc;

	if (st == NULL && hw == NULL)
		return req_fail(r, API_BAD_REQUEST, "Send status, hardware "
		    "or both");
	if (st != NULL) {
		s = json_dumps(st, JSON_COMPACT);
		rc = db_run(r->db, SQL_STATUS_PUT, "ssd", uid, s, time_now());
		free(s);
		if (rc != DB_OK)
			return req_dbfail(r, rc);
	}
	if (hw != NULL)
		return obj_change_by(r, &node_class, uid, hardware_set, hw);
	return API_OK;
}

/*
 * The node whose address is the request's (valid) source address, in
 * whatever tenant, into o: addresses are unique cluster-wide.
 * API_NOT_FOUND if no node has it.
 */
static enum apierr
node_at_source(struct req *r, struct objrow *o)
{
	int		 super = r->who.super;
	enum apierr	 rc;

	r->who.super = 1;
	rc = obj_find(r, &node_class, r->remote_addr, 0, o);
	r->who.super = super;
	return rc;
}

/*
 * The node reporting from the request's source address, into o; from
 * now on the request acts in that node's tenant, in the node's name.
 * 403 for an address no node has.
 */
static enum apierr
node_by_source(struct req *r, struct objrow *o)
{
	enum apierr	 rc;

	if (r->remote_addr == NULL || !valid_ip(r->remote_addr))
		return req_fail(r, API_FORBIDDEN, "No source address");
	if ((rc = node_at_source(r, o)) == API_NOT_FOUND)
		return req_fail(r, API_FORBIDDEN, "No node has address %s",
		    r->remote_addr);
	if (rc != API_OK)
		return rc;
	r->who.tok.tid = o->tenant_id;
	snprintf(r->who.tok.name, sizeof(r->who.tok.name), "node:%s", o->name);
	return API_OK;
}

/*
 * The tenant a public endpoint answers for: that of the node at the
 * caller's address, else the management tenant's (the operator's own
 * network).  Another tenant's objects are never shown to a stranger.
 * 0 with *err set on failure.
 */
long long
public_tenant(struct req *r, enum apierr *err)
{
	struct objrow	 o;
	long long	 tid;

	*err = API_OK;
	if (r->remote_addr != NULL && valid_ip(r->remote_addr)) {
		if ((*err = node_at_source(r, &o)) == API_OK) {
			tid = o.tenant_id;
			objrow_free(&o);
			return tid;
		}
		if (*err != API_NOT_FOUND)
			return 0;
		*err = API_OK;
		r->reason[0] = '\0';
	}
	return tenant_lookup(r, MGMT_TENANT, err);
}

/* POST /node/putstatus: a report for the node named by "uid". */
enum apierr
api_node_putstatus_post(struct req *r)
{
	struct objrow	 o;
	enum apierr	 rc;

	if ((rc = obj_find(r, &node_class, json_string_value(json_object_get(
	    r->json, "uid")), 0, &o)) != API_OK)
		return rc;
	rc = report_store(r, o.uid, r->json);
	objrow_free(&o);
	return rc;
}

/* PUT /node/putstatus: a report from the node itself, known by its address. */
enum apierr
api_node_putstatus_put(struct req *r)
{
	struct objrow	 o;
	enum apierr	 rc;

	if ((rc = node_by_source(r, &o)) != API_OK)
		return rc;
	rc = report_store(r, o.uid, r->json);
	objrow_free(&o);
	return rc;
}

/* Merge attrs (checked here) into node id's own attributes. */
static enum apierr
putattribs(struct req *r, const char *id, json_t *attrs)
{
	enum apierr	 rc;

	if (json_object_size(attrs) == 0)
		return req_fail(r, API_BAD_REQUEST, "Send at least one attribute");
	if ((rc = attrs_check(r, attrs)) != API_OK)
		return rc;
	return obj_change_by(r, &node_class, id, attrs_merge, attrs);
}

/* POST /node/putattribs: {"uid": node, key: value, ...}. */
enum apierr
api_node_putattribs_post(struct req *r)
{
	json_t		*attrs, *id;
	char		 uid[72];
	enum apierr	 rc;

	if (!json_is_object(r->json) ||
	    !json_is_string(id = json_object_get(r->json, "uid")) ||
	    !valid_text(json_string_value(id), 64))
		return req_fail(r, API_BAD_REQUEST, "Missing required field: uid");
	snprintf(uid, sizeof(uid), "%s", json_string_value(id));
	attrs = json_deep_copy(r->json);
	json_object_del(attrs, "uid");
	rc = putattribs(r, uid, attrs);
	json_decref(attrs);
	return rc;
}

/* PUT /node/putattribs: attributes from the node itself. */
enum apierr
api_node_putattribs_put(struct req *r)
{
	struct objrow	 o;
	enum apierr	 rc;

	if (!json_is_object(r->json))
		return req_fail(r, API_BAD_REQUEST, "Expected a JSON object");
	if ((rc = node_by_source(r, &o)) != API_OK)
		return rc;
	rc = putattribs(r, o.uid, r->json);
	objrow_free(&o);
	return rc;
}

/* Where <name> in a power URI is looked up: attributes, hardware, status. */
struct uri_vars {
	json_t	*from[3];	/* borrowed */
	json_t	*text;		/* numbers and booleans as strings, kept alive */
};

static const char *
uri_var(const char *name, void *arg)
{
	struct uri_vars	*uv = arg;
	json_t		*v = NULL;
	char		 buf[64];
	size_t		 i;

	for (i = 0; i < 3 && v == NULL; i++)
		v = json_object_get(uv->from[i], name);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "true" : "false");
	else
		return NULL;
	json_array_append_new(uv->text, json_string(buf));
	return json_string_value(json_array_get(uv->text,
	    json_array_size(uv->text) - 1));
}

/*
 * GET /node/:id/power_uri: the URI with its <attribute> references
 * substituted ("unparsed") and parsed as the reference shows; both null
 * when the node has none.
 */
enum apierr
api_node_power_uri(struct req *r)
{
	struct objrow	 o;
	struct attrview	 v;
	struct uri_vars	 uv;
	const char	*tmpl;
	char		*uri = NULL, err[256];
	json_t		*parsed;
	enum apierr	 rc;

	memset(&uv, 0, sizeof(uv));
	if ((rc = obj_find(r, &node_class, req_param(r, "id"), 0, &o)) != API_OK)
		return rc;
	if ((tmpl = json_string_value(json_object_get(o.doc, "power_uri"))) == NULL) {
		r->data = json_pack("{s:n, s:n}", "unparsed", "parsed");
		goto out;
	}
	if ((rc = attrview_load(r, o.tenant_id, &v)) != API_OK)
		goto out;
	uv.from[0] = node_attrs_merged(&v, o.tenant_id, o.doc);
	attrview_free(&v);
	uv.from[1] = json_incref(json_object_get(o.doc, "hardware"));
	if ((uv.from[2] = status_load(r, o.uid, &rc)) == NULL)
		goto out;
	uv.text = json_array();
	if (tmpl_expand(tmpl, uri_var, &uv, URI_MAX_LEN, &uri, err,
	    sizeof(err)) == -1) {
		rc = req_fail(r, API_BAD_REQUEST, "power_uri of %s: %s", o.name, err);
		goto out;
	}
	if ((parsed = uri_parse_power(uri, err, sizeof(err))) == NULL) {
		rc = req_fail(r, API_BAD_REQUEST, "power_uri of %s: %s", o.name, err);
		goto out;
	}
	r->data = json_pack("{s:s, s:o}", "unparsed", uri, "parsed", parsed);
out:
	json_decref(uv.from[0]);
	json_decref(uv.from[1]);
	json_decref(uv.from[2]);
	json_decref(uv.text);
	free(uri);
	objrow_free(&o);
	return rc;
}

/* GET /whereami: the node at the caller's address, in the caller's scope. */
enum apierr
api_whereami(struct req *r)
{
	struct objrow	 o;
	enum apierr	 rc;

	if (r->remote_addr == NULL || !valid_ip(r->remote_addr))
		return req_fail(r, API_NOT_FOUND, "No source address");
	rc = obj_find(r, &node_class, r->remote_addr, 0, &o);
	if (rc == API_NOT_FOUND)
		return req_fail(r, API_NOT_FOUND, "No node found for IP=%s",
		    r->remote_addr);
	if (rc != API_OK)
		return rc;
	r->data = obj_render(r, &node_class, &o);
	objrow_free(&o);
	return API_OK;
}

/*
 * GET /dyngroup/:id/nodes: the UIDs of the nodes of the group's tenant
 * its selector picks, by name.  Only what the selector reads is merged or
 * fetched (status only for s[...]).
 */
enum apierr
api_dyngroup_nodes(struct req *r)
{
	struct objrow	 g;
	struct attrview	 v;
	struct sel	*sel = NULL;
	const char	*text;
	char		*uid, *doc, *status, err[256];
	json_t		*node, *st, *attrs, *out;
	long long	 tid;
	unsigned int	 uses;
	enum apierr	 rc;
	enum dbrc	 drc;

	memset(&v, 0, sizeof(v));
	if ((rc = obj_find(r, &dyngroup_class, req_param(r, "id"), 0, &g)) != API_OK)
		return rc;
	text = json_string_value(json_object_get(g.doc, "selector"));
	if (text == NULL || (sel = sel_parse(text, NULL, err, sizeof(err))) == NULL) {
		rc = req_fail(r, API_INTERNAL, " ");
		goto out;
	}
	/* A group selects among its own tenant's nodes, whoever asks. */
	tid = g.tenant_id;
	uses = sel_uses(sel);
	if ((uses & SEL_USES_ATTRIBUTES) &&
	    (rc = attrview_load(r, tid, &v)) != API_OK)
		goto out;
	if ((drc = db_run(r->db, SQL_NODE_SCAN, "iii",
	    (long long)((uses & SEL_USES_STATUS) != 0), tid, tid)) != DB_OK) {
		rc = req_dbfail(r, drc);
		goto out;
	}
	out = json_array();
	while ((drc = db_next(r->db, SQL_NODE_SCAN, "sss", &uid, &doc,
	    &status)) == DB_OK) {
		node = json_loads(doc, 0, NULL);
		st = status != NULL ? json_loads(status, 0, NULL) : NULL;
		attrs = (uses & SEL_USES_ATTRIBUTES) && node != NULL ?
		    node_attrs_merged(&v, g.tenant_id, node) : NULL;
		if (node != NULL && sel_eval(sel, attrs,
		    json_object_get(node, "hardware"), st))
			json_array_append_new(out, json_string(uid));
		json_decref(attrs);
		json_decref(st);
		json_decref(node);
		free(uid);
		free(doc);
		free(status);
	}
	db_done(r->db, SQL_NODE_SCAN);
	if (drc != DB_DONE) {
		json_decref(out);
		rc = req_dbfail(r, drc);
		goto out;
	}
	r->data = out;
out:
	sel_free(sel);
	attrview_free(&v);
	objrow_free(&g);
	return rc;
}

/*
 * GET /namingpools/info/:node: how the node was named: its index and
 * the pattern, with the pool's UID (null for the cluster's default).
 */
enum apierr
api_namingpools_info(struct req *r)
{
	struct objrow	 o, p;
	const char	*pool;
	char		*pattern = NULL;
	enum apierr	 rc;

	if ((rc = obj_find(r, &node_class, req_param(r, "node"), 0, &o)) != API_OK)
		return rc;
	memset(&p, 0, sizeof(p));
	if ((pool = json_string_value(json_object_get(o.doc, "naming_pool"))) != NULL) {
		if ((rc = obj_ref_load(r, "namingpool", "naming_pool", o.tenant_id,
		    pool, &p)) != API_OK)
			goto out;
		pattern = xstrdup(json_string_value(json_object_get(p.doc,
		    "pattern")));
	} else if ((rc = cluster_setting_string(r, "naming", &pattern)) != API_OK)
		goto out;
	r->data = json_pack("{s:O, s:s, s:s?}", "index", json_object_get(o.doc,
	    "index"), "pattern", pattern ? pattern : "n{}", "naming_pool", pool);
out:
	free(pattern);
	objrow_free(&p);
	objrow_free(&o);
	return rc;
}

/*
 * PUT /namingpool/:id/push: rename the pool's nodes to its current
 * pattern, all in one transaction.  Answers {uid: new name} of the
 * nodes renamed; a name taken elsewhere is a 409 and renames nothing.
 */
enum apierr
api_namingpool_push(struct req *r)
{
	struct objrow	 p, n;
	struct naming	 nm;
	char		*uid, name[NAMING_LABEL_MAX + 1], err[256];
	json_t		*uids = NULL, *e, *renamed = NULL;
	enum apierr	 rc;
	enum dbrc	 drc;
	size_t		 i;

	memset(&p, 0, sizeof(p));
	memset(&n, 0, sizeof(n));
	if ((drc = db_begin(r->db)) != DB_OK)
		return req_dbfail(r, drc);
	if ((rc = obj_find(r, &namingpool_class, req_param(r, "id"), 1, &p)) !=
	    API_OK)
		goto out;
	if (naming_parse(json_string_value(json_object_get(p.doc, "pattern")),
	    &nm, err, sizeof(err)) == -1) {
		rc = req_fail(r, API_INTERNAL, " ");
		goto out;
	}
	if ((drc = db_run(r->db, SQL_REF_FROM, "ss", p.uid, "naming_pool")) != DB_OK) {
		rc = req_dbfail(r, drc);
		goto out;
	}
	uids = json_array();
	while ((drc = db_next(r->db, SQL_REF_FROM, "s", &uid)) == DB_OK) {
		json_array_append_new(uids, json_string(uid));
		free(uid);
	}
	db_done(r->db, SQL_REF_FROM);
	if (drc != DB_DONE) {
		rc = req_dbfail(r, drc);
		goto out;
	}
	renamed = json_object();
	json_array_foreach(uids, i, e) {
		if ((rc = obj_find(r, &node_class, json_string_value(e), 1, &n)) !=
		    API_OK)
			goto out;
		if (naming_format(&nm, json_integer_value(json_object_get(n.doc,
		    "index")), name, sizeof(name)) == -1) {
			rc = req_fail(r, API_BAD_REQUEST, "Node %s: its index "
			    "makes no valid name with the pattern", n.name);
			goto out;
		}
		if (strcmp(name, n.name) != 0) {
			free(n.name);
			n.name = xstrdup(name);
			json_object_set_new(n.doc, "hostname", json_string(name));
			if ((rc = obj_store(r, &node_class, &n)) != API_OK)
				goto out;
			json_object_set_new(renamed, n.uid, json_string(name));
		}
		objrow_free(&n);
	}
	if ((drc = db_commit(r->db)) != DB_OK) {
		rc = req_dbfail(r, drc);
		goto out;
	}
	r->data = renamed;
	renamed = NULL;
out:
	db_rollback(r->db);
	json_decref(uids);
	json_decref(renamed);
	objrow_free(&n);
	objrow_free(&p);
	return rc;
}
