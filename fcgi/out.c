/*
 * Answers written by hand.  The object engine splices stored documents
 * (compact JSON it wrote itself) into lists and single GETs, so 10,000
 * nodes cost a copy rather than a decode and an encode each; these are
 * the few pieces of JSON it writes around them.  resp.c sends the result.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* Append n bytes of s; the buffer stays NUL-terminated. */
void
out_add(struct outbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 4096;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append printf-formatted text. */
void
out_printf(struct outbuf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[512], *s = buf;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf)) {
		s = xmalloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(s, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	out_add(b, s, (size_t)n);
	if (s != buf)
		free(s);
}

void
out_str(struct outbuf *b, const char *s)
{
	out_add(b, s, strlen(s));
}

/* s as a JSON string, quotes included; NULL as null. */
void
out_jstr(struct outbuf *b, const char *s)
{
	char	 esc[8];
	size_t	 run;

	if (s == NULL) {
		out_str(b, "null");
		return;
	}
	out_add(b, "\"", 1);
	while (*s != '\0') {
		for (run = 0; s[run] != '\0' && s[run] != '"' && s[run] != '\\' &&
		    (unsigned char)s[run] >= 0x20; run++)
			;
		out_add(b, s, run);
		s += run;
		if (*s == '\0')
			break;
		if (*s == '"' || *s == '\\')
			snprintf(esc, sizeof(esc), "\\%c", *s);
		else
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned char)*s);
		out_str(b, esc);
		s++;
	}
	out_add(b, "\"", 1);
}

/*
 * Epoch seconds with at most microsecond precision (the objects'
 * last_modified, a DECIMAL(17,6)) as jansson writes them with
 * JSON_REAL_PRECISION(16): 1721850600.36195, 1721850600.0.  Done with
 * integers: printf's %g costs more than everything else in a list of
 * 10,000 objects.  The double holds the microseconds exactly (v * 1e6 <
 * 2^53), so rounding recovers them.
 */
void
out_seconds(struct outbuf *b, double v)
{
	char		 buf[32], *p = buf + sizeof(buf);
	long long	 us = (long long)(v * 1e6 + (v < 0 ? -0.5 : 0.5)), sec, frac;
	int		 i, neg = us < 0, digits = 6;

	if (neg)
		us = -us;
	sec = us / 1000000;
	frac = us % 1000000;
	while (digits > 1 && frac % 10 == 0) {	/* no trailing zeros */
		frac /= 10;
		digits--;
	}
	for (i = 0; i < digits; i++) {
		*--p = (char)('0' + frac % 10);
		frac /= 10;
	}
	*--p = '.';
	do {
		*--p = (char)('0' + sec % 10);
		sec /= 10;
	} while (sec > 0);
	if (neg)
		*--p = '-';
	out_add(b, p, (size_t)(buf + sizeof(buf) - p));
}

void
out_free(struct outbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
