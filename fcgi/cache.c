/*
 * The per-head read cache: the only file that includes <lmdb.h>.
 *
 * One LMDB environment in [cache] dir, shared by every process of one
 * head's corral-api: the prefork workers read it and fill it, the
 * follower (follow.c) empties what the change feed names, and a worker
 * that wrote empties what it wrote before it answers.  What is kept is
 * what the hot paths would otherwise read from MariaDB:
 *
 *   o|<class>|<uid>                  an object's row, its document as the
 *                                    stored text (spliced into answers
 *                                    as obj.c does), and the aliases
 *                                    that lead to it
 *   a|<class>|<field>|<scope>|<value> an alias: the UID that a name (in
 *                                    tenant <scope>, or "*" for the
 *                                    superadministrator's any-tenant
 *                                    view) or a unique MAC or IP ("-")
 *                                    resolves to
 *   l|<class>|<scope>                a whole GET /<plural> answer
 *   t|<tenant id>                    a tenant's state, for token checks
 *   m|epoch  m|fresh                 bookkeeping, below
 *
 * Every value carries when it was stored and is served for at most
 * CACHE_MAX_AGE_MS (5 minutes), whatever the feed says.
 *
 * Correctness rests on three rules.
 *
 * 1. Nothing is served unless the follower is fresh: m|fresh holds the
 *    monotonic time at which its last complete poll of the feed began,
 *    so every change committed before then has been applied.  A worker
 *    that finds it older than [cache] max_lag_ms reads MariaDB instead
 *    (and fills nothing): an answer is never older than that window.
 *
 * 2. A fill never undoes an invalidation.  m|epoch counts invalidations.
 *    A worker notes it before it reads MariaDB and stores what it read
 *    only if it is unchanged when the (serialised) write transaction
 *    begins: otherwise a change may have landed between its read and its
 *    store, and the row it read may be the old one.
 *
 * 3. An alias exists only while the row it leads to does, and that row
 *    lists it: dropping a row drops its aliases.  A change also drops the
 *    name aliases of the names it carries, so a new object taking a name
 *    (in another tenant: the any-tenant view becomes ambiguous) is seen.
 *
 * The environment is a cache: no fsync, and the master removes it when it
 * starts (cache_reset), so a head never starts on what an older run left.
 */
/* madvise(2) and MADV_DONTNEED (posix_madvise's DONTNEED is a no-op in glibc). */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "extern.h"

#define CACHE_KEY_MAX	511		/* LMDB's default key size limit */
#define REC_MAGIC	0x636f7231u	/* "cor1" */
#define CACHE_READERS	1024		/* workers + follower + tools */
/*
 * How long a stored value is served at most, however quiet the feed: the
 * backstop for a change the follower could not see (a transaction that
 * kept its feed rows uncommitted longer than it waits for gaps).
 */
#define CACHE_MAX_AGE_MS	300000

/* The strings of an object record, in the order they are stored. */
enum recstr { RS_UID, RS_NAME, RS_ON, RS_BY, RS_DOC, RS_ALIASES, RS__MAX };

/* An object record: this header, then each string with its NUL. */
struct rechdr {
	uint32_t	 magic;
	uint32_t	 len[RS__MAX];	/* without the NUL; aliases: all of them */
	int64_t		 stored_ms;	/* monotonic_ms() when stored */
	int64_t		 tenant_id;
	int64_t		 version;
	double		 last_modified;
};

/* m|fresh: when the follower's last complete poll began, and who it is. */
struct freshness {
	int64_t		 poll_ms;	/* monotonic_ms(); 0: never */
	int64_t		 pid;
};

static MDB_env		*env;
static MDB_dbi		 dbi;
static MDB_txn		*rtxn;		/* reused: renew / reset */
static const struct conf *cconf;

/* Log an LMDB failure: the first 20 of a process, not one per request. */
static void
cache_warn(const char *what, int rc)
{
	static int	 said;

	if (said++ < 20)
		log_warn("cache: %s: %s", what, mdb_strerror(rc));
}

