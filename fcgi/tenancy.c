/*
 * Tenancies (reference: "Tenancy Primitives"): a leased set of nodes
 * owned by a tenant, with the VLANs, VNIs and partition keys it was
 * given.  The management tenant owns two built-in tenancies, Available
 * (every node not leased and not quarantined; a node without a
 * node_tenancy row is there) and Quarantine.
 *
 * A node leased to tenant B is an object of tenant B: B's admins find it
 * in their lists, selectors and searches, and nobody else but the
 * superadministrator does.  What stays the management tenant's while the
 * node is away (its power_uri, redfish_uri, attributes, groups, naming
 * pool and index, and the BMC secrets among its attributes) moves into a
 * "nodehome" object of the management tenant, named by the node's UID;
 * power for the node is worked out from that (api_node.c), so a tenant
 * powers its nodes through corral but never reads or changes the BMC's
 * address or credentials.  On the way out the tenant's side is wiped
 * and the home restored, so nothing of one tenant reaches the next.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define TENANCY_AVAILABLE	"Available"
#define TENANCY_QUARANTINE	"Quarantine"

/* The three kinds of ids, their settings and their bounds. */
static const struct idkind {
	const char	*field;		/* in the document */
	const char	*kind;		/* tenancy_ids.kind */
	const char	*setting;	/* the cluster's range */
	long long	 max;
} idkinds[] = {
	{ "vlans", "vlan", "tenancy_vlans", 4094 },
	{ "vnis",  "vni",  "tenancy_vnis",  16777215 },
	{ "pkeys", "pkey", "tenancy_pkeys", 32767 },
};

static const struct field tenancy_fields[] = {
	FIELD("name",        F_NAME,      F_REQUIRED, 63,   "Name of the tenancy; starts with a letter"),
	FIELD("description", F_TEXT,      0,          4096, "A text string with descriptive information"),
	FIELD("tenant",      F_NAME,      0,          63,   "Name of the tenant that owns the tenancy (default: the management tenant)"),
	FIELD("nodes",       F_ARRAY_STR, F_READONLY, 0,    "The names of the tenancy's nodes (POST/DELETE /tenancy/<ID>/nodes change them)"),
	FIELD("vlans",       F_ANY,       0,          0,    "VLAN ids, from the cluster's tenancy_vlans range unless listed; never shared"),
	FIELD("vnis",        F_ANY,       0,          0,    "VXLAN network ids, from tenancy_vnis; never shared"),
	FIELD("pkeys",       F_ANY,       0,          0,    "InfiniBand partition keys, from tenancy_pkeys; never shared"),
};

/* Whether o is one of the management tenant's two built-in tenancies. */
static int
tenancy_builtin(struct ctx *c, const struct objrow *o)
{
	return o->tenant_id == tenant_mgmt_id(c) &&
	    (strcmp(o->name, TENANCY_AVAILABLE) == 0 ||
	    strcmp(o->name, TENANCY_QUARANTINE) == 0);
}

/* Names start with a letter (the reference); ids are lists of whole numbers. */
static enum apierr
tenancy_prepare(struct ctx *c, json_t *doc, enum how how)
{
	const char	*name = json_string_value(json_object_get(doc, "name"));
	json_t		*v, *e;
	size_t		 i, k;

	if (name != NULL && !((name[0] >= 'a' && name[0] <= 'z') ||
	    (name[0] >= 'A' && name[0] <= 'Z')))
		return ctx_fail(c, API_BAD_REQUEST, "Field name: a tenancy's "
		    "name must start with a letter");
	for (k = 0; k < nitems(idkinds); k++) {
		if ((v = json_object_get(doc, idkinds[k].field)) == NULL)
			continue;
		if (!json_is_array(v) || json_array_size(v) > 64)
			return ctx_fail(c, API_BAD_REQUEST, "Field %s must be a "
			    "list of at most 64 ids", idkinds[k].field);
		json_array_foreach(v, i, e)
			if (!json_is_integer(e) || json_integer_value(e) < 1 ||
			    json_integer_value(e) > idkinds[k].max)
				return ctx_fail(c, API_BAD_REQUEST, "Field %s: "
				    "each id is a whole number from 1 to %lld",
				    idkinds[k].field, idkinds[k].max);
	}
	json_object_del(doc, "nodes");
	return API_OK;
}

