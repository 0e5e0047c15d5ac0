/*
 * Small helpers every module uses: allocation that aborts on exhaustion
 * (a worker may die of OOM, never of bad input), UIDs, bounded integers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

static void
oom(void)
{
	fputs("corral: out of memory\n", stderr);
	abort();
}

/* malloc(3) that never returns NULL. */
void *
xmalloc(size_t sz)
{
	void	*p;

	if ((p = malloc(sz == 0 ? 1 : sz)) == NULL)
		oom();
	return p;
}

/* calloc(3) that never returns NULL. */
void *
xcalloc(size_t n, size_t sz)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, sz == 0 ? 1 : sz)) == NULL)
		oom();
	return p;
}

/* realloc(3) that never returns NULL. */
void *
xrealloc(void *p, size_t sz)
{
	if ((p = realloc(p, sz == 0 ? 1 : sz)) == NULL)
		oom();
	return p;
}

/* strdup(3) that never returns NULL; NULL in gives NULL out. */
char *
xstrdup(const char *s)
{
	char	*p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		oom();
	return p;
}

/* The first n bytes of s (fewer if s is shorter), as a new string. */
char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	n = strnlen(s, n);
	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Overwrite a secret before its memory is freed (not optimized away). */
void
wipe(void *p, size_t n)
{
	volatile unsigned char	*v = p;

	while (n-- > 0)
		*v++ = 0;
}

/* asprintf into a new allocation; returns the length. */
int
xasprintf(char **out, const char *fmt, ...)
{
	va_list	 ap;
	int	 len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		oom();
	*out = xmalloc((size_t)len + 1);
	va_start(ap, fmt);
	vsnprintf(*out, (size_t)len + 1, fmt, ap);
	va_end(ap);
	return len;
}

/* Fill buf from the kernel's random source.  Returns 0 or -1. */
int
random_bytes(void *buf, size_t len)
{
	unsigned char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A new object UID: 32 lowercase hex digits of kernel randomness. */
int
uid_new(char out[UID_LEN + 1])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 raw[UID_LEN / 2];
	size_t			 i;

	if (random_bytes(raw, sizeof(raw)) == -1)
		return -1;
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 0xf];
	}
	out[UID_LEN] = '\0';
	return 0;
}

/* Whether s is exactly 32 lowercase hex digits. */
int
uid_valid(const char *s)
{
	size_t	 i;

	if (s == NULL)
		return 0;
	for (i = 0; i < UID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[UID_LEN] == '\0';
}

/*
 * Parse a decimal integer within [min, max], in the manner of OpenBSD's
 * strtonum(3).  On error returns 0 and sets *errstr to "invalid",
 * "too small" or "too large"; on success *errstr is NULL.
 */
long long
num_parse(const char *s, long long min, long long max, const char **errstr)
{
	char		*end;
	long long	 v;

	*errstr = NULL;
	if (s == NULL || *s == '\0' || min > max) {
		*errstr = "invalid";
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || end == s) {
		*errstr = "invalid";
		return 0;
	}
	if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
		*errstr = "too small";
		return 0;
	}
	if ((errno == ERANGE && v == LLONG_MAX) || v > max) {
		*errstr = "too large";
		return 0;
	}
	return v;
}

/* Wall-clock time as epoch seconds with microseconds. */
double
time_now(void)
{
	struct timeval	 tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Milliseconds of a clock that never jumps: for timeouts, not for dates. */
long long
monotonic_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A unix socket of type bound at path, mode 0660 (only the service's
 * group may connect), replacing a stale socket file.  Returns the
 * descriptor or -1 (logged).
 */
int
unix_bind(const char *path, int type)
{
	struct sockaddr_un	 sun;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path == NULL || strlen(path) >= sizeof(sun.sun_path)) {
		log_err("socket path missing or too long: %s",
		    path != NULL ? path : "(none)");
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (unlink(path) == -1 && errno != ENOENT) {
		log_err("unlink %s: %s", path, strerror(errno));
		return -1;
	}
	if ((fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) == -1) {
		log_err("socket: %s", strerror(errno));
		return -1;
	}
	/* The umask closes the window between bind(2) and chmod(2). */
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		log_err("bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, 0660) == -1) {
		log_err("chmod %s: %s", path, strerror(errno));
		close(fd);
		(void)unlink(path);
		return -1;
	}
	return fd;
}

/*
 * Whether s is a safe object name: 1 to NAME_MAX_LEN characters of
 * letters, digits, '.', '_' and '-', starting with a letter, digit or
 * '_'.  Names reach DNS, file names and shells, so nothing else passes.
 */
int
valid_name(const char *s)
{
	size_t	 i;
	char	 c;

	if (s == NULL || s[0] == '\0' || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= NAME_MAX_LEN)
			return 0;
		c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/*
 * Whether s is acceptable free text of at most max bytes: any UTF-8
 * (jansson has checked it) but no control characters other than tab and
 * newline.  Quotes and other SQL or shell metacharacters are legitimate
 * in text and are stored verbatim; text never reaches SQL unbound.
 */
int
valid_text(const char *s, size_t max)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= max)
			return 0;
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' &&
		    s[i] != '\r') || s[i] == 0x7f)
			return 0;
	}
	return 1;
}

