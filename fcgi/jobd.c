/*
 * corral-jobd: the job runner.
 *
 * The API inserts a row into jobs (state 'queued'), commits, and sends a
 * one-byte datagram to jobd's wake-up socket.  jobd claims queued rows in
 * one transaction and forks one runner per claimed job (run.c), never more
 * than [jobd] workers at once.  A runner moves its row to 'running', runs
 * the job and writes 'done' or 'failed' with the result.
 *
 * Claims are leases, not locks: claimed_by = "<head>:<pid>" and
 * heartbeat_at, taken by one conditional UPDATE (SQL_JOB_CLAIM) and
 * renewed by another (SQL_JOB_BEAT by the runner while the job runs,
 * SQL_JOB_BEAT_CLAIMED by jobd for rows whose runner has not started).
 * Galera replicates rows, so every head sees every lease; it does not
 * replicate GET_LOCK, which corral therefore does not use.  Every jobd,
 * on every head, about once a second:
 *   - fails 'running' jobs whose lease ran out: the runner died mid-job,
 *     what it did cannot be known, so the job is not run again;
 *   - requeues 'claimed' jobs whose lease ran out: their runner never
 *     started, nothing ran, so the job will run exactly once later;
 *   - cancels queued jobs past their deadline (nobody waits for them).
 * A runner whose jobd is killed keeps running (see runner_detach), renews
 * its own lease and writes its own result, so the next jobd leaves it
 * alone.  A runner killed with its head is failed after one lease.
 *
 * What may run at once is decided at claim time, by the database where
 * it must hold across heads: one job per node and at most `workers` jobs
 * per tenant are unique keys on generated columns of jobs (see sql/0005),
 * so a second claim is refused by the database itself.  The per-BMC limit
 * ([power] per_bmc) is counted by each jobd over every head's running
 * jobs.
 *
 * jobd also starts and restarts the waiter (jobwait.c), the process that
 * holds the HTTP connections of synchronous calls until their job ends,
 * and, with a [boot] interface, keeps dnsmasq's files true (dhcp.c) and
 * supervises dnsmasq as it does the waiter: SIGHUP for changed host
 * files, a restart only for a changed dnsmasq.conf.
 *
 * The wake-up socket only makes jobs start at once; a lost datagram costs
 * at most [jobd] poll_ms, the fallback poll interval.
 *
 * jobd also records boot progress (boot.c): nginx and dnsmasq's
 * dhcp-script send one line per event to its boot event socket.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "extern.h"

#define JOBD_REAP_EVERY		1.0	/* s between lease passes */
/*
 * How long SIGTERM waits for running jobs.  Under 30 s because
 * scripts/corral-run sends SIGKILL after 30 s, and exiting by ourselves
 * logs what was left running.
 */
#define JOBD_DRAIN_SECS		25
#define JOBD_BACKOFF_MAX_MS	10000	/* longest wait between reconnects */
#define JOBD_CLAIM_SCAN		4	/* queued rows looked at per free slot */
#define WAITER_RESPAWN_SECS	1.0	/* least time between waiter starts */
#define JOBD_GIT_EVERY		1.0	/* s between git scheduler passes */
#define DNSMASQ_SETTLE_SECS	1.0	/* no SIGHUP before its handler is set */
#define DNSMASQ_BACKOFF_MAX	30.0	/* s between starts of a failing dnsmasq */

/* The orphan's result: what a reader of GET /job/<id> sees. */
#define ORPHAN_RESULT	"{\"error\":\"runner died before finishing (its " \
			"lease ran out); not retried\"}"
#define EXPIRED_RESULT	"{\"error\":\"not started before its deadline; " \
			"nobody waits for it any more\"}"

/* One runner child.  pid 0 marks a free slot. */
struct runner {
	pid_t		 pid;
	long long	 id;
	double		 forked_at;
};

struct jobd {
	const struct conf	*conf;
	struct db		*db;
	char			 ident[254];	/* claimed_by: "<head>:<pid>" */
	int			 wakefd;
	int			 eventfd;	/* boot events, or -1 */
	struct bootev		*events;	/* the boot event reader (bootev.c) */
	struct runner		*runners;	/* conf->jobd_workers slots */
	size_t			 nslots;
	pid_t			 waiter;	/* jobwait.c's process, or 0 */
	double			 waiter_started;
	int			 db_down;	/* logged as unreachable */
	int			 backoff_ms;
	double			 next_db_try;
	double			 next_reap;
	double			 next_spool_clean;
	double			 next_git;	/* gitsched_pass (run_git.c) */
	struct dhcp_state	*dhcp;		/* [boot] dnsmasq files, or NULL */
	int			 dhcp_changed;	/* DHCP_CHANGED_* not acted on */
	pid_t			 dnsmasq;	/* the managed dnsmasq, or 0 */
	double			 dnsmasq_started, dnsmasq_backoff;
	int			 dnsmasq_restart;	/* stopped to restart */
	int			 dnsmasq_hup;	/* a SIGHUP waits for it to settle */
};

