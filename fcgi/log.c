/*
 * Logging: one line per event, prefixed with time, program, pid and the
 * request id nginx assigned, so a line can be traced to its access-log
 * entry.  Client bytes are sanitized before they reach a line.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

static const char	*log_prog = "corral";
static int		 log_fd = STDERR_FILENO;
static char		 log_reqid[64];

static const char *const lvlnames[] = { "error", "warn", "info", "debug" };

/* Send log lines to path (appending), or to stderr when path is NULL. */
void
log_open(const char *prog, const char *path)
{
	int	 fd;

	log_prog = prog;
	if (path == NULL || *path == '\0')
		return;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640)) == -1) {
		log_err("cannot open log %s, logging to stderr", path);
		return;
	}
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
}

/* Tag following lines with a request id (NULL clears it). */
void
log_set_request(const char *id)
{
	size_t	 i;

	log_reqid[0] = '\0';
	if (id == NULL)
		return;
	/* nginx's $request_id is hex; keep only what it could be. */
	for (i = 0; id[i] != '\0' && i < sizeof(log_reqid) - 1; i++) {
		char c = id[i];
		log_reqid[i] = ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c == '-') ? c : '?';
	}
	log_reqid[i] = '\0';
}

/* Write one log line; control characters in the message become '?'. */
void
log_msg(enum loglvl lvl, const char *fmt, ...)
{
	char		 line[2048], ts[32];
	va_list		 ap;
	time_t		 now;
	struct tm	 tm;
	int		 n, m;
	size_t		 i;

	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line), "%s %s[%ld] %s%s%s: ", ts, log_prog,
	    (long)getpid(), lvlnames[lvl], log_reqid[0] ? " req=" : "",
	    log_reqid);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	if ((size_t)(n + m) > sizeof(line) - 2)
		m = (int)(sizeof(line) - 2) - n;
	for (i = (size_t)n; i < (size_t)(n + m); i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[n + m] = '\n';
	/* One write(2) so lines from several workers never interleave. */
	(void)write(log_fd, line, (size_t)(n + m + 1));
}
