/*
 * What nodes have beyond the standard routes (reference: "Node Objects",
 * "Additional Endpoints"): the merged attributes, the groups list, status
 * reports, the expanded power URI, and /whereami.
 *
 * A node reporting about itself is known by the connection's source
 * address as nginx saw it: it acts in its own tenant, as "node:<name>",
 * and may write its status, its hardware and ordinary attributes, never
 * what attrs_node_may_write protects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define STATUS_MAX	(256 * 1024)	/* bytes of one status report */

/* GET /node/:id/attributes: the merged view (attrs.c). */
enum apierr
api_node_attrs_get(struct req *r)
{
	struct objrow	 o;
	enum apierr	 rc;

	if ((rc = obj_find(&r->ctx, &node_class, req_param(r, "id"), 0, &o)) !=
	    API_OK)
		return rc;
	rc = attrs_node_view(&r->ctx, &o, scope_sees_secrets(&r->ctx.scope,
	    o.tenant_id), &r->data);
	objrow_free(&o);
	return rc;
}

/* One group ID or a list of them, from the body; NULL if it is neither. */
static json_t *
body_id_list(const json_t *body)
{
	json_t	*e;
	size_t	 i;

	if (json_is_string(body))
		return json_pack("[O]", body);
	if (!json_is_array(body) || json_array_size(body) == 0 ||
	    json_array_size(body) > 64)
		return NULL;
	json_array_foreach((json_t *)(uintptr_t)body, i, e)
		if (!json_is_string(e))
			return NULL;
	return json_incref((json_t *)(uintptr_t)body);
}

/* What groups_edit does: append the body's groups, or remove them. */
struct groupedit {
	int		 append;
	const json_t	*body;
};

/*
 * A change_fn: the node's groups with the body's appended or removed,
 * each named by UID or name in the node's tenant.
 */