/* The cluster's range for kind k, "FIRST-LAST", into *lo, *hi (0: none). */
static enum apierr
id_range(struct ctx *c, const struct idkind *k, long long *lo, long long *hi)
{
	json_t		*all = NULL;
	const char	*s, *errstr;
	char		 buf[40], *dash;
	enum apierr	 rc;

	*lo = *hi = 0;
	if ((rc = settings_get(c, tenant_mgmt_id(c), 0, &all)) != API_OK)
		return rc;
	s = json_string_value(json_object_get(all, k->setting));
	if (s != NULL && *s != '\0') {
		snprintf(buf, sizeof(buf), "%s", s);
		if ((dash = strchr(buf, '-')) != NULL) {
			*dash++ = '\0';
			*lo = num_parse(buf, 1, k->max, &errstr);
			if (errstr == NULL)
				*hi = num_parse(dash, *lo, k->max, &errstr);
			if (errstr != NULL)
				*lo = *hi = 0;
		}
		if (*lo == 0) {
			json_decref(all);
			return ctx_fail(c, API_CONFLICT, "The cluster's %s "
			    "setting is not FIRST-LAST within 1-%lld",
			    k->setting, k->max);
		}
	}
	json_decref(all);
	return API_OK;
}

/* The lowest id of kind k in [lo, hi] nobody holds, or 0. */
static enum apierr
id_free(struct ctx *c, const struct idkind *k, long long lo, long long hi,
    long long *out)
{
	long long	 v, want = lo;
	enum dbrc	 rc;

	*out = 0;
	if ((rc = db_run(c->db, SQL_TENANCY_IDS_USED, "sii", k->kind, lo, hi)) !=
	    DB_OK)
		return ctx_dbfail(c, rc);
	while ((rc = db_next(c->db, SQL_TENANCY_IDS_USED, "i", &v)) == DB_OK)
		if (v == want)
			want++;
	db_done(c->db, SQL_TENANCY_IDS_USED);
	if (rc != DB_DONE)
		return ctx_dbfail(c, rc);
	*out = want <= hi ? want : 0;
	return API_OK;
}

/*
 * In the write's transaction: the tenant's max_tenancies on create, and
 * the ids: those listed are taken (a 409 if another tenancy holds one or
 * it lies outside the cluster's range), none listed on create takes the
 * lowest free one of each range that is set.
 */
static enum apierr
tenancy_assign(struct ctx *c, struct objrow *o, const json_t *before,
    const json_t *change)
{
	const struct idkind	*k;
	struct tenant		 t;
	json_t			*list, *e;
	long long		 lo, hi, v, n = 0, dummy;
	size_t			 i, j;
	enum apierr		 rc = API_OK;
	enum dbrc		 drc;

	if (before == NULL) {
		if (o->tenant_id == tenant_mgmt_id(c) && c->scope.tenant != SCOPE_ALL)
			return ctx_fail(c, API_FORBIDDEN, "Only the "
			    "superadministrator creates tenancies");
		if ((rc = tenant_lock(c, o->tenant_id)) != API_OK ||
		    (rc = tenant_load_id(c, o->tenant_id, &t)) != API_OK)
			return rc;
		if (strcmp(t.state, "Deleting") == 0)
			rc = ctx_fail(c, API_CONFLICT, "Tenant %s is being "
			    "deleted", t.name);
		else if (t.max_tenancies >= 0 &&
		    (rc = tenant_usage(c, t.id, &n, &dummy)) == API_OK) {
			if (n + 1 > t.max_tenancies)
				rc = ctx_fail(c, API_CONFLICT, "max_tenancies: "
				    "tenant %s has %lld tenancies, its limit is "
				    "%lld", t.name, n, t.max_tenancies);
		}
		tenant_free(&t);
		if (rc != API_OK)
			return rc;
	}
	for (j = 0; j < nitems(idkinds); j++) {
		k = &idkinds[j];
		if (before != NULL && json_object_get(change, k->field) == NULL)
			continue;
		if ((rc = id_range(c, k, &lo, &hi)) != API_OK)
			return rc;
		if (before != NULL && (drc = db_run(c->db,
		    SQL_TENANCY_IDS_DROP_KIND, "ss", o->uid, k->kind)) != DB_OK)
			return ctx_dbfail(c, drc);
		list = json_object_get(o->doc, k->field);
		if (list == NULL) {
			list = json_array();
			json_object_set_new(o->doc, k->field, list);
			if (before == NULL && lo > 0) {
				if ((rc = id_free(c, k, lo, hi, &v)) != API_OK)
					return rc;
				if (v == 0)
					return ctx_fail(c, API_CONFLICT, "No free "
					    "%s is left in the cluster's range "
					    "%lld-%lld", k->kind, lo, hi);
				json_array_append_new(list, json_integer(v));
			}
		}
		json_array_foreach(list, i, e) {
			v = json_integer_value(e);
			if (lo > 0 && (v < lo || v > hi))
				return ctx_fail(c, API_CONFLICT, "%s %lld is "
				    "outside the cluster's range %lld-%lld",
				    k->kind, v, lo, hi);
			drc = db_run(c->db, SQL_TENANCY_ID_ADD, "sis", k->kind, v,
			    o->uid);
			if (drc == DB_DUP)
				return ctx_fail(c, API_CONFLICT, "%s %lld is "
				    "held by another tenancy (or listed twice)",
				    k->kind, v);
			if (drc != DB_OK)
				return ctx_dbfail(c, drc);
		}
	}
	return API_OK;
}

