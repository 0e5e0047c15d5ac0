/*
 * The artifact store: kernels, initramfs, image contents and ISOs, each
 * stored once under [files] dir and named by its SHA-256 (see extern.h
 * for the layout, sql/0007-files.sql for the rows).
 *
 * The bytes never pass through a worker.  nginx writes an upload to
 * <dir>/tmp, the worker hard-links it into <dir>/staging and queues a
 * job; corral-jobd hashes it (fstore_ingest) and moves it into place with
 * one rename, in the transaction that makes the object's slot use it.  A
 * download is authorized by the worker and sent by nginx from the
 * internal location /_files/ (X-Accel-Redirect).
 *
 * Who may remove a file's bytes is decided under the lock of its row in
 * `files`: a use is added only while holding that lock (SQL_FILE_ADD), and
 * the bytes go only while holding it with no use left (fstore_release).
 * So a file being uploaded again is never removed under the new upload.
 * A crash between a rename and its commit leaves a file the database does
 * not know: "untracked", listed by GET /head/files/unused and the check.
 *
 * A use of a file is also written into its object's document (the
 * reference shows a boot config's kernel and an image's content with the
 * object), in the same transaction, so reading an object costs no join.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

#define STAGING_STALE	(24 * 3600)	/* s before a staged file is unused */

/* The slots objects keep files in, and their classes. */
static const struct {
	const char		*slot;
	const struct objclass	*cls;
} slots[] = {
	{ "kernel",	&bootconfig_class },
	{ "initramfs",	&bootconfig_class },
	{ "content",	&image_class },
	{ "iso",	&repo_class },
};

/* The class whose objects have slot, or NULL if there is no such slot. */
const struct objclass *
fstore_slot_class(const char *slot)
{
	size_t	 i;

	for (i = 0; slot != NULL && i < nitems(slots); i++)
		if (strcmp(slots[i].slot, slot) == 0)
			return slots[i].cls;
	return NULL;
}

/* Whether s is 64 lowercase hex digits. */
int
valid_sha256(const char *s)
{
	return s != NULL && strlen(s) == SHA256_HEX &&
	    strspn(s, "0123456789abcdef") == SHA256_HEX;
}

/* The path of the stored file sha256 into buf. */
void
fstore_path(const struct conf *c, const char *sha256, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%s/sha256/%.2s/%s", c->files_dir, sha256, sha256);
}

/*
 * Make a new empty file in the staging directory, its path into path.
 * Returns its descriptor (the caller closes it), or -1 with errno set.
 */
int
fstore_staging_open(const struct conf *c, char *path, size_t pathsz)
{
	int	 fd;

	if ((size_t)snprintf(path, pathsz, "%s/staging/job-XXXXXX",
	    c->files_dir) >= pathsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkstemp(path)) == -1)
		log_warn("staging: %s: %s", path, strerror(errno));
	return fd;
}

/*
 * Hard-link nginx's temp file body (it deletes it when the request ends)
 * into the staging directory as staged/<name> (name[UID_LEN + 1]).  body
 * comes from nginx's configuration, not the client, but is checked to be
 * a plain name in <dir>/tmp all the same.  Returns 0, or -1 (logged).
 */
