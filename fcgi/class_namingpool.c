/*
 * Naming pools (reference: "Naming Pool Objects"): how the nodes of a
 * pool are named and numbered.  A pattern is checked when written against
 * every index the pool's nodes use, so each name it makes is a valid
 * host name.  The pool's endpoints: /namingpools/info/<NODE> and
 * /namingpool/<ID>/push.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

static const struct field namingpool_fields[] = {
	FIELD("name",        F_NAME,   F_REQUIRED, 63,               "The name for the Naming Pool"),
	FIELD("pattern",     F_STRING, F_REQUIRED, 128,              "The naming pattern: n{} or gpu{:03d}"),
	FIELD("description", F_TEXT,   0,          4096,             "A text string with descriptive information"),
	FIELD("first_index", F_INT,    0,          NAMING_INDEX_MAX, "The first index of nodes added to the pool (default 0)"),
	FIELD("ip_base",     F_IP,     0,          0,                "The address of the pool's first node"),
	FIELD("ip_offset",   F_INT,    0,          16777216,         "Offset of the first node's address in its network"),
	FIELD_REF("network", F_REF,    0,          0,                "net", "The network addresses come from; stored as UID"),
	FIELD_REF("group",   F_REF,    0,          0,                "attrib", "An attribute group every node of the pool joins; stored as UID"),
	FIELD_REF("parent",  F_REF,    0,          0,                "namingpool", "A parent naming pool; stored as UID"),
};

static enum apierr
namingpool_prepare(struct ctx *c, json_t *doc, enum how how)
{
	struct naming	 n;
	char		 err[256];

	if (naming_parse(json_string_value(json_object_get(doc, "pattern")), &n,
	    err, sizeof(err)) == -1)
		return ctx_fail(c, API_BAD_REQUEST, "Field pattern: %s", err);
	if (how != HOW_PATCH && json_object_get(doc, "first_index") == NULL)
		json_object_set_new(doc, "first_index", json_integer(0));
	return API_OK;
}

/*
 * The pattern must name every node the pool holds, not just index 0: a
 * long prefix that fits "n0" may not fit the pool's largest index, and
 * its node could then never be named again (push would fail).
 */
static enum apierr
namingpool_assign(struct ctx *c, struct objrow *o, const json_t *before,
    const json_t *change)
{
	struct naming	 n;
	const char	*pattern;
	char		 err[256], name[NAMING_LABEL_MAX + 1];
	long long	 max;
	enum apierr	 rc;

	if (before == NULL)
		return API_OK;
	pattern = json_string_value(json_object_get(o->doc, "pattern"));
	if (naming_parse(pattern, &n, err, sizeof(err)) == -1)
		return ctx_fail(c, API_BAD_REQUEST, "Field pattern: %s", err);
	if ((rc = node_index_max(c, o->tenant_id, o->uid, &max)) != API_OK)
		return rc;
	if (max >= 0 && naming_format(&n, max, name, sizeof(name)) == -1)
		return ctx_fail(c, API_BAD_REQUEST, "Field pattern: %s cannot "
		    "name the pool's node with index %lld (a name is at most %d "
		    "letters, digits, '.', '_' or '-')", pattern, max,
		    NAMING_LABEL_MAX);
	return API_OK;
}

const struct objclass namingpool_class = {
	.name = "namingpool", .plural = "namingpools", .label = "naming pool",
	.spec = FIELDS(namingpool_fields),
	.prepare = namingpool_prepare,
	.assign = namingpool_assign,
};

/*
 * GET /namingpools/info/:node: how the node was named: its index and
 * the pattern, with the pool's UID (null for the tenant's default).
 */
enum apierr
api_namingpools_info(struct req *r)
{
	struct objrow	 o, p;
	const char	*pool;
	char		*pattern = NULL;
	enum apierr	 rc;

	if ((rc = obj_find(&r->ctx, &node_class, req_param(r, "node"), 0, &o)) !=
	    API_OK)
		return rc;
	memset(&p, 0, sizeof(p));
	if ((pool = json_string_value(json_object_get(o.doc, "naming_pool"))) != NULL) {
		if ((rc = obj_ref_load(&r->ctx, "namingpool", "naming_pool",
		    o.tenant_id, pool, &p)) != API_OK)
			goto out;
		pattern = xstrdup(json_string_value(json_object_get(p.doc,
		    "pattern")));
	} else if ((rc = setting_string(&r->ctx, o.tenant_id, "naming",
	    &pattern)) != API_OK)
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
	struct ctx	*c = &r->ctx;
	struct objrow	 p, n;
	struct naming	 nm;
	char		*uid, name[NAMING_LABEL_MAX + 1], err[256];
	json_t		*uids = NULL, *e, *renamed = NULL;
	enum apierr	 rc;
	enum dbrc	 drc;
	size_t		 i;

	memset(&p, 0, sizeof(p));
	memset(&n, 0, sizeof(n));
	if ((drc = db_begin(c->db)) != DB_OK)
		return ctx_dbfail(c, drc);
	if ((rc = obj_find(c, &namingpool_class, req_param(r, "id"), 1, &p)) !=
	    API_OK)
		goto out;
	if (naming_parse(json_string_value(json_object_get(p.doc, "pattern")),
	    &nm, err, sizeof(err)) == -1) {
		rc = ctx_internal(c, "naming pool %s: stored pattern does not "
		    "parse: %s", p.uid, err);
		goto out;
	}
	if ((drc = db_run(c->db, SQL_REF_FROM, "ss", p.uid, "naming_pool")) !=
	    DB_OK) {
		rc = ctx_dbfail(c, drc);
		goto out;
	}
	uids = json_array();
	while ((drc = db_next(c->db, SQL_REF_FROM, "s", &uid)) == DB_OK) {
		json_array_append_new(uids, json_string(uid));
		free(uid);
	}
	db_done(c->db, SQL_REF_FROM);
	if (drc != DB_DONE) {
		rc = ctx_dbfail(c, drc);
		goto out;
	}
	renamed = json_object();
	json_array_foreach(uids, i, e) {
		if ((rc = obj_find(c, &node_class, json_string_value(e), 1, &n)) !=
		    API_OK)
			goto out;
		if (naming_format(&nm, json_integer_value(json_object_get(n.doc,
		    "index")), name, sizeof(name)) == -1) {
			rc = ctx_fail(c, API_BAD_REQUEST, "Node %s: its index "
			    "makes no valid name with the pattern", n.name);
			goto out;
		}
		if (strcmp(name, n.name) != 0) {
			free(n.name);
			n.name = xstrdup(name);
			json_object_set_new(n.doc, "hostname", json_string(name));
			if ((rc = obj_store(c, &node_class, &n)) != API_OK)
				goto out;
			json_object_set_new(renamed, n.uid, json_string(name));
		}
		objrow_free(&n);
	}
	if ((drc = db_commit(c->db)) != DB_OK) {
		rc = ctx_dbfail(c, drc);
		goto out;
	}
	r->data = renamed;
	renamed = NULL;
out:
	db_rollback(c->db);
	json_decref(uids);
	json_decref(renamed);
	objrow_free(&n);
	objrow_free(&p);
	return rc;
}