/* A tenancy keeps its tenant; the built-ins keep their names. */
static enum apierr
tenancy_may_change(struct ctx *c, const struct objrow *o, const json_t *change)
{
	const char	*name = json_string_value(json_object_get(change, "name"));

	if (json_object_get(change, "tenant") != NULL)
		return ctx_fail(c, API_BAD_REQUEST, "Field tenant: a tenancy "
		    "stays with its tenant; make a new one");
	if (tenancy_builtin(c, o) && name != NULL && strcmp(name, o->name) != 0)
		return ctx_fail(c, API_FORBIDDEN, "The built-in tenancy %s "
		    "cannot be renamed", o->name);
	return API_OK;
}

/* The number of nodes in tenancy t. */
static enum apierr
tenancy_count(struct ctx *c, const struct objrow *t, long long *n)
{
	json_t		*nodes = NULL;
	enum apierr	 rc;

	*n = 0;
	if ((rc = tenancy_members(c, t, &nodes)) != API_OK)
		return rc;
	*n = (long long)json_object_size(nodes);
	json_decref(nodes);
	return API_OK;
}

/*
 * The built-ins stay; a tenancy holding nodes is torn down, not deleted.
 * Its ids go back to the cluster's ranges with it (same transaction).
 */
static enum apierr
tenancy_may_delete(struct ctx *c, const struct objrow *o)
{
	long long	 n;
	enum apierr	 rc;
	enum dbrc	 drc;

	if (tenancy_builtin(c, o))
		return ctx_fail(c, API_FORBIDDEN, "The built-in tenancy %s "
		    "cannot be deleted", o->name);
	if ((rc = tenancy_count(c, o, &n)) != API_OK)
		return rc;
	if (n > 0)
		return ctx_fail(c, API_CONFLICT, "Tenancy %s holds %lld nodes; "
		    "remove them or tear it down (DELETE /tenancy/teardown/%s)",
		    o->name, n, o->name);
	if ((drc = db_run(c->db, SQL_TENANCY_IDS_DROP, "s", o->uid)) != DB_OK)
		return ctx_dbfail(c, drc);
	return API_OK;
}

const struct objclass tenancy_class = {
	.name = "tenancy", .plural = "tenancies", .label = "tenancy",
	.spec = FIELDS(tenancy_fields),
	.global_names = 1,
	.prepare = tenancy_prepare,
	.assign = tenancy_assign,
	.may_change = tenancy_may_change,
	.may_delete = tenancy_may_delete,
};

/* What the management tenant keeps of a leased node (never served). */
static const struct field nodehome_fields[] = {
	FIELD("name",        F_NAME,     F_REQUIRED, 64, "The node's UID"),
	FIELD("home",        F_OBJECT,   0,          0,  "The node's management fields"),
	FIELD("index",       F_INT,      0,          NAMING_INDEX_MAX, "The node's index, held while it is away"),
	FIELD("naming_pool", F_STRING,   0,          UID_LEN, "Its naming pool"),
	FIELD("node_name",   F_NAME,     0,          NAMING_LABEL_MAX, "Its name in the management tenant"),
};

const struct objclass nodehome_class = {
	.name = "nodehome", .plural = "nodehomes", .label = "node home",
	.spec = FIELDS(nodehome_fields),
	.keys = node_index_keys,
	/* Among the nodes' own index keys, so assignment skips a leased index. */
	.keys_class = "node",
};

/* The fields of a node that stay the management tenant's. */
static const char *const home_fields[] = {
	"power_uri", "redfish_uri", "attributes", "groups", "naming_pool",
	"index", "description",
};

/*
 * Leased node node_uid's home (the nodehome object) into *out; 404 when
 * the node is not leased.
 */
enum apierr
nodehome_load(struct ctx *c, const char *node_uid, struct objrow *out)
{
	enum dbrc	 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = db_run(c->db, SQL_NODEHOME_GET, "s", node_uid)) != DB_OK)
		return ctx_dbfail(c, rc);
	rc = obj_row_next(c, SQL_NODEHOME_GET, out);
	db_done(c->db, SQL_NODEHOME_GET);
	if (rc == DB_DONE)
		return API_NOT_FOUND;
	return rc == DB_OK ? API_OK : ctx_dbfail(c, rc);
}

/* Forget what node uid reported and learned: status, boot, host key. */
static enum apierr
node_wipe_reports(struct ctx *c, const char *uid)
{
	enum dbrc	 rc;

	if ((rc = db_run(c->db, SQL_NODE_STATUS_WIPE, "s", uid)) != DB_OK ||
	    (rc = db_run(c->db, SQL_NODE_BOOT_WIPE, "s", uid)) != DB_OK ||
	    (rc = db_run(c->db, SQL_HOSTKEY_DELETE, "s", uid)) != DB_OK)
		return ctx_dbfail(c, rc);
	return API_OK;
}

