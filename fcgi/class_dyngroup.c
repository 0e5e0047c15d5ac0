/*
 * Dynamic groups (reference: "Dynamic Group Objects"): a name for the
 * nodes a selector picks.  The selector is parsed once, when it is
 * written; "parsed" keeps its normalized form, as the reference shows.
 * GET /dyngroup/:id/nodes evaluates it over the group's tenant's nodes.
 */
#include <stdlib.h>
#include <string.h>

#include "extern.h"

static const struct field dyngroup_fields[] = {
	FIELD("name",        F_NAME,   F_REQUIRED, 63,           "The name for the Dynamic Group"),
	FIELD("selector",    F_STRING, F_REQUIRED, SEL_TEXT_MAX, "A node-selector, e.g. h[ram_total] > 100GB (grammar in README)"),
	FIELD("description", F_TEXT,   0,          4096,         "A text string with descriptive information"),
	FIELD("parsed",      F_STRING, F_READONLY, 0,            "The selector as the server understood it"),
};

/* A bad selector is a 400 pointing at the position. */
static enum apierr
dyngroup_prepare(struct ctx *c, json_t *doc, enum how how)
{
	const char	*text = json_string_value(json_object_get(doc, "selector"));
	struct sel	*sel;
	char		 err[256], *norm;

	if (text == NULL)
		return ctx_fail(c, API_BAD_REQUEST, "Missing required field: "
		    "selector");
	if ((sel = sel_parse(text, NULL, err, sizeof(err))) == NULL)
		return ctx_fail(c, API_BAD_REQUEST, "%s", err);
	norm = sel_normalize(sel);
	sel_free(sel);
	json_object_set_new(doc, "parsed", json_string(norm));
	free(norm);
	return API_OK;
}

const struct objclass dyngroup_class = {
	.name = "dyngroup", .plural = "dyngroups", .label = "dynamic group",
	.spec = FIELDS(dyngroup_fields),
	.prepare = dyngroup_prepare,
};

/*
 * The UIDs of tenant tid's nodes that sel selects (0: every tenant's), in
 * name order, into *out (new reference).  Selectors that read status see
 * two keys corral adds to what the node reported: "power", the state its
 * BMC last reported ("on", "off", "unknown"; absent if never asked), and
 * "stale", true when the node has not reported for [status] stale_after
 * seconds (or never has); and "boot_stage" and "boot_time", how far its
 * last network boot got (boot.c).
 */
enum apierr
sel_nodes(struct ctx *c, long long tid, const struct sel *sel, json_t **out)
{
	struct attrview	 v;
	char		*uid, *doc, *status, *power, *boot_stage;
	json_t		*node, *st, *attrs;
	double		 reported, stale_before, boot_at;
	unsigned int	 uses = sel_uses(sel);
	enum apierr	 rc = API_OK;
	enum dbrc	 drc;

	*out = NULL;
	memset(&v, 0, sizeof(v));
	if ((uses & SEL_USES_ATTRIBUTES) &&
	    (rc = attrview_load(c, tid, 0, &v)) != API_OK)
		return rc;
	if ((drc = db_run(c->db, SQL_NODE_SCAN, "iii",
	    (long long)((uses & SEL_USES_STATUS) != 0), tid, tid)) != DB_OK) {
		db_done(c->db, SQL_NODE_SCAN);
		attrview_free(&v);
		return ctx_dbfail(c, drc);
	}
	stale_before = time_now() - c->conf->status_stale_after;
	*out = json_array();
	while ((drc = db_next(c->db, SQL_NODE_SCAN, "sssdssd", &uid, &doc,
	    &status, &reported, &power, &boot_stage, &boot_at)) == DB_OK) {
		/* Stored nulls read as absent keys do: no need to drop them. */
		node = json_loads(doc, 0, NULL);
		st = NULL;
		if (uses & SEL_USES_STATUS) {
			st = status != NULL ? json_loads(status, 0, NULL) : NULL;
			if (!json_is_object(st)) {
				json_decref(st);
				st = json_object();
			}
			json_object_set_new(st, "stale",
			    json_boolean(reported < stale_before));
			if (power != NULL)
				json_object_set_new(st, "power", json_string(power));
			if (boot_stage != NULL) {
				json_object_set_new(st, "boot_stage",
				    json_string(boot_stage));
				json_object_set_new(st, "boot_time",
				    json_real(boot_at));
			}
		}
		attrs = (uses & SEL_USES_ATTRIBUTES) && node != NULL ?
		    attrs_merged(&v, node, json_object_get(node, "attributes")) :
		    NULL;
		if (node != NULL && sel_eval(sel, attrs,
		    json_object_get(node, "hardware"), st))
			json_array_append_new(*out, json_string(uid));
		json_decref(attrs);
		json_decref(st);
		json_decref(node);
		free(uid);
		free(doc);
		free(status);
		free(power);
		free(boot_stage);
	}
	db_done(c->db, SQL_NODE_SCAN);
	attrview_free(&v);
	if (drc != DB_DONE) {
		json_decref(*out);
		*out = NULL;
		return ctx_dbfail(c, drc);
	}
	return API_OK;
}

/*
 * GET /dyngroup/:id/nodes: the UIDs of the nodes the group selects.  A
 * selector of attributes and hardware only depends on stored objects, so
 * its answer is kept in the read cache among the node lists, named by the
 * group's UID and version (a changed selector is another answer); one
 * that reads status (which also ages into "stale") is worked out anew.
 */
enum apierr
api_dyngroup_nodes(struct req *r)
{
	struct objrow	 g;
	struct sel	*sel = NULL;
	struct cachefill fill = { 0, 0 };
	const char	*text;
	char		 err[256], variant[96], *body;
	int		 cacheable;
	enum apierr	 rc;

	if ((rc = obj_find(&r->ctx, &dyngroup_class, req_param(r, "id"), 0,
	    &g)) != API_OK)
		return rc;
	text = json_string_value(json_object_get(g.doc, "selector"));
	if (text == NULL || (sel = sel_parse(text, NULL, err, sizeof(err))) == NULL) {
		rc = ctx_internal(&r->ctx, "dyngroup %s: stored selector does "
		    "not parse: %s", g.uid, text == NULL ? "(none)" : err);
		goto out;
	}
	snprintf(variant, sizeof(variant), "dyngroup:%s:%lld", g.uid, g.version);
	cacheable = (sel_uses(sel) & SEL_USES_STATUS) == 0;
	if (cacheable && resp_cached_list(r, "node", g.tenant_id, variant,
	    &fill))
		goto out;
	/* A group selects among its own tenant's nodes, whoever asks. */
	if ((rc = sel_nodes(&r->ctx, g.tenant_id, sel, &r->data)) != API_OK ||
	    !cacheable || (body = resp_ok_text(r->data)) == NULL)
		goto out;
	cache_list_store(&fill, "node", g.tenant_id, variant, body, strlen(body));
	resp_raw(r, 200, "application/json", body, strlen(body));
	free(body);
out:
	sel_free(sel);
	objrow_free(&g);
	return rc;
}
