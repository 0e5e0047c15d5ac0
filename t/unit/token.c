/*
 * corral: tokens, passwords and roles (fcgi/auth.c).
 *
 * Forged tokens are built here from raw JSON, base64url and OpenSSL's
 * HMAC, so each refusal is of exactly one defect; a forged token with no
 * defect must pass, which shows the forger itself is sound.
 */

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <crypt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "extern.h"
#include "../tap.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN	1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN	0
#endif

#define NOW		1700000000LL
#define LEEWAY		30
#define ISSUER		"corral-test"
#define SUB		"0123456789abcdef0123456789abcdef"
#define JTI		"fedcba9876543210fedcba9876543210"
#define FAM		"00112233445566778899aabbccddeeff"

static const char	secret[] = "corral unit test secret, 32+ bytes long";
static const char	wrongsecret[] = "some other head's secret, also long";
static char		tmpdir[256];

static const char	H_OK[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

/* ------------------------------------------------------------ helpers */

static char *
b64url(const void *p, size_t len)
{
	char	*s, *q;

	s = malloc(4 * ((len + 2) / 3) + 1);
	if (s == NULL)
		abort();
	EVP_EncodeBlock((unsigned char *)s, p, (int)len);
	for (q = s; *q != '\0'; q++) {
		if (*q == '+')
			*q = '-';
		else if (*q == '/')
			*q = '_';
		else if (*q == '=') {
			*q = '\0';
			break;
		}
	}
	return s;
}

/* Decode unpadded base64url; returns a NUL-terminated malloc'd buffer. */
static char *
unb64url(const char *s, size_t len, size_t *outlen)
{
	char	*in, *out;
	size_t	 i, n = len;
	int	 r;

	in = malloc(len + 4);
	out = malloc(len + 4);
	if (in == NULL || out == NULL)
		abort();
	for (i = 0; i < len; i++)
		in[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	while (n % 4 != 0)
		in[n++] = '=';
	in[n] = '\0';
	r = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)in, (int)n);
	if (r < 0)
		abort();
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	for (i = len; i % 4 != 0; i++)
		r--;
	out[r] = '\0';
	*outlen = (size_t)r;
	free(in);
	return out;
}

/*
 * "b64(hdr).b64(payload).b64(sig)" where sig is HMAC(md) with k, or no
 * signature at all (md NULL).  New allocation.
 */
static char *
forge(const char *hdr, const char *payload, const EVP_MD *md,
    const char *k)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	char		*h, *p, *s, *signedpart, *tok;

	h = b64url(hdr, strlen(hdr));
	p = b64url(payload, strlen(payload));
	if (xasprintf(&signedpart, "%s.%s", h, p) == -1)
		abort();
	if (md != NULL) {
		HMAC(md, k, (int)strlen(k), (unsigned char *)signedpart,
		    strlen(signedpart), mac, &maclen);
		s = b64url(mac, maclen);
	} else
		s = strdup("");
	if (xasprintf(&tok, "%s.%s", signedpart, s) == -1)
		abort();
	free(h);
	free(p);
	free(s);
	free(signedpart);
	return tok;
}

/* Claims token_make would write, as an object to spoil. New reference. */
static json_t *
base_claims(enum toktype typ)
{
	json_t	*c;

	c = json_pack("{s:s, s:s, s:s, s:i, s:[s,s], s:s, s:s, s:I, s:I, s:I}",
	    "iss", ISSUER, "sub", SUB, "name", "admin", "tid", 7,
	    "roles", "role.authuser", "role.operator",
	    "typ", typ == TOK_REFRESH ? "refresh" : "access",
	    "jti", JTI,
	    "iat", (json_int_t)(NOW - 10),
	    "nbf", (json_int_t)(NOW - 10),
	    "exp", (json_int_t)(NOW + 600));
	if (c == NULL)
		abort();
	if (typ == TOK_REFRESH)
		json_object_set_new(c, "fam", json_string(FAM));
	return c;
}

static char *
write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	char	*path;
	FILE	*f;

	if (xasprintf(&path, "%s/%s", tmpdir, name) == -1)
		abort();
	if ((f = fopen(path, "w")) == NULL) {
		diag("%s: %s", path, strerror(errno));
		abort();
	}
	if (len > 0 && fwrite(data, 1, len, f) != len)
		abort();
	fclose(f);
	if (chmod(path, mode) == -1)
		abort();
	return path;
}

/* ------------------------------------------------------------ shape */

static void
test_shape(void)
{
	static const char *valid[] = {
		"ab.cd.ef",
		"AAAA.BBB.CC",
		"-_-_.__.-_",
		"eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dGhpc2lzbm90YXNpZ25hdHVyZQ",
	};
	static const char *invalid[] = {
		"",
		"abcd",
		"ab.cd",
		"ab.cd.ef.gh",		/* extra segment */
		".cd.ef",
		"ab..ef",		/* empty middle segment */
		"ab.cd.",		/* unsigned */
		"..",
		"ab.cd.e=",		/* padding */
		"ab.cd.ef==",
		"ab.c d.ef",
		"ab.cd.e+",		/* base64, not base64url */
		"ab.cd.e/",
		"a.bc.de",		/* a length base64 cannot have */
		"ab.cdefg.hi",
		"ab.cd.ef\n",
		" ab.cd.ef",
		"ab.cd.\xc3\xa9",
	};
	char	*big;
	size_t	 i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		ok(token_shape_ok(valid[i], strlen(valid[i])) == 1,
		    "shape valid[%zu] %s", i, valid[i]);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		ok(token_shape_ok(invalid[i], strlen(invalid[i])) == 0,
		    "shape invalid[%zu] %s", i, invalid[i]);

	ok(token_shape_ok("ab.c\0.ef", 8) == 0, "shape: NUL inside");
	ok(token_shape_ok(NULL, 0) == 0, "shape: NULL");
	ok(token_shape_ok("ab.cd.ef", 0) == 0, "shape: zero length");

	/* The bound is exact: 4096 passes, 4097 does not. */
	big = malloc(4098);
	if (big == NULL)
		abort();
	memset(big, 'A', 4097);
	big[1000] = '.';
	big[2000] = '.';
	big[4096] = '\0';
	ok(token_shape_ok(big, 4096) == 1, "shape: 4096 bytes");
	big[4096] = 'A';
	big[4097] = '\0';
	ok(token_shape_ok(big, 4097) == 0, "shape: 4097 bytes");
	free(big);
}

