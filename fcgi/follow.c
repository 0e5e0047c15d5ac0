/*
 * The change feed's two readers (sql/0015-changes.sql): the follower,
 * one process per head that the corral-api master keeps running, and the
 * worker that has just written.
 *
 * The follower polls `changes` every [cache] interval_ms and drops from
 * the head's cache (cache.c) what each new row names.  The rows come in
 * seq order, but seq is taken when a transaction writes, not when it
 * commits: a row may appear after rows with a higher seq.  So a seq the
 * follower skipped over is a gap it keeps asking about until the row
 * shows up, or until GAP_MS has passed (a transaction that rolled back
 * leaves a gap that never fills; corral's longest transaction, a bulk
 * create of 10,000 nodes, takes seconds).  Once a poll has read every row
 * committed before it began, the follower marks the cache fresh as of
 * that moment (cache_mark_fresh); workers stop trusting the cache
 * max_lag_ms later if no poll completes again.
 *
 * A follower starts from nothing it can trust: it empties the cache and
 * begins before the rows of the last GAP_MS, so gaps there are awaited.
 *
 * A worker whose request wrote reads its connection's own new rows and
 * drops them before it answers, so a client reads its own writes at once
 * on this head, however far the follower is behind.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extern.h"

#define GAP_MS		60000	/* how long a skipped seq is awaited */
#define GAP_RANGES	16	/* gaps kept as ranges; the closest merge */
#define POLL_ROWS	5000	/* rows read at once; more: read again */
#define TRIM_MS		60000	/* how often old rows are deleted */

/* Seqs lo..hi skipped over since since_ms. */
struct gap {
	long long	 lo, hi;
	long long	 since_ms;
};

struct follower {
	struct db	*db;
	long long	 last;			/* highest seq applied; -1 unknown */
	struct gap	 gaps[GAP_RANGES];
	size_t		 ngaps;
	struct change	*batch;			/* what this poll drops */
	size_t		 nbatch, maxbatch;
};

static volatile sig_atomic_t	 stopping;

