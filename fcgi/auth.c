/*
 * corral: tokens, passwords and roles.
 *
 * The only file that includes <jwt.h> and <security/pam_appl.h>.
 *
 * libjwt 1.10 is trusted for as little as possible.  It checks no claim
 * at all (an expired token decodes fine), it picks the algorithm from the
 * token's own header, and it misbehaves on empty segments.  So a token is
 * taken apart here first: its shape, its header and its signature are
 * checked before libjwt sees it, libjwt verifies the signature a second
 * time, and every claim is checked here against the signed bytes.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <crypt.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <security/pam_appl.h>

#include "extern.h"

#define TOKEN_MAX	4096	/* bytes; ours are well under 1 KB */
#define SECRET_MIN	32	/* HS256 wants a key as long as its hash */
#define LEEWAY_MAX	3600	/* more than an hour of skew is a broken clock */
#define PASS_MAX	1024	/* sha512crypt's cost grows with the length */
#define PASSWD_LINE	1024	/* "user:hash", user <= NAME_MAX_LEN */
#define HS256_LEN	32
#define HS256_B64LEN	43	/* unpadded base64url of 32 bytes */

/*
 * Claims are times in epoch seconds.  Bounding them (year 9999) keeps
 * exp + leeway and friends far from overflow.
 */
#define CLAIM_TIME_MAX	253402300799LL

static const struct {
	unsigned int	 bit;
	const char	*name;
} roletab[] = {
	/* The order is the order of roles_json() output. */
	{ ROLE_AUTHUSER,	"role.authuser" },
	{ ROLE_OPERATOR,	"role.operator" },
	{ ROLE_CONFIGADMIN,	"role.configadmin" },
	{ ROLE_FULLADMIN,	"role.fulladmin" },
};

#define ROLETAB_LEN	(sizeof(roletab) / sizeof(roletab[0]))
#define ROLE_ALL	(ROLE_AUTHUSER | ROLE_OPERATOR | ROLE_CONFIGADMIN | \
			    ROLE_FULLADMIN)

/*
 * A crypt(3) setting to burn time with when the user is unknown, so an
 * unknown user costs as much as a wrong password.  The same algorithm and
 * cost as `openssl passwd -6`; a real entry's setting is preferred when
 * the file has one.
 */
static const char dummy_setting[] = "$6$corraldummysalt$";

/* ------------------------------------------------------------------ base64url */

static int
b64url_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Strict unpadded base64url: no padding, no stray bits in the last
 * character, so every byte string has exactly one encoding.
 */
static int
b64url_decode(const char *src, size_t len, char *dst, size_t dstsz,
    size_t *outlen)
{
	unsigned long	 acc = 0;
	size_t		 i, n = 0;
	int		 bits = 0, v;

	*outlen = 0;
	if (len % 4 == 1 || len / 4 * 3 + 2 > dstsz)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = b64url_val((unsigned char)src[i])) == -1)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dst[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (bits > 0 && (acc & ((1UL << bits) - 1)) != 0)
		return -1;
	*outlen = n;
	return 0;
}