/* The part of a node's document that is the node itself (new reference). */
static json_t *
node_bare(const json_t *doc)
{
	static const char *const keep[] = { "mac", "ip", "type" };
	json_t	*out = json_object(), *v;
	size_t	 i;

	for (i = 0; i < nitems(keep); i++)
		if ((v = json_object_get(doc, keep[i])) != NULL)
			json_object_set(out, keep[i], v);
	json_object_set_new(out, "attributes", json_object());
	json_object_set_new(out, "groups", json_array());
	json_object_set_new(out, "hardware", json_object());
	return out;
}

/*
 * Lease node n (the management tenant's, locked) to tenant tid: its
 * management fields and BMC secrets (sealed again) move to a new nodehome
 * object, and n becomes tenant tid's with nothing but its MAC, address,
 * type and name.  In this order, because the home's row must exist
 * before secrets can be stored for it, and the node's index key must be
 * gone before the home can hold it.
 */
static enum apierr
node_lease(struct ctx *c, struct objrow *n, long long tid)
{
	struct objrow	 h;
	json_t		*home, *v, *doc;
	size_t		 i;
	enum apierr	 rc;

	memset(&h, 0, sizeof(h));
	home = json_object();
	for (i = 0; i < nitems(home_fields); i++)
		if ((v = json_object_get(n->doc, home_fields[i])) != NULL)
			json_object_set(home, home_fields[i], v);
	h.uid = xmalloc(UID_LEN + 1);
	if (uid_new(h.uid) == -1)
		abort();
	h.name = xstrdup(n->uid);
	h.tenant_id = tenant_mgmt_id(c);
	/* Its name too: the tenant may name it after its own pattern. */
	h.doc = json_pack("{s:o, s:s}", "home", home, "node_name", n->name);
	if ((rc = obj_store(c, &nodehome_class, &h)) != API_OK ||
	    (rc = attrs_secrets_copy(c, n->uid, h.uid, h.tenant_id)) != API_OK)
		goto out;
	/* The node, bare: its secrets and index key go. */
	if ((v = json_object_get(n->doc, "index")) != NULL)
		json_object_set(h.doc, "index", v);
	if ((v = json_object_get(n->doc, "naming_pool")) != NULL)
		json_object_set(h.doc, "naming_pool", v);
	doc = node_bare(n->doc);
	json_decref(n->doc);
	n->doc = doc;
	n->tenant_id = tid;
	if ((rc = obj_store(c, &node_class, n)) != API_OK)
		goto out;
	/* The index stays reserved in its pool while the node is away. */
	h.version = 1;
	rc = obj_store(c, &nodehome_class, &h);
out:
	objrow_free(&h);
	return rc;
}

/*
 * Return node n (a tenant's, locked) to the management tenant: the
 * tenant's attributes, groups, secrets and hardware report go, the home
 * comes back (its secrets sealed again for the node) and is removed.
 */
static enum apierr
node_return(struct ctx *c, struct objrow *n)
{
	struct objrow	 h;
	json_t		*doc;
	enum apierr	 rc;
	enum dbrc	 drc;

	if ((rc = nodehome_load(c, n->uid, &h)) != API_OK) {
		if (rc == API_NOT_FOUND)
			rc = ctx_internal(c, "leased node %s has no home", n->uid);
		return rc;
	}
	if ((rc = attrs_secrets_copy(c, h.uid, n->uid, h.tenant_id)) != API_OK)
		goto out;
	if ((drc = db_run(c->db, SQL_OBJ_DELETE, "s", h.uid)) != DB_OK) {
		rc = ctx_dbfail(c, drc);
		goto out;
	}
	doc = node_bare(n->doc);
	json_object_update(doc, json_object_get(h.doc, "home"));
	json_decref(n->doc);
	n->doc = doc;
	n->tenant_id = h.tenant_id;
	if (json_is_string(json_object_get(h.doc, "node_name"))) {
		free(n->name);
		n->name = xstrdup(json_string_value(json_object_get(h.doc,
		    "node_name")));
	}
	rc = obj_store(c, &node_class, n);
out:
	objrow_free(&h);
	return rc;
}

/* Tenancy uid's name and tenant, or 404. */
static enum apierr
tenancy_by_uid(struct ctx *c, const char *uid, struct objrow *out)
{
	struct ctx	 all;
	enum apierr	 rc;

	ctx_init(&all, c->db, c->conf, scope_of_tenant(SCOPE_ALL, ROLES_ALL,
	    c->scope.actor));
	rc = obj_find(&all, &tenancy_class, uid, 0, out);
	return ctx_pass(c, &all, rc);
}

/*
 * The name of the tenancy node uid is in (a new string in *name; a
 * node in no tenancy row is in Available), whoever the caller is: the
 * name is shown only to those who see the node.
 */