int
fstore_stage_upload(const struct conf *c, const char *body,
    char name[UID_LEN + 1])
{
	char	 tmp[PATH_MAX], staged[PATH_MAX];
	size_t	 n;

	n = (size_t)snprintf(tmp, sizeof(tmp), "%s/tmp/", c->files_dir);
	if (body == NULL || strncmp(body, tmp, n) != 0 ||
	    strstr(body + n, "..") != NULL || body[n] == '\0') {
		log_warn("upload: body file %s is not in %s", body != NULL ?
		    body : "(none)", tmp);
		return -1;
	}
	if (uid_new(name) == -1)
		return -1;
	snprintf(staged, sizeof(staged), "%s/staging/%s", c->files_dir, name);
	if (link(body, staged) == -1) {
		log_err("upload: link %s to %s: %s (the store's tmp and staging "
		    "directories must be on one filesystem)", body, staged,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The format of the file open on fd, from its magic numbers: cwsquash
 * (ClusterWare's name for a squashfs image), iso9660, tar, or raw.
 */
static const char *
fstore_fmt(int fd)
{
	unsigned char	 b[32768 + 6];
	ssize_t		 n;

	n = pread(fd, b, sizeof(b), 0);
	if (n >= 4 && memcmp(b, "hsqs", 4) == 0)
		return "cwsquash";
	if (n >= 32769 + 5 && memcmp(b + 32769, "CD001", 5) == 0)
		return "iso9660";
	if (n >= 257 + 5 && memcmp(b + 257, "ustar", 5) == 0)
		return "tar";
	return "raw";
}

/*
 * How the reference shows a use of a file in its object (new reference):
 * an image's content keyed by its format, {"cwsquash": {...}}; a kernel,
 * initramfs or ISO as the object itself with its fmt.
 */
json_t *
fileinfo_json(const char *slot, const struct fileinfo *fi)
{
	json_t	*j;

	j = json_pack("{s:I, s:f, s:s+, s:s, s:s, s:s}", "size",
	    (json_int_t)fi->size, "mtime", fi->mtime, "chksum", "sha1:",
	    fi->sha1, "sha256", fi->sha256, "filename", fi->uid, "uid", fi->uid);
	if (strcmp(slot, "content") == 0)
		return json_pack("{s:o}", fi->fmt, j);
	json_object_set_new(j, "fmt", json_string(fi->fmt));
	return j;
}

/*
 * The file object obj_uid's slot uses into fi.  API_NOT_FOUND (no reason
 * set: the caller names what is missing) when it uses none.
 */
enum apierr
fstore_ref_get(struct ctx *c, const char *obj_uid, const char *slot,
    struct fileinfo *fi)
{
	char		*sha256 = NULL, *sha1 = NULL, *fmt = NULL, *uid = NULL;
	enum dbrc	 rc;

	memset(fi, 0, sizeof(*fi));
	if ((rc = db_run(c->db, SQL_FILE_REF_GET, "ss", obj_uid, slot)) != DB_OK)
		return ctx_dbfail(c, rc);
	rc = db_next(c->db, SQL_FILE_REF_GET, "ssidssi", &sha256, &sha1,
	    &fi->size, &fi->mtime, &fmt, &uid, &fi->refcnt);
	db_done(c->db, SQL_FILE_REF_GET);
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
		return API_NOT_FOUND;
	return rc == DB_OK ? API_OK : ctx_dbfail(c, rc);
}

/*
 * Remove the bytes of file sha256 if nothing uses it any more, under its
 * row's lock (see the top of the file).  Returns 1 when removed, 0 when
 * still in use (or already gone), -1 on a database error (logged).
 */
int
fstore_release(struct ctx *c, const char *sha256)
{
	char		 path[PATH_MAX];
	long long	 uses = -1;
	int		 removed = -1;

	if (db_begin(c->db) != DB_OK)
		goto out;
	if (db_run(c->db, SQL_FILE_LOCK, "s", sha256) != DB_OK)
		goto out;
	if (db_next(c->db, SQL_FILE_LOCK, "i", &uses) != DB_OK)
		uses = -1;	/* no such row: someone removed it first */
	db_done(c->db, SQL_FILE_LOCK);
	removed = 0;
	if (uses != 0)
		goto out;
	fstore_path(c->conf, sha256, path, sizeof(path));
	/* Gone first, then the row: a row without bytes is what fsck reports. */
	if (unlink(path) == -1 && errno != ENOENT) {
		log_err("store: unlink %s: %s", path, strerror(errno));
		removed = -1;
		goto out;
	}
	if (db_run(c->db, SQL_FILE_DELETE, "s", sha256) != DB_OK ||
	    db_commit(c->db) != DB_OK) {
		removed = -1;
		goto out;
	}
	log_info("store: removed %s (no longer used)", sha256);
	removed = 1;
out:
	db_rollback(c->db);
	return removed;
}

/* What a change of a slot (an upload, a removal) works with. */
struct slotchange {
	const struct objclass	*cls;
	const char		*slot;
	const char		*staged;	/* ingest: the hashed file */
	const struct fileinfo	*fi;		/* ingest: what it hashed to */
	char			 old[SHA256_HEX + 1];	/* the file it used */
};

/* The locked object's frozen flag refuses changes of its files too. */
static enum apierr
slot_frozen_check(struct ctx *c, const struct slotchange *sc,
    const struct objrow *o)
{
	if (sc->cls->frozen_reason != NULL &&
	    json_is_true(json_object_get(o->doc, "frozen")))
		return ctx_fail(c, API_CONFLICT, "%s", sc->cls->frozen_reason);
	return API_OK;
}

/* Note the file the slot uses now (locked) in sc->old. */
static enum apierr
slot_old(struct ctx *c, const struct objrow *o, struct slotchange *sc)
{
	char		*old = NULL;
	enum dbrc	 rc;

	sc->old[0] = '\0';
	if ((rc = db_run(c->db, SQL_FILE_REF_LOCK, "ss", o->uid, sc->slot)) !=
	    DB_OK)
		return ctx_dbfail(c, rc);
	if (db_next(c->db, SQL_FILE_REF_LOCK, "s", &old) == DB_OK)
		snprintf(sc->old, sizeof(sc->old), "%s", old);
	db_done(c->db, SQL_FILE_REF_LOCK);
	free(old);
	return API_OK;
}

/*
 * A change_fn run on the locked object: store the staged file (one
 * rename, under its row's lock) and make the slot use it.
 */
static enum apierr
ingest_change(struct ctx *c, const struct objrow *o, const void *arg,
    json_t **change)
{
	struct slotchange	*sc = (struct slotchange *)(uintptr_t)arg;
	const struct fileinfo	*fi = sc->fi;
	char			 path[PATH_MAX], dir[PATH_MAX];
	struct stat		 st;
	enum apierr		 rc;
	enum dbrc		 drc;

	if ((rc = slot_frozen_check(c, sc, o)) != API_OK ||
	    (rc = slot_old(c, o, sc)) != API_OK)
		return rc;
	if ((drc = db_run(c->db, SQL_FILE_ADD, "ssisds", fi->sha256, fi->sha1,
	    fi->size, fi->fmt, time_now(), c->conf->head_name)) != DB_OK)
		return ctx_dbfail(c, drc);
	fstore_path(c->conf, fi->sha256, path, sizeof(path));
	if (stat(path, &st) == 0 && st.st_size == fi->size) {
		/* Stored already (another object uses the same bytes). */
		unlink(sc->staged);
	} else {
		snprintf(dir, sizeof(dir), "%s/sha256/%.2s", c->conf->files_dir,
		    fi->sha256);
		if ((mkdir(dir, 0755) == -1 && errno != EEXIST) ||
		    rename(sc->staged, path) == -1)
			return ctx_internal(c, "cannot move %s into the store: %s",
			    sc->staged, strerror(errno));
	}
	if ((drc = db_run(c->db, SQL_FILE_REF_PUT, "ssssds", o->uid, sc->slot,
	    fi->sha256, fi->uid, fi->mtime, NULL)) != DB_OK)
		return ctx_dbfail(c, drc);
	*change = json_object();
	json_object_set_new(*change, sc->slot, fileinfo_json(sc->slot, fi));
	return API_OK;
}

/* Map an outcome to the HTTP status a job result carries. */
static int
ingest_status(enum apierr rc)
{
	return resp_status(rc);
}

/*
 * Hash the staged file, check it against what the client said (expect,
 * may be NULL), and make it object obj_uid's slot in one transaction,
 * replacing the file the slot used: its SHA-256 goes to replaced ("" if
 * none, or the same file), for the caller to fstore_release when nobody
 * waits any more.  The staged file is consumed whatever happens.  For corral-jobd:
 * c works over every tenant, as the actor c->scope names.  Returns 0 with
 * fi filled, or an HTTP status (400 checksum mismatch, 404 object gone,
 * 409 frozen, 500) with a reason in err.
 */
int
fstore_ingest(struct ctx *c, const char *staged, const char *obj_uid,
    const char *slot, const struct fileexpect *expect, struct fileinfo *fi,
    char replaced[SHA256_HEX + 1], char *err, size_t errsz)
{
	struct slotchange	 sc;
	struct stat		 st;
	char			 md5[33];
	int			 fd = -1, status = 500;
	enum apierr		 rc;

	memset(fi, 0, sizeof(*fi));
	memset(&sc, 0, sizeof(sc));
	replaced[0] = '\0';
	if ((sc.cls = fstore_slot_class(slot)) == NULL) {
		snprintf(err, errsz, "no such file slot: %s", slot);
		goto out;
	}
	if ((fd = open(staged, O_RDONLY)) == -1 || fstat(fd, &st) == -1) {
		snprintf(err, errsz, "the upload is gone: %s", strerror(errno));
		goto out;
	}
	fi->size = st.st_size;
	if (crypto_digest_file(fd, fi->size, fi->sha256, fi->sha1,
	    expect != NULL && expect->md5[0] != '\0' ? md5 : NULL) == -1) {
		snprintf(err, errsz, "the upload could not be read");
		goto out;
	}
	if (expect != NULL && expect->sha256[0] != '\0' &&
	    strcmp(expect->sha256, fi->sha256) != 0) {
		snprintf(err, errsz, "Checksum mismatch: X-Checksum-SHA256 says "
		    "%s, the upload's SHA-256 is %s", expect->sha256, fi->sha256);
		status = 400;
		goto out;
	}
	if (expect != NULL && expect->md5[0] != '\0' &&
	    strcmp(expect->md5, md5) != 0) {
		snprintf(err, errsz, "Checksum mismatch: Content-MD5 says %s, "
		    "the upload's MD5 is %s (hex)", expect->md5, md5);
		status = 400;
		goto out;
	}
	snprintf(fi->fmt, sizeof(fi->fmt), "%s", fstore_fmt(fd));
	/* Stored files are never written again: their name is their hash. */
	if (fchmod(fd, 0444) == -1) {
		snprintf(err, errsz, "the upload could not be made read-only");
		goto out;
	}
	if (uid_new(fi->uid) == -1) {
		snprintf(err, errsz, "no random bytes");
		goto out;
	}
	fi->mtime = time_now();
	sc.slot = slot;
	sc.staged = staged;
	sc.fi = fi;
	rc = obj_change_by(c, sc.cls, obj_uid, ingest_change, &sc);
	if (rc != API_OK) {
		snprintf(err, errsz, "%s", c->reason);
		status = ingest_status(rc);
		goto out;
	}
	if (fstore_ref_get(c, obj_uid, slot, fi) != API_OK)
		fi->refcnt = 1;
	if (strcmp(sc.old, fi->sha256) != 0)
		snprintf(replaced, SHA256_HEX + 1, "%s", sc.old);
	status = 0;
out:
	if (fd != -1)
		close(fd);
	if (unlink(staged) == -1 && errno != ENOENT)
		log_warn("staging: unlink %s: %s", staged, strerror(errno));
	return status;
}

/* A change_fn run on the locked object: the slot uses no file any more. */
static enum apierr
drop_change(struct ctx *c, const struct objrow *o, const void *arg,
    json_t **change)
{
	struct slotchange	*sc = (struct slotchange *)(uintptr_t)arg;
	enum apierr		 rc;
	enum dbrc		 drc;

	if ((rc = slot_frozen_check(c, sc, o)) != API_OK ||
	    (rc = slot_old(c, o, sc)) != API_OK)
		return rc;
	if (sc->old[0] == '\0')
		return ctx_fail(c, API_NOT_FOUND, "%s %s has no %s file",
		    sc->cls->label, o->name, sc->slot);
	if ((drc = db_run(c->db, SQL_FILE_REF_DELETE, "ss", o->uid, sc->slot)) !=
	    DB_OK)
		return ctx_dbfail(c, drc);
	*change = json_pack("{s:n}", sc->slot);
	return API_OK;
}

/*
 * DELETE of object obj_uid's slot: it uses no file any more, and the
 * file's bytes go if nothing else uses them.  API_NOT_FOUND when it had
 * none, API_CONFLICT when frozen.
 */
enum apierr
fstore_ref_drop(struct ctx *c, const char *obj_uid, const char *slot)
{
	struct slotchange	 sc;
	enum apierr		 rc;

	memset(&sc, 0, sizeof(sc));
	if ((sc.cls = fstore_slot_class(slot)) == NULL)
		return ctx_internal(c, "no such file slot: %s", slot);
	sc.slot = slot;
	if ((rc = obj_change_by(c, sc.cls, obj_uid, drop_change, &sc)) != API_OK)
		return rc;
	if (sc.old[0] != '\0')
		fstore_release(c, sc.old);
	return API_OK;
}

/*
 * The files object uid uses, as a JSON array of SHA-256 (new reference),
 * read before the object is deleted so their bytes can go after.
 */
json_t *
fstore_uses(struct ctx *c, const char *uid)
{
	json_t	*out = json_array();
	char	*sha;

	if (db_run(c->db, SQL_FILE_USES, "s", uid) != DB_OK)
		return out;
	while (db_next(c->db, SQL_FILE_USES, "s", &sha) == DB_OK) {
		json_array_append_new(out, json_string(sha));
		free(sha);
	}
	db_done(c->db, SQL_FILE_USES);
	return out;
}

/* Release every file of uses (fstore_uses); consumes uses. */
void
fstore_release_all(struct ctx *c, json_t *uses)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(uses, i, v)
		fstore_release(c, json_string_value(v));
	json_decref(uses);
}

/*
 * Every file under <dir>/sha256 whose name is a SHA-256 into fn, with its
 * size.  Returns 0, or -1 when the directory cannot be read.
 */
static int
fstore_walk(const struct conf *conf, void (*fn)(const char *sha256,
    long long size, void *), void *arg)
{
	char		 top[PATH_MAX], sub[PATH_MAX], path[PATH_MAX];
	DIR		*d, *e;
	struct dirent	*de, *fe;
	struct stat	 st;

	snprintf(top, sizeof(top), "%s/sha256", conf->files_dir);
	if ((d = opendir(top)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", top,
		    de->d_name) >= sizeof(sub) || (e = opendir(sub)) == NULL)
			continue;
		while ((fe = readdir(e)) != NULL) {
			if (!valid_sha256(fe->d_name))
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", sub,
			    fe->d_name) < sizeof(path) && stat(path, &st) == 0 &&
			    S_ISREG(st.st_mode))
				fn(fe->d_name, (long long)st.st_size, arg);
		}
		closedir(e);
	}
	closedir(d);
	return 0;
}