static void
b64url_encode(const unsigned char *src, size_t len, char *dst, size_t dstsz)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned long	 acc = 0;
	size_t		 i, n = 0;
	int		 bits = 0;

	for (i = 0; i < len && n + 1 < dstsz; i++) {
		acc = (acc << 8) | src[i];
		bits += 8;
		while (bits >= 6 && n + 1 < dstsz) {
			bits -= 6;
			dst[n++] = alphabet[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0 && n + 1 < dstsz)
		dst[n++] = alphabet[(acc << (6 - bits)) & 0x3f];
	dst[n] = '\0';
}

/* ------------------------------------------------------------------ roles */

/*
 * Look up a role by its API name ("role.fulladmin").  Returns 0 and sets
 * *bit, or -1 if the name is not a role.
 */
int
role_parse(const char *name, unsigned int *bit)
{
	size_t	 i;

	if (name == NULL)
		return -1;
	for (i = 0; i < ROLETAB_LEN; i++)
		if (strcmp(name, roletab[i].name) == 0) {
			*bit = roletab[i].bit;
			return 0;
		}
	return -1;
}

/*
 * The API name of one role bit, or NULL if bit is not exactly one known
 * role.  The string is static.
 */
const char *
role_name(unsigned int bit)
{
	size_t	 i;

	for (i = 0; i < ROLETAB_LEN; i++)
		if (roletab[i].bit == bit)
			return roletab[i].name;
	return NULL;
}

/*
 * The roles in a ROLE_* mask as a JSON array of names, always in the order
 * authuser, operator, configadmin, fulladmin; unknown bits are ignored.
 * Returns a new reference, or NULL if out of memory.
 */
json_t *
roles_json(unsigned int roles)
{
	json_t	*a;
	size_t	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < ROLETAB_LEN; i++) {
		if ((roles & roletab[i].bit) == 0)
			continue;
		if (json_array_append_new(a, json_string(roletab[i].name))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* ------------------------------------------------------------------ key */

/*
 * Read the head's signing secret from path (raw bytes, 32 to 256 of them)
 * and set the issuer and the clock-skew leeway tokens are checked with.
 * A secret anyone but its owner could change is refused: whoever writes
 * it can mint fulladmin tokens.  Returns 0, or -1 (logged) with *key
 * wiped.
 */
int
auth_key_load(struct authkey *key, const char *path, const char *issuer,
    int leeway)
{
	unsigned char	 buf[sizeof(key->secret) + 1];
	struct stat	 st;
	size_t		 len = 0, i;
	ssize_t		 n;
	int		 fd = -1, rc = -1;

	memset(key, 0, sizeof(*key));

	if (issuer == NULL || issuer[0] == '\0' ||
	    strlen(issuer) >= sizeof(key->issuer)) {
		log_err("auth: issuer must be 1 to %zu bytes",
		    sizeof(key->issuer) - 1);
		goto out;
	}
	for (i = 0; issuer[i] != '\0'; i++)
		if (issuer[i] <= ' ' || issuer[i] > '~') {
			log_err("auth: issuer must be printable ASCII "
			    "without spaces");
			goto out;
		}
	if (leeway < 0 || leeway > LEEWAY_MAX) {
		log_err("auth: leeway %d out of range 0..%d", leeway,
		    LEEWAY_MAX);
		goto out;
	}
	if (path == NULL || path[0] == '\0') {
		log_err("auth: no secret file configured");
		goto out;
	}

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC)) == -1) {
		log_err("auth: %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		log_err("auth: %s: fstat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		log_err("auth: %s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		log_err("auth: %s: writable by group or others, refusing "
		    "(chmod 600)", path);
		goto out;
	}
	if (st.st_mode & (S_IRGRP | S_IROTH))
		log_warn("auth: %s: readable by group or others; anyone "
		    "who reads it can forge tokens (chmod 600)", path);

	/* One byte more than allowed, to tell "too long" from "exactly". */
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_err("auth: %s: read: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > sizeof(key->secret)) {
		log_err("auth: %s: secret longer than %zu bytes", path,
		    sizeof(key->secret));
		goto out;
	}
	if (len < SECRET_MIN) {
		log_err("auth: %s: secret shorter than %d bytes", path,
		    SECRET_MIN);
		goto out;
	}

	memcpy(key->secret, buf, len);
	key->secretlen = len;
	memcpy(key->issuer, issuer, strlen(issuer) + 1);
	key->leeway = leeway;
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	if (fd != -1)
		close(fd);
	if (rc == -1)
		OPENSSL_cleanse(key, sizeof(*key));
	return rc;
}

/* ------------------------------------------------------------------ tokens */

/*
 * Whether tok (len bytes) looks like a compact JWS before anything parses
 * it: 1 to TOKEN_MAX bytes, three non-empty base64url segments without
 * padding, each of a length base64 can have.  Returns 1 if so, else 0.
 */
int
token_shape_ok(const char *tok, size_t len)
{
	size_t	 i, seg = 0, nseg = 1;

	if (tok == NULL || len == 0 || len > TOKEN_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (tok[i] == '.') {
			/* libjwt 1.10 mishandles empty segments. */
			if (seg == 0 || seg % 4 == 1 || ++nseg > 3)
				return 0;
			seg = 0;
			continue;
		}
		if (b64url_val((unsigned char)tok[i]) == -1)
			return 0;
		seg++;
	}
	return nseg == 3 && seg != 0 && seg % 4 != 1;
}

/*
 * Decode one segment into a JSON object, refusing duplicate keys: with
 * {"alg":"none","alg":"HS256"} two parsers may disagree on what was said.
 * Returns a new reference, or NULL.
 */
static json_t *
segment_json(const char *seg, size_t len)
{
	char		 buf[TOKEN_MAX];
	size_t		 n;
	json_t		*j;
	json_error_t	 err;

	if (b64url_decode(seg, len, buf, sizeof(buf), &n) == -1)
		return NULL;
	if ((j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &err)) == NULL)
		return NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/*
 * The header must be exactly what token_make writes: alg "HS256" (never
 * taken from the token as a choice) and, optionally, typ "JWT".
 */
static int
header_ok(json_t *hdr)
{
	const char	*k;
	json_t		*v;
	int		 alg = 0;

	json_object_foreach(hdr, k, v) {
		if (strcmp(k, "alg") == 0) {
			if (!json_is_string(v) ||
			    strcmp(json_string_value(v), "HS256") != 0)
				return 0;
			alg = 1;
		} else if (strcmp(k, "typ") == 0) {
			if (!json_is_string(v) ||
			    strcmp(json_string_value(v), "JWT") != 0)
				return 0;
		} else
			return 0;	/* kid, jku, crit...: not ours */
	}
	return alg;
}

/*
 * Verify the HS256 signature over "header.payload" in constant time.
 * libjwt 1.10 compares with strcmp(), which leaks how much of a guess was
 * right; by the time it runs, the signature is already known good.
 */
static int
signature_ok(const struct authkey *key, const char *tok, size_t signedlen,
    const char *sig, size_t siglen)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		 want[HS256_B64LEN + 2];
	int		 ok = 0;

	if (siglen != HS256_B64LEN)
		return 0;
	if (HMAC(EVP_sha256(), key->secret, (int)key->secretlen,
	    (const unsigned char *)tok, signedlen, md, &mdlen) == NULL ||
	    mdlen != HS256_LEN) {
		log_err("auth: HMAC-SHA256 failed");
		goto out;
	}
	b64url_encode(md, mdlen, want, sizeof(want));
	ok = strlen(want) == HS256_B64LEN &&
	    CRYPTO_memcmp(want, sig, HS256_B64LEN) == 0;
out:
	OPENSSL_cleanse(md, sizeof(md));
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

static int
hex32(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) == UID_LEN &&
	    uid_valid(json_string_value(v));
}

