/*
 * Writing responses: the one place an enum apierr becomes an HTTP status
 * and the ClusterWare envelope, {"success": true, "data": ...} or
 * {"success": false, "reason": ...}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "extern.h"

/* Reals with 16 significant digits: epoch seconds keep their microseconds. */
#define RESP_DUMP_FLAGS	(JSON_REAL_PRECISION(16) | JSON_ENCODE_ANY)

static const struct {
	int		 status;
	const char	*text;
	const char	*reason;	/* when the handler gave none */
} codes[API__MAX] = {
	[API_OK] =		{ 200, "OK", "" },
	[API_BAD_REQUEST] =	{ 400, "Bad Request", "Bad request" },
	[API_UNAUTHORIZED] =	{ 401, "Unauthorized", "Authentication required" },
	[API_FORBIDDEN] =	{ 403, "Forbidden", "Not allowed" },
	[API_NOT_FOUND] =	{ 404, "Not Found", "Not found" },
	[API_BAD_METHOD] =	{ 405, "Method Not Allowed", "Method not allowed" },
	[API_CONFLICT] =	{ 409, "Conflict", "Conflict" },
	[API_TOO_LARGE] =	{ 413, "Payload Too Large", "Request body too large" },
	[API_BAD_MEDIA] =	{ 415, "Unsupported Media Type", "Send JSON" },
	[API_INTERNAL] =	{ 500, "Internal Server Error",
				  "Internal error; see the server log" },
	[API_BAD_GATEWAY] =	{ 502, "Bad Gateway", "The BMC or node failed" },
	[API_UNAVAILABLE] =	{ 503, "Service Unavailable",
				  "Database unavailable; try again" },
	[API_TIMEOUT] =		{ 504, "Gateway Timeout",
				  "The job did not end in time" },
	[API_NO_SPACE] =	{ 507, "Insufficient Storage",
				  "The artifact store is full" },
};

/* The HTTP status of an outcome. */
int
resp_status(enum apierr e)
{
	return e < API__MAX ? codes[e].status : 500;
}

/* The outcome whose HTTP status is status; API_INTERNAL for any other. */
enum apierr
resp_code(int status)
{
	size_t	 i;

	for (i = 0; i < API__MAX; i++)
		if (codes[i].status == status)
			return (enum apierr)i;
	return API_INTERNAL;
}

/* 304 Not Modified for a conditional GET whose ETag still matches. */
void
resp_not_modified(struct req *r, const char *etag)
{
	FCGX_Request	*f = r->fcgx;
	char		 head[256];
	int		 n;

	n = snprintf(head, sizeof(head), "Status: 304 Not Modified\r\n"
	    "ETag: %s\r\n\r\n", etag);
	if (n > 0 && (size_t)n < sizeof(head))
		FCGX_PutStr(head, n, f->out);
	r->raw = 1;
}

/* Write status line, headers and body as they are. */
void
resp_raw(struct req *r, int status, const char *ctype, const char *body,
    size_t len)
{
	FCGX_Request	*f = r->fcgx;
	const char	*text = "OK";
	char		 head[256];
	size_t		 i;
	int		 n;

	for (i = 0; i < API__MAX; i++)
		if (codes[i].status == status)
			text = codes[i].text;
	/* libfcgi's own printf knows no %zu: format the head with ours. */
	n = snprintf(head, sizeof(head), "Status: %d %s\r\nContent-Type: %s\r\n"
	    "Cache-Control: no-store\r\nContent-Length: %zu\r\n\r\n",
	    status, text, ctype, len);
	if (n > 0 && (size_t)n < sizeof(head))
		FCGX_PutStr(head, n, f->out);
	if (len > 0)
		FCGX_PutStr(body, (int)len, f->out);
	r->raw = 1;
	r->sent = len;
}

/*
 * Hand the request on to nginx's location uri (X-Accel-Redirect): the
 * waiter for a synchronous job, the spool for exec output.  nginx turns
 * the request into a GET of uri and drops this answer's body.
 */
void
resp_redirect(struct req *r, const char *uri)
{
	FCGX_Request	*f = r->fcgx;
	char		 head[512];
	int		 n;

	n = snprintf(head, sizeof(head), "Status: 200 OK\r\n"
	    "X-Accel-Redirect: %s\r\nCache-Control: no-store\r\n"
	    "Content-Length: 0\r\n\r\n", uri);
	if (n > 0 && (size_t)n < sizeof(head))
		FCGX_PutStr(head, n, f->out);
	r->raw = 1;
}

/*
 * resp_redirect to a file nginx streams, named filename for the client
 * (Content-Disposition, which nginx keeps across X-Accel-Redirect).
 * filename must need no quoting ([A-Za-z0-9._-], as names are).
 */
