/*
 * The waiter: holds the HTTP connections of synchronous calls until their
 * job ends, so no FastCGI worker ever waits on a BMC or a node.
 *
 *   client --PUT /api/v1/node/n1/power_state--> nginx --> corral-api
 *   corral-api: authorizes, queues the job, answers at once
 *       X-Accel-Redirect: /_jobwait/<job uid>?t=<seconds>&r=result
 *   nginx: internal location /_jobwait/ --proxy--> this process (unix socket)
 *   waiter: suspends the connection until the job has ended or t passed,
 *       then answers X-Accel-Redirect: /api/v1/job/<uid>/result
 *   nginx --GET /api/v1/job/<uid>/result--> corral-api, which renders the
 *       answer the endpoint would have given (the envelope, or exec's raw
 *       bytes through another redirect to the spool file).
 *
 * So the waiter renders nothing and decides nothing: it only knows when
 * to let go.  The final answer comes from the API, which checks the
 * caller's token again; a forged /_jobwait request cannot come from
 * outside (the location is internal), and even if one did, it would only
 * learn when a job ended.
 *
 * One process, one thread: libmicrohttpd (the only file that includes
 * <microhttpd.h>) in external-select mode over epoll, with suspended
 * connections costing a few hundred bytes each.  Which jobs ended is one
 * query over every waited-for job (SQL_JOB_ENDED), made at once when a
 * runner on this head wakes us (jobd_wake_waiters) and otherwise every
 * WAIT_POLL_MS, which is how jobs run by another head's jobd are seen.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "extern.h"

#define WAIT_POLL_MS		250	/* how often other heads' jobs are checked */
#define WAIT_PREFIX		"/_jobwait/"
#define WAIT_BATCH		512	/* job UIDs per SQL_JOB_ENDED query */

/* One held connection. */
struct waiting {
	struct MHD_Connection	*conn;
	char			 uid[UID_LEN + 1];
	char			 next[96];	/* where nginx goes when we let go */
	double			 deadline;
	int			 ready;		/* resumed; answer on next call */
	struct waiting		*prev, *nextw;
};

struct waiter {
	const struct conf	*conf;
	struct db		*db;
	struct waiting		*head;		/* suspended, not yet ready */
	size_t			 n;
	int			 wakefd;
	int			 check_now;
};

static volatile sig_atomic_t	 got_stop;

static void
on_stop(int sig)
{
	(void)sig;
	got_stop = 1;
}

static void
waiting_unlink(struct waiter *w, struct waiting *x)
{
	if (x->prev != NULL)
		x->prev->nextw = x->nextw;
	else if (w->head == x)
		w->head = x->nextw;
	if (x->nextw != NULL)
		x->nextw->prev = x->prev;
	x->prev = x->nextw = NULL;
	w->n--;
}

/* Let x go: nginx gets its redirect on the handler's next call. */
static void
waiting_release(struct waiter *w, struct waiting *x)
{
	waiting_unlink(w, x);
	x->ready = 1;
	MHD_resume_connection(x->conn);
}

/*
 * Parse "/_jobwait/<uid>" and the arguments t (seconds, 1 to
 * JOB_WAIT_MAX) and r ("result": let go to /job/<uid>/result, else to
 * /job/<uid>).  Returns 0 or -1.
 */
static int
waiting_parse(struct MHD_Connection *conn, const char *url, struct waiting *x)
{
	const char	*t, *r, *errstr;
	long long	 secs;

	if (strncmp(url, WAIT_PREFIX, strlen(WAIT_PREFIX)) != 0)
		return -1;
	url += strlen(WAIT_PREFIX);
	if (!uid_valid(url))
		return -1;
	memcpy(x->uid, url, UID_LEN + 1);
	t = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "t");
	secs = num_parse(t, 1, JOB_WAIT_MAX, &errstr);
	if (errstr != NULL)
		return -1;
	x->deadline = time_now() + (double)secs;
	r = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "r");
	snprintf(x->next, sizeof(x->next), "/api/v1/job/%s%s", x->uid,
	    r != NULL && strcmp(r, "result") == 0 ? "/result" : "");
	/* A gitrepo file read: its own renderer, which a public read may use. */
	if (r != NULL && strcmp(r, "git") == 0)
		snprintf(x->next, sizeof(x->next), "/api/v1/gitread/%s", x->uid);
	/* Blocking hooks answered: the route runs again, or says no. */
	if (r != NULL && strcmp(r, "hookgate") == 0)
		snprintf(x->next, sizeof(x->next), "/api/v1/_hookgate/%s",
		    x->uid);
	return 0;
}