static int
claim_time(const json_t *v, long long *out)
{
	long long	 t;

	if (!json_is_integer(v))
		return 0;
	t = json_integer_value(v);
	if (t < 0 || t > CLAIM_TIME_MAX)
		return 0;
	*out = t;
	return 1;
}

/* An admin name as it may appear in a token: 1..253 bytes, no controls. */
static int
name_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > NAME_MAX_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* The checks of claims that depend on the clock. */
static enum tokrc
claims_time_ok(const struct claims *cl, int leeway, time_t now)
{
	long long	 t = (long long)now;

	if (cl->exp + leeway <= t)
		return TOKEN_EXPIRED;
	if (cl->nbf - leeway > t || cl->iat - leeway > t)
		return TOKEN_NOTYET;
	return TOKEN_OK;
}

/*
 * Every claim a verified token carries, checked by type, range and
 * charset.  Claims we never issue are refused.  Fills *cl (zeroed by the
 * caller) and returns TOKEN_OK or why not.
 */
static enum tokrc
claims_parse(const struct authkey *key, json_t *obj, enum toktype want,
    time_t now, struct claims *cl)
{
	const char	*k;
	json_t		*v, *r;
	size_t		 i;
	unsigned int	 bit;
	int		 seen = 0;
	enum {
		C_ISS = 0x001, C_SUB = 0x002, C_NAME = 0x004, C_TID = 0x008,
		C_ROLES = 0x010, C_TYP = 0x020, C_JTI = 0x040, C_FAM = 0x080,
		C_IAT = 0x100, C_NBF = 0x200, C_EXP = 0x400,
		C_ALL = 0x7ff & ~C_FAM
	};

	json_object_foreach(obj, k, v) {
		if (strcmp(k, "iss") == 0) {
			if (!json_is_string(v) ||
			    strcmp(json_string_value(v), key->issuer) != 0)
				return TOKEN_BADCLAIMS;
			seen |= C_ISS;
		} else if (strcmp(k, "sub") == 0) {
			if (!hex32(v))
				return TOKEN_BADCLAIMS;
			memcpy(cl->sub, json_string_value(v), UID_LEN + 1);
			seen |= C_SUB;
		} else if (strcmp(k, "jti") == 0) {
			if (!hex32(v))
				return TOKEN_BADCLAIMS;
			memcpy(cl->jti, json_string_value(v), UID_LEN + 1);
			seen |= C_JTI;
		} else if (strcmp(k, "fam") == 0) {
			if (!hex32(v))
				return TOKEN_BADCLAIMS;
			memcpy(cl->fam, json_string_value(v), UID_LEN + 1);
			seen |= C_FAM;
		} else if (strcmp(k, "name") == 0) {
			if (!json_is_string(v) ||
			    !name_ok(json_string_value(v),
			    json_string_length(v)))
				return TOKEN_BADCLAIMS;
			memcpy(cl->name, json_string_value(v),
			    json_string_length(v) + 1);
			seen |= C_NAME;
		} else if (strcmp(k, "tid") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) <= 0)
				return TOKEN_BADCLAIMS;
			cl->tid = json_integer_value(v);
			seen |= C_TID;
		} else if (strcmp(k, "roles") == 0) {
			if (!json_is_array(v) ||
			    json_array_size(v) > ROLETAB_LEN)
				return TOKEN_BADCLAIMS;
			json_array_foreach(v, i, r) {
				if (!json_is_string(r) ||
				    role_parse(json_string_value(r),
				    &bit) == -1 || (cl->roles & bit))
					return TOKEN_BADCLAIMS;
				cl->roles |= bit;
			}
			seen |= C_ROLES;
		} else if (strcmp(k, "typ") == 0) {
			if (!json_is_string(v))
				return TOKEN_BADCLAIMS;
			if (strcmp(json_string_value(v), "access") == 0)
				cl->typ = TOK_ACCESS;
			else if (strcmp(json_string_value(v), "refresh") == 0)
				cl->typ = TOK_REFRESH;
			else if (strcmp(json_string_value(v), "tenancy") == 0)
				cl->typ = TOK_TENANCY;
			else
				return TOKEN_BADCLAIMS;
			seen |= C_TYP;
		} else if (strcmp(k, "iat") == 0) {
			if (!claim_time(v, &cl->iat))
				return TOKEN_BADCLAIMS;
			seen |= C_IAT;
		} else if (strcmp(k, "nbf") == 0) {
			if (!claim_time(v, &cl->nbf))
				return TOKEN_BADCLAIMS;
			seen |= C_NBF;
		} else if (strcmp(k, "exp") == 0) {
			if (!claim_time(v, &cl->exp))
				return TOKEN_BADCLAIMS;
			seen |= C_EXP;
		} else
			return TOKEN_BADCLAIMS;
	}
	if ((seen & C_ALL) != C_ALL)
		return TOKEN_BADCLAIMS;
	/* A family ties refresh tokens together for reuse detection. */
	if ((cl->typ == TOK_REFRESH) != ((seen & C_FAM) != 0))
		return TOKEN_BADCLAIMS;

	if (cl->typ != want)
		return TOKEN_WRONGTYPE;

	return claims_time_ok(cl, key->leeway, now);
}