static enum apierr
groups_edit(struct ctx *c, const struct objrow *node, const void *arg,
    json_t **change)
{
	const struct groupedit	*ge = arg;
	struct objrow		 g;
	json_t			*ids, *groups, *e;
	enum apierr		 rc = API_OK;
	size_t			 i;

	if ((ids = body_id_list(ge->body)) == NULL)
		return ctx_fail(c, API_BAD_REQUEST, "Send a group or a list of "
		    "up to 64 groups");
	groups = ge->append ? json_deep_copy(json_object_get(node->doc,
	    "groups")) : json_array();
	if (!json_is_array(groups)) {
		json_decref(groups);
		groups = json_array();
	}
	json_array_foreach(ids, i, e) {
		if ((rc = obj_ref_load(c, "attrib", "groups", node->tenant_id,
		    json_string_value(e), &g)) != API_OK)
			break;
		if (ge->append && !json_list_has(groups, g.uid))
			json_array_append_new(groups, json_string(g.uid));
		else if (!ge->append)
			json_array_set_new(ids, i, json_string(g.uid));
		objrow_free(&g);
	}
	if (rc == API_OK && !ge->append)
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

/*
 * POST /node/:id/groups appends one group or a list, order kept; DELETE
 * removes them.
 */
enum apierr
api_node_groups(struct req *r)
{
	struct groupedit	 ge = { r->method == M_POST, r->json };

	return obj_change_by(&r->ctx, &node_class, req_param(r, "id"),
	    groups_edit, &ge);
}

/* The node's last status report (new reference; {} if none), or NULL. */
static json_t *
status_load(struct ctx *c, const char *uid, enum apierr *arc)
{
	char		*s = NULL, err[128];
	double		 at;
	json_t		*st = NULL;
	enum dbrc	 rc;

	if ((rc = db_run(c->db, SQL_STATUS_GET, "s", uid)) != DB_OK) {
		*arc = ctx_dbfail(c, rc);
		return NULL;
	}
	rc = db_next(c->db, SQL_STATUS_GET, "sd", &s, &at);
	db_done(c->db, SQL_STATUS_GET);
	if (rc == DB_OK)
		st = json_decode_strict(s, strlen(s), err, sizeof(err));
	else if (rc == DB_DONE)
		st = json_object();
	free(s);
	if (st == NULL)
		*arc = rc == DB_OK ? ctx_internal(c, "node %s: stored status "
		    "is not JSON", uid) : ctx_dbfail(c, rc);
	return st;
}

/*
 * GET /node/:id/status: what the node last reported, and how far its
 * network boot got (boot_stage, boot_time, boot_stages; boot.c).
 */
enum apierr
api_node_status_get(struct req *r)
{
	struct objrow	 o;
	enum apierr	 rc = API_OK;

	if ((rc = obj_find(&r->ctx, &node_class, req_param(r, "id"), 0, &o)) !=
	    API_OK)
		return rc;
	if ((r->data = status_load(&r->ctx, o.uid, &rc)) != NULL)
		rc = boot_status_add(&r->ctx, o.uid, r->data);
	objrow_free(&o);
	return rc;
}

/* The body fields of a status report. */
static const struct field report_fields[] = {
	FIELD("uid",      F_STRING, F_REQUIRED, 64,         "The node: UID, name, MAC or IP"),
	FIELD("status",   F_OBJECT, 0,          STATUS_MAX, "The node's status"),
	FIELD("hardware", F_OBJECT, 0,          65536,      "The node's hardware"),
};
const struct bodyspec b_putstatus_uid = FIELDS(report_fields);
const struct bodyspec b_putstatus = {
	.fields = report_fields + 1, .nfields = nitems(report_fields) - 1,
	.any = 0
};

/* A change_fn setting the hardware the report holds (arg). */
static enum apierr
hardware_set(struct ctx *c, const struct objrow *node, const void *arg,
    json_t **change)
{
	*change = json_pack("{s:O}", "hardware", (json_t *)(uintptr_t)arg);
	return API_OK;
}

/* Record a status report for node uid: its status, then its hardware. */
static enum apierr
report_store(struct ctx *c, const char *uid, const json_t *body)
{
	json_t		*st = json_object_get(body, "status"),
			*hw = json_object_get(body, "hardware");
	char		*s;
	enum dbrc	 rc;
	enum apierr	 arc;

	if (st == NULL && hw == NULL)
		return ctx_fail(c, API_BAD_REQUEST, "Send status, hardware "
		    "or both");
	if (st != NULL) {
		s = json_dumps(st, JSON_COMPACT);
		rc = db_run(c->db, SQL_STATUS_PUT, "ssd", uid, s, time_now());
		free(s);
		if (rc != DB_OK)
			return ctx_dbfail(c, rc);
		/* The first report of a boot is its last stage. */
		if ((arc = boot_record(c, uid, BOOT_STATUS, time_now())) !=
		    API_OK)
			return arc;
	}
	if (hw != NULL)
		return obj_change_by(c, &node_class, uid, hardware_set, hw);
	return API_OK;
}

/*
 * The node whose address is the request's (valid) source address, in
 * whatever tenant, into o: addresses are unique cluster-wide, so the
 * lookup is made over every tenant, on purpose.
 */
static enum apierr
node_at_source(struct req *r, struct objrow *o)
{
	struct ctx	 any;
	enum apierr	 rc;

	ctx_init(&any, r->ctx.db, r->conf, scope_of_tenant(SCOPE_ALL, 0,
	    "source address"));
	rc = obj_find(&any, &node_class, r->remote_addr, 0, o);
	return ctx_pass(&r->ctx, &any, rc);
}

/*
 * The tenant of the node at the request's source address, or 0 when no
 * node has it: a public route answering about one node (its boot script,
 * its Ignition config) answers a node of another tenant as if that node
 * did not exist.
 */
long long
source_tenant(struct req *r)
{
	struct objrow	 src;
	long long	 tid;

	if (r->remote_addr == NULL || !valid_ip(r->remote_addr))
		return 0;
	if (node_at_source(r, &src) != API_OK) {
		r->ctx.reason[0] = '\0';
		return 0;
	}
	tid = src.tenant_id;
	objrow_free(&src);
	return tid;
}

/*
 * The node reporting from the request's source address, into o; from
 * now on the request acts in that node's tenant, as "node:<name>", with
 * no role: what it may write is decided by the handlers.  403 for an
 * address no node has.  Not static: GET /ztp/script (api_boottmpl.c)
 * finds its node so too.
 */
enum apierr
node_by_source(struct req *r, struct objrow *o)
{
	char		 actor[ACTOR_MAX];
	enum apierr	 rc;

	if (r->remote_addr == NULL || !valid_ip(r->remote_addr))
		return req_fail(r, API_FORBIDDEN, "No source address");
	if ((rc = node_at_source(r, o)) == API_NOT_FOUND)
		return req_fail(r, API_FORBIDDEN, "No node has address %s",
		    r->remote_addr);
	if (rc != API_OK)
		return rc;
	snprintf(actor, sizeof(actor), "node:%s", o->name);
	r->ctx.scope = scope_of_tenant(o->tenant_id, 0, actor);
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
		r->ctx.reason[0] = '\0';
	}
	if ((tid = tenant_lookup(&r->ctx, MGMT_TENANT, err)) == 0 &&
	    *err == API_OK)
		*err = ctx_internal(&r->ctx, "no management tenant");
	return tid;
}

