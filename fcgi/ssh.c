/*
 * corral-jobd: running a command on a node over SSH.  The only file that
 * runs ssh(1) (OpenSSH's client, spawned with an argv, never a shell).
 *
 * Nothing of the user's or the system's SSH setup takes part: -F /dev/null
 * drops both config files, the one identity is the key corral passes, no
 * agent is asked, and host keys are checked against a known_hosts file
 * written for this one run from what the caller keeps in the database
 * (corral runs on several heads, so the database is the only place every
 * head sees).  HostKeyAlias is the node's UID, so a host key belongs to the
 * node, not to whatever address it has today.  With no key known yet the
 * first key seen is accepted and handed back (trust on first use); with
 * one known, any other is refused before login, so nothing runs.
 *
 * ssh's own messages go to a log file (-E), apart from the command's
 * output, at LogLevel DEBUG1 (ERROR would hide the lines that matter).
 * That log is how a failure to connect is told from a command that ran:
 * ssh exits 255 both when it fails and when the remote command exits 255,
 * but only in the second case does the log record the server's
 * exit-status.  The limits: a command that ended while the connection was
 * lost before its status arrived has no status (-1), and a node's sshd
 * could lie about the status as it could about the output.  At that level
 * ssh also prints a server's login banner on stderr; whatever comes on
 * stderr before the command was sent is dropped.
 *
 * Killing ssh (time limit, output cap) ends the connection, not
 * necessarily the remote command: without a terminal sshd only closes the
 * command's stdio, so a command that neither reads nor writes may run on.
 * A caller that needs a hard bound on the node wraps cmd in timeout(1).
 */
/* _GNU_SOURCE for vasprintf(3). */
#define _GNU_SOURCE

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

#define SSH_BIN			"/usr/bin/ssh"
#define SSH_KEYGEN_BIN		"/usr/bin/ssh-keygen"
#define SSH_CONNECT_TIMEOUT	10	/* s when the caller gives none */
#define SSH_LOGIN_GRACE		20	/* s after ConnectTimeout for key exchange and login */
#define SSH_KILL_GRACE		2.0	/* s between SIGTERM and SIGKILL */
#define SSH_IOBUF		65536
#define SSH_NAME_MAX		255
#define SSH_USER_MAX		32
#define SSH_LINE_MAX		1024	/* a log line we look at; longer ones are cut */
#define SSH_DETAIL_MAX		160	/* ssh's own words quoted in a reason */

/* What ssh's log says about a run. */
struct sshlog {
	int	 authenticated;	/* login done */
	int	 started;	/* the command was sent */
	int	 status;	/* the server sent the command's exit-status */
	int	 signal;	/* the server sent exit-signal */
	int	 key_changed;	/* a host key other than the known one */
	int	 key_failed;	/* "Host key verification failed." */
	char	 last[SSH_DETAIL_MAX + 1];	/* ssh's last complaint, sanitized */
};

/* An argv for posix_spawn, every element its own allocation. */
struct args {
	char	**v;
	size_t	  n, cap;
};

static void	 args_add(struct args *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Monotonic seconds: deadlines must not move with the wall clock. */
static double
mono_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
args_add(struct args *a, const char *fmt, ...)
{
	va_list	 ap;

	if (a->n + 2 > a->cap) {
		a->cap = a->cap == 0 ? 64 : a->cap * 2;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	va_start(ap, fmt);
	if (vasprintf(&a->v[a->n], fmt, ap) == -1)
		abort();
	va_end(ap);
	a->v[++a->n] = NULL;
}

static void
args_free(struct args *a)
{
	size_t	 i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

/*
 * Whether s is 1..max characters of letters, digits and extra, not
 * starting with '-'.  Everything that reaches ssh's argv or an -o value
 * passes here: ssh expands '%' and '~' in some values and reads a leading
 * '-' as an option, and a space would split an -o value.
 */
static int
safe_word(const char *s, const char *extra, size_t max)
{
	size_t	 i;

	if (s == NULL || *s == '\0' || *s == '-')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= max)
			return 0;
		if (!isalnum((unsigned char)s[i]) && strchr(extra, s[i]) == NULL)
			return 0;
	}
	return 1;
}

/* A path ssh takes as it is (no '%' tokens, no '~', no spaces). */
static int
safe_path(const char *s)
{
	return safe_word(s, "/._+-", PATH_MAX - 1);
}

/* Whether s is printable ASCII lines. */
static int
valid_known(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != '\n' && (*s < 0x20 || *s > 0x7e))
			return 0;
	return 1;
}

