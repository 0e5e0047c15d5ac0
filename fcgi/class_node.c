/*
 * Nodes (reference: "Node Objects"): the machines of the cluster.
 *
 * What is special to them:
 * - the server assigns each node's index, name, IP address and domain
 *   from its naming pool and network (node_assign);
 * - a MAC or an address identifies a node as well as its UID or name
 *   (the engine's unique-key lookup);
 * - POST /nodes also takes a list, created in one transaction;
 * - attributes are inherited from groups (node_attrs_merged) and the
 *   groups list has endpoints of its own.
 *
 * Assignment rules (README, "Inventory decisions"):
 * - index: the lowest free one from the pool's first_index, unless sent;
 *   kept while the node stays in its pool.
 * - name: the pool's pattern (or the cluster's "naming") applied to the
 *   index, recomputed when pool or index change and by the pool's push.
 * - network: the pool's, else the tenant's first network (by name) whose
 *   index range [first_index, first_index + ip_count) holds the index.
 * - ip: ip_base + (index - pool first_index); or network first_ip +
 *   ip_offset + (index - pool first_index); else the network address
 *   matching the index if free, else the network's lowest free address.
 *   Unless sent; kept while pool and index stay.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define NODE_BULK_MAX		100000
#define NODE_FREE_SCAN_MAX	65536	/* addresses tried for a free one */

static const char *const node_types[] = {
	"unknown", "compute", "head", "simulated", NULL
};

static const struct field node_fields[] = {
	{ "name",	 F_NAME,     F_READONLY, NAMING_LABEL_MAX, "Assigned: the naming pool's pattern applied to the index" },
	{ "description", F_TEXT,     0,		 4096,	"A text string with descriptive information" },
	{ "type",	 F_ENUM,     0,		 0,	"compute (default), unknown, head or simulated", NULL, node_types },
	{ "mac",	 F_MAC,	     F_REQUIRED|F_UNIQUE, 0, "Every node must have a MAC address" },
	{ "attributes",	 F_OBJECT,   0,		 65536,	"The node's own key-value pairs; GET /node/<ID>/attributes adds its groups'" },
	{ "groups",	 F_REF_LIST, 0,		 64,	"Ordered attribute groups; later ones override earlier ones", "attrib" },
	{ "naming_pool", F_REF,	     0,		 0,	"The naming pool (default: the cluster's naming pattern); stored as UID", "namingpool" },
	{ "index",	 F_INT,	     0,		 NAMING_INDEX_MAX, "Assigned from the naming pool unless sent" },
	{ "ip",		 F_IP,	     F_UNIQUE,	 0,	"Assigned from the network unless sent" },
	{ "power_uri",	 F_STRING,   0,		 URI_MAX_LEN, "The BMC's URI; <attribute> references are substituted" },
	{ "redfish_uri", F_STRING,   0,		 URI_MAX_LEN, "The Redfish endpoint of the BMC" },
	{ "hardware",	 F_OBJECT,   F_READONLY, 0,	"What the node reported of its hardware (putstatus)" },
	{ "hostname",	 F_STRING,   F_READONLY, 0,	"The node's host name: its name" },
	{ "domain",	 F_STRING,   F_READONLY, 0,	"The DNS domain of the node's network" },
};

#define NFIELDS	(sizeof(node_fields) / sizeof(node_fields[0]))

/* POST /nodes takes one node or a list, so the router leaves the checks to obj_post. */
const struct bodyspec b_node = { node_fields, NFIELDS, 0 };
const struct bodyspec b_node_or_list = { node_fields, NFIELDS, 1 };

/*
 * Defaults as the reference's example shows them, and the checks that
 * need more than one field's declaration.
 */