/* ------------------------------------------------------------ keys */

static void
test_key(struct authkey *key)
{
	char	 buf[300];
	char	*p;

	memset(buf, 'k', sizeof(buf));

	p = write_file("key-short", buf, 31, 0600);
	is_int(auth_key_load(key, p, ISSUER, LEEWAY), -1, "key: 31 bytes");
	is_int(key->secretlen, 0, "key: wiped on failure");
	free(p);
	p = write_file("key-long", buf, 257, 0600);
	is_int(auth_key_load(key, p, ISSUER, LEEWAY), -1, "key: 257 bytes");
	free(p);
	p = write_file("key-256", buf, 256, 0600);
	is_int(auth_key_load(key, p, ISSUER, LEEWAY), 0, "key: 256 bytes");
	is_int(key->secretlen, 256, "key: all 256 bytes kept");
	free(p);
	p = write_file("key-ww", secret, strlen(secret), 0606);
	is_int(auth_key_load(key, p, ISSUER, LEEWAY), -1,
	    "key: world-writable refused");
	free(p);
	p = write_file("key-gw", secret, strlen(secret), 0620);
	is_int(auth_key_load(key, p, ISSUER, LEEWAY), -1,
	    "key: group-writable refused");
	free(p);
	p = write_file("key-gr", secret, strlen(secret), 0640);
	is_int(auth_key_load(key, p, ISSUER, LEEWAY), 0,
	    "key: group-readable only warned about");
	free(p);
	is_int(auth_key_load(key, "/nonexistent/corral.key", ISSUER, LEEWAY),
	    -1, "key: missing file");
	is_int(auth_key_load(key, tmpdir, ISSUER, LEEWAY), -1,
	    "key: a directory");

	p = write_file("key", secret, strlen(secret), 0600);
	is_int(auth_key_load(key, p, "", LEEWAY), -1, "key: empty issuer");
	is_int(auth_key_load(key, p,
	    "an-issuer-that-is-far-too-long-to-fit-in-sixty-four-bytes-xxxxxx",
	    LEEWAY), -1, "key: issuer too long");
	is_int(auth_key_load(key, p, ISSUER, -1), -1, "key: negative leeway");
	is_int(auth_key_load(key, p, ISSUER, LEEWAY), 0, "key: loads");
	is_int(key->secretlen, strlen(secret), "key: length");
	ok(memcmp(key->secret, secret, strlen(secret)) == 0, "key: bytes");
	is_str(key->issuer, ISSUER, "key: issuer");
	is_int(key->leeway, LEEWAY, "key: leeway");
	free(p);
}

/* ------------------------------------------------------------ round trip */

static void
fill_claims(struct claims *c, enum toktype typ)
{
	memset(c, 0, sizeof(*c));
	c->typ = typ;
	memcpy(c->sub, SUB, sizeof(c->sub));
	snprintf(c->name, sizeof(c->name), "%s", "alice@example");
	c->tid = 42;
	c->roles = ROLE_OPERATOR | ROLE_CONFIGADMIN;
	if (uid_new(c->jti) == -1)
		abort();
	if (typ == TOK_REFRESH)
		memcpy(c->fam, FAM, sizeof(c->fam));
	c->iat = c->nbf = NOW;
	c->exp = NOW + 900;
}

