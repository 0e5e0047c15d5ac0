/*
 * Unit tests of the dynamic-group selector language (fcgi/sel.c):
 * valid[] with the normalized form each gives, invalid[] with the byte
 * position each error names, and eval[] of selectors against nodes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "../tap.h"

static const struct {
	const char	*text;
	const char	*normalized;
} valid[] = {
	/* The reference's examples. */
	{ "h[ram_total] > 100GB", "(hardware[\"ram_total\"] > 100GB)" },
	{ "a[_boot_config]==\"DefaultBoot\"",
	    "(attributes[\"_boot_config\"] == \"DefaultBoot\")" },
	{ "a[_boot_config]==DefaultBoot",
	    "(attributes[\"_boot_config\"] == \"DefaultBoot\")" },
	{ "h[ram_total] > 100000", "(hardware[\"ram_total\"] > 100000)" },
	/* Whitespace. */
	{ "a[x]==1", "(attributes[\"x\"] == 1)" },
	{ "  a [ x ]  ==  1  ", "(attributes[\"x\"] == 1)" },
	{ "\ta[x]\n==\r\n1\n", "(attributes[\"x\"] == 1)" },
	{ "( a[x] == 1 )", "(attributes[\"x\"] == 1)" },
	/* Operators. */
	{ "a[x]!=1", "(attributes[\"x\"] != 1)" },
	{ "a[x]<1", "(attributes[\"x\"] < 1)" },
	{ "a[x]<=1", "(attributes[\"x\"] <= 1)" },
	{ "a[x]>1", "(attributes[\"x\"] > 1)" },
	{ "a[x]>=1", "(attributes[\"x\"] >= 1)" },
	/* Numbers and units. */
	{ "h[m]>=100gb", "(hardware[\"m\"] >= 100GB)" },
	{ "h[m]>=1.5tib", "(hardware[\"m\"] >= 1.5TiB)" },
	{ "h[m]>=1.5TIB", "(hardware[\"m\"] >= 1.5TiB)" },
	{ "h[m]>=64", "(hardware[\"m\"] >= 64)" },
	{ "h[m]>=2k", "(hardware[\"m\"] >= 2K)" },
	{ "h[m]>=3Mb", "(hardware[\"m\"] >= 3MB)" },
	{ "h[m]>=8g", "(hardware[\"m\"] >= 8G)" },
	{ "h[m]>=5T", "(hardware[\"m\"] >= 5T)" },
	{ "h[m]>=7p", "(hardware[\"m\"] >= 7P)" },
	{ "h[m]>=10kib", "(hardware[\"m\"] >= 10KiB)" },
	{ "h[m]>=1mib", "(hardware[\"m\"] >= 1MiB)" },
	{ "h[m]>=2gIb", "(hardware[\"m\"] >= 2GiB)" },
	{ "h[m]>=-1.50PiB", "(hardware[\"m\"] >= -1.50PiB)" },
	{ "h[m]>=007", "(hardware[\"m\"] >= 007)" },
	{ "h[m]>=-0", "(hardware[\"m\"] >= -0)" },
	{ "h[m]>=3pb", "(hardware[\"m\"] >= 3PB)" },
	{ "h[m]>=3tb", "(hardware[\"m\"] >= 3TB)" },
	/* Logic and precedence. */
	{ "a[x]==1 or a[y]==2 and not a[z]==3",
	    "((attributes[\"x\"] == 1) or ((attributes[\"y\"] == 2) and "
	    "(not (attributes[\"z\"] == 3))))" },
	{ "a[x] && a[y] || a[z]",
	    "(((attributes[\"x\"]) and (attributes[\"y\"])) or "
	    "(attributes[\"z\"]))" },
	{ "(a[x] or a[y]) and a[z]",
	    "(((attributes[\"x\"]) or (attributes[\"y\"])) and "
	    "(attributes[\"z\"]))" },
	{ "a[x]==1 AND a[y]==2 Or s[z]",
	    "(((attributes[\"x\"] == 1) and (attributes[\"y\"] == 2)) or "
	    "(status[\"z\"]))" },
	{ "a[x]==1 or a[y]==2 or a[z]==3",
	    "((attributes[\"x\"] == 1) or (attributes[\"y\"] == 2) or "
	    "(attributes[\"z\"] == 3))" },
	{ "(a[x] and a[y]) and (a[z] and a[w])",
	    "((attributes[\"x\"]) and (attributes[\"y\"]) and "
	    "(attributes[\"z\"]) and (attributes[\"w\"]))" },
	{ "not a[x]", "(not (attributes[\"x\"]))" },
	{ "!a[x]", "(not (attributes[\"x\"]))" },
	{ "NOT a[x]", "(not (attributes[\"x\"]))" },
	{ "not(a[x])", "(not (attributes[\"x\"]))" },
	{ "not not a[x]", "(not (not (attributes[\"x\"])))" },
	{ "!!a[x]", "(not (not (attributes[\"x\"])))" },
	{ "not (a[x] or a[y])",
	    "(not ((attributes[\"x\"]) or (attributes[\"y\"])))" },
	{ "((((a[x]))))", "(attributes[\"x\"])" },
	{ "a[x]!=1||!a[y]",
	    "((attributes[\"x\"] != 1) or (not (attributes[\"y\"])))" },
	/* Terms and keys. */
	{ "s[state]==up", "(status[\"state\"] == \"up\")" },
	{ "a[x-y.z_1]", "(attributes[\"x-y.z_1\"])" },
	{ "a[\"x\"]", "(attributes[\"x\"])" },
	{ "a['x']", "(attributes[\"x\"])" },
	{ "attributes[\"x\"] == 1", "(attributes[\"x\"] == 1)" },
	{ "hardware['cpu.model'] == x", "(hardware[\"cpu.model\"] == \"x\")" },
	{ "status[x]", "(status[\"x\"])" },
	{ "a[0123456789012345678901234567890123456789012345678901234567890123]",
	    "(attributes[\"0123456789012345678901234567890123456789012345678901"
	    "234567890123\"])" },
	/* Bare words, quotes and escapes. */
	{ "a[x]==a", "(attributes[\"x\"] == \"a\")" },
	{ "a[x]==andy", "(attributes[\"x\"] == \"andy\")" },
	{ "a[x]==nano", "(attributes[\"x\"] == \"nano\")" },
	{ "a[x]==Default-Boot.v2", "(attributes[\"x\"] == \"Default-Boot.v2\")" },
	{ "a[x]==_y", "(attributes[\"x\"] == \"_y\")" },
	{ "a[x]==\"say \\\"hi\\\" \\\\ ok\"",
	    "(attributes[\"x\"] == \"say \\\"hi\\\" \\\\ ok\")" },
	{ "a[x]=='it\\'s'", "(attributes[\"x\"] == \"it's\")" },
	{ "a[x]=='a\"b'", "(attributes[\"x\"] == \"a\\\"b\")" },
	{ "a[x]==\"\"", "(attributes[\"x\"] == \"\")" },
	{ "a[x]==\"and or not ( ) [ ]\"",
	    "(attributes[\"x\"] == \"and or not ( ) [ ]\")" },
	{ "a[x]==\"NaN\"", "(attributes[\"x\"] == \"NaN\")" },
	{ "a[x]==\"100GB\"", "(attributes[\"x\"] == \"100GB\")" },
};