/*
 * Verify tok from scratch: shape, header, signature, claims.
 */
static enum tokrc
token_verify(const struct authkey *key, const char *tok, enum toktype want,
    time_t now, struct claims *out)
{
	struct claims	 cl;
	jwt_t		*jwt = NULL;
	json_t		*hdr = NULL, *body = NULL;
	const char	*dot1, *dot2;
	size_t		 len;
	enum tokrc	 rc = TOKEN_MALFORMED;

	memset(out, 0, sizeof(*out));
	memset(&cl, 0, sizeof(cl));

	if (tok == NULL)
		goto out;
	len = strnlen(tok, TOKEN_MAX + 1);
	if (!token_shape_ok(tok, len))
		goto out;
	/* The shape guarantees both dots and three non-empty segments. */
	dot1 = strchr(tok, '.');
	dot2 = strchr(dot1 + 1, '.');

	if ((hdr = segment_json(tok, (size_t)(dot1 - tok))) == NULL ||
	    !header_ok(hdr))
		goto out;

	if (!signature_ok(key, tok, (size_t)(dot2 - tok), dot2 + 1,
	    len - (size_t)(dot2 + 1 - tok))) {
		rc = TOKEN_BADSIG;
		goto out;
	}

	/*
	 * The claims come from the signed bytes themselves rather than from
	 * jwt_get_grants_json(), which re-serializes and so would hide
	 * duplicate claims.  Parsed before libjwt's turn so that a signed
	 * but unparseable payload is a claims problem, not a signature one.
	 */
	if ((body = segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1))) ==
	    NULL) {
		rc = TOKEN_BADCLAIMS;
		goto out;
	}

	rc = TOKEN_BADSIG;
	if (jwt_decode(&jwt, tok, key->secret, (int)key->secretlen) != 0) {
		jwt = NULL;
		goto out;
	}
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		goto out;

	if ((rc = claims_parse(key, body, want, now, &cl)) != TOKEN_OK)
		goto out;

	*out = cl;