static void
test_roundtrip(const struct authkey *key)
{
	struct claims	 in, out;
	enum toktype	 typ;
	char		*tok, *hdr;
	const char	*dot;
	size_t		 n;
	int		 i;

	for (i = 0; i < 2; i++) {
		typ = i == 0 ? TOK_ACCESS : TOK_REFRESH;
		fill_claims(&in, typ);
		tok = token_make(key, &in);
		ok(tok != NULL, "make %s", i ? "refresh" : "access");
		if (tok == NULL)
			continue;
		ok(token_shape_ok(tok, strlen(tok)), "made token has the shape");
		dot = strchr(tok, '.');
		hdr = unb64url(tok, (size_t)(dot - tok), &n);
		ok(strstr(hdr, "\"alg\":\"HS256\"") != NULL,
		    "header says HS256: %s", hdr);
		free(hdr);

		memset(&out, 0xa5, sizeof(out));
		is_int(token_check(key, tok, typ, (time_t)NOW, &out), TOKEN_OK,
		    "round trip %s", i ? "refresh" : "access");
		is_int(out.typ, typ, "typ");
		is_str(out.sub, in.sub, "sub");
		is_str(out.name, in.name, "name");
		is_int(out.tid, 42, "tid");
		is_int(out.roles, ROLE_OPERATOR | ROLE_CONFIGADMIN, "roles");
		is_str(out.jti, in.jti, "jti");
		is_str(out.fam, typ == TOK_REFRESH ? FAM : "", "fam");
		is_int(out.iat, NOW, "iat");
		is_int(out.nbf, NOW, "nbf");
		is_int(out.exp, NOW + 900, "exp");

		/* The other type is refused, both ways round. */
		memset(&out, 0xa5, sizeof(out));
		is_int(token_check(key, tok, typ == TOK_ACCESS ? TOK_REFRESH :
		    TOK_ACCESS, (time_t)NOW, &out), TOKEN_WRONGTYPE,
		    "%s used as the other type", i ? "refresh" : "access");
		is_int(out.tid, 0, "out zeroed on failure");
		is_str(out.sub, "", "out.sub empty on failure");

		/* Expiry against the real clock of the check, with leeway. */
		is_int(token_check(key, tok, typ, (time_t)(NOW + 900 + LEEWAY - 1),
		    &out), TOKEN_OK, "valid until exp + leeway");
		is_int(token_check(key, tok, typ, (time_t)(NOW + 900 + LEEWAY),
		    &out), TOKEN_EXPIRED, "expired at exp + leeway");
		is_int(token_check(key, tok, typ, (time_t)(NOW - LEEWAY - 1),
		    &out), TOKEN_NOTYET, "not yet before nbf - leeway");
		free(tok);
	}

	fill_claims(&in, TOK_ACCESS);
	in.roles = ROLE_AUTHUSER | ROLE_OPERATOR | ROLE_CONFIGADMIN |
	    ROLE_FULLADMIN;
	tok = token_make(key, &in);
	ok(tok != NULL && token_check(key, tok, TOK_ACCESS, (time_t)NOW,
	    &out) == TOKEN_OK && out.roles == in.roles, "all four roles");
	free(tok);

	fill_claims(&in, TOK_ACCESS);
	memset(in.name, 'n', NAME_MAX_LEN);
	in.name[NAME_MAX_LEN] = '\0';
	tok = token_make(key, &in);
	ok(tok != NULL && token_check(key, tok, TOK_ACCESS, (time_t)NOW,
	    &out) == TOKEN_OK && strlen(out.name) == NAME_MAX_LEN,
	    "a 253-byte name");
	free(tok);

	fill_claims(&in, TOK_ACCESS);
	in.sub[0] = 'G';
	ok(token_make(key, &in) == NULL, "make refuses a bad sub");
	fill_claims(&in, TOK_ACCESS);
	in.tid = 0;
	ok(token_make(key, &in) == NULL, "make refuses tid 0");
	fill_claims(&in, TOK_ACCESS);
	in.roles = 0x10;
	ok(token_make(key, &in) == NULL, "make refuses an unknown role bit");
	fill_claims(&in, TOK_ACCESS);
	in.name[0] = '\0';
	ok(token_make(key, &in) == NULL, "make refuses an empty name");
	fill_claims(&in, TOK_REFRESH);
	in.fam[0] = '\0';
	ok(token_make(key, &in) == NULL, "make refuses a refresh without fam");
}

/* ------------------------------------------------------------ forgeries */

enum alg { A_HS256, A_HS512, A_NONE };