static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned int status, const char *redirect)
{
	static const char	 notfound[] =
	    "{\"success\":false,\"reason\":\"Not found\"}\n";
	struct MHD_Response	*resp;
	enum MHD_Result		 rc;

	if (redirect != NULL)
		resp = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
		    MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_buffer(sizeof(notfound) - 1,
		    (void *)(uintptr_t)notfound, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	if (redirect != NULL)
		MHD_add_response_header(resp, "X-Accel-Redirect", redirect);
	else
		MHD_add_response_header(resp, "Content-Type",
		    "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/*
 * libmicrohttpd's request handler.  First call: parse and suspend.  Call
 * after the resume: answer with the redirect.
 */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *datasz, void **state)
{
	struct waiter	*w = cls;
	struct waiting	*x = *state;

	(void)version;
	(void)data;
	if (x != NULL && x->ready)
		return answer(conn, MHD_HTTP_OK, x->next);
	if (*datasz != 0) {
		*datasz = 0;	/* nginx sends no body; ignore any */
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0)
		return answer(conn, MHD_HTTP_NOT_FOUND, NULL);
	x = xcalloc(1, sizeof(*x));
	if (waiting_parse(conn, url, x) == -1) {
		free(x);
		return answer(conn, MHD_HTTP_NOT_FOUND, NULL);
	}
	x->conn = conn;
	x->nextw = w->head;
	if (w->head != NULL)
		w->head->prev = x;
	w->head = x;
	w->n++;
	*state = x;
	w->check_now = 1;	/* it may have ended already */
	MHD_suspend_connection(conn);
	return MHD_YES;
}

/* libmicrohttpd is done with a connection: free what we hung on it. */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **state,
    enum MHD_RequestTerminationCode why)
{
	struct waiter	*w = cls;
	struct waiting	*x = *state;

	(void)conn;
	(void)why;
	if (x == NULL)
		return;
	if (!x->ready)
		waiting_unlink(w, x);
	free(x);
	*state = NULL;
}

/*
 * Ask the database which waited-for jobs have ended, WAIT_BATCH at a
 * time, and let those go.  A database that cannot answer just means
 * waiting longer; deadlines still let everyone go.
 */
static void
waiter_check(struct waiter *w)
{
	struct waiting	*x, *next, *from = w->head;
	json_t		*uids;
	char		*text, *uid;
	size_t		 k;

	while (from != NULL) {
		uids = json_array();
		for (x = from, k = 0; x != NULL && k < WAIT_BATCH; x = x->nextw, k++)
			json_array_append_new(uids, json_string(x->uid));
		text = json_dumps(uids, JSON_COMPACT);
		json_decref(uids);
		if (text == NULL || db_run(w->db, SQL_JOB_ENDED, "s", text) !=
		    DB_OK) {
			free(text);
			db_done(w->db, SQL_JOB_ENDED);
			return;
		}
		free(text);
		/* Collect first: releasing unlinks, and from must stay valid. */
		for (k = 0, x = from; x != NULL && k < WAIT_BATCH; x = x->nextw, k++)
			continue;
		next = x;
		while (db_next(w->db, SQL_JOB_ENDED, "s", &uid) == DB_OK) {
			for (x = from; x != NULL && x != next; x = x->nextw)
				if (strcmp(x->uid, uid) == 0)
					break;
			free(uid);
			if (x != NULL && x != next) {
				if (x == from)
					from = x->nextw;
				waiting_release(w, x);
			}
		}
		db_done(w->db, SQL_JOB_ENDED);
		from = next;
	}
}

/* Let go of everyone whose wait has run out; the API says what it is. */
static void
waiter_deadlines(struct waiter *w)
{
	struct waiting	*x, *next;
	double		 now = time_now();

	for (x = w->head; x != NULL; x = next) {
		next = x->nextw;
		if (now >= x->deadline)
			waiting_release(w, x);
	}
}

/* Bind the wake-up datagram socket at "<wait_socket>.wake". */
static int
waiter_wake_open(const struct conf *conf)
{
	char	 path[512];
	int	 fd;

	snprintf(path, sizeof(path), "%s.wake", conf->jobd_wait_socket);
	(void)unlink(path);
	if ((fd = unix_bind(path, SOCK_DGRAM)) == -1)
		return -1;
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/*
 * The waiter process: serve [jobd] wait_socket until SIGTERM (or jobd's
 * death, which sends it).  Returns 0 after a stop, -1 when it cannot
 * start.
 */
int
jobwait_main(const struct conf *conf)
{
	struct waiter		 w;
	struct MHD_Daemon	*d = NULL;
	const union MHD_DaemonInfo *info;
	struct sigaction	 sa;
	struct pollfd		 pfd[2];
	MHD_UNSIGNED_LONG_LONG	 mhd_ms;
	char			 buf[64];
	double			 next_poll = 0, now;
	int			 lfd = -1, timeout, rc = -1;

	memset(&w, 0, sizeof(w));
	w.conf = conf;
	w.wakefd = -1;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (conf->jobd_wait_socket == NULL) {
		log_err("waiter: [jobd] wait_socket is not set");
		return -1;
	}
	(void)unlink(conf->jobd_wait_socket);
	if ((lfd = unix_bind(conf->jobd_wait_socket, SOCK_STREAM)) == -1)
		goto out;
	if (listen(lfd, 1024) == -1 || fcntl(lfd, F_SETFL, O_NONBLOCK) == -1) {
		log_err("waiter: %s: %s", conf->jobd_wait_socket, strerror(errno));
		goto out;
	}
	if ((w.wakefd = waiter_wake_open(conf)) == -1)
		goto out;
	if ((w.db = db_open(conf)) == NULL)
		goto out;
	d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, &w,
	    MHD_OPTION_LISTEN_SOCKET, lfd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16384,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)0,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, &w,
	    MHD_OPTION_END);
	if (d == NULL ||
	    (info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD)) == NULL) {
		log_err("waiter: libmicrohttpd would not start on %s",
		    conf->jobd_wait_socket);
		goto out;
	}
	lfd = -1;	/* the daemon's now */
	log_info("waiter listening on %s", conf->jobd_wait_socket);

	while (!got_stop) {
		now = time_now();
		if (w.n > 0 && (w.check_now || now >= next_poll)) {
			if (db_ready(w.db) == 0)
				waiter_check(&w);
			w.check_now = 0;
			next_poll = now + WAIT_POLL_MS / 1000.0;
		}
		waiter_deadlines(&w);
		MHD_run(d);
		timeout = w.n > 0 ? WAIT_POLL_MS : 1000;
		if (MHD_get_timeout(d, &mhd_ms) == MHD_YES &&
		    mhd_ms < (MHD_UNSIGNED_LONG_LONG)timeout)
			timeout = (int)mhd_ms;
		pfd[0].fd = info->epoll_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = w.wakefd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, timeout) == -1 && errno != EINTR) {
			log_err("waiter: poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents & POLLIN) {
			while (recv(w.wakefd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
				continue;
			w.check_now = 1;
		}
	}
	/* libmicrohttpd stops only with no connection suspended. */
	while (w.head != NULL)
		waiting_release(&w, w.head);
	MHD_run(d);
	rc = 0;
out:
	if (d != NULL)
		MHD_stop_daemon(d);
	if (lfd != -1)
		close(lfd);
	if (w.wakefd != -1)
		close(w.wakefd);
	db_close(w.db);
	return rc;
}
