/*
 * Naming-pool patterns: "n{}", "gpu{:03d}", "rack1-n{:02d}-a".
 *
 * A pattern is a prefix, exactly one placeholder and a suffix.  The
 * placeholder is Python's format syntax cut down to what can appear in a
 * host name: "{}" or "{:d}" (plain decimal) and "{:0Nd}" (zero-padded to N
 * digits, N from 1 to 9).  "{:Nd}" pads with spaces and is refused.
 * Every name a pattern makes must pass valid_name() and fit one DNS label,
 * so a pattern is checked here once and names never need a second look.
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"

static int
naming_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Show one byte of a pattern in a reason without passing on control bytes. */
static void
naming_show(char c, char *buf, size_t bufsz)
{
	if (c == ' ')
		snprintf(buf, bufsz, "a space");
	else if (c >= 0x21 && c <= 0x7e && c != '\'')
		snprintf(buf, bufsz, "'%c'", c);
	else
		snprintf(buf, bufsz, "byte 0x%02x", (unsigned char)c);
}

/*
 * Copy the literal run of pattern starting at *pos into dst (room for
 * NAMING_LABEL_MAX characters) until '{' or the end.  Returns 0, or -1 with
 * a reason naming the position of the first byte that cannot be there.
 */
static int
naming_literal(const char *pattern, size_t *pos, char *dst, const char *what,
    char *err, size_t errsz)
{
	char	 shown[16];
	size_t	 i = *pos, n = 0;

	for (; pattern[i] != '\0' && pattern[i] != '{'; i++) {
		if (pattern[i] == '}') {
			snprintf(err, errsz, "Pattern has '}' outside the "
			    "placeholder at position %zu", i + 1);
			return -1;
		}
		if (!naming_char_ok(pattern[i])) {
			naming_show(pattern[i], shown, sizeof(shown));
			snprintf(err, errsz, "Pattern has %s at position %zu; "
			    "only letters, digits, '.', '_' and '-' may surround "
			    "the placeholder", shown, i + 1);
			return -1;
		}
		if (n >= NAMING_LABEL_MAX) {
			snprintf(err, errsz, "Pattern %s is longer than %d "
			    "characters at position %zu", what,
			    NAMING_LABEL_MAX, i + 1);
			return -1;
		}
		dst[n++] = pattern[i];
	}
	dst[n] = '\0';
	*pos = i;
	return 0;
}

/*
 * Read the placeholder starting at pattern[*pos] == '{' into width and
 * zero and leave *pos after its '}'.  Returns 0 or -1 with a reason.
 */
static int
naming_placeholder(const char *pattern, size_t *pos, struct naming *nm,
    char *err, size_t errsz)
{
	const char	*p = pattern + *pos + 1;
	size_t		 at = *pos + 1;		/* 1-based position of '{' */
	size_t		 i;

	nm->width = 0;
	nm->zero = 0;
	if (p[0] == '}') {
		*pos += 2;
		return 0;
	}
	if (p[0] == ':' && p[1] == 'd' && p[2] == '}') {
		*pos += 4;
		return 0;
	}
	for (i = 1; p[0] == ':' && p[i] >= '0' && p[i] <= '9'; i++)
		continue;
	if (p[0] == ':' && p[1] >= '1' && p[1] <= '9' && p[i] == 'd') {
		snprintf(err, errsz, "Placeholder at position %zu pads with "
		    "spaces, which cannot appear in a name; pad with zeros, "
		    "as in {:03d}", at);
		return -1;
	}
	if (p[0] == ':' && p[1] == '0') {
		for (i = 2; p[i] >= '0' && p[i] <= '9'; i++)
			continue;
		if (p[i] == 'd' && p[i + 1] == '}') {
			if (i != 3 || p[2] == '0') {
				snprintf(err, errsz, "Placeholder at position "
				    "%zu must pad to 1 to 9 digits, as in "
				    "{:03d}", at);
				return -1;
			}
			nm->width = p[2] - '0';
			nm->zero = 1;
			*pos += 6;
			return 0;
		}
	}
	snprintf(err, errsz, "Placeholder at position %zu must be {}, {:d} or "
	    "{:0Nd} with N from 1 to 9", at);
	return -1;
}

/*
 * Parse a naming-pool pattern into out.  Returns 0, or -1 with a reason
 * naming the position in err; out is then unspecified.
 */
