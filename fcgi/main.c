/*
 * corral-api: the prefork master.
 *
 *   corral-api -c CONF               serve (foreground)
 *   corral-api -c CONF bootstrap NAME create the superadministrator NAME
 *   corral-api -c CONF check          check the config, key and database
 *   corral-api -c CONF seal           make the first master key if there
 *                                     is none, seal secrets stored clear
 *   corral-api -c CONF fsck [--quick] check the artifact store: every
 *                                     stored file present and (unless
 *                                     --quick) matching its hashes; files
 *                                     nothing uses or knows are listed
 *   corral-api routes                 list the routes: method, path, role
 *   corral-api -c CONF follower       (started by the master) follow the
 *                                     change feed into the read cache
 *
 * The master opens the FastCGI socket, starts N workers and keeps N
 * running: a worker that dies is replaced (unless workers cannot start at
 * all, which waits with growing pauses instead of spinning), one
 * that served max_requests is replaced by a fresh one.  SIGTERM/SIGINT
 * drain: workers finish the request in hand, then exit.  SIGHUP replaces
 * every worker with a freshly exec'd one (a new binary takes effect)
 * while the socket stays open, so nginx sees no gap.
 *
 * Beside the workers the master keeps one follower running (follow.c):
 * the process that keeps this head's read cache true.  It is replaced
 * like a worker when it dies; meanwhile workers read MariaDB.
 *
 * Before it forks, the master does what `seal` does (secrets_prepare):
 * a head whose database names a master key it lacks does not start, and
 * it empties the read cache an earlier run left (cache_reset).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

#define WORKERS_MAX	256
#define DRAIN_SECONDS	30

struct slot {
	pid_t	 pid;
	int	 generation;
};

static volatile sig_atomic_t	 got_term, got_hup, got_chld;
static char			 self_path[PATH_MAX];

static void
on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: corral-api -c conf [check | seal | fsck [--quick] | "
	    "bootstrap name]\n"
	    "       corral-api routes\n");
	exit(1);
}

/*
 * Start one worker: fork, then exec ourselves in worker mode with the
 * listening socket as fd 3, so each worker has a fresh image (and SIGHUP
 * can roll out a new binary).  role "follower" starts the follower
 * instead, without the socket.
 */