static const struct forged {
	const char	*name;
	const char	*hdr;
	enum alg	 alg;
	int		 wrongkey;
	enum toktype	 made;		/* typ claim of the token */
	const char	*set;		/* claims merged over base_claims */
	const char	*del;		/* claim removed */
	const char	*raw;		/* payload instead of claims */
	enum toktype	 want;		/* what token_check is asked for */
	enum tokrc	 expect;
} forged[] = {
	{ "control: correct forgery passes", H_OK, A_HS256, 0, TOK_ACCESS,
	    NULL, NULL, NULL, TOK_ACCESS, TOKEN_OK },
	{ "control: refresh forgery passes", H_OK, A_HS256, 0, TOK_REFRESH,
	    NULL, NULL, NULL, TOK_REFRESH, TOKEN_OK },
	{ "control: header without typ", "{\"alg\":\"HS256\"}", A_HS256, 0,
	    TOK_ACCESS, NULL, NULL, NULL, TOK_ACCESS, TOKEN_OK },

	/* header */
	{ "alg none, unsigned", "{\"alg\":\"none\",\"typ\":\"JWT\"}", A_NONE,
	    0, TOK_ACCESS, NULL, NULL, NULL, TOK_ACCESS, TOKEN_MALFORMED },
	{ "alg none, signed anyway", "{\"alg\":\"none\"}", A_HS256, 0,
	    TOK_ACCESS, NULL, NULL, NULL, TOK_ACCESS, TOKEN_MALFORMED },
	{ "alg HS512 with the same key", "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
	    A_HS512, 0, TOK_ACCESS, NULL, NULL, NULL, TOK_ACCESS,
	    TOKEN_MALFORMED },
	{ "alg HS256 header but HS512 signature", H_OK, A_HS512, 0,
	    TOK_ACCESS, NULL, NULL, NULL, TOK_ACCESS, TOKEN_BADSIG },
	{ "alg hs256 lowercase", "{\"alg\":\"hs256\",\"typ\":\"JWT\"}",
	    A_HS256, 0, TOK_ACCESS, NULL, NULL, NULL, TOK_ACCESS,
	    TOKEN_MALFORMED },
	{ "alg RS256", "{\"alg\":\"RS256\"}", A_HS256, 0, TOK_ACCESS,
	    NULL, NULL, NULL, TOK_ACCESS, TOKEN_MALFORMED },
	{ "alg missing", "{\"typ\":\"JWT\"}", A_HS256, 0, TOK_ACCESS,
	    NULL, NULL, NULL, TOK_ACCESS, TOKEN_MALFORMED },
	{ "alg not a string", "{\"alg\":256}", A_HS256, 0, TOK_ACCESS,
	    NULL, NULL, NULL, TOK_ACCESS, TOKEN_MALFORMED },
	{ "typ JWS", "{\"alg\":\"HS256\",\"typ\":\"JWS\"}", A_HS256, 0,
	    TOK_ACCESS, NULL, NULL, NULL, TOK_ACCESS, TOKEN_MALFORMED },
	{ "header with kid", "{\"alg\":\"HS256\",\"kid\":\"x\"}", A_HS256, 0,
	    TOK_ACCESS, NULL, NULL, NULL, TOK_ACCESS, TOKEN_MALFORMED },
	{ "duplicate alg in header",
	    "{\"alg\":\"none\",\"alg\":\"HS256\",\"typ\":\"JWT\"}", A_HS256, 0,
	    TOK_ACCESS, NULL, NULL, NULL, TOK_ACCESS, TOKEN_MALFORMED },
	{ "duplicate typ in header",
	    "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"typ\":\"JWT\"}", A_HS256, 0,
	    TOK_ACCESS, NULL, NULL, NULL, TOK_ACCESS, TOKEN_MALFORMED },
	{ "header an array", "[\"HS256\"]", A_HS256, 0, TOK_ACCESS,
	    NULL, NULL, NULL, TOK_ACCESS, TOKEN_MALFORMED },
	{ "header not JSON", "HS256", A_HS256, 0, TOK_ACCESS,
	    NULL, NULL, NULL, TOK_ACCESS, TOKEN_MALFORMED },

	/* signature */
	{ "signed with another key", H_OK, A_HS256, 1, TOK_ACCESS,
	    NULL, NULL, NULL, TOK_ACCESS, TOKEN_BADSIG },

	/* claims */
	{ "string exp", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"exp\":\"1700000600\"}", NULL, NULL, TOK_ACCESS,
	    TOKEN_BADCLAIMS },
	{ "real exp", H_OK, A_HS256, 0, TOK_ACCESS, "{\"exp\":1700000600.0}",
	    NULL, NULL, TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "negative exp", H_OK, A_HS256, 0, TOK_ACCESS, "{\"exp\":-1}",
	    NULL, NULL, TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "huge exp", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"exp\":9223372036854775807}", NULL, NULL, TOK_ACCESS,
	    TOKEN_BADCLAIMS },
	{ "missing exp", H_OK, A_HS256, 0, TOK_ACCESS, NULL, "exp", NULL,
	    TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "missing iat", H_OK, A_HS256, 0, TOK_ACCESS, NULL, "iat", NULL,
	    TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "missing nbf", H_OK, A_HS256, 0, TOK_ACCESS, NULL, "nbf", NULL,
	    TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "string nbf", H_OK, A_HS256, 0, TOK_ACCESS, "{\"nbf\":\"0\"}",
	    NULL, NULL, TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "expired beyond leeway", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"exp\":1699999969}", NULL, NULL, TOK_ACCESS, TOKEN_EXPIRED },
	{ "expired exactly at leeway", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"exp\":1699999970}", NULL, NULL, TOK_ACCESS, TOKEN_EXPIRED },
	{ "expired within leeway", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"exp\":1699999971}", NULL, NULL, TOK_ACCESS, TOKEN_OK },
	{ "nbf in the future", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"nbf\":1700000031}", NULL, NULL, TOK_ACCESS, TOKEN_NOTYET },
	{ "nbf within leeway", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"nbf\":1700000030}", NULL, NULL, TOK_ACCESS, TOKEN_OK },
	{ "iat in the future", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"iat\":1700000031}", NULL, NULL, TOK_ACCESS, TOKEN_NOTYET },
	{ "refresh used as access", H_OK, A_HS256, 0, TOK_REFRESH,
	    NULL, NULL, NULL, TOK_ACCESS, TOKEN_WRONGTYPE },
	{ "access used as refresh", H_OK, A_HS256, 0, TOK_ACCESS,
	    NULL, NULL, NULL, TOK_REFRESH, TOKEN_WRONGTYPE },
	{ "typ id", H_OK, A_HS256, 0, TOK_ACCESS, "{\"typ\":\"id\"}",
	    NULL, NULL, TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "missing typ", H_OK, A_HS256, 0, TOK_ACCESS, NULL, "typ", NULL,
	    TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "wrong issuer", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"iss\":\"other-head\"}", NULL, NULL, TOK_ACCESS,
	    TOKEN_BADCLAIMS },
	{ "missing issuer", H_OK, A_HS256, 0, TOK_ACCESS, NULL, "iss", NULL,
	    TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "unknown role", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"roles\":[\"role.authuser\",\"role.root\"]}", NULL, NULL,
	    TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "role in upper case", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"roles\":[\"ROLE.FULLADMIN\"]}", NULL, NULL, TOK_ACCESS,
	    TOKEN_BADCLAIMS },
	{ "roles a string", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"roles\":\"role.fulladmin\"}", NULL, NULL, TOK_ACCESS,
	    TOKEN_BADCLAIMS },
	{ "role twice", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"roles\":[\"role.operator\",\"role.operator\"]}", NULL, NULL,
	    TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "no roles is fine", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"roles\":[]}", NULL, NULL, TOK_ACCESS, TOKEN_OK },
	{ "tid 0", H_OK, A_HS256, 0, TOK_ACCESS, "{\"tid\":0}", NULL, NULL,
	    TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "tid a string", H_OK, A_HS256, 0, TOK_ACCESS, "{\"tid\":\"7\"}",
	    NULL, NULL, TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "sub in upper case", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"sub\":\"0123456789ABCDEF0123456789ABCDEF\"}", NULL, NULL,
	    TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "sub too long", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"sub\":\"0123456789abcdef0123456789abcdef0\"}", NULL, NULL,
	    TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "missing jti", H_OK, A_HS256, 0, TOK_ACCESS, NULL, "jti", NULL,
	    TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "empty name", H_OK, A_HS256, 0, TOK_ACCESS, "{\"name\":\"\"}",
	    NULL, NULL, TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "name with a newline", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"name\":\"a\\nb\"}", NULL, NULL, TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "refresh without fam", H_OK, A_HS256, 0, TOK_REFRESH, NULL, "fam",
	    NULL, TOK_REFRESH, TOKEN_BADCLAIMS },
	{ "access with fam", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"fam\":\"" FAM "\"}", NULL, NULL, TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "a claim we never issue", H_OK, A_HS256, 0, TOK_ACCESS,
	    "{\"admin\":true}", NULL, NULL, TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "payload an array", H_OK, A_HS256, 0, TOK_ACCESS, NULL, NULL,
	    "[1,2,3]", TOK_ACCESS, TOKEN_BADCLAIMS },
	{ "payload not JSON", H_OK, A_HS256, 0, TOK_ACCESS, NULL, NULL,
	    "exp=forever", TOK_ACCESS, TOKEN_BADCLAIMS },
};