static volatile sig_atomic_t	 got_stop;	/* SIGTERM/SIGINT count */
static volatile sig_atomic_t	 got_hup;
static int			 sigpipe[2] = { -1, -1 };	/* self-pipe */

static void __attribute__((noreturn))
usage(FILE *f, int status)
{
	fprintf(f, "usage: corral-jobd -c config\n"
	    "       corral-jobd -c config boot-event dhcp add|old|del mac ip "
	    "[host]\n");
	exit(status);
}

/*
 * Note the signal and wake the main loop through the self-pipe, so a
 * signal that lands just before poll(2) is not slept through.
 */
static void
sig_handler(int sig)
{
	int	 save = errno;

	if (sig == SIGTERM || sig == SIGINT)
		got_stop++;
	else if (sig == SIGHUP)
		got_hup = 1;
	if (write(sigpipe[1], "", 1) == -1) {
		/* Pipe full: a wake-up is already pending. */
	}
	errno = save;
}

static int
signals_init(void)
{
	struct sigaction	 sa;
	int			 i;

	if (pipe(sigpipe) == -1) {
		log_err("pipe: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < 2; i++)
		if (fcntl(sigpipe[i], F_SETFL, O_NONBLOCK) == -1 ||
		    fcntl(sigpipe[i], F_SETFD, FD_CLOEXEC) == -1) {
			log_err("fcntl: %s", strerror(errno));
			return -1;
		}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* SA_RESTART: a signal must not break libmariadb's reads mid-query. */
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sa.sa_handler = sig_handler;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1 ||
	    sigaction(SIGCHLD, &sa, NULL) == -1) {
		log_err("sigaction: %s", strerror(errno));
		return -1;
	}
	/* A peer gone mid-write is an error to handle, not a reason to die. */
	sa.sa_flags = 0;
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

/* Read every pending datagram.  Returns how many there were. */
static int
wake_drain(int fd)
{
	char	 buf[64];
	int	 n = 0;

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0 || errno == EINTR)
		n++;
	return n;
}

static void
sigpipe_drain(void)
{
	char	 buf[64];

	while (read(sigpipe[0], buf, sizeof(buf)) > 0)
		continue;
}

/*
 * Bind the wake-up datagram socket at path, mode 0660 so the API's group
 * can send to it.  A socket file nobody listens on is stale and replaced;
 * one that answers belongs to a live jobd, and we refuse to steal it.
 * Returns the descriptor or -1 (logged).
 */
static int
wake_open(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, probe;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path == NULL || strlen(path) >= sizeof(sun.sun_path)) {
		log_err("[jobd] socket: path missing or too long");
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((probe = socket(AF_UNIX, SOCK_DGRAM, 0)) != -1) {
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			log_err("%s: another corral-jobd is listening there", path);
			close(probe);
			return -1;
		}
		close(probe);
	}
	if ((fd = unix_bind(path, SOCK_DGRAM)) == -1)
		return -1;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
		log_err("%s: %s", path, strerror(errno));
		close(fd);
		(void)unlink(path);
		return -1;
	}
	return fd;
}

/*
 * The managed dnsmasq ended: at once again if jobd stopped it to restart,
 * else after a pause that grows while it keeps failing right away (it
 * cannot bind: not root, or another DHCP server on the interface).
 */
static void
dnsmasq_exited(struct jobd *j, int st)
{
	double	 ran = time_now() - j->dnsmasq_started;

	j->dnsmasq = 0;
	if (j->dnsmasq_restart)
		return;
	j->dnsmasq_backoff = ran > 5 ? 1 : j->dnsmasq_backoff * 2 > 1 ?
	    j->dnsmasq_backoff * 2 : 1;
	if (j->dnsmasq_backoff > DNSMASQ_BACKOFF_MAX)
		j->dnsmasq_backoff = DNSMASQ_BACKOFF_MAX;
	log_warn("dnsmasq exited (%s %d) after %.1f s; restarting it in %.0f s "
	    "(its output: %s/dnsmasq.out)", WIFSIGNALED(st) ? "signal" :
	    "status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), ran,
	    j->dnsmasq_backoff, j->conf->boot_dnsmasq_dir);
}

static size_t
runners_live(const struct jobd *j)
{
	size_t	 i, n = 0;

	for (i = 0; i < j->nslots; i++)
		if (j->runners[i].pid != 0)
			n++;
	return n;
}