out:
	OPENSSL_cleanse(&cl, sizeof(cl));
	jwt_free(jwt);
	json_decref(hdr);
	json_decref(body);
	return rc;
}

/*
 * Verified tokens, per worker.  A client sends the same access token for
 * its whole life, and verifying one (signature, then libjwt's own decode
 * and JSON parses) costs more than the rest of a GET; so a token whose
 * exact bytes verified before is accepted again after only the checks
 * that depend on the clock.  Compared in constant time, so the cache
 * cannot be probed byte by byte for a valid token.
 */
#define TOKCACHE_SLOTS	16
#define TOKCACHE_LEN	1024	/* longer tokens are verified every time */

struct tokcache {
	const struct authkey	*key;
	enum toktype		 want;
	size_t			 len;
	char			 tok[TOKCACHE_LEN];
	struct claims		 cl;
};

static struct tokcache	 tokcache[TOKCACHE_SLOTS];
static size_t		 tokcache_next;

/*
 * Verify tok, a NUL-terminated compact JWS, as a token of type want at
 * time now: shape, header, HS256 signature with key, issuer, type and
 * times (with key->leeway), and every claim's type and range.  Fills *out
 * only on TOKEN_OK (it is zeroed first).  Failures are the client's and
 * are not logged here.
 */
enum tokrc
token_check(const struct authkey *key, const char *tok, enum toktype want,
    time_t now, struct claims *out)
{
	struct tokcache	*e;
	size_t		 i, len;
	int		 hit = -1;
	enum tokrc	 rc;

	len = tok == NULL ? 0 : strnlen(tok, TOKCACHE_LEN);
	if (len > 0 && len < TOKCACHE_LEN)
		for (i = 0; i < TOKCACHE_SLOTS; i++) {
			e = &tokcache[i];
			if (e->len == len && e->key == key && e->want == want &&
			    CRYPTO_memcmp(e->tok, tok, len) == 0)
				hit = (int)i;
		}
	if (hit == -1) {
		rc = token_verify(key, tok, want, now, out);
		if (rc == TOKEN_OK && len > 0 && len < TOKCACHE_LEN) {
			e = &tokcache[tokcache_next++ % TOKCACHE_SLOTS];
			e->key = key;
			e->want = want;
			e->len = len;
			memcpy(e->tok, tok, len);
			e->cl = *out;
		}
		return rc;
	}
	/* Only time has changed since it verified. */
	e = &tokcache[hit];
	memset(out, 0, sizeof(*out));
	if ((rc = claims_time_ok(&e->cl, key->leeway, now)) != TOKEN_OK)
		return rc;
	*out = e->cl;
	return TOKEN_OK;
}

