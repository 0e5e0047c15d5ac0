/*
 * Secrets at rest: the only file that encrypts (OpenSSL EVP, AES-256-GCM),
 * the digests of stored files (SHA-256, SHA-1, MD5) and webhook
 * signatures (HMAC-SHA256; both at the end).
 * auth.c keeps its own use of libcrypto (HMAC for tokens, cleansing).
 *
 * Three layers of keys and values:
 *   master key  32 random bytes in a file on the head, [secrets]
 *               key_dir/<id>.key (mode 0600, directory 0700), named by
 *               its id in table master_keys and never stored in the
 *               database.  Every head has the same one: a joining head
 *               copies key_dir, as it copies the database credentials.
 *   data key    32 random bytes per tenant (table tenant_keys), made on
 *               first use and stored wrapped under the master key:
 *               base64(IV | ciphertext | tag), additional data
 *               "cdk1|<data key id>|<tenant id>|<master key id>".
 *   value       the JSON text of a secret attribute value, sealed under
 *               its object's tenant's data key into the string
 *               "cs1:<data key id>:<base64(IV | ciphertext | tag)>",
 *               additional data "cs1|<data key id>|<object uid>|<key>",
 *               so a value copied to another object or key, or altered,
 *               does not open.
 * Every IV is 96 random bits; each data key seals far fewer than the 2^32
 * values random IVs allow (NIST SP 800-38D).
 *
 * Each process caches the keys it unwrapped, by id, for its lifetime (a
 * worker's is bounded by max_requests): the BMC passwords of 10,000 nodes
 * unwrap their tenant's data key once.  A data key never changes (a rekey
 * wraps the same key anew), so a cached one is never stale.
 *
 * crypto_rekey writes a new master key file, then in one transaction adds
 * its row, re-wraps every data key under it and removes the old rows; the
 * old files go only after the commit.  A process meeting a master key id
 * it has not loaded reads its file; one that finds that file gone (a
 * rekey just committed) reads the data key's row again, which by then
 * names the new master key.  Processes that hold the old master key or
 * the data keys in memory carry on: nothing stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "extern.h"

#define KEY_LEN		32	/* AES-256 */
#define IV_LEN		12	/* 96 bits, GCM's own size */
#define TAG_LEN		16
#define SEAL_OVERHEAD	(IV_LEN + TAG_LEN)
#define AAD_MAX		256
#define SEAL_TEXT_MAX	(1024 * 1024)	/* far above any attribute value */

/* Unwrapped keys by id: master keys and data keys, one cache each. */
struct keyent {
	char		 id[UID_LEN + 1];
	unsigned char	 key[KEY_LEN];
};

struct keycache {
	struct keyent	*e;
	size_t		 n, cap;
};

static struct keycache	 masters, datakeys;

/* ------------------------------------------------------------------ caches */

static int
cache_get(const struct keycache *kc, const char *id, unsigned char key[KEY_LEN])
{
	size_t	 i;

	for (i = 0; i < kc->n; i++)
		if (strcmp(kc->e[i].id, id) == 0) {
			memcpy(key, kc->e[i].key, KEY_LEN);
			return 1;
		}
	return 0;
}

/* Add key under id; grown by hand, so no copy of a key is left in freed memory. */
static void
cache_put(struct keycache *kc, const char *id, const unsigned char key[KEY_LEN])
{
	struct keyent	*grown;
	unsigned char	 have[KEY_LEN];

	if (cache_get(kc, id, have)) {
		OPENSSL_cleanse(have, sizeof(have));
		return;
	}
	if (kc->n == kc->cap) {
		grown = xcalloc(kc->cap == 0 ? 8 : kc->cap * 2, sizeof(*grown));
		if (kc->n > 0)
			memcpy(grown, kc->e, kc->n * sizeof(*grown));
		OPENSSL_cleanse(kc->e, kc->cap * sizeof(*grown));
		free(kc->e);
		kc->e = grown;
		kc->cap = kc->cap == 0 ? 8 : kc->cap * 2;
	}
	snprintf(kc->e[kc->n].id, sizeof(kc->e[kc->n].id), "%s", id);
	memcpy(kc->e[kc->n].key, key, KEY_LEN);
	kc->n++;
}

static void
cache_drop(struct keycache *kc, const char *id)
{
	size_t	 i;

	for (i = 0; i < kc->n; i++)
		if (strcmp(kc->e[i].id, id) == 0) {
			kc->e[i] = kc->e[kc->n - 1];
			OPENSSL_cleanse(&kc->e[kc->n - 1], sizeof(kc->e[0]));
			kc->n--;
			return;
		}
}

static void
cache_free(struct keycache *kc)
{
	OPENSSL_cleanse(kc->e, kc->cap * sizeof(kc->e[0]));
	free(kc->e);
	memset(kc, 0, sizeof(*kc));
}

/*
 * Wipe and forget every key this process holds (the corral-api master
 * before it forks, and tests).
 */
void
crypto_forget(void)
{
	cache_free(&masters);
	cache_free(&datakeys);
}

/* Wipe and free a clear text crypto_unseal returned. */
void
crypto_clear_free(char *clear)
{
	if (clear == NULL)
		return;
	OPENSSL_cleanse(clear, strlen(clear));
	free(clear);
}

/* ------------------------------------------------------------------ AES-GCM */

/*
 * Seal inlen bytes of in under key, bound to aad, into out: a random IV,
 * the ciphertext and the tag (inlen + SEAL_OVERHEAD bytes).  0, or -1.
 */
static int
gcm_seal(const unsigned char key[KEY_LEN], const char *aad,
    const unsigned char *in, size_t inlen, unsigned char *out)
{
	EVP_CIPHER_CTX	*x;
	int		 n, fin, rc = -1;

	if (inlen > SEAL_TEXT_MAX || random_bytes(out, IV_LEN) == -1 ||
	    (x = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, key, out) != 1 ||
	    EVP_EncryptUpdate(x, NULL, &n, (const unsigned char *)aad,
	    (int)strlen(aad)) != 1 ||
	    EVP_EncryptUpdate(x, out + IV_LEN, &n, in, (int)inlen) != 1 ||
	    EVP_EncryptFinal_ex(x, out + IV_LEN + n, &fin) != 1 ||
	    (size_t)n + (size_t)fin != inlen ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
	    out + IV_LEN + inlen) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(x);
	return rc;
}