static enum apierr
node_prepare(struct req *r, json_t *doc, int creating)
{
	const char	*uri;
	json_t		*parsed, *a;
	char		 err[256];

	if (creating) {
		if (json_object_get(doc, "type") == NULL)
			json_object_set_new(doc, "type", json_string("compute"));
		if (json_object_get(doc, "groups") == NULL)
			json_object_set_new(doc, "groups", json_array());
		if (json_object_get(doc, "hardware") == NULL)
			json_object_set_new(doc, "hardware", json_object());
	}
	if ((a = json_object_get(doc, "attributes")) == NULL)
		json_object_set_new(doc, "attributes", json_object());
	else if (attrs_check(r, a) != API_OK)
		return API_BAD_REQUEST;
	if (json_object_get(doc, "power_uri") == NULL)
		json_object_set_new(doc, "power_uri", json_null());
	/* A template is checked when expanded; a plain URI now. */
	uri = json_string_value(json_object_get(doc, "power_uri"));
	if (uri != NULL && strchr(uri, '<') == NULL) {
		if ((parsed = uri_parse_power(uri, err, sizeof(err))) == NULL)
			return req_fail(r, API_BAD_REQUEST, "Field power_uri: %s",
			    err);
		json_decref(parsed);
	}
	uri = json_string_value(json_object_get(doc, "redfish_uri"));
	if (uri != NULL && !valid_url(uri))
		return req_fail(r, API_BAD_REQUEST, "Field redfish_uri must be "
		    "an http or https URL");
	return API_OK;
}

/* "<tenant>:<pool UID or ->:" — the prefix of a pool's index keys. */
static void
index_prefix(long long tid, const char *pool, char *buf, size_t sz)
{
	snprintf(buf, sz, "%lld:%s:", tid, pool != NULL ? pool : "-");
}

/* The key of index i in a pool: its prefix and nine digits, so keys sort. */
static void
index_key(long long tid, const char *pool, long long i, char *buf, size_t sz)
{
	snprintf(buf, sz, "%lld:%s:%09lld", tid, pool != NULL ? pool : "-", i);
}

/* An index is unique within its tenant's naming pool. */
static void
node_keys(const struct objrow *o, json_t *keys)
{
	json_t	*idx = json_object_get(o->doc, "index");
	char	 key[96], shown[32];

	if (!json_is_integer(idx))
		return;
	index_key(o->tenant_id, json_string_value(json_object_get(o->doc,
	    "naming_pool")), json_integer_value(idx), key, sizeof(key));
	snprintf(shown, sizeof(shown), "index=%lld",
	    (long long)json_integer_value(idx));
	json_array_append_new(keys, json_pack("[s,s,s]", "index", key, shown));
}

/*
 * What assignment learns during one request, so a list of 10,000 nodes
 * costs a few queries rather than a few per node.  Kept in r->scratch;
 * valid for the request's one transaction, whose locks it records.
 */
struct nodectx {
	json_t	*pools;		/* pool UID -> its document */
	json_t	*nets;		/* "<tenant>" -> [network documents with uid], by name */
	json_t	*locked;	/* what this transaction has locked */
	json_t	*used_idx;	/* index keys in use */
	json_t	*cursor;	/* index prefix -> lowest index maybe free */
	json_t	*used_ip;	/* addresses in use -> true */
	char	*naming;	/* the cluster's default pattern */
};

static void
nodectx_free(void *p)
{
	struct nodectx	*c = p;

	if (c == NULL)
		return;
	json_decref(c->pools);
	json_decref(c->nets);
	json_decref(c->locked);
	json_decref(c->used_idx);
	json_decref(c->cursor);
	json_decref(c->used_ip);
	free(c->naming);
	free(c);
}

static struct nodectx *
nodectx_get(struct req *r)
{
	struct nodectx	*c;

	if (r->scratch != NULL)
		return r->scratch;
	c = xcalloc(1, sizeof(*c));
	c->pools = json_object();
	c->nets = json_object();
	c->locked = json_object();
	c->used_idx = json_object();
	c->cursor = json_object();
	r->scratch = c;
	r->scratch_free = nodectx_free;
	return c;
}