/* Whether every line of known is "alias keytype key": a line for alias. */
static int
known_for(const char *known, const char *alias)
{
	const char	*line;
	size_t		 alen = strlen(alias);

	if (!valid_known(known))
		return 0;
	for (line = known; line != NULL && *line != '\0'; ) {
		if (strncmp(line, alias, alen) != 0 || line[alen] != ' ')
			return 0;
		if ((line = strchr(line, '\n')) != NULL)
			line++;
	}
	return 1;
}

/*
 * Make *fd close-on-exec and at least 3, so that dup2 onto 0, 1 or 2 in
 * the child never meets the descriptor itself (a caller may have closed
 * its stdio).  Returns 0 or -1 with errno set.
 */
static int
fd_prep(int *fd)
{
	int	 nfd;

	if (*fd > 2)
		return fcntl(*fd, F_SETFD, FD_CLOEXEC);
	if ((nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3)) == -1)
		return -1;
	close(*fd);
	*fd = nfd;
	return 0;
}

static void
fd_close(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

/*
 * Start ssh (argv) with in, out and err as its stdio (-1: /dev/null), as
 * tool.c starts any program: its own process group, default signals, no
 * SSH_AUTH_SOCK nor locale (ssh's messages are parsed), no other
 * descriptor.  Returns 0 with *pid set, or an errno.
 */
static int
spawn(char *const argv[], int in, int out, int err, pid_t *pid)
{
	const int	 fds[3] = { in, out, err };

	return tool_spawn_fds(argv, fds, pid);
}

/*
 * Wait for pid until deadline (monotonic; 0: for ever).  Returns 0 with
 * *status set when it ended, 1 when the deadline came first.
 */
static int
reap(pid_t pid, double deadline, int *status)
{
	struct timespec	 nap = { 0, 10 * 1000 * 1000 };
	pid_t		 r;

	for (;;) {
		r = waitpid(pid, status, deadline > 0 ? WNOHANG : 0);
		if (r == pid)
			return 0;
		if (r == -1 && errno != EINTR) {
			/* Someone else reaped it: nothing left to wait for. */
			log_warn("ssh: waitpid %ld: %s", (long)pid,
			    strerror(errno));
			*status = 0xff00;
			return 0;
		}
		if (deadline > 0 && mono_now() >= deadline)
			return 1;
		if (r == 0)
			nanosleep(&nap, NULL);
	}
}

/*
 * End pid's process group: SIGTERM, a grace period, SIGKILL.  Reaps pid.
 * The group is only signalled while pid is unreaped, so its id cannot
 * have been reused.
 */
static void
kill_group(pid_t pid, int *status)
{
	(void)kill(-pid, SIGTERM);
	if (reap(pid, mono_now() + SSH_KILL_GRACE, status) == 0)
		return;
	(void)kill(-pid, SIGKILL);
	(void)reap(pid, 0, status);
}

/* Copy s into the reason detail: printable ASCII only, bounded. */
static void
detail_set(char *dst, const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0' && s[i] != '\r' && s[i] != '\n' &&
	    i < SSH_DETAIL_MAX; i++)
		dst[i] = s[i] >= 0x20 && s[i] <= 0x7e ? s[i] : '?';
	dst[i] = '\0';
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Read ssh's log at path into *lg.  Only ssh's own lines count: a line the
 * server sent is logged as "debug1: Remote: ..." and matches none of
 * these.  ssh logs the command as it is, newlines and all, so once it was
 * sent only the status lines are looked at (a command that prints a fake
 * one into the log can only misreport its own status).  Lines are read
 * one at a time, so the log's size does not matter.
 */
static void
log_scan(const char *path, struct sshlog *lg)
{
	FILE	*f;
	char	 line[SSH_LINE_MAX];
	size_t	 len;
	int	 cut = 0, head;

	memset(lg, 0, sizeof(*lg));
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		/* The tail of a long line is not a line of its own. */
		head = !cut;
		len = strlen(line);
		cut = len > 0 && line[len - 1] != '\n';
		if (!head)
			continue;
		if (lg->started) {
			if (!starts(line, "debug1: client_input_channel_req: "))
				continue;
			if (strstr(line, " rtype exit-status ") != NULL)
				lg->status = 1;
			else if (strstr(line, " rtype exit-signal ") != NULL)
				lg->signal = 1;
		} else if (starts(line, "debug1: Sending command: "))
			lg->started = 1;
		else if (starts(line, "debug"))
			continue;
		else if (starts(line, "Authenticated to "))
			lg->authenticated = 1;
		else if (starts(line, "Host key for ") &&
		    strstr(line, " has changed") != NULL)
			lg->key_changed = 1;
		else if (strstr(line, "REMOTE HOST IDENTIFICATION HAS CHANGED"))
			lg->key_changed = 1;
		else if (starts(line, "Host key verification failed"))
			lg->key_failed = 1;
		else if (line[0] == '@' || starts(line, "Warning: Permanently") ||
		    starts(line, "Transferred: ") ||
		    starts(line, "Bytes per second: "))
			continue;
		else
			detail_set(lg->last, line);
	}
	fclose(f);
}

