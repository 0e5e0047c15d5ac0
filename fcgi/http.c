/*
 * HTTP client requests: the only file that includes <curl/curl.h>;
 * linked into corral-jobd alone (Redfish BMCs, webhooks).
 *
 * One struct http is one libcurl easy handle, so the requests of one
 * call (Redfish's GET then POST) share a connection.  What a caller may
 * not get wrong is fixed here: redirects are never followed, no proxy
 * from the environment is used (an SSRF check of the proxy's address
 * would check the wrong host), only the protocols the caller names are
 * spoken, and no signal is used for timeouts (jobd's runners are
 * single-threaded children, but the resolver's alarm would still race).
 *
 * An optional check sees every address libcurl is about to connect to,
 * after name resolution (CURLOPT_OPENSOCKETFUNCTION), so a name that
 * resolves to a forbidden address is refused however it was written,
 * and a DNS answer that changes between a check and the connect (DNS
 * rebinding) cannot slip past it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "extern.h"

struct http {
	CURL			*curl;
	struct curl_slist	*hdrs;
	struct http_opts	 o;
	char			 cerr[CURL_ERROR_SIZE];
	char			 blocked[256];	/* the address check's reason */
	struct http_resp	*resp;		/* being filled */
};

/*
 * Copy at most max bytes of s (a peer's or libcurl's text) into dst:
 * printable ASCII only, so nothing a peer sends can forge a log line.
 */
void
http_text_clean(char *dst, size_t dstsz, const char *s, size_t max)
{
	size_t	 i, n = 0;

	for (i = 0; s != NULL && s[i] != '\0' && i < max && n + 1 < dstsz; i++)
		dst[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	if (dstsz > 0)
		dst[n] = '\0';
}

/* libcurl's write callback: keep the answer, up to max_body. */
static size_t
http_write(char *data, size_t size, size_t n, void *arg)
{
	struct http		*h = arg;
	struct http_resp	*rs = h->resp;
	size_t			 len = size * n;

	if (len > h->o.max_body - rs->bodylen) {
		rs->toobig = 1;
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	}
	rs->body = xrealloc(rs->body, rs->bodylen + len + 1);
	memcpy(rs->body + rs->bodylen, data, len);
	rs->bodylen += len;
	rs->body[rs->bodylen] = '\0';
	return len;
}

/*
 * libcurl's socket opener: ask the caller's check about the address
 * first.  Refusing is CURL_SOCKET_BAD, which libcurl reports as a failed
 * connect; blocked[] says why.
 */
static curl_socket_t
http_opensocket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct http	*h = arg;
	char		 why[200];

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	if (h->o.addr_ok != NULL) {
		why[0] = '\0';
		if (!h->o.addr_ok(&a->addr, a->addrlen, h->o.addr_arg, why,
		    sizeof(why))) {
			snprintf(h->blocked, sizeof(h->blocked), "%s", why);
			return CURL_SOCKET_BAD;
		}
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/*
 * Set up a handle for o (copied; its strings are borrowed and must
 * outlive the handle).  Returns the handle, or NULL with why.
 */
struct http *
http_open(const struct http_opts *o, char *why, size_t whysz)
{
	static int		 global_done;
	struct http		*h;
	struct curl_slist	*l;
	size_t			 i;

	/*
	 * Not thread-safe before libcurl 7.84; corral-jobd runs each job in
	 * a single-threaded child, so the first call here is the only one.
	 */
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(why, whysz, "libcurl cannot start");
			return NULL;
		}
		global_done = 1;
	}
	h = xcalloc(1, sizeof(*h));
	h->o = *o;
	if (h->o.max_body == 0)
		h->o.max_body = HTTP_BODY_MAX;
	if ((h->curl = curl_easy_init()) == NULL) {
		snprintf(why, whysz, "libcurl cannot start");
		goto fail;
	}
	for (i = 0; o->headers != NULL && o->headers[i] != NULL; i++) {
		if ((l = curl_slist_append(h->hdrs, o->headers[i])) == NULL) {
			snprintf(why, whysz, "out of memory");
			goto fail;
		}
		h->hdrs = l;
	}
	/* "Expect:" keeps libcurl from waiting for a 100 Continue. */
	if ((l = curl_slist_append(h->hdrs, "Expect:")) == NULL) {
		snprintf(why, whysz, "out of memory");
		goto fail;
	}
	h->hdrs = l;
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, o->protocols != NULL ?
	    o->protocols : "https");
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->curl, CURLOPT_PROXY, "");
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->cerr);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->hdrs);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, o->user_agent != NULL ?
	    o->user_agent : "corral-jobd");
	curl_easy_setopt(h->curl, CURLOPT_OPENSOCKETFUNCTION, http_opensocket);
	curl_easy_setopt(h->curl, CURLOPT_OPENSOCKETDATA, h);
	if (o->user != NULL) {
		curl_easy_setopt(h->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(h->curl, CURLOPT_USERNAME, o->user);
		curl_easy_setopt(h->curl, CURLOPT_PASSWORD,
		    o->pass != NULL ? o->pass : "");
	}
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, o->tls_verify ? 1L : 0L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, o->tls_verify ? 2L : 0L);
	if (o->ca_bundle != NULL && o->ca_bundle[0] != '\0')
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, o->ca_bundle);
	return h;