static const struct {
	const char	*text;
	size_t		 pos;
} invalid[] = {
	{ "a[x", 3 },
	{ "a[]", 2 },
	{ "x[a]==1", 0 },
	{ "A[x]==1", 0 },
	{ "a[x]==", 6 },
	{ "a[x]===1", 6 },
	{ "a[x]=1", 4 },
	{ "(a[x]==1", 8 },
	{ "a[x]==1)", 7 },
	{ "and", 0 },
	{ "", 0 },
	{ "   ", 3 },
	{ "a[x]==\"abc", 6 },
	{ "a[x]=='abc", 6 },
	{ "a[x]==\"abc\\", 6 },
	{ "a[x]==\"a\\nb\"", 8 },
	{ "a[x]==1e999", 7 },
	{ "a[x]==1e3", 7 },
	{ "a[x]==NaN", 6 },
	{ "a[x]==nan", 6 },
	{ "a[x]==-inf", 7 },
	{ "a[x]==Infinity", 6 },
	{ "a[x]==0x10", 7 },
	{ "a[x] == 1.", 9 },
	{ "a[x]==1.2.3", 9 },
	{ "a[x]==1gbx", 7 },
	{ "a[x]==-", 7 },
	{ "a[x]==and", 6 },
	{ "a[x]==NOT", 6 },
	{ "a[x y]", 4 },
	{ "a[x]==1 a[y]", 8 },
	{ "1 == a[x]", 0 },
	{ "a[x] and", 8 },
	{ "a[x] or or a[y]", 8 },
	{ "a[x] & a[y]", 5 },
	{ "a[x] ! a[y]", 5 },
	{ "a[x] and ()", 10 },
	{ "not", 3 },
	{ "a", 1 },
	{ "a x", 2 },
	{ "a[\"x]", 4 },
	{ "a[\"x y\"]", 4 },
	{ "a[x]==1\x01", 7 },
	{ "a[x]==\"a\x01\"", 8 },
	{ "a[\x7f]", 2 },
	{ "a[x]==\"\xc3\xa9\"", 7 },
	{ "a[x]==\xc3\xa9", 6 },
	{ "a[x]==\"tab\there\"", 10 },
	{ "a[x]\x1b==1", 4 },
};