/*
 * Why ssh could not run the command, from its log, in words for an API
 * reply: which host, what happened, never a path, a key or the command.
 */
static void
reason_from_log(const struct ssh_target *t, int port, int timeout,
    const struct sshlog *lg, char *err, size_t errsz)
{
	const char	*d = lg->last;

	if (lg->key_changed || (lg->key_failed && t->known != NULL))
		snprintf(err, errsz, "host key of %s changed; an admin must "
		    "clear it with DELETE /node/%s/hostkey", t->alias, t->alias);
	else if (lg->key_failed)
		snprintf(err, errsz, "host key of %s could not be verified",
		    t->alias);
	else if (strstr(d, "Connection refused") != NULL)
		snprintf(err, errsz, "%s port %d refused the connection",
		    t->host, port);
	else if (strstr(d, "timed out") != NULL)
		snprintf(err, errsz, "no answer from %s port %d within %d s",
		    t->host, port, timeout);
	else if (strstr(d, "No route to host") != NULL ||
	    strstr(d, "Network is unreachable") != NULL)
		snprintf(err, errsz, "no route to %s", t->host);
	else if (strstr(d, "Could not resolve hostname") != NULL)
		snprintf(err, errsz, "cannot resolve %s", t->host);
	else if (strstr(d, "Permission denied") != NULL)
		snprintf(err, errsz, "%s refused corral's key for user %s",
		    t->host, t->user);
	else if (strstr(d, "Connection closed") != NULL ||
	    strstr(d, "Connection reset") != NULL ||
	    strstr(d, "kex_exchange_identification") != NULL)
		snprintf(err, errsz, "%s port %d closed the connection before "
		    "login", t->host, port);
	else if (lg->authenticated)
		snprintf(err, errsz, "ssh to %s port %d failed after login%s%s",
		    t->host, port, *d != '\0' ? ": " : "", d);
	else if (*d != '\0')
		snprintf(err, errsz, "ssh to %s port %d failed: %s", t->host,
		    port, d);
	else
		snprintf(err, errsz, "ssh to %s port %d failed", t->host, port);
}

/* Remove dir and the files in it (ssh may have left its own there). */
static void
tmpdir_remove(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		*p;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			xasprintf(&p, "%s/%s", dir, de->d_name);
			(void)unlink(p);
			free(p);
		}
		closedir(d);
	}
	if (rmdir(dir) == -1)
		log_warn("ssh: rmdir %s: %s", dir, strerror(errno));
}

/* Write s and a newline to a new file at path, mode 0600. */
static int
file_write(const char *path, const char *s)
{
	int	 fd, rc = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if (write_all(fd, s, strlen(s)) == 0 &&
	    (*s == '\0' || write_all(fd, "\n", 1) == 0))
		rc = 0;
	if (close(fd) == -1)
		rc = -1;
	return rc;
}

/*
 * The lines ssh added to the known_hosts file at path for alias, without
 * the last newline (new allocation), or NULL if there are none.
 */
