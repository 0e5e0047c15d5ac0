/*
 * The file endpoints of boot configs, images and repos (reference: "Boot
 * Config Objects", "Image Objects", "Software Repository Objects") and
 * the head's /head/files/unused.  The bytes are the store's (fstore.c):
 * a worker authorizes and points nginx at them, never reads or writes
 * them itself.
 *
 *   PUT    .../kernel|initramfs|content|iso   nginx has written the body
 *          to a file; the worker links it into staging and queues an
 *          "ingest" job for this head's corral-jobd, which hashes it and
 *          moves it into place; the caller waits through the waiter like
 *          a power call (nobody waits in a worker).
 *   GET    the same paths: X-Accel-Redirect to /_files/<ab>/<sha256>,
 *          sent by nginx (sendfile, Range, HEAD); ETag is the SHA-256.
 *   DELETE the slot uses no file any more; the bytes go with the last use.
 *
 * A route row's arg names the slot; its class is the object's.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "extern.h"

#define UPLOAD_WAIT_MIN		60	/* s a caller waits for the hashing */
#define UPLOAD_HASH_RATE	(100LL << 20)	/* bytes/s assumed beyond that */

/*
 * The object the route's :id names, in the caller's scope, into o.
 * 404 (never 403) for another tenant's.
 */
static enum apierr
file_owner(struct req *r, struct objrow *o)
{
	return obj_find(&r->ctx, r->route->cls, req_param(r, "id"), 0, o);
}

/* The use of a file object o's slot has, or a 404 naming what is missing. */
static enum apierr
file_of(struct req *r, const struct objrow *o, const char *slot,
    struct fileinfo *fi)
{
	enum apierr	 rc;

	if ((rc = fstore_ref_get(&r->ctx, o->uid, slot, fi)) == API_NOT_FOUND)
		return req_fail(r, API_NOT_FOUND, "%s %s has no %s file",
		    r->route->cls->label, o->name, slot);
	return rc;
}

/*
 * Content-MD5 (RFC 1864: base64 of the 16 bytes) as lowercase hex into
 * hex[33].  Returns 0, or -1 if it is not that.
 */