/* Collect exited runners and free their slots. */
static void
runners_reap(struct jobd *j)
{
	struct runner	*r;
	pid_t		 pid;
	size_t		 i;
	int		 st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == j->waiter) {
			log_warn("waiter %ld exited (%s %d); restarting it",
			    (long)pid, WIFSIGNALED(st) ? "signal" : "status",
			    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			j->waiter = 0;
			continue;
		}
		if (pid == j->dnsmasq) {
			dnsmasq_exited(j, st);
			continue;
		}
		for (i = 0, r = NULL; i < j->nslots; i++)
			if (j->runners[i].pid == pid)
				r = &j->runners[i];
		if (r == NULL)
			continue;
		/* A runner logs its own job's outcome; only surprises here. */
		if (WIFSIGNALED(st))
			log_warn("runner %ld of job %lld killed by signal %d "
			    "after %.1f s", (long)pid, r->id, WTERMSIG(st),
			    time_now() - r->forked_at);
		else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
			log_warn("runner %ld of job %lld exited with status %d",
			    (long)pid, r->id, WEXITSTATUS(st));
		r->pid = 0;
	}
}

/*
 * Close every socket and pipe inherited from jobd: the wake-up socket, the
 * self-pipe, and jobd's database connection.  close(2) only drops this
 * process's reference, so jobd's connection is undisturbed; db_close()
 * would send COM_QUIT and end it for jobd too.  Keeping the descriptor
 * open would be wrong as well: if jobd were killed, the server would not
 * see its connection close (and roll back its open transaction) until
 * every runner had exited.
 */
static void
runner_close_inherited(void)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	const char	*errstr;
	int		 fds[256];
	size_t		 n = 0, i;
	long long	 fd;

	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(d)) != NULL && n < sizeof(fds) / sizeof(fds[0])) {
			fd = num_parse(de->d_name, 3, 1 << 30, &errstr);
			if (errstr == NULL)
				fds[n++] = (int)fd;
		}
		closedir(d);
	} else
		/* No /proc: jobd opens few descriptors, all low. */
		for (fd = 3; fd < 256; fd++)
			fds[n++] = (int)fd;
	for (i = 0; i < n; i++)
		if (fstat(fds[i], &st) == 0 &&
		    (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode)))
			close(fds[i]);
}

/*
 * Make the fresh child a runner that outlives jobd.
 *
 * `kill -9 <jobd>` kills only jobd: its runners are reparented and go on,
 * which is what we want, since a job half done cannot be repeated and a
 * finished one writes its own result.  So no PR_SET_PDEATHSIG.
 *
 * A Ctrl-C in a terminal sends SIGINT to the whole foreground process
 * group.  Runners in jobd's group would die mid-job (and be failed by the
 * reaper) while jobd itself drains gracefully.  So each runner gets its
 * own process group: terminal signals reach jobd only, and jobd waits for
 * its runners.  An operator can still stop one runner with kill(1); its
 * job then ends 'failed'.  Signals jobd catches go back to their defaults.
 */
static void
runner_detach(const sigset_t *oldmask)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	(void)setpgid(0, 0);
	runner_close_inherited();
	sigpipe[0] = sigpipe[1] = -1;
}

/*
 * Fork a runner for job id into a free slot.  On failure the row stays
 * 'claimed' and the reaper requeues it.
 */
static void
runner_start(struct jobd *j, long long id)
{
	sigset_t	 all, old;
	size_t		 i;
	pid_t		 pid;

	for (i = 0; i < j->nslots && j->runners[i].pid != 0; i++)
		continue;
	if (i == j->nslots) {
		log_err("job %lld: no free runner slot", id);
		return;
	}
	/* No handler of jobd's may run in the child before it resets them. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == -1) {
		log_err("fork for job %lld: %s; it will be requeued", id,
		    strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		return;
	}
	if (pid == 0) {
		runner_detach(&old);
		/*
		 * Background work yields the CPU to the API: a burst of jobs
		 * (256 power calls at once) must not slow anyone's GET.
		 */
		if (j->conf->jobd_nice != 0 &&
		    setpriority(PRIO_PROCESS, 0, j->conf->jobd_nice) == -1)
			log_warn("job %lld: nice %d: %s", id, j->conf->jobd_nice,
			    strerror(errno));
		runner_main(j->conf, id, j->ident);
	}
	/* Also here, so a Ctrl-C right after fork(2) cannot reach the child. */
	(void)setpgid(pid, pid);
	sigprocmask(SIG_SETMASK, &old, NULL);
	j->runners[i].pid = pid;
	j->runners[i].id = id;
	j->runners[i].forked_at = time_now();
}

/* What limits a claim pass: tenants' worker slots and BMC hosts' jobs. */
struct tenant_slots {
	long long	 id;
	int		 workers;
	int		 exempt;	/* the management tenant: jobd's slots only */
	unsigned char	*used;		/* workers entries */
};

