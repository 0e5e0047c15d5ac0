/*
 * Power control over Redfish, through http.c (libcurl); linked into
 * corral-jobd alone.
 *
 * One call: find the computer system (the BMC's first member of
 * /redfish/v1/Systems unless the power URI names one), GET it for its
 * PowerState and its ComputerSystem.Reset action, then POST the ResetType:
 *
 *	on -> On	off -> ForceOff		soft -> GracefulShutdown
 *	cycle -> PowerCycle (ForceOff then On when the BMC does not offer it)
 *	reset -> ForceRestart
 *
 * on, off and soft on a system already in that state send nothing (many
 * BMCs answer such a reset with an error).
 *
 * HTTPS with the peer's certificate and name verified unless [power]
 * tls_verify is off; ca_bundle replaces the system's CA store.  The
 * "redfish+http" scheme is plain HTTP, for test benches.  Basic auth on
 * every request; the password goes to libcurl only, never into a URL, a
 * log line or a reason.  Redirects are never followed.  timeout_ms bounds
 * the whole call, every request included.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extern.h"

#define RF_BODY_MAX		(1024 * 1024)	/* a larger answer is refused */
#define RF_URL_MAX		1024
#define RF_SYSTEMS		"/redfish/v1/Systems"
#define RF_RESET_ACTION		"#ComputerSystem.Reset"
#define RF_ALLOWABLE		"ResetType@Redfish.AllowableValues"

/* One call's connection and the last answer. */
struct rf {
	struct http		*http;
	struct http_resp	 resp;		/* the last answer */
	const struct bmc	*b;
	const struct power_opts	*o;
	char			 base[300];	/* scheme://host:port */
	int			 port;
	long long		 deadline;	/* monotonic ms */
};

/* Printable ASCII of a BMC's text, so it cannot forge a log line. */
#define text_clean	http_text_clean

/*
 * Whether p is a path this driver may request: absolute, of URL path
 * characters only (unreserved, sub-delims, ':', '@', '%'), no "//" start.
 */