static char *
learned_read(const char *path, const char *alias)
{
	FILE	*f;
	char	 line[8192];
	char	*out = NULL, *tmp;
	size_t	 alen = strlen(alias), len;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		/* "alias keytype base64": anything else is not ours. */
		if (strncmp(line, alias, alen) != 0 || line[alen] != ' ' ||
		    !valid_known(line))
			continue;
		if (out == NULL)
			out = xstrdup(line);
		else {
			xasprintf(&tmp, "%s\n%s", out, line);
			free(out);
			out = tmp;
		}
	}
	fclose(f);
	return out;
}

/*
 * The directory for one run's known_hosts and log: under $TMPDIR when
 * that is a path ssh takes as it is, else /tmp.  New allocation or NULL.
 */
static char *
tmpdir_make(void)
{
	const char	*base = getenv("TMPDIR");
	char		*dir;

	if (base == NULL || *base != '/' || !safe_path(base) ||
	    strlen(base) > 512)
		base = "/tmp";
	xasprintf(&dir, "%s/corral-ssh.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		log_err("ssh: mkdtemp %s: %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

/* The state of one run's I/O loop. */
struct pump {
	int		 in_w;		/* ssh's stdin, our end; -1 when done */
	int		 out_r;		/* ssh's stdout (and stderr if merged) */
	int		 err_r;		/* ssh's stderr */
	int		 merge;		/* stderr goes to out_fd too */
	int		 started;	/* the command was sent (ssh's log says) */
	const char	*logpath;
	const char	*in;
	size_t		 inlen, inoff;
	int		 out_fd;
	long long	 max_output;
	long long	 written;
	int		 truncated;
	const char	*fail;		/* what failed here (errno in fail_errno) */
	int		 fail_errno;
};

/*
 * Whether ssh has sent the command yet.  What ssh writes to stderr before
 * that is its own (a server's login banner), not the command's.
 */
static int
pump_started(struct pump *p)
{
	struct sshlog	 lg;

	if (!p->started) {
		log_scan(p->logpath, &lg);
		p->started = lg.started;
	}
	return p->started;
}

/* Send more of stdin; at the end (or when ssh stops reading) close it. */
static void
pump_input(struct pump *p)
{
	size_t	 chunk = p->inlen - p->inoff;
	ssize_t	 n;

	if (chunk > SSH_IOBUF)
		chunk = SSH_IOBUF;
	/* MSG_NOSIGNAL: ssh gone away is EPIPE here, not a signal. */
	n = chunk == 0 ? 0 : send(p->in_w, p->in + p->inoff, chunk,
	    MSG_NOSIGNAL);
	if (n == -1 && (errno == EINTR || errno == EAGAIN ||
	    errno == EWOULDBLOCK))
		return;
	if (n > 0)
		p->inoff += (size_t)n;
	if (n == -1 || p->inoff == p->inlen)
		fd_close(&p->in_w);
}

/*
 * Move what is readable on *fd to out_fd (copy) or nowhere.  Closes *fd at
 * end of file.  Returns -1 when the output cap was passed or out_fd
 * failed (the run must end), else 0.
 */
static int
pump_output(struct pump *p, int *fd, int copy)
{
	char		 buf[SSH_IOBUF];
	ssize_t		 n;
	size_t		 len;

	if ((n = read(*fd, buf, sizeof(buf))) == -1) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		n = 0;
	}
	if (n == 0) {
		fd_close(fd);
		return 0;
	}
	if (!copy)
		return 0;
	len = (size_t)n;
	if (p->max_output > 0 && p->written + n > p->max_output) {
		len = (size_t)(p->max_output - p->written);
		p->truncated = 1;
	}
	if (len > 0 && write_all(p->out_fd, buf, len) == -1) {
		p->fail = "cannot write the command's output";
		p->fail_errno = errno;
		return -1;
	}
	p->written += (long long)len;
	return p->truncated ? -1 : 0;
}

/* The poll timeout in ms until the nearer of two deadlines (0: none). */
static int
poll_ms(double a, double b)
{
	double	 d = a > 0 && (b <= 0 || a < b) ? a : b, left;

	if (d <= 0)
		return -1;
	left = (d - mono_now()) * 1000.0;
	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left + 1;
}

/*
 * Run ssh until its output ends, the deadline passes (*timed_out), the
 * output cap is passed (p->truncated), something fails here (p->fail), or
 * the command was not sent by login_by (*no_login).  Returns 0 when ssh ended by itself
 * (its output closed), -1 when it must be killed.
 */
static int
pump_run(struct pump *p, double deadline, double login_by, int *timed_out,
    int *no_login)
{
	struct pollfd	 pfd[3];
	nfds_t		 n, i;
	int		 r;

	while (p->out_r != -1 || p->err_r != -1) {
		n = 0;
		if (p->in_w != -1) {
			pfd[n].fd = p->in_w;
			pfd[n++].events = POLLOUT;
		}
		if (p->out_r != -1) {
			pfd[n].fd = p->out_r;
			pfd[n++].events = POLLIN;
		}
		if (p->err_r != -1) {
			pfd[n].fd = p->err_r;
			pfd[n++].events = POLLIN;
		}
		r = poll(pfd, n, poll_ms(deadline, login_by));
		if (r == -1 && errno != EINTR) {
			p->fail = "cannot wait for ssh";
			p->fail_errno = errno;
			return -1;
		}
		if (deadline > 0 && mono_now() >= deadline) {
			*timed_out = 1;
			return -1;
		}
		if (login_by > 0 && mono_now() >= login_by) {
			if (!pump_started(p)) {
				*no_login = 1;
				return -1;
			}
			login_by = 0;
		}
		if (r <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == p->in_w)
				pump_input(p);
			else if (pfd[i].fd == p->out_r) {
				if (pump_output(p, &p->out_r, 1) == -1)
					return -1;
			} else if (pfd[i].fd == p->err_r) {
				if (pump_output(p, &p->err_r, p->merge &&
				    pump_started(p)) == -1)
					return -1;
			}
		}
	}
	return 0;
}