struct bmc_count {
	char		*host;
	int		 n;
};

struct limits {
	struct tenant_slots	*t;
	size_t			 nt;
	struct bmc_count	*b;
	size_t			 nb;
};

static void
limits_free(struct limits *l)
{
	size_t	 i;

	for (i = 0; i < l->nt; i++)
		free(l->t[i].used);
	for (i = 0; i < l->nb; i++)
		free(l->b[i].host);
	free(l->t);
	free(l->b);
	memset(l, 0, sizeof(*l));
}

static struct tenant_slots *
limits_tenant(struct limits *l, long long id)
{
	size_t	 i;

	for (i = 0; i < l->nt; i++)
		if (l->t[i].id == id)
			return &l->t[i];
	return NULL;
}

static struct bmc_count *
limits_bmc(struct limits *l, const char *host, int add)
{
	size_t	 i;

	for (i = 0; i < l->nb; i++)
		if (strcmp(l->b[i].host, host) == 0)
			return &l->b[i];
	if (!add)
		return NULL;
	l->b = xrealloc(l->b, (l->nb + 1) * sizeof(*l->b));
	l->b[l->nb].host = xstrdup(host);
	l->b[l->nb].n = 0;
	return &l->b[l->nb++];
}

/*
 * Load the tenants' worker caps and what every head runs now.  Inside the
 * claim transaction, so it is as fresh as the rows being claimed; the
 * database's unique keys settle any race with another head's claim.
 */
static int
limits_load(struct jobd *j, struct limits *l)
{
	struct tenant_slots	*t;
	struct bmc_count	*b;
	long long		 id, workers, exempt, slot;
	char			*host = NULL;

	memset(l, 0, sizeof(*l));
	if (db_run(j->db, SQL_TENANT_WORKERS, "") != DB_OK) {
		db_done(j->db, SQL_TENANT_WORKERS);
		return -1;
	}
	while (db_next(j->db, SQL_TENANT_WORKERS, "iii", &id, &workers,
	    &exempt) == DB_OK) {
		l->t = xrealloc(l->t, (l->nt + 1) * sizeof(*l->t));
		t = &l->t[l->nt++];
		t->id = id;
		t->workers = workers < 0 ? 0 : workers > 4096 ? 4096 : (int)workers;
		t->exempt = exempt != 0;
		t->used = xcalloc((size_t)t->workers + 1, 1);
	}
	db_done(j->db, SQL_TENANT_WORKERS);
	if (db_run(j->db, SQL_JOB_ACTIVE, "") != DB_OK) {
		db_done(j->db, SQL_JOB_ACTIVE);
		return -1;
	}
	while (db_next(j->db, SQL_JOB_ACTIVE, "iis", &id, &slot, &host) ==
	    DB_OK) {
		if ((t = limits_tenant(l, id)) != NULL && slot >= 0 &&
		    slot < t->workers)
			t->used[slot] = 1;
		if (host != NULL && (b = limits_bmc(l, host, 1)) != NULL)
			b->n++;
		free(host);
		host = NULL;
	}
	db_done(j->db, SQL_JOB_ACTIVE);
	return 0;
}

/*
 * The worker slot a job of tenant t may take: -1 for none needed (an
 * exempt tenant), -2 when every slot is in use.
 */
static int
limits_slot(const struct tenant_slots *t)
{
	int	 i;

	if (t == NULL || t->exempt)
		return -1;
	for (i = 0; i < t->workers; i++)
		if (!t->used[i])
			return i;
	return -2;
}

/*
 * Claim as many queued jobs as there are free slots, in one transaction,
 * then start a runner for each.  A job whose tenant has no free worker,
 * whose BMC host is at its limit or whose node is busy stays queued for
 * a later pass; a few more rows than slots are looked at so such jobs do
 * not hold up the others.
 */
