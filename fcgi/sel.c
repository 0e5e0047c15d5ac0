/*
 * The node-selector language of dynamic groups, as in ClusterWare:
 * "a[_boot_config]==DefaultBoot", "h[ram_total] > 100GB and not s[x]".
 * Selectors come from clients and are evaluated for every node of a
 * cluster, so parsing is strict and bounded and evaluation allocates
 * nothing.
 *
 * Grammar (EBNF; keywords and units are case-insensitive, and space,
 * tab, CR and LF may stand between any two tokens):
 *
 *	selector   = or-expr ;
 *	or-expr    = and-expr { ( "or" | "||" ) and-expr } ;
 *	and-expr   = not-expr { ( "and" | "&&" ) not-expr } ;
 *	not-expr   = { "not" | "!" } primary ;
 *	primary    = "(" or-expr ")" | term [ op literal ] ;
 *	term       = source "[" key "]" ;
 *	source     = "a" | "h" | "s" | "attributes" | "hardware" | "status" ;
 *	key        = keychar { keychar } | '"' keychar { keychar } '"'
 *		   | "'" keychar { keychar } "'" ;		(1 to 64 keychars)
 *	keychar    = letter | digit | "_" | "." | "-" ;
 *	op         = "==" | "!=" | "<" | "<=" | ">" | ">=" ;
 *	literal    = string | number | word ;
 *	string     = '"' { char | "\" ( '"' | "'" | "\" ) } '"'
 *		   | "'" { char | "\" ( '"' | "'" | "\" ) } "'" ;
 *						(char: printable ASCII but
 *						the quote and "\"; at most
 *						256 bytes once unescaped)
 *	number     = [ "-" ] digit { digit } [ "." digit { digit } ] [ unit ] ;
 *						(at most 64 characters
 *						before the unit)
 *	unit       = "K" | "KB" | "M" | "MB" | "G" | "GB" | "T" | "TB"
 *		   | "P" | "PB"				(powers of 1000)
 *		   | "KiB" | "MiB" | "GiB" | "TiB" | "PiB" ;	(powers of 1024)
 *	word       = ( letter | "_" ) { keychar } ;	(not "and", "or",
 *						"not", "nan", "inf" or
 *						"infinity"; a string)
 *
 * The long source names and quoted keys exist so that the normalized form
 * ("(hardware[\"ram_total\"] > 100GB)") parses again, and the bounds
 * hold for both forms, so that it always does:
 *  - at most 4096 bytes, as written and once normalized;
 *  - at most 256 terms;
 *  - at most 32 parentheses open at once, as written and once
 *    normalized, where every term and operator is one pair: "not not
 *    a[x]" nests 3 deep, as "(not (not (attributes[\"x\"])))" does.
 * A run of the same operator is one operator, "a or b or c" normalizes
 * to "(A or B or C)", so a long list of alternatives does not nest.
 * "nan", "inf" and "infinity" are refused as words because whoever
 * writes them means a number, and there is no such number here.
 *
 * Evaluation, with v the value a term names (from a JSON object):
 *  - v missing or null: the term and every comparison of it are false,
 *    so "not a[x] == 1" holds for nodes without x.
 *  - A bare term is true unless v is false, 0, "", "0", "false" (any
 *    case), or an empty array or object.
 *  - A comparison with a number compares numbers when v is a number, a
 *    boolean (1 or 0) or a string that reads as a number with the same
 *    units ("128GB", " 1.5 TiB "); otherwise it compares strings, with
 *    the number as normalized ("100GB").
 *  - Comparing strings, == and != are exact and the others are byte-wise
 *    lexicographic; a number v is written in decimal for it and a
 *    boolean as "true" or "false".
 *  - v an array or object: every comparison is false.
 * Numbers are doubles, so integers beyond 2^53 compare approximately.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define SEL_KEY_MAX	64	/* characters of a key */
#define SEL_STR_MAX	256	/* bytes of a string literal, unescaped */
#define SEL_NUM_MAX	64	/* characters of a number before its unit */

enum nodekind { N_TERM, N_CMP, N_NOT, N_AND, N_OR };

enum source { SRC_ATTRIBUTES, SRC_HARDWARE, SRC_STATUS, SRC__MAX };

enum cmpop { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP__MAX };