enum apierr
tenancy_of_node(struct ctx *c, const char *uid, char **name)
{
	struct objrow	 t;
	char		*cur = NULL;
	enum apierr	 rc;
	enum dbrc	 drc;

	*name = NULL;
	if ((drc = db_run(c->db, SQL_TENANCY_OF_NODE, "s", uid)) != DB_OK)
		return ctx_dbfail(c, drc);
	drc = db_next(c->db, SQL_TENANCY_OF_NODE, "s", &cur);
	db_done(c->db, SQL_TENANCY_OF_NODE);
	if (drc != DB_OK && drc != DB_DONE)
		return ctx_dbfail(c, drc);
	if (cur == NULL) {
		*name = xstrdup(TENANCY_AVAILABLE);
		return API_OK;
	}
	rc = tenancy_by_uid(c, cur, &t);
	free(cur);
	if (rc != API_OK)
		return rc;
	*name = xstrdup(t.name);
	objrow_free(&t);
	return API_OK;
}

/*
 * Move node n (locked, loaded in a scope over every tenant) from where it
 * is to tenancy to (of tenant to->tenant_id), by the rules of leasing: a
 * node enters a tenant only from Available, moves freely within one
 * tenant, and leaves a tenant only for Quarantine (wiped).  poweroff
 * collects the UIDs of nodes to power off once the move is committed.
 */
static enum apierr
node_move(struct ctx *c, struct objrow *n, const struct objrow *to,
    json_t *poweroff)
{
	struct objrow	 from;
	char		*cur = NULL;
	long long	 mgmt = tenant_mgmt_id(c);
	enum apierr	 rc = API_OK;
	enum dbrc	 drc;
	int		 in_available, to_available;

	memset(&from, 0, sizeof(from));
	if ((drc = db_run(c->db, SQL_TENANCY_OF_NODE, "s", n->uid)) != DB_OK)
		return ctx_dbfail(c, drc);
	drc = db_next(c->db, SQL_TENANCY_OF_NODE, "s", &cur);
	db_done(c->db, SQL_TENANCY_OF_NODE);
	if (drc != DB_OK && drc != DB_DONE)
		return ctx_dbfail(c, drc);
	in_available = cur == NULL;
	to_available = to->tenant_id == mgmt &&
	    strcmp(to->name, TENANCY_AVAILABLE) == 0;
	if (cur != NULL && strcmp(cur, to->uid) == 0) {
		rc = ctx_fail(c, API_CONFLICT, "Node %s is already in tenancy "
		    "%s", n->name, to->name);
		goto out;
	}
	if (in_available && to_available) {
		rc = ctx_fail(c, API_CONFLICT, "Node %s is already in tenancy "
		    "%s", n->name, to->name);
		goto out;
	}
	if (cur != NULL && (rc = tenancy_by_uid(c, cur, &from)) != API_OK)
		goto out;

	if (n->tenant_id == to->tenant_id)
		;	/* within one tenant: only the membership changes */
	else if (n->tenant_id == mgmt && !in_available) {
		rc = ctx_fail(c, API_CONFLICT, "Node %s is in tenancy %s; only "
		    "nodes in %s can be leased", n->name, from.name,
		    TENANCY_AVAILABLE);
		goto out;
	} else if (n->tenant_id == mgmt) {
		if ((rc = node_lease(c, n, to->tenant_id)) != API_OK)
			goto out;
	} else if (to->tenant_id == mgmt &&
	    strcmp(to->name, TENANCY_QUARANTINE) == 0) {
		if ((rc = node_return(c, n)) != API_OK)
			goto out;
	} else {
		rc = ctx_fail(c, API_CONFLICT, "Node %s is in tenancy %s of "
		    "another tenant; remove it from there first", n->name,
		    from.name);
		goto out;
	}
	if (rc == API_OK && (rc = node_wipe_reports(c, n->uid)) != API_OK)
		goto out;
	if (to_available)
		drc = db_run(c->db, SQL_NODE_TENANCY_CLEAR, "s", n->uid);
	else
		drc = db_run(c->db, SQL_NODE_TENANCY_SET, "ssd", n->uid, to->uid,
		    time_now());
	if (drc != DB_OK)
		rc = ctx_dbfail(c, drc);
	if (poweroff != NULL)
		json_array_append_new(poweroff, json_string(n->uid));
out:
	free(cur);
	objrow_free(&from);
	return rc;
}

/*
 * The nodes of tenancy t (new reference in *out): node UID -> {name,
 * mac, ip}.  Available's are the management tenant's nodes in no row.
 */