/* What the store check and the unused listing collect. */
struct storescan {
	json_t		*known;		/* sha256 -> uses, from the database */
	json_t		*untracked;	/* [{sha256, size}] on disk only */
};

static void
scan_disk_file(const char *sha256, long long size, void *arg)
{
	struct storescan	*s = arg;

	if (json_object_get(s->known, sha256) == NULL)
		json_array_append_new(s->untracked, json_pack("{s:s, s:I, s:s}",
		    "sha256", sha256, "size", (json_int_t)size, "state",
		    "untracked"));
}

/* Staged files older than a day: uploads whose job never ran. */
static void
scan_staging(const struct conf *conf, json_t *out, int remove)
{
	char		 dir[PATH_MAX], path[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;

	snprintf(dir, sizeof(dir), "%s/staging", conf->files_dir);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path) ||
		    stat(path, &st) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_mtime > time(NULL) - STAGING_STALE)
			continue;
		if (remove && unlink(path) == -1)
			continue;
		json_array_append_new(out, json_pack("{s:s, s:I, s:s}",
		    "staged", de->d_name, "size", (json_int_t)st.st_size,
		    "state", "stale upload"));
	}
	closedir(d);
}

/*
 * Remove an untracked file if the database still does not know it, with
 * its (absent) row locked so an ingest of the same bytes waits or wins.
 */