/*
 * One node of the tree.  Operators hold their operands as a list in
 * kids; height (1 for a term) is checked against SEL_DEPTH_MAX as the
 * tree grows, which bounds every recursion over it.
 */
struct node {
	enum nodekind	 kind;
	size_t		 pos;		/* where it starts in the text */
	int		 height;
	struct node	*kids;		/* N_NOT: one; N_AND, N_OR: two or more */
	struct node	*next;		/* the next operand of the parent */
	enum source	 source;	/* N_TERM, N_CMP */
	char		 key[SEL_KEY_MAX + 1];
	enum cmpop	 op;		/* N_CMP */
	int		 isnum;		/* the literal is a number */
	double		 num;		/* its value, units applied */
	char		 lit[SEL_STR_MAX + 1];	/* string, or number normalized */
	size_t		 litlen;
};

struct sel {
	struct node	*root;
	unsigned int	 uses;		/* SEL_USES_* */
};

struct parser {
	const char	*text;
	size_t		 len;
	size_t		 pos;
	int		 parens;	/* open parentheses */
	int		 terms;
	unsigned int	 uses;
	int		 failed;
	size_t		 errpos;
	char		 why[160];
};

static const struct {
	const char	*brief;
	const char	*full;
} sources[SRC__MAX] = {
	{ "a", "attributes" },
	{ "h", "hardware" },
	{ "s", "status" },
};

/* Longest first, so "<=" is not read as "<" and "=". */
static const struct {
	const char	*text;
	enum cmpop	 op;
} optokens[] = {
	{ "==", OP_EQ }, { "!=", OP_NE }, { "<=", OP_LE }, { ">=", OP_GE },
	{ "<", OP_LT }, { ">", OP_GT },
};

static const char *const opnames[OP__MAX] = {
	"==", "!=", "<", "<=", ">", ">=",
};

/* The spelling here is the normalized one. */
static const struct unit {
	const char	*name;
	double		 factor;
} units[] = {
	{ "K", 1e3 }, { "KB", 1e3 }, { "M", 1e6 }, { "MB", 1e6 },
	{ "G", 1e9 }, { "GB", 1e9 }, { "T", 1e12 }, { "TB", 1e12 },
	{ "P", 1e15 }, { "PB", 1e15 },
	{ "KiB", 1024.0 }, { "MiB", 1048576.0 }, { "GiB", 1073741824.0 },
	{ "TiB", 1099511627776.0 }, { "PiB", 1125899906842624.0 },
};

static struct node	*parse_chain(struct parser *, enum nodekind);
static void		 fail(struct parser *, size_t, const char *, ...)
			    __attribute__((format(printf, 3, 4)));