static int
md5_from_base64(const char *b64, char hex[33])
{
	static const char	 alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char		 raw[18];
	const char		*p;
	unsigned long		 acc = 0;
	size_t			 bits = 0, n = 0, i;

	if (strlen(b64) != 24 || strcmp(b64 + 22, "==") != 0)
		return -1;
	for (i = 0; i < 22; i++) {
		if ((p = strchr(alpha, b64[i])) == NULL || *p == '\0')
			return -1;
		acc = (acc << 6) | (unsigned long)(p - alpha);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			raw[n++] = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	if (n != 16)
		return -1;
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/*
 * The multipart boundary of a form upload from Content-Type into b, ""
 * for any other body.  Returns 0, or -1 for a multipart type without a
 * usable boundary (RFC 2046: 1 to 70 characters of a small set).
 */
static int
multipart_boundary(const char *ct, char *b, size_t bsz)
{
	const char	*p;
	size_t		 n;

	b[0] = '\0';
	if (ct == NULL || strncasecmp(ct, "multipart/form-data", 19) != 0)
		return 0;
	if ((p = strstr(ct, "boundary=")) == NULL)
		return -1;
	p += 9;
	if (*p == '"')
		p++;
	n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789'()+_,-./:=? ");
	while (n > 0 && p[n - 1] == ' ')
		n--;
	if (n == 0 || n > 70 || n >= bsz)
		return -1;
	memcpy(b, p, n);
	b[n] = '\0';
	return 0;
}

/*
 * What the client says the file hashes to, into the job's parameters.
 * Returns API_OK, or a 400 for a header that is not a checksum.
 */
static enum apierr
upload_expect(struct req *r, json_t *params)
{
	const char	*h;
	char		 sha[SHA256_HEX + 1], md5[33];
	size_t		 i;

	if ((h = req_header(r, "HTTP_X_CHECKSUM_SHA256")) != NULL && *h != '\0') {
		for (i = 0; h[i] != '\0' && i < SHA256_HEX; i++)
			sha[i] = (char)tolower((unsigned char)h[i]);
		sha[i] = '\0';
		if (h[i] != '\0' || !valid_sha256(sha))
			return req_fail(r, API_BAD_REQUEST, "X-Checksum-SHA256 "
			    "must be 64 hex digits");
		json_object_set_new(params, "sha256", json_string(sha));
	}
	if ((h = req_header(r, "HTTP_CONTENT_MD5")) != NULL && *h != '\0') {
		if (md5_from_base64(h, md5) == -1)
			return req_fail(r, API_BAD_REQUEST, "Content-MD5 must be "
			    "the base64 of an MD5 digest (RFC 1864)");
		json_object_set_new(params, "md5", json_string(md5));
	}
	return API_OK;
}

/*
 * The request's body, as nginx wrote it to a file, staged for job kind
 * (params gets its "staged" name; the job removes it), queued on this
 * head for target (shown with the job and in its reasons) and answered
 * as job_here does.  The caller waits wait_min seconds plus passes times
 * a pass over the body at UPLOAD_HASH_RATE.  400 for an empty body.
 */
enum apierr
upload_job(struct req *r, const struct jobkind *kind, json_t *params,
    const char *target, long long wait_min, long long passes)
{
	const char	*body, *len, *errstr;
	char		 staged[UID_LEN + 1], path[PATH_MAX];
	long long	 size;
	enum apierr	 rc;

	body = req_header(r, "CORRAL_BODY_FILE");
	len = req_header(r, "CORRAL_BODY_SIZE");
	size = len != NULL ? num_parse(len, 0, 1LL << 50, &errstr) : 0;
	if (body == NULL || *body == '\0' || size <= 0)
		return req_fail(r, API_BAD_REQUEST, "The request body is empty: "
		    "send the file itself as the body");
	if (fstore_stage_upload(r->conf, body, staged) == -1)
		return ctx_internal(&r->ctx, "the upload could not be staged");
	json_object_set_new(params, "staged", json_string(staged));
	rc = job_here(r, kind, params, target, wait_min +
	    passes * (size / UPLOAD_HASH_RATE), 1);
	if (rc != API_OK) {
		/* Not queued: nobody else will remove it. */
		snprintf(path, sizeof(path), "%s/staging/%s", r->conf->files_dir,
		    staged);
		unlink(path);
	}
	return rc;
}

/*
 * PUT /bootconfig/:id/kernel|initramfs, /image/:id/content, /repo/:id/iso:
 * store the request body (raw, or the file of a multipart/form-data
 * form) as the object's file.  The caller waits for the hashing; the
 * answer is the stored file (size, mtime, chksum, uid) or why it was
 * refused: 400 checksum mismatch, 409 frozen, 507 (nginx) disk full.
 * ?async=1 answers the job's UID at once instead.
 */
enum apierr
api_file_put(struct req *r)
{
	const char	*slot = r->route->arg;
	struct objrow	 o;
	json_t		*params = NULL;
	char		 boundary[80];
	enum apierr	 rc;

	if ((rc = file_owner(r, &o)) != API_OK)
		return rc;
	if (r->route->cls->frozen_reason != NULL &&
	    json_is_true(json_object_get(o.doc, "frozen"))) {
		rc = req_fail(r, API_CONFLICT, "%s", r->route->cls->frozen_reason);
		goto out;
	}
	params = json_pack("{s:s, s:s, s:s}", "obj", o.uid, "slot", slot, "by",
	    r->who.tok.name);
	if ((rc = upload_expect(r, params)) != API_OK)
		goto out;
	if (multipart_boundary(r->content_type, boundary, sizeof(boundary)) ==
	    -1) {
		rc = req_fail(r, API_BAD_REQUEST, "multipart/form-data needs a "
		    "boundary of 1 to 70 characters");
		goto out;
	}
	if (boundary[0] != '\0')
		json_object_set_new(params, "boundary", json_string(boundary));
	/* Hashing runs at some 1 GB/s: one pass, waited for generously. */
	rc = upload_job(r, &job_ingest, params, o.name, UPLOAD_WAIT_MIN, 1);
out:
	json_decref(params);
	objrow_free(&o);
	return rc;
}

/*
 * GET (and HEAD) /bootconfig/:id/kernel|initramfs, /image/:id/content,
 * /repo/:id/iso: the raw bytes, as the reference says (no JSON).  nginx
 * sends them from the internal /_files/ location, which also answers
 * Range requests; If-None-Match with the file's SHA-256 gets a 304 here.
 */
enum apierr
api_file_get(struct req *r)
{
	const char	*slot = r->route->arg, *inm;
	struct objrow	 o;
	struct fileinfo	 fi;
	char		 uri[160], etag[SHA256_HEX + 3];
	enum apierr	 rc;

	if ((rc = file_owner(r, &o)) != API_OK)
		return rc;
	if ((rc = file_of(r, &o, slot, &fi)) != API_OK)
		goto out;
	snprintf(etag, sizeof(etag), "\"%s\"", fi.sha256);
	inm = req_header(r, "HTTP_IF_NONE_MATCH");
	if (inm != NULL && (strstr(inm, etag) != NULL || strcmp(inm, "*") == 0)) {
		resp_not_modified(r, etag);
		goto out;
	}
	snprintf(uri, sizeof(uri), "/_files/%.2s/%s", fi.sha256, fi.sha256);
	resp_redirect(r, uri);
out:
	objrow_free(&o);
	return rc;
}

/*
 * DELETE /bootconfig/:id/kernel|initramfs, /image/:id/content,
 * /repo/:id/iso: the object keeps no file in that slot; the bytes go when
 * nothing else uses them.  404 when it had none, 409 when frozen.
 */
enum apierr
api_file_delete(struct req *r)
{
	struct objrow	 o;
	enum apierr	 rc;

	if ((rc = file_owner(r, &o)) != API_OK)
		return rc;
	rc = fstore_ref_drop(&r->ctx, o.uid, r->route->arg);
	/* A repo without its ISO serves no tree. */
	if (rc == API_OK && r->route->cls == &repo_class)
		repotree_unpublish(r->conf, o.uid, o.name);
	objrow_free(&o);
	return rc;
}

/*
 * GET /image/:id/content/stat, /repo/:id/iso/stat: {"size", "mtime"},
 * and GET /image/:id/content/info: with "chksum", "refcnt" and "fmt", as
 * the reference shows them.  The route's arg is the slot, "stat" or
 * "info" after it: "content/info".
 */
enum apierr
api_file_stat(struct req *r)
{
	const char	*arg = r->route->arg, *what = strchr(arg, '/') + 1;
	char		 slot[16];
	struct objrow	 o;
	struct fileinfo	 fi;
	enum apierr	 rc;

	snprintf(slot, sizeof(slot), "%.*s", (int)(what - 1 - arg), arg);
	if ((rc = file_owner(r, &o)) != API_OK)
		return rc;
	if ((rc = file_of(r, &o, slot, &fi)) != API_OK)
		goto out;
	r->data = json_pack("{s:I, s:f}", "size", (json_int_t)fi.size,
	    "mtime", fi.mtime);
	if (strcmp(what, "info") == 0) {
		json_object_set_new(r->data, "chksum", json_sprintf("sha1:%s",
		    fi.sha1));
		json_object_set_new(r->data, "refcnt", json_integer(fi.refcnt));
		json_object_set_new(r->data, "fmt", json_string(fi.fmt));
	}
out:
	objrow_free(&o);
	return rc;
}

/*
 * GET and DELETE /head/files/unused: files nothing uses (see
 * fstore_unused).  The reference lets another head ask without a token;
 * here a known head's address (a head object's "ip") or the
 * superadministrator's token may (NEED_HEAD).  The route's arg says
 * whether to remove.
 */
enum apierr
api_files_unused(struct req *r)
{
	const int	*remove = r->route->arg;
	struct ctx	 all;
	json_t		*list;
	enum apierr	 rc;

	ctx_init(&all, r->ctx.db, r->conf, scope_of_tenant(SCOPE_ALL, ROLES_ALL,
	    "head"));
	if ((rc = fstore_unused(&all, *remove, &list)) != API_OK)
		return ctx_pass(&r->ctx, &all, rc);
	r->data = list;
	return API_OK;
}