static void
test_forged(const struct authkey *key)
{
	const struct forged	*f;
	struct claims		 out;
	json_t			*c, *set;
	char			*payload, *tok;
	const EVP_MD		*md;
	size_t			 i;

	for (i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		f = &forged[i];
		payload = NULL;
		if (f->raw != NULL)
			payload = strdup(f->raw);
		else {
			c = base_claims(f->made);
			if (f->set != NULL) {
				set = json_loads(f->set, 0, NULL);
				if (set == NULL || json_object_update(c, set))
					abort();
				json_decref(set);
			}
			if (f->del != NULL)
				json_object_del(c, f->del);
			payload = json_dumps(c, JSON_COMPACT);
			json_decref(c);
		}
		if (payload == NULL)
			abort();
		md = f->alg == A_HS256 ? EVP_sha256() :
		    f->alg == A_HS512 ? EVP_sha512() : NULL;
		tok = forge(f->hdr, payload, md,
		    f->wrongkey ? wrongsecret : secret);
		is_int(token_check(key, tok, f->want, (time_t)NOW, &out),
		    f->expect, "forged: %s", f->name);
		free(tok);
		free(payload);
	}
}

/* Byte-level attacks on a real token. */
static void
test_tampered(const struct authkey *key)
{
	struct claims	 in, out;
	char		*tok, *body, *nbody, *p, *t2, *sig;
	const char	*dot1, *dot2;
	size_t		 n;
	char		 c;
	clock_t		 t0;

	fill_claims(&in, TOK_ACCESS);
	in.roles = ROLE_AUTHUSER;
	if ((tok = token_make(key, &in)) == NULL)
		abort();
	is_int(token_check(key, tok, TOK_ACCESS, (time_t)NOW, &out), TOKEN_OK,
	    "tamper: original passes");
	dot1 = strchr(tok, '.');
	dot2 = strchr(dot1 + 1, '.');

	/* Escalate the role, keep the signature. */
	body = unb64url(dot1 + 1, (size_t)(dot2 - dot1 - 1), &n);
	ok((p = strstr(body, "role.authuser")) != NULL, "tamper: role found");
	if (p != NULL) {
		json_t *j = json_loads(body, 0, NULL);
		json_object_set_new(j, "roles",
		    json_pack("[s]", "role.fulladmin"));
		nbody = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		p = b64url(nbody, strlen(nbody));
		n = (size_t)(dot1 - tok);
		t2 = malloc(strlen(tok) + strlen(p) + 1);
		snprintf(t2, strlen(tok) + strlen(p) + 1, "%.*s.%s%s",
		    (int)n, tok, p, dot2);
		is_int(token_check(key, t2, TOK_ACCESS, (time_t)NOW, &out),
		    TOKEN_BADSIG, "tamper: role escalated, old signature");
		free(t2);
		free(p);
		free(nbody);
	}
	free(body);

	/* Flip one byte of the payload. */
	t2 = strdup(tok);
	p = t2 + (dot1 - tok) + 5;
	*p = *p == 'A' ? 'B' : 'A';
	is_int(token_check(key, t2, TOK_ACCESS, (time_t)NOW, &out),
	    TOKEN_BADSIG, "tamper: one payload byte flipped");
	free(t2);

	/* Only the spare bits of the signature's last character. */
	t2 = strdup(tok);
	sig = t2 + (dot2 - tok) + 1;
	ok(strlen(sig) == 43, "signature is 43 characters");
	p = sig + strlen(sig) - 1;
	c = *p;
	*p = c == 'A' ? 'B' : c == 'E' ? 'F' : (char)(c ^ 1);
	is_int(token_check(key, t2, TOK_ACCESS, (time_t)NOW, &out),
	    TOKEN_BADSIG, "tamper: non-canonical signature");
	/* Truncated signature. */
	sig[42] = '\0';
	is_int(token_check(key, t2, TOK_ACCESS, (time_t)NOW, &out),
	    TOKEN_BADSIG, "tamper: 42-character signature");
	free(t2);

	/* Empty middle segment: header..signature */
	n = strlen(tok) + 1;
	t2 = malloc(n);
	snprintf(t2, n, "%.*s.%s", (int)(dot1 - tok), tok, dot2);
	is_int(token_check(key, t2, TOK_ACCESS, (time_t)NOW, &out),
	    TOKEN_MALFORMED, "tamper: empty middle segment");
	free(t2);

	/* An extra segment. */
	n = strlen(tok) + 6;
	t2 = malloc(n);
	snprintf(t2, n, "%s.AAAA", tok);
	is_int(token_check(key, t2, TOK_ACCESS, (time_t)NOW, &out),
	    TOKEN_MALFORMED, "tamper: extra segment");
	free(t2);

	/* Padding added to the signature. */
	n = strlen(tok) + 2;
	t2 = malloc(n);
	snprintf(t2, n, "%s=", tok);
	is_int(token_check(key, t2, TOK_ACCESS, (time_t)NOW, &out),
	    TOKEN_MALFORMED, "tamper: padded signature");
	free(t2);

	/* 1 MB, refused on its length without being read through. */
	n = 1024 * 1024;
	t2 = malloc(n + 1);
	memset(t2, 'A', n);
	t2[n] = '\0';
	memcpy(t2, tok, strlen(tok));
	t0 = clock();
	is_int(token_check(key, t2, TOK_ACCESS, (time_t)NOW, &out),
	    TOKEN_MALFORMED, "1 MB token");
	ok((double)(clock() - t0) / CLOCKS_PER_SEC < 0.01,
	    "1 MB token refused at once");
	free(t2);

	is_int(token_check(key, NULL, TOK_ACCESS, (time_t)NOW, &out),
	    TOKEN_MALFORMED, "NULL token");
	is_int(token_check(key, "", TOK_ACCESS, (time_t)NOW, &out),
	    TOKEN_MALFORMED, "empty token");
	is_int(token_check(key, "Bearer x.y.z", TOK_ACCESS, (time_t)NOW, &out),
	    TOKEN_MALFORMED, "with its scheme");
	free(tok);
}

