/*
 * corral-jobd: running a local program a job needs (grub-mkrescue for
 * mkiso, tar2sqfs for capture, xorriso for a repo's tree), spawned with
 * an argv, never a shell.
 *
 * The program runs in a process group of its own (grub-mkrescue starts
 * xorriso; a time limit must end both), with a fixed PATH and the C
 * locale, no descriptor of jobd's but its stdio, and its stderr in a
 * file so the last thing it said can be the reason a job failed.
 * (ssh.c spawns ssh the same way, with its own pump of the output.)
 */
/*
 * _GNU_SOURCE for posix_spawn_file_actions_addclosefrom_np: descriptors
 * jobd holds without FD_CLOEXEC (a database socket) must not leak.
 */
#define _GNU_SOURCE

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

#define TOOL_SAID_MAX	200	/* bytes of the program's last words in a reason */

/*
 * Start argv[0] (an absolute path) with fds[0..2] as its stdio (-1:
 * /dev/null), in a process group of its own (so it and anything it
 * starts can be killed together), with default signal handling, an empty
 * signal mask, a minimal environment (a fixed PATH, the C locale: no
 * agent socket, and messages that can be parsed) and no other
 * descriptor.  Returns 0 with *pid set, or an errno.
 */
int
tool_spawn_fds(char *const argv[], const int fds[3], pid_t *pid)
{
	static char	 env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	static char	 env_lang[] = "LC_ALL=C";
	static char	*const envp[] = { env_path, env_lang, NULL };
	static const int sigs[] = { SIGPIPE, SIGHUP, SIGINT, SIGQUIT, SIGTERM,
	    SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2 };
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 def, none;
	size_t				 i;
	int				 rc;

	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return rc;
	if ((rc = posix_spawnattr_init(&attr)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	for (i = 0; i < 3 && rc == 0; i++)
		rc = fds[i] == -1 ?
		    posix_spawn_file_actions_addopen(&fa, (int)i, "/dev/null",
		    i == 0 ? O_RDONLY : O_WRONLY, 0) :
		    posix_spawn_file_actions_adddup2(&fa, fds[i], (int)i);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	sigemptyset(&none);
	sigemptyset(&def);
	for (i = 0; i < nitems(sigs); i++)
		sigaddset(&def, sigs[i]);
	if (rc == 0)
		rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
		    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (rc == 0)
		rc = posix_spawnattr_setpgroup(&attr, 0);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&attr, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&attr, &def);
	if (rc == 0)
		rc = posix_spawn(pid, argv[0], &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/*
 * Start argv[0] (an absolute path) as tool_spawn_fds does, with stdin in
 * (-1: /dev/null), stdout out (-1: with stderr) and stderr appended to
 * errpath (NULL: /dev/null).  Returns 0 with *pid set, or -1 with the
 * reason in err.
 */
int
tool_spawn(char *const argv[], int in, int out, const char *errpath,
    pid_t *pid, char *err, size_t errsz)
{
	int	 fds[3], efd, rc;

	if ((efd = open(errpath != NULL ? errpath : "/dev/null", O_WRONLY |
	    O_CREAT | O_APPEND | O_CLOEXEC, 0640)) == -1) {
		snprintf(err, errsz, "%s: %s: %s", argv[0], errpath != NULL ?
		    errpath : "/dev/null", strerror(errno));
		return -1;
	}
	fds[0] = in;
	fds[1] = out != -1 ? out : efd;
	fds[2] = efd;
	rc = tool_spawn_fds(argv, fds, pid);
	close(efd);
	if (rc != 0) {
		snprintf(err, errsz, "%s could not be started: %s", argv[0],
		    strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * The last line of the file at path that says something (4 bytes or
 * more: grub-mkrescue ends its complaint with a line of "."), printable
 * ASCII only, into buf ("" if none).
 */
static void
last_line(const char *path, char *buf, size_t bufsz)
{
	char		 tail[1024];
	ssize_t		 n;
	off_t		 end;
	int		 fd;
	char		*s, *e;

	buf[0] = '\0';
	if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	end = lseek(fd, 0, SEEK_END);
	n = pread(fd, tail, sizeof(tail) - 1, end > (off_t)sizeof(tail) - 1 ?
	    end - (off_t)sizeof(tail) + 1 : 0);
	close(fd);
	if (n <= 0)
		return;
	tail[n] = '\0';
	for (;;) {
		e = tail + strlen(tail);
		while (e > tail && isspace((unsigned char)e[-1]))
			*--e = '\0';
		s = strrchr(tail, '\n');
		s = s != NULL ? s + 1 : tail;
		if (strlen(s) >= 4 || s == tail)
			break;
		*s = '\0';
	}
	snprintf(buf, bufsz, "%.*s", TOOL_SAID_MAX, s);
	for (s = buf; *s != '\0'; s++)
		if (!isprint((unsigned char)*s))
			*s = '?';
}

/*
 * Wait for pid, started by tool_spawn, until deadline_ms (monotonic_ms;
 * 0: for ever); past it the process group is killed.  Returns 0 when the
 * program exited 0, else -1 with a reason in err naming what and quoting
 * the last line of errpath.
 */
int
tool_wait(pid_t pid, long long deadline_ms, const char *what,
    const char *errpath, char *err, size_t errsz)
{
	struct timespec	 nap = { 0, 20 * 1000 * 1000 };
	char		 said[TOOL_SAID_MAX + 1];
	int		 status = 0, late = 0;
	pid_t		 got;

	for (;;) {
		got = waitpid(pid, &status, deadline_ms > 0 ? WNOHANG : 0);
		if (got == pid)
			break;
		if (got == -1 && errno != EINTR) {
			snprintf(err, errsz, "%s: wait: %s", what,
			    strerror(errno));
			return -1;
		}
		if (got == 0 && monotonic_ms() >= deadline_ms && !late) {
			late = 1;
			(void)kill(-pid, SIGKILL);
			deadline_ms = 0;	/* now wait for it to go */
		}
		if (got == 0)
			nanosleep(&nap, NULL);
	}
	if (late) {
		snprintf(err, errsz, "%s ran over its time limit and was "
		    "stopped", what);
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	last_line(errpath, said, sizeof(said));
	if (WIFEXITED(status))
		snprintf(err, errsz, "%s failed (exit %d)%s%s", what,
		    WEXITSTATUS(status), said[0] != '\0' ? ": " : "", said);
	else
		snprintf(err, errsz, "%s was killed by signal %d", what,
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return -1;
}
