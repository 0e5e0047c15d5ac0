/*
 * Node assignment: the index, name, address and domain the server gives
 * each node (README, "Inventory decisions").
 *
 * - index: the lowest free one from the pool's first_index, unless sent;
 *   kept while the node stays in its pool.  Unique per tenant and pool.
 * - name: the pool's pattern (or the tenant's "naming" setting, default
 *   n{}) applied to the index, recomputed when pool or index change and
 *   by the pool's push.
 * - network: the pool's, else the tenant's first network (by name) whose
 *   index range [first_index, first_index + ip_count) holds the index.
 * - ip: ip_base + (index - pool first_index); or network first_ip +
 *   ip_offset + (index - pool first_index); else the network address
 *   matching the index if free, else the network's lowest free address.
 *   Unless sent; kept while pool and index stay.
 * - domain: that of the network holding the address.
 *
 * The rules (assign_*) are pure functions over plain sets, tested by
 * t/unit/assign.c.  node_assign, the class hook, feeds them from the
 * database inside the write's transaction, with the pool (or, for the
 * default pool, the tenant) and the network locked first, so concurrent
 * writers take turns.  What it learns is cached for the transaction, so
 * a list of 10,000 nodes costs a few queries rather than a few per node.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define FREE_SCAN_MAX	65536	/* addresses tried for a free one */

/* ---------------------------------------------------------------- rules */

/*
 * The lowest index from first (or from *cursor, where an earlier call
 * stopped) not in used, into *out; *cursor moves past it.  -1 when no
 * index up to NAMING_INDEX_MAX is free.  The caller marks it used.
 */
int
assign_index(const struct keyset *used, long long first, long long *cursor,
    long long *out)
{
	unsigned char	 key[8];
	long long	 i;

	for (i = *cursor > first ? *cursor : first; i <= NAMING_INDEX_MAX; i++) {
		keyset_index_key(i, key);
		if (!keyset_has(used, key)) {
			*cursor = i + 1;
			*out = i;
			return 0;
		}
	}
	return -1;
}

/* base + off as text into buf, or NULL (off < 0, or past the family's end). */
const char *
assign_ip_plus(const char *base, long long off, char buf[IP_STR_MAX + 1])
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