static void
jobd_claim(struct jobd *j)
{
	struct candidate {
		long long	 id, tenant;
		char		*node, *host;
	}			*c = NULL;
	struct limits		 l;
	struct tenant_slots	*t;
	struct bmc_count	*b;
	long long		*ids = NULL;
	size_t			 nfree, want, n = 0, i, k = 0;
	double			 now = time_now();
	enum dbrc		 rc;
	int			 slot;

	memset(&l, 0, sizeof(l));
	if ((nfree = j->nslots - runners_live(j)) == 0)
		return;
	want = nfree * JOBD_CLAIM_SCAN;
	c = xcalloc(want, sizeof(*c));
	ids = xcalloc(nfree, sizeof(*ids));
	if (db_begin(j->db) != DB_OK)
		goto out;
	if (db_run(j->db, SQL_JOB_CLAIMABLE, "dsi", now, j->conf->head_name,
	    (long long)want) != DB_OK) {
		db_done(j->db, SQL_JOB_CLAIMABLE);
		goto fail;
	}
	while (n < want && db_next(j->db, SQL_JOB_CLAIMABLE, "iiss", &c[n].id,
	    &c[n].tenant, &c[n].node, &c[n].host) == DB_OK)
		n++;
	db_done(j->db, SQL_JOB_CLAIMABLE);
	if (n == 0 || limits_load(j, &l) == -1)
		goto fail;
	for (i = 0; i < n && k < nfree; i++) {
		t = limits_tenant(&l, c[i].tenant);
		if ((slot = limits_slot(t)) == -2)
			continue;
		b = c[i].host != NULL ? limits_bmc(&l, c[i].host, 1) : NULL;
		if (b != NULL && b->n >= j->conf->power_per_bmc)
			continue;
		rc = db_run(j->db, SQL_JOB_CLAIM, "sdii", j->ident, now,
		    (long long)slot, c[i].id);
		if (rc == DB_DUP)
			continue;	/* its node is busy, or the slot was taken */
		if (rc != DB_OK)
			goto fail;
		if (db_affected(j->db, SQL_JOB_CLAIM) != 1)
			continue;
		if (slot >= 0)
			t->used[slot] = 1;
		if (b != NULL)
			b->n++;
		ids[k++] = c[i].id;
	}
	if (k == 0)
		goto fail;
	if (db_commit(j->db) != DB_OK) {
		/*
		 * The commit may have happened all the same; then the rows
		 * are 'claimed' without a runner and are requeued when their
		 * lease runs out.
		 */
		goto out;
	}
	for (i = 0; i < k; i++)
		runner_start(j, ids[i]);
	goto out;
fail:
	db_rollback(j->db);
out:
	for (i = 0; i < n; i++) {
		free(c[i].node);
		free(c[i].host);
	}
	limits_free(&l);
	free(c);
	free(ids);
}

/*
 * Mend what dead runners and jobds left behind, on any head: fail running
 * jobs and requeue claimed ones whose lease ran out, cancel queued jobs
 * past their deadline.  See the top of this file for why each is safe.
 */
static void
jobd_leases(struct jobd *j)
{
	double		 now = time_now();
	long long	 lease = j->conf->jobd_lease, n;

	if (db_run(j->db, SQL_JOB_FAIL_ORPHANS, "sdi", ORPHAN_RESULT, now,
	    lease) == DB_OK && (n = db_affected(j->db, SQL_JOB_FAIL_ORPHANS)) > 0) {
		log_warn("%lld running job(s) failed: their runner stopped "
		    "renewing its lease %lld s ago", n, lease);
		jobd_wake_waiters(j->conf);
	}
	if (db_run(j->db, SQL_JOB_REQUEUE_ORPHANS, "i", lease) == DB_OK &&
	    (n = db_affected(j->db, SQL_JOB_REQUEUE_ORPHANS)) > 0)
		log_warn("%lld claimed job(s) requeued: claimed over %lld s ago "
		    "and never started", n, lease);
	if (db_run(j->db, SQL_JOB_EXPIRE, "sdd", EXPIRED_RESULT, now, now) ==
	    DB_OK && (n = db_affected(j->db, SQL_JOB_EXPIRE)) > 0) {
		log_info("%lld queued job(s) cancelled: past their deadline", n);
		jobd_wake_waiters(j->conf);
	}
}

/*
 * Remove spool directory name (a runner that died left its work tree,
 * e.g. mkiso's <job>.work) in a child of its own; reaped with the runners.
 */
static void
jobd_spool_rmdir(const struct conf *conf, const char *name)
{
	char		 path[PATH_MAX], err[256];
	const char	*rm[] = { "/bin/rm", "-rf", "--", path, NULL };
	pid_t		 pid;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", conf->jobd_spool,
	    name) >= sizeof(path))
		return;
	/* posix_spawn's argv is char *const[] for history's sake: unchanged. */
	if (tool_spawn((char *const *)(uintptr_t)rm, -1, -1, NULL, &pid, err,
	    sizeof(err)) == -1)
		log_warn("spool: %s", err);
}

/*
 * Remove exec output files (and work trees runners left) older than
 * [jobd] spool_keep.  Their jobs stay; GET /batch/<ID>/output/<node>
 * then says the output is gone.
 */
static void
jobd_spool_clean(const struct conf *conf)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	double		 cut = time_now() - conf->jobd_spool_keep;

	if (conf->jobd_spool == NULL || (d = opendir(conf->jobd_spool)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    (double)st.st_mtime >= cut)
			continue;
		if (S_ISREG(st.st_mode))
			(void)unlinkat(dirfd(d), de->d_name, 0);
		else if (S_ISDIR(st.st_mode))
			jobd_spool_rmdir(conf, de->d_name);
	}
	closedir(d);
}