/* Key text into buf; its length, or 0 if it does not fit. */
static size_t
key_make(char *buf, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, CACHE_KEY_MAX + 1, fmt, ap);
	va_end(ap);
	return n > 0 && n <= CACHE_KEY_MAX ? (size_t)n : 0;
}

/* The scope part of an alias key: a tenant id, "*" or "-". */
static const char *
scope_text(const char *field, long long tid, char buf[24])
{
	if (strcmp(field, "name") != 0)
		return "-";
	if (tid == SCOPE_ALL)
		return "*";
	snprintf(buf, 24, "%lld", tid);
	return buf;
}

static size_t
alias_key(char *buf, const char *cls, const char *field, long long tid,
    const char *value)
{
	char	 sb[24];

	return key_make(buf, "a|%s|%s|%s|%s", cls, field,
	    scope_text(field, tid, sb), value);
}

/*
 * Prepare the environment directory for a head starting now: make it if
 * missing and remove what an earlier run left.  The master calls this
 * before it starts any process that opens the cache.  0 or -1 (logged).
 */
int
cache_reset(const struct conf *c)
{
	char	 path[PATH_MAX];

	if (!c->cache_enabled)
		return 0;
	if (mkdir(c->cache_dir, 0700) == -1 && errno != EEXIST) {
		log_err("cache: %s: %s", c->cache_dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/data.mdb", c->cache_dir);
	if (unlink(path) == -1 && errno != ENOENT) {
		log_err("cache: %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/lock.mdb", c->cache_dir);
	(void)unlink(path);
	return 0;
}

/*
 * Open the cache for this process (a worker or the follower, after the
 * exec).  With [cache] enabled = 0, or on failure (logged), every call
 * below answers as if the cache were stale: the database serves.
 */
void
cache_open(const struct conf *c)
{
	MDB_txn	*txn = NULL;
	int	 rc;

	cconf = c;
	if (!c->cache_enabled)
		return;
	if ((rc = mdb_env_create(&env)) != 0)
		goto fail;
	mdb_env_set_maxreaders(env, CACHE_READERS);
	mdb_env_set_mapsize(env, (size_t)c->cache_size_mb << 20);
	/* A cache: losing it costs a refill, so no fsync on any commit. */
	if ((rc = mdb_env_open(env, c->cache_dir, MDB_NOSYNC | MDB_NOMETASYNC |
	    MDB_NOTLS | MDB_NORDAHEAD, 0600)) != 0)
		goto fail;
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0 ||
	    (rc = mdb_txn_commit(txn)) != 0) {
		if (txn != NULL)
			mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &rtxn)) != 0)
		goto fail;
	mdb_txn_reset(rtxn);
	return;
fail:
	log_err("cache: %s: %s; serving from the database", c->cache_dir,
	    mdb_strerror(rc));
	if (env != NULL)
		mdb_env_close(env);
	env = NULL;
}

/* Close this process's handle. */
void
cache_close(void)
{
	if (rtxn != NULL)
		mdb_txn_abort(rtxn);
	rtxn = NULL;
	if (env != NULL)
		mdb_env_close(env);
	env = NULL;
}

/* A value by key in txn: 1 found, 0 not, -1 error (logged). */
static int
get(MDB_txn *txn, const char *key, size_t klen, MDB_val *v)
{
	MDB_val	 k = { klen, (void *)(uintptr_t)key };
	int	 rc;

	if ((rc = mdb_get(txn, dbi, &k, v)) == 0)
		return 1;
	if (rc != MDB_NOTFOUND)
		cache_warn("get", rc);
	return rc == MDB_NOTFOUND ? 0 : -1;
}

static int
put(MDB_txn *txn, const char *key, size_t klen, const void *data, size_t len)
{
	MDB_val	 k = { klen, (void *)(uintptr_t)key };
	MDB_val	 v = { len, (void *)(uintptr_t)data };
	int	 rc;

	if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0)
		cache_warn("put", rc);
	return rc == 0 ? 0 : -1;
}