static pid_t
worker_spawn(const char *confpath, int listenfd, const char *role)
{
	sigset_t	 none;
	pid_t		 pid;

	if ((pid = fork()) == -1) {
		log_err("fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		return pid;
	/* exec keeps the mask: unblock what the master blocks, or SIGTERM never arrives. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (strcmp(role, "worker") != 0)
		close(listenfd);
	else if (listenfd != 3) {
		if (dup2(listenfd, 3) == -1)
			_exit(WORKER_START_FAILED);
		close(listenfd);
	}
	execl(self_path, "corral-api", "-c", confpath, role, (char *)NULL);
	log_err("exec %s: %s", self_path, strerror(errno));
	_exit(WORKER_START_FAILED);
}

static void
signal_all(struct slot *slots, int n, int sig)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, sig);
}

static int
master(const struct conf *c, const char *confpath)
{
	struct slot		 slots[WORKERS_MAX + 1];	/* + the follower */
	struct sigaction	 sa;
	sigset_t		 block, empty;
	int			 listenfd, i, n = c->api_workers, nslots, status;
	int			 generation = 0, start_failures = 0, live;
	pid_t			 pid;
	time_t			 deadline;
	struct timespec		 tick = { 0, 20 * 1000 * 1000 };

	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	if (cache_reset(c) == -1)
		return 1;
	if ((listenfd = req_listen(c->api_socket, 1024)) == -1)
		return 1;
	/* Slot n, after the workers', is the follower's. */
	nslots = n + (c->cache_enabled ? 1 : 0);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&empty);

	memset(slots, 0, sizeof(slots));
	log_info("listening on %s with %d workers", c->api_socket, n);
	while (!got_term) {
		/*
		 * Workers that cannot start (no key, wrong schema) would be
		 * respawned as fast as they die: wait, longer each time, once
		 * per refill rather than once per slot.
		 */
		if (start_failures >= 5) {
			log_err("workers cannot start; waiting %d s before "
			    "trying again", start_failures);
			sigprocmask(SIG_UNBLOCK, &block, NULL);
			sleep((unsigned int)(start_failures > 60 ? 60 : start_failures));
			sigprocmask(SIG_BLOCK, &block, NULL);
			if (got_term)
				break;
		}
		for (i = 0; i < nslots; i++) {
			if (slots[i].pid > 0)
				continue;
			slots[i].pid = worker_spawn(confpath, listenfd,
			    i < n ? "worker" : "follower");
			slots[i].generation = generation;
		}
		if (got_term)
			break;
		sigsuspend(&empty);
		if (got_hup) {
			got_hup = 0;
			log_info("SIGHUP: replacing workers");
			generation++;
			/* The old generation drains; the reaper below refills. */
			signal_all(slots, nslots, SIGTERM);
		}
		got_chld = 0;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < nslots; i++) {
				if (slots[i].pid != pid)
					continue;
				if (WIFSIGNALED(status))
					log_warn("%s %ld killed by signal %d",
					    i < n ? "worker" : "follower",
					    (long)pid, WTERMSIG(status));
				else if (WEXITSTATUS(status) != 0)
					log_warn("%s %ld exited %d",
					    i < n ? "worker" : "follower",
					    (long)pid, WEXITSTATUS(status));
				/* A worker killed or crashing mid-request is not a loop. */
				if (WIFEXITED(status) &&
				    WEXITSTATUS(status) == WORKER_START_FAILED)
					start_failures++;
				else
					start_failures = 0;
				slots[i].pid = 0;
			}
		}
	}

	log_info("draining workers");
	signal_all(slots, nslots, SIGTERM);
	deadline = time(NULL) + DRAIN_SECONDS;
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	for (;;) {
		live = 0;
		for (i = 0; i < nslots; i++) {
			if (slots[i].pid <= 0)
				continue;
			if (waitpid(slots[i].pid, &status, WNOHANG) == slots[i].pid)
				slots[i].pid = 0;
			else
				live++;
		}
		if (live == 0)
			break;
		if (time(NULL) >= deadline) {
			log_warn("%d workers still busy after %d s; killing", live,
			    DRAIN_SECONDS);
			signal_all(slots, nslots, SIGKILL);
			deadline = time(NULL) + 5;
		}
		nanosleep(&tick, NULL);
	}
	close(listenfd);
	unlink(c->api_socket);
	log_info("stopped");
	return 0;
}

/*
 * Print the route table, one "METHOD PATH ROLE" line each, so operators
 * (and the tests that sweep every route) see the API without a server.
 */
static int
routes_print(void)
{
	const struct route	*rt;
	size_t			 i;

	for (i = 0; (rt = route_at(i)) != NULL; i++)
		printf("%-6s %-32s %s\n", method_name(rt->method), rt->pattern,
		    route_need_name(rt->need));
	return 0;
}

/*
 * Make sure there is a master key and this head has it (the first is made
 * here), then seal the secret values still stored in the clear (from
 * before migration 0006, or written by hand): idempotent, and safe with
 * several heads starting at once (attrs_seal_stored).  The keys it
 * loaded are wiped before the master forks.  0, or -1 (logged).
 */
static int
secrets_prepare(const struct conf *c, struct db *db)
{
	struct ctx	 x;
	long long	 n = 0;
	int		 rc = -1;

	ctx_init(&x, db, c, scope_of_tenant(SCOPE_ALL, 0, "corral-api"));
	if (crypto_master_ensure(&x) != API_OK ||
	    attrs_seal_stored(&x, &n) != API_OK) {
		log_err("secrets: %s", x.reason);
		goto out;
	}
	if (n > 0)
		log_info("secrets: sealed %lld values stored in the clear", n);
	rc = 0;
out:
	crypto_forget();
	return rc;
}

/*
 * The store check: print its report (JSON) and exit 0 when every stored
 * file is present and sound, 1 when one is missing or corrupt (files
 * nothing uses or knows are reported, not failed), 2 when it could not
 * run.
 */