static void
test_strerror(void)
{
	enum tokrc	 rc, rc2;
	int		 distinct = 1;

	is_str(token_strerror(TOKEN_EXPIRED), "Token has expired",
	    "strerror expired");
	is_str(token_strerror(TOKEN_BADSIG), "Invalid token signature",
	    "strerror badsig");
	is_str(token_strerror(TOKEN_MALFORMED), "Malformed token",
	    "strerror malformed");
	for (rc = TOKEN_OK; rc <= TOKEN_BADCLAIMS; rc++)
		for (rc2 = rc + 1; rc2 <= TOKEN_BADCLAIMS; rc2++)
			if (strcmp(token_strerror(rc), token_strerror(rc2)) == 0)
				distinct = 0;
	ok(distinct, "strerror: one reason per code");
}

/* ------------------------------------------------------------ passwords */

static void
test_passwd(void)
{
	char	 hash6[256], sethy[CRYPT_GENSALT_OUTPUT_SIZE];
	char	 line[4096], *file, *content, *longline;
	struct crypt_data *cd;
	const char *hy;
	FILE	*f;
	int	 have6 = 0;

	hash6[0] = '\0';
	if ((f = popen("openssl passwd -6 'correct horse' 2>/dev/null",
	    "r")) != NULL) {
		if (fgets(hash6, sizeof(hash6), f) != NULL)
			hash6[strcspn(hash6, "\r\n")] = '\0';
		have6 = pclose(f) == 0 && strncmp(hash6, "$6$", 3) == 0;
	}
	if (!have6) {
		diag("openssl passwd -6 failed; using crypt_gensalt");
		cd = calloc(1, sizeof(*cd));
		crypt_gensalt_rn("$6$", 0, NULL, 0, sethy, sizeof(sethy));
		snprintf(hash6, sizeof(hash6), "%s",
		    crypt_rn("correct horse", sethy, cd, (int)sizeof(*cd)));
		free(cd);
	}
	ok(strncmp(hash6, "$6$", 3) == 0, "sha512crypt hash made");

	cd = calloc(1, sizeof(*cd));
	if (cd == NULL ||
	    crypt_gensalt_rn("$y$", 0, NULL, 0, sethy, sizeof(sethy)) == NULL ||
	    (hy = crypt_rn("battery staple", sethy, cd, (int)sizeof(*cd))) ==
	    NULL)
		abort();

	longline = malloc(3001);
	memset(longline, 'x', 3000);
	longline[3000] = '\0';
	memcpy(longline, "eve:", 4);

	if (xasprintf(&content,
	    "# corral passwords\n"
	    "\n"
	    "alice:%s\n"
	    "bob:%s\n"
	    "carol:!%s\n"
	    "%s\n"
	    "dave:%s\r\n"
	    "nocolon\n"
	    "erin:%s:extra:fields\n"
	    "frank:%s",
	    hash6, hy, hash6, longline, hash6, hash6, hash6) == -1)
		abort();
	free(cd);
	free(longline);
	file = write_file("passwd", content, strlen(content), 0600);
	free(content);

	is_int(passwd_check(file, "alice", "correct horse"), 1,
	    "passwd: sha512crypt, right password");
	is_int(passwd_check(file, "alice", "correct horsE"), 0,
	    "passwd: wrong password");
	is_int(passwd_check(file, "alice", "correct horse "), 0,
	    "passwd: trailing space");
	is_int(passwd_check(file, "alice", ""), 0, "passwd: empty password");
	is_int(passwd_check(file, "alice", NULL), 0, "passwd: NULL password");
	is_int(passwd_check(file, "bob", "battery staple"), 1,
	    "passwd: yescrypt, right password");
	is_int(passwd_check(file, "bob", "correct horse"), 0,
	    "passwd: yescrypt, wrong password");
	is_int(passwd_check(file, "carol", "correct horse"), 0,
	    "passwd: locked entry");
	is_int(passwd_check(file, "dave", "correct horse"), 1,
	    "passwd: after an overlong line, CRLF ending");
	is_int(passwd_check(file, "eve", "xxxx"), 0,
	    "passwd: overlong line ignored");
	is_int(passwd_check(file, "erin", "correct horse"), 1,
	    "passwd: extra fields ignored");
	is_int(passwd_check(file, "frank", "correct horse"), 1,
	    "passwd: last line without newline");
	is_int(passwd_check(file, "mallory", "correct horse"), 0,
	    "passwd: unknown user");
	is_int(passwd_check(file, "alic", "correct horse"), 0,
	    "passwd: prefix of a user");
	is_int(passwd_check(file, "alice:x", "correct horse"), 0,
	    "passwd: ':' in user");
	is_int(passwd_check(file, "# corral passwords", "x"), 0,
	    "passwd: comment as user");
	is_int(passwd_check(file, "", "correct horse"), 0, "passwd: empty user");
	is_int(passwd_check(file, "-alice", "correct horse"), 0,
	    "passwd: leading dash");
	is_int(passwd_check(file, NULL, "correct horse"), 0,
	    "passwd: NULL user");
	is_int(passwd_check("/nonexistent/corral.passwd", "alice",
	    "correct horse"), 0, "passwd: missing file is no");
	is_int(passwd_check(NULL, "alice", "correct horse"), 0,
	    "passwd: no file configured");

	memset(line, 'p', 2000);
	line[2000] = '\0';
	is_int(passwd_check(file, "alice", line), 0,
	    "passwd: 2000-byte password");

	unlink(file);
	free(file);

	is_int(pam_check(NULL, "alice", "x"), 0, "pam: no service");
	is_int(pam_check("", "alice", "x"), 0, "pam: empty service");
}