/*
 * The options every run has: the user's and the system's SSH setup stay
 * out, nothing is forwarded, nothing prompts.
 */
static const char *const ssh_fixed_opts[] = {
	"LogLevel=DEBUG1",		/* the log tells failure from exit 255 */
	"BatchMode=yes",
	"IdentitiesOnly=yes",		/* the -i key only */
	"IdentityAgent=none",
	"PreferredAuthentications=publickey",
	"GlobalKnownHostsFile=/dev/null",
	"CheckHostIP=no",		/* the alias's key only, in the clear, */
	"HashKnownHosts=no",		/* one line: what the caller stores */
	"UpdateHostKeys=no",
	"ConnectionAttempts=1",
	"ServerAliveInterval=15",	/* a node silent for a minute is gone */
	"ServerAliveCountMax=4",
	"ForwardAgent=no",
	"ForwardX11=no",
	"ClearAllForwardings=yes",
	"PermitLocalCommand=no",
	"ControlPath=none",
};

/* ssh's argv for one run. */
static void
ssh_args(struct args *a, const struct ssh_target *t, const struct ssh_opts *o,
    int port, int timeout, const char *dir, const char *cmd)
{
	size_t	 i;

	args_add(a, "%s", SSH_BIN);
	args_add(a, "-F");
	args_add(a, "/dev/null");
	args_add(a, "-E");
	args_add(a, "%s/log", dir);
	args_add(a, "-i");
	args_add(a, "%s", o->key);
	for (i = 0; i < nitems(ssh_fixed_opts); i++) {
		args_add(a, "-o");
		args_add(a, "%s", ssh_fixed_opts[i]);
	}
	args_add(a, "-o");
	args_add(a, "UserKnownHostsFile=%s/known_hosts", dir);
	args_add(a, "-o");
	args_add(a, "HostKeyAlias=%s", t->alias);
	args_add(a, "-o");
	args_add(a, "StrictHostKeyChecking=%s",
	    t->known != NULL ? "yes" : "accept-new");
	args_add(a, "-o");
	args_add(a, "ConnectTimeout=%d", timeout);
	args_add(a, "-T");
	args_add(a, "-p");
	args_add(a, "%d", port);
	args_add(a, "-l");
	args_add(a, "%s", t->user);
	args_add(a, "--");
	args_add(a, "%s", t->host);
	args_add(a, "%s", cmd);
}