static int
store_fsck(const struct conf *c, struct db *db, int rehash)
{
	struct ctx	 ctx;
	json_t		*report = NULL;
	int		 rc = 2;

	ctx_init(&ctx, db, c, scope_of_tenant(SCOPE_ALL, ROLES_ALL, "fsck"));
	if (fstore_check(&ctx, rehash, &report) != API_OK) {
		fprintf(stderr, "fsck: %s\n", ctx.reason);
		goto out;
	}
	json_dumpf(report, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
	rc = json_array_size(json_object_get(report, "missing")) > 0 ||
	    json_array_size(json_object_get(report, "corrupt")) > 0 ? 1 : 0;
out:
	json_decref(report);
	ctx_clear(&ctx);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct conf	 c;
	struct authkey	 key;
	struct db	*db;
	const char	*confpath = NULL;
	int		 ch, rc, worker;
	ssize_t		 len;

	while ((ch = getopt(argc, argv, "c:h")) != -1)
		switch (ch) {
		case 'c':
			confpath = optarg;
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc == 1 && strcmp(argv[0], "routes") == 0)
		return routes_print();
	if (confpath == NULL)
		usage();

	worker = argc == 1 && (strcmp(argv[0], "worker") == 0 ||
	    strcmp(argv[0], "follower") == 0);
	if (conf_load(&c, confpath) == -1)
		return worker ? WORKER_START_FAILED : 1;

	if (worker) {
		log_open("corral-api", c.api_log);
		rc = argv[0][0] == 'f' ? follow_main(&c) :
		    worker_main(&c, 3, c.api_max_requests);
		conf_free(&c);
		return rc;
	}

	log_open("corral-api", argc == 0 ? c.api_log : NULL);
	/* Refuse to start without a usable signing key. */
	if (auth_key_load(&key, c.auth_secret_file, c.auth_issuer,
	    c.auth_leeway) == -1) {
		conf_free(&c);
		return 1;
	}
	memset(&key, 0, sizeof(key));

	if (argc == 2 && strcmp(argv[0], "bootstrap") == 0) {
		if ((db = db_open(&c)) == NULL || db_ready(db) == -1) {
			db_close(db);
			conf_free(&c);
			return 1;
		}
		rc = admin_bootstrap(db, &c, argv[1]);
		db_close(db);
		conf_free(&c);
		if (rc == 1)
			printf("created superadministrator %s\n", argv[1]);
		else if (rc == 0)
			printf("admin %s exists\n", argv[1]);
		return rc == -1 ? 1 : 0;
	}
	if (argc == 1 && strcmp(argv[0], "check") == 0) {
		rc = (db = db_open(&c)) != NULL && db_ready(db) == 0 ? 0 : 1;
		db_close(db);
		conf_free(&c);
		if (rc == 0)
			printf("configuration, key and database are fine\n");
		return rc;
	}
	if ((argc == 1 || (argc == 2 && strcmp(argv[1], "--quick") == 0)) &&
	    strcmp(argv[0], "fsck") == 0) {
		rc = (db = db_open(&c)) != NULL && db_ready(db) == 0 ?
		    store_fsck(&c, db, argc == 1) : 2;
		db_close(db);
		conf_free(&c);
		return rc;
	}
	if (argc == 1 && strcmp(argv[0], "seal") == 0) {
		rc = (db = db_open(&c)) != NULL && db_ready(db) == 0 &&
		    secrets_prepare(&c, db) == 0 ? 0 : 1;
		db_close(db);
		conf_free(&c);
		if (rc == 0)
			printf("master key present, secrets sealed\n");
		return rc;
	}
	if (argc != 0)
		usage();

	/* Workers are exec'd from the binary we were started as. */
	if ((len = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1)) == -1) {
		log_err("readlink /proc/self/exe: %s", strerror(errno));
		conf_free(&c);
		return 1;
	}
	self_path[len] = '\0';
	/* After a reinstall the link names the unlinked file; exec the new one. */
	if (len > 10 && strcmp(self_path + len - 10, " (deleted)") == 0)
		self_path[len - 10] = '\0';
	/* A schema of another version is fatal; a database still starting is not. */
	if ((db = db_open(&c)) == NULL) {
		conf_free(&c);
		return 1;
	}
	if (db_ready(db) == -1)
		log_warn("secrets: database unreachable; stored values are "
		    "sealed at the next start");
	else if (secrets_prepare(&c, db) == -1) {
		db_close(db);
		conf_free(&c);
		return 1;
	}
	db_close(db);
	rc = master(&c, confpath);
	conf_free(&c);
	return rc;
}