static void
follow_sigterm(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Await seqs lo..hi; with too many ranges, the two closest become one. */
static void
gap_add(struct follower *f, long long lo, long long hi, long long now)
{
	size_t		 i, best = 0;
	long long	 dist, bestdist = -1;

	if (f->ngaps == GAP_RANGES) {
		/* Ranges are kept in seq order: merge neighbours. */
		for (i = 0; i + 1 < f->ngaps; i++) {
			dist = f->gaps[i + 1].lo - f->gaps[i].hi;
			if (bestdist == -1 || dist < bestdist) {
				bestdist = dist;
				best = i;
			}
		}
		f->gaps[best].hi = f->gaps[best + 1].hi;
		if (f->gaps[best + 1].since_ms < f->gaps[best].since_ms)
			f->gaps[best].since_ms = f->gaps[best + 1].since_ms;
		memmove(&f->gaps[best + 1], &f->gaps[best + 2],
		    (f->ngaps - best - 2) * sizeof(f->gaps[0]));
		f->ngaps--;
	}
	f->gaps[f->ngaps].lo = lo;
	f->gaps[f->ngaps].hi = hi;
	f->gaps[f->ngaps].since_ms = now;
	f->ngaps++;
}

/*
 * Whether seq was awaited; it no longer is.  (A merged range also holds
 * seqs applied before: they are applied again, which is harmless.)
 */
static int
gap_take(struct follower *f, long long seq)
{
	struct gap	*g;
	size_t		 i;

	for (i = 0; i < f->ngaps; i++) {
		g = &f->gaps[i];
		if (seq < g->lo || seq > g->hi)
			continue;
		if (g->lo == g->hi) {
			memmove(g, g + 1, (f->ngaps - i - 1) * sizeof(*g));
			f->ngaps--;
		} else if (seq == g->lo)
			g->lo++;
		else if (seq == g->hi)
			g->hi--;
		else if (f->ngaps < GAP_RANGES) {
			memmove(g + 1, g, (f->ngaps - i) * sizeof(*g));
			f->ngaps++;
			g[0].hi = seq - 1;
			g[1].lo = seq + 1;
		}
		/* else: no room to split; seq stays awaited and is reapplied. */
		return 1;
	}
	return 0;
}

/* Stop awaiting what has been awaited for longer than GAP_MS. */
static void
gaps_expire(struct follower *f, long long now)
{
	size_t	 i = 0;

	while (i < f->ngaps)
		if (now - f->gaps[i].since_ms > GAP_MS) {
			memmove(&f->gaps[i], &f->gaps[i + 1],
			    (f->ngaps - i - 1) * sizeof(f->gaps[0]));
			f->ngaps--;
		} else
			i++;
}

/* Read the rows of statement id into f->batch; the highest seq to *max. */
static enum dbrc
read_rows(struct follower *f, enum sql id, int (*want)(struct follower *,
    long long), size_t *nrows, long long *max)
{
	struct change	*ch;
	char		*cls, *uid, *name;
	long long	 seq, tid;
	enum dbrc	 rc;

	*nrows = 0;
	while ((rc = db_next(f->db, id, "isiss", &seq, &cls, &tid, &uid,
	    &name)) == DB_OK) {
		(*nrows)++;
		if (seq > *max)
			*max = seq;
		if (want == NULL || want(f, seq)) {
			if (f->nbatch == f->maxbatch) {
				f->maxbatch = f->maxbatch * 2 + 64;
				f->batch = xrealloc(f->batch, f->maxbatch *
				    sizeof(*f->batch));
			}
			ch = &f->batch[f->nbatch++];
			snprintf(ch->cls, sizeof(ch->cls), "%s", cls);
			snprintf(ch->uid, sizeof(ch->uid), "%s", uid);
			snprintf(ch->name, sizeof(ch->name), "%s",
			    name != NULL ? name : "");
			ch->tid = tid;
		}
		free(cls);
		free(uid);
		free(name);
	}
	db_done(f->db, id);
	return rc == DB_DONE ? DB_OK : rc;
}

/* read_rows filter for new rows: note the seqs skipped as gaps. */
static int
new_row(struct follower *f, long long seq)
{
	if (seq > f->last + 1)
		gap_add(f, f->last + 1, seq - 1, monotonic_ms());
	if (seq > f->last)
		f->last = seq;
	return 1;
}

/*
 * One poll: new rows after f->last, then the awaited gaps; drop what they
 * name.  *more is set when rows were left for the next read.  0 or -1
 * (the database failed; nothing is marked fresh).
 */
static int
follow_poll(struct follower *f, int *more)
{
	struct follower	 before = *f;
	struct gap	 ranges[GAP_RANGES];
	long long	 max = 0;
	size_t		 i, n, ngaps;
	enum dbrc	 rc;

	*more = 0;
	f->nbatch = 0;
	if ((rc = db_run(f->db, SQL_CHANGES_NEW, "ii", f->last,
	    (long long)POLL_ROWS)) != DB_OK ||
	    (rc = read_rows(f, SQL_CHANGES_NEW, new_row, &n, &max)) != DB_OK)
		goto fail;
	*more = n == POLL_ROWS;
	/* A copy: taking rows changes the ranges being walked. */
	ngaps = f->ngaps;
	memcpy(ranges, f->gaps, ngaps * sizeof(ranges[0]));
	for (i = 0; i < ngaps; i++) {
		if ((rc = db_run(f->db, SQL_CHANGES_RANGE, "ii", ranges[i].lo,
		    ranges[i].hi)) != DB_OK ||
		    (rc = read_rows(f, SQL_CHANGES_RANGE, gap_take, &n,
		    &max)) != DB_OK)
			goto fail;
	}
	gaps_expire(f, monotonic_ms());
	if (cache_invalidate(f->batch, f->nbatch) == -1) {
		/* What the rows named may still be cached: drop everything. */
		if (cache_clear() == -1)
			goto fail;
	}
	return 0;
fail:
	/* Nothing was applied: read the same rows again next time. */
	f->last = before.last;
	f->ngaps = before.ngaps;
	memcpy(f->gaps, before.gaps, sizeof(f->gaps));
	return -1;
}

/* Where a new follower begins (SQL_CHANGES_START).  0 or -1. */
static int
follow_start(struct follower *f)
{
	long long	 start = -1;
	enum dbrc	 rc;

	if ((rc = db_run(f->db, SQL_CHANGES_START, "i",
	    (long long)(GAP_MS / 1000))) != DB_OK)
		return -1;
	rc = db_next(f->db, SQL_CHANGES_START, "i", &start);
	db_done(f->db, SQL_CHANGES_START);
	if (rc != DB_OK || start < 0)
		return -1;
	f->last = start;
	f->ngaps = 0;
	log_info("follower: reading the change feed from seq %lld", start);
	return 0;
}

/*
 * Delete the feed's rows older than [cache] keep, in bounded batches so
 * no statement holds locks for long; a backlog goes over later calls.
 */
static void
follow_trim(struct follower *f, const struct conf *c)
{
	int	 i;

	for (i = 0; i < 10; i++) {
		if (db_run(f->db, SQL_CHANGES_TRIM, "i",
		    (long long)c->cache_keep) != DB_OK) {
			log_warn("follower: could not trim the change feed");
			return;
		}
		if (db_affected(f->db, SQL_CHANGES_TRIM) < 10000)
			return;
	}
}

/*
 * The follower process: poll the feed until SIGTERM.  Returns the exit
 * status: 0, or WORKER_START_FAILED when it cannot start (the schema is
 * of another version), which the master answers by backing off.
 */
int
follow_main(const struct conf *c)
{
	struct sigaction	 sa;
	struct follower		 f;
	struct timespec		 nap;
	long long		 began, last_trim = 0;
	int			 more = 0, down = 0;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = follow_sigterm;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	memset(&f, 0, sizeof(f));
	f.last = -1;
	if ((f.db = db_open(c)) == NULL)
		return WORKER_START_FAILED;
	cache_open(c);
	if (cache_clear() == -1) {
		db_close(f.db);
		cache_close();
		return WORKER_START_FAILED;
	}
	nap.tv_sec = c->cache_interval_ms / 1000;
	nap.tv_nsec = (long)(c->cache_interval_ms % 1000) * 1000000L;
	while (!stopping) {
		/* Every row committed before this moment is read below. */
		began = monotonic_ms();
		if ((f.last >= 0 || follow_start(&f) == 0) &&
		    follow_poll(&f, &more) == 0) {
			if (down) {
				log_info("follower: the change feed is back");
				down = 0;
			}
			if (!more)
				cache_mark_fresh(began);
			if (began - last_trim > TRIM_MS) {
				follow_trim(&f, c);
				last_trim = began;
			}
		} else if (!down) {
			/* Workers read MariaDB once the cache is max_lag_ms old. */
			log_warn("follower: cannot read the change feed; the "
			    "cache goes stale");
			down = 1;
		}
		if (!more)
			nanosleep(&nap, NULL);
	}
	free(f.batch);
	db_close(f.db);
	cache_close();
	return 0;
}

/* The highest seq this worker has dropped of its own writes. */
static long long	 own_last = -1;

/*
 * After a request that may have written (db_take_wrote): drop from the
 * cache what this worker's connection changed, before the answer goes
 * out.  The first call only notes where the feed ends.  0, or -1 when
 * the database failed (logged; the cache serves the old rows until the
 * follower drops them, at most max_lag_ms after they were committed).
 */
int
follow_own_writes(struct db *db)
{
	struct follower	 f;
	long long	 max = 0;
	size_t		 n;
	enum dbrc	 rc;
	int		 ret = -1;

	if (!db_take_wrote(db) && own_last >= 0)
		return 0;
	memset(&f, 0, sizeof(f));
	f.db = db;
	if (own_last < 0) {
		/*
		 * Where this connection's writes begin: after the feed's end
		 * (SQL_CHANGES_START of the last 0 seconds).
		 */
		if ((rc = db_run(db, SQL_CHANGES_START, "i", 0LL)) == DB_OK) {
			rc = db_next(db, SQL_CHANGES_START, "i", &own_last);
			db_done(db, SQL_CHANGES_START);
		}
		if (rc != DB_OK)
			own_last = -1;
		return rc == DB_OK ? 0 : -1;
	}
	if ((rc = db_run(db, SQL_CHANGES_MINE, "i", own_last)) != DB_OK ||
	    (rc = read_rows(&f, SQL_CHANGES_MINE, NULL, &n, &max)) != DB_OK)
		log_warn("cache: own writes not found; the follower drops them");
	else if (cache_invalidate(f.batch, f.nbatch) == 0) {
		if (max > own_last)
			own_last = max;
		ret = 0;
	}
	free(f.batch);
	return ret;
}
