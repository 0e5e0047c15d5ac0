/*
 * One corral-api worker: connects to MariaDB after the fork, prepares its
 * statements once, then serves requests until told to stop or until it
 * has served max_requests (then the master starts a fresh one, which
 * bounds whatever a long life might leak or fragment).
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

/*
 * A request with an answer this large, or one that took this long, built
 * much in the heap (a list of thousands of nodes, a selector over all of
 * them, the database client's copy of its rows): give the free memory
 * back after it, or a worker keeps the high-water mark of its largest
 * request for the rest of its life (DESIGN.md section 6: under 16 MB).
 * Cheap requests, the many, skip the heap walk.
 */
#define HEAP_TRIM_BYTES	(256 * 1024)
#define HEAP_TRIM_MS	20

static volatile sig_atomic_t	 stopping;

static void
worker_sigterm(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * Serve requests on listenfd.  Returns the process exit status: 0 after a
 * clean stop or recycle, WORKER_START_FAILED when it cannot start (no
 * key, wrong schema), which the master answers by backing off.
 */
int
worker_main(const struct conf *c, int listenfd, int max_requests)
{
	struct sigaction	 sa;
	sigset_t		 stopsigs;
	struct authkey		 key;
	struct req		 r;
	struct db		*db;
	enum apierr		 rc;
	long long		 began;
	int			 served = 0, big;

	/*
	 * SIGTERM and SIGINT stop the worker once the request in hand is
	 * answered: they are blocked but while it waits for a connection
	 * (req_accept), where, without SA_RESTART, they interrupt accept(2).
	 */
	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGTERM);
	sigaddset(&stopsigs, SIGINT);
	sigprocmask(SIG_BLOCK, &stopsigs, NULL);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = worker_sigterm;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (auth_key_load(&key, c->auth_secret_file, c->auth_issuer,
	    c->auth_leeway) == -1)
		return WORKER_START_FAILED;
	if ((db = db_open(c)) == NULL)
		return WORKER_START_FAILED;
	if (req_init() == -1)
		return WORKER_START_FAILED;
	cache_open(c);
	/* Note where the feed is, so the first write finds only its own rows. */
	(void)follow_own_writes(db);

	memset(&r, 0, sizeof(r));
	while (!stopping && served < max_requests) {
		if (req_accept(&r, listenfd, &stopsigs, &stopping) == -1)
			break;
		began = monotonic_ms();
		r.conf = c;
		r.key = &key;
		/* Nobody is known until a token says who: no tenant at all. */
		ctx_init(&r.ctx, db, c, scope_nobody());
		if (db_ready(db) == -1)
			rc = req_fail(&r, API_UNAVAILABLE, "Database unavailable; "
			    "try again");
		else
			rc = route_dispatch(&r);
		/* A handler that bailed out mid-transaction leaves nothing. */
		db_rollback(db);
		/* Read-your-writes: what this request changed leaves the cache. */
		(void)follow_own_writes(db);
		resp_send(&r, rc);
		big = r.sent > HEAP_TRIM_BYTES ||
		    monotonic_ms() - began > HEAP_TRIM_MS;
		req_finish(&r);
		if (big)
			malloc_trim(0);
		served++;
	}
	db_close(db);
	cache_close();
	return 0;
}