/*
 * Run cmd on the target with ssh(1), feeding it in (inlen bytes; none if
 * NULL or 0) and copying its output to out_fd as it comes, never holding
 * it.  cmd is a line for the remote user's shell, as ssh sends it: the
 * caller quotes whatever it puts in.  The command's stderr is merged into out_fd or dropped, as
 * o->stderr_mode says; ssh's own messages never reach out_fd, nor does
 * what it prints before the command is sent (a server's login banner).
 * Merged output interleaves stdout and stderr as they arrive: SSH carries
 * them as two streams, so their exact order is not kept anyway.
 *
 * Returns 0 when the command ran: *res holds its exit status (-1 when it
 * has none: killed here by the time limit or the output cap, killed by a
 * signal on the node, or the connection lost before its status came; err
 * then says which), the bytes written and the flags.  Returns -1 when it
 * could not run, with the reason in err: bad arguments, unreachable, login
 * refused, host key changed (nothing was sent to the node), or writing to
 * out_fd failed (the command may have run; ssh was stopped).
 *
 * res->learned is the host key line(s) seen on first contact (t->known
 * NULL or empty); it may be set even when -1 is returned (the host was
 * reached but refused the login).  The caller stores it and frees *res
 * with ssh_result_free whatever the return.
 */
int
ssh_exec(const struct ssh_target *tin, const struct ssh_opts *o,
    const char *cmd, const char *in, size_t inlen, int out_fd,
    struct ssh_result *res, char *err, size_t errsz)
{
	struct ssh_target	 t = *tin;
	struct args		 a = { NULL, 0, 0 };
	struct pump		 p;
	struct sshlog		 lg;
	char			*dir = NULL, *kh = NULL, *logpath = NULL;
	int			 port, timeout, sv[2] = { -1, -1 };
	int			 outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int			 status = 0, timed_out = 0, no_login = 0, e;
	int			 rc = -1, killed = 0;
	pid_t			 pid = -1;
	double			 start, deadline = 0, login_by;

	memset(res, 0, sizeof(*res));
	res->exit_status = -1;
	memset(&p, 0, sizeof(p));
	p.in_w = p.out_r = p.err_r = -1;
	if (errsz > 0)
		*err = '\0';
	if (t.known != NULL && *t.known == '\0')
		t.known = NULL;

	/* Everything below reaches ssh's argv or a file ssh reads. */
	port = t.port == 0 ? 22 : t.port;
	timeout = o->connect_timeout > 0 ? o->connect_timeout :
	    SSH_CONNECT_TIMEOUT;
	if (!safe_word(t.host, ".:-_", SSH_NAME_MAX)) {
		snprintf(err, errsz, "invalid host address");
		goto out;
	}
	if (port < 1 || port > 65535) {
		snprintf(err, errsz, "invalid port %d", port);
		goto out;
	}
	if (!safe_word(t.user, "._-", SSH_USER_MAX)) {
		snprintf(err, errsz, "invalid user name");
		goto out;
	}
	if (!safe_word(t.alias, "._-", SSH_NAME_MAX)) {
		snprintf(err, errsz, "invalid host key alias");
		goto out;
	}
	if (t.known != NULL && !known_for(t.known, t.alias)) {
		snprintf(err, errsz, "invalid known host key of %s", t.alias);
		goto out;
	}
	if (o->key == NULL || !safe_path(o->key)) {
		snprintf(err, errsz, "invalid private key path");
		goto out;
	}
	if (access(o->key, R_OK) == -1) {
		log_err("ssh: private key %s: %s", o->key, strerror(errno));
		snprintf(err, errsz, "cannot read corral's private key");
		goto out;
	}
	if (cmd == NULL || *cmd == '\0') {
		/* An empty command would be a login shell reading stdin. */
		snprintf(err, errsz, "no command to run");
		goto out;
	}

	if ((dir = tmpdir_make()) == NULL) {
		snprintf(err, errsz, "cannot make a temporary directory");
		goto out;
	}
	xasprintf(&kh, "%s/known_hosts", dir);
	xasprintf(&logpath, "%s/log", dir);
	if (file_write(kh, t.known != NULL ? t.known : "") == -1) {
		log_err("ssh: %s: %s", kh, strerror(errno));
		snprintf(err, errsz, "cannot write a temporary file");
		goto out;
	}