/* A network's integer field, with a default for an absent one. */
static long long
net_int(const json_t *net, const char *k, long long dflt)
{
	json_t	*v = json_object_get(net, k);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* The network of nets (a list, by name) node index idx belongs to by default. */
const json_t *
assign_net_for_index(const json_t *nets, long long idx)
{
	const json_t	*net;
	size_t		 i;
	long long	 first;

	json_array_foreach((json_t *)(uintptr_t)nets, i, net) {
		first = net_int(net, "first_index", 0);
		if (idx >= first && idx - first < net_int(net, "ip_count", 0))
			return net;
	}
	return NULL;
}

/* The network of nets whose range holds address ip, or NULL. */
const json_t *
assign_net_holding(const json_t *nets, const char *ip)
{
	const json_t	*net;
	unsigned char	 a[16], base[16];
	long long	 off;
	size_t		 i;

	if (ip == NULL || ip_parse(ip, a) == 0)
		return NULL;
	json_array_foreach((json_t *)(uintptr_t)nets, i, net) {
		if (ip_parse(json_string_value(json_object_get(net, "first_ip")),
		    base) == 0)
			continue;
		off = ip_diff(base, a);
		if (off >= 0 && off < net_int(net, "ip_count", 0))
			return net;
	}
	return NULL;
}

/* Whether address text (ours to hand out) is free: not in used, or mine. */
static int
ip_free(const struct keyset *used, const char *text, const char *mine)
{
	unsigned char	 a[16];

	if (mine != NULL && strcmp(text, mine) == 0)
		return 1;
	return ip_parse(text, a) != 0 && !keyset_has(used, a);
}

/*
 * An address of network net for node index idx into buf: the one
 * matching the index if free, else the lowest free one; mine (the node's
 * own address, or NULL) counts as free.  NULL if the network is full.
 */
const char *
assign_net_ip(const json_t *net, long long idx, const struct keyset *used,
    const char *mine, char buf[IP_STR_MAX + 1])
{
	const char	*first = json_string_value(json_object_get(net, "first_ip"));
	long long	 count = net_int(net, "ip_count", 0), off, i;

	off = idx - net_int(net, "first_index", 0);
	if (off >= 0 && off < count && assign_ip_plus(first, off, buf) != NULL &&
	    ip_free(used, buf, mine))
		return buf;
	for (i = 0; i < count && i < FREE_SCAN_MAX; i++)
		if (assign_ip_plus(first, i, buf) != NULL &&
		    ip_free(used, buf, mine))
			return buf;
	return NULL;
}

/* ---------------------------------------------------------------- feeding them */

/* The indexes in use in one pool of one tenant, as this transaction knows them. */
struct poolstate {
	long long	 tid;
	char		 pool[UID_LEN + 1];	/* "" for the tenant's default pool */
	struct keyset	 used;
	long long	 cursor;
};

/*
 * What assignment learns during one transaction (kept in ctx->cache):
 * documents it read, the rows it locked, the indexes and addresses in
 * use.  Valid for the transaction whose locks it records.
 */
struct nodectx {
	json_t			*pools;		/* pool UID -> its document */
	json_t			*nets;		/* "<tenant>" -> its networks, by name */
	json_t			*naming;	/* "<tenant>" -> its naming pattern */
	struct poolstate	*ps;
	size_t			 nps;
	struct keyset		 locked_nets;	/* UIDs of the networks locked */
	struct keyset		 used_ip;	/* addresses in use */
	int			 have_ips;
};

static void
nodectx_free(void *p)
{
	struct nodectx	*n = p;
	size_t		 i;

	if (n == NULL)
		return;
	json_decref(n->pools);
	json_decref(n->nets);
	json_decref(n->naming);
	for (i = 0; i < n->nps; i++)
		keyset_free(&n->ps[i].used);
	free(n->ps);
	keyset_free(&n->locked_nets);
	keyset_free(&n->used_ip);
	free(n);
}

static struct nodectx *
nodectx_get(struct ctx *c)
{
	struct nodectx	*n;

	if (c->cache != NULL && c->cache_free == nodectx_free)
		return c->cache;
	ctx_clear(c);
	n = xcalloc(1, sizeof(*n));
	n->pools = json_object();
	n->nets = json_object();
	n->naming = json_object();
	keyset_init(&n->locked_nets, UID_LEN);
	keyset_init(&n->used_ip, 16);
	c->cache = n;
	c->cache_free = nodectx_free;
	return n;
}

/* "<tenant>:<pool UID or ->:" — the prefix of a pool's index keys. */
static void
index_prefix(long long tid, const char *pool, char *buf, size_t sz)
{
	snprintf(buf, sz, "%lld:%s:", tid, pool != NULL ? pool : "-");
}

/*
 * The key of index i in a pool: its prefix and nine digits, so keys sort
 * as numbers and SQL_KEY_MAX finds a pool's largest index.
 */
static void
index_key(long long tid, const char *pool, long long i, char *buf, size_t sz)
{
	snprintf(buf, sz, "%lld:%s:%09lld", tid, pool != NULL ? pool : "-", i);
}

/*
 * The index keys of object_keys: an index is unique within its tenant's
 * naming pool (class hook "keys").
 */
void
node_index_keys(const struct objrow *o, json_t *keys)
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
 * The largest index in use in pool (NULL: the default pool) of tenant
 * tid, into *max (-1 for none): what a new pattern must still name.
 */
enum apierr
node_index_max(struct ctx *c, long long tid, const char *pool, long long *max)
{
	char		 prefix[64], like[72], *v = NULL;
	const char	*errstr;
	enum dbrc	 rc;

	*max = -1;
	index_prefix(tid, pool, prefix, sizeof(prefix));
	snprintf(like, sizeof(like), "%s%%", prefix);
	if ((rc = db_run(c->db, SQL_KEY_MAX, "sss", "node", "index", like)) != DB_OK)
		return ctx_dbfail(c, rc);
	rc = db_next(c->db, SQL_KEY_MAX, "s", &v);
	db_done(c->db, SQL_KEY_MAX);
	if (rc == DB_OK && v != NULL) {
		*max = num_parse(v + strlen(prefix), 0, NAMING_INDEX_MAX, &errstr);
		if (errstr != NULL)
			*max = -1;
	}
	free(v);
	return rc == DB_OK || rc == DB_DONE ? API_OK : ctx_dbfail(c, rc);
}

/*
 * The indexes in use in a pool (tenant tid's default pool for NULL),
 * learnt once per transaction after locking the pool (or, for the
 * default pool, the tenant) so concurrent writers take turns.
 */
static enum apierr
pool_state(struct ctx *c, struct nodectx *n, long long tid, const char *pool,
    long long first, struct poolstate **out)
{
	struct poolstate	*p;
	char			 prefix[64], like[72], *v;
	const char		*errstr;
	unsigned char		 key[8];
	long long		 i;
	size_t			 k;
	enum apierr		 arc;
	enum dbrc		 rc;

	for (k = 0; k < n->nps; k++)
		if (n->ps[k].tid == tid &&
		    strcmp(n->ps[k].pool, pool != NULL ? pool : "") == 0) {
			*out = &n->ps[k];
			return API_OK;
		}
	if ((arc = pool != NULL ? obj_lock(c, pool) : tenant_lock(c, tid)) !=
	    API_OK)
		return arc;
	n->ps = xrealloc(n->ps, (n->nps + 1) * sizeof(*n->ps));
	p = &n->ps[n->nps++];
	memset(p, 0, sizeof(*p));
	p->tid = tid;
	snprintf(p->pool, sizeof(p->pool), "%s", pool != NULL ? pool : "");
	keyset_init(&p->used, 8);
	p->cursor = first;
	index_prefix(tid, pool, prefix, sizeof(prefix));
	snprintf(like, sizeof(like), "%s%%", prefix);
	if ((rc = db_run(c->db, SQL_KEY_VALUES, "sss", "node", "index", like)) !=
	    DB_OK)
		return ctx_dbfail(c, rc);
	while ((rc = db_next(c->db, SQL_KEY_VALUES, "s", &v)) == DB_OK) {
		i = num_parse(v + strlen(prefix), 0, NAMING_INDEX_MAX, &errstr);
		if (errstr == NULL) {
			keyset_index_key(i, key);
			keyset_add(&p->used, key);
		}
		free(v);
	}
	db_done(c->db, SQL_KEY_VALUES);
	if (rc != DB_DONE)
		return ctx_dbfail(c, rc);
	*out = p;
	return API_OK;
}

/*
 * The addresses in use, read after locking network net so no one takes
 * one of its addresses behind our back.  Addresses are unique across the
 * cluster, so the set holds every node's.
 */
static enum apierr
lock_net(struct ctx *c, struct nodectx *n, const char *net)
{
	unsigned char	 a[16];
	char		*v;
	enum apierr	 arc;
	enum dbrc	 rc;

	if (keyset_has(&n->locked_nets, net) && n->have_ips)
		return API_OK;
	if ((arc = obj_lock(c, net)) != API_OK)
		return arc;
	keyset_add(&n->locked_nets, net);
	if ((rc = db_run(c->db, SQL_KEY_VALUES, "sss", "node", "ip", "%")) != DB_OK)
		return ctx_dbfail(c, rc);
	while ((rc = db_next(c->db, SQL_KEY_VALUES, "s", &v)) == DB_OK) {
		if (ip_parse(v, a) != 0)
			keyset_add(&n->used_ip, a);
		free(v);
	}
	db_done(c->db, SQL_KEY_VALUES);
	n->have_ips = 1;
	return rc == DB_DONE ? API_OK : ctx_dbfail(c, rc);
}

/* The naming pool id of tenant tid (cached), with its UID, or NULL. */
static const json_t *
pool_doc(struct ctx *c, struct nodectx *n, long long tid, const char *id,
    enum apierr *rc, char uid[UID_LEN + 1])
{
	struct objrow	 o;
	json_t		*p;

	if (uid_valid(id) && (p = json_object_get(n->pools, id)) != NULL) {
		memcpy(uid, id, UID_LEN + 1);
		return p;
	}
	if ((*rc = obj_ref_load(c, "namingpool", "naming_pool", tid, id, &o)) !=
	    API_OK)
		return NULL;
	memcpy(uid, o.uid, UID_LEN + 1);
	json_object_set(n->pools, o.uid, o.doc);
	objrow_free(&o);
	return json_object_get(n->pools, uid);
}

static void
add_net(const struct objrow *o, void *arg)
{
	json_t	*net = json_deep_copy(o->doc);

	json_object_set_new(net, "uid", json_string(o->uid));
	json_array_append_new(arg, net);
}

/* The networks of tenant tid, by name, each with its "uid" (cached). */
static const json_t *
tenant_nets(struct ctx *c, struct nodectx *n, long long tid, enum apierr *rc)
{
	json_t	*list;
	char	 key[24];

	snprintf(key, sizeof(key), "%lld", tid);
	if ((list = json_object_get(n->nets, key)) != NULL)
		return list;
	list = json_array();
	if ((*rc = obj_each(c, &net_class, tid, add_net, list)) != API_OK) {
		json_decref(list);
		return NULL;
	}
	json_object_set_new(n->nets, key, list);
	return list;
}

/* The tenant's default naming pattern (cached); "n{}" unless set. */
static const char *
tenant_naming(struct ctx *c, struct nodectx *n, long long tid, enum apierr *rc)
{
	json_t	*v;
	char	 key[24], *pattern = NULL;

	snprintf(key, sizeof(key), "%lld", tid);
	if ((v = json_object_get(n->naming, key)) != NULL)
		return json_string_value(v);
	if ((*rc = setting_string(c, tid, "naming", &pattern)) != API_OK)
		return NULL;
	json_object_set_new(n->naming, key, json_string(pattern != NULL ?
	    pattern : "n{}"));
	free(pattern);
	return json_string_value(json_object_get(n->naming, key));
}

/* The network of nets with this UID, or NULL. */
static const json_t *
net_by_uid(const json_t *nets, const char *uid)
{
	const json_t	*net;
	size_t		 i;

	json_array_foreach((json_t *)(uintptr_t)nets, i, net)
		if (strcmp(json_string_value(json_object_get(net, "uid")), uid) == 0)
			return net;
	return NULL;
}

/* Whether the client sent null for field k: asking for a fresh assignment. */
static int
sent_null(const json_t *change, const char *k)
{
	return json_is_null(json_object_get(change, k));
}

/*
 * Assign index, name, ip and domain of node o (the class hook; see the
 * top of the file).  before is the stored node, NULL on create; change
 * what the client sent.
 */
enum apierr
node_assign(struct ctx *c, struct objrow *o, const json_t *before,
    const json_t *change)
{
	struct nodectx		*n = nodectx_get(c);
	struct poolstate	*ps = NULL;
	const json_t		*pool = NULL, *nets, *net = NULL;
	const char		*pattern, *ip, *oldip, *s;
	char			 pooluid[UID_LEN + 1], name[NAMING_LABEL_MAX + 1],
				 buf[IP_STR_MAX + 1], err[256];
	unsigned char		 key[16];
	struct naming		 nm;
	json_t			*v, *oldidx;
	long long		 idx = 0, pfirst = 0;
	int			 moved, renumbered;
	enum apierr		 arc = API_OK;

	/* The pool, stored as its UID. */
	v = json_object_get(o->doc, "naming_pool");
	if (json_is_string(v)) {
		if ((pool = pool_doc(c, n, o->tenant_id, json_string_value(v),
		    &arc, pooluid)) == NULL)
			return arc;
		json_object_set_new(o->doc, "naming_pool", json_string(pooluid));
		pfirst = net_int(pool, "first_index", 0);
	} else
		json_object_del(o->doc, "naming_pool");
	s = json_string_value(json_object_get(before, "naming_pool"));
	moved = before == NULL || (pool == NULL) != (s == NULL) ||
	    (pool != NULL && strcmp(s, pooluid) != 0);
	if ((arc = pool_state(c, n, o->tenant_id, pool != NULL ? pooluid : NULL,
	    pfirst, &ps)) != API_OK)
		return arc;

	/* The index. */
	oldidx = json_object_get(before, "index");
	v = json_object_get(o->doc, "index");
	if (sent_null(change, "index"))
		v = NULL;
	else if (v == NULL && !moved && json_is_integer(oldidx))
		v = oldidx;
	if (v == NULL || (moved && before != NULL && json_equal(v, oldidx))) {
		if (assign_index(&ps->used, pfirst, &ps->cursor, &idx) == -1)
			return ctx_fail(c, API_CONFLICT, "No free index is left "
			    "in the naming pool");
	} else {
		idx = json_integer_value(v);
		/* Keeping its own index in its own pool needs no check. */
		keyset_index_key(idx, key);
		if ((moved || !json_equal(v, oldidx)) &&
		    keyset_has(&ps->used, key))
			return ctx_fail(c, API_CONFLICT, "Node with index=%lld "
			    "already exists.", idx);
	}
	keyset_index_key(idx, key);
	keyset_add(&ps->used, key);
	json_object_set_new(o->doc, "index", json_integer(idx));
	renumbered = moved || !json_is_integer(oldidx) ||
	    json_integer_value(oldidx) != idx;

	/* The name, from the pattern, when pool or index changed. */
	if (renumbered || o->name == NULL) {
		if (pool != NULL)
			pattern = json_string_value(json_object_get(pool, "pattern"));
		else if ((pattern = tenant_naming(c, n, o->tenant_id, &arc)) ==
		    NULL)
			return arc;
		if (pattern == NULL || naming_parse(pattern, &nm, err,
		    sizeof(err)) == -1)
			naming_parse("n{}", &nm, err, sizeof(err));
		if (naming_format(&nm, idx, name, sizeof(name)) == -1)
			return ctx_fail(c, API_BAD_REQUEST, "Index %lld makes no "
			    "valid name with the naming pattern", idx);
		json_object_set_new(o->doc, "name", json_string(name));
	} else
		json_object_set_new(o->doc, "name", json_string(o->name));

	/* The network and the address. */
	if ((nets = tenant_nets(c, n, o->tenant_id, &arc)) == NULL)
		return arc;
	if (pool != NULL && (s = json_string_value(json_object_get(pool,
	    "network"))) != NULL) {
		net = net_by_uid(nets, s);
	} else
		net = assign_net_for_index(nets, idx);
	oldip = json_string_value(json_object_get(before, "ip"));
	ip = json_string_value(json_object_get(o->doc, "ip"));
	if (sent_null(change, "ip"))
		ip = NULL;
	else if (ip == NULL && !renumbered)
		ip = oldip;
	else if (ip != NULL && renumbered && oldip != NULL &&
	    strcmp(ip, oldip) == 0 && assign_net_holding(nets, oldip) != NULL)
		ip = NULL;	/* assigned from a network, so it follows the index */
	if (ip == NULL && pool != NULL &&
	    (s = json_string_value(json_object_get(pool, "ip_base"))) != NULL)
		ip = assign_ip_plus(s, idx - pfirst, buf);
	else if (ip == NULL && net != NULL) {
		if ((arc = lock_net(c, n, json_string_value(json_object_get(net,
		    "uid")))) != API_OK)
			return arc;
		if (pool != NULL && json_is_integer(json_object_get(pool,
		    "ip_offset")))
			ip = assign_ip_plus(json_string_value(json_object_get(net,
			    "first_ip")), net_int(pool, "ip_offset", 0) +
			    idx - pfirst, buf);
		else
			ip = assign_net_ip(net, idx, &n->used_ip, oldip, buf);
	}
	if (ip != NULL) {
		/* ip may point into o->doc's own value, which the set frees. */
		if (ip != buf) {
			snprintf(buf, sizeof(buf), "%s", ip);
			ip = buf;
		}
		json_object_set_new(o->doc, "ip", json_string(ip));
		if (n->have_ips && ip_parse(ip, key) != 0)
			keyset_add(&n->used_ip, key);
		if (net == NULL || assign_net_holding(nets, ip) != net)
			net = assign_net_holding(nets, ip);
	} else
		json_object_del(o->doc, "ip");
	/* Stored, not rendered, so lists can copy documents as they are. */
	if ((s = json_string_value(json_object_get(net, "domain"))) != NULL)
		json_object_set_new(o->doc, "domain", json_string(s));
	else
		json_object_del(o->doc, "domain");
	json_object_set(o->doc, "hostname", json_object_get(o->doc, "name"));
	return API_OK;
}
