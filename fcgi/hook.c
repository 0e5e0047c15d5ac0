/*
 * One webhook call (corral-jobd only; run_hook.c runs the jobs): a POST
 * of the event's JSON body, signed the Standard Webhooks way:
 *
 *	webhook-id: <the job's UID: the same on every retry>
 *	webhook-timestamp: <epoch seconds>
 *	webhook-signature: v1,<base64(HMAC-SHA256(secret, id "." timestamp "." body))>
 *
 * A 2xx answer within the hook's timeout is delivered; anything else is
 * a failure with a reason.  Redirects are never followed (a 3xx is a
 * failure), and every address the URL's host resolves to is checked at
 * connect time (hook_addr_allowed): loopback, link-local, unspecified,
 * multicast and the [hooks] deny networks (the BMCs') are refused unless
 * [hooks] allow names them, so a hook cannot be pointed at the head's
 * own services or the BMCs, by name, by address or by DNS rebinding.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "extern.h"

#define HOOK_ANSWER_MAX		(64 * 1024)	/* what we keep of an answer */

/* http.c's connect-time check: the address against [hooks] allow/deny. */
static int
hook_addr_check(const struct sockaddr *sa, unsigned int len, void *arg,
    char *why, size_t whysz)
{
	const struct conf	*conf = arg;
	char			 addr[IP_STR_MAX];
	const void		*a;

	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6 &&
	    len >= sizeof(struct sockaddr_in6))
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else {
		snprintf(why, whysz, "not an IP address");
		return 0;
	}
	if (inet_ntop(sa->sa_family, a, addr, sizeof(addr)) == NULL) {
		snprintf(why, whysz, "unprintable address");
		return 0;
	}
	return hook_addr_allowed(addr, conf->hooks_allow, conf->hooks_deny,
	    why, whysz) == 1;
}

/*
 * POST c->body to c->url, signed with c->secret (none: no signature
 * header).  Returns 0 when the hook answered 2xx, else -1 with the
 * reason in why ("HTTP 500", "no answer within 5 s", "address refused:
 * 127.0.0.1 is a loopback address ...").  *status is the HTTP status, or
 * 0 when no answer came.
 */
int
hook_deliver(const struct conf *conf, const struct hook_call *c,
    long *status, char *why, size_t whysz)
{
	struct http_opts	 o;
	struct http_resp	 rs;
	struct http		*h = NULL;
	const char		*hdrs[5];
	char			 hid[160], hts[64], hsig[96], sig[64];
	char			*msg = NULL;
	unsigned char		*key = NULL;
	size_t			 keylen = 0, n = 0;
	long long		 ts = (long long)time(NULL);
	int			 rc = -1;

	memset(&rs, 0, sizeof(rs));
	*status = 0;
	snprintf(hid, sizeof(hid), "webhook-id: %s", c->id);
	snprintf(hts, sizeof(hts), "webhook-timestamp: %lld", ts);
	hdrs[n++] = "Content-Type: application/json";
	hdrs[n++] = hid;
	hdrs[n++] = hts;
	if (c->secret != NULL) {
		xasprintf(&msg, "%s.%lld.%s", c->id, ts, c->body);
		if (crypto_hook_key(c->secret, &key, &keylen) == -1 ||
		    crypto_hmac_sha256_b64(key, keylen, msg, strlen(msg), sig,
		    sizeof(sig)) == -1) {
			snprintf(why, whysz, "the call cannot be signed");
			goto out;
		}
		snprintf(hsig, sizeof(hsig), "webhook-signature: v1,%s", sig);
		hdrs[n++] = hsig;
	}
	hdrs[n] = NULL;

	memset(&o, 0, sizeof(o));
	o.protocols = "http,https";
	o.headers = hdrs;
	o.tls_verify = conf->hooks_tls_verify;
	o.ca_bundle = conf->hooks_ca_bundle;
	o.user_agent = "corral-hooks";
	o.max_body = HOOK_ANSWER_MAX;
	o.addr_ok = hook_addr_check;
	o.addr_arg = (void *)(uintptr_t)conf;
	if ((h = http_open(&o, why, whysz)) == NULL)
		goto out;
	if (http_request(h, "POST", c->url, c->body, strlen(c->body),
	    (long)c->timeout * 1000, &rs) == -1) {
		switch (rs.fail) {
		case HTTP_BLOCKED:
			snprintf(why, whysz, "address refused (SSRF guard): %s",
			    rs.detail);
			break;
		case HTTP_TIMEOUT:
			snprintf(why, whysz, "no answer within %d s",
			    c->timeout);
			break;
		case HTTP_RESOLVE:
			snprintf(why, whysz, "host name not found");
			break;
		case HTTP_REFUSED:
			snprintf(why, whysz, "connection refused");
			break;
		default:
			snprintf(why, whysz, "cannot call it (%s)", rs.detail);
			break;
		}
		goto out;
	}
	*status = rs.status;
	if (rs.status >= 300 && rs.status < 400)
		snprintf(why, whysz, "HTTP %ld (redirects are not followed)",
		    rs.status);
	else if (rs.status < 200 || rs.status > 299)
		snprintf(why, whysz, "HTTP %ld", rs.status);
	else
		rc = 0;
out:
	if (key != NULL) {
		wipe(key, keylen);
		free(key);
	}
	if (msg != NULL) {
		wipe(msg, strlen(msg));
		free(msg);
	}
	http_resp_free(&rs);
	http_close(h);
	return rc;
}