static int
fstore_remove_untracked(struct ctx *c, const char *sha256)
{
	char		 path[PATH_MAX];
	long long	 uses;
	int		 removed = 0;

	if (db_begin(c->db) != DB_OK ||
	    db_run(c->db, SQL_FILE_LOCK, "s", sha256) != DB_OK)
		goto out;
	if (db_next(c->db, SQL_FILE_LOCK, "i", &uses) == DB_DONE) {
		fstore_path(c->conf, sha256, path, sizeof(path));
		removed = unlink(path) == 0;
	}
	db_done(c->db, SQL_FILE_LOCK);
	db_commit(c->db);
out:
	db_rollback(c->db);
	return removed;
}

/* Read every files row into s->known (sha256 -> [sha1, size, uses]). */
static enum apierr
scan_rows(struct ctx *c, struct storescan *s)
{
	char		*sha256, *sha1;
	long long	 size, uses;
	enum dbrc	 rc;

	if ((rc = db_run(c->db, SQL_FILE_ALL, "")) != DB_OK)
		return ctx_dbfail(c, rc);
	while (db_next(c->db, SQL_FILE_ALL, "ssii", &sha256, &sha1, &size,
	    &uses) == DB_OK) {
		json_object_set_new(s->known, sha256, json_pack("[s, I, I]",
		    sha1, (json_int_t)size, (json_int_t)uses));
		free(sha256);
		free(sha1);
	}
	db_done(c->db, SQL_FILE_ALL);
	return API_OK;
}

