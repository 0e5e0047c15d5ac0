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

static const struct {
	int		 status;
	const char	*text;
	const char	*reason;	/* when the handler gave none */
} codes[API__MAX] = {
	{ 200, "OK", "" },
	{ 400, "Bad Request", "Bad request" },
	{ 401, "Unauthorized", "Authentication required" },
	{ 403, "Forbidden", "Not allowed" },
	{ 404, "Not Found", "Not found" },
	{ 405, "Method Not Allowed", "Method not allowed" },
	{ 409, "Conflict", "Conflict" },
	{ 413, "Payload Too Large", "Request body too large" },
	{ 415, "Unsupported Media Type", "Send JSON" },
	{ 500, "Internal Server Error", "Internal error; see the server log" },
	{ 503, "Service Unavailable", "Database unavailable; try again" },
};

/* The HTTP status of an outcome. */
int
resp_status(enum apierr e)
{
	return e < API__MAX ? codes[e].status : 500;
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
}

/*
 * Render the outcome e of request r.  Success sends r->data if set;
 * failure sends r->reason (or a generic one).  Reals print with 16
 * significant digits: epoch seconds with exact microseconds.
 */
void
resp_send(struct req *r, enum apierr e)
{
	static const char internal[] =
	    "{\"success\": false, \"reason\": \"Internal error\"}";
	json_t		*env;
	char		*s;

	if (r->raw)
		return;
	if (e >= API__MAX)
		e = API_INTERNAL;
	if (e == API_OK) {
		env = r->data != NULL ?
		    json_pack("{s:b, s:O}", "success", 1, "data", r->data) :
		    json_pack("{s:b}", "success", 1);
	} else {
		if (r->reason[0] == '\0' || e == API_INTERNAL)
			snprintf(r->reason, sizeof(r->reason), "%s",
			    codes[e].reason);
		env = json_pack("{s:b, s:s}", "success", 0, "reason", r->reason);
		log_info("%s -> %d: %s", r->path != NULL ? r->path : "",
		    codes[e].status, r->reason);
	}
	if (env == NULL || (s = json_dumps(env, JSON_REAL_PRECISION(16) |
	    JSON_ENCODE_ANY)) == NULL) {
		json_decref(env);
		resp_raw(r, 500, "application/json", internal, strlen(internal));
		return;
	}
	resp_raw(r, codes[e].status, "application/json", s, strlen(s));
	free(s);
	json_decref(env);
}