/* A uid in a struct claims: terminated within its array, then well formed. */
static int
uid_field_ok(const char *s)
{
	return strnlen(s, UID_LEN + 1) == UID_LEN && uid_valid(s);
}

/*
 * Sign the claims c as an HS256 JWT with key; iss comes from the key, fam
 * is written on refresh tokens only.  The claims are checked as
 * token_check would.  Returns a new string the caller free()s, or NULL
 * (logged).
 */
char *
token_make(const struct authkey *key, const struct claims *c)
{
	jwt_t		*jwt = NULL;
	json_t		*obj = NULL, *roles = NULL;
	char		*grants = NULL, *tok = NULL, *ret = NULL;
	int		 refresh = c->typ == TOK_REFRESH;

	if (key->secretlen < SECRET_MIN || key->secretlen > sizeof(key->secret) ||
	    key->issuer[0] == '\0') {
		log_err("auth: token_make: no key loaded");
		goto out;
	}
	if ((c->typ != TOK_ACCESS && c->typ != TOK_TENANCY && !refresh) ||
	    !uid_field_ok(c->sub) || !uid_field_ok(c->jti) ||
	    (refresh && !uid_field_ok(c->fam)) ||
	    !name_ok(c->name, strnlen(c->name, sizeof(c->name))) ||
	    c->tid <= 0 || (c->roles & ~ROLE_ALL) != 0 ||
	    c->iat < 0 || c->iat > CLAIM_TIME_MAX ||
	    c->nbf < 0 || c->nbf > CLAIM_TIME_MAX ||
	    c->exp < 0 || c->exp > CLAIM_TIME_MAX) {
		log_err("auth: token_make: invalid claims");
		goto out;
	}

	/* Out of memory in jansson or libjwt; xmalloc would abort too. */
	if ((roles = roles_json(c->roles)) == NULL)
		abort();
	obj = json_pack("{s:s, s:s, s:s, s:I, s:o, s:s, s:s, s:I, s:I, s:I}",
	    "iss", key->issuer,
	    "sub", c->sub,
	    "name", c->name,
	    "tid", (json_int_t)c->tid,
	    "roles", roles,
	    "typ", refresh ? "refresh" : c->typ == TOK_TENANCY ? "tenancy" :
	    "access",
	    "jti", c->jti,
	    "iat", (json_int_t)c->iat,
	    "nbf", (json_int_t)c->nbf,
	    "exp", (json_int_t)c->exp);
	roles = NULL;		/* "o" stole it, even on failure */
	if (obj == NULL ||
	    (refresh && json_object_set_new(obj, "fam", json_string(c->fam))) ||
	    (grants = json_dumps(obj, JSON_COMPACT)) == NULL)
		abort();

	if (jwt_new(&jwt) != 0) {
		log_err("auth: token_make: jwt_new failed");
		jwt = NULL;
		goto out;
	}
	if (jwt_add_grants_json(jwt, grants) != 0 ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, key->secret,
	    (int)key->secretlen) != 0) {
		log_err("auth: token_make: libjwt refused the claims");
		goto out;
	}
	if ((tok = jwt_encode_str(jwt)) == NULL) {
		log_err("auth: token_make: jwt_encode_str: %s",
		    strerror(errno));
		goto out;
	}
	/* libjwt 1.10 allocates with malloc(3) and has no jwt_free_str. */
	if (!token_shape_ok(tok, strlen(tok))) {
		log_err("auth: token_make: libjwt made a malformed token");
		goto out;
	}
	ret = tok;
	tok = NULL;
out:
	free(tok);
	free(grants);
	json_decref(obj);
	jwt_free(jwt);
	return ret;
}

/*
 * A short reason for a 401 body.  The same text for both directions of a
 * type mix-up; a caller that wants to say which knows what it asked for.
 */
const char *
token_strerror(enum tokrc rc)
{
	switch (rc) {
	case TOKEN_OK:
		return "Token is valid";
	case TOKEN_MALFORMED:
		return "Malformed token";
	case TOKEN_BADSIG:
		return "Invalid token signature";
	case TOKEN_EXPIRED:
		return "Token has expired";
	case TOKEN_NOTYET:
		return "Token is not valid yet";
	case TOKEN_WRONGTYPE:
		return "Wrong token type: access and refresh tokens "
		    "are not interchangeable";
	case TOKEN_BADCLAIMS:
		return "Invalid token claims";
	}
	return "Invalid token";
}

