/*
 * Running an ingest job: an upload staged by api_files.c becomes a file
 * of the store (fstore_ingest: hash, check, one rename, one transaction).
 * A browser's multipart/form-data upload is first cut down to its file
 * part; the copy is made in the kernel (copy_file_range), not through
 * this process.
 */
#define _GNU_SOURCE	/* copy_file_range(2) */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

/*
 * Cut the file part out of the multipart upload at path into a new
 * staged file, whose path replaces path.  Returns 0, or an HTTP status
 * with a reason in err.
 */
static int
multipart_extract(const struct conf *conf, char *path, size_t pathsz,
    const char *boundary, char *err, size_t errsz)
{
	char		 out[PATH_MAX];
	struct stat	 st;
	void		*map = MAP_FAILED;
	size_t		 start, len, left;
	loff_t		 off;
	ssize_t		 n;
	int		 fd = -1, ofd = -1, status = 500;

	out[0] = '\0';
	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1 ||
	    st.st_size == 0 || (map = mmap(NULL, (size_t)st.st_size, PROT_READ,
	    MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		snprintf(err, errsz, "the upload could not be read");
		goto out;
	}
	if (multipart_file(map, (size_t)st.st_size, boundary, &start, &len, err,
	    errsz) == -1) {
		status = 400;
		goto out;
	}
	if ((ofd = fstore_staging_open(conf, out, sizeof(out))) == -1) {
		snprintf(err, errsz, "no staging file: %s", strerror(errno));
		goto out;
	}
	off = (loff_t)start;
	for (left = len; left > 0; left -= (size_t)n) {
		n = copy_file_range(fd, &off, ofd, NULL, left, 0);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			status = n == -1 && errno == ENOSPC ? 507 : 500;
			snprintf(err, errsz, "the form's file could not be "
			    "copied: %s", n == -1 ? strerror(errno) : "short");
			goto out;
		}
	}
	unlink(path);
	snprintf(path, pathsz, "%s", out);
	out[0] = '\0';
	status = 0;
out:
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	if (fd != -1)
		close(fd);
	if (ofd != -1)
		close(ofd);
	if (out[0] != '\0')
		unlink(out);
	return status;
}

/*
 * Fail the job with why; a refusal of what was uploaded (a checksum, a
 * frozen object, a full disk) keeps its HTTP status for the caller,
 * where other failures are the head's (502).  Returns NULL, for run().
 */
static json_t *
ingest_refused(struct jobrun *jr, int status, const char *why, char *err,
    size_t errsz)
{
	snprintf(err, errsz, "%s", why);
	if (status >= 400 && status != 500)
		jr->fail_status = status;
	return NULL;
}

/*
 * A repo's new ISO is served to nodes as a tree (repotree.c): say where
 * in result, or why not.  The ISO itself is stored either way.
 */
static void
ingest_publish(struct ctx *c, const char *uid, const struct fileinfo *fi,
    json_t *result)
{
	struct objrow	 o;
	char		 iso[PATH_MAX], why[256], url[128];
	long long	 mgmt;
	enum apierr	 rc;

	if (strcmp(fi->fmt, "iso9660") != 0) {
		json_object_set_new(result, "tree_error", json_string("not an "
		    "ISO 9660 image: stored, not served"));
		return;
	}
	if (obj_find(c, &repo_class, uid, 0, &o) != API_OK)
		return;
	mgmt = tenant_lookup(c, MGMT_TENANT, &rc);
	fstore_path(c->conf, fi->sha256, iso, sizeof(iso));
	if (repotree_publish(c->conf, o.uid, o.tenant_id == mgmt ? o.name : NULL,
	    iso, why, sizeof(why)) == -1) {
		log_warn("repo %s: %s", o.name, why);
		json_object_set_new(result, "tree_error", json_string(why));
	} else {
		snprintf(url, sizeof(url), "/repo/%s/", o.uid);
		json_object_set_new(result, "tree", json_string(url));
	}
	objrow_free(&o);
}

/* The stored file as the reference shows it, or NULL with err set. */
static json_t *
ingest_run(struct jobrun *jr, char *err, size_t errsz)
{
	struct fileexpect	 expect;
	struct fileinfo		 fi;
	struct ctx		 c;
	struct db		*db;
	json_t			*result = NULL;
	const char		*staged, *obj, *slot, *by, *v, *boundary;
	char			 path[PATH_MAX], why[512], replaced[SHA256_HEX + 1];
	int			 status;

	staged = json_string_value(json_object_get(jr->params, "staged"));
	obj = json_string_value(json_object_get(jr->params, "obj"));
	slot = json_string_value(json_object_get(jr->params, "slot"));
	by = json_string_value(json_object_get(jr->params, "by"));
	boundary = json_string_value(json_object_get(jr->params, "boundary"));
	/* The API checked these, but a runner trusts no row it did not write. */
	if (staged == NULL || !uid_valid(staged) || obj == NULL || slot == NULL) {
		snprintf(err, errsz, "malformed ingest job");
		return NULL;
	}
	memset(&expect, 0, sizeof(expect));
	if ((v = json_string_value(json_object_get(jr->params, "sha256"))) != NULL)
		snprintf(expect.sha256, sizeof(expect.sha256), "%s", v);
	if ((v = json_string_value(json_object_get(jr->params, "md5"))) != NULL)
		snprintf(expect.md5, sizeof(expect.md5), "%s", v);
	snprintf(path, sizeof(path), "%s/staging/%s", jr->conf->files_dir,
	    staged);
	if (boundary != NULL && (status = multipart_extract(jr->conf, path,
	    sizeof(path), boundary, why, sizeof(why))) != 0) {
		unlink(path);
		return ingest_refused(jr, status, why, err, errsz);
	}
	/*
	 * The runner's connection belongs to its heartbeat thread while
	 * run() works: the store's transaction takes a connection of its own.
	 * The change is the uploader's: last_modified_by names them.
	 */
	if ((db = db_open(jr->conf)) == NULL || db_ready(db) == -1) {
		unlink(path);
		db_close(db);
		snprintf(err, errsz, "no database connection for the store");
		return NULL;
	}
	ctx_init(&c, db, jr->conf, scope_of_tenant(SCOPE_ALL, ROLES_ALL,
	    by != NULL ? by : "jobd"));
	status = fstore_ingest(&c, path, obj, slot, &expect, &fi, replaced,
	    why, sizeof(why));
	if (status == 0) {
		/* Removing a replaced GB file is not the uploader's wait. */
		if (replaced[0] != '\0')
			jr->priv = xstrdup(replaced);
		result = fileinfo_json(slot, &fi);
		if (strcmp(slot, "iso") == 0)
			ingest_publish(&c, obj, &fi, result);
	}
	ctx_clear(&c);
	db_close(db);
	if (status == 0)
		return result;
	return ingest_refused(jr, status, why, err, errsz);
}

/* Once the uploader has its answer: the replaced file's bytes may go. */
static void
ingest_cleanup(struct jobrun *jr)
{
	if (jr->priv != NULL)
		fstore_release(&jr->ctx, jr->priv);
	free(jr->priv);
	jr->priv = NULL;
}

const struct runkind run_ingest = {
	"ingest", NULL, ingest_run, NULL, ingest_cleanup
};