/* ------------------------------------------------------------ PAM */

static const char *pwrap_dirs[] = {
	"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
	"/usr/lib64", "/usr/lib",
};

/* In the child started under pam_wrapper: say what pam_check said. */
static int
pam_child(void)
{
	printf("%d %d %d %d\n",
	    pam_check("corral-test", "alice", "open sesame"),
	    pam_check("corral-test", "alice", "open sesamE"),
	    pam_check("corral-test", "bob", "open sesame"),
	    pam_check("corral-test", "alice", ""));
	return 0;
}

/*
 * A real PAM conversation, with pam_wrapper and its pam_matrix module
 * standing in for the system's configuration, in a child because
 * pam_wrapper has to be preloaded.  Skipped where it is not installed.
 */
static void
test_pam_live(const char *self)
{
	char		*lib = NULL, *mod = NULL, *svc, *passdb, *cmd, *dir;
	const char	*passwd = "alice:open sesame:corral-test\n";
	int		 got[4] = { -2, -2, -2, -2 };
	size_t		 i;
	FILE		*f;

	for (i = 0; i < sizeof(pwrap_dirs) / sizeof(pwrap_dirs[0]); i++) {
		xasprintf(&lib, "%s/libpam_wrapper.so", pwrap_dirs[i]);
		xasprintf(&mod, "%s/pam_wrapper/pam_matrix.so", pwrap_dirs[i]);
		if (access(lib, R_OK) == 0 && access(mod, R_OK) == 0)
			break;
		free(lib);
		free(mod);
		lib = mod = NULL;
	}
	if (lib == NULL) {
		skip(4, "pam_wrapper not installed");
		return;
	}
	if (UNDER_ASAN) {
		/* ASan aborts on pam_wrapper's dlopen(RTLD_DEEPBIND). */
		skip(4, "pam_wrapper cannot run under AddressSanitizer");
		free(lib);
		free(mod);
		return;
	}

	xasprintf(&dir, "%s/pam.d", tmpdir);
	if (mkdir(dir, 0700) == -1)
		abort();
	passdb = write_file("pam-passdb", passwd, strlen(passwd), 0600);
	xasprintf(&svc, "auth required %s passdb=%s\n"
	    "account required %s passdb=%s\n", mod, passdb, mod, passdb);
	free(write_file("pam.d/corral-test", svc, strlen(svc), 0600));
	xasprintf(&cmd, "LD_PRELOAD='%s' PAM_WRAPPER=1 "
	    "PAM_WRAPPER_SERVICE_DIR='%s' "
	    "'%s' --pam-child 2>/dev/null", lib, dir, self);
	if ((f = popen(cmd, "r")) == NULL)
		abort();
	if (fscanf(f, "%d %d %d %d", &got[0], &got[1], &got[2],
	    &got[3]) != 4)
		diag("no answer from %s", cmd);
	pclose(f);
	is_int(got[0], 1, "pam: right password");
	is_int(got[1], 0, "pam: wrong password");
	is_int(got[2], 0, "pam: unknown user");
	is_int(got[3], 0, "pam: empty password");

	free(cmd);
	free(svc);
	free(passdb);
	free(dir);
	free(lib);
	free(mod);
}