/*
 * Fork a companion of jobd that dies with it (PR_SET_PDEATHSIG): the
 * waiter, the managed dnsmasq.  Returns its pid in jobd, 0 in the child
 * (signals as a runner has them), -1 when fork fails (logged).
 */
static pid_t
companion_fork(const char *what)
{
	sigset_t	 all, old;
	pid_t		 pid;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == -1)
		log_err("fork for %s: %s", what, strerror(errno));
	else if (pid == 0) {
		runner_detach(&old);
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(0);	/* jobd died before the line above */
		return 0;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}

/*
 * Start the waiter (jobwait.c) unless it runs.  It dies with jobd
 * (PR_SET_PDEATHSIG), so a restarted jobd never finds its socket taken;
 * the requests it held then get a 502 from nginx, and their jobs go on.
 */
static void
waiter_start(struct jobd *j)
{
	pid_t		 pid;

	if (j->waiter != 0 || time_now() - j->waiter_started <
	    WAITER_RESPAWN_SECS)
		return;
	j->waiter_started = time_now();
	if ((pid = companion_fork("the waiter")) == 0)
		_exit(jobwait_main(j->conf) == 0 ? 0 : 1);
	if (pid != -1)
		j->waiter = pid;
}

/*
 * Start the managed dnsmasq on the generated conf, in the foreground so
 * that it is jobd's child.  Like the waiter it dies with jobd
 * (PR_SET_PDEATHSIG), so a restarted jobd finds the ports free.
 */