static void
del(MDB_txn *txn, const char *key, size_t klen)
{
	MDB_val	 k = { klen, (void *)(uintptr_t)key };
	int	 rc;

	if ((rc = mdb_del(txn, dbi, &k, NULL)) != 0 && rc != MDB_NOTFOUND)
		cache_warn("del", rc);
}

static uint64_t
epoch_of(MDB_txn *txn)
{
	MDB_val		 v;
	uint64_t	 e = 0;

	if (get(txn, "m|epoch", 7, &v) == 1 && v.mv_size == sizeof(e))
		memcpy(&e, v.mv_data, sizeof(e));
	return e;
}

static int
epoch_bump(MDB_txn *txn)
{
	uint64_t	 e = epoch_of(txn) + 1;

	return put(txn, "m|epoch", 7, &e, sizeof(e));
}

/*
 * Begin a read of the cache: the shared read transaction, if the
 * follower is fresh.  On success fill (when not NULL) remembers the epoch
 * for a later store.  0, or -1: do not use the cache now.
 */
static int
read_begin(struct cachefill *fill)
{
	struct freshness	 f;
	MDB_val			 v;
	int			 rc;

	if (fill != NULL)
		fill->ok = 0;
	if (env == NULL)
		return -1;
	if ((rc = mdb_txn_renew(rtxn)) != 0) {
		cache_warn("renew", rc);
		return -1;
	}
	if (get(rtxn, "m|fresh", 7, &v) != 1 || v.mv_size != sizeof(f)) {
		mdb_txn_reset(rtxn);
		return -1;
	}
	memcpy(&f, v.mv_data, sizeof(f));
	if (f.poll_ms == 0 || monotonic_ms() - f.poll_ms > cconf->cache_max_lag_ms) {
		mdb_txn_reset(rtxn);
		return -1;
	}
	if (fill != NULL) {
		fill->epoch = epoch_of(rtxn);
		fill->ok = 1;
	}
	return 0;
}

static void
read_end(void)
{
	mdb_txn_reset(rtxn);
}

/*
 * Begin a store made of what was read from MariaDB since fill was taken:
 * a write transaction, if no invalidation came in between.  NULL if not.
 */
static MDB_txn *
store_begin(const struct cachefill *fill)
{
	MDB_txn	*txn;
	int	 rc;

	if (env == NULL || fill == NULL || !fill->ok)
		return NULL;
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
		cache_warn("write", rc);
		return NULL;
	}
	if (epoch_of(txn) != fill->epoch) {
		mdb_txn_abort(txn);
		return NULL;
	}
	return txn;
}