static int
path_ok(const char *p)
{
	size_t	 i;

	if (p == NULL || p[0] != '/' || p[1] == '/' || strlen(p) > 512)
		return 0;
	for (i = 0; p[i] != '\0'; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-._~!$&'()*+,;=:@%/", p[i]) == NULL)
			return 0;
	return 1;
}

/* Whether h may go into a URL as a host: a name, IPv4 or IPv6 address. */
static int
host_ok(const char *h)
{
	size_t	 i;

	if (h == NULL || h[0] == '\0' || strlen(h) > 253)
		return 0;
	for (i = 0; h[i] != '\0'; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-._:", h[i]) == NULL)
			return 0;
	return 1;
}

/* The reason for a request that got no answer. */
static void
rf_fail_reason(struct rf *rf, char *why, size_t whysz)
{
	const struct http_resp	*rs = &rf->resp;

	switch (rs->fail) {
	case HTTP_TIMEOUT:
		snprintf(why, whysz, "no answer within %.1f s",
		    rf->o->timeout_ms / 1000.0);
		break;
	case HTTP_RESOLVE:
		snprintf(why, whysz, "host name not found");
		break;
	case HTTP_REFUSED:
		snprintf(why, whysz, "connection refused (nothing "
		    "listens on TCP port %d)", rf->port);
		break;
	case HTTP_UNREACHABLE:
		snprintf(why, whysz, "unreachable (%s)", rs->detail);
		break;
	case HTTP_CONNECT:
	case HTTP_BLOCKED:
		snprintf(why, whysz, "cannot connect (%s)", rs->detail);
		break;
	case HTTP_CERT:
		snprintf(why, whysz, "certificate not trusted (%s)", rs->detail);
		break;
	case HTTP_CAFILE:
		snprintf(why, whysz, "CA bundle %s cannot be used (%s)",
		    rf->o->ca_bundle != NULL ? rf->o->ca_bundle : "(system)",
		    rs->detail);
		break;
	case HTTP_TLS:
		snprintf(why, whysz, "TLS handshake failed (%s)", rs->detail);
		break;
	case HTTP_CLOSED:
		snprintf(why, whysz, "connection closed by the BMC (%s)",
		    rs->detail);
		break;
	case HTTP_TOOBIG:
		snprintf(why, whysz, "answer larger than %d bytes",
		    RF_BODY_MAX);
		break;
	default:
		snprintf(why, whysz, "HTTP request failed (%s)", rs->detail);
		break;
	}
}

/*
 * The reason for an HTTP error status to method path: the status in words
 * and the BMC's own message when it sent one.
 */
static void
rf_http_reason(struct rf *rf, long status, const char *method,
    const char *path, char *why, size_t whysz)
{
	json_t		*j, *msg = NULL;
	char		 text[256] = "";

	if (status == 401) {
		snprintf(why, whysz, "authentication failed (wrong user name "
		    "or password)");
		return;
	}
	if (status == 403) {
		snprintf(why, whysz, "forbidden (the user may not %s %s)",
		    method, path);
		return;
	}
	if (status >= 300 && status < 400) {
		snprintf(why, whysz, "HTTP %ld to %s %s (redirects are not "
		    "followed)", status, method, path);
		return;
	}
	if (rf->resp.body != NULL && (j = json_loadb(rf->resp.body,
	    rf->resp.bodylen, 0, NULL)) != NULL) {
		/* Redfish puts the useful text in ExtendedInfo, or message. */
		msg = json_object_get(json_array_get(json_object_get(
		    json_object_get(j, "error"), "@Message.ExtendedInfo"), 0),
		    "Message");
		if (!json_is_string(msg))
			msg = json_object_get(json_object_get(j, "error"),
			    "message");
		if (json_is_string(msg))
			text_clean(text, sizeof(text), json_string_value(msg),
			    200);
		json_decref(j);
	}
	if (status == 404)
		snprintf(why, whysz, "%s not found on the BMC%s%s", path,
		    text[0] != '\0' ? ": " : "", text);
	else
		snprintf(why, whysz, "HTTP %ld to %s %s%s%s", status, method,
		    path, text[0] != '\0' ? ": " : "", text);
}

/*
 * Send method (GET or POST with the JSON text send) to path; on a 2xx
 * answer with a body, *out is the decoded object (new reference), else
 * NULL.  Returns the HTTP status (2xx), or -1 with the reason in why.
 * GETs are retried up to o->retries times on a dropped connection or a
 * 503, while time is left.
 */
static long
rf_request(struct rf *rf, const char *method, const char *path,
    const char *send, json_t **out, char *why, size_t whysz)
{
	char		 url[RF_URL_MAX];
	json_error_t	 jerr;
	long long	 left;
	long		 status = 0;
	int		 post = strcmp(method, "POST") == 0, tries = 0, got;

	*out = NULL;
	if ((size_t)snprintf(url, sizeof(url), "%s%s", rf->base, path) >=
	    sizeof(url)) {
		snprintf(why, whysz, "URL too long");
		return -1;
	}
	for (;;) {
		if ((left = rf->deadline - monotonic_ms()) <= 0) {
			snprintf(why, whysz, "no answer within %.1f s",
			    rf->o->timeout_ms / 1000.0);
			return -1;
		}
		got = http_request(rf->http, post ? "POST" : "GET", url, send,
		    send != NULL ? strlen(send) : 0, (long)left, &rf->resp);
		status = got == 0 ? rf->resp.status : 0;
		if (!post && tries++ < rf->o->retries &&
		    ((got == -1 && rf->resp.fail == HTTP_CLOSED) ||
		    (got == 0 && status == 503)))
			continue;
		break;
	}
	if (got == -1) {
		rf_fail_reason(rf, why, whysz);
		return -1;
	}
	if (status < 200 || status > 299) {
		rf_http_reason(rf, status, method, path, why, whysz);
		return -1;
	}
	if (rf->resp.bodylen > 0 && !post) {
		*out = json_loadb(rf->resp.body, rf->resp.bodylen,
		    JSON_REJECT_DUPLICATES, &jerr);
		if (*out == NULL || !json_is_object(*out)) {
			json_decref(*out);
			*out = NULL;
			snprintf(why, whysz, "GET %s: the answer is not a JSON "
			    "object", path);
			return -1;
		}
	}
	return status;
}

/* POST ResetType rt to the reset action target.  0, or -1 with why. */
static int
rf_reset(struct rf *rf, const char *target, const char *rt, char *why,
    size_t whysz)
{
	char	 body[64];
	json_t	*none;

	snprintf(body, sizeof(body), "{\"ResetType\":\"%s\"}", rt);
	if (rf_request(rf, "POST", target, body, &none, why, whysz) == -1)
		return -1;
	json_decref(none);
	return 0;
}

/* Whether the BMC offers ResetType rt (it offers all if it lists none). */
static int
rf_offers(const json_t *allowable, const char *rt)
{
	size_t	 i;
	json_t	*v;

	if (!json_is_array(allowable))
		return 1;
	json_array_foreach(allowable, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), rt) == 0)
			return 1;
	return 0;
}