static void
dnsmasq_start(struct jobd *j)
{
	const char	*argv[4];
	char		 arg[PATH_MAX + 32], out[PATH_MAX];
	pid_t		 pid;
	int		 fd;

	j->dnsmasq_restart = 0;
	j->dnsmasq_hup = 0;
	j->dnsmasq_started = time_now();
	dhcp_dnsmasq_argv(j->conf, argv, arg, sizeof(arg));
	snprintf(out, sizeof(out), "%s/dnsmasq.out", j->conf->boot_dnsmasq_dir);
	if ((pid = companion_fork("dnsmasq")) == -1)
		return;
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDONLY)) != -1 && fd != 0) {
			(void)dup2(fd, 0);
			close(fd);
		}
		if ((fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0640)) != -1) {
			(void)dup2(fd, 1);
			(void)dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		/* execv's argv is char *const[] for history's sake: unchanged. */
		execv(argv[0], (char *const *)(uintptr_t)argv);
		log_err("exec %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	j->dnsmasq = pid;
	log_info("dnsmasq started (pid %ld): %s %s %s", (long)pid, argv[0],
	    argv[1], argv[2]);
}

/*
 * Act on what the last regeneration wrote.  Managed: restart dnsmasq
 * for a new dnsmasq.conf, SIGHUP it for new host, option or address
 * files (never a restart per node), start it if it is not running.
 * External: SIGHUP the pid in [boot] dnsmasq_pid_file.  Returns the ms
 * until it needs to run again (INT_MAX: not before something happens).
 */
static int
dnsmasq_tend(struct jobd *j)
{
	double	 now = time_now(), wait;
	int	 changed = j->dhcp_changed;

	if (j->dhcp == NULL)
		return INT_MAX;
	j->dhcp_changed = 0;
	if (strcmp(j->conf->boot_dnsmasq, "external") == 0) {
		if (changed != 0)
			dhcp_signal_external(j->conf, changed);
		return INT_MAX;
	}
	if (j->dnsmasq != 0 && (changed & DHCP_CHANGED_CONF)) {
		log_info("dnsmasq.conf changed: restarting dnsmasq %ld",
		    (long)j->dnsmasq);
		j->dnsmasq_restart = 1;
		(void)kill(j->dnsmasq, SIGTERM);
		return INT_MAX;		/* started again when reaped */
	}
	if (j->dnsmasq != 0 && (changed & DHCP_CHANGED_HOSTS))
		j->dnsmasq_hup = 1;
	if (j->dnsmasq != 0 && j->dnsmasq_hup) {
		/* Before it sets its handler a SIGHUP would end it. */
		if ((wait = j->dnsmasq_started + DNSMASQ_SETTLE_SECS - now) > 0)
			return 1 + (int)(wait * 1000);
		(void)kill(j->dnsmasq, SIGHUP);
		j->dnsmasq_hup = 0;
	}
	if (j->dnsmasq == 0 && j->dhcp->ready) {
		if (!j->dnsmasq_restart && (wait = j->dnsmasq_started +
		    j->dnsmasq_backoff - now) > 0)
			return 1 + (int)(wait * 1000);
		dnsmasq_start(j);
	}
	return INT_MAX;
}

/*
 * One pass of database work: reconnect if needed, reap orphans now and
 * then, claim into free slots.  Returns how long to poll before the next.
 */
static int
jobd_cycle(struct jobd *j)
{
	double	 now = time_now();

	if (j->db_down && now < j->next_db_try)
		return 1 + (int)((j->next_db_try - now) * 1000);
	if (db_ready(j->db) == -1) {
		j->backoff_ms = j->backoff_ms == 0 ? j->conf->jobd_poll_ms :
		    j->backoff_ms * 2;
		if (j->backoff_ms > JOBD_BACKOFF_MAX_MS)
			j->backoff_ms = JOBD_BACKOFF_MAX_MS;
		if (!j->db_down)
			log_warn("database unreachable; retrying, at least "
			    "every %d s", JOBD_BACKOFF_MAX_MS / 1000);
		j->db_down = 1;
		j->next_db_try = now + j->backoff_ms / 1000.0;
		return j->backoff_ms;
	}
	if (j->db_down) {
		log_info("database reachable again");
		j->db_down = 0;
		j->backoff_ms = 0;
		j->next_reap = 0;
	}
	if (now >= j->next_reap) {
		jobd_leases(j);
		j->next_reap = now + JOBD_REAP_EVERY;
	}
	if (now >= j->next_spool_clean) {
		jobd_spool_clean(j->conf);
		repotree_empty_trash(j->conf);
		j->next_spool_clean = now + 60;
	}
	/* Git: repositories to make or remove, syncs whose period is up. */
	if (now >= j->next_git) {
		gitsched_pass(j->db, j->conf);
		j->next_git = now + JOBD_GIT_EVERY;
	}
	jobd_claim(j);
	if (j->dhcp != NULL) {
		j->dhcp_changed |= dhcp_poll(j->dhcp, j->db, j->conf);
		if (dhcp_next_ms(j->dhcp) < j->conf->jobd_poll_ms)
			return dhcp_next_ms(j->dhcp);
	}
	return j->conf->jobd_poll_ms;
}

static void
jobd_loop(struct jobd *j)
{
	struct pollfd	 pfd[3];
	int		 timeout, dnsmasq_ms;

	while (!got_stop) {
		if (got_hup) {
			got_hup = 0;
			log_info("SIGHUP ignored: the configuration is read "
			    "only at start");
		}
		runners_reap(j);
		waiter_start(j);
		timeout = jobd_cycle(j);
		if ((dnsmasq_ms = dnsmasq_tend(j)) < timeout)
			timeout = dnsmasq_ms;
		pfd[0].fd = j->wakefd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sigpipe[0];
		pfd[1].events = POLLIN;
		pfd[2].fd = bootev_pollfd(j->events);
		pfd[2].events = POLLIN;
		if (poll(pfd, 3, timeout) == -1 &&
		    errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			sleep(1);
		}
		/*
		 * Every queued job is seen by the next claim: one pass serves
		 * all.  A wake-up means the API just committed, so the
		 * database is back if it was away: try it at once.
		 */
		if (wake_drain(j->wakefd) > 0)
			j->next_db_try = 0;
		sigpipe_drain();
		bootev_drain(j->events, j->db_down ? NULL : j->db, j->conf);
	}
}

/*
 * Stop: claim nothing more and give running jobs JOBD_DRAIN_SECS to
 * finish.  A second SIGTERM/SIGINT stops waiting.  Runners still busy
 * after that are left to finish by themselves (see runner_detach).
 */
static void
jobd_drain(struct jobd *j)
{
	struct pollfd		 pfd;
	sig_atomic_t		 seen = got_stop;
	double			 deadline = time_now() + JOBD_DRAIN_SECS, left;
	size_t			 n;

	runners_reap(j);
	if ((n = runners_live(j)) > 0)
		log_info("stopping: waiting up to %d s for %zu running job(s)",
		    JOBD_DRAIN_SECS, n);
	while (runners_live(j) > 0 && got_stop == seen &&
	    (left = deadline - time_now()) > 0) {
		pfd.fd = sigpipe[0];
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, 1 + (int)(left * 1000));
		sigpipe_drain();
		runners_reap(j);
	}
	if ((n = runners_live(j)) > 0)
		log_warn("leaving %zu runner(s) to finish by themselves; each "
		    "renews its job's lease and writes its own result", n);
	if (j->waiter != 0)
		(void)kill(j->waiter, SIGTERM);
	if (j->dnsmasq != 0)
		(void)kill(j->dnsmasq, SIGTERM);
	log_info("stopped");
}