static void
store_end(MDB_txn *txn, int ok)
{
	int	 rc;

	if (!ok) {
		mdb_txn_abort(txn);
		return;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		cache_warn("commit", rc);
}

/* The strings of record v, pointing into it; 0, or -1 if it is not one. */
static int
rec_parse(const MDB_val *v, struct rechdr *h, const char *s[RS__MAX])
{
	const char	*p = (const char *)v->mv_data + sizeof(*h);
	size_t		 left, i;

	if (v->mv_size < sizeof(*h))
		return -1;
	memcpy(h, v->mv_data, sizeof(*h));
	if (h->magic != REC_MAGIC)
		return -1;
	left = v->mv_size - sizeof(*h);
	for (i = 0; i < RS__MAX; i++) {
		if (h->len[i] >= left || p[h->len[i]] != '\0')
			return -1;
		s[i] = p;
		p += h->len[i] + 1;
		left -= h->len[i] + 1;
	}
	return 0;
}

/*
 * Look up an object of class cls by field ("uid", "name", or a unique
 * MAC or IP field) = value, as seen from tenant scope tid (which only a
 * name depends on).  CACHE_HIT fills o (without doc) and *doc (the stored
 * text; both new allocations); CACHE_MISS and CACHE_BYPASS leave them
 * empty.  fill is set for cache_obj_store after a miss.
 */
enum cachehit
cache_obj_get(const char *cls, const char *field, long long tid,
    const char *value, struct objrow *o, char **doc, struct cachefill *fill)
{
	struct rechdr	 h;
	const char	*s[RS__MAX];
	char		 key[CACHE_KEY_MAX + 1], rkey[CACHE_KEY_MAX + 1];
	size_t		 klen;
	MDB_val		 v;
	enum cachehit	 hit = CACHE_MISS;

	memset(o, 0, sizeof(*o));
	*doc = NULL;
	if (read_begin(fill) == -1)
		return CACHE_BYPASS;
	if (strcmp(field, "uid") == 0)
		klen = key_make(rkey, "o|%s|%s", cls, value);
	else {
		if ((klen = alias_key(key, cls, field, tid, value)) == 0 ||
		    get(rtxn, key, klen, &v) != 1)
			goto out;
		klen = key_make(rkey, "o|%s|%.*s", cls, (int)v.mv_size,
		    (const char *)v.mv_data);
	}
	if (klen == 0 || get(rtxn, rkey, klen, &v) != 1)
		goto out;
	if (rec_parse(&v, &h, s) == -1) {
		log_warn("cache: %s: not a record", rkey);
		goto out;
	}
	if (monotonic_ms() - h.stored_ms > CACHE_MAX_AGE_MS)
		goto out;
	o->uid = xstrdup(s[RS_UID]);
	o->name = xstrdup(s[RS_NAME]);
	o->tenant_id = h.tenant_id;
	o->version = h.version;
	o->last_modified = h.last_modified;
	o->last_modified_on = xstrdup(s[RS_ON]);
	o->last_modified_by = xstrdup(s[RS_BY]);
	*doc = xstrdup(s[RS_DOC]);
	hit = CACHE_HIT;
out:
	read_end();
	return hit;
}

/*
 * Store object o of class cls, its document as the stored text doc, as
 * found by field = value from scope tid (cache_obj_get), if nothing was
 * invalidated since fill was taken.  Silent when it cannot.
 */
void
cache_obj_store(const struct cachefill *fill, const char *cls,
    const char *field, long long tid, const char *value,
    const struct objrow *o, const char *doc)
{
	struct rechdr	 h, old;
	const char	*os[RS__MAX], *str[RS__MAX];
	char		 rkey[CACHE_KEY_MAX + 1], akey[CACHE_KEY_MAX + 1];
	char		*aliases = NULL, *buf = NULL, *p;
	size_t		 rlen, alen = 0, oldlen = 0, total, i, n;
	MDB_txn		*txn;
	MDB_val		 v;
	int		 ok = 0, have = 0;

	if ((txn = store_begin(fill)) == NULL)
		return;
	if ((rlen = key_make(rkey, "o|%s|%s", cls, o->uid)) == 0)
		goto out;
	if (strcmp(field, "uid") != 0 &&
	    (alen = alias_key(akey, cls, field, tid, value)) == 0)
		goto out;

	/* The aliases the row keeps: those it had, and this one. */
	if (get(txn, rkey, rlen, &v) == 1 && rec_parse(&v, &old, os) == 0)
		oldlen = old.len[RS_ALIASES];
	aliases = xmalloc(oldlen + alen + 2);
	if (oldlen > 0)
		memcpy(aliases, os[RS_ALIASES], oldlen + 1);
	for (p = aliases; alen > 0 && p < aliases + oldlen; p += strlen(p) + 1)
		if (strcmp(p, akey) == 0)
			have = 1;
	n = oldlen > 0 ? oldlen + 1 : 0;	/* bytes, with the last NUL */
	if (alen > 0 && !have) {
		memcpy(aliases + n, akey, alen + 1);
		n += alen + 1;
	}

	memset(&h, 0, sizeof(h));
	h.magic = REC_MAGIC;
	h.stored_ms = monotonic_ms();
	h.tenant_id = o->tenant_id;
	h.version = o->version;
	h.last_modified = o->last_modified;
	str[RS_UID] = o->uid;
	str[RS_NAME] = o->name;
	str[RS_ON] = o->last_modified_on != NULL ? o->last_modified_on : "";
	str[RS_BY] = o->last_modified_by != NULL ? o->last_modified_by : "";
	str[RS_DOC] = doc;
	str[RS_ALIASES] = aliases;
	total = sizeof(h);
	for (i = 0; i < RS__MAX; i++) {
		/* The alias list holds NULs of its own; its length is n. */
		h.len[i] = (uint32_t)(i == RS_ALIASES ? (n > 0 ? n - 1 : 0) :
		    strlen(str[i]));
		total += h.len[i] + 1;
	}
	buf = xmalloc(total);
	memcpy(buf, &h, sizeof(h));
	p = buf + sizeof(h);
	for (i = 0; i < RS__MAX; i++) {
		if (i == RS_ALIASES && n == 0)
			*p = '\0';
		else
			memcpy(p, str[i], h.len[i] + 1);
		p += h.len[i] + 1;
	}
	if (put(txn, rkey, rlen, buf, total) == -1)
		goto out;
	if (alen > 0 && put(txn, akey, alen, o->uid, strlen(o->uid)) == -1)
		goto out;
	ok = 1;
out:
	store_end(txn, ok);
	free(aliases);
	free(buf);
}

/*
 * Lists and tenant states are stored after an int64_t stamp: when
 * (monotonic_ms()) they were stored.  The payload of v if it is young
 * enough to serve, else NULL.
 */
static const char *
stamped(const MDB_val *v, size_t *len)
{
	int64_t	 at;

	if (v->mv_size < sizeof(at))
		return NULL;
	memcpy(&at, v->mv_data, sizeof(at));
	if (monotonic_ms() - at > CACHE_MAX_AGE_MS)
		return NULL;
	*len = v->mv_size - sizeof(at);
	return (const char *)v->mv_data + sizeof(at);
}

/* Put payload data, after a stamp of now, at key. */
static int
put_stamped(MDB_txn *txn, const char *key, size_t klen, const char *data,
    size_t len)
{
	MDB_val	 k = { klen, (void *)(uintptr_t)key }, v;
	int64_t	 at = monotonic_ms();
	int	 rc;

	/* MDB_RESERVE: written in place, no copy of a large list. */
	v.mv_size = sizeof(at) + len;
	v.mv_data = NULL;
	if ((rc = mdb_put(txn, dbi, &k, &v, MDB_RESERVE)) != 0) {
		cache_warn("put", rc);
		return -1;
	}
	memcpy(v.mv_data, &at, sizeof(at));
	memcpy((char *)v.mv_data + sizeof(at), data, len);
	return 0;
}

/*
 * A cached answer listing objects of class cls in scope tid into *view,
 * valid until cache_view_end: variant "" is GET /<plural>; others name
 * answers made of the same class ("dyngroup:<uid>:<version>").  Any change
 * to an object of cls, or of a class it depends on (list_deps), drops
 * them all.  CACHE_HIT, CACHE_MISS (view unset; fill set for
 * cache_list_store) or CACHE_BYPASS.
 */
enum cachehit
cache_list_get(const char *cls, long long tid, const char *variant,
    struct cacheview *view, struct cachefill *fill)
{
	char	 key[CACHE_KEY_MAX + 1];
	size_t	 klen;
	MDB_val	 v;

	view->data = NULL;
	view->len = 0;
	if (read_begin(fill) == -1)
		return CACHE_BYPASS;
	if ((klen = key_make(key, "l|%s|%lld|%s", cls, tid, variant)) == 0 ||
	    get(rtxn, key, klen, &v) != 1 ||
	    (view->data = stamped(&v, &view->len)) == NULL) {
		read_end();
		return CACHE_MISS;
	}
	return CACHE_HIT;
}

/*
 * Let go of what cache_list_get showed.  Its pages leave this process's
 * resident set (the page cache keeps them for the next reader): a worker
 * that sent a 10,000-node list does not carry it as RSS afterwards.
 */
void
cache_view_end(struct cacheview *view)
{
	uintptr_t	 page = (uintptr_t)sysconf(_SC_PAGESIZE), lo, hi;

	if (view->data != NULL) {
		lo = ((uintptr_t)view->data + page - 1) & ~(page - 1);
		hi = ((uintptr_t)view->data + view->len) & ~(page - 1);
		/* Whole pages only: a neighbour's bytes may be in use. */
		if (hi > lo)
			(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
		read_end();
	}
	view->data = NULL;
	view->len = 0;
}

/* Store a list answer (cache_list_get) read since fill was taken. */
void
cache_list_store(const struct cachefill *fill, const char *cls, long long tid,
    const char *variant, const char *body, size_t len)
{
	char	 key[CACHE_KEY_MAX + 1];
	size_t	 klen;
	MDB_txn	*txn;

	if ((txn = store_begin(fill)) == NULL)
		return;
	klen = key_make(key, "l|%s|%lld|%s", cls, tid, variant);
	store_end(txn, klen > 0 && put_stamped(txn, key, klen, body, len) == 0);
}

/*
 * Tenant tid's state ("Deployed", ...) into state (bounded), for token
 * checks.  CACHE_HIT, CACHE_MISS (fill set) or CACHE_BYPASS.
 */
enum cachehit
cache_tenant_get(long long tid, char *state, size_t sz,
    struct cachefill *fill)
{
	char		 key[CACHE_KEY_MAX + 1];
	const char	*p;
	size_t		 klen, len;
	MDB_val		 v;
	enum cachehit	 hit = CACHE_MISS;

	*state = '\0';
	if (read_begin(fill) == -1)
		return CACHE_BYPASS;
	if ((klen = key_make(key, "t|%lld", tid)) > 0 &&
	    get(rtxn, key, klen, &v) == 1 && (p = stamped(&v, &len)) != NULL &&
	    len < sz) {
		memcpy(state, p, len);
		state[len] = '\0';
		hit = CACHE_HIT;
	}
	read_end();
	return hit;
}

/* Store tenant tid's state, read since fill was taken. */
void
cache_tenant_store(const struct cachefill *fill, long long tid,
    const char *state)
{
	char	 key[CACHE_KEY_MAX + 1];
	size_t	 klen;
	MDB_txn	*txn;

	if ((txn = store_begin(fill)) == NULL)
		return;
	klen = key_make(key, "t|%lld", tid);
	store_end(txn, klen > 0 &&
	    put_stamped(txn, key, klen, state, strlen(state)) == 0);
}

/* Drop object cls/uid and every alias its record lists. */
static void
drop_object(MDB_txn *txn, const char *cls, const char *uid)
{
	struct rechdr	 h;
	const char	*s[RS__MAX], *p, *end;
	char		 rkey[CACHE_KEY_MAX + 1];
	size_t		 rlen;
	MDB_val		 v;

	if ((rlen = key_make(rkey, "o|%s|%s", cls, uid)) == 0 ||
	    get(txn, rkey, rlen, &v) != 1)
		return;
	if (rec_parse(&v, &h, s) == 0 && h.len[RS_ALIASES] > 0) {
		end = s[RS_ALIASES] + h.len[RS_ALIASES];
		for (p = s[RS_ALIASES]; p < end; p += strlen(p) + 1)
			del(txn, p, strlen(p));
	}
	del(txn, rkey, rlen);
}

/*
 * Answers listed under one class that also show what objects of another
 * class hold: a dynamic group's members are chosen by attributes merged
 * from attribute groups and naming pools.
 */
static const struct {
	const char	*changed;
	const char	*lists;
} list_deps[] = {
	{ "attrib",	"node" },
	{ "namingpool",	"node" },
};

/* Drop every list answer of class cls (all tenants, all variants). */
static void
drop_lists(MDB_txn *txn, const char *cls)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	char		 prefix[CACHE_KEY_MAX + 1];
	size_t		 plen;
	int		 rc;

	if ((plen = key_make(prefix, "l|%s|", cls)) == 0)
		return;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		cache_warn("cursor", rc);
		return;
	}
	k.mv_size = plen;
	k.mv_data = prefix;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size >= plen &&
	    memcmp(k.mv_data, prefix, plen) == 0) {
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
		if (rc == MDB_NOTFOUND || rc == EINVAL)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		cache_warn("drop lists", rc);
	mdb_cursor_close(cur);
}