/* ctype(3) would follow the locale; the language is ASCII. */
static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_letter(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_keychar(int c)
{
	return is_letter(c) || is_digit(c) || c == '_' || c == '.' || c == '-';
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Whether s[0..n) is word, ignoring case. */
static int
same_word(const char *s, size_t n, const char *word)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (word[i] == '\0' || lower(s[i]) != lower(word[i]))
			return 0;
	return word[n] == '\0';
}

/* Whether s[0..n) is word exactly. */
static int
exact_word(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

static const struct unit *
unit_find(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (same_word(s, n, units[i].name))
			return &units[i];
	return NULL;
}

/* Length of the ['-'] digits ['.' digits] at s, or 0 if there is none. */
static size_t
mantissa_len(const char *s, size_t len)
{
	size_t	 i = 0, first;

	if (i < len && s[i] == '-')
		i++;
	first = i;
	while (i < len && is_digit(s[i]))
		i++;
	if (i == first)
		return 0;
	if (i + 1 < len && s[i] == '.' && is_digit(s[i + 1])) {
		for (i++; i < len && is_digit(s[i]); i++)
			continue;
	}
	return i;
}

/*
 * The value of a mantissa mantissa_len() accepted, times the unit.
 * strtod(3) sees a copy holding only '-', digits and '.', so none of its
 * own syntax (hex, "nan", "inf", exponents) can get in, and corral
 * never calls setlocale(3), so the radix is '.'.
 */
static int
number_value(const char *s, size_t n, const struct unit *u, double *out)
{
	char	 buf[SEL_NUM_MAX + 1];
	double	 v;

	if (n == 0 || n > SEL_NUM_MAX)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	v = strtod(buf, NULL);
	if (u != NULL)
		v *= u->factor;
	if (!isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/*
 * A node's string value as a number, if it reads as one: the selector's
 * number syntax, with spaces allowed around it and before the unit,
 * since hardware tools print "128 GB".
 */
static int
string_number(const char *s, size_t len, double *out)
{
	const struct unit	*u = NULL;
	size_t			 i = 0, m, rest;

	while (i < len && is_space(s[i]))
		i++;
	while (len > i && is_space(s[len - 1]))
		len--;
	if ((m = mantissa_len(s + i, len - i)) == 0)
		return -1;
	for (rest = i + m; rest < len && s[rest] == ' '; rest++)
		continue;
	if (rest < len && (u = unit_find(s + rest, len - rest)) == NULL)
		return -1;
	return number_value(s + i, m, u, out);
}

/* ---------------------------------------------------------------- tree */

static void
node_free(struct node *n)
{
	struct node	*next;

	for (; n != NULL; n = next) {
		next = n->next;
		node_free(n->kids);
		free(n);
	}
}

static struct node *
node_new(enum nodekind kind, size_t pos)
{
	struct node	*n;

	n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->pos = pos;
	n->height = 1;
	return n;
}

/*
 * Add operand to the operator node op, taking it over; an operand that
 * is the same operator gives its operands instead, so "(a or b) or c"
 * and "a or b or c" are one tree.
 */
static void
node_add(struct node *op, struct node *operand)
{
	struct node	*kids, *last, *k;

	if (operand->kind == op->kind) {
		kids = operand->kids;
		operand->kids = NULL;
		node_free(operand);
	} else
		kids = operand;
	if (op->kids == NULL)
		op->kids = kids;
	else {
		for (last = op->kids; last->next != NULL; last = last->next)
			continue;
		last->next = kids;
	}
	for (k = kids; k != NULL; k = k->next)
		if (k->height + 1 > op->height)
			op->height = k->height + 1;
}

/* ---------------------------------------------------------------- parser */

/* Record the first failure only: it is the one the user can act on. */
static void
fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list	 ap;

	if (p->failed)
		return;
	p->failed = 1;
	p->errpos = pos;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
}

/* What is at pos, for "expected X, found Y"; never echoes raw bytes. */
static const char *
found(const struct parser *p, size_t pos, char *buf, size_t bufsz)
{
	unsigned char	 c;

	if (pos >= p->len)
		return "the end of the selector";
	c = (unsigned char)p->text[pos];
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, bufsz, "'%c'", c);
	else if (c < 0x20 || c == 0x7f)
		snprintf(buf, bufsz, "a control character (0x%02x)", c);
	else
		snprintf(buf, bufsz, "a non-ASCII byte (0x%02x)", c);
	return buf;
}

static int
peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->text[p->pos] : -1;
}

static void
skip_space(struct parser *p)
{
	while (p->pos < p->len && is_space(p->text[p->pos]))
		p->pos++;
}

/* Length of the word at the current position, or 0. */
static size_t
word_len(const struct parser *p)
{
	size_t	 i = p->pos;

	if (i >= p->len || !(is_letter(p->text[i]) || p->text[i] == '_'))
		return 0;
	for (i++; i < p->len && is_keychar(p->text[i]); i++)
		continue;
	return i - p->pos;
}

/* Whether the word at the current position is word, ignoring case. */
static int
at_word(const struct parser *p, const char *word)
{
	return same_word(p->text + p->pos, word_len(p), word);
}

static int
is_keyword(const char *s, size_t n)
{
	return same_word(s, n, "and") || same_word(s, n, "or") ||
	    same_word(s, n, "not");
}

/*
 * Length of the operator token kind ("and" or "&&" for N_AND, "or" or
 * "||" for N_OR, "not" or "!" but not "!=" for N_NOT) at the current
 * position, or 0.
 */
static size_t
at_operator(const struct parser *p, enum nodekind kind)
{
	const char	*s = p->text + p->pos;
	size_t		 left = p->len - p->pos;

	switch (kind) {
	case N_AND:
		if (left >= 2 && s[0] == '&' && s[1] == '&')
			return 2;
		return at_word(p, "and") ? 3 : 0;
	case N_OR:
		if (left >= 2 && s[0] == '|' && s[1] == '|')
			return 2;
		return at_word(p, "or") ? 2 : 0;
	case N_NOT:
		if (left >= 1 && s[0] == '!' && (left == 1 || s[1] != '='))
			return 1;
		return at_word(p, "not") ? 3 : 0;
	default:
		return 0;
	}
}

/* key, at the current position, into n->key. */
static int
parse_key(struct parser *p, struct node *n)
{
	char	 buf[32];
	size_t	 start, len;
	int	 quote = 0;

	if (peek(p) == '"' || peek(p) == '\'')
		quote = p->text[p->pos++];
	start = p->pos;
	while (p->pos < p->len && is_keychar(p->text[p->pos]))
		p->pos++;
	len = p->pos - start;
	if (len == 0) {
		fail(p, p->pos, "expected a key (letters, digits, '_', '.' "
		    "or '-'), found %s", found(p, p->pos, buf, sizeof(buf)));
		return -1;
	}
	if (len > SEL_KEY_MAX) {
		fail(p, start, "key longer than %d characters", SEL_KEY_MAX);
		return -1;
	}
	if (quote != 0) {
		if (peek(p) != quote) {
			fail(p, p->pos, "expected %c to end the key, found %s",
			    quote, found(p, p->pos, buf, sizeof(buf)));
			return -1;
		}
		p->pos++;
	}
	memcpy(n->key, p->text + start, len);
	n->key[len] = '\0';
	return 0;
}

/* term, at the current position: a new N_TERM node, or NULL. */
static struct node *
parse_term(struct parser *p)
{
	struct node	*n = NULL, *ret = NULL;
	char		 buf[32];
	size_t		 start = p->pos, wlen;
	int		 src;

	wlen = word_len(p);
	/* Lower case only, as the reference writes them. */
	for (src = 0; src < SRC__MAX; src++)
		if (exact_word(p->text + start, wlen, sources[src].brief) ||
		    exact_word(p->text + start, wlen, sources[src].full))
			break;
	if (src == SRC__MAX) {
		if (wlen > 0 && is_keyword(p->text + start, wlen))
			fail(p, start, "expected a term such as a[key], "
			    "found the keyword '%.*s'", (int)wlen,
			    p->text + start);
		else
			fail(p, start, "expected a term such as a[key], "
			    "h[key] or s[key], found %s",
			    found(p, start, buf, sizeof(buf)));
		goto out;
	}
	p->pos += wlen;
	skip_space(p);
	if (peek(p) != '[') {
		fail(p, p->pos, "expected '[', found %s",
		    found(p, p->pos, buf, sizeof(buf)));
		goto out;
	}
	p->pos++;
	skip_space(p);
	n = node_new(N_TERM, start);
	n->source = (enum source)src;
	if (parse_key(p, n) == -1)
		goto out;
	skip_space(p);
	if (peek(p) != ']') {
		fail(p, p->pos, "expected ']', found %s",
		    found(p, p->pos, buf, sizeof(buf)));
		goto out;
	}
	p->pos++;
	if (++p->terms > SEL_TERMS_MAX) {
		fail(p, start, "more than %d terms", SEL_TERMS_MAX);
		goto out;
	}
	p->uses |= 1u << src;
	ret = n;
	n = NULL;
out:
	node_free(n);
	return ret;
}

/* A quoted string at the current position into n->lit. */
static int
parse_string(struct parser *p, struct node *n)
{
	char	 buf[32];
	size_t	 start = p->pos;
	int	 quote, c;

	quote = p->text[p->pos++];
	n->litlen = 0;
	for (;;) {
		if (p->pos >= p->len) {
			fail(p, start, "unterminated string");
			return -1;
		}
		c = (unsigned char)p->text[p->pos];
		if (c == quote) {
			p->pos++;
			break;
		}
		if (c == '\\') {
			if (p->pos + 1 >= p->len) {
				fail(p, start, "unterminated string");
				return -1;
			}
			c = (unsigned char)p->text[p->pos + 1];
			if (c != '"' && c != '\'' && c != '\\') {
				fail(p, p->pos, "unknown escape in string: "
				    "only \\\", \\' and \\\\ are allowed");
				return -1;
			}
			p->pos++;
		} else if (c < 0x20 || c >= 0x7f) {
			fail(p, p->pos, "strings hold printable ASCII only, "
			    "found %s", found(p, p->pos, buf, sizeof(buf)));
			return -1;
		}
		if (n->litlen == SEL_STR_MAX) {
			fail(p, start, "string longer than %d bytes",
			    SEL_STR_MAX);
			return -1;
		}
		n->lit[n->litlen++] = (char)c;
		p->pos++;
	}
	n->lit[n->litlen] = '\0';
	return 0;
}

/*
 * A number at the current position into n: its value, and its text as
 * written with the unit spelled the normalized way.
 */
static int
parse_number(struct parser *p, struct node *n)
{
	const struct unit	*u = NULL;
	size_t			 start = p->pos, mlen, ulen;

	mlen = mantissa_len(p->text + start, p->len - start);
	if (mlen == 0) {
		fail(p, start + 1, "expected a digit after '-'");
		return -1;
	}
	if (mlen > SEL_NUM_MAX) {
		fail(p, start, "number longer than %d characters",
		    SEL_NUM_MAX);
		return -1;
	}
	p->pos += mlen;
	for (ulen = 0; p->pos + ulen < p->len &&
	    is_keychar(p->text[p->pos + ulen]); ulen++)
		continue;
	if (ulen > 0 && (u = unit_find(p->text + p->pos, ulen)) == NULL) {
		fail(p, p->pos, "unknown unit '%.*s' after a number (use K, "
		    "KB, M, MB, G, GB, T, TB, P, PB or KiB, MiB, GiB, TiB, "
		    "PiB)", ulen > 16 ? 16 : (int)ulen, p->text + p->pos);
		return -1;
	}
	if (number_value(p->text + start, mlen, u, &n->num) == -1) {
		fail(p, start, "number out of range");
		return -1;
	}
	p->pos += ulen;
	n->isnum = 1;
	memcpy(n->lit, p->text + start, mlen);
	n->litlen = mlen;
	if (u != NULL) {
		memcpy(n->lit + mlen, u->name, strlen(u->name));
		n->litlen += strlen(u->name);
	}
	n->lit[n->litlen] = '\0';
	return 0;
}

/* literal, at the current position, into n. */
static int
parse_literal(struct parser *p, struct node *n)
{
	const char	*w = p->text + p->pos;
	char		 buf[32];
	size_t		 wlen;
	int		 c = peek(p);

	if (c == '"' || c == '\'')
		return parse_string(p, n);
	if (c == '-' || is_digit(c))
		return parse_number(p, n);
	if ((wlen = word_len(p)) == 0) {
		fail(p, p->pos, "expected a value (a number, a quoted string "
		    "or a word), found %s", found(p, p->pos, buf, sizeof(buf)));
		return -1;
	}
	if (is_keyword(w, wlen)) {
		fail(p, p->pos, "expected a value, found the keyword '%.*s'",
		    (int)wlen, w);
		return -1;
	}
	/* See the top of the file. */
	if (same_word(w, wlen, "nan") || same_word(w, wlen, "inf") ||
	    same_word(w, wlen, "infinity")) {
		fail(p, p->pos, "'%.*s' is not a number; quote it to compare "
		    "a string", (int)wlen, w);
		return -1;
	}
	if (wlen > SEL_STR_MAX) {
		fail(p, p->pos, "word longer than %d characters", SEL_STR_MAX);
		return -1;
	}
	memcpy(n->lit, w, wlen);
	n->lit[wlen] = '\0';
	n->litlen = wlen;
	p->pos += wlen;
	return 0;
}

/* primary, at the current position: a new node, or NULL. */
static struct node *
parse_primary(struct parser *p)
{
	struct node	*n = NULL, *ret = NULL;
	char		 buf[32];
	size_t		 i;

	skip_space(p);
	if (peek(p) == '(') {
		if (++p->parens > SEL_DEPTH_MAX) {
			fail(p, p->pos, "nested deeper than %d",
			    SEL_DEPTH_MAX);
			goto out;
		}
		p->pos++;
		if ((n = parse_chain(p, N_OR)) == NULL)
			goto out;
		skip_space(p);
		if (peek(p) != ')') {
			fail(p, p->pos, "expected ')', 'and' or 'or', found %s",
			    found(p, p->pos, buf, sizeof(buf)));
			goto out;
		}
		p->pos++;
		p->parens--;
		ret = n;
		n = NULL;
		goto out;
	}

	if ((n = parse_term(p)) == NULL)
		goto out;
	skip_space(p);
	for (i = 0; i < sizeof(optokens) / sizeof(optokens[0]); i++)
		if (strncmp(p->text + p->pos, optokens[i].text,
		    strlen(optokens[i].text)) == 0)
			break;
	if (i == sizeof(optokens) / sizeof(optokens[0])) {
		if (peek(p) == '=') {
			fail(p, p->pos, "use '==' to compare");
			goto out;
		}
		ret = n;		/* a bare term */
		n = NULL;
		goto out;
	}
	n->kind = N_CMP;
	n->op = optokens[i].op;
	p->pos += strlen(optokens[i].text);
	skip_space(p);
	if (parse_literal(p, n) == -1)
		goto out;
	ret = n;
	n = NULL;
out:
	node_free(n);
	return ret;
}

/*
 * not-expr.  A run of "not" is read in a loop, not by recursion; the
 * height check stops a long one.
 */
static struct node *
parse_not(struct parser *p)
{
	struct node	*n = NULL, *wrap, *ret = NULL;
	size_t		 at[SEL_DEPTH_MAX];
	size_t		 len;
	int		 nots = 0;

	for (;;) {
		skip_space(p);
		if ((len = at_operator(p, N_NOT)) == 0)
			break;
		if (nots == SEL_DEPTH_MAX - 1) {
			fail(p, p->pos, "nested deeper than %d",
			    SEL_DEPTH_MAX);
			goto out;
		}
		at[nots++] = p->pos;
		p->pos += len;
	}
	if ((n = parse_primary(p)) == NULL)
		goto out;
	while (nots > 0) {
		nots--;
		if (n->height >= SEL_DEPTH_MAX) {
			fail(p, at[nots], "nested deeper than %d",
			    SEL_DEPTH_MAX);
			goto out;
		}
		wrap = node_new(N_NOT, at[nots]);
		wrap->kids = n;
		wrap->height = n->height + 1;
		n = wrap;
	}
	ret = n;
	n = NULL;
out:
	node_free(n);
	return ret;
}

/* or-expr (kind N_OR) or and-expr (kind N_AND): a new node, or NULL. */
static struct node *
parse_chain(struct parser *p, enum nodekind kind)
{
	struct node	*chain = NULL, *n = NULL, *ret = NULL;
	size_t		 at, len;

	n = kind == N_OR ? parse_chain(p, N_AND) : parse_not(p);
	if (n == NULL)
		goto out;
	for (;;) {
		skip_space(p);
		at = p->pos;
		if ((len = at_operator(p, kind)) == 0)
			break;
		p->pos += len;
		if (chain == NULL) {
			chain = node_new(kind, n->pos);
			node_add(chain, n);
		}
		n = kind == N_OR ? parse_chain(p, N_AND) : parse_not(p);
		if (n == NULL)
			goto out;
		node_add(chain, n);
		n = NULL;
		if (chain->height > SEL_DEPTH_MAX) {
			fail(p, at, "nested deeper than %d", SEL_DEPTH_MAX);
			goto out;
		}
	}
	if (chain == NULL) {
		ret = n;
		n = NULL;
	} else {
		ret = chain;
		chain = NULL;
	}
out:
	node_free(chain);
	node_free(n);
	return ret;
}

/* ---------------------------------------------------------------- output */

/*
 * Normalized text goes through a sink.  With buf NULL it only counts,
 * and notes the first term that takes it past limit.
 */
struct sink {
	char	*buf;
	size_t	 len;
	size_t	 limit;
	int	 over;
	size_t	 overpos;
};

static void
put(struct sink *out, const char *s, size_t n)
{
	if (out->buf != NULL)
		memcpy(out->buf + out->len, s, n);
	out->len += n;
}

static void
put_str(struct sink *out, const char *s)
{
	put(out, s, strlen(s));
}

static void
put_quoted(struct sink *out, const char *s, size_t n)
{
	size_t	 i;

	put(out, "\"", 1);
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			put(out, "\\", 1);
		put(out, s + i, 1);
	}
	put(out, "\"", 1);
}