struct evalcase {
	const char	*sel;
	const char	*attrs;		/* JSON, or NULL */
	const char	*hw;
	const char	*status;
	int		 want;
};

static const struct evalcase eval[] = {
	/* Numbers, units on both sides. */
	{ "h[ram_total] > 100GB", NULL, "{\"ram_total\": 137438953472}", NULL, 1 },
	{ "h[ram_total] > 100GB", NULL, "{\"ram_total\": \"128GB\"}", NULL, 1 },
	{ "h[ram_total] > 100GB", NULL, "{\"ram_total\": \"128 GiB\"}", NULL, 1 },
	{ "h[ram_total] > 100GB", NULL, "{\"ram_total\": \"64GB\"}", NULL, 0 },
	{ "h[ram_total] > 100GB", NULL, "{\"ram_total\": 100000000000}", NULL, 0 },
	{ "h[ram_total] >= 100GB", NULL, "{\"ram_total\": 100000000000}", NULL, 1 },
	{ "h[ram_total] > 100000", NULL, "{\"ram_total\": \"128GB\"}", NULL, 1 },
	{ "h[ram_total] > 100000", NULL, "{\"ram_total\": 99999}", NULL, 0 },
	{ "h[ram] == 1KiB", NULL, "{\"ram\": 1024}", NULL, 1 },
	{ "h[ram] == 1K", NULL, "{\"ram\": 1000}", NULL, 1 },
	{ "h[ram] == 1KB", NULL, "{\"ram\": \"1k\"}", NULL, 1 },
	{ "h[ram] == 1024", NULL, "{\"ram\": \"1 kib\"}", NULL, 1 },
	{ "h[ram] >= 1.5TiB", NULL, "{\"ram\": \" 1.5 TiB \"}", NULL, 1 },
	{ "h[ram] < 1.5TiB", NULL, "{\"ram\": \"1.5TB\"}", NULL, 1 },
	{ "h[t] < -1.5", NULL, "{\"t\": -2}", NULL, 1 },
	{ "h[t] < -1.5", NULL, "{\"t\": -1.5}", NULL, 0 },
	{ "h[t] <= -1.5", NULL, "{\"t\": -1.5}", NULL, 1 },
	{ "a[x] == 1.5", "{\"x\": 1.5}", NULL, NULL, 1 },
	{ "a[x] != 1.5", "{\"x\": 1.5}", NULL, NULL, 0 },
	{ "a[x] == 1", "{\"x\": \"1.0\"}", NULL, NULL, 1 },
	{ "a[x] == 1", "{\"x\": \"01\"}", NULL, NULL, 1 },
	{ "a[x] < 10", "{\"x\": \"9\"}", NULL, NULL, 1 },
	/* Strings. */
	{ "a[x] == \"1\"", "{\"x\": \"1.0\"}", NULL, NULL, 0 },
	{ "a[x] < \"10\"", "{\"x\": \"9\"}", NULL, NULL, 0 },
	{ "a[x] == \"64\"", "{\"x\": 64}", NULL, NULL, 1 },
	{ "a[x] == \"1.5\"", "{\"x\": 1.5}", NULL, NULL, 1 },
	{ "a[x] == \"0.1\"", "{\"x\": 0.1}", NULL, NULL, 1 },
	{ "a[x] > abc", "{\"x\": \"abd\"}", NULL, NULL, 1 },
	{ "a[x] >= abc", "{\"x\": \"abc\"}", NULL, NULL, 1 },
	{ "a[x] > abc", "{\"x\": \"abc\"}", NULL, NULL, 0 },
	{ "a[x] < abc", "{\"x\": \"ab\"}", NULL, NULL, 1 },
	{ "a[x] == abc", "{\"x\": \"ABC\"}", NULL, NULL, 0 },
	{ "a[x] != abc", "{\"x\": \"ABC\"}", NULL, NULL, 1 },
	{ "a[_boot_config]==DefaultBoot",
	    "{\"_boot_config\": \"DefaultBoot\"}", NULL, NULL, 1 },
	{ "a[_boot_config]==DefaultBoot",
	    "{\"_boot_config\": \"OtherBoot\"}", NULL, NULL, 0 },
	/* A number meeting a string that is no number compares as text. */
	{ "a[x] != 5", "{\"x\": \"abc\"}", NULL, NULL, 1 },
	{ "a[x] > 5", "{\"x\": \"abc\"}", NULL, NULL, 1 },
	{ "a[x] == 1000", "{\"x\": \"1e3\"}", NULL, NULL, 0 },
	{ "a[x] == 100GB", "{\"x\": \"100gbx\"}", NULL, NULL, 0 },
	{ "a[x] == 100gb", "{\"x\": \"100GB\"}", NULL, NULL, 1 },
	{ "a[x] == 5", "{\"x\": \"nan\"}", NULL, NULL, 0 },
	/* Missing and null. */
	{ "a[x] == 1", "{}", NULL, NULL, 0 },
	{ "a[x] != 1", "{}", NULL, NULL, 0 },
	{ "not a[x] == \"y\"", "{}", NULL, NULL, 1 },
	{ "not a[x] == \"y\"", "{\"x\": \"y\"}", NULL, NULL, 0 },
	{ "a[x] == 1", NULL, NULL, NULL, 0 },
	{ "a[x] != 1", "{\"x\": null}", NULL, NULL, 0 },
	{ "a[x]", "{\"x\": null}", NULL, NULL, 0 },
	{ "not a[x]", "{\"x\": null}", NULL, NULL, 1 },
	{ "s[x] == 1", "{\"x\": 1}", "{\"x\": 1}", NULL, 0 },
	{ "a[x] == 1", "[1]", NULL, NULL, 0 },
	/* Booleans. */
	{ "a[x]", "{\"x\": true}", NULL, NULL, 1 },
	{ "a[x]", "{\"x\": false}", NULL, NULL, 0 },
	{ "a[x] == true", "{\"x\": true}", NULL, NULL, 1 },
	{ "a[x] == false", "{\"x\": false}", NULL, NULL, 1 },
	{ "a[x] == true", "{\"x\": false}", NULL, NULL, 0 },
	{ "a[x] == 1", "{\"x\": true}", NULL, NULL, 1 },
	{ "a[x] == 0", "{\"x\": false}", NULL, NULL, 1 },
	{ "a[x] == \"true\"", "{\"x\": \"true\"}", NULL, NULL, 1 },
	/* Bare terms. */
	{ "a[x]", "{\"x\": \"\"}", NULL, NULL, 0 },
	{ "a[x]", "{\"x\": \"0\"}", NULL, NULL, 0 },
	{ "a[x]", "{\"x\": \"FALSE\"}", NULL, NULL, 0 },
	{ "a[x]", "{\"x\": \"no\"}", NULL, NULL, 1 },
	{ "a[x]", "{\"x\": 0}", NULL, NULL, 0 },
	{ "a[x]", "{\"x\": 0.0}", NULL, NULL, 0 },
	{ "a[x]", "{\"x\": 2}", NULL, NULL, 1 },
	{ "a[x]", "{\"x\": []}", NULL, NULL, 0 },
	{ "a[x]", "{\"x\": [1]}", NULL, NULL, 1 },
	{ "a[x]", "{\"x\": {}}", NULL, NULL, 0 },
	{ "a[x]", "{}", NULL, NULL, 0 },
	{ "a[x] == 1", "{\"x\": [1]}", NULL, NULL, 0 },
	{ "a[x] == 1", "{\"x\": {\"y\": 1}}", NULL, NULL, 0 },
	/* not, and, or, across namespaces. */
	{ "a[x]==1 and h[y]==2", "{\"x\": 1}", "{\"y\": 2}", NULL, 1 },
	{ "a[x]==1 and h[y]==2", "{\"x\": 1}", "{\"y\": 3}", NULL, 0 },
	{ "a[x]==1 or s[z]==up", "{\"x\": 2}", NULL, "{\"z\": \"up\"}", 1 },
	{ "a[x]==1 or s[z]==up", "{\"x\": 2}", NULL, "{\"z\": \"down\"}", 0 },
	{ "not (a[x]==1 or a[y]==1)", "{\"x\": 2, \"y\": 2}", NULL, NULL, 1 },
	{ "not (a[x]==1 or a[y]==1)", "{\"x\": 2, \"y\": 1}", NULL, NULL, 0 },
	{ "a[x]==1 or a[y]==2 and not a[z]==3",
	    "{\"x\": 0, \"y\": 2, \"z\": 4}", NULL, NULL, 1 },
	{ "a[x]==1 or a[y]==2 and not a[z]==3",
	    "{\"x\": 0, \"y\": 2, \"z\": 3}", NULL, NULL, 0 },
	{ "(a[x]==1 or a[y]==2) and not a[z]==3",
	    "{\"x\": 1, \"y\": 0, \"z\": 3}", NULL, NULL, 0 },
	{ "!!a[x]", "{\"x\": 1}", NULL, NULL, 1 },
};