/* POST /node/putstatus: a report for the node named by "uid". */
enum apierr
api_node_putstatus_post(struct req *r)
{
	struct objrow	 o;
	enum apierr	 rc;

	if ((rc = obj_find(&r->ctx, &node_class, json_string_value(
	    json_object_get(r->json, "uid")), 0, &o)) != API_OK)
		return rc;
	rc = report_store(&r->ctx, o.uid, r->json);
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
	rc = report_store(&r->ctx, o.uid, r->json);
	objrow_free(&o);
	return rc;
}

/*
 * Merge attrs into node o's own attributes, as the node itself would
 * (unless the scope may edit nodes anyway: role.configadmin).
 */
static enum apierr
putattribs(struct ctx *c, const struct objrow *o, const json_t *attrs)
{
	struct fieldedit	 fe = { "attributes", KEYEDIT_MERGE, attrs };
	enum apierr		 rc;

	if (json_object_size(attrs) == 0)
		return ctx_fail(c, API_BAD_REQUEST, "Send at least one attribute");
	if ((rc = attrs_check(attrs, c->reason, sizeof(c->reason))) != API_OK)
		return rc;
	if ((c->scope.roles & (ROLE_CONFIGADMIN | ROLE_FULLADMIN)) == 0 &&
	    (rc = attrs_node_may_write(c, o, attrs)) != API_OK)
		return rc;
	return obj_change_by(c, &node_class, o->uid, obj_field_edit, &fe);
}

/* POST /node/putattribs: {"uid": node, key: value, ...}. */
enum apierr
api_node_putattribs_post(struct req *r)
{
	struct objrow	 o;
	json_t		*attrs, *id;
	enum apierr	 rc;

	if (!json_is_object(r->json) ||
	    !json_is_string(id = json_object_get(r->json, "uid")) ||
	    !valid_text(json_string_value(id), 64))
		return req_fail(r, API_BAD_REQUEST, "Missing required field: uid");
	if ((rc = obj_find(&r->ctx, &node_class, json_string_value(id), 0, &o)) !=
	    API_OK)
		return rc;
	attrs = json_deep_copy(r->json);
	json_object_del(attrs, "uid");
	rc = putattribs(&r->ctx, &o, attrs);
	json_decref(attrs);
	objrow_free(&o);
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
	rc = putattribs(&r->ctx, &o, r->json);
	objrow_free(&o);
	return rc;
}

/* Where <name> in a node's template is looked up: attributes, hardware, status. */
struct node_vars {
	json_t		*from[3];	/* owned */
	json_t		*text;		/* numbers and booleans as strings, kept alive */
};

static const char *
node_var(const char *name, void *arg)
{
	struct node_vars	*nv = arg;
	json_t			*v = NULL;
	char			 buf[64];
	size_t			 i;

	for (i = 0; i < nitems(nv->from) && v == NULL; i++)
		v = json_object_get(nv->from[i], name);
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
	json_array_append_new(nv->text, json_string(buf));
	return json_string_value(json_array_get(nv->text,
	    json_array_size(nv->text) - 1));
}

/*
 * Template tmpl with node o's <name> references substituted from its
 * merged attributes, hardware and status, into *out (malloc'd, at most
 * maxlen bytes).  Values go in verbatim, once (tmpl.c).  With clear,
 * secret attributes are filled in the clear if the context's scope may
 * see them, else masked.  how (tmpl.c's TMPL_*): with TMPL_LINE_SAFE, a
 * value holding a line break or another control character is refused,
 * so what a template puts on one line stays on that line; with
 * TMPL_JSON, values are escaped as in a JSON string.  A template that
 * does not expand is API_BAD_REQUEST (API_CONFLICT for a refused value)
 * with the reason, prefixed with what (e.g. "power_uri of n1").
 */