/* ------------------------------------------------------------------ passwords */

/*
 * A login name safe to look up, pass to PAM and log: 1..NAME_MAX_LEN of
 * [A-Za-z0-9._@-], not starting with '-' or '.'.
 */
static int
user_ok(const char *u)
{
	size_t	 i;

	if (u == NULL || u[0] == '\0' || u[0] == '-' || u[0] == '.')
		return 0;
	for (i = 0; u[i] != '\0'; i++) {
		if (i >= NAME_MAX_LEN)
			return 0;
		if (!((u[i] >= 'a' && u[i] <= 'z') ||
		    (u[i] >= 'A' && u[i] <= 'Z') ||
		    (u[i] >= '0' && u[i] <= '9') ||
		    u[i] == '.' || u[i] == '_' || u[i] == '-' || u[i] == '@'))
			return 0;
	}
	return 1;
}

/*
 * Hash pass with setting and compare with hash in constant time.
 * Returns 1 on a match, else 0.
 */
static int
crypt_match(struct crypt_data *cd, const char *pass, const char *setting,
    const char *hash)
{
	const char	*h;
	size_t		 len;

	h = crypt_rn(pass, setting, cd, (int)sizeof(*cd));
	if (h == NULL || h[0] == '*')
		return 0;
	len = strlen(h);
	return hash != NULL && len == strlen(hash) &&
	    CRYPTO_memcmp(h, hash, len) == 0;
}

/*
 * Check user and pass against file, lines of "user:crypt-hash" ('#'
 * starts a comment).  Entries whose hash does not start with '$' are
 * locked.  An unknown user costs one crypt(3) like a known one.
 * Returns 1 on a match, 0 if not (a missing file is "not", logged once),
 * -1 on error (logged).
 */
int
passwd_check(const char *file, const char *user, const char *pass)
{
	static int		 missing_logged;
	struct crypt_data	*cd = NULL;
	FILE			*f = NULL;
	char			 line[PASSWD_LINE];
	char			 setting[CRYPT_OUTPUT_SIZE];
	char			*sep = NULL;
	size_t			 ulen = 0;
	int			 rc = -1, c, found = 0, checked = 0;

	setting[0] = '\0';
	cd = xcalloc(1, sizeof(*cd));

	if (file == NULL || file[0] == '\0') {
		rc = 0;
		goto out;
	}
	if (!user_ok(user) || pass == NULL || pass[0] == '\0' ||
	    strnlen(pass, PASS_MAX + 1) > PASS_MAX) {
		rc = 0;
		goto out;
	}
	ulen = strlen(user);

	if ((f = fopen(file, "r")) == NULL) {
		if (errno == ENOENT) {
			if (!missing_logged)
				log_warn("auth: %s: no such file; password "
				    "logins fail", file);
			missing_logged = 1;
			rc = 0;
			goto out;
		}
		log_err("auth: %s: %s", file, strerror(errno));
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strchr(line, '\n') == NULL && !feof(f)) {
			/* Too long to be ours: skip the rest of it. */
			while ((c = getc(f)) != EOF && c != '\n')
				continue;
			continue;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || (sep = strchr(line, ':')) == NULL)
			continue;
		*sep++ = '\0';
		sep[strcspn(sep, ":")] = '\0';
		/* Remember a real setting so unknown users cost the same. */
		if (setting[0] == '\0' && sep[0] == '$' &&
		    strlen(sep) < sizeof(setting))
			memcpy(setting, sep, strlen(sep) + 1);
		if ((size_t)(sep - 1 - line) == ulen &&
		    memcmp(line, user, ulen) == 0) {
			found = 1;
			break;
		}
	}
	if (ferror(f)) {
		log_err("auth: %s: read error", file);
		goto out;
	}
	if (found && sep[0] == '$') {
		rc = crypt_match(cd, pass, sep, sep);
		checked = 1;
		goto out;
	}
	rc = 0;