static json_t *
load(const char *text)
{
	json_t	*v;

	if (text == NULL)
		return NULL;
	if ((v = json_loads(text, JSON_DECODE_ANY, NULL)) == NULL) {
		diag("bad test JSON: %s", text);
		abort();
	}
	return v;
}

/* text repeated n times, joined by sep, into a new allocation. */
static char *
repeat(const char *text, const char *sep, size_t n)
{
	char	*s;
	size_t	 i, len;

	len = n * (strlen(text) + strlen(sep)) + 1;
	s = xmalloc(len);
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(s, sep);
		strcat(s, text);
	}
	return s;
}

/* Whether text parses and normalizes to want, and want to itself. */
static void
check_valid(const char *label, const char *text, const char *want)
{
	struct sel	*s, *again;
	char		*norm = NULL, *norm2 = NULL;
	char		 err[256];
	size_t		 pos = 99;

	s = sel_parse(text, &pos, err, sizeof(err));
	if (s == NULL)
		diag("%s", err);
	else
		norm = sel_normalize(s);
	if (want != NULL)
		is_str(norm, want, "%s normalizes", label);
	else
		ok(s != NULL, "%s parses", label);
	again = norm == NULL ? NULL : sel_parse(norm, NULL, err, sizeof(err));
	if (again != NULL)
		norm2 = sel_normalize(again);
	ok(norm != NULL && norm2 != NULL && strcmp(norm, norm2) == 0 &&
	    sel_uses(s) == sel_uses(again),
	    "%s: the normalized form is a fixed point", label);
	free(norm);
	free(norm2);
	sel_free(s);
	sel_free(again);
}

