/*
 * Export and import of a boot config with its image and files, as one
 * tar archive (corral's answer to the reference's "GET
 * /bootconfig/<UID>/export ... contact Penguin Solutions").  The archive's
 * layout is run_export.c's; this file only authorizes and queues.
 *
 *   GET  /bootconfig/:id/export   an "export" job for this head's
 *        corral-jobd writes the archive into its spool directory; the
 *        caller waits through the waiter, and the job's result is the
 *        archive, sent by nginx from the internal /_export/ location
 *        (application/x-tar, attachment <name>.tar).  The spool cleanup
 *        removes it after [jobd] spool_keep, so GET /job/<ID>/result
 *        fetches it again (with Range) until then.
 *   POST /bootconfigs/import      nginx writes the archive to a file in
 *        the store's tmp directory (nginx/server-common.conf); the worker
 *        links it into staging and queues an "import" job, which checks
 *        every file against the manifest and creates the objects in the
 *        caller's tenant.  ?rename=<name> and ?image_rename=<name> give
 *        them new names; a clash without them is a 409.
 *
 * A worker never reads or writes the archive's bytes.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define PORT_WAIT_MIN		60		/* s a caller waits at least */
#define PORT_RATE		(100LL << 20)	/* bytes/s assumed beyond that */

/* The bytes of the files an export of boot config o holds. */
static long long
export_bytes(struct req *r, const struct objrow *o)
{
	static const char *const slots[] = { "kernel", "initramfs" };
	struct fileinfo	 fi;
	const char	*image;
	long long	 total = 0;
	size_t		 i;

	for (i = 0; i < nitems(slots); i++)
		if (fstore_ref_get(&r->ctx, o->uid, slots[i], &fi) == API_OK)
			total += fi.size;
	image = json_string_value(json_object_get(o->doc, "image"));
	if (image != NULL && fstore_ref_get(&r->ctx, image, "content", &fi) ==
	    API_OK)
		total += fi.size;
	return total;
}

/*
 * GET /bootconfig/:id/export: the boot config, its image and their files
 * as one tar archive (see run_export.c for its layout).  404 for another
 * tenant's boot config; the caller waits for corral-jobd to write it.
 */
enum apierr
api_bootconfig_export(struct req *r)
{
	struct objrow	 o;
	json_t		*params;
	long long	 wait;
	enum apierr	 rc;

	if ((rc = obj_find(&r->ctx, &bootconfig_class, req_param(r, "id"), 0,
	    &o)) != API_OK)
		return rc;
	/* Copying runs at disk speed; wait generously beyond a minute. */
	wait = PORT_WAIT_MIN + export_bytes(r, &o) / PORT_RATE;
	params = json_pack("{s:s, s:s}", "obj", o.uid, "by", r->who.tok.name);
	/* The archive is written to this head's spool: its jobd must run it. */
	rc = job_here(r, &job_export, params, o.name, wait, 0);
	json_decref(params);
	objrow_free(&o);
	return rc;
}

/*
 * The answer of a finished export job (api_job_result): its archive,
 * streamed by nginx from the spool, named after the boot config.
 */
enum apierr
export_result(struct req *r, const char *job_uid, const json_t *res)
{
	const char	*name;
	char		 path[PATH_MAX], uri[256], safe[64];
	size_t		 i;

	snprintf(path, sizeof(path), "%s/%s", r->conf->jobd_spool, job_uid);
	if (access(path, R_OK) == -1)
		return req_fail(r, API_NOT_FOUND, "The archive of export %s is "
		    "no longer kept (%s)", job_uid, errno == ENOENT ?
		    "removed after [jobd] spool_keep" : "unreadable");
	/* Names are letters, digits, '.', '_', '-'; the header takes no other. */
	name = json_string_value(json_object_get(res, "name"));
	snprintf(safe, sizeof(safe), "%s", name != NULL && *name != '\0' ?
	    name : "bootconfig");
	for (i = 0; safe[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-", safe[i]) == NULL)
			safe[i] = '_';
	snprintf(uri, sizeof(uri), "/_export/%s?name=%s", job_uid, safe);
	resp_redirect(r, uri);
	return API_OK;
}

/*
 * ?key=<name> into params: a valid object name (the rule of the class's
 * name field), or a 400 naming key.
 */
static enum apierr
import_name(struct req *r, const char *key, const struct objclass *cls,
    json_t *params)
{
	const struct field	*f = NULL;
	/* As long as nginx lets a request line be: too long a name is a 400. */
	char			 buf[16384], why[REASON_MAX];
	json_t			*v;
	size_t			 i;
	enum apierr		 rc = API_OK;

	if (req_query(r, key, buf, sizeof(buf)) == NULL)
		return API_OK;
	for (i = 0; i < cls->spec.nfields; i++)
		if (strcmp(cls->spec.fields[i].name, "name") == 0)
			f = &cls->spec.fields[i];
	v = json_string(buf);
	if (v == NULL || f == NULL ||
	    json_check_field(f, v, why, sizeof(why)) != API_OK)
		rc = req_fail(r, API_BAD_REQUEST, "%s must be a valid %s name "
		    "(1 to %zu letters, digits, '.', '_' or '-')", key,
		    cls->label, f != NULL ? f->max : (size_t)63);
	else
		json_object_set(params, key, v);
	json_decref(v);
	return rc;
}

/*
 * POST /bootconfigs/import[?rename=<name>&image_rename=<name>]: the body
 * is an archive GET /bootconfig/<ID>/export made.  The answer, once
 * corral-jobd has checked and stored it: {"bootconfig": UID, "image": UID
 * or null, "name", "image_name", "dropped": [references not found
 * here]}.  400 for an archive that is not one (bad manifest, checksum
 * mismatch, truncated), 409 for a name already taken; either leaves
 * nothing behind.
 */
enum apierr
api_bootconfigs_import(struct req *r)
{
	json_t		*params;
	enum apierr	 rc;

	params = json_pack("{s:s, s:I}", "by", r->who.tok.name, "roles",
	    (json_int_t)r->who.tok.roles);
	if ((rc = import_name(r, "rename", &bootconfig_class, params)) ==
	    API_OK && (rc = import_name(r, "image_rename", &image_class,
	    params)) == API_OK)
		/* Copied once, hashed twice (checked, then stored): 3 passes. */
		rc = upload_job(r, &job_import, params, "import", PORT_WAIT_MIN, 3);
	json_decref(params);
	return rc;
}