	/*
	 * stdin through a socket pair, so that send(MSG_NOSIGNAL) meets an
	 * ssh that stopped reading with EPIPE, not SIGPIPE.
	 */
	if ((in != NULL && inlen > 0 &&
	    (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    fd_prep(&sv[0]) == -1 || fd_prep(&sv[1]) == -1 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1)) ||
	    pipe(outp) == -1 || fd_prep(&outp[0]) == -1 ||
	    fd_prep(&outp[1]) == -1 || pipe(errp) == -1 ||
	    fd_prep(&errp[0]) == -1 || fd_prep(&errp[1]) == -1) {
		log_err("ssh: pipes: %s", strerror(errno));
		snprintf(err, errsz, "cannot make pipes");
		goto out;
	}

	ssh_args(&a, &t, o, port, timeout, dir, cmd);
	start = mono_now();
	if ((e = spawn(a.v, sv[1], outp[1], errp[1], &pid)) != 0) {
		log_err("ssh: spawn %s: %s", SSH_BIN, strerror(e));
		snprintf(err, errsz, "cannot start ssh");
		pid = -1;
		goto out;
	}
	fd_close(&sv[1]);
	fd_close(&outp[1]);
	fd_close(&errp[1]);

	if (o->time_limit > 0)
		deadline = start + o->time_limit;
	/* ConnectTimeout bounds connect and banner, not key exchange or login. */
	login_by = start + timeout + SSH_LOGIN_GRACE;
	p.in_w = sv[0];
	sv[0] = -1;
	p.out_r = outp[0];
	outp[0] = -1;
	p.err_r = errp[0];
	errp[0] = -1;
	p.in = in;
	p.inlen = in != NULL ? inlen : 0;
	p.out_fd = out_fd;
	p.max_output = o->max_output;
	p.merge = o->stderr_mode == SSH_STDERR_MERGE;
	p.logpath = logpath;

	if (pump_run(&p, deadline, login_by, &timed_out, &no_login) == -1) {
		kill_group(pid, &status);
		killed = 1;
	} else if (reap(pid, deadline, &status) == 1) {
		/* Output closed, yet ssh lives on past the time limit. */
		timed_out = 1;
		kill_group(pid, &status);
		killed = 1;
	}
	pid = -1;
	res->out_bytes = p.written;
	res->truncated = p.truncated;
	res->timed_out = timed_out;
	log_scan(logpath, &lg);
	if (t.known == NULL)
		res->learned = learned_read(kh, t.alias);

	if (p.fail != NULL) {
		log_err("ssh: %s: %s", p.fail, strerror(p.fail_errno));
		snprintf(err, errsz, "%s: %s", p.fail, strerror(p.fail_errno));
		goto out;
	}
	if (killed && !lg.started) {
		if (no_login)
			snprintf(err, errsz, "%s port %d accepted the "
			    "connection but no login followed within %d s",
			    t.host, port, timeout + SSH_LOGIN_GRACE);
		else if (timed_out)
			snprintf(err, errsz, "no login to %s port %d within "
			    "the time limit (%g s)", t.host, port,
			    o->time_limit);
		else
			reason_from_log(&t, port, timeout, &lg, err, errsz);
		goto out;
	}
	if (killed) {
		snprintf(err, errsz, "%s", timed_out ? "the time limit ended "
		    "the command" : "the output limit ended the command");
		rc = 0;
		goto out;
	}
	if (WIFEXITED(status) &&
	    (WEXITSTATUS(status) != 255 || lg.status)) {
		res->exit_status = WEXITSTATUS(status);
		rc = 0;
	} else if (lg.started) {
		/* It was sent, so it may have run: no status to report. */
		if (lg.signal)
			snprintf(err, errsz, "the command was killed by a "
			    "signal on %s", t.host);
		else
			snprintf(err, errsz, "the connection to %s was lost "
			    "while the command ran", t.host);
		rc = 0;
	} else if (WIFSIGNALED(status))
		snprintf(err, errsz, "ssh to %s was killed by signal %d",
		    t.host, WTERMSIG(status));
	else
		reason_from_log(&t, port, timeout, &lg, err, errsz);
out:
	if (pid != -1)
		kill_group(pid, &status);
	fd_close(&p.in_w);
	fd_close(&p.out_r);
	fd_close(&p.err_r);
	fd_close(&sv[0]);
	fd_close(&sv[1]);
	fd_close(&outp[0]);
	fd_close(&outp[1]);
	fd_close(&errp[0]);
	fd_close(&errp[1]);
	if (dir != NULL)
		tmpdir_remove(dir);
	free(dir);
	free(kh);
	free(logpath);
	args_free(&a);
	return rc;
}