/* Whether text is refused with an error naming position want. */
static void
check_invalid(const char *label, const char *text, size_t want)
{
	struct sel	*s;
	char		 err[256], prefix[64];
	size_t		 pos = 99;

	s = sel_parse(text, &pos, err, sizeof(err));
	snprintf(prefix, sizeof(prefix), "Bad selector at position %zu: ",
	    want);
	ok(s == NULL && pos == want &&
	    strncmp(err, prefix, strlen(prefix)) == 0 &&
	    strlen(err) > strlen(prefix),
	    "%s is refused at position %zu", label, want);
	if (s != NULL || pos != want)
		diag("got %s, position %zu: %s", s ? "a selector" : "NULL",
		    pos, s ? "" : err);
	sel_free(s);
}

static void
check_eval(const struct evalcase *c)
{
	struct sel	*s, *again = NULL;
	json_t		*attrs, *hw, *status;
	char		*norm = NULL;
	char		 err[256];
	int		 got = -1, got2 = -1;

	attrs = load(c->attrs);
	hw = load(c->hw);
	status = load(c->status);
	if ((s = sel_parse(c->sel, NULL, err, sizeof(err))) == NULL)
		diag("%s", err);
	else {
		got = sel_eval(s, attrs, hw, status);
		norm = sel_normalize(s);
		again = sel_parse(norm, NULL, err, sizeof(err));
		got2 = sel_eval(again, attrs, hw, status);
	}
	is_int(got, c->want, "%s on %s %s %s", c->sel,
	    c->attrs ? c->attrs : "-", c->hw ? c->hw : "-",
	    c->status ? c->status : "-");
	is_int(got2, c->want, "... and normalized, %s", norm ? norm : "NULL");
	free(norm);
	sel_free(s);
	sel_free(again);
	json_decref(attrs);
	json_decref(hw);
	json_decref(status);
}