enum apierr
tenancy_members(struct ctx *c, const struct objrow *t, json_t **out)
{
	enum sql	 q;
	char		*uid, *name, *mac, *ip;
	enum dbrc	 rc;

	*out = json_object();
	if (t->tenant_id == tenant_mgmt_id(c) &&
	    strcmp(t->name, TENANCY_AVAILABLE) == 0) {
		q = SQL_TENANCY_AVAILABLE;
		rc = db_run(c->db, q, "i", t->tenant_id);
	} else {
		q = SQL_TENANCY_MEMBERS;
		rc = db_run(c->db, q, "s", t->uid);
	}
	if (rc != DB_OK) {
		json_decref(*out);
		*out = NULL;
		return ctx_dbfail(c, rc);
	}
	while ((rc = db_next(c->db, q, "ssss", &uid, &name, &mac, &ip)) ==
	    DB_OK) {
		json_object_set_new(*out, uid, json_pack("{s:s, s:s?, s:s?}",
		    "name", name, "mac", mac, "ip", ip));
		free(uid);
		free(name);
		free(mac);
		free(ip);
	}
	db_done(c->db, q);
	if (rc != DB_DONE) {
		json_decref(*out);
		*out = NULL;
		return ctx_dbfail(c, rc);
	}
	return API_OK;
}

/*
 * Tenancy o as GET /tenancy/<ID> shows it (new reference in *out): the
 * reference's example, nodes as a list of names.
 */
enum apierr
tenancy_render(struct ctx *c, const struct objrow *o, json_t **out)
{
	json_t		*members, *names, *v;
	const char	*k;
	struct ctx	 all;
	struct tenant	 t;
	enum apierr	 rc;

	*out = NULL;
	memset(&t, 0, sizeof(t));
	ctx_init(&all, c->db, c->conf, scope_of_tenant(SCOPE_ALL, ROLES_ALL,
	    c->scope.actor));
	if ((rc = tenancy_members(&all, o, &members)) != API_OK)
		return ctx_pass(c, &all, rc);
	names = json_array();
	json_object_foreach(members, k, v)
		json_array_append(names, json_object_get(v, "name"));
	json_decref(members);
	*out = obj_render(&tenancy_class, o);
	json_object_set_new(*out, "nodes", names);
	if (tenant_load_id(&all, o->tenant_id, &t) == API_OK)
		json_object_set_new(*out, "tenant", json_string(t.name));
	tenant_free(&t);
	return API_OK;
}

/*
 * Move the nodes with MACs macs (a list of strings) into tenancy t, or
 * (out) out of it: from a tenant's tenancy to Quarantine, from
 * Quarantine to Available, from Available to Quarantine.  All or none,
 * in one transaction; the tenant's max_nodes holds at the end.  *done
 * (new reference) is node UID -> {"success": true}; poweroff collects
 * the nodes to power off once committed.
 */
enum apierr
tenancy_move(struct ctx *c, const struct objrow *t, const json_t *macs,
    int out, json_t *poweroff, json_t **done)
{
	struct objrow	 n, dest;
	struct tenant	 tn;
	const char	*mac, *dname;
	char		*cur = NULL;
	long long	 mgmt = tenant_mgmt_id(c), ntenancies, nnodes;
	size_t		 i;
	enum apierr	 rc = API_OK;
	enum dbrc	 drc;

	*done = NULL;
	memset(&dest, 0, sizeof(dest));
	memset(&tn, 0, sizeof(tn));
	if ((drc = db_begin(c->db)) != DB_OK)
		return ctx_dbfail(c, drc);
	if ((rc = tenant_lock(c, t->tenant_id)) != API_OK)
		goto fail;
	/* Where the nodes go. */
	if (!out)
		dname = NULL;
	else if (t->tenant_id != mgmt || strcmp(t->name, TENANCY_AVAILABLE) == 0)
		dname = TENANCY_QUARANTINE;
	else if (strcmp(t->name, TENANCY_QUARANTINE) == 0)
		dname = TENANCY_AVAILABLE;
	else
		dname = TENANCY_QUARANTINE;
	if (dname != NULL && (rc = obj_find(c, &tenancy_class, dname, 0,
	    &dest)) != API_OK)
		goto fail;
	*done = json_object();
	for (i = 0; i < json_array_size(macs); i++) {
		mac = json_string_value(json_array_get(macs, i));
		if ((rc = obj_find(c, &node_class, mac, 1, &n)) != API_OK)
			goto fail;
		if (out) {
			/* It must be in t now. */
			if ((drc = db_run(c->db, SQL_TENANCY_OF_NODE, "s",
			    n.uid)) != DB_OK) {
				objrow_free(&n);
				rc = ctx_dbfail(c, drc);
				goto fail;
			}
			free(cur);
			cur = NULL;
			drc = db_next(c->db, SQL_TENANCY_OF_NODE, "s", &cur);
			db_done(c->db, SQL_TENANCY_OF_NODE);
			if (cur == NULL ? !(t->tenant_id == mgmt && n.tenant_id ==
			    mgmt && strcmp(t->name, TENANCY_AVAILABLE) == 0) :
			    strcmp(cur, t->uid) != 0) {
				rc = ctx_fail(c, API_CONFLICT, "Node %s (%s) is "
				    "not in tenancy %s", n.name, mac, t->name);
				objrow_free(&n);
				goto fail;
			}
		}
		rc = node_move(c, &n, out ? &dest : t, poweroff);
		if (rc == API_OK)
			json_object_set_new(*done, n.uid, json_pack("{s:b}",
			    "success", 1));
		objrow_free(&n);
		if (rc != API_OK)
			goto fail;
	}
	/* The tenant's node limit, counted after the moves. */
	if (!out && t->tenant_id != mgmt) {
		if ((rc = tenant_load_id(c, t->tenant_id, &tn)) != API_OK)
			goto fail;
		if (strcmp(tn.state, "Deleting") == 0) {
			rc = ctx_fail(c, API_CONFLICT, "Tenant %s is being "
			    "deleted", tn.name);
			goto fail;
		}
		if ((rc = tenant_usage(c, tn.id, &ntenancies, &nnodes)) != API_OK)
			goto fail;
		if (tn.max_nodes >= 0 && nnodes > tn.max_nodes) {
			rc = ctx_fail(c, API_CONFLICT, "max_nodes: tenant %s "
			    "would have %lld nodes, its limit is %lld", tn.name,
			    nnodes, tn.max_nodes);
			goto fail;
		}
	}
	if ((drc = db_commit(c->db)) != DB_OK)
		rc = ctx_dbfail(c, drc);
fail:
	db_rollback(c->db);
	ctx_clear(c);
	free(cur);
	tenant_free(&tn);
	objrow_free(&dest);
	if (rc != API_OK) {
		json_decref(*done);
		*done = NULL;
		json_array_clear(poweroff);
	}
	return rc;
}