fail:
	http_close(h);
	return NULL;
}

/* Free h and its connection; NULL is fine. */
void
http_close(struct http *h)
{
	if (h == NULL)
		return;
	curl_slist_free_all(h->hdrs);
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h);
}

/* Forget rs's answer (the body); rs may be used again. */
void
http_resp_free(struct http_resp *rs)
{
	free(rs->body);
	memset(rs, 0, sizeof(*rs));
}

/* What went wrong, from libcurl's code, into rs. */
static void
http_fail(struct http *h, CURLcode cc, struct http_resp *rs)
{
	long	 oserr = 0;

	http_text_clean(rs->detail, sizeof(rs->detail), h->cerr[0] != '\0' ?
	    h->cerr : curl_easy_strerror(cc), 200);
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		rs->fail = HTTP_TIMEOUT;
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		rs->fail = HTTP_RESOLVE;
		break;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &oserr);
		if (h->blocked[0] != '\0') {
			rs->fail = HTTP_BLOCKED;
			snprintf(rs->detail, sizeof(rs->detail), "%s",
			    h->blocked);
		} else if (oserr == ECONNREFUSED)
			rs->fail = HTTP_REFUSED;
		else if (oserr == EHOSTUNREACH || oserr == ENETUNREACH) {
			rs->fail = HTTP_UNREACHABLE;
			snprintf(rs->detail, sizeof(rs->detail), "%s",
			    strerror((int)oserr));
		} else
			rs->fail = HTTP_CONNECT;
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		rs->fail = HTTP_CERT;
		break;
	case CURLE_SSL_CACERT_BADFILE:
		rs->fail = HTTP_CAFILE;
		break;
	case CURLE_SSL_CONNECT_ERROR:
		rs->fail = HTTP_TLS;
		break;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		rs->fail = HTTP_CLOSED;
		break;
	case CURLE_WRITE_ERROR:
		if (rs->toobig) {
			rs->fail = HTTP_TOOBIG;
			break;
		}
		/* FALLTHROUGH */
	default:
		rs->fail = HTTP_OTHER;
		break;
	}
}

/*
 * Send method ("GET", or "POST" with len bytes of body) to url within
 * timeout_ms.  Returns 0 when an answer came, whatever its status (in
 * rs->status, the body in rs->body), or -1 with rs->fail and rs->detail
 * saying what went wrong.  rs is overwritten; free it with
 * http_resp_free.
 */
int
http_request(struct http *h, const char *method, const char *url,
    const char *body, size_t len, long timeout_ms, struct http_resp *rs)
{
	CURLcode	 cc;

	http_resp_free(rs);
	h->cerr[0] = '\0';
	h->blocked[0] = '\0';
	h->resp = rs;
	if (timeout_ms <= 0) {
		rs->fail = HTTP_TIMEOUT;
		return -1;
	}
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body != NULL ?
		    body : "");
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)len);
	} else
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	cc = curl_easy_perform(h->curl);
	h->resp = NULL;
	if (cc != CURLE_OK) {
		http_fail(h, cc, rs);
		return -1;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &rs->status);
	return 0;
}
