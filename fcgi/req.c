/*
 * Reading requests: with resp.c the only code that touches libfcgi.
 * A worker owns one FCGX_Request for its life and reuses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "extern.h"


static FCGX_Request	 fcgx;
static int		 fcgx_fd = -1;

/* Set libfcgi up in this process; 0 or -1. */
int
req_init(void)
{
	return FCGX_Init() == 0 ? 0 : -1;
}


/*
 * Open the FastCGI listening socket at path, mode 0660 so only nginx's
 * group can reach it.  Returns the descriptor or -1 (logged).
 */
int
req_listen(const char *path, int backlog)
{
	struct timeval	 tick = { 1, 0 };
	int		 fd;

	if (req_init() == -1) {
		log_err("FCGX_Init failed");
		return -1;
	}
	if ((fd = unix_bind(path, SOCK_STREAM)) == -1)
		return -1;
	/*
	 * A worker waiting in accept(2) wakes at least once a second even
	 * when no signal reaches it (see req_accept).
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof(tick)) == -1) {
		log_err("setsockopt %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, backlog) == -1) {
		log_err("listen %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* Workers are exec'd and get it as fd 3, so it must survive exec. */
	if (fcntl(fd, F_SETFD, 0) == -1) {
		log_err("fcntl %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static enum method
method_parse(const char *s)
{
	int	 i;

	for (i = 0; s != NULL && i < M__MAX; i++)
		if (strcmp(s, method_name((enum method)i)) == 0)
			return (enum method)i;
	return M__MAX;
}

/*
 * Wait for the next connection on fd and read its request's parameters
 * (not its body: see req_read_body).  Returns 0, or -1 when the worker
 * should stop (*stop was set, the listening socket failed).
 *
 * The signals in stopsigs (blocked by the caller) are let in only while
 * the worker waits for a connection: a stop never cuts a request that
 * is being read or served, which libfcgi's own accept and shutdown
 * would (its reads return EOF once a shutdown is pending, and nginx
 * answers 502).  So the connection is accepted here and handed to
 * libfcgi, which reads the request from it.  The listening socket's
 * receive timeout (req_listen) bounds how long a stop that lands just
 * before accept(2) waits: at most a second.
 */
int
req_accept(struct req *r, int fd, const sigset_t *stopsigs,
    volatile sig_atomic_t *stop)
{
	const char	*uri, *orig;
	int		 cfd, err;

	if (fcgx_fd != fd) {
		if (FCGX_InitRequest(&fcgx, fd, 0) != 0)
			return -1;
		fcgx_fd = fd;
	}
	for (;;) {
		sigprocmask(SIG_UNBLOCK, stopsigs, NULL);
		cfd = *stop ? -1 : accept(fd, NULL, NULL);
		err = errno;
		sigprocmask(SIG_BLOCK, stopsigs, NULL);
		if (cfd != -1)
			break;		/* a stop now waits for this request */
		if (*stop)
			return -1;
		if (err != EINTR && err != EAGAIN && err != EWOULDBLOCK &&
		    err != ECONNABORTED) {
			log_err("accept: %s", strerror(err));
			return -1;
		}
	}
	/*
	 * FCGX_Accept_r reads from a connection already open; its first
	 * step (finishing the previous request) would close it unless told
	 * to keep it.  The request's own BEGIN record then sets the flag
	 * as nginx asked (no keep-alive), and req_finish closes it.
	 */
	fcgx.ipcFd = cfd;
	fcgx.keepConnection = 1;
	if (FCGX_Accept_r(&fcgx) < 0)
		return -1;
	r->fcgx = &fcgx;
	r->method = method_parse(FCGX_GetParam("REQUEST_METHOD", fcgx.envp));
	uri = FCGX_GetParam("DOCUMENT_URI", fcgx.envp);
	if (uri == NULL)
		uri = "";
	orig = FCGX_GetParam("REQUEST_URI", fcgx.envp);
	r->redirected = orig != NULL && (strncmp(orig, uri, strlen(uri)) != 0 ||
	    (orig[strlen(uri)] != '\0' && orig[strlen(uri)] != '?'));
	/* nginx has decoded and normalized the path; only the prefix goes. */
	if (strncmp(uri, API_PREFIX, sizeof(API_PREFIX) - 1) == 0)
		uri += sizeof(API_PREFIX) - 1;
	r->path = uri;
	r->query = FCGX_GetParam("QUERY_STRING", fcgx.envp);
	r->remote_addr = FCGX_GetParam("REMOTE_ADDR", fcgx.envp);
	r->request_id = FCGX_GetParam("REQUEST_ID", fcgx.envp);
	r->content_type = FCGX_GetParam("CONTENT_TYPE", fcgx.envp);
	r->authorization = FCGX_GetParam("HTTP_AUTHORIZATION", fcgx.envp);
	r->host = FCGX_GetParam("HTTP_HOST", fcgx.envp);
	log_set_request(r->request_id);
	return 0;
}

/*
 * Read the body, bounded by max before anything is allocated.  Returns
 * API_OK, API_TOO_LARGE or API_BAD_REQUEST with the reason set.
 */
enum apierr
req_read_body(struct req *r, size_t max)
{
	const char	*cl, *errstr;
	long long	 len;
	int		 n;
	size_t		 got = 0;

	if (r->body != NULL)	/* a route run again (api_hook.c) */
		return API_OK;
	cl = FCGX_GetParam("CONTENT_LENGTH", fcgx.envp);
	if (cl == NULL || *cl == '\0')
		return API_OK;
	len = num_parse(cl, 0, (long long)max, &errstr);
	if (errstr != NULL && strcmp(errstr, "too large") == 0)
		return req_fail(r, API_TOO_LARGE,
		    "Request body larger than %zu bytes", max);
	if (errstr != NULL)
		return req_fail(r, API_BAD_REQUEST, "Bad Content-Length");
	if (len == 0)
		return API_OK;
	r->body = xmalloc((size_t)len + 1);
	while (got < (size_t)len) {
		n = FCGX_GetStr(r->body + got, (int)((size_t)len - got), fcgx.in);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != (size_t)len)
		return req_fail(r, API_BAD_REQUEST, "Request body truncated");
	r->body[got] = '\0';
	r->bodylen = got;
	return API_OK;
}

/* The value of route capture name, or NULL. */
const char *
req_param(const struct req *r, const char *name)
{
	const char	*p = r->route != NULL ? r->route->pattern : NULL;
	size_t		 i = 0, len = strlen(name);

	while (p != NULL && (p = strchr(p, ':')) != NULL) {
		p++;
		if (strncmp(p, name, len) == 0 && (p[len] == '/' ||
		    p[len] == '\0' || p[len] == '*'))
			return i < r->nparams ? r->params[i] : NULL;
		i++;
	}
	return NULL;
}

/*
 * The value of query parameter key, copied into buf (undecoded: corral's
 * query values are integers and names).  NULL if absent or too long.
 */
const char *
req_query(const struct req *r, const char *key, char *buf, size_t bufsz)
{
	const char	*p = r->query, *end;
	size_t		 klen = strlen(key), vlen;

	while (p != NULL && *p != '\0') {
		end = strchr(p, '&');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == '=') {
			vlen = (size_t)(end - p) - klen - 1;
			if (vlen >= bufsz)
				return NULL;
			memcpy(buf, p + klen + 1, vlen);
			buf[vlen] = '\0';
			return buf;
		}
		p = *end == '&' ? end + 1 : end;
	}
	return NULL;
}

/*
 * Record why the request failed and return code, so handlers can write
 * "return req_fail(r, API_NOT_FOUND, ...)"; see ctx_fail.
 */
enum apierr
req_fail(struct req *r, enum apierr code, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	code = ctx_vfail(&r->ctx, code, fmt, ap);
	va_end(ap);
	return code;
}

/* The request id nginx assigned, or "-". */
const char *
req_id(const struct req *r)
{
	return r->request_id != NULL ? r->request_id : "-";
}

/*
 * A request header by its CGI name ("HTTP_X_STDERR"), or NULL.  nginx
 * blanks the identity headers (fastcgi.conf), so none of those can be
 * forged through here.
 */
const char *
req_header(const struct req *r, const char *cgi_name)
{
	const FCGX_Request	*f = r->fcgx;

	return FCGX_GetParam(cgi_name, f->envp);
}

/*
 * scheme://host[:port] of this head as the client reached it (its
 * scheme and Host header), into buf: URLs handed back in an answer then
 * work from where the client asked.  400 without a usable Host.
 */
enum apierr
req_base_url(struct req *r, char *buf, size_t bufsz)
{
	const char	*scheme = req_header(r, "REQUEST_SCHEME");

	if (r->host == NULL || !valid_host(r->host))
		return req_fail(r, API_BAD_REQUEST, "No valid Host header");
	snprintf(buf, bufsz, "%s://%s", scheme != NULL &&
	    strcmp(scheme, "https") == 0 ? "https" : "http", r->host);
	return API_OK;
}

/* Finish the request with libfcgi and free everything it owned. */
void
req_finish(struct req *r)
{
	size_t	 i;

	FCGX_Finish_r(&fcgx);
	ctx_clear(&r->ctx);
	free(r->body);
	json_decref(r->json);
	json_decref(r->data);
	free(r->gate_path);
	free(r->gate_query);
	for (i = 0; i < r->nparams; i++)
		free(r->params[i]);
	log_set_request(NULL);
	memset(r, 0, sizeof(*r));
}