/*
 * Whether s is a DNS name: dot-separated labels of 1-63 letters, digits
 * and '-', not starting or ending with '-', at most 253 bytes.
 */
int
valid_dnsname(const char *s)
{
	size_t	 label = 0, total = 0;
	char	 prev = '.';

	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++, total++) {
		if (total >= 253)
			return 0;
		if (*s == '.') {
			if (label == 0 || prev == '-')
				return 0;
			label = 0;
		} else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || (*s == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else
			return 0;
		prev = *s;
	}
	return label > 0 && prev != '-';
}

/* The value of hex digit c (either case), or -1. */
int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * IP addresses as 16 big-endian bytes, IPv4 mapped into the last four, so
 * networks of either family share one arithmetic.
 */

/* Parse s into out; AF_INET, AF_INET6, or 0 if s is not an address. */
int
ip_parse(const char *s, unsigned char out[16])
{
	memset(out, 0, 16);
	if (s == NULL)
		return 0;
	if (inet_pton(AF_INET, s, out + 12) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, out) == 1)
		return AF_INET6;
	return 0;
}

/* Write a of family fam into buf (IP_STR_MAX bytes); buf, or NULL. */
const char *
ip_format(const unsigned char a[16], int fam, char *buf)
{
	return inet_ntop(fam, fam == AF_INET ? a + 12 : a, buf, IP_STR_MAX);
}

/* Whether a and b share their first bits bits (0..128). */
int
ip_same_prefix(const unsigned char *a, const unsigned char *b, int bits)
{
	int	 i;

	for (i = 0; bits >= 8; i++, bits -= 8)
		if (a[i] != b[i])
			return 0;
	return bits == 0 || ((a[i] ^ b[i]) & (0xff << (8 - bits)) & 0xff) == 0;
}

/* a += n in place; -1 (a unusable) on overflow past the last address. */
int
ip_add(unsigned char a[16], unsigned long long n)
{
	int	 i;

	for (i = 15; i >= 0 && n > 0; i--) {
		n += a[i];
		a[i] = n & 0xff;
		n >>= 8;
	}
	return n == 0 ? 0 : -1;
}

/* b - a when a <= b and the difference fits, else -1. */
long long
ip_diff(const unsigned char a[16], const unsigned char b[16])
{
	unsigned long long	 d = 0;
	int			 i, borrow = 0, v;

	if (memcmp(a, b, 16) > 0)
		return -1;
	for (i = 0; i < 8; i++)
		if (a[i] != b[i])
			return -1;	/* more than 2^64 apart */
	for (i = 15; i >= 8; i--) {
		v = b[i] - a[i] - borrow;
		borrow = v < 0;
		d |= (unsigned long long)(v & 0xff) << (8 * (15 - i));
	}
	return d > (unsigned long long)LLONG_MAX ? -1 : (long long)d;
}

/*
 * The length of the UTF-8 sequence starting at s if it is a whole, valid
 * one (shortest form, no surrogates, at most U+10FFFF), else 0.
 */
static size_t
utf8_seq(const unsigned char *s)
{
	size_t		 n, i;
	unsigned int	 cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* also stops at the terminating NUL */
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/*
 * Make s valid UTF-8 in place: every byte that does not start a whole,
 * valid sequence becomes '?', so a reason cut by "%.32s" in the middle of
 * a character, or echoing a client's raw bytes, can always be encoded.
 */
void
utf8_clean(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 n;

	while (*p != '\0') {
		if ((n = utf8_seq(p)) == 0) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

/*
 * write(2) all of data[len] to fd, which may be non-blocking (then it
 * waits in poll(2)).  0, or -1 with errno set.
 */
int
write_all(int fd, const void *data, size_t len)
{
	const char	*buf = data;
	struct pollfd	 pfd;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			pfd.fd = fd;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, -1);
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Whether h (a Host header) is host[:port] made of name or address
 * characters only: safe to write into a URL we hand back.
 */
int
valid_host(const char *h)
{
	return *h != '\0' && strlen(h) < 256 && h[strspn(h,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")] == '\0';
}