/* "the BMC offers only A, B" for a reason. */
static void
rf_offers_text(const json_t *allowable, const char *rt, char *why,
    size_t whysz)
{
	char	 list[200] = "", clean[40];
	size_t	 i;
	json_t	*v;

	json_array_foreach(allowable, i, v) {
		if (!json_is_string(v))
			continue;
		text_clean(clean, sizeof(clean), json_string_value(v), 32);
		if (strlen(list) + strlen(clean) + 3 >= sizeof(list))
			break;
		if (list[0] != '\0')
			strcat(list, ", ");
		strcat(list, clean);
	}
	snprintf(why, whysz, "the BMC does not offer ResetType %s (it offers: "
	    "%s)", rt, list);
}

/*
 * The system's path: the power URI's, made absolute under /redfish/v1/
 * when relative ("Systems/1"), or the first member of the BMC's systems.
 * Writes it to sys.  Returns 0, or -1 with why.
 */
static int
rf_system(struct rf *rf, char *sys, size_t syssz, char *why, size_t whysz)
{
	json_t		*coll = NULL, *id;
	const char	*p = rf->b->path;
	int		 rc = -1;

	if (p != NULL && *p != '\0') {
		while (*p == '/')
			p++;
		snprintf(sys, syssz, "%s%s", strncmp(p, "redfish/", 8) == 0 ?
		    "/" : "/redfish/v1/", p);
		if (!path_ok(sys)) {
			snprintf(why, whysz, "the system path in the power URI "
			    "is not a plain URL path");
			return -1;
		}
		return 0;
	}
	if (rf_request(rf, "GET", RF_SYSTEMS, NULL, &coll, why, whysz) == -1)
		goto out;
	id = json_object_get(json_array_get(json_object_get(coll, "Members"),
	    0), "@odata.id");
	if (!json_is_string(id)) {
		snprintf(why, whysz, "no computer system in %s", RF_SYSTEMS);
		goto out;
	}
	if (!path_ok(json_string_value(id))) {
		snprintf(why, whysz, "the BMC's first system has an odd "
		    "@odata.id");
		goto out;
	}
	snprintf(sys, syssz, "%s", json_string_value(id));
	rc = 0;
out:
	json_decref(coll);
	return rc;
}

/* PowerState as power_state; -1 if the BMC says something else. */
static int
rf_state(const char *s, enum power_state *state)
{
	/* A transition counts as where it is heading. */
	if (strcmp(s, "On") == 0 || strcmp(s, "PoweringOn") == 0 ||
	    strcmp(s, "Paused") == 0)
		*state = POWER_IS_ON;
	else if (strcmp(s, "Off") == 0 || strcmp(s, "PoweringOff") == 0)
		*state = POWER_IS_OFF;
	else
		return -1;
	return 0;
}

/*
 * Set up rf's connection for b and o: URL base, auth, TLS, protocols,
 * headers.  Returns 0, or -1 with why.
 */
static int
rf_open(struct rf *rf, char *why, size_t whysz)
{
	static const char *const headers[] = { "Accept: application/json",
	    "Content-Type: application/json", "OData-Version: 4.0", NULL };
	struct http_opts	 ho;
	const char		*proto;
	int			 tls;

	if (rf->b->scheme == NULL || (strcmp(rf->b->scheme, "redfish") != 0 &&
	    strcmp(rf->b->scheme, "redfish+https") != 0 &&
	    strcmp(rf->b->scheme, "redfish+http") != 0)) {
		snprintf(why, whysz, "not a Redfish power URI");
		return -1;
	}
	tls = strcmp(rf->b->scheme, "redfish+http") != 0;
	proto = tls ? "https" : "http";
	if (!host_ok(rf->b->host)) {
		snprintf(why, whysz, "bad BMC host name");
		return -1;
	}
	if (rf->o->timeout_ms <= 0 || rf->o->retries < 0) {
		snprintf(why, whysz, "power timeout must be positive and "
		    "retries not negative");
		return -1;
	}
	rf->port = rf->b->port > 0 ? rf->b->port : tls ? 443 : 80;
	snprintf(rf->base, sizeof(rf->base), strchr(rf->b->host, ':') ?
	    "%s://[%s]:%d" : "%s://%s:%d", proto, rf->b->host, rf->port);

	memset(&ho, 0, sizeof(ho));
	ho.protocols = proto;
	ho.headers = headers;
	ho.user = rf->b->user;
	ho.pass = rf->b->pass;
	ho.tls_verify = rf->o->tls_verify;
	ho.ca_bundle = rf->o->ca_bundle;
	ho.max_body = RF_BODY_MAX;
	if ((rf->http = http_open(&ho, why, whysz)) == NULL)
		return -1;
	return 0;
}