/*
 * Refuse to start with [power] settings the IPMI driver would refuse on
 * every job (an unknown workaround name, cipher suite 0).
 */
static int
jobd_power_check(const struct conf *c)
{
	struct power_opts	 o;
	char			 err[256];

	memset(&o, 0, sizeof(o));
	o.timeout_ms = c->power_timeout_ms;
	o.retries = c->power_retries;
	o.ipmi_version = c->power_ipmi_version;
	o.ipmi_cipher = c->power_ipmi_cipher;
	o.ipmi_priv = c->power_ipmi_priv;
	o.ipmi_workarounds = c->power_ipmi_workarounds;
	if (ipmi_opts_check(&o, err, sizeof(err)) == -1) {
		log_err("[power]: %s", err);
		return -1;
	}
	return 0;
}

/*
 * corral-jobd -c config: run queued jobs until SIGTERM or SIGINT.
 * Exit 0 after a clean stop, 1 when it cannot start (bad configuration,
 * socket in use, database schema of another version).
 */
int
main(int argc, char *argv[])
{
	struct conf	 conf;
	struct jobd	 j;
	const char	*path = NULL;
	char		 pid[24], err[256];
	int		 ch, rc = 1, room;

	while ((ch = getopt(argc, argv, "c:h")) != -1)
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(stdout, 0);
		default:
			usage(stderr, 1);
		}
	if (path == NULL || (optind != argc &&
	    strcmp(argv[optind], "boot-event") != 0))
		usage(stderr, 1);
	if (conf_load(&conf, path) == -1)
		return 1;
	if (optind != argc) {
		rc = bootev_send(&conf, argc - optind, argv + optind);
		conf_free(&conf);
		return rc;
	}
	log_open("corral-jobd", conf.jobd_log);

	memset(&j, 0, sizeof(j));
	j.conf = &conf;
	j.wakefd = -1;
	j.eventfd = -1;
	/* claimed_by is VARCHAR(253): shorten the head name, keep the pid. */
	snprintf(pid, sizeof(pid), ":%ld", (long)getpid());
	room = (int)(sizeof(j.ident) - 1 - strlen(pid));
	snprintf(j.ident, sizeof(j.ident), "%.*s%s", room, conf.head_name, pid);
	j.nslots = (size_t)conf.jobd_workers;
	j.runners = xcalloc(j.nslots, sizeof(*j.runners));

	if (signals_init() == -1)
		goto out;
	if ((j.wakefd = wake_open(conf.jobd_socket)) == -1)
		goto out;
	/* Without it boots work; only their progress goes unrecorded. */
	if ((j.eventfd = wake_open(conf.boot_event_socket)) == -1 ||
	    (j.events = bootev_start(j.eventfd)) == NULL)
		log_warn("[boot] event_socket: boot progress (dhcp, kernel, "
		    "initramfs) will not be recorded");
	/* NULL only for a schema of another version (logged); no retry mends it. */
	if ((j.db = db_open(&conf)) == NULL)
		goto out;
	/* A statement the server refuses is found now, not mid-job. */
	if (db_ready(j.db) == 0 && db_prepare_all(j.db) == -1)
		goto out;
	if (conf.jobd_spool != NULL && mkdir(conf.jobd_spool, 0750) == -1 &&
	    errno != EEXIST) {
		log_err("%s: %s", conf.jobd_spool, strerror(errno));
		goto out;
	}
	if (jobd_power_check(&conf) == -1)
		goto out;
	if (dhcp_enabled(&conf)) {
		j.dhcp = xcalloc(1, sizeof(*j.dhcp));
		if (dhcp_init(j.dhcp, &conf, path) == -1)
			goto out;
		log_info("boot network: dnsmasq %s on %s, files in %s",
		    conf.boot_dnsmasq, conf.boot_interface,
		    conf.boot_dnsmasq_dir);
	}
	/* The head's ssh key: exec and graceful power off log in with it. */
	if (ssh_key_ensure(conf.exec_key, err, sizeof(err)) == -1)
		log_warn("[exec] key: %s; exec and ssh power steps will fail",
		    err);
	log_info("started as %s: %zu workers, wake-up socket %s, poll %d ms, "
	    "lease %d s", j.ident, j.nslots, conf.jobd_socket,
	    conf.jobd_poll_ms, conf.jobd_lease);
	jobd_loop(&j);
	jobd_drain(&j);
	rc = 0;
out:
	if (j.wakefd != -1) {
		close(j.wakefd);
		(void)unlink(conf.jobd_socket);
	}
	if (j.eventfd != -1) {
		close(j.eventfd);
		(void)unlink(conf.boot_event_socket);
	}
	db_close(j.db);
	free(j.runners);
	free(j.dhcp);
	conf_free(&conf);
	return rc;
}