/* Drop the lists a change of class cls makes old, once per batch. */
static void
drop_lists_of(MDB_txn *txn, const char *cls, const char **done, size_t *ndone,
    size_t max)
{
	size_t	 i;

	for (i = 0; i < *ndone; i++)
		if (strcmp(done[i], cls) == 0)
			return;
	if (*ndone < max)
		done[(*ndone)++] = cls;
	drop_lists(txn, cls);
	for (i = 0; i < nitems(list_deps); i++)
		if (strcmp(list_deps[i].changed, cls) == 0)
			drop_lists(txn, list_deps[i].lists);
}

/*
 * Apply n changes of the feed (or of this worker's own writes) in one
 * write transaction: drop what each names, then count the epoch up so no
 * fill read before now is stored.  0, or -1 (logged): the caller tries
 * again, as nothing was dropped.
 */
int
cache_invalidate(const struct change *ch, size_t n)
{
	const char	*done[16];
	char		 key[CACHE_KEY_MAX + 1];
	size_t		 i, klen, ndone = 0;
	MDB_txn		*txn;
	int		 rc;

	if (env == NULL || n == 0)
		return 0;
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
		cache_warn("invalidate", rc);
		return -1;
	}
	for (i = 0; i < n; i++) {
		drop_object(txn, ch[i].cls, ch[i].uid);
		if ((klen = alias_key(key, ch[i].cls, "name", ch[i].tid,
		    ch[i].name)) > 0)
			del(txn, key, klen);
		if ((klen = alias_key(key, ch[i].cls, "name", SCOPE_ALL,
		    ch[i].name)) > 0)
			del(txn, key, klen);
		drop_lists_of(txn, ch[i].cls, done, &ndone, nitems(done));
		if (strcmp(ch[i].cls, "tenant") == 0 &&
		    (klen = key_make(key, "t|%lld", ch[i].tid)) > 0)
			del(txn, key, klen);
	}
	if (epoch_bump(txn) == -1) {
		mdb_txn_abort(txn);
		return -1;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		cache_warn("invalidate commit", rc);
		return -1;
	}
	return 0;
}