/* Lock a row once per transaction: a pool, a network, or (uid NULL) tenant tid. */
static enum apierr
ctx_lock(struct req *r, struct nodectx *c, const char *what, long long tid,
    const char *uid)
{
	struct objrow	 o;
	long long	 id;
	char		 key[64];
	enum sql	 q = uid != NULL ? SQL_OBJ_LOCK : SQL_TENANT_LOCK;
	enum dbrc	 rc;

	snprintf(key, sizeof(key), "%s:%lld:%s", what, tid, uid ? uid : "-");
	if (json_object_get(c->locked, key) != NULL)
		return API_OK;
	rc = uid != NULL ? db_run(r->db, q, "s", uid) : db_run(r->db, q, "i", tid);
	if (rc != DB_OK)
		return req_dbfail(r, rc);
	if (uid != NULL) {
		while ((rc = obj_row_next(r, q, &o)) == DB_OK)
			objrow_free(&o);
	} else
		while ((rc = db_next(r->db, q, "i", &id)) == DB_OK)
			;
	db_done(r->db, q);
	if (rc != DB_DONE)
		return req_dbfail(r, rc);
	json_object_set_new(c->locked, key, json_true());
	return API_OK;
}

/* The naming pool uid of tenant tid (cached), or NULL with r failed. */
static const json_t *
ctx_pool(struct req *r, struct nodectx *c, long long tid, const char *id,
    enum apierr *rc, char uid[UID_LEN + 1])
{
	struct objrow	 o;
	json_t		*p;

	if (uid_valid(id) && (p = json_object_get(c->pools, id)) != NULL) {
		memcpy(uid, id, UID_LEN + 1);
		return p;
	}
	if ((*rc = obj_ref_load(r, "namingpool", "naming_pool", tid, id, &o)) !=
	    API_OK)
		return NULL;
	memcpy(uid, o.uid, UID_LEN + 1);
	json_object_set(c->pools, o.uid, o.doc);
	objrow_free(&o);
	return json_object_get(c->pools, uid);
}

/* The networks of tenant tid, by name, each with its "uid" (cached). */
static const json_t *
ctx_nets(struct req *r, struct nodectx *c, long long tid, enum apierr *arc)
{
	struct objrow	 o;
	json_t		*list, *net;
	char		 key[24];
	enum dbrc	 rc;

	snprintf(key, sizeof(key), "%lld", tid);
	if ((list = json_object_get(c->nets, key)) != NULL)
		return list;
	if ((rc = db_run(r->db, SQL_OBJ_LIST, "si", "net", tid)) != DB_OK) {
		*arc = req_dbfail(r, rc);
		return NULL;
	}
	list = json_array();
	while ((rc = obj_row_next(r, SQL_OBJ_LIST, &o)) == DB_OK) {
		net = json_deep_copy(o.doc);
		json_object_set_new(net, "uid", json_string(o.uid));
		json_array_append_new(list, net);
		objrow_free(&o);
	}
	db_done(r->db, SQL_OBJ_LIST);
	if (rc != DB_DONE) {
		json_decref(list);
		*arc = req_dbfail(r, rc);
		return NULL;
	}
	json_object_set_new(c->nets, key, list);
	return list;
}

/*
 * Learn the indexes in use in a pool (tenant tid's default pool for
 * NULL), once per request, after locking the pool (or, for the default
 * pool, the tenant) so concurrent writers take turns.
 */
static enum apierr
ctx_load_indexes(struct req *r, struct nodectx *c, long long tid,
    const char *pool, long long first)
{
	char		 prefix[64], like[72], *v;
	enum apierr	 arc;
	enum dbrc	 rc;

	index_prefix(tid, pool, prefix, sizeof(prefix));
	if (json_object_get(c->cursor, prefix) != NULL)
		return API_OK;
	if ((arc = ctx_lock(r, c, "pool", tid, pool)) != API_OK)
		return arc;
	snprintf(like, sizeof(like), "%s%%", prefix);
	if ((rc = db_run(r->db, SQL_KEY_VALUES, "sss", "node", "index", like)) !=
	    DB_OK)
		return req_dbfail(r, rc);
	while ((rc = db_next(r->db, SQL_KEY_VALUES, "s", &v)) == DB_OK) {
		json_object_set_new(c->used_idx, v, json_true());
		free(v);
	}
	db_done(r->db, SQL_KEY_VALUES);
	if (rc != DB_DONE)
		return req_dbfail(r, rc);
	json_object_set_new(c->cursor, prefix, json_integer(first));
	return API_OK;
}