/*
 * GET/DELETE /head/files/unused: files nothing uses (rows without uses,
 * files on disk the database does not know, uploads staged more than a
 * day ago), as a list of {sha256 or staged, size, state} (new reference
 * into *out).  With remove, they are removed, each re-checked under its
 * row's lock, and the list says what went.
 */
enum apierr
fstore_unused(struct ctx *c, int remove, json_t **out)
{
	struct storescan	 s;
	const char		*sha;
	json_t			*v, *list = json_array(), *e;
	size_t			 i;
	enum apierr		 rc;

	*out = NULL;
	s.known = json_object();
	s.untracked = json_array();
	if ((rc = scan_rows(c, &s)) != API_OK)
		goto out;
	json_object_foreach(s.known, sha, v)
		if (json_integer_value(json_array_get(v, 2)) == 0 &&
		    (!remove || fstore_release(c, sha) == 1))
			json_array_append_new(list, json_pack("{s:s, s:O, s:s}",
			    "sha256", sha, "size", json_array_get(v, 1),
			    "state", "unused"));
	if (fstore_walk(c->conf, scan_disk_file, &s) == -1) {
		rc = ctx_internal(c, "cannot read the store: %s", strerror(errno));
		goto out;
	}
	json_array_foreach(s.untracked, i, e)
		if (!remove || fstore_remove_untracked(c,
		    json_string_value(json_object_get(e, "sha256"))))
			json_array_append(list, e);
	scan_staging(c->conf, list, remove);
	*out = list;
	list = NULL;
	rc = API_OK;
out:
	json_decref(list);
	json_decref(s.known);
	json_decref(s.untracked);
	return rc;
}