/*
 * Move every node of tenancy uid to Quarantine (the teardown), in the
 * caller's transaction, and delete the tenancy (its ids and tokens go
 * with it).  poweroff collects the nodes to power off.
 */
enum apierr
tenancy_empty(struct ctx *c, const char *uid, json_t *poweroff)
{
	struct objrow	 t, q, n;
	json_t		*members = NULL;
	const char	*k;
	json_t		*v;
	enum apierr	 rc;
	enum dbrc	 drc;

	memset(&q, 0, sizeof(q));
	if ((rc = obj_find(c, &tenancy_class, uid, 1, &t)) != API_OK)
		return rc;
	if (tenancy_builtin(c, &t)) {
		rc = ctx_fail(c, API_FORBIDDEN, "The built-in tenancy %s cannot "
		    "be torn down", t.name);
		goto out;
	}
	if ((rc = obj_find(c, &tenancy_class, TENANCY_QUARANTINE, 0, &q)) !=
	    API_OK || (rc = tenancy_members(c, &t, &members)) != API_OK)
		goto out;
	json_object_foreach(members, k, v) {
		if ((rc = obj_find(c, &node_class, k, 1, &n)) != API_OK)
			goto out;
		rc = node_move(c, &n, &q, poweroff);
		objrow_free(&n);
		if (rc != API_OK)
			goto out;
	}
	if ((drc = db_run(c->db, SQL_TENANCY_IDS_DROP, "s", t.uid)) != DB_OK ||
	    (drc = db_run(c->db, SQL_OBJ_DELETE, "s", t.uid)) != DB_OK)
		rc = ctx_dbfail(c, drc);
out:
	json_decref(members);
	objrow_free(&t);
	objrow_free(&q);
	return rc;
}

/*
 * Queue a hard power-off of each node (UIDs) as the cluster's
 * tenancy_power_off setting asks (TAPMS step 9): a node changing hands
 * is stopped, so nothing the last tenant ran goes on for the next.
 * Queued in the management tenant, whose BMC secrets they use.
 */
enum apierr
tenancy_poweroff_queue(struct ctx *c, const json_t *nodes)
{
	struct jobspec	 js;
	struct objrow	 n;
	json_t		*all = NULL, *params;
	char		 uid[UID_LEN + 1];
	size_t		 i;
	enum apierr	 rc;

	if (json_array_size(nodes) == 0)
		return API_OK;
	if ((rc = settings_get(c, tenant_mgmt_id(c), 0, &all)) != API_OK)
		return rc;
	if (json_is_false(json_object_get(all, "tenancy_power_off"))) {
		json_decref(all);
		return API_OK;
	}
	json_decref(all);
	params = json_pack("{s:s, s:b}", "op", "off", "force", 1);
	for (i = 0; i < json_array_size(nodes); i++) {
		if (obj_find(c, &node_class, json_string_value(json_array_get(
		    nodes, i)), 0, &n) != API_OK)
			continue;
		/* A node without a BMC has nothing to switch off. */
		if (json_object_get(n.doc, "power_uri") != NULL ||
		    n.tenant_id != tenant_mgmt_id(c)) {
			memset(&js, 0, sizeof(js));
			js.kind = &job_power;
			js.params = params;
			js.target = n.name;
			js.node_uid = n.uid;
			rc = job_insert(c, tenant_mgmt_id(c), "corral", &js, uid);
		}
		objrow_free(&n);
		if (rc != API_OK)
			break;
	}
	json_decref(params);
	jobd_wake(c->conf);
	return rc;
}