/*
 * The lowest index from first not in use in the pool with key prefix
 * prefix, marked used.  The pool (or, for the default pool, the tenant)
 * is locked first so concurrent writers take turns.
 */
static enum apierr
ctx_next_index(struct req *r, struct nodectx *c, long long tid,
    const char *pool, long long first, long long *out)
{
	char		 prefix[64], key[96];
	json_t		*cur;
	long long	 i;
	enum apierr	 arc;

	index_prefix(tid, pool, prefix, sizeof(prefix));
	if ((arc = ctx_load_indexes(r, c, tid, pool, first)) != API_OK)
		return arc;
	cur = json_object_get(c->cursor, prefix);
	i = json_integer_value(cur);
	if (i < first)
		i = first;
	for (;; i++) {
		if (i > NAMING_INDEX_MAX)
			return req_fail(r, API_CONFLICT, "No free index is left "
			    "in the naming pool");
		index_key(tid, pool, i, key, sizeof(key));
		if (json_object_get(c->used_idx, key) == NULL)
			break;
	}
	json_object_set_new(c->used_idx, key, json_true());
	json_integer_set(cur, i + 1);
	*out = i;
	return API_OK;
}

/* Take index i, given by the client, in a pool: 409 if a node has it. */
static enum apierr
ctx_use_index(struct req *r, struct nodectx *c, long long tid,
    const char *pool, long long first, long long i)
{
	char		 key[96];
	enum apierr	 arc;

	if ((arc = ctx_load_indexes(r, c, tid, pool, first)) != API_OK)
		return arc;
	index_key(tid, pool, i, key, sizeof(key));
	if (json_object_get(c->used_idx, key) != NULL)
		return req_fail(r, API_CONFLICT, "Node with index=%lld already "
		    "exists.", i);
	json_object_set_new(c->used_idx, key, json_true());
	return API_OK;
}

/*
 * The addresses in use, read after locking network net so no one
 * takes one of its addresses behind our back.
 */
static enum apierr
ctx_lock_net(struct req *r, struct nodectx *c, long long tid, const char *net)
{
	char		 key[64], *v;
	enum apierr	 arc;
	enum dbrc	 rc;

	snprintf(key, sizeof(key), "net:%lld:%s", tid, net);
	if (json_object_get(c->locked, key) != NULL && c->used_ip != NULL)
		return API_OK;
	if ((arc = ctx_lock(r, c, "net", tid, net)) != API_OK)
		return arc;
	if ((rc = db_run(r->db, SQL_KEY_VALUES, "sss", "node", "ip", "%")) != DB_OK)
		return req_dbfail(r, rc);
	if (c->used_ip == NULL)
		c->used_ip = json_object();
	while ((rc = db_next(r->db, SQL_KEY_VALUES, "s", &v)) == DB_OK) {
		json_object_set_new(c->used_ip, v, json_true());
		free(v);
	}
	db_done(r->db, SQL_KEY_VALUES);
	return rc == DB_DONE ? API_OK : req_dbfail(r, rc);
}