/*
 * Open what gcm_seal made (inlen bytes) into out (inlen - SEAL_OVERHEAD
 * bytes), if it was sealed under key with aad and not altered.  0, or -1.
 */
static int
gcm_open(const unsigned char key[KEY_LEN], const char *aad,
    const unsigned char *in, size_t inlen, unsigned char *out)
{
	EVP_CIPHER_CTX	*x;
	size_t		 ctlen;
	int		 n, fin, rc = -1;

	if (inlen < SEAL_OVERHEAD || inlen > SEAL_TEXT_MAX + SEAL_OVERHEAD ||
	    (x = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ctlen = inlen - SEAL_OVERHEAD;
	if (EVP_DecryptInit_ex(x, EVP_aes_256_gcm(), NULL, key, in) != 1 ||
	    EVP_DecryptUpdate(x, NULL, &n, (const unsigned char *)aad,
	    (int)strlen(aad)) != 1 ||
	    EVP_DecryptUpdate(x, out, &n, in + IV_LEN, (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
	    (void *)(uintptr_t)(in + IV_LEN + ctlen)) != 1 ||
	    EVP_DecryptFinal_ex(x, out + n, &fin) != 1 ||
	    (size_t)n + (size_t)fin != ctlen) {
		OPENSSL_cleanse(out, ctlen);
		goto out;
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(x);
	return rc;
}

/* Base64 of len bytes of in (new allocation). */
static char *
b64_encode(const unsigned char *in, size_t len)
{
	char	*out;

	out = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

/*
 * Decode base64 text s into *out (new allocation) and *len.  0, or -1 if
 * s is not base64 of a sane length.
 */
static int
b64_decode(const char *s, unsigned char **out, size_t *len)
{
	size_t	 n = strlen(s), pad = 0;
	int	 m;

	*out = NULL;
	if (n < 4 || n % 4 != 0 || n > 2 * SEAL_TEXT_MAX)
		return -1;
	pad = (s[n - 1] == '=') + (s[n - 2] == '=');
	*out = xmalloc(n / 4 * 3);
	if ((m = EVP_DecodeBlock(*out, (const unsigned char *)s, (int)n)) < 0 ||
	    (size_t)m < pad) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*len = (size_t)m - pad;
	return 0;
}

/* ------------------------------------------------------------------ master keys */

static void
master_path(const struct ctx *c, const char *id, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%s/%s.key", c->conf->secrets_key_dir, id);
}

/*
 * Read master key id from its file into key.  API_UNAVAILABLE when this
 * head has no such file (the reason says to copy it), another failure
 * when the file is unusable.
 */
static enum apierr
master_read(struct ctx *c, const char *id, unsigned char key[KEY_LEN])
{
	char		 path[PATH_MAX];
	unsigned char	 buf[KEY_LEN + 1];
	struct stat	 st;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;
	enum apierr	 rc = API_INTERNAL;

	if (!uid_valid(id))
		return ctx_internal(c, "master key id %.40s is not 32 hex digits", id);
	if (c->conf->secrets_key_dir == NULL || *c->conf->secrets_key_dir == '\0')
		return ctx_internal(c, "no [secrets] key_dir configured");
	master_path(c, id, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return ctx_fail(c, API_UNAVAILABLE, "Secrets cannot be "
			    "opened on this head: master key %s is not in "
			    "[secrets] key_dir (copy it from the head that "
			    "made it)", id);
		return ctx_internal(c, "master key %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		ctx_internal(c, "master key %s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		ctx_internal(c, "master key %s: group or others may use it; "
		    "refusing (chmod 600)", path);
		goto out;
	}
	while (len < sizeof(buf)) {
		if ((n = read(fd, buf + len, sizeof(buf) - len)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (len != KEY_LEN) {
		ctx_internal(c, "master key %s: %zu bytes, not %d", path, len,
		    KEY_LEN);
		goto out;
	}
	memcpy(key, buf, KEY_LEN);
	rc = API_OK;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* Master key id into key, from the cache or its file (see master_read). */
static enum apierr
master_get(struct ctx *c, const char *id, unsigned char key[KEY_LEN])
{
	enum apierr	 rc;

	if (cache_get(&masters, id, key))
		return API_OK;
	if ((rc = master_read(c, id, key)) == API_OK)
		cache_put(&masters, id, key);
	return rc;
}

static void
dir_sync(const char *dir)
{
	int	 fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
}

/*
 * Write master key id to its file, mode 0600, whatever the umask: written
 * to a temporary name, synced, then renamed, so the file is whole or
 * absent.  key_dir is made (0700) if missing.
 */
static enum apierr
master_write(struct ctx *c, const char *id, const unsigned char key[KEY_LEN])
{
	const char	*dir = c->conf->secrets_key_dir;
	char		 path[PATH_MAX], tmp[PATH_MAX];
	int		 fd;

	if (dir == NULL || *dir == '\0')
		return ctx_internal(c, "no [secrets] key_dir configured");
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return ctx_internal(c, "master key directory %s: %s", dir,
		    strerror(errno));
	master_path(c, id, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, id);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1)
		return ctx_internal(c, "master key %s: %s", tmp, strerror(errno));
	if (fchmod(fd, 0600) == -1 || write(fd, key, KEY_LEN) != KEY_LEN ||
	    fsync(fd) == -1) {
		ctx_internal(c, "master key %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return API_INTERNAL;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		ctx_internal(c, "master key %s: %s", path, strerror(errno));
		unlink(tmp);
		return API_INTERNAL;
	}
	dir_sync(dir);
	return API_OK;
}

/* Remove master key id's file, if this head has it. */
static void
master_remove(struct ctx *c, const char *id)
{
	char	 path[PATH_MAX];

	cache_drop(&masters, id);
	master_path(c, id, path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("master key %s: %s; remove it by hand", path,
		    strerror(errno));
	dir_sync(c->conf->secrets_key_dir);
}

/* A new random key and its id. */
static enum apierr
key_new(struct ctx *c, char id[UID_LEN + 1], unsigned char key[KEY_LEN])
{
	if (uid_new(id) == -1 || random_bytes(key, KEY_LEN) == -1)
		return ctx_internal(c, "no random bytes for a key");
	return API_OK;
}

/*
 * Make sure a master key exists and this head has it: the first one is
 * made (file and row) when the database names none.  Run by the corral-api
 * master before it forks.  API_UNAVAILABLE when the database names a key
 * this head lacks.
 */
enum apierr
crypto_master_ensure(struct ctx *c)
{
	char		*cur = NULL, id[UID_LEN + 1];
	unsigned char	 key[KEY_LEN];
	enum dbrc	 rc;
	enum apierr	 arc = API_INTERNAL;
	int		 tries;

	for (tries = 0; tries < 2; tries++) {
		if ((rc = db_run(c->db, SQL_MASTER_CURRENT, "")) != DB_OK)
			return ctx_dbfail(c, rc);
		rc = db_next(c->db, SQL_MASTER_CURRENT, "s", &cur);
		db_done(c->db, SQL_MASTER_CURRENT);
		if (rc == DB_OK) {
			arc = master_get(c, cur, key);
			goto out;
		}
		if (rc != DB_DONE)
			return ctx_dbfail(c, rc);
		if ((arc = key_new(c, id, key)) != API_OK ||
		    (arc = master_write(c, id, key)) != API_OK)
			goto out;
		/* Unknown outcome: the file stays, in case the row is there. */
		if ((rc = db_run(c->db, SQL_MASTER_FIRST, "sds", id, time_now(),
		    c->conf->head_name)) != DB_OK) {
			arc = ctx_dbfail(c, rc);
			goto out;
		}
		if (db_affected(c->db, SQL_MASTER_FIRST) == 1) {
			log_info("made master key %s in %s", id,
			    c->conf->secrets_key_dir);
			cache_put(&masters, id, key);
			arc = API_OK;
			goto out;
		}
		/* Another process made the first one meanwhile: use that. */
		master_remove(c, id);
	}
	arc = ctx_internal(c, "no master key could be made");
out:
	OPENSSL_cleanse(key, sizeof(key));
	free(cur);
	return arc;
}

/* ------------------------------------------------------------ wrapping keys */

/*
 * A tenant made with kms.keytype rsa-N has an RSA key pair (sql/0013):
 * its private key sealed under the master key, and its data key wrapped
 * with the public key (RSA-OAEP, SHA-256) as "rsa:<base64>" rather than
 * under the master key.
 */
#define RSA_WRAPPED	"rsa:"

static void
wk_aad(char aad[AAD_MAX], long long tenant, const char *mid)
{
	snprintf(aad, AAD_MAX, "cwk1|%lld|%s", tenant, mid);
}

/* Tenant's private wrapping key into *pkey (new), NULL when it has none. */
static enum apierr
wk_load(struct ctx *c, long long tenant, EVP_PKEY **pkey)
{
	char		*type = NULL, *mid = NULL, *sealed = NULL, *pem = NULL;
	char		 aad[AAD_MAX];
	unsigned char	 mkey[KEY_LEN], *raw = NULL, *der = NULL;
	const unsigned char *p;
	size_t		 len;
	enum dbrc	 rc;
	enum apierr	 arc = API_OK;

	*pkey = NULL;
	if ((rc = db_run(c->db, SQL_WRAPKEY_GET, "i", tenant)) != DB_OK)
		return ctx_dbfail(c, rc);
	rc = db_next(c->db, SQL_WRAPKEY_GET, "ssss", &type, &mid, &sealed, &pem);
	db_done(c->db, SQL_WRAPKEY_GET);
	if (rc == DB_DONE)
		return API_OK;
	if (rc != DB_OK)
		return ctx_dbfail(c, rc);
	if ((arc = master_get(c, mid, mkey)) != API_OK)
		goto out;
	wk_aad(aad, tenant, mid);
	if (b64_decode(sealed, &raw, &len) == -1 || len <= SEAL_OVERHEAD ||
	    gcm_open(mkey, aad, raw, len, der = xmalloc(len)) == -1 ||
	    (p = der, *pkey = d2i_AutoPrivateKey(NULL, &p,
	    (long)(len - SEAL_OVERHEAD))) == NULL)
		arc = ctx_internal(c, "the wrapping key of tenant %lld does not "
		    "open under master key %s", tenant, mid);
	if (der != NULL)
		OPENSSL_cleanse(der, len);
out:
	OPENSSL_cleanse(mkey, sizeof(mkey));
	free(der);
	free(raw);
	free(type);
	free(mid);
	free(sealed);
	free(pem);
	return arc;
}

/* Private key k of tenant sealed under master key mkey (mid): new text. */
static enum apierr
wk_seal(struct ctx *c, long long tenant, const char *mid,
    const unsigned char mkey[KEY_LEN], EVP_PKEY *k, char **sealed)
{
	unsigned char	*der = NULL, *raw;
	char		 aad[AAD_MAX];
	int		 len;

	*sealed = NULL;
	if ((len = i2d_PrivateKey(k, &der)) <= 0)
		return ctx_internal(c, "a wrapping key cannot be encoded");
	raw = xmalloc((size_t)len + SEAL_OVERHEAD);
	wk_aad(aad, tenant, mid);
	if (gcm_seal(mkey, aad, der, (size_t)len, raw) == 0)
		*sealed = b64_encode(raw, (size_t)len + SEAL_OVERHEAD);
	OPENSSL_cleanse(der, (size_t)len);
	OPENSSL_free(der);
	free(raw);
	return *sealed != NULL ? API_OK : ctx_internal(c, "a wrapping key "
	    "cannot be sealed");
}

/* dk wrapped with k's public key (RSA-OAEP, SHA-256): "rsa:<base64>", new. */
static enum apierr
rsa_wrap(struct ctx *c, EVP_PKEY *k, const unsigned char dk[KEY_LEN],
    char **wrapped)
{
	EVP_PKEY_CTX	*x;
	unsigned char	*out = NULL;
	size_t		 len = 0;
	char		*b64 = NULL;

	*wrapped = NULL;
	if ((x = EVP_PKEY_CTX_new(k, NULL)) != NULL &&
	    EVP_PKEY_encrypt_init(x) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(x, RSA_PKCS1_OAEP_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_oaep_md(x, EVP_sha256()) == 1 &&
	    EVP_PKEY_encrypt(x, NULL, &len, dk, KEY_LEN) == 1 &&
	    EVP_PKEY_encrypt(x, out = xmalloc(len), &len, dk, KEY_LEN) == 1) {
		b64 = b64_encode(out, len);
		xasprintf(wrapped, "%s%s", RSA_WRAPPED, b64);
	}
	EVP_PKEY_CTX_free(x);
	free(out);
	free(b64);
	return *wrapped != NULL ? API_OK : ctx_internal(c, "a data key cannot "
	    "be wrapped with RSA");
}

/* What rsa_wrap made, opened with private key k into dk.  0, or -1. */
static int
rsa_unwrap(EVP_PKEY *k, const char *wrapped, unsigned char dk[KEY_LEN])
{
	EVP_PKEY_CTX	*x;
	unsigned char	*raw = NULL, *out = NULL;
	size_t		 len, outlen = 0;
	int		 rc = -1;

	if (b64_decode(wrapped + strlen(RSA_WRAPPED), &raw, &len) == -1)
		return -1;
	if ((x = EVP_PKEY_CTX_new(k, NULL)) != NULL &&
	    EVP_PKEY_decrypt_init(x) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(x, RSA_PKCS1_OAEP_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_oaep_md(x, EVP_sha256()) == 1 &&
	    EVP_PKEY_decrypt(x, NULL, &outlen, raw, len) == 1 &&
	    EVP_PKEY_decrypt(x, out = xmalloc(outlen), &outlen, raw, len) == 1 &&
	    outlen == KEY_LEN) {
		memcpy(dk, out, KEY_LEN);
		rc = 0;
	}
	if (out != NULL)
		OPENSSL_cleanse(out, outlen);
	free(out);
	free(raw);
	EVP_PKEY_CTX_free(x);
	return rc;
}

/* ------------------------------------------------------------------ data keys */

static void
dk_aad(char aad[AAD_MAX], const char *kid, long long tenant, const char *mid)
{
	snprintf(aad, AAD_MAX, "cdk1|%s|%lld|%s", kid, tenant, mid);
}

/* Data key kid of tenant, wrapped under master key mid, into dk. */
static enum apierr
dk_unwrap(struct ctx *c, const char *kid, long long tenant, const char *mid,
    const char *wrapped, unsigned char dk[KEY_LEN])
{
	unsigned char	 mkey[KEY_LEN], *raw = NULL;
	char		 aad[AAD_MAX];
	size_t		 len;
	EVP_PKEY	*wk;
	enum apierr	 rc;

	if (strncmp(wrapped, RSA_WRAPPED, strlen(RSA_WRAPPED)) == 0) {
		if ((rc = wk_load(c, tenant, &wk)) != API_OK)
			return rc;
		if (wk == NULL || rsa_unwrap(wk, wrapped, dk) == -1)
			rc = ctx_internal(c, "data key %s of tenant %lld does "
			    "not open under its wrapping key", kid, tenant);
		EVP_PKEY_free(wk);
		return rc;
	}
	if ((rc = master_get(c, mid, mkey)) != API_OK)
		return rc;
	dk_aad(aad, kid, tenant, mid);
	if (b64_decode(wrapped, &raw, &len) == -1 ||
	    len != KEY_LEN + SEAL_OVERHEAD ||
	    gcm_open(mkey, aad, raw, len, dk) == -1)
		rc = ctx_internal(c, "data key %s of tenant %lld does not open "
		    "under master key %s", kid, tenant, mid);
	OPENSSL_cleanse(mkey, sizeof(mkey));
	free(raw);
	return rc;
}

/* Data key dk (kid, of tenant) wrapped under master key mkey (mid): new text. */
static enum apierr
dk_wrap(struct ctx *c, const char *kid, long long tenant, const char *mid,
    const unsigned char mkey[KEY_LEN], const unsigned char dk[KEY_LEN],
    char **wrapped)
{
	unsigned char	 raw[KEY_LEN + SEAL_OVERHEAD];
	char		 aad[AAD_MAX];

	dk_aad(aad, kid, tenant, mid);
	if (gcm_seal(mkey, aad, dk, KEY_LEN, raw) == -1)
		return ctx_internal(c, "data key %s cannot be wrapped", kid);
	*wrapped = b64_encode(raw, sizeof(raw));
	return API_OK;
}

/*
 * Data key dk (kid, of tenant) wrapped as the tenant's keys say: with its
 * RSA wrapping key if it has one, else under master key mkey (mid).
 */
static enum apierr
dk_wrap_for(struct ctx *c, const char *kid, long long tenant, const char *mid,
    const unsigned char mkey[KEY_LEN], const unsigned char dk[KEY_LEN],
    char **wrapped)
{
	EVP_PKEY	*wk;
	enum apierr	 rc;

	if ((rc = wk_load(c, tenant, &wk)) != API_OK)
		return rc;
	if (wk == NULL)
		return dk_wrap(c, kid, tenant, mid, mkey, dk, wrapped);
	rc = rsa_wrap(c, wk, dk, wrapped);
	EVP_PKEY_free(wk);
	return rc;
}

/*
 * Data key kid into dk: from the cache, or its row unwrapped.  A master
 * key file gone missing means a rekey may just have committed: the row
 * is read again, and names the new master key by then.  API_NOT_FOUND
 * when no such data key exists.
 */
static enum apierr
dk_get(struct ctx *c, const char *kid, unsigned char dk[KEY_LEN])
{
	char		*mid = NULL, *wrapped = NULL, prev[UID_LEN + 1] = "";
	long long	 tenant;
	enum dbrc	 rc;
	enum apierr	 arc = API_INTERNAL;
	int		 tries;

	if (cache_get(&datakeys, kid, dk))
		return API_OK;
	for (tries = 0; tries < 3; tries++) {
		if ((rc = db_run(c->db, SQL_TENANT_KEY_GET, "s", kid)) != DB_OK)
			return ctx_dbfail(c, rc);
		rc = db_next(c->db, SQL_TENANT_KEY_GET, "iss", &tenant, &mid,
		    &wrapped);
		db_done(c->db, SQL_TENANT_KEY_GET);
		if (rc == DB_DONE)
			return ctx_fail(c, API_NOT_FOUND, "no data key %s", kid);
		if (rc != DB_OK)
			return ctx_dbfail(c, rc);
		arc = dk_unwrap(c, kid, tenant, mid, wrapped, dk);
		if (arc != API_UNAVAILABLE || strcmp(prev, mid) == 0)
			break;
		snprintf(prev, sizeof(prev), "%s", mid);
		free(mid);
		free(wrapped);
		mid = wrapped = NULL;
	}
	if (arc == API_OK)
		cache_put(&datakeys, kid, dk);
	free(mid);
	free(wrapped);
	return arc;
}

/*
 * Tenant's data key into kid and dk, made on first use: wrapped under the
 * current master key and inserted (the first writer's row wins; everyone
 * reads the row back).  In the caller's transaction, so a key made for a
 * write that rolls back goes with it.
 */
static enum apierr
dk_for_tenant(struct ctx *c, long long tenant, char kid[UID_LEN + 1],
    unsigned char dk[KEY_LEN])
{
	char		*have = NULL, *mid = NULL, *wrapped = NULL;
	unsigned char	 mkey[KEY_LEN];
	enum dbrc	 rc;
	enum apierr	 arc = API_OK;
	int		 tries;

	for (tries = 0; tries < 3 && arc == API_OK; tries++) {
		if ((rc = db_run(c->db, SQL_TENANT_KEY_OF, "i", tenant)) != DB_OK)
			return ctx_dbfail(c, rc);
		rc = db_next(c->db, SQL_TENANT_KEY_OF, "s", &have);
		db_done(c->db, SQL_TENANT_KEY_OF);
		if (rc == DB_OK) {
			snprintf(kid, UID_LEN + 1, "%s", have);
			free(have);
			return dk_get(c, kid, dk);
		}
		if (rc != DB_DONE)
			return ctx_dbfail(c, rc);

		if ((rc = db_run(c->db, SQL_MASTER_CURRENT, "")) != DB_OK)
			return ctx_dbfail(c, rc);
		rc = db_next(c->db, SQL_MASTER_CURRENT, "s", &mid);
		db_done(c->db, SQL_MASTER_CURRENT);
		if (rc == DB_DONE)
			return ctx_fail(c, API_UNAVAILABLE, "No master key yet: "
			    "corral-api makes one when it starts");
		if (rc != DB_OK)
			return ctx_dbfail(c, rc);
		if ((arc = master_get(c, mid, mkey)) == API_OK &&
		    (arc = key_new(c, kid, dk)) == API_OK &&
		    (arc = dk_wrap_for(c, kid, tenant, mid, mkey, dk,
		    &wrapped)) == API_OK) {
			rc = db_run(c->db, SQL_TENANT_KEY_INSERT, "sissd", kid,
			    tenant, mid, wrapped, time_now());
			/* DB_REF: a rekey retired mid meanwhile; start again. */
			if (rc == DB_OK)
				cache_put(&datakeys, kid, dk);
			else if (rc != DB_REF)
				arc = ctx_dbfail(c, rc);
		}
		OPENSSL_cleanse(mkey, sizeof(mkey));
		OPENSSL_cleanse(dk, KEY_LEN);
		free(mid);
		free(wrapped);
		mid = wrapped = NULL;
	}
	if (arc != API_OK)
		return arc;
	return ctx_fail(c, API_CONFLICT, "A concurrent rekey won; nothing was "
	    "changed, try again");
}

/*
 * Make tenant's wrapping key (an RSA key type) and its public PEM into
 * *pem (new), in the caller's transaction.  A tenant that has one keeps
 * it (and must ask for the same type).
 */
static enum apierr
wk_make(struct ctx *c, long long tenant, const char *type, char **pem)
{
	EVP_PKEY	*k = NULL;
	BIO		*bio = NULL;
	BUF_MEM		*mem;
	unsigned char	 mkey[KEY_LEN];
	char		*mid = NULL, *sealed = NULL;
	unsigned int	 bits;
	enum apierr	 arc;
	enum dbrc	 rc;

	*pem = NULL;
	bits = strcmp(type, "rsa-2048") == 0 ? 2048 : strcmp(type,
	    "rsa-3072") == 0 ? 3072 : 4096;
	if ((rc = db_run(c->db, SQL_MASTER_CURRENT, "")) != DB_OK)
		return ctx_dbfail(c, rc);
	rc = db_next(c->db, SQL_MASTER_CURRENT, "s", &mid);
	db_done(c->db, SQL_MASTER_CURRENT);
	if (rc != DB_OK)
		return rc == DB_DONE ? ctx_fail(c, API_UNAVAILABLE, "No master "
		    "key yet") : ctx_dbfail(c, rc);
	if ((arc = master_get(c, mid, mkey)) != API_OK)
		goto out;
	if ((k = EVP_RSA_gen(bits)) == NULL ||
	    (bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PUBKEY(bio, k) != 1) {
		arc = ctx_internal(c, "an RSA key could not be made");
		goto out;
	}
	BIO_get_mem_ptr(bio, &mem);
	*pem = xstrndup(mem->data, mem->length);
	if ((arc = wk_seal(c, tenant, mid, mkey, k, &sealed)) != API_OK)
		goto out;
	rc = db_run(c->db, SQL_WRAPKEY_INSERT, "issssd", tenant, type, mid,
	    sealed, *pem, time_now());
	if (rc == DB_DUP)
		arc = ctx_fail(c, API_CONFLICT, "Tenant %lld has its wrapping "
		    "key already", tenant);
	else if (rc != DB_OK)
		arc = ctx_dbfail(c, rc);
out:
	OPENSSL_cleanse(mkey, sizeof(mkey));
	EVP_PKEY_free(k);
	BIO_free(bio);
	free(mid);
	free(sealed);
	return arc;
}

/*
 * Make tenant's keys now rather than on first use (a tenant created with
 * kms.enablekms, TAPMS step 8), in the caller's transaction: its
 * AES-256-GCM data key, wrapped under the master key, or for an RSA type
 * under a new RSA key pair whose private half is sealed under the master
 * key.  *status (new reference) describes them: name, type, ids and the
 * public key, never a secret.
 */
enum apierr
crypto_tenant_key(struct ctx *c, long long tenant, const char *name,
    const char *type, json_t **status)
{
	unsigned char	 dk[KEY_LEN];
	char		 kid[UID_LEN + 1], dflt[64], *pem = NULL, *w = NULL;
	int		 rsa = strncmp(type, "rsa-", 4) == 0;
	enum apierr	 rc;
	enum dbrc	 drc;

	*status = NULL;
	if (strcmp(type, "aes256-gcm96") != 0 && strcmp(type, "rsa-2048") != 0 &&
	    strcmp(type, "rsa-3072") != 0 && strcmp(type, "rsa-4096") != 0)
		return ctx_fail(c, API_BAD_REQUEST, "kms.keytype %.32s is not "
		    "made here", type);
	if (rsa && (rc = wk_make(c, tenant, type, &pem)) != API_OK)
		goto out;
	if ((rc = dk_for_tenant(c, tenant, kid, dk)) != API_OK)
		goto out;
	if (rsa) {
		/* A data key made before the wrapping key moves under it. */
		EVP_PKEY	*wk = NULL;

		if ((rc = wk_load(c, tenant, &wk)) == API_OK && wk != NULL &&
		    (rc = rsa_wrap(c, wk, dk, &w)) == API_OK &&
		    (drc = db_run(c->db, SQL_TENANT_KEY_WRAP_SET, "ss", w, kid)) !=
		    DB_OK)
			rc = ctx_dbfail(c, drc);
		EVP_PKEY_free(wk);
		cache_drop(&datakeys, kid);
		if (rc != API_OK)
			goto out;
	}
	if (*name == '\0') {
		snprintf(dflt, sizeof(dflt), "corral-tenant-%lld", tenant);
		name = dflt;
	}
	*status = json_pack("{s:s, s:s, s:s, s:f}", "keyname", name, "keytype",
	    type, "key_id", kid, "created_at", time_now());
	if (pem != NULL)
		json_object_set_new(*status, "public_key", json_string(pem));
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	free(pem);
	free(w);
	return rc;
}

/* ------------------------------------------------------------------ values */

static void
value_aad(char aad[AAD_MAX], const char *kid, const char *uid, const char *key)
{
	snprintf(aad, AAD_MAX, "cs1|%s|%s|%s", kid, uid, key);
}

/*
 * Seal clear (the JSON text of attribute key's value of object uid, of
 * tenant) into *sealed: "cs1:<data key id>:<base64>" (new allocation).
 * In the caller's transaction (the tenant's data key may be made).
 */
enum apierr
crypto_seal(struct ctx *c, long long tenant, const char *uid, const char *key,
    const char *clear, char **sealed)
{
	char		 kid[UID_LEN + 1], aad[AAD_MAX], *b64;
	unsigned char	 dk[KEY_LEN], *raw;
	size_t		 len = strlen(clear);
	enum apierr	 rc;

	*sealed = NULL;
	if (len > SEAL_TEXT_MAX)
		return ctx_fail(c, API_BAD_REQUEST, "Attribute %s: value too "
		    "large", key);
	if ((rc = dk_for_tenant(c, tenant, kid, dk)) != API_OK)
		return rc;
	value_aad(aad, kid, uid, key);
	raw = xmalloc(len + SEAL_OVERHEAD);
	if (gcm_seal(dk, aad, (const unsigned char *)clear, len, raw) == -1)
		rc = ctx_internal(c, "attribute %s of %s cannot be sealed", key,
		    uid);
	else {
		b64 = b64_encode(raw, len + SEAL_OVERHEAD);
		xasprintf(sealed, "%s%s:%s", SEAL_PREFIX, kid, b64);
		free(b64);
	}
	OPENSSL_cleanse(dk, sizeof(dk));
	free(raw);
	return rc;
}

/*
 * Open sealed (what crypto_seal made for attribute key of object uid)
 * into *clear (new allocation; free with crypto_clear_free).  A value
 * that does not open here (sealed for another object or key, altered,
 * or under a data key that does not exist) is a 409 whose reason names
 * the attribute and object, never a byte of the value.  A master key
 * missing on this head is a 503.
 */
enum apierr
crypto_unseal(struct ctx *c, const char *uid, const char *key,
    const char *sealed, char **clear)
{
	char		 kid[UID_LEN + 1], aad[AAD_MAX];
	unsigned char	 dk[KEY_LEN], *raw = NULL;
	const char	*why = NULL;
	size_t		 len, plen = strlen(SEAL_PREFIX);
	enum apierr	 rc;

	*clear = NULL;
	if (strncmp(sealed, SEAL_PREFIX, plen) != 0 ||
	    strlen(sealed) < plen + UID_LEN + 1 || sealed[plen + UID_LEN] != ':') {
		why = "not a sealed value";
		goto bad;
	}
	memcpy(kid, sealed + plen, UID_LEN);
	kid[UID_LEN] = '\0';
	if (!uid_valid(kid) || b64_decode(sealed + plen + UID_LEN + 1, &raw,
	    &len) == -1 || len < SEAL_OVERHEAD) {
		why = "malformed";
		goto bad;
	}
	if ((rc = dk_get(c, kid, dk)) == API_NOT_FOUND) {
		why = "its data key does not exist";
		goto bad;
	}
	if (rc != API_OK) {
		free(raw);
		return rc;
	}
	value_aad(aad, kid, uid, key);
	*clear = xmalloc(len - SEAL_OVERHEAD + 1);
	if (gcm_open(dk, aad, raw, len, (unsigned char *)*clear) == -1) {
		free(*clear);
		*clear = NULL;
		why = "it was sealed for another object or attribute, or altered";
	} else
		(*clear)[len - SEAL_OVERHEAD] = '\0';
	OPENSSL_cleanse(dk, sizeof(dk));
	if (why == NULL) {
		free(raw);
		return API_OK;
	}
bad:
	free(raw);
	log_warn("secret %s of object %s does not open: %s", key, uid, why);
	return ctx_fail(c, API_CONFLICT, "The stored value of attribute %s of "
	    "object %s cannot be decrypted (%s); set it again", key, uid, why);
}

/* ------------------------------------------------------------------ rekey */

/* Seal tenant's wrapping key again under master key mkey (mid). */
static enum apierr
wk_reseal(struct ctx *c, long long tenant, const char *mid,
    const unsigned char mkey[KEY_LEN])
{
	EVP_PKEY	*wk;
	char		*sealed;
	enum apierr	 rc;
	enum dbrc	 drc;

	if ((rc = wk_load(c, tenant, &wk)) != API_OK)
		return rc;
	if (wk == NULL)
		return ctx_internal(c, "tenant %lld: an RSA-wrapped data key "
		    "without its wrapping key", tenant);
	rc = wk_seal(c, tenant, mid, mkey, wk, &sealed);
	EVP_PKEY_free(wk);
	if (rc != API_OK)
		return rc;
	drc = db_run(c->db, SQL_WRAPKEY_REWRAP, "ssi", mid, sealed, tenant);
	free(sealed);
	return drc == DB_OK ? API_OK : ctx_dbfail(c, drc);
}

/*
 * Make a new master key and re-wrap every data key under it, in one
 * transaction; the old master keys' files are removed after the commit.
 * The new key's id goes to id, the number of data keys re-wrapped to
 * *rewrapped.  The new file is removed again only when the transaction
 * surely did not commit; when its outcome is unknown both stay.
 */
enum apierr
crypto_rekey(struct ctx *c, char id[UID_LEN + 1], long long *rewrapped)
{
	unsigned char	 key[KEY_LEN], dk[KEY_LEN];
	json_t		*old, *rows, *row;
	const char	*rkid;
	char		*s, *kid, *mid, *wrapped, *w;
	long long	 tenant;
	size_t		 i;
	enum dbrc	 rc;
	enum apierr	 arc;
	int		 committed = 0, unknown = 0;

	*rewrapped = 0;
	old = json_array();
	rows = json_array();
	if ((arc = key_new(c, id, key)) != API_OK ||
	    (arc = master_write(c, id, key)) != API_OK) {
		OPENSSL_cleanse(key, sizeof(key));
		json_decref(old);
		json_decref(rows);
		return arc;
	}
	cache_put(&masters, id, key);

	if ((rc = db_begin(c->db)) != DB_OK ||
	    (rc = db_run(c->db, SQL_MASTER_LOCK, "")) != DB_OK)
		goto dbfail;
	while ((rc = db_next(c->db, SQL_MASTER_LOCK, "s", &s)) == DB_OK) {
		json_array_append_new(old, json_string(s));
		free(s);
	}
	db_done(c->db, SQL_MASTER_LOCK);
	if (rc != DB_DONE ||
	    (rc = db_run(c->db, SQL_MASTER_ADD, "sds", id, time_now(),
	    c->conf->head_name)) != DB_OK ||
	    (rc = db_run(c->db, SQL_TENANT_KEYS_LOCK, "")) != DB_OK)
		goto dbfail;
	while ((rc = db_next(c->db, SQL_TENANT_KEYS_LOCK, "siss", &kid,
	    &tenant, &mid, &wrapped)) == DB_OK) {
		json_array_append_new(rows, json_pack("{s:s, s:I, s:s, s:s}",
		    "id", kid, "tenant", (json_int_t)tenant, "master", mid,
		    "wrapped", wrapped));
		free(kid);
		free(mid);
		free(wrapped);
	}
	db_done(c->db, SQL_TENANT_KEYS_LOCK);
	if (rc != DB_DONE)
		goto dbfail;
	json_array_foreach(rows, i, row) {
		rkid = json_string_value(json_object_get(row, "id"));
		tenant = json_integer_value(json_object_get(row, "tenant"));
		if (strncmp(json_string_value(json_object_get(row, "wrapped")),
		    RSA_WRAPPED, strlen(RSA_WRAPPED)) == 0) {
			/* The data key stays wrapped; its RSA key moves. */
			if ((arc = wk_reseal(c, tenant, id, key)) != API_OK)
				goto fail;
			w = xstrdup(json_string_value(json_object_get(row,
			    "wrapped")));
		} else {
			if ((arc = dk_unwrap(c, rkid, tenant, json_string_value(
			    json_object_get(row, "master")), json_string_value(
			    json_object_get(row, "wrapped")), dk)) != API_OK)
				goto fail;
			arc = dk_wrap(c, rkid, tenant, id, key, dk, &w);
			OPENSSL_cleanse(dk, sizeof(dk));
			if (arc != API_OK)
				goto fail;
		}
		rc = db_run(c->db, SQL_TENANT_KEY_REWRAP, "sss", id, w, rkid);
		free(w);
		if (rc != DB_OK)
			goto dbfail;
		(*rewrapped)++;
	}
	if ((rc = db_run(c->db, SQL_MASTER_RETIRE, "s", id)) != DB_OK)
		goto dbfail;
	rc = db_commit(c->db);
	committed = rc == DB_OK;
	/* Only a refused COMMIT surely changed nothing. */
	unknown = rc != DB_OK && rc != DB_CONFLICT;
	if (!committed)
		goto dbfail;
	json_array_foreach(old, i, row)
		if (strcmp(json_string_value(row), id) != 0)
			master_remove(c, json_string_value(row));
	log_info("rekey: master key %s wraps %lld data keys; %zu old master "
	    "keys removed", id, *rewrapped, json_array_size(old));
	arc = API_OK;
	goto out;
dbfail:
	arc = ctx_dbfail(c, rc);
fail:
	db_rollback(c->db);
	if (unknown)
		log_warn("rekey: the commit's outcome is unknown; master key "
		    "files %s and the old ones are kept", id);
	else
		master_remove(c, id);
out:
	OPENSSL_cleanse(key, sizeof(key));
	json_decref(old);
	json_decref(rows);
	return arc;
}

/* ------------------------------------------------------------ file digests */

#define DIGEST_CHUNK	(4 * 1024 * 1024)

/* One digest of one file, computed by its own thread. */
struct digest_job {
	pthread_t	 thread;
	int		 fd;
	long long	 size;
	const EVP_MD	*md;
	char		*hex;		/* out: lowercase hex */
	int		 ok;
};

static void *
digest_thread(void *arg)
{
	struct digest_job	*d = arg;
	EVP_MD_CTX		*ctx = NULL;
	unsigned char		*buf = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;
	long long		 off = 0;
	ssize_t			 n;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, d->md, NULL) != 1)
		goto out;
	buf = xmalloc(DIGEST_CHUNK);
	while (off < d->size) {
		n = pread(d->fd, buf, DIGEST_CHUNK, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			goto out;
		off += n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		goto out;
	for (i = 0; i < mdlen; i++)
		snprintf(d->hex + 2 * i, 3, "%02x", md[i]);
	d->ok = 1;
out:
	free(buf);
	EVP_MD_CTX_free(ctx);
	return NULL;
}

/*
 * The SHA-256, SHA-1 and (when md5 is not NULL) MD5 of the first size
 * bytes of fd, as lowercase hex into sha256[65], sha1[41], md5[33].
 * Each digest runs in its own thread over its own preads: a file just
 * written is in the page cache, so hashing takes as long as the slowest
 * digest rather than the sum of all three (an upload is not acknowledged
 * before its checksum is known).  Returns 0, or -1 (a read failed or the
 * file was shorter than size).
 */
int
crypto_digest_file(int fd, long long size, char *sha256, char *sha1,
    char *md5)
{
	struct digest_job	 d[3];
	size_t			 n = md5 != NULL ? 3 : 2, i, started;
	int			 rc = 0;

	memset(d, 0, sizeof(d));
	d[0].md = EVP_sha256();
	d[0].hex = sha256;
	d[1].md = EVP_sha1();
	d[1].hex = sha1;
	d[2].md = EVP_md5();
	d[2].hex = md5;
	for (i = started = 0; i < n; i++) {
		d[i].fd = fd;
		d[i].size = size;
		/* The last one runs here: one thread fewer to make. */
		if (i == n - 1 ||
		    pthread_create(&d[i].thread, NULL, digest_thread, &d[i]) != 0)
			digest_thread(&d[i]);
		else
			started |= (size_t)1 << i;
	}
	for (i = 0; i < n; i++) {
		if (started & ((size_t)1 << i))
			pthread_join(d[i].thread, NULL);
		if (!d[i].ok)
			rc = -1;
	}
	return rc;
}

/*
 * nginx's secure_link_md5 signature of text: the MD5 digest in base64url
 * without padding (22 characters and a NUL into out).  MD5 is what the
 * nginx module checks; the secret inside text is what makes it a
 * signature, and a link lives minutes (api_boot.c).  Returns 0 or -1.
 */
int
crypto_link_sign(const char *text, char out[23])
{
	static const char	 b64url[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i, v;
	size_t			 o = 0;

	if (EVP_Digest(text, strlen(text), md, &mdlen, EVP_md5(), NULL) != 1 ||
	    mdlen != 16)
		return -1;
	for (i = 0; i < 16; i += 3) {
		v = (unsigned int)md[i] << 16;
		if (i + 1 < 16)
			v |= (unsigned int)md[i + 1] << 8;
		if (i + 2 < 16)
			v |= md[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (i + 1 < 16)
			out[o++] = b64url[(v >> 6) & 63];
		if (i + 2 < 16)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
	return 0;
}

/*
 * Whether strings a and b are equal, in a time that does not depend on
 * where they differ: both are hashed (SHA-256) and the digests compared
 * with CRYPTO_memcmp, so neither the content nor the length of the
 * secret leaks (POST /install/password).  1 equal, 0 not (or on failure).
 */
int
crypto_equal(const char *a, const char *b)
{
	unsigned char	 da[EVP_MAX_MD_SIZE], db[EVP_MAX_MD_SIZE];
	unsigned int	 la = 0, lb = 0;
	int		 eq;

	if (EVP_Digest(a, strlen(a), da, &la, EVP_sha256(), NULL) != 1 ||
	    EVP_Digest(b, strlen(b), db, &lb, EVP_sha256(), NULL) != 1 ||
	    la != lb || la == 0)
		return 0;
	eq = CRYPTO_memcmp(da, db, la) == 0;
	OPENSSL_cleanse(da, sizeof(da));
	OPENSSL_cleanse(db, sizeof(db));
	return eq;
}

/* ------------------------------------------------------------------ webhooks */

/*
 * Base64 (standard alphabet, padded) of HMAC-SHA256 under the len-byte
 * key of msglen bytes of msg into out (outsz >= 45).  Webhook signatures
 * (hook.c).  Returns 0, or -1 on failure or a short out.
 */
int
crypto_hmac_sha256_b64(const void *key, size_t keylen, const char *msg,
    size_t msglen, char *out, size_t outsz)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;

	if (outsz < 45 || HMAC(EVP_sha256(), key, (int)keylen,
	    (const unsigned char *)msg, msglen, md, &mdlen) == NULL ||
	    mdlen != 32)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

/*
 * The bytes of a webhook secret: "whsec_<base64>" is the Standard
 * Webhooks form and signs with the decoded bytes; any other text signs
 * with its own bytes.  *key is a new allocation of *keylen bytes and a
 * NUL (wipe it, then free it).  0 or -1.
 */
int
crypto_hook_key(const char *secret, unsigned char **key, size_t *keylen)
{
	unsigned char	*raw;
	size_t		 len;

	*key = NULL;
	*keylen = 0;
	if (strncmp(secret, "whsec_", 6) == 0 &&
	    b64_decode(secret + 6, &raw, &len) == 0) {
		*key = xrealloc(raw, len + 1);
		(*key)[len] = '\0';
		*keylen = len;
		return 0;
	}
	*key = (unsigned char *)xstrdup(secret);
	*keylen = strlen(secret);
	return 0;
}

/* SHA-256 of len bytes of p as 64 lowercase hex into out.  0 or -1. */
int
crypto_sha256_hex(const void *p, size_t len, char out[SHA256_HEX + 1])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;

	if (EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return -1;
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[SHA256_HEX] = '\0';
	return 0;
}