static void
emit(struct sink *out, const struct node *n)
{
	const struct node	*k;

	put(out, "(", 1);
	switch (n->kind) {
	case N_TERM:
	case N_CMP:
		put_str(out, sources[n->source].full);
		put(out, "[", 1);
		put_quoted(out, n->key, strlen(n->key));
		put(out, "]", 1);
		if (n->kind == N_TERM)
			break;
		put(out, " ", 1);
		put_str(out, opnames[n->op]);
		put(out, " ", 1);
		if (n->isnum)
			put(out, n->lit, n->litlen);
		else
			put_quoted(out, n->lit, n->litlen);
		break;
	case N_NOT:
		put_str(out, "not ");
		emit(out, n->kids);
		break;
	case N_AND:
	case N_OR:
		for (k = n->kids; k != NULL; k = k->next) {
			if (k != n->kids)
				put_str(out, n->kind == N_AND ? " and " :
				    " or ");
			emit(out, k);
		}
		break;
	}
	put(out, ")", 1);
	if (out->len > out->limit && !out->over) {
		out->over = 1;
		out->overpos = n->pos;
	}
}

/* ---------------------------------------------------------------- evaluation */

static int
compare_numbers(enum cmpop op, double a, double b)
{
	switch (op) {
	case OP_EQ:
		return a == b;
	case OP_NE:
		return a != b;
	case OP_LT:
		return a < b;
	case OP_LE:
		return a <= b;
	case OP_GT:
		return a > b;
	case OP_GE:
		return a >= b;
	default:
		return 0;
	}
}