/*
 * Do op on the Redfish BMC b with the options o.  *state is the power
 * state for POWER_STAT, and for on, off and soft when the system was
 * already there (nothing was sent); otherwise POWER_UNKNOWN, as a reset
 * answers before the power has changed.  Returns 0, or -1 with
 * "host: reason" in err.
 */
int
redfish_power(const struct bmc *b, const struct power_opts *o,
    enum power_op op, enum power_state *state, char *err, size_t errsz)
{
	struct rf	 rf;
	json_t		*sysj = NULL, *ps, *action, *target, *allowable;
	char		 sys[600], tgt[640], why[512];
	const char	*rt = NULL;
	enum power_state now;
	int		 rc = -1;

	memset(&rf, 0, sizeof(rf));
	rf.b = b;
	rf.o = o;
	rf.deadline = monotonic_ms() + o->timeout_ms;
	*state = POWER_UNKNOWN;
	why[0] = '\0';

	if (rf_open(&rf, why, sizeof(why)) == -1 ||
	    rf_system(&rf, sys, sizeof(sys), why, sizeof(why)) == -1 ||
	    rf_request(&rf, "GET", sys, NULL, &sysj, why, sizeof(why)) == -1)
		goto out;
	if (sysj == NULL || !json_is_string(ps = json_object_get(sysj,
	    "PowerState"))) {
		snprintf(why, sizeof(why), "%.300s has no PowerState", sys);
		goto out;
	}
	if (rf_state(json_string_value(ps), &now) == -1) {
		char	 clean[40];

		text_clean(clean, sizeof(clean), json_string_value(ps), 32);
		snprintf(why, sizeof(why), "unknown PowerState \"%s\"", clean);
		goto out;
	}
	if (op == POWER_STAT ||
	    (op == POWER_ON && now == POWER_IS_ON) ||
	    ((op == POWER_OFF || op == POWER_SOFT) && now == POWER_IS_OFF)) {
		*state = now;
		rc = 0;
		goto out;
	}

	action = json_object_get(json_object_get(sysj, "Actions"),
	    RF_RESET_ACTION);
	allowable = json_object_get(action, RF_ALLOWABLE);
	target = json_object_get(action, "target");
	if (json_is_string(target))
		snprintf(tgt, sizeof(tgt), "%s", json_string_value(target));
	else	/* The standard place, for BMCs that do not say. */
		snprintf(tgt, sizeof(tgt), "%s/Actions/ComputerSystem.Reset",
		    sys);
	if (!path_ok(tgt)) {
		snprintf(why, sizeof(why), "the BMC's reset target is not a "
		    "plain URL path");
		goto out;
	}

	switch (op) {
	case POWER_ON:
		rt = "On";
		break;
	case POWER_OFF:
		rt = "ForceOff";
		break;
	case POWER_SOFT:
		rt = "GracefulShutdown";
		break;
	case POWER_RESET:
		rt = "ForceRestart";
		break;
	case POWER_CYCLE:
		rt = "PowerCycle";
		if (rf_offers(allowable, rt))
			break;
		/* Off (unless it is) then on: a cycle in two steps. */
		if (!rf_offers(allowable, "ForceOff") ||
		    !rf_offers(allowable, "On")) {
			rf_offers_text(allowable, rt, why, sizeof(why));
			goto out;
		}
		if (now != POWER_IS_OFF &&
		    rf_reset(&rf, tgt, "ForceOff", why, sizeof(why)) == -1)
			goto out;
		rt = "On";
		break;
	default:
		snprintf(why, sizeof(why), "unknown power operation");
		goto out;
	}
	if (!rf_offers(allowable, rt)) {
		rf_offers_text(allowable, rt, why, sizeof(why));
		goto out;
	}
	if (rf_reset(&rf, tgt, rt, why, sizeof(why)) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1) {
		char	 host[260];

		text_clean(host, sizeof(host), b->host, 253);
		if (rf.port != 0 && rf.port != (rf.base[4] == 's' ? 443 : 80))
			snprintf(err, errsz, "%s:%d: %s", host, rf.port, why);
		else
			snprintf(err, errsz, "%s: %s", host, why);
	}
	json_decref(sysj);
	http_resp_free(&rf.resp);
	http_close(rf.http);
	return rc;
}