void
resp_redirect_file(struct req *r, const char *uri, const char *filename)
{
	FCGX_Request	*f = r->fcgx;
	char		 head[768];
	int		 n;

	n = snprintf(head, sizeof(head), "Status: 200 OK\r\n"
	    "X-Accel-Redirect: %s\r\nCache-Control: no-store\r\n"
	    "Content-Disposition: attachment; filename=\"%s\"\r\n"
	    "Content-Length: 0\r\n\r\n", uri, filename);
	if (n > 0 && (size_t)n < sizeof(head))
		FCGX_PutStr(head, n, f->out);
	r->raw = 1;
}

/* Send an answer written by hand (a spliced list or object) as JSON. */
void
resp_out(struct req *r, struct outbuf *b)
{
	resp_raw(r, 200, "application/json", b->p != NULL ? b->p : "", b->len);
}

/*
 * Answer r with the list answer the read cache holds for class cls in
 * scope tid (cache_list_get), sent straight from the cache's pages: no
 * copy in this heap.  1 when it answered; 0 when the cache has none, with
 * fill set for the cache_list_store of the answer the caller builds.
 */
int
resp_cached_list(struct req *r, const char *cls, long long tid,
    const char *variant, struct cachefill *fill)
{
	struct cacheview view;

	if (cache_list_get(cls, tid, variant, &view, fill) != CACHE_HIT)
		return 0;
	resp_raw(r, 200, "application/json", view.data, view.len);
	cache_view_end(&view);
	return 1;
}

/* The success envelope around data (borrowed; NULL: none), new reference. */
static json_t *
resp_envelope(const json_t *data)
{
	return data != NULL ? json_pack("{s:b, s:O}", "success", 1, "data",
	    data) : json_pack("{s:b}", "success", 1);
}

/*
 * The text resp_send() sends for a success with data (borrowed): for an
 * answer kept to be sent again (the read cache).  New string, or NULL
 * when data cannot be encoded.
 */
char *
resp_ok_text(const json_t *data)
{
	json_t	*env = resp_envelope(data);
	char	*s;

	s = env != NULL ? json_dumps(env, RESP_DUMP_FLAGS) : NULL;
	json_decref(env);
	return s;
}

/*
 * Render the outcome e of request r.  Success sends r->data if set;
 * failure sends the context's reason (or a generic one), and for a 500
 * only the generic one: its cause is logged, with the request id, where
 * it was found (ctx_internal).  Reals print with 16 significant digits:
 * epoch seconds with exact microseconds.
 */
void
resp_send(struct req *r, enum apierr e)
{
	json_t		*env;
	char		*s, fallback[160];
	int		 status;

	if (r->raw)
		return;
	if (e >= API__MAX)
		e = API_INTERNAL;
	status = codes[e].status;
	if (e == API_OK)
		env = resp_envelope(r->data);
	else {
		if (e == API_INTERNAL || e == API_UNAVAILABLE)
			log_err("%s %s -> %d: %s", method_name(r->method),
			    r->path != NULL ? r->path : "", status,
			    r->ctx.reason[0] != '\0' ? r->ctx.reason :
			    "no cause recorded");
		else
			log_info("%s -> %d: %s", r->path != NULL ? r->path : "",
			    status, r->ctx.reason);
		if (r->ctx.reason[0] == '\0' || e == API_INTERNAL)
			snprintf(r->ctx.reason, sizeof(r->ctx.reason), "%s",
			    codes[e].reason);
		utf8_clean(r->ctx.reason);
		env = json_pack("{s:b, s:s}", "success", 0, "reason",
		    r->ctx.reason);
	}
	s = env != NULL ? json_dumps(env, RESP_DUMP_FLAGS) : NULL;
	json_decref(env);
	if (s == NULL) {
		/*
		 * Data that cannot be encoded is ours to fix (500); a failure
		 * keeps its status with the generic reason of its code.
		 */
		if (e == API_OK) {
			log_err("%s: the answer cannot be encoded as JSON",
			    r->path != NULL ? r->path : "");
			e = API_INTERNAL;
			status = 500;
		}
		snprintf(fallback, sizeof(fallback), "{\"success\": false, "
		    "\"reason\": \"%s\"}", codes[e].reason);
		resp_raw(r, status, "application/json", fallback,
		    strlen(fallback));
		return;
	}
	resp_raw(r, status, "application/json", s, strlen(s));
	free(s);
}

/*
 * An answer without a body, with status and extra header lines (each
 * "Name: value\r\n"; made by the caller from checked values only): what
 * nginx's auth_request reads (api_git.c's /_gitauth).
 */
void
resp_headers(struct req *r, int status, const char *headers)
{
	FCGX_Request	*f = r->fcgx;
	char		 head[1024];
	int		 n;

	n = snprintf(head, sizeof(head), "Status: %d\r\n%sCache-Control: "
	    "no-store\r\nContent-Length: 0\r\n\r\n", status, headers);
	if (n > 0 && (size_t)n < sizeof(head))
		FCGX_PutStr(head, n, f->out);
	r->raw = 1;
}
