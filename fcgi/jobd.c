/*
 * corral-jobd: the job runner.
 *
 * The API inserts a row into jobs (state 'queued'), commits, and sends a
 * one-byte datagram to jobd's wake-up socket.  jobd claims queued rows in
 * one transaction ('claimed', claimed_by = "<head>:<pid>", attempts + 1)
 * and forks one runner per claimed job, never more than [jobd] workers at
 * once.  A runner opens its own database connection, takes the advisory
 * lock corral-job-<id>, moves the row to 'running', runs the job kind and
 * writes 'done' or 'failed' with the result.  It holds the lock for the
 * whole run; the server releases it when the runner's connection closes,
 * which is when the runner exits, however it exits.
 *
 * That lock is how jobs survive jobd's death without being lost or run
 * twice.  The reaper (in jobd, at start and about once a second) looks at
 * every unfinished row that is not one of its own live runners:
 *   - 'running' with the lock free: the runner died mid-job.  What it did
 *     cannot be known, so the job is failed, not retried.
 *   - 'claimed' for more than JOBD_CLAIM_STALE seconds with the lock free:
 *     its runner never started it (jobd died between claim and fork, or
 *     the runner could not reach the database).  Nothing ran, so the row
 *     goes back to 'queued' and will run exactly once later.  A runner that
 *     was merely slow finds the row no longer 'claimed' and steps back.
 * A runner whose jobd is killed keeps running (see runner_detach), writes
 * its own result, and holds its lock meanwhile, so the next jobd's reaper
 * leaves it alone.
 *
 * The wake-up socket only makes jobs start at once; a lost datagram costs
 * at most [jobd] poll_ms, the fallback poll interval.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "extern.h"

#define JOB_LOCK_FMT		"corral-job-%lld"
#define JOBD_CLAIM_STALE	10.0	/* s a 'claimed' row may wait for its runner */
#define JOBD_REAP_EVERY		1.0	/* s between reaper passes */
/*
 * How long SIGTERM waits for running jobs.  Under 30 s because
 * scripts/corral-run sends SIGKILL after 30 s, and exiting by ourselves
 * logs what was left running.
 */
#define JOBD_DRAIN_SECS		25
#define JOBD_BACKOFF_MAX_MS	10000	/* longest wait between reconnects */
#define RUNNER_FINISH_TRIES	30	/* writing a result while the db is gone */
#define RUNNER_FINISH_WAIT	2	/* s between those tries */

/* The orphan's result: what a reader of GET /job/<id> sees. */
#define ORPHAN_RESULT	"{\"error\":\"runner died before finishing; not retried\"}"

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
	struct runner		*runners;	/* conf->jobd_workers slots */
	size_t			 nslots;
	int			 db_down;	/* logged as unreachable */
	int			 backoff_ms;
	double			 next_db_try;
	double			 next_reap;
};

static volatile sig_atomic_t	 got_stop;	/* SIGTERM/SIGINT count */
static volatile sig_atomic_t	 got_hup;
static int			 sigpipe[2] = { -1, -1 };	/* self-pipe */