out:
	/* A "no" without a real check costs the same crypt(3) anyway. */
	if (rc == 0 && !checked)
		(void)crypt_match(cd, pass != NULL ? pass : "",
		    setting[0] != '\0' ? setting : dummy_setting, NULL);
	if (f != NULL)
		fclose(f);
	OPENSSL_cleanse(line, sizeof(line));
	if (cd != NULL)
		OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return rc;
}

struct pamcreds {
	const char	*user;
	const char	*pass;
};

/*
 * Answer PAM's prompts from memory: the password when it asks with echo
 * off, the user name with echo on.  Anything else fails the conversation.
 */
static int
pam_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
    void *appdata)
{
	const struct pamcreds	*cr = appdata;
	struct pam_response	*r = NULL;
	int			 i, rc = PAM_CONV_ERR;

	*resp = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			r[i].resp = strdup(cr->pass);
			break;
		case PAM_PROMPT_ECHO_ON:
			r[i].resp = strdup(cr->user);
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			continue;
		default:
			goto out;
		}
		if (r[i].resp == NULL) {
			rc = PAM_BUF_ERR;
			goto out;
		}
	}
	*resp = r;		/* PAM frees it */
	r = NULL;
	rc = PAM_SUCCESS;
out:
	for (i = 0; r != NULL && i < n; i++) {
		if (r[i].resp != NULL) {
			OPENSSL_cleanse(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
	return rc;
}

/*
 * PAM's failure delay (pam_unix: about 2 s) would hold a prefork worker
 * that long, so a handful of bad logins could stall the whole pool.
 * Guessing is slowed by nginx's per-address limit on /login instead.
 */
static void
pam_no_delay(int retval, unsigned int usec, void *appdata)
{
	(void)retval;
	(void)usec;
	(void)appdata;
}

/*
 * Authenticate user with pass through the PAM service, then check the
 * account (expired, locked).  A NULL or empty service means PAM is off.
 * Returns 1 if allowed, 0 if denied, -1 on error (logged).
 */
int
pam_check(const char *service, const char *user, const char *pass)
{
	struct pamcreds	 cr;
	struct pam_conv	 conv;
	pam_handle_t	*ph = NULL;
	int		 prc, rc = -1;

	if (service == NULL || service[0] == '\0')
		return 0;
	if (!user_ok(user) || pass == NULL || pass[0] == '\0' ||
	    strnlen(pass, PASS_MAX + 1) > PASS_MAX)
		return 0;

	cr.user = user;
	cr.pass = pass;
	conv.conv = pam_conv_fn;
	conv.appdata_ptr = &cr;

	if ((prc = pam_start(service, user, &conv, &ph)) != PAM_SUCCESS) {
		log_err("auth: pam_start %s: %s", service,
		    pam_strerror(ph, prc));
		ph = NULL;
		goto out;
	}
	(void)pam_set_item(ph, PAM_FAIL_DELAY, (const void *)(uintptr_t)pam_no_delay);
	prc = pam_authenticate(ph, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	switch (prc) {
	case PAM_SUCCESS:
		break;
	case PAM_AUTH_ERR:
	case PAM_USER_UNKNOWN:
	case PAM_CRED_INSUFFICIENT:
	case PAM_MAXTRIES:
		log_info("auth: pam %s: %s: %s", service, user,
		    pam_strerror(ph, prc));
		rc = 0;
		goto out;
	default:
		log_err("auth: pam %s: %s: %s", service, user,
		    pam_strerror(ph, prc));
		goto out;
	}
	prc = pam_acct_mgmt(ph, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	switch (prc) {
	case PAM_SUCCESS:
		rc = 1;
		break;
	case PAM_ACCT_EXPIRED:
	case PAM_NEW_AUTHTOK_REQD:
	case PAM_PERM_DENIED:
	case PAM_AUTH_ERR:
	case PAM_USER_UNKNOWN:
		log_info("auth: pam %s: %s: account: %s", service, user,
		    pam_strerror(ph, prc));
		rc = 0;
		break;
	default:
		log_err("auth: pam %s: %s: account: %s", service, user,
		    pam_strerror(ph, prc));
		break;
	}
out:
	if (ph != NULL)
		pam_end(ph, prc);
	return rc;
}