int
naming_parse(const char *pattern, struct naming *out, char *err,
    size_t errsz)
{
	char	 name[NAMING_LABEL_MAX + 16];
	size_t	 pos = 0;
	int	 rc = -1;

	if (errsz > 0)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (pattern == NULL || pattern[0] == '\0') {
		snprintf(err, errsz, "Pattern is empty");
		goto out;
	}
	if (naming_literal(pattern, &pos, out->prefix, "prefix", err,
	    errsz) == -1)
		goto out;
	if (pattern[pos] != '{') {
		snprintf(err, errsz, "Pattern has no placeholder such as {} "
		    "or {:03d}");
		goto out;
	}
	if (naming_placeholder(pattern, &pos, out, err, errsz) == -1)
		goto out;
	if (naming_literal(pattern, &pos, out->suffix, "suffix", err,
	    errsz) == -1)
		goto out;
	if (pattern[pos] == '{') {
		snprintf(err, errsz, "Pattern has a second placeholder at "
		    "position %zu; only one is allowed", pos + 1);
		goto out;
	}
	/* Index 0 makes the shortest name; it must already be a good one. */
	if (naming_format(out, 0, name, sizeof(name)) == -1) {
		if (out->prefix[0] == '.' || out->prefix[0] == '-')
			snprintf(err, errsz, "Pattern must not start with "
			    "'%c' at position 1", out->prefix[0]);
		else
			snprintf(err, errsz, "Pattern makes names longer than "
			    "%d characters", NAMING_LABEL_MAX);
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/*
 * Write the name for index into buf.  Returns 0, or -1 if index is out of
 * 0..NAMING_INDEX_MAX, the name would not fit buf or would not be a valid
 * name of at most NAMING_LABEL_MAX characters.
 */
int
naming_format(const struct naming *nm, long long index, char *buf,
    size_t bufsz)
{
	int	 n;

	if (bufsz > 0)
		buf[0] = '\0';
	if (index < 0 || index > NAMING_INDEX_MAX)
		return -1;
	/* Only parsed shapes: no space padding, no width over nine. */
	if (nm->width < 0 || nm->width > 9 || (nm->width > 0) != !!nm->zero)
		return -1;
	if (memchr(nm->prefix, '\0', sizeof(nm->prefix)) == NULL ||
	    memchr(nm->suffix, '\0', sizeof(nm->suffix)) == NULL)
		return -1;
	n = snprintf(buf, bufsz, "%s%0*lld%s", nm->prefix, nm->width, index,
	    nm->suffix);
	if (n < 0 || (size_t)n >= bufsz || n > NAMING_LABEL_MAX ||
	    !valid_name(buf)) {
		if (bufsz > 0)
			buf[0] = '\0';
		return -1;
	}
	return 0;
}

/*
 * Whether name is what nm makes for some index: 1 with that index in
 * *index (if not NULL), else 0.  Padding must be exactly what
 * naming_format() writes, so "gpu7" does not match "gpu{:03d}" and "n007"
 * does not match "n{}".
 */
int
naming_match(const struct naming *nm, const char *name, long long *index)
{
	char		 digits[16], again[NAMING_LABEL_MAX + 1];
	const char	*errstr;
	long long	 v;
	size_t		 len, plen, slen, dlen, i;

	if (name == NULL)
		return 0;
	len = strnlen(name, NAMING_LABEL_MAX + 1);
	plen = strnlen(nm->prefix, sizeof(nm->prefix));
	slen = strnlen(nm->suffix, sizeof(nm->suffix));
	if (len > NAMING_LABEL_MAX || len <= plen + slen)
		return 0;
	if (strncmp(name, nm->prefix, plen) != 0 ||
	    memcmp(name + len - slen, nm->suffix, slen) != 0)
		return 0;
	/* Prefix and suffix are fixed, so the digits between are too. */
	dlen = len - plen - slen;
	if (dlen >= sizeof(digits))
		return 0;
	for (i = 0; i < dlen; i++)
		if (name[plen + i] < '0' || name[plen + i] > '9')
			return 0;
	memcpy(digits, name + plen, dlen);
	digits[dlen] = '\0';
	v = num_parse(digits, 0, NAMING_INDEX_MAX, &errstr);
	if (errstr != NULL)
		return 0;
	/* Only the canonical spelling of v matches: padding is not free. */
	if (naming_format(nm, v, again, sizeof(again)) == -1 ||
	    strcmp(again, name) != 0)
		return 0;
	if (index != NULL)
		*index = v;
	return 1;
}