/*
 * The store check (corral-api fsck): every stored file is there with its
 * size and (with rehash) its SHA-256 and SHA-1; files on disk the
 * database does not know and files nothing uses are listed.  The report
 * (new reference into *out): {"checked", "missing", "corrupt",
 * "untracked", "unused"}.  Returns API_OK whatever it found.
 */
enum apierr
fstore_check(struct ctx *c, int rehash, json_t **out)
{
	struct storescan	 s;
	const char		*sha;
	char			 path[PATH_MAX], h256[SHA256_HEX + 1],
				 h1[SHA1_HEX + 1];
	struct stat		 st;
	json_t			*v, *missing = json_array(), *corrupt = json_array(),
				*unused = json_array();
	long long		 checked = 0;
	int			 fd;
	enum apierr		 rc;

	*out = NULL;
	s.known = json_object();
	s.untracked = json_array();
	if ((rc = scan_rows(c, &s)) != API_OK)
		goto out;
	json_object_foreach(s.known, sha, v) {
		checked++;
		if (json_integer_value(json_array_get(v, 2)) == 0)
			json_array_append_new(unused, json_string(sha));
		fstore_path(c->conf, sha, path, sizeof(path));
		if (stat(path, &st) == -1) {
			json_array_append_new(missing, json_string(sha));
			continue;
		}
		if ((long long)st.st_size != json_integer_value(
		    json_array_get(v, 1))) {
			json_array_append_new(corrupt, json_pack("{s:s, s:s}",
			    "sha256", sha, "problem", "size differs"));
			continue;
		}
		if (!rehash)
			continue;
		if ((fd = open(path, O_RDONLY)) == -1 ||
		    crypto_digest_file(fd, st.st_size, h256, h1, NULL) == -1 ||
		    strcmp(h256, sha) != 0 || strcmp(h1, json_string_value(
		    json_array_get(v, 0))) != 0)
			json_array_append_new(corrupt, json_pack("{s:s, s:s}",
			    "sha256", sha, "problem", "content differs"));
		if (fd != -1)
			close(fd);
	}
	if (fstore_walk(c->conf, scan_disk_file, &s) == -1) {
		rc = ctx_internal(c, "cannot read the store: %s", strerror(errno));
		goto out;
	}
	*out = json_pack("{s:I, s:O, s:O, s:O, s:O}", "checked",
	    (json_int_t)checked, "missing", missing, "corrupt", corrupt,
	    "untracked", s.untracked, "unused", unused);
	rc = API_OK;
out:
	json_decref(missing);
	json_decref(corrupt);
	json_decref(unused);
	json_decref(s.known);
	json_decref(s.untracked);
	return rc;
}

/*
 * Whether object obj_uid's slot has a file that is present with its
 * size: NULL if so, else what is wrong ("no kernel", "kernel file
 * missing", "kernel file corrupt (size differs)") into buf.  Hashing is
 * left to the store check: this runs on every GET .../errors.
 */
const char *
fstore_slot_problem(struct ctx *c, const char *obj_uid, const char *slot,
    char *buf, size_t bufsz)
{
	struct fileinfo	 fi;
	struct stat	 st;
	char		 path[PATH_MAX];

	if (fstore_ref_get(c, obj_uid, slot, &fi) != API_OK) {
		snprintf(buf, bufsz, "no %s", slot);
		return buf;
	}
	fstore_path(c->conf, fi.sha256, path, sizeof(path));
	if (stat(path, &st) == -1)
		snprintf(buf, bufsz, "%s file missing", slot);
	else if ((long long)st.st_size != fi.size)
		snprintf(buf, bufsz, "%s file corrupt (size differs)", slot);
	else
		return NULL;
	return buf;
}