/* A network's integer field, with a default for an absent one. */
static long long
net_int(const json_t *net, const char *k, long long dflt)
{
	json_t	*v = json_object_get(net, k);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* The network node index idx belongs to by default, or NULL. */
static const json_t *
default_net(const json_t *nets, long long idx)
{
	const json_t	*net;
	size_t		 i;
	long long	 first;

	json_array_foreach(nets, i, net) {
		first = net_int(net, "first_index", 0);
		if (idx >= first && idx - first < net_int(net, "ip_count", 0))
			return net;
	}
	return NULL;
}

/* The network of nets with this UID, or NULL. */
static const json_t *
net_by_uid(const json_t *nets, const char *uid)
{
	const json_t	*net;
	size_t		 i;

	json_array_foreach(nets, i, net)
		if (strcmp(json_string_value(json_object_get(net, "uid")), uid) == 0)
			return net;
	return NULL;
}

/* The network (of nets) whose range holds address ip, or NULL. */
static const json_t *
net_holding(const json_t *nets, const char *ip)
{
	const json_t	*net;
	unsigned char	 a[16], base[16];
	long long	 off;
	size_t		 i;

	if (ip_parse(ip, a) == 0)
		return NULL;
	json_array_foreach(nets, i, net) {
		if (ip_parse(json_string_value(json_object_get(net, "first_ip")),
		    base) == 0)
			continue;
		off = ip_diff(base, a);
		if (off >= 0 && off < net_int(net, "ip_count", 0))
			return net;
	}
	return NULL;
}

/* base + off as text into buf (IP_STR_MAX), or NULL. */
static const char *
ip_plus(const char *base, long long off, char *buf)
{
	unsigned char	 a[16];
	int		 fam;

	if (off < 0 || (fam = ip_parse(base, a)) == 0 ||
	    ip_add(a, (unsigned long long)off) == -1)
		return NULL;
	/* An IPv4 address must not carry into the bytes before it. */
	if (fam == AF_INET && (a[10] != 0 || a[11] != 0))
		return NULL;
	return ip_format(a, fam, buf);
}

/*
 * An address of network net for node index idx: the one matching the
 * index if free, else the lowest free one.  NULL if the network is full.
 */
static const char *
net_free_ip(struct nodectx *c, const json_t *net, long long idx,
    const char *mine, char *buf)
{
	const char	*first = json_string_value(json_object_get(net, "first_ip"));
	long long	 count = net_int(net, "ip_count", 0), off, i;

	off = idx - net_int(net, "first_index", 0);
	if (off >= 0 && off < count && ip_plus(first, off, buf) != NULL &&
	    (json_object_get(c->used_ip, buf) == NULL ||
	    (mine != NULL && strcmp(buf, mine) == 0)))
		return buf;
	for (i = 0; i < count && i < NODE_FREE_SCAN_MAX; i++)
		if (ip_plus(first, i, buf) != NULL &&
		    (json_object_get(c->used_ip, buf) == NULL ||
		    (mine != NULL && strcmp(buf, mine) == 0)))
			return buf;
	return NULL;
}

/* Whether a PATCH sent null for field k: asking for a fresh assignment. */
static int
sent_null(const struct req *r, const char *k)
{
	return r->method == M_PATCH && json_is_object(r->json) &&
	    json_is_null(json_object_get(r->json, k));
}

/*
 * Assign index, name, ip and domain of node o (see the top of the
 * file).  before is the stored node, NULL on create.
 */
static enum apierr
node_assign(struct req *r, struct objrow *o, const json_t *before)
{
	struct nodectx	*c = nodectx_get(r);
	const json_t	*pool = NULL, *nets, *net = NULL;
	const char	*pattern, *ip, *oldip, *s;
	char		 pooluid[UID_LEN + 1], name[NAMING_LABEL_MAX + 1],
			 buf[IP_STR_MAX + 1], err[256];
	struct naming	 nm;
	json_t		*v, *oldidx;
	long long	 idx = 0, pfirst = 0;
	int		 moved, renumbered;
	enum apierr	 arc = API_OK;

	/* The pool, stored as its UID. */
	v = json_object_get(o->doc, "naming_pool");
	if (json_is_string(v)) {
		if ((pool = ctx_pool(r, c, o->tenant_id, json_string_value(v),
		    &arc, pooluid)) == NULL)
			return arc;
		json_object_set_new(o->doc, "naming_pool", json_string(pooluid));
		pfirst = net_int(pool, "first_index", 0);
	} else
		json_object_del(o->doc, "naming_pool");
	s = json_string_value(json_object_get(before, "naming_pool"));
	moved = before == NULL || (pool == NULL) != (s == NULL) ||
	    (pool != NULL && strcmp(s, pooluid) != 0);

	/* The index. */
	oldidx = json_object_get(before, "index");
	v = json_object_get(o->doc, "index");
	if (sent_null(r, "index"))
		v = NULL;
	else if (v == NULL && !moved && json_is_integer(oldidx))
		v = oldidx;
	if (v == NULL || (moved && before != NULL && json_equal(v, oldidx))) {
		if ((arc = ctx_next_index(r, c, o->tenant_id, pool ? pooluid :
		    NULL, pfirst, &idx)) != API_OK)
			return arc;
	} else {
		idx = json_integer_value(v);
		/* Keeping its own index in its own pool needs no check. */
		if ((moved || !json_equal(v, oldidx)) &&
		    (arc = ctx_use_index(r, c, o->tenant_id, pool ? pooluid :
		    NULL, pfirst, idx)) != API_OK)
			return arc;
	}
	json_object_set_new(o->doc, "index", json_integer(idx));
	renumbered = moved || !json_is_integer(oldidx) ||
	    json_integer_value(oldidx) != idx;

	/* The name, from the pattern, when pool or index changed. */
	if (renumbered || o->name == NULL) {
		if (pool != NULL)
			pattern = json_string_value(json_object_get(pool, "pattern"));
		else {
			if (c->naming == NULL &&
			    (arc = cluster_setting_string(r, "naming", &c->naming)) !=
			    API_OK)
				return arc;
			pattern = c->naming;
		}
		if (pattern == NULL || naming_parse(pattern, &nm, err,
		    sizeof(err)) == -1)
			naming_parse("n{}", &nm, err, sizeof(err));
		if (naming_format(&nm, idx, name, sizeof(name)) == -1)
			return req_fail(r, API_BAD_REQUEST, "Index %lld makes no "
			    "valid name with the naming pattern", idx);
		json_object_set_new(o->doc, "name", json_string(name));
	} else
		json_object_set_new(o->doc, "name", json_string(o->name));

	/* The network and the address. */
	if ((nets = ctx_nets(r, c, o->tenant_id, &arc)) == NULL)
		return arc;
	if (pool != NULL && (s = json_string_value(json_object_get(pool,
	    "network"))) != NULL)
		net = net_by_uid(nets, s);
	else
		net = default_net(nets, idx);
	oldip = json_string_value(json_object_get(before, "ip"));
	ip = json_string_value(json_object_get(o->doc, "ip"));
	if (sent_null(r, "ip"))
		ip = NULL;
	else if (ip == NULL && !renumbered)
		ip = oldip;
	else if (ip != NULL && renumbered && oldip != NULL &&
	    strcmp(ip, oldip) == 0 && net_holding(nets, oldip) != NULL)
		ip = NULL;	/* assigned from a network, so it follows the index */
	if (ip == NULL && pool != NULL &&
	    (s = json_string_value(json_object_get(pool, "ip_base"))) != NULL)
		ip = ip_plus(s, idx - pfirst, buf);
	else if (ip == NULL && net != NULL) {
		if ((arc = ctx_lock_net(r, c, o->tenant_id, json_string_value(
		    json_object_get(net, "uid")))) != API_OK)
			return arc;
		if (pool != NULL && json_is_integer(json_object_get(pool,
		    "ip_offset")))
			ip = ip_plus(json_string_value(json_object_get(net,
			    "first_ip")), net_int(pool, "ip_offset", 0) +
			    idx - pfirst, buf);
		else
			ip = net_free_ip(c, net, idx, oldip, buf);
	}
	if (ip != NULL) {
		/* ip may point into o->doc's own value, which the set frees. */
		if (ip != buf) {
			snprintf(buf, sizeof(buf), "%s", ip);
			ip = buf;
		}
		json_object_set_new(o->doc, "ip", json_string(ip));
		if (c->used_ip != NULL)
			json_object_set_new(c->used_ip, ip, json_true());
		if (net == NULL || net_holding(nets, ip) != net)
			net = net_holding(nets, ip);
	} else
		json_object_del(o->doc, "ip");
	/* Stored, not rendered, so lists can copy documents as they are. */
	s = json_string_value(json_object_get(net, "domain"));
	json_object_set_new(o->doc, "domain", s != NULL ? json_string(s) : json_null());
	json_object_set(o->doc, "hostname", json_object_get(o->doc, "name"));
	return API_OK;
}

const struct objclass node_class = {
	"node", "nodes", "node", node_fields, NFIELDS, &b_node, 0,
	node_prepare, NULL, NULL, NULL, node_assign, node_keys,
	NODE_BULK_MAX,
};
