/*
 * TEMPORARY STAND-IN for the artifact store (fstore.c), on branch iso
 * only, so mkiso and capture can be built and tested end to end before
 * the real store lands.  Drop this file, its Makefile.am line and the
 * SQL_FSTUB_* statements in db.c/extern.h when merging: the real
 * fstore.c implements the same interface (extern.h, "fstore.c").
 *
 * What it does is the least the interface promises: files under
 * [files] dir named by their SHA-256 (sha256/<2 hex>/<64 hex>, made
 * read-only), one rename from staging/ into place, and the files and
 * file_refs rows of sql/0007.  No expiry of unused files, no peers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "extern.h"

#define FSTUB_BUF	(1 << 16)

/* mkdir that is content with a directory already there. */
static int
dir_ensure(const char *path)
{
	if (mkdir(path, 0750) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* The stored file of sha256, <dir>/sha256/<2 hex>/<64 hex>, into buf. */
void
fstore_path(const struct conf *conf, const char *sha256, char *buf,
    size_t bufsz)
{
	snprintf(buf, bufsz, "%s/sha256/%.2s/%s", conf->files_dir, sha256,
	    sha256);
}

/*
 * A new empty file in the staging directory: its path into path, the
 * open descriptor (O_CLOEXEC) returned, -1 on error (logged).
 */
int
fstore_staging_open(const struct conf *conf, char *path, size_t pathsz)
{
	int	 fd;

	if ((size_t)snprintf(path, pathsz, "%s/staging", conf->files_dir) >=
	    pathsz || dir_ensure(conf->files_dir) == -1 ||
	    dir_ensure(path) == -1) {
		log_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(path, pathsz, "%s/staging/XXXXXX",
	    conf->files_dir) >= pathsz || (fd = mkstemp(path)) == -1) {
		log_err("%s: %s", path, strerror(errno));
		return -1;
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

/* What the first bytes say the file is: a squashfs, an ISO, a tar. */
static void
fmt_guess(int fd, char *fmt, size_t fmtsz)
{
	unsigned char	 b[32774];
	ssize_t		 n;

	n = pread(fd, b, sizeof(b), 0);
	if (n >= 4 && memcmp(b, "hsqs", 4) == 0)
		snprintf(fmt, fmtsz, "cwsquash");
	else if (n >= 32774 && memcmp(b + 32769, "CD001", 5) == 0)
		snprintf(fmt, fmtsz, "iso9660");
	else if (n >= 262 && memcmp(b + 257, "ustar", 5) == 0)
		snprintf(fmt, fmtsz, "tar");
	else
		snprintf(fmt, fmtsz, "raw");
}

static void
hex(const unsigned char *d, unsigned int n, char *out)
{
	unsigned int	 i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* SHA-256, SHA-1 and MD5 of the open file, and its size.  0 or -1. */
static int
hash_fd(int fd, char sha256[SHA256_HEX + 1], char sha1[SHA1_HEX + 1],
    char md5[33], long long *size)
{
	EVP_MD_CTX	*x[3] = { NULL, NULL, NULL };
	const EVP_MD	*md[3] = { EVP_sha256(), EVP_sha1(), EVP_md5() };
	char		*outs[3] = { sha256, sha1, md5 };
	unsigned char	*buf = xmalloc(FSTUB_BUF), d[EVP_MAX_MD_SIZE];
	unsigned int	 dn;
	ssize_t		 n;
	int		 i, rc = -1;

	*size = 0;
	for (i = 0; i < 3; i++)
		if ((x[i] = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(x[i], md[i], NULL) != 1)
			goto out;
	while ((n = read(fd, buf, FSTUB_BUF)) > 0) {
		for (i = 0; i < 3; i++)
			if (EVP_DigestUpdate(x[i], buf, (size_t)n) != 1)
				goto out;
		*size += n;
	}
	if (n == -1)
		goto out;
	for (i = 0; i < 3; i++) {
		if (EVP_DigestFinal_ex(x[i], d, &dn) != 1)
			goto out;
		hex(d, dn, outs[i]);
	}
	rc = 0;
out:
	for (i = 0; i < 3; i++)
		EVP_MD_CTX_free(x[i]);
	free(buf);
	return rc;
}

/*
 * The file of obj_uid's slot into fi: API_OK, API_NOT_FOUND (reason
 * set) when the slot holds none, or a database failure.
 */
enum apierr
fstore_ref_get(struct ctx *c, const char *obj_uid, const char *slot,
    struct fileinfo *fi)
{
	char		*sha256 = NULL, *sha1 = NULL, *fmt = NULL, *uid = NULL;
	enum dbrc	 rc;

	memset(fi, 0, sizeof(*fi));
	if ((rc = db_run(c->db, SQL_FSTUB_REF_GET, "ss", obj_uid, slot)) ==
	    DB_OK)
		rc = db_next(c->db, SQL_FSTUB_REF_GET, "ssisdsi", &sha256, &sha1,
		    &fi->size, &fmt, &fi->mtime, &uid, &fi->refcnt);
	db_done(c->db, SQL_FSTUB_REF_GET);
	if (rc == DB_OK) {
		snprintf(fi->sha256, sizeof(fi->sha256), "%s", sha256);
		snprintf(fi->sha1, sizeof(fi->sha1), "%s", sha1);
		snprintf(fi->fmt, sizeof(fi->fmt), "%s", fmt);
		snprintf(fi->uid, sizeof(fi->uid), "%s", uid);
	}
	free(sha256);
	free(sha1);
	free(fmt);
	free(uid);
	if (rc == DB_DONE)
		return ctx_fail(c, API_NOT_FOUND, "No %s file stored", slot);
	return rc == DB_OK ? API_OK : ctx_dbfail(c, rc);
}

/*
 * Hash the staged file, move it into the store and make it obj_uid's
 * slot.  Returns 0, or an HTTP status (400 checksum mismatch, 404 no
 * such object, 500, 503) with err set.  The staged file is consumed.
 */
int
fstore_ingest(struct ctx *c, const char *staged, const char *obj_uid,
    const char *slot, const struct fileexpect *expect, struct fileinfo *fi,
    char *err, size_t errsz)
{
	char		 md5[33], path[1024], dir[1024];
	int		 fd = -1, status = 500;
	enum dbrc	 rc;

	memset(fi, 0, sizeof(*fi));
	if ((fd = open(staged, O_RDONLY | O_CLOEXEC)) == -1 ||
	    hash_fd(fd, fi->sha256, fi->sha1, md5, &fi->size) == -1) {
		snprintf(err, errsz, "staged file could not be read");
		log_err("%s: %s", staged, strerror(errno));
		goto out;
	}
	fmt_guess(fd, fi->fmt, sizeof(fi->fmt));
	if (expect != NULL && ((expect->sha256[0] != '\0' &&
	    strcmp(expect->sha256, fi->sha256) != 0) || (expect->md5[0] != '\0' &&
	    strcmp(expect->md5, md5) != 0))) {
		snprintf(err, errsz, "checksum mismatch");
		status = 400;
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/sha256", c->conf->files_dir);
	if (dir_ensure(dir) == -1) {
		snprintf(err, errsz, "store directory could not be made");
		log_err("%s: %s", dir, strerror(errno));
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/sha256/%.2s", c->conf->files_dir,
	    fi->sha256);
	if (dir_ensure(dir) == -1) {
		snprintf(err, errsz, "store directory could not be made");
		log_err("%s: %s", dir, strerror(errno));
		goto out;
	}
	fstore_path(c->conf, fi->sha256, path, sizeof(path));
	(void)fchmod(fd, 0444);
	if (access(path, F_OK) == -1 && rename(staged, path) == -1) {
		snprintf(err, errsz, "file could not be stored");
		log_err("rename %s %s: %s", staged, path, strerror(errno));
		goto out;
	}
	if (uid_new(fi->uid) == -1) {
		snprintf(err, errsz, "no random bytes");
		goto out;
	}
	fi->mtime = time_now();
	rc = db_run(c->db, SQL_FSTUB_FILE_PUT, "ssisds", fi->sha256, fi->sha1,
	    fi->size, fi->fmt, fi->mtime, c->conf->head_name);
	if (rc == DB_OK)
		rc = db_run(c->db, SQL_FSTUB_REF_PUT, "ssssd", obj_uid, slot,
		    fi->sha256, fi->uid, fi->mtime);
	if (rc == DB_REF) {
		snprintf(err, errsz, "the object no longer exists");
		status = 404;
		goto out;
	}
	if (rc != DB_OK) {
		snprintf(err, errsz, "the database did not record the file");
		status = rc == DB_GONE ? 503 : 500;
		goto out;
	}
	fi->refcnt = 1;
	status = 0;
out:
	if (fd != -1)
		close(fd);
	(void)unlink(staged);	/* gone already when it was renamed */
	return status;
}

/* Drop obj_uid's use of its slot's file (the bytes stay). */
enum apierr
fstore_ref_drop(struct ctx *c, const char *obj_uid, const char *slot)
{
	enum dbrc	 rc;

	rc = db_run(c->db, SQL_FSTUB_REF_DELETE, "ss", obj_uid, slot);
	return rc == DB_OK ? API_OK : ctx_dbfail(c, rc);
}