/* Free what ssh_exec allocated in *res (not res itself). */
void
ssh_result_free(struct ssh_result *res)
{
	if (res == NULL)
		return;
	free(res->learned);
	res->learned = NULL;
}

/*
 * Run ssh-keygen with argv, stdout to out (-1: /dev/null).  Returns 0 when
 * it exited 0, else -1 with its first line of complaint in err.
 */
static int
keygen_run(struct args *a, int out, char *err, size_t errsz)
{
	char	 buf[512];
	size_t	 len = 0;
	ssize_t	 n;
	int	 errp[2] = { -1, -1 }, status, e, rc = -1;
	pid_t	 pid;

	if (pipe(errp) == -1 || fd_prep(&errp[0]) == -1 ||
	    fd_prep(&errp[1]) == -1) {
		snprintf(err, errsz, "cannot make a pipe: %s", strerror(errno));
		goto out;
	}
	if ((e = spawn(a->v, -1, out, errp[1], &pid)) != 0) {
		snprintf(err, errsz, "cannot start %s: %s", SSH_KEYGEN_BIN,
		    strerror(e));
		goto out;
	}
	fd_close(&errp[1]);
	for (;;) {
		n = read(errp[0], buf + len, sizeof(buf) - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((len += (size_t)n) == sizeof(buf) - 1) {
			/* Keep the start; drain the rest. */
			char	 sink[512];

			while (read(errp[0], sink, sizeof(sink)) > 0)
				continue;
			break;
		}
	}
	buf[len] = '\0';
	(void)reap(pid, 0, &status);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		rc = 0;
	else {
		detail_set(buf, buf);
		snprintf(err, errsz, "ssh-keygen failed%s%s",
		    *buf != '\0' ? ": " : "", buf);
	}
out:
	fd_close(&errp[0]);
	fd_close(&errp[1]);
	return rc;
}

/*
 * Make an ed25519 key pair at path and path.pub unless the private key
 * exists; a missing path.pub is made again from it.  Returns 0, or -1
 * with the reason in err.
 */
int
ssh_key_ensure(const char *path, char *err, size_t errsz)
{
	struct args	 a = { NULL, 0, 0 };
	struct stat	 st;
	char		*pub = NULL, *tmp = NULL;
	int		 fd = -1, e, rc = -1;

	if (errsz > 0)
		*err = '\0';
	if (path == NULL || !safe_path(path)) {
		snprintf(err, errsz, "invalid key path");
		goto out;
	}
	xasprintf(&pub, "%s.pub", path);
	xasprintf(&tmp, "%s.pub.tmp", path);
	if (stat(path, &st) == 0) {
		if (stat(pub, &st) == 0) {
			rc = 0;
			goto out;
		}
		(void)unlink(tmp);
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644)) == -1) {
			snprintf(err, errsz, "cannot create %s: %s", tmp,
			    strerror(errno));
			goto out;
		}
		args_add(&a, "%s", SSH_KEYGEN_BIN);
		args_add(&a, "-y");
		args_add(&a, "-f");
		args_add(&a, "%s", path);
		if (keygen_run(&a, fd, err, errsz) == -1)
			goto out;
		e = close(fd);
		fd = -1;
		if (e == -1 || rename(tmp, pub) == -1) {
			snprintf(err, errsz, "cannot write %s: %s", pub,
			    strerror(errno));
			(void)unlink(tmp);
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (errno != ENOENT) {
		snprintf(err, errsz, "cannot use %s: %s", path, strerror(errno));
		goto out;
	}
	/* A public key without its private key is of no use. */
	(void)unlink(pub);
	args_add(&a, "%s", SSH_KEYGEN_BIN);
	args_add(&a, "-q");
	args_add(&a, "-t");
	args_add(&a, "ed25519");
	args_add(&a, "-N");
	args_add(&a, "%s", "");
	args_add(&a, "-C");
	args_add(&a, "corral");
	args_add(&a, "-f");
	args_add(&a, "%s", path);
	rc = keygen_run(&a, -1, err, errsz);
out:
	if (fd != -1) {
		close(fd);
		(void)unlink(tmp);
	}
	free(pub);
	free(tmp);
	args_free(&a);
	return rc;
}