static void
check_limits(void)
{
	struct sel	*s;
	char		*text, *norm, *deep;
	char		 err[256];
	size_t		 pos;

	/* 32 nested parentheses are fine, 33 are not. */
	deep = repeat("(", "", 32);
	xasprintf(&text, "%sa[x]==1%s", deep,
	    "))))))))))))))))))))))))))))))))");
	free(deep);
	check_valid("32 nested parentheses", text, "(attributes[\"x\"] == 1)");
	free(text);
	deep = repeat("(", "", 33);
	xasprintf(&text, "%sa[x]==1%s", deep,
	    ")))))))))))))))))))))))))))))))))");
	check_invalid("33 nested parentheses", text, 32);
	free(deep);
	free(text);

	/* Each "not" nests once in the normalized form: 31 and a term. */
	text = repeat("not", " ", 31);
	xasprintf(&deep, "%s a[x]", text);
	check_valid("31 nots", deep, NULL);
	free(deep);
	free(text);
	text = repeat("not", " ", 32);
	xasprintf(&deep, "%s a[x]", text);
	check_invalid("32 nots", deep, 31 * 4);
	free(deep);
	free(text);
	text = repeat("!", "", 1000);
	xasprintf(&deep, "%sa[x]", text);
	check_invalid("1000 '!'", deep, 31);
	free(deep);
	free(text);

	/*
	 * Precedence nests too: 16 levels of "x or (y and (...))" make 33
	 * in the normalized form.  The tree is checked as it is built, from
	 * the inside out, so the outermost "or" is the one refused.
	 */
	text = repeat("a[x] or (a[y] and (", "", 16);
	deep = repeat("))", "", 16);
	xasprintf(&norm, "%sa[z]%s", text, deep);
	check_invalid("precedence nested 33 deep", norm, 5);
	free(norm);
	free(text);
	free(deep);
	text = repeat("a[x] or (a[y] and (", "", 15);
	deep = repeat("))", "", 15);
	xasprintf(&norm, "%sa[z]%s", text, deep);
	check_valid("precedence nested 31 deep", norm, NULL);
	free(norm);
	free(text);
	free(deep);

	/* Length, of the text and of its normalized form. */
	text = xmalloc(5001);
	memset(text, ' ', 5000);
	memcpy(text, "a[x]", 4);
	text[5000] = '\0';
	check_invalid("a 5000-byte selector", text, 4096);
	text[4096] = '\0';
	check_valid("a 4096-byte selector", text, "(attributes[\"x\"])");
	free(text);
	text = repeat("a[x]", "||", 195);
	check_valid("195 terms", text, NULL);
	free(text);
	text = repeat("a[x]", "||", 196);
	check_invalid("196 terms, too long normalized", text, 195 * 6);
	free(text);
	text = repeat("a[x]", "||", 257);
	check_invalid("257 terms", text, 256 * 6);
	free(text);

	/* Keys, strings, numbers. */
	check_invalid("a 65-character key",
	    "a[01234567890123456789012345678901234567890123456789012345678901234]",
	    2);
	text = repeat("x", "", 256);
	xasprintf(&deep, "a[x]==\"%s\"", text);
	check_valid("a 256-byte string", deep, NULL);
	free(deep);
	xasprintf(&deep, "a[x]==\"%sx\"", text);
	check_invalid("a 257-byte string", deep, 6);
	free(deep);
	xasprintf(&deep, "a[x]==%sx", text);
	check_invalid("a 257-byte word", deep, 6);
	free(deep);
	free(text);
	text = repeat("9", "", 64);
	xasprintf(&deep, "a[x]==%sPiB", text);
	check_valid("a 64-digit number", deep, NULL);
	free(deep);
	xasprintf(&deep, "a[x]==%s9", text);
	check_invalid("a 65-digit number", deep, 6);
	free(deep);
	free(text);

	/* NULL and odd arguments. */
	s = sel_parse(NULL, &pos, err, sizeof(err));
	ok(s == NULL && pos == 0, "NULL text is refused");
	s = sel_parse("a[x", NULL, NULL, 0);
	ok(s == NULL, "NULL pos and err are fine");
	s = sel_parse("a[x", &pos, err, 10);
	ok(s == NULL && strlen(err) == 9, "err is truncated to its size");
	norm = sel_normalize(NULL);
	is_str(norm, "", "NULL normalizes to nothing");
	free(norm);
	is_int(sel_eval(NULL, NULL, NULL, NULL), 0, "NULL matches nothing");
	sel_free(NULL);
}

static void
check_uses(const char *text, unsigned int want)
{
	struct sel	*s;

	s = sel_parse(text, NULL, NULL, 0);
	is_int(sel_uses(s), want, "%s uses %u", text, want);
	sel_free(s);
}

int
main(void)
{
	char	 label[64];
	size_t	 i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		check_valid(valid[i].text, valid[i].text, valid[i].normalized);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		snprintf(label, sizeof(label), "invalid[%zu]", i);
		check_invalid(label, invalid[i].text, invalid[i].pos);
	}
	for (i = 0; i < sizeof(eval) / sizeof(eval[0]); i++)
		check_eval(&eval[i]);
	check_limits();
	check_uses("a[x]", SEL_USES_ATTRIBUTES);
	check_uses("h[x] or s[y]", SEL_USES_HARDWARE | SEL_USES_STATUS);
	check_uses("not a[x] and h[y]==1 or status[z]", SEL_USES_ATTRIBUTES |
	    SEL_USES_HARDWARE | SEL_USES_STATUS);
	check_uses("a[x", 0);
	return done_testing();
}
