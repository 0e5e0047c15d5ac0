/*
 * Answers written by hand.  The object engine splices stored documents
 * (compact JSON it wrote itself) into lists and single GETs, so 10,000
 * nodes cost a copy rather than a decode and an encode each; these are
 * the few pieces of JSON it writes around them.  resp.c sends the result.
 */
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

/* A number as jansson writes reals with JSON_REAL_PRECISION(16). */
void
out_double(struct outbuf *b, double v)
{
	char	 num[40];

	snprintf(num, sizeof(num), "%.16g", v);
	/* JSON has no bare integer reals: 1e9 stays, 5 becomes 5.0. */
	if (strpbrk(num, ".eEn") == NULL)
		strncat(num, ".0", sizeof(num) - strlen(num) - 1);
	out_str(b, num);
}

void
out_free(struct outbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