/* ------------------------------------------------------------ tokens */

/*
 * A tenancy token for tenancy t, good for ttl seconds, made by who: a
 * JWT of type "tenancy" naming the tenancy, its row in tenancy_tokens
 * (so it can be listed and revoked).  *tok is a new string.
 */
enum apierr
tenancy_token_new(struct ctx *c, const struct authkey *key,
    const struct objrow *t, long long ttl, const char *who, char **tok,
    char jti[UID_LEN + 1], long long *exp)
{
	struct claims	 cl;
	enum dbrc	 rc;
	time_t		 now = time(NULL);

	*tok = NULL;
	memset(&cl, 0, sizeof(cl));
	cl.typ = TOK_TENANCY;
	snprintf(cl.sub, sizeof(cl.sub), "%s", t->uid);
	snprintf(cl.name, sizeof(cl.name), "%s", t->name);
	cl.tid = t->tenant_id;
	if (uid_new(cl.jti) == -1)
		return ctx_internal(c, "no random bytes for a token id");
	cl.iat = cl.nbf = now;
	cl.exp = now + ttl;
	if ((*tok = token_make(key, &cl)) == NULL)
		return ctx_internal(c, "tenancy token not made");
	if ((rc = db_run(c->db, SQL_TENANCY_TOKEN_ADD, "ssdsi", cl.jti, t->uid,
	    time_now(), who, cl.exp)) != DB_OK) {
		free(*tok);
		*tok = NULL;
		return ctx_dbfail(c, rc);
	}
	memcpy(jti, cl.jti, UID_LEN + 1);
	*exp = cl.exp;
	return API_OK;
}

/*
 * Whether the tenancy token cl (verified) is still good: its row exists,
 * is not revoked or expired, and names the same tenancy and tenant.
 * API_UNAUTHORIZED with a reason when not.
 */
enum apierr
tenancy_token_live(struct ctx *c, const struct claims *cl)
{
	char		*tuid = NULL, *tname = NULL;
	long long	 tid = 0, exp = 0, revoked = 1;
	enum dbrc	 rc;
	enum apierr	 arc = API_OK;

	if ((rc = db_run(c->db, SQL_TENANCY_TOKEN_GET, "s", cl->jti)) != DB_OK)
		return ctx_dbfail(c, rc);
	rc = db_next(c->db, SQL_TENANCY_TOKEN_GET, "ssiii", &tuid, &tname, &tid,
	    &exp, &revoked);
	db_done(c->db, SQL_TENANCY_TOKEN_GET);
	if (rc != DB_OK && rc != DB_DONE)
		arc = ctx_dbfail(c, rc);
	else if (rc == DB_DONE || revoked || tid != cl->tid ||
	    strcmp(tuid, cl->sub) != 0)
		arc = ctx_fail(c, API_UNAUTHORIZED, "Tenancy token revoked");
	else if (exp < (long long)time(NULL))
		arc = ctx_fail(c, API_UNAUTHORIZED, "Token expired");
	free(tuid);
	free(tname);
	return arc;
}

/* Tenancy t's tokens (new reference): jti -> what is known of it. */
enum apierr
tenancy_tokens(struct ctx *c, const struct objrow *t, json_t **out)
{
	char		*jti, *by;
	double		 at;
	long long	 exp, revoked;
	enum dbrc	 rc;

	*out = json_object();
	if ((rc = db_run(c->db, SQL_TENANCY_TOKENS, "s", t->uid)) != DB_OK)
		return ctx_dbfail(c, rc);
	while ((rc = db_next(c->db, SQL_TENANCY_TOKENS, "sdsii", &jti, &at, &by,
	    &exp, &revoked)) == DB_OK) {
		json_object_set_new(*out, jti, json_pack("{s:f, s:s, s:I, s:b}",
		    "created_at", at, "created_by", by, "expires_at",
		    (json_int_t)exp, "revoked", (int)revoked));
		free(jti);
		free(by);
	}
	db_done(c->db, SQL_TENANCY_TOKENS);
	return rc == DB_DONE ? API_OK : ctx_dbfail(c, rc);
}

/* Revoke tenancy t's token jti, or (NULL) all of them; *n how many. */
enum apierr
tenancy_tokens_revoke(struct ctx *c, const struct objrow *t, const char *jti,
    long long *n)
{
	enum dbrc	 rc;

	if ((rc = db_run(c->db, SQL_TENANCY_TOKEN_REVOKE, "sss", t->uid, jti,
	    jti)) != DB_OK)
		return ctx_dbfail(c, rc);
	*n = db_affected(c->db, SQL_TENANCY_TOKEN_REVOKE);
	return API_OK;
}
