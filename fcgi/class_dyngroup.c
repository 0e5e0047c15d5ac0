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
	if ((rc = obj_find(&r->ctx, &dyngroup_class, req_param(r, "id"), 0,
	    &g)) != API_OK)
		return rc;
	text = json_string_value(json_object_get(g.doc, "selector"));
	if (text == NULL || (sel = sel_parse(text, NULL, err, sizeof(err))) == NULL) {
		rc = ctx_internal(&r->ctx, "dyngroup %s: stored selector does "
		    "not parse: %s", g.uid, text == NULL ? "(none)" : err);
		goto out;
	}
	/* A group selects among its own tenant's nodes, whoever asks. */
	tid = g.tenant_id;
	uses = sel_uses(sel);
	if ((uses & SEL_USES_ATTRIBUTES) &&
	    (rc = attrview_load(&r->ctx, tid, 0, &v)) != API_OK)
		goto out;
	if ((drc = db_run(r->ctx.db, SQL_NODE_SCAN, "iii",
	    (long long)((uses & SEL_USES_STATUS) != 0), tid, tid)) != DB_OK) {
		rc = ctx_dbfail(&r->ctx, drc);
		goto out;
	}
	out = json_array();
	while ((drc = db_next(r->ctx.db, SQL_NODE_SCAN, "sss", &uid, &doc,
	    &status)) == DB_OK) {
		/* Stored nulls read as absent keys do: no need to drop them. */
		node = json_loads(doc, 0, NULL);
		st = status != NULL ? json_loads(status, 0, NULL) : NULL;
		attrs = (uses & SEL_USES_ATTRIBUTES) && node != NULL ?
		    attrs_merged(&v, node, json_object_get(node, "attributes")) :
		    NULL;
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
	db_done(r->ctx.db, SQL_NODE_SCAN);
	if (drc != DB_DONE) {
		json_decref(out);
		rc = ctx_dbfail(&r->ctx, drc);
		goto out;
	}
	r->data = out;
out:
	sel_free(sel);
	attrview_free(&v);
	objrow_free(&g);
	return rc;
}