static int
compare_strings(enum cmpop op, const char *a, size_t alen, const char *b,
    size_t blen)
{
	int	 c;

	c = memcmp(a, b, alen < blen ? alen : blen);
	if (c == 0)
		c = alen < blen ? -1 : alen > blen;
	switch (op) {
	case OP_EQ:
		return c == 0;
	case OP_NE:
		return c != 0;
	case OP_LT:
		return c < 0;
	case OP_LE:
		return c <= 0;
	case OP_GT:
		return c > 0;
	case OP_GE:
		return c >= 0;
	default:
		return 0;
	}
}

/* The shortest decimal that reads back as d, into buf. */
static size_t
real_text(double d, char *buf, size_t bufsz)
{
	int	 prec, n = 0;

	for (prec = 1; prec <= 17; prec++) {
		n = snprintf(buf, bufsz, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return n < 0 ? 0 : (size_t)n;
}

static int
truthy(const json_t *v)
{
	const char	*s;
	size_t		 len;

	switch (json_typeof(v)) {
	case JSON_STRING:
		s = json_string_value(v);
		len = json_string_length(v);
		return !(len == 0 || same_word(s, len, "0") ||
		    same_word(s, len, "false"));
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0.0;
	case JSON_TRUE:
		return 1;
	case JSON_OBJECT:
		return json_object_size(v) > 0;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	default:
		return 0;
	}
}

static int
compare(const struct node *n, const json_t *v)
{
	char	 buf[40];
	double	 d;
	size_t	 len;
	int	 len_or_err;

	switch (json_typeof(v)) {
	case JSON_STRING:
		/* Parse only when a number is what it meets. */
		if (n->isnum && string_number(json_string_value(v),
		    json_string_length(v), &d) == 0)
			return compare_numbers(n->op, d, n->num);
		return compare_strings(n->op, json_string_value(v),
		    json_string_length(v), n->lit, n->litlen);
	case JSON_INTEGER:
		if (n->isnum)
			return compare_numbers(n->op,
			    (double)json_integer_value(v), n->num);
		len_or_err = snprintf(buf, sizeof(buf),
		    "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		len = len_or_err < 0 ? 0 : (size_t)len_or_err;
		return compare_strings(n->op, buf, len, n->lit, n->litlen);
	case JSON_REAL:
		if (n->isnum)
			return compare_numbers(n->op, json_real_value(v),
			    n->num);
		len = real_text(json_real_value(v), buf, sizeof(buf));
		return compare_strings(n->op, buf, len, n->lit, n->litlen);
	case JSON_TRUE:
	case JSON_FALSE:
		if (n->isnum)
			return compare_numbers(n->op, json_is_true(v), n->num);
		return json_is_true(v) ?
		    compare_strings(n->op, "true", 4, n->lit, n->litlen) :
		    compare_strings(n->op, "false", 5, n->lit, n->litlen);
	default:
		return 0;
	}
}

static int
eval(const struct node *n, const json_t *const data[SRC__MAX])
{
	const struct node	*k;
	const json_t		*v;

	switch (n->kind) {
	case N_TERM:
	case N_CMP:
		/* jansson gives NULL for a NULL or non-object data[]. */
		v = json_object_get(data[n->source], n->key);
		if (v == NULL || json_is_null(v))
			return 0;
		return n->kind == N_TERM ? truthy(v) : compare(n, v);
	case N_NOT:
		return !eval(n->kids, data);
	case N_AND:
		for (k = n->kids; k != NULL; k = k->next)
			if (!eval(k, data))
				return 0;
		return 1;
	case N_OR:
		for (k = n->kids; k != NULL; k = k->next)
			if (eval(k, data))
				return 1;
		return 0;
	}
	return 0;
}

/* ---------------------------------------------------------------- public */

/*
 * Parse a selector; see sel.h.  Every bound is checked here, the length
 * of the normalized form included, so anything sel_normalize() returns
 * parses again.
 */
struct sel *
sel_parse(const char *text, size_t *pos, char *err, size_t errsz)
{
	struct parser	 p;
	struct sink	 count;
	struct node	*root = NULL;
	struct sel	*s, *ret = NULL;
	char		 buf[32];

	memset(&p, 0, sizeof(p));
	if (text == NULL) {
		fail(&p, 0, "no selector");
		goto out;
	}
	p.text = text;
	p.len = strnlen(text, SEL_TEXT_MAX + 1);
	if (p.len > SEL_TEXT_MAX) {
		fail(&p, SEL_TEXT_MAX, "selector longer than %d bytes",
		    SEL_TEXT_MAX);
		goto out;
	}
	if ((root = parse_chain(&p, N_OR)) == NULL)
		goto out;
	skip_space(&p);
	if (p.pos < p.len) {
		if (peek(&p) == ')')
			fail(&p, p.pos, "unbalanced ')'");
		else
			fail(&p, p.pos, "expected 'and', 'or' or the end of "
			    "the selector, found %s",
			    found(&p, p.pos, buf, sizeof(buf)));
		goto out;
	}
	memset(&count, 0, sizeof(count));
	count.limit = SEL_TEXT_MAX;
	emit(&count, root);
	if (count.over) {
		fail(&p, count.overpos, "selector longer than %d bytes once "
		    "normalized", SEL_TEXT_MAX);
		goto out;
	}

	s = xcalloc(1, sizeof(*s));
	s->root = root;
	s->uses = p.uses;
	root = NULL;
	ret = s;
out:
	node_free(root);
	if (ret == NULL) {
		if (pos != NULL)
			*pos = p.errpos;
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "Bad selector at position %zu: %s",
			    p.errpos, p.why);
	} else {
		if (pos != NULL)
			*pos = 0;
		if (err != NULL && errsz > 0)
			err[0] = '\0';
	}
	return ret;
}

/*
 * The normalized form of a selector; see sel.h.  Returns a new
 * allocation, NUL-terminated, at most SEL_TEXT_MAX bytes before the NUL.
 */
char *
sel_normalize(const struct sel *s)
{
	struct sink	 out;

	if (s == NULL)
		return xstrdup("");
	memset(&out, 0, sizeof(out));
	out.limit = SEL_TEXT_MAX;
	emit(&out, s->root);
	out.buf = xmalloc(out.len + 1);
	out.len = 0;
	emit(&out, s->root);
	out.buf[out.len] = '\0';
	return out.buf;
}

/*
 * Whether a node matches; see sel.h.  Allocation-free and recursion
 * bounded by SEL_DEPTH_MAX, as it runs once per node of the cluster.
 */
int
sel_eval(const struct sel *s, const json_t *attrs, const json_t *hw,
    const json_t *status)
{
	const json_t	*data[SRC__MAX];

	if (s == NULL)
		return 0;
	data[SRC_ATTRIBUTES] = attrs;
	data[SRC_HARDWARE] = hw;
	data[SRC_STATUS] = status;
	return eval(s->root, data);
}

/* SEL_USES_* bits of the data a selector reads; 0 for NULL. */
unsigned int
sel_uses(const struct sel *s)
{
	return s == NULL ? 0 : s->uses;
}

/* Release a selector; NULL is fine. */
void
sel_free(struct sel *s)
{
	if (s == NULL)
		return;
	node_free(s->root);
	free(s);
}