enum apierr
node_template(struct ctx *c, const struct objrow *o, const char *tmpl,
    const char *what, size_t maxlen, int clear, int how, char **out)
{
	struct node_vars nv;
	char		 err[256];
	enum apierr	 rc;
	size_t		 i;
	int		 trc;

	*out = NULL;
	memset(&nv, 0, sizeof(nv));
	if ((rc = attrs_node_view(c, o, clear && scope_sees_secrets(&c->scope,
	    o->tenant_id), &nv.from[0])) != API_OK)
		goto out;
	nv.from[1] = json_incref(json_object_get(o->doc, "hardware"));
	if ((nv.from[2] = status_load(c, o->uid, &rc)) == NULL)
		goto out;
	nv.text = json_array();
	if ((trc = tmpl_expand_as(tmpl, how, node_var, &nv, maxlen, out, err,
	    sizeof(err))) != 0)
		rc = ctx_fail(c, trc == TMPL_REFUSED ? API_CONFLICT :
		    API_BAD_REQUEST, "%s: %s", what, err);
out:
	for (i = 0; i < nitems(nv.from); i++)
		json_decref(nv.from[i]);
	json_decref(nv.text);
	return rc;
}

/*
 * Node o's power_uri with its <attribute> references substituted (*uri,
 * malloc'd) and parsed (*parsed, new reference; may be NULL if not
 * wanted).  With clear, secret attributes are filled in the clear if the
 * context's scope may see them (configadmin and above of the node's
 * tenant, and corral-jobd); otherwise, or without clear, masked.  Both
 * NULL, API_OK, when the node has no power_uri.  A template that does
 * not expand or parse is a 400.
 */
enum apierr
node_power_uri(struct ctx *c, const struct objrow *o, int clear, char **uri,
    json_t **parsed)
{
	struct objrow	 h, home;
	const char	*tmpl;
	char		 err[256], what[NAME_MAX_LEN + 16];
	json_t		*p;
	enum apierr	 rc;

	memset(&h, 0, sizeof(h));
	*uri = NULL;
	if (parsed != NULL)
		*parsed = NULL;
	/*
	 * A leased node's BMC stays the management tenant's (tenancy.c):
	 * its URI is filled from the home kept for it, never from what the
	 * tenant or the node itself can write.
	 */
	if (o->tenant_id != tenant_mgmt_id(c)) {
		if ((rc = nodehome_load(c, o->uid, &h)) == API_OK) {
			if (c->scope.tenant != SCOPE_ALL) {
				objrow_free(&h);
				return ctx_fail(c, API_FORBIDDEN, "The BMC of "
				    "leased node %s belongs to the management "
				    "tenant", o->name);
			}
			home = h;
			home.name = o->name;
			home.doc = json_object_get(h.doc, "home");
			o = &home;
		} else if (rc != API_NOT_FOUND)
			return rc;
	}
	if ((tmpl = json_string_value(json_object_get(o->doc, "power_uri"))) ==
	    NULL) {
		rc = API_OK;
		goto out;
	}
	snprintf(what, sizeof(what), "power_uri of %s", o->name);
	if ((rc = node_template(c, o, tmpl, what, URI_MAX_LEN, clear, 0, uri)) !=
	    API_OK)
		goto out;
	if ((p = uri_parse_power(*uri, err, sizeof(err))) == NULL) {
		rc = ctx_fail(c, API_BAD_REQUEST, "%s: %s", what, err);
		free(*uri);
		*uri = NULL;
		goto out;
	}
	if (parsed != NULL)
		*parsed = p;
	else
		json_decref(p);
	rc = API_OK;
out:
	if (o == &home)
		objrow_free(&h);
	return rc;
}

/*
 * GET /node/:id/power_uri: the URI with its <attribute> references
 * substituted ("unparsed") and parsed as the reference shows; both null
 * when the node has none.  Secret attributes are filled in the clear for
 * role.configadmin and above of the node's tenant, masked for others.
 */
enum apierr
api_node_power_uri(struct req *r)
{
	struct objrow	 o;
	char		*uri = NULL;
	json_t		*parsed = NULL;
	enum apierr	 rc;

	if ((rc = obj_find(&r->ctx, &node_class, req_param(r, "id"), 0, &o)) !=
	    API_OK)
		return rc;
	if ((rc = node_power_uri(&r->ctx, &o, 1, &uri, &parsed)) == API_OK)
		r->data = uri == NULL ? json_pack("{s:n, s:n}", "unparsed",
		    "parsed") : json_pack("{s:s, s:o}", "unparsed", uri,
		    "parsed", parsed);
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
	rc = obj_find(&r->ctx, &node_class, r->remote_addr, 0, &o);
	if (rc == API_NOT_FOUND)
		return req_fail(r, API_NOT_FOUND, "No node found for IP=%s",
		    r->remote_addr);
	if (rc != API_OK)
		return rc;
	r->data = obj_render(&node_class, &o);
	objrow_free(&o);
	return API_OK;
}