/*
 * Empty the cache (the follower, when it starts and cannot know what it
 * missed) and mark it stale until the first poll.  0 or -1 (logged).
 */
int
cache_clear(void)
{
	struct freshness f = { 0, (int64_t)getpid() };
	uint64_t	 e;
	MDB_txn		*txn;
	int		 rc;

	if (env == NULL)
		return 0;
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		goto fail;
	e = epoch_of(txn) + 1;
	if ((rc = mdb_drop(txn, dbi, 0)) != 0 ||
	    (rc = put(txn, "m|epoch", 7, &e, sizeof(e))) != 0 ||
	    (rc = put(txn, "m|fresh", 7, &f, sizeof(f))) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return 0;
fail:
	log_err("cache: clear: %s", rc == -1 ? "write failed" : mdb_strerror(rc));
	return -1;
}

/*
 * Record that every change committed before poll_ms (monotonic_ms() when
 * the follower's poll began) has been applied: the cache may serve until
 * poll_ms + max_lag_ms.  Also clears reader slots of dead processes (a
 * worker killed mid-read).  0 or -1 (logged).
 */
int
cache_mark_fresh(long long poll_ms)
{
	struct freshness f = { poll_ms, (int64_t)getpid() };
	MDB_txn		*txn;
	int		 rc, dead;

	if (env == NULL)
		return 0;
	(void)mdb_reader_check(env, &dead);
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
		cache_warn("fresh", rc);
		return -1;
	}
	if (put(txn, "m|fresh", 7, &f, sizeof(f)) == -1) {
		mdb_txn_abort(txn);
		return -1;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		cache_warn("fresh commit", rc);
		return -1;
	}
	return 0;
}
