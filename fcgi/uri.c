/*
 * Power URIs: "ipmi://service:servicepass@10.10.1.3/ipmi", parsed into the
 * reference's "parsed" object of GET /node/:id/power_uri:
 *
 *	scheme://[userinfo@]server[/path][?query]
 *
 *	scheme		the URI scheme up to its first '+' ("redfish" of
 *			"redfish+https"); [a-z][a-z0-9]*
 *	schemes		what follows the '+' ("https"), or "" if none; [a-z]+
 *	server		the authority's host[:port] as written: a DNS name,
 *			dotted IPv4 or [IPv6], port 1 to 65535
 *	server_username	all of the userinfo before the last '@', percent-
 *			decoded ("service:servicepass"), or null if none
 *	path		the path without its leading '/', as written ("ipmi"),
 *			or "" if none
 *	host		the first segment of the path, the target behind the
 *			controller (a chassis slot, a VM name), or null if the
 *			path is empty
 *	username	the query's username=, percent-decoded, or null
 *	password	the query's password=, percent-decoded, or null
 *
 * Anything else is refused rather than dropped: fragments, other query
 * keys, control bytes, spaces and bytes outside ASCII, the characters RFC
 * 3986 never allows ('"', '<', '>', '\', '^', '`', '{', '|', '}'; a '<'
 * is most likely a template reference left unexpanded), a '%' that does
 * not start an escape, escapes that decode to control bytes.  Which schemes a
 * power driver supports is for the caller to decide; this only parses.
 * A '+' in a query value is a '+' (RFC 3986), not a space.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define URI_SCHEME_MAX	32

static int
uri_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static int
uri_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
uri_alnum(char c)
{
	return uri_lower(c) || uri_digit(c) || (c >= 'A' && c <= 'Z');
}

/* A copy of the n bytes at p as a string. */
static char *
uri_dup(const char *p, size_t n)
{
	char	*s;

	s = xmalloc(n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/*
 * Percent-decode the n bytes at p (at offset base of the URI) into a new
 * string in *out.  Returns 0, or -1 with a reason: a '%' without two hex
 * digits, or an escape decoding to a byte outside printable ASCII.
 */
static int
uri_decode(const char *p, size_t n, size_t base, const char *what,
    char **out, char *err, size_t errsz)
{
	char	*s = NULL;
	size_t	 i, j;
	int	 hi, lo, rc = -1;

	*out = NULL;
	s = xmalloc(n + 1);
	for (i = j = 0; i < n; i++) {
		if (p[i] != '%') {
			s[j++] = p[i];
			continue;
		}
		if (n - i < 3 || (hi = hex_digit(p[i + 1])) == -1 ||
		    (lo = hex_digit(p[i + 2])) == -1) {
			snprintf(err, errsz, "Power URI %s has a '%%' that is "
			    "not an escape at position %zu; write %%25 for a "
			    "'%%'", what, base + i + 1);
			goto out;
		}
		if (hi * 16 + lo < 0x20 || hi * 16 + lo > 0x7e) {
			snprintf(err, errsz, "Power URI %s has an escape at "
			    "position %zu that decodes to a control or "
			    "non-ASCII byte", what, base + i + 1);
			goto out;
		}
		s[j++] = (char)(hi * 16 + lo);
		i += 2;
	}
	s[j] = '\0';
	*out = s;		/* ownership passes last */
	s = NULL;
	rc = 0;
out:
	free(s);
	return rc;
}

/* Whether host is a DNS name: labels of letters, digits, '-', no '-' ends. */
static int
uri_dns_ok(const char *host)
{
	size_t	 i, label = 0;

	if (strlen(host) > 253)
		return 0;
	for (i = 0; host[i] != '\0'; i++) {
		if (host[i] == '.') {
			if (label == 0 || host[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!uri_alnum(host[i]) && host[i] != '-')
			return 0;
		if (label == 0 && host[i] == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && host[i - 1] != '-';
}

/*
 * Check the authority's host[:port], the n bytes at p (at offset base).
 * Returns 0 or -1 with a reason.
 */
static int
uri_server_ok(const char *p, size_t n, size_t base, char *err, size_t errsz)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	const char	*errstr, *port = NULL, *colon;
	char		*host = NULL, *portstr = NULL;
	size_t		 hlen, i, plen = 0;
	int		 alldigits, rc = -1;

	if (n > 0 && p[0] == '[') {
		if ((colon = memchr(p, ']', n)) == NULL) {
			snprintf(err, errsz, "Power URI has '[' without ']' "
			    "at position %zu", base + 1);
			goto out;
		}
		host = uri_dup(p + 1, (size_t)(colon - p) - 1);
		if (inet_pton(AF_INET6, host, &a6) != 1) {
			snprintf(err, errsz, "Power URI server at position "
			    "%zu is not a valid IPv6 address", base + 1);
			goto out;
		}
		colon++;
		if (colon < p + n && *colon != ':') {
			snprintf(err, errsz, "Power URI has text after ']' at "
			    "position %zu", base + (size_t)(colon - p) + 1);
			goto out;
		}
	} else {
		colon = memchr(p, ':', n);
		hlen = colon == NULL ? n : (size_t)(colon - p);
		if (colon != NULL && memchr(colon + 1, ':',
		    n - hlen - 1) != NULL) {
			snprintf(err, errsz, "Power URI server at position %zu "
			    "has more than one ':'; put an IPv6 address in "
			    "brackets", base + 1);
			goto out;
		}
		if (hlen == 0) {
			snprintf(err, errsz, "Power URI has no server at "
			    "position %zu", base + 1);
			goto out;
		}
		host = uri_dup(p, hlen);
		alldigits = 1;
		for (i = 0; i < hlen; i++)
			if (!uri_digit(host[i]) && host[i] != '.')
				alldigits = 0;
		if (alldigits && inet_pton(AF_INET, host, &a4) != 1) {
			snprintf(err, errsz, "Power URI server at position %zu "
			    "is not a valid IPv4 address", base + 1);
			goto out;
		}
		if (!alldigits && !uri_dns_ok(host)) {
			snprintf(err, errsz, "Power URI server at position %zu "
			    "is not a valid host name", base + 1);
			goto out;
		}
	}
	if (colon != NULL && colon < p + n) {
		port = colon + 1;
		plen = n - (size_t)(port - p);
		for (i = 0; i < plen; i++)
			if (!uri_digit(port[i]))
				break;
		if (plen == 0 || plen > 5 || i < plen) {
			snprintf(err, errsz, "Power URI port at position %zu "
			    "must be a number from 1 to 65535",
			    base + (size_t)(port - p) + 1);
			goto out;
		}
		portstr = uri_dup(port, plen);
		(void)num_parse(portstr, 1, 65535, &errstr);
		if (errstr != NULL) {
			snprintf(err, errsz, "Power URI port at position %zu "
			    "must be a number from 1 to 65535",
			    base + (size_t)(port - p) + 1);
			goto out;
		}
	}
	rc = 0;
out:
	free(host);
	free(portstr);
	return rc;
}

/* Whether c may appear as written in a path (RFC 3986 pchar or '/'). */
static int
uri_path_char(char c)
{
	return uri_alnum(c) || strchr("-._~!$&'()*+,;=:@/%", c) != NULL;
}

/*
 * Parse the query, the n bytes at p (at offset base), for username= and
 * password= into new strings.  Returns 0 or -1 with a reason.
 */
static int
uri_query(const char *p, size_t n, size_t base, char **user, char **pass,
    char *err, size_t errsz)
{
	const char	*item, *end, *eq;
	char		**dst;
	size_t		 klen;

	for (item = p; item < p + n; item = end + 1) {
		if ((end = memchr(item, '&', (size_t)(p + n - item))) == NULL)
			end = p + n;
		eq = memchr(item, '=', (size_t)(end - item));
		klen = eq == NULL ? 0 : (size_t)(eq - item);
		if (klen == 8 && strncmp(item, "username", 8) == 0)
			dst = user;
		else if (klen == 8 && strncmp(item, "password", 8) == 0)
			dst = pass;
		else {
			snprintf(err, errsz, "Power URI query at position %zu "
			    "may only hold username=... and password=...",
			    base + (size_t)(item - p) + 1);
			return -1;
		}
		if (*dst != NULL) {
			snprintf(err, errsz, "Power URI query has a second %s "
			    "at position %zu", dst == user ? "username" :
			    "password", base + (size_t)(item - p) + 1);
			return -1;
		}
		if (uri_decode(eq + 1, (size_t)(end - eq - 1),
		    base + (size_t)(eq + 1 - p), dst == user ? "username" :
		    "password", dst, err, errsz) == -1)
			return -1;
		if (end == p + n)
			break;
	}
	return 0;
}

/* Set key of o to s, or to null if s is NULL; -1 if jansson fails. */
static int
uri_set(json_t *o, const char *key, const char *s)
{
	return json_object_set_new(o, key, s == NULL ? json_null() :
	    json_string(s));
}

/*
 * Parse a power URI into a new JSON object of the reference's "parsed"
 * shape (new reference), or NULL with a reason naming the position in err.
 */
json_t *
uri_parse_power(const char *uri, char *err, size_t errsz)
{
	json_t		*o = NULL, *ret = NULL;
	char		*scheme = NULL, *schemes = NULL, *server = NULL;
	char		*userinfo = NULL, *path = NULL, *host = NULL;
	char		*user = NULL, *pass = NULL;
	const char	*p, *auth, *authend, *at, *q, *seg;
	size_t		 len, i, n;

	if (errsz > 0)
		err[0] = '\0';
	if (uri == NULL || uri[0] == '\0') {
		snprintf(err, errsz, "Power URI is empty");
		goto out;
	}
	if ((len = strnlen(uri, URI_MAX_LEN + 1)) > URI_MAX_LEN) {
		snprintf(err, errsz, "Power URI is longer than %d bytes",
		    URI_MAX_LEN);
		goto out;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)uri[i] <= 0x20 ||
		    (unsigned char)uri[i] >= 0x7f) {
			snprintf(err, errsz, "Power URI has a space, control "
			    "or non-ASCII byte at position %zu", i + 1);
			goto out;
		}
		if (uri[i] == '#') {
			snprintf(err, errsz, "Power URI has a fragment ('#') "
			    "at position %zu", i + 1);
			goto out;
		}
		/* Never valid in a URI; a '<' is likely an unknown <attr>. */
		if (strchr("\"<>\\^`{|}", uri[i]) != NULL) {
			snprintf(err, errsz, "Power URI has '%c' at position "
			    "%zu; write it as %%%02X", uri[i], i + 1,
			    (unsigned char)uri[i]);
			goto out;
		}
	}

	/* scheme[+schemes]:// */
	for (n = 0; uri_lower(uri[n]) || (n > 0 && uri_digit(uri[n])); n++)
		continue;
	if (n == 0 || n > URI_SCHEME_MAX) {
		snprintf(err, errsz, "Power URI must start with a lowercase "
		    "scheme of 1 to %d letters and digits, as in ipmi://",
		    URI_SCHEME_MAX);
		goto out;
	}
	scheme = uri_dup(uri, n);
	p = uri + n;
	if (*p == '+') {
		for (n = 0; uri_lower(p[1 + n]); n++)
			continue;
		if (n == 0 || n > URI_SCHEME_MAX) {
			snprintf(err, errsz, "Power URI scheme needs 1 to %d "
			    "lowercase letters after '+' at position %zu",
			    URI_SCHEME_MAX, (size_t)(p - uri) + 1);
			goto out;
		}
		schemes = uri_dup(p + 1, n);
		p += 1 + n;
	} else
		schemes = xstrdup("");
	if (strncmp(p, "://", 3) != 0) {
		snprintf(err, errsz, "Power URI scheme must be followed by "
		    "\"://\" at position %zu", (size_t)(p - uri) + 1);
		goto out;
	}

	/* [userinfo@]server: userinfo ends at the last '@', as Python's does. */
	auth = p + 3;
	authend = auth + strcspn(auth, "/?");
	at = NULL;
	for (q = auth; q < authend; q++)
		if (*q == '@')
			at = q;
	if (at != NULL) {
		if (at == auth) {
			snprintf(err, errsz, "Power URI has an empty user "
			    "before '@' at position %zu",
			    (size_t)(at - uri) + 1);
			goto out;
		}
		if (uri_decode(auth, (size_t)(at - auth), (size_t)(auth - uri),
		    "user", &userinfo, err, errsz) == -1)
			goto out;
		auth = at + 1;
	}
	if (auth == authend) {
		snprintf(err, errsz, "Power URI has no server at position %zu",
		    (size_t)(auth - uri) + 1);
		goto out;
	}
	if (uri_server_ok(auth, (size_t)(authend - auth), (size_t)(auth - uri),
	    err, errsz) == -1)
		goto out;
	server = uri_dup(auth, (size_t)(authend - auth));

	/* [/path]: kept as written; its first segment is the target host. */
	p = authend;
	if (*p == '/') {
		p++;
		n = strcspn(p, "?");
		for (i = 0; i < n; i++) {
			if (!uri_path_char(p[i])) {
				snprintf(err, errsz, "Power URI path has '%c' "
				    "at position %zu; escape it as %%%02X",
				    p[i], (size_t)(p + i - uri) + 1,
				    (unsigned char)p[i]);
				goto out;
			}
			if (p[i] == '%' && (i + 2 >= n ||
			    hex_digit(p[i + 1]) == -1 ||
			    hex_digit(p[i + 2]) == -1)) {
				snprintf(err, errsz, "Power URI path has a '%%' "
				    "that is not an escape at position %zu",
				    (size_t)(p + i - uri) + 1);
				goto out;
			}
		}
		path = uri_dup(p, n);
		if ((seg = strchr(path, '/')) == NULL)
			seg = path + n;
		if (seg > path)
			host = uri_dup(path, (size_t)(seg - path));
		p += n;
	} else
		path = xstrdup("");

	/* [?query] */
	if (*p == '?' && uri_query(p + 1, strlen(p + 1), (size_t)(p + 1 - uri),
	    &user, &pass, err, errsz) == -1)
		goto out;

	if ((o = json_object()) == NULL ||
	    uri_set(o, "scheme", scheme) == -1 ||
	    uri_set(o, "schemes", schemes) == -1 ||
	    uri_set(o, "server", server) == -1 ||
	    uri_set(o, "path", path) == -1 ||
	    uri_set(o, "server_username", userinfo) == -1 ||
	    uri_set(o, "username", user) == -1 ||
	    uri_set(o, "password", pass) == -1 ||
	    uri_set(o, "host", host) == -1) {
		snprintf(err, errsz, "Out of memory parsing the power URI");
		goto out;
	}
	ret = o;		/* ownership passes last */
	o = NULL;
out:
	json_decref(o);
	free(scheme);
	free(schemes);
	free(server);
	free(userinfo);
	free(path);
	free(host);
	free(user);
	free(pass);
	return ret;
}