static void __attribute__((noreturn))
usage(FILE *f, int status)
{
	fprintf(f, "usage: corral-jobd -c config\n");
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

static size_t
runners_live(const struct jobd *j)
{
	size_t	 i, n = 0;

	for (i = 0; i < j->nslots; i++)
		if (j->runners[i].pid != 0)
			n++;
	return n;
}

static int
runner_is_ours(const struct jobd *j, long long id)
{
	size_t	 i;

	for (i = 0; i < j->nslots; i++)
		if (j->runners[i].pid != 0 && j->runners[i].id == id)
			return 1;
	return 0;
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
 * Write the job's outcome.  A result in hand is worth waiting for, so a
 * lost database connection is retried for a while before giving up.
 */
static void
runner_finish(struct db *db, long long id, const char *state, const char *result)
{
	enum dbrc	 rc;
	double		 at = time_now();
	int		 tries;

	/* The same time each try: a second run must match the first's row. */
	for (tries = 1; ; tries++) {
		rc = db_run(db, SQL_JOB_FINISH, "ssdisd", state, result, at, id,
		    state, at);
		if (rc != DB_GONE || tries == RUNNER_FINISH_TRIES)
			break;
		sleep(RUNNER_FINISH_WAIT);
	}
	if (rc != DB_OK)
		log_err("job %lld: could not write its result (%s); the reaper "
		    "will mark it failed", id, state);
	else if (db_affected(db, SQL_JOB_FINISH) == 0)
		log_warn("job %lld: no longer running (declared orphaned while "
		    "the database was away); result %s discarded", id, state);
}

/*
 * The runner child: run job id and exit.  Never returns.  Exit status 0
 * when the job was run or rightly left alone, 1 when the database did
 * not let it get that far (the row then stays 'claimed' and the reaper
 * requeues it).
 */
static void __attribute__((noreturn))
runner_main(const struct conf *conf, long long id, const sigset_t *oldmask)
{
	const struct jobkind	*kind;
	struct db		*db = NULL;
	json_t			*params = NULL, *result = NULL, *fail = NULL;
	json_error_t		 jerr;
	char			 lock[64], err[512];
	char			*kname = NULL, *ptext = NULL, *rtext = NULL;
	const char		*state;
	long long		 got = 0;
	double			 t0;
	int			 status = 1;

	runner_detach(oldmask);
	/* Our own connection: the lock lives exactly as long as it does. */
	if ((db = db_open(conf)) == NULL || db_ready(db) == -1) {
		log_warn("job %lld: no database; left claimed for the reaper", id);
		goto out;
	}
	snprintf(lock, sizeof(lock), JOB_LOCK_FMT, id);
	if (db_run(db, SQL_JOB_LOCK, "s", lock) != DB_OK ||
	    db_next(db, SQL_JOB_LOCK, "i", &got) != DB_OK) {
		db_done(db, SQL_JOB_LOCK);
		goto out;
	}
	db_done(db, SQL_JOB_LOCK);
	status = 0;
	if (got != 1) {
		log_warn("job %lld: %s is held by another runner; leaving it",
		    id, lock);
		goto out;
	}
	if (db_run(db, SQL_JOB_START, "di", time_now(), id) != DB_OK) {
		status = 1;
		goto out;
	}
	if (db_affected(db, SQL_JOB_START) == 0) {
		log_warn("job %lld: no longer claimed (requeued); leaving it", id);
		goto out;
	}
	t0 = time_now();
	/* From here the row is 'running': leaving early means 'failed'. */
	if (db_run(db, SQL_JOB_LOAD, "i", id) != DB_OK ||
	    db_next(db, SQL_JOB_LOAD, "ss", &kname, &ptext) != DB_OK) {
		db_done(db, SQL_JOB_LOAD);
		status = 1;
		goto out;
	}
	db_done(db, SQL_JOB_LOAD);
	log_info("job %lld (%s) started", id, kname);

	err[0] = '\0';
	if ((kind = jobkind_find(kname)) == NULL)
		snprintf(err, sizeof(err), "unknown job kind");
	else if ((params = json_loads(ptext, JSON_DECODE_ANY |
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		snprintf(err, sizeof(err), "parameters are not valid JSON");
	/*
	 * 16 significant digits: epoch seconds keep their microseconds, and
	 * 0.2 reads 0.2 rather than jansson's default 0.20000000000000001.
	 */
	else if ((result = kind->run(params, err, sizeof(err))) != NULL &&
	    (rtext = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(16))) == NULL)
		snprintf(err, sizeof(err), "result could not be encoded");

	if (rtext != NULL)
		state = "done";
	else {
		state = "failed";
		if (err[0] == '\0')
			snprintf(err, sizeof(err), "failed without a reason");
		fail = json_pack("{s:s}", "error", err);
		rtext = fail != NULL ? json_dumps(fail, JSON_COMPACT) : NULL;
		if (rtext == NULL)
			rtext = xstrdup("{\"error\":\"unrepresentable error\"}");
	}
	runner_finish(db, id, state, rtext);
	log_info("job %lld (%s) %s in %.3f s%s%s", id, kname, state,
	    time_now() - t0, *state == 'f' ? ": " : "", *state == 'f' ? err : "");
out:
	json_decref(params);
	json_decref(result);
	json_decref(fail);
	free(rtext);
	free(kname);
	free(ptext);
	/* Ends the connection and with it the lock. */
	db_close(db);
	/* Nothing of jobd's (atexit handlers, stdio buffers) may run here. */
	_exit(status);
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
	if (pid == 0)
		runner_main(j->conf, id, &old);
	/* Also here, so a Ctrl-C right after fork(2) cannot reach the child. */
	(void)setpgid(pid, pid);
	sigprocmask(SIG_SETMASK, &old, NULL);
	j->runners[i].pid = pid;
	j->runners[i].id = id;
	j->runners[i].forked_at = time_now();
}

/*
 * Claim as many queued jobs as there are free slots, in one transaction,
 * then start a runner for each.
 */
static void
jobd_claim(struct jobd *j)
{
	long long	*ids = NULL, id;
	size_t		 nfree, n = 0, i, k;
	double		 now = time_now();

	if ((nfree = j->nslots - runners_live(j)) == 0)
		return;
	ids = xcalloc(nfree, sizeof(*ids));
	if (db_begin(j->db) != DB_OK)
		goto out;
	if (db_run(j->db, SQL_JOB_CLAIMABLE, "i", (long long)nfree) != DB_OK) {
		db_done(j->db, SQL_JOB_CLAIMABLE);
		goto fail;
	}
	while (n < nfree &&
	    db_next(j->db, SQL_JOB_CLAIMABLE, "i", &id) == DB_OK)
		ids[n++] = id;
	db_done(j->db, SQL_JOB_CLAIMABLE);
	if (n == 0) {
		db_rollback(j->db);
		goto out;
	}
	for (i = k = 0; i < n; i++) {
		if (db_run(j->db, SQL_JOB_CLAIM, "sdi", j->ident, now,
		    ids[i]) != DB_OK)
			goto fail;
		/* The row is locked FOR UPDATE, so this should not happen. */
		if (db_affected(j->db, SQL_JOB_CLAIM) == 1)
			ids[k++] = ids[i];
	}
	if (db_commit(j->db) != DB_OK) {
		/*
		 * The commit may have happened all the same; then the rows
		 * are 'claimed' without a runner and the reaper requeues them.
		 */
		goto fail;
	}
	for (i = 0; i < k; i++)
		runner_start(j, ids[i]);
	goto out;
fail:
	db_rollback(j->db);
out:
	free(ids);
}

/*
 * Mend what dead runners left behind: fail 'running' jobs whose runner is
 * gone, requeue 'claimed' jobs no runner ever started.  See the top of
 * this file for why each is safe.
 */
static void
jobd_reap_orphans(struct jobd *j)
{
	struct orphan {
		long long	 id;
		int		 running;
		double		 claimed_at;
	}		*rows = NULL;
	size_t		 n = 0, cap = 0, i;
	long long	 id, isfree;
	double		 claimed_at, now;
	char		*state = NULL, lock[64];

	if (db_run(j->db, SQL_JOB_UNFINISHED, "") != DB_OK) {
		db_done(j->db, SQL_JOB_UNFINISHED);
		return;
	}
	while (db_next(j->db, SQL_JOB_UNFINISHED, "isd", &id, &state,
	    &claimed_at) == DB_OK) {
		if (!runner_is_ours(j, id) && state != NULL) {
			if (n == cap) {
				struct orphan	*grown;

				cap = cap == 0 ? 16 : cap * 2;
				grown = xcalloc(cap, sizeof(*grown));
				if (n > 0)
					memcpy(grown, rows, n * sizeof(*rows));
				free(rows);
				rows = grown;
			}
			rows[n].id = id;
			rows[n].running = strcmp(state, "running") == 0;
			rows[n].claimed_at = claimed_at;
			n++;
		}
		free(state);
		state = NULL;
	}
	db_done(j->db, SQL_JOB_UNFINISHED);

	now = time_now();
	for (i = 0; i < n; i++) {
		if (!rows[i].running && now - rows[i].claimed_at < JOBD_CLAIM_STALE)
			continue;
		snprintf(lock, sizeof(lock), JOB_LOCK_FMT, rows[i].id);
		isfree = 0;
		if (db_run(j->db, SQL_JOB_LOCK_FREE, "s", lock) != DB_OK ||
		    db_next(j->db, SQL_JOB_LOCK_FREE, "i", &isfree) != DB_OK)
			isfree = 0;
		db_done(j->db, SQL_JOB_LOCK_FREE);
		if (isfree != 1)
			continue;
		if (rows[i].running) {
			if (db_run(j->db, SQL_JOB_FAIL_ORPHAN, "sdi", ORPHAN_RESULT,
			    now, rows[i].id) == DB_OK &&
			    db_affected(j->db, SQL_JOB_FAIL_ORPHAN) == 1)
				log_warn("job %lld failed: its runner died before "
				    "finishing", rows[i].id);
		} else {
			if (db_run(j->db, SQL_JOB_REQUEUE_ORPHAN, "i",
			    rows[i].id) == DB_OK &&
			    db_affected(j->db, SQL_JOB_REQUEUE_ORPHAN) == 1)
				log_warn("job %lld requeued: claimed %.0f s ago "
				    "and never started", rows[i].id,
				    now - rows[i].claimed_at);
		}
	}
	free(rows);
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
		jobd_reap_orphans(j);
		j->next_reap = now + JOBD_REAP_EVERY;
	}
	jobd_claim(j);
	return j->conf->jobd_poll_ms;
}

static void
jobd_loop(struct jobd *j)
{
	struct pollfd	 pfd[2];
	int		 timeout;

	while (!got_stop) {
		if (got_hup) {
			got_hup = 0;
			log_info("SIGHUP ignored: the configuration is read "
			    "only at start");
		}
		runners_reap(j);
		timeout = jobd_cycle(j);
		pfd[0].fd = j->wakefd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sigpipe[0];
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, timeout) == -1 && errno != EINTR) {
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
		    "holds its job's lock and writes its own result", n);
	log_info("stopped");
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
	char		 pid[24];
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
	if (optind != argc || path == NULL)
		usage(stderr, 1);
	if (conf_load(&conf, path) == -1)
		return 1;
	log_open("corral-jobd", conf.jobd_log);

	memset(&j, 0, sizeof(j));
	j.conf = &conf;
	j.wakefd = -1;
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
	/* NULL only for a schema of another version (logged); no retry mends it. */
	if ((j.db = db_open(&conf)) == NULL)
		goto out;
	log_info("started as %s: %zu workers, wake-up socket %s, poll %d ms",
	    j.ident, j.nslots, conf.jobd_socket, conf.jobd_poll_ms);
	jobd_loop(&j);
	jobd_drain(&j);
	rc = 0;
out:
	if (j.wakefd != -1) {
		close(j.wakefd);
		(void)unlink(conf.jobd_socket);
	}
	db_close(j.db);
	free(j.runners);
	conf_free(&conf);
	return rc;
}
