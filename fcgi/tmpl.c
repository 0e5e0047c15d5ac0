/*
 * <attribute> templates: "ipmi://<ipmi_user>:<ipmi_pass>@10.10.1.3/ipmi".
 *
 * A reference is '<', 1 to TMPL_NAME_MAX of [A-Za-z0-9_.-], '>'.  Any
 * other '<' is text ("a<b", "<>", "< x>"), so templates for power URIs
 * and kickstart files need no escaping.  Values are inserted verbatim
 * and never expanded again: an attribute cannot smuggle in a reference
 * to another one, and expansion is one pass whose cost is bounded.
 *
 * Where a template is a script or a command line (kickstart, iPXE), a
 * value must not end its line and start one of its own: TMPL_LINE_SAFE
 * refuses a value holding any control character (0x00-0x1f, tab
 * included, and 0x7f) rather than escaping it, as no escape is right for
 * every kind of file.  Where it is JSON (ignition), TMPL_JSON escapes
 * '"' and '\' so a value placed in a string stays in that string.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* The output under construction; grows by doubling up to the caller's cap. */
struct tmplbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
	char	*err;		/* the reason when the cap is hit */
	size_t	 errsz;
};

static int
tmpl_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Append n bytes; -1 with the reason set if the result would exceed the cap. */
static int
tmpl_put(struct tmplbuf *b, const char *p, size_t n)
{
	char	*ns;
	size_t	 ncap;

	if (n > b->max - b->len) {
		snprintf(b->err, b->errsz, "Expanded template is longer than "
		    "%zu bytes", b->max);
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap;
		while (ncap < b->len + n + 1)
			ncap = ncap > SIZE_MAX / 2 ? b->len + n + 1 : ncap * 2;
		ns = xmalloc(ncap);
		memcpy(ns, b->s, b->len);
		free(b->s);
		b->s = ns;
		b->cap = ncap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

/*
 * The length of the reference name at t (just after a '<'), or 0 if t
 * does not continue a reference, in which case the '<' is text.
 */
static size_t
tmpl_ref_len(const char *t)
{
	size_t	 n;

	for (n = 0; n <= TMPL_NAME_MAX && tmpl_name_char(t[n]); n++)
		continue;
	if (n == 0 || n > TMPL_NAME_MAX || t[n] != '>')
		return 0;
	return n;
}

/*
 * Append value val of attribute name as how says (TMPL_*): 0, or -1 with
 * the reason set (too long), or TMPL_REFUSED naming the attribute but
 * nothing of its value, which may be a secret.
 */
static int
tmpl_value(struct tmplbuf *b, const char *name, const char *val, int how)
{
	const char	*p;
	char		 esc[8];
	unsigned char	 ch;

	if (how & TMPL_LINE_SAFE)
		for (p = val; *p != '\0'; p++) {
			ch = (unsigned char)*p;
			if (ch == '\n' || ch == '\r') {
				snprintf(b->err, b->errsz, "attribute %s holds a "
				    "line break", name);
				return TMPL_REFUSED;
			}
			if (ch < 0x20 || ch == 0x7f) {
				snprintf(b->err, b->errsz, "attribute %s holds a "
				    "control character (0x%02x)", name, ch);
				return TMPL_REFUSED;
			}
		}
	if (!(how & TMPL_JSON))
		return tmpl_put(b, val, strlen(val));
	for (p = val; *p != '\0'; p++) {
		ch = (unsigned char)*p;
		if (ch == '"' || ch == '\\')
			snprintf(esc, sizeof(esc), "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			snprintf(esc, sizeof(esc), "\\u%04x", ch);
		else {
			esc[0] = (char)ch;
			esc[1] = '\0';
		}
		if (tmpl_put(b, esc, strlen(esc)) == -1)
			return -1;
	}
	return 0;
}

/*
 * Expand tmpl, replacing each <name> with lookup(name, arg), into a new
 * string of at most maxlen bytes in *out (the caller frees it).  Returns 0,
 * or -1 with *out NULL and a reason in err: the first unknown attribute and
 * its position, or the result being longer than maxlen.
 */
int
tmpl_expand(const char *tmpl, tmpl_lookup lookup, void *arg, size_t maxlen,
    char **out, char *err, size_t errsz)
{
	return tmpl_expand_as(tmpl, 0, lookup, arg, maxlen, out, err, errsz);
}

/*
 * tmpl_expand with values put in as how says (TMPL_LINE_SAFE, TMPL_JSON,
 * or both).  Returns 0; -1 as tmpl_expand; or TMPL_REFUSED, *out NULL,
 * for a value TMPL_LINE_SAFE refuses, err naming the attribute ("attribute
 * rack holds a line break").
 */
int
tmpl_expand_as(const char *tmpl, int how, tmpl_lookup lookup, void *arg,
    size_t maxlen, char **out, char *err, size_t errsz)
{
	struct tmplbuf	 b;
	char		 name[TMPL_NAME_MAX + 1];
	const char	*p, *lt, *val;
	size_t		 n;
	int		 rc = -1, vrc;

	*out = NULL;
	if (errsz > 0)
		err[0] = '\0';
	b.cap = 64;
	b.s = xmalloc(b.cap);
	b.s[0] = '\0';
	b.len = 0;
	b.max = maxlen;
	b.err = err;
	b.errsz = errsz;

	for (p = tmpl; *p != '\0'; ) {
		/* Copy text up to the next '<' in one piece. */
		if ((lt = strchr(p, '<')) == NULL)
			lt = p + strlen(p);
		if (tmpl_put(&b, p, (size_t)(lt - p)) == -1)
			goto out;
		if (*lt == '\0')
			break;
		if ((n = tmpl_ref_len(lt + 1)) == 0) {
			if (tmpl_put(&b, "<", 1) == -1)
				goto out;
			p = lt + 1;
			continue;
		}
		memcpy(name, lt + 1, n);
		name[n] = '\0';
		if ((val = lookup(name, arg)) == NULL) {
			snprintf(err, errsz, "Unknown attribute <%s> at "
			    "position %zu", name, (size_t)(lt - tmpl) + 1);
			goto out;
		}
		if ((vrc = tmpl_value(&b, name, val, how)) != 0) {
			rc = vrc;
			goto out;
		}
		p = lt + 1 + n + 1;
	}
	*out = b.s;		/* ownership passes last */
	b.s = NULL;
	rc = 0;
out:
	free(b.s);
	return rc;
}