/* ------------------------------------------------------------ roles */

static void
test_roles(void)
{
	static const struct {
		const char	*name;
		unsigned int	 bit;
	} valid[] = {
		{ "role.authuser", ROLE_AUTHUSER },
		{ "role.operator", ROLE_OPERATOR },
		{ "role.configadmin", ROLE_CONFIGADMIN },
		{ "role.fulladmin", ROLE_FULLADMIN },
	};
	static const char *invalid[] = {
		"", "role.", "role.root", "ROLE.AUTHUSER", "role.authuser ",
		"authuser", "role.fulladmin\n", "role.operatorx",
	};
	unsigned int	 bit;
	json_t		*j;
	char		*s;
	size_t		 i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		bit = 0;
		is_int(role_parse(valid[i].name, &bit), 0, "role_parse %s",
		    valid[i].name);
		is_int(bit, valid[i].bit, "role_parse %s bit", valid[i].name);
		is_str(role_name(valid[i].bit), valid[i].name, "role_name %#x",
		    valid[i].bit);
	}
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		bit = 0x55;
		is_int(role_parse(invalid[i], &bit), -1, "role_parse invalid[%zu]",
		    i);
		is_int(bit, 0x55, "role_parse invalid[%zu] leaves bit", i);
	}
	is_int(role_parse(NULL, &bit), -1, "role_parse NULL");
	is_str(role_name(0), NULL, "role_name 0");
	is_str(role_name(ROLE_AUTHUSER | ROLE_OPERATOR), NULL,
	    "role_name two bits");
	is_str(role_name(0x10), NULL, "role_name unknown bit");

	j = roles_json(ROLE_FULLADMIN | ROLE_AUTHUSER | ROLE_CONFIGADMIN |
	    ROLE_OPERATOR);
	s = json_dumps(j, JSON_COMPACT);
	is_str(s, "[\"role.authuser\",\"role.operator\",\"role.configadmin\","
	    "\"role.fulladmin\"]", "roles_json: fixed order");
	free(s);
	json_decref(j);
	j = roles_json(ROLE_FULLADMIN | ROLE_OPERATOR | 0x100);
	s = json_dumps(j, JSON_COMPACT);
	is_str(s, "[\"role.operator\",\"role.fulladmin\"]",
	    "roles_json: subset, unknown bit dropped");
	free(s);
	json_decref(j);
	j = roles_json(0);
	s = json_dumps(j, JSON_COMPACT);
	is_str(s, "[]", "roles_json: none");
	free(s);
	json_decref(j);
}

/* Everything write_file made. */
static void
cleanup(void)
{
	static const char *files[] = { "key-short", "key-long", "key-256",
	    "key-ww", "key-gw", "key-gr", "key", "passwd", "pam-passdb",
	    "pam.d/corral-test", "pam.d" };
	char	 path[512];
	size_t	 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		if (unlink(path) == -1)
			rmdir(path);
	}
	rmdir(tmpdir);
}

/*
 * token_check remembers verified tokens; a remembered one must still
 * expire, must not serve as the other type, and a one-byte change must
 * miss the cache and fail verification.
 */
static void
test_cache(const struct authkey *key)
{
	struct claims	 in, out;
	char		*tok;
	size_t		 len;

	fill_claims(&in, TOK_ACCESS);
	if ((tok = token_make(key, &in)) == NULL) {
		ok(0, "make token for the cache");
		return;
	}
	is_int(token_check(key, tok, TOK_ACCESS, (time_t)NOW, &out), TOKEN_OK,
	    "cache: first check verifies");
	is_int(token_check(key, tok, TOK_ACCESS, (time_t)NOW + 1, &out),
	    TOKEN_OK, "cache: second check is served");
	is_str(out.jti, in.jti, "cache: served claims are the token's");
	is_int(token_check(key, tok, TOK_ACCESS, (time_t)NOW + 901 +
	    key->leeway, &out), TOKEN_EXPIRED, "cache: a remembered token "
	    "still expires");
	is_int(token_check(key, tok, TOK_ACCESS, (time_t)NOW - 60 -
	    key->leeway, &out), TOKEN_NOTYET, "cache: and is not valid early");
	is_int(token_check(key, tok, TOK_REFRESH, (time_t)NOW, &out),
	    TOKEN_WRONGTYPE, "cache: an access token is no refresh token");
	len = strlen(tok);
	tok[len - 2] = tok[len - 2] == 'A' ? 'B' : 'A';
	ok(token_check(key, tok, TOK_ACCESS, (time_t)NOW, &out) != TOKEN_OK,
	    "cache: a changed signature misses and fails");
	free(tok);
}

int
main(int argc, char *argv[])
{
	struct authkey	 key;
	const char	*t;

	if (argc == 2 && strcmp(argv[1], "--pam-child") == 0)
		return pam_child();

	log_open("token.t", NULL);

	if ((t = getenv("TMPDIR")) == NULL || *t == '\0')
		t = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/corral-token.XXXXXX", t);
	if (mkdtemp(tmpdir) == NULL) {
		diag("mkdtemp %s: %s", tmpdir, strerror(errno));
		return 1;
	}

	test_shape();
	test_key(&key);
	test_roundtrip(&key);
	test_forged(&key);
	test_tampered(&key);
	test_cache(&key);
	test_strerror();
	test_passwd();
	test_pam_live(argv[0]);
	test_roles();

	cleanup();
	return done_testing();
}
