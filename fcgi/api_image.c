/*
 * ISO images of boot configs and captures of nodes into images
 * (reference: "Boot Config Objects", GET /bootconfigs/mkiso, and "Image
 * Objects", GET /image/<ID>/capture; both "advanced features" there, so
 * what they do is corral's choice, documented in README.md, "ISO and
 * capture").
 *
 * Neither is done here: each is a job (job_image.c) that corral-jobd
 * runs (run_mkiso.c, run_capture.c), and the caller waits for it through
 * the waiter as for power and exec (job_wait).  ?async=1 answers the
 * job's UID at once; GET /job/<UID>/result gives the same answer later.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

static const struct field mkiso_fields[] = {
	FIELD("uid",   F_STRING, 0, NAME_MAX_LEN, "The boot config, by UID or name"),
	FIELD("image", F_ANY,    0, 0,            "The image put on the ISO (UID or name); null or \"\": none; absent: the boot config's own"),
};
const struct bodyspec b_mkiso = FIELDS(mkiso_fields);

static const struct field capture_fields[] = {
	FIELD("uid",         F_STRING, 0, NAME_MAX_LEN, "The running node to capture, by UID, name, MAC or IP"),
	FIELD("exclude",     F_ANY,    0, 0,            "Absolute paths (tar patterns) left out of the capture"),
	FIELD("compress",    F_STRING, 0, 16,           "squashfs compressor: gzip, xz, zstd, lzo, lz4 or lzma"),
	FIELD("credentials", F_ANY,    0, 0,            "Not used: corral logs in with the head's key"),
};
const struct bodyspec b_capture = FIELDS(capture_fields);

/*
 * A string parameter from the body, else from the query (into buf):
 * borrowed, or NULL when neither has it.  *present says whether the key
 * was given at all (a JSON null counts).
 */
static const char *
param_string(struct req *r, const char *key, char *buf, size_t bufsz,
    int *present)
{
	const json_t	*v = r->json != NULL ? json_object_get(r->json, key) :
	    NULL;

	*present = v != NULL;
	if (v != NULL)
		return json_string_value(v);
	if (req_query(r, key, buf, bufsz) != NULL) {
		*present = 1;
		return buf;
	}
	return NULL;
}

/*
 * The image an ISO carries, into *img_uid (NULL: none): the one named
 * (404 if unknown, 409 without content), none for null or "", else the
 * boot config's own image when it has content.
 */
static enum apierr
mkiso_image(struct req *r, const struct objrow *bc, char **img_uid)
{
	struct objrow	 img;
	struct fileinfo	 fi;
	const char	*id, *own;
	char		 buf[NAME_MAX_LEN + 1];
	int		 present;
	enum apierr	 rc;

	*img_uid = NULL;
	id = param_string(r, "image", buf, sizeof(buf), &present);
	/* Given, not a string, not null: a number, a list... */
	if (present && id == NULL && !json_is_null(json_object_get(r->json,
	    "image")))
		return req_fail(r, API_BAD_REQUEST, "image must be an image's "
		    "UID or name, or null for none");
	if (present && (id == NULL || *id == '\0'))
		return API_OK;
	if (!present) {
		own = json_string_value(json_object_get(bc->doc, "image"));
		if (own == NULL)
			return API_OK;
		rc = fstore_ref_get(&r->ctx, own, "content", &fi);
		if (rc == API_OK)
			*img_uid = xstrdup(own);
		return rc == API_NOT_FOUND ? API_OK : rc;
	}
	if ((rc = obj_find(&r->ctx, &image_class, id, 0, &img)) != API_OK)
		return rc;
	rc = fstore_ref_get(&r->ctx, img.uid, "content", &fi);
	if (rc == API_NOT_FOUND)
		rc = req_fail(r, API_CONFLICT, "Image %s has no content to put "
		    "on the ISO; upload or capture it first", img.name);
	else if (rc == API_OK)
		*img_uid = xstrdup(img.uid);
	objrow_free(&img);
	return rc;
}

/*
 * GET /bootconfigs/mkiso {"uid", "image"} (or ?uid=&image=): a bootable
 * ISO (BIOS and UEFI, GRUB) of the boot config's kernel, initramfs and
 * cmdline, and an image's content as /LiveOS/squashfs.img, streamed as
 * application/octet-stream.  404 for an unknown boot config or image,
 * 409 when the boot config lacks its kernel or initramfs or the image
 * its content, 502 when the build failed, 504 when it ran over the wait.
 */
enum apierr
api_bootconfig_mkiso(struct req *r)
{
	static const char *const slots[] = { "kernel", "initramfs" };
	struct objrow	 bc;
	struct fileinfo	 fi;
	struct jobspec	 js;
	const char	*id;
	char		 buf[NAME_MAX_LEN + 1], *img_uid = NULL;
	json_t		*params = NULL;
	size_t		 i;
	int		 present;
	enum apierr	 rc;

	id = param_string(r, "uid", buf, sizeof(buf), &present);
	if (id == NULL || *id == '\0')
		return req_fail(r, API_BAD_REQUEST, "uid is required: the boot "
		    "config, by UID or name");
	if ((rc = obj_find(&r->ctx, &bootconfig_class, id, 0, &bc)) != API_OK)
		return rc;
	for (i = 0; i < nitems(slots); i++) {
		rc = fstore_ref_get(&r->ctx, bc.uid, slots[i], &fi);
		if (rc == API_NOT_FOUND)
			rc = req_fail(r, API_CONFLICT, "Boot config %s has no "
			    "%s; upload one with PUT /bootconfig/%s/%s", bc.name,
			    slots[i], bc.name, slots[i]);
		if (rc != API_OK)
			goto out;
	}
	if ((rc = mkiso_image(r, &bc, &img_uid)) != API_OK)
		goto out;
	params = json_pack("{s:s, s:s?}", "bootconfig", bc.uid, "image",
	    img_uid);
	memset(&js, 0, sizeof(js));
	js.kind = &job_mkiso;
	js.params = params;
	js.target = bc.name;
	/* The ISO is spooled on the head that builds it: this one. */
	js.head = r->conf->head_name;
	rc = job_answer(r, &js, r->conf->iso_wait, 1);
out:
	json_decref(params);
	free(img_uid);
	objrow_free(&bc);
	return rc;
}

/*
 * The answer of a finished mkiso job (GET /job/<ID>/result): the ISO,
 * streamed by nginx from the spool like exec output, as a download named
 * after the boot config (target), "<name>.iso".
 */
enum apierr
mkiso_result(struct req *r, const char *job_uid, const char *target)
{
	char	 path[1024], uri[128], name[NAME_MAX_LEN + 8];

	snprintf(path, sizeof(path), "%s/%s", r->conf->jobd_spool, job_uid);
	if (access(path, R_OK) == -1)
		return req_fail(r, API_NOT_FOUND, "The ISO of job %s is no "
		    "longer kept (removed after [jobd] spool_keep); make it "
		    "again", job_uid);
	snprintf(uri, sizeof(uri), "/_spool/%s", job_uid);
	snprintf(name, sizeof(name), "%s.iso", target != NULL &&
	    valid_name(target) ? target : "corral");
	resp_redirect_file(r, uri, name);
	return API_OK;
}

/*
 * GET|POST /image/:id/capture {"uid", "exclude", "compress"}: the root
 * file system of running node uid, over ssh as tar, made a squashfs and
 * stored as the image's content; answers the content's info as GET
 * /image/<ID>/content/info shows it.  404 for an unknown image or node,
 * 409 for a frozen image, 400 for bad input, 502 when the node could
 * not be reached or the capture failed, 504 past [capture] wait.
 */
enum apierr
api_image_capture(struct req *r)
{
	struct objrow	 img, node;
	struct jobspec	 js;
	const json_t	*cred, *excl;
	const char	*id, *comp;
	char		 buf[NAME_MAX_LEN + 1], cbuf[17];
	json_t		*params = NULL;
	int		 present;
	enum apierr	 rc;

	memset(&node, 0, sizeof(node));
	if ((rc = obj_find(&r->ctx, &image_class, req_param(r, "id"), 0,
	    &img)) != API_OK)
		return rc;
	if (json_is_true(json_object_get(img.doc, "frozen"))) {
		rc = req_fail(r, API_CONFLICT, "%s", image_class.frozen_reason);
		goto out;
	}
	id = param_string(r, "uid", buf, sizeof(buf), &present);
	if (id == NULL || *id == '\0') {
		rc = req_fail(r, API_BAD_REQUEST, "uid is required: the running "
		    "node to capture, by UID, name, MAC or IP");
		goto out;
	}
	cred = r->json != NULL ? json_object_get(r->json, "credentials") : NULL;
	if (cred != NULL && !json_is_null(cred)) {
		rc = req_fail(r, API_BAD_REQUEST, "credentials are not used: "
		    "corral logs in to nodes with the head's key (GET "
		    "/cluster/sshkeys); leave them out");
		goto out;
	}
	comp = param_string(r, "compress", cbuf, sizeof(cbuf), &present);
	if (comp == NULL)
		comp = r->conf->capture_compress;
	if (!capture_compress_ok(comp)) {
		rc = req_fail(r, API_BAD_REQUEST, "compress must be gzip, xz, "
		    "zstd, lzo, lz4 or lzma (squashfs-tools-ng has no "
		    "uncompressed mode)");
		goto out;
	}
	excl = r->json != NULL ? json_object_get(r->json, "exclude") : NULL;
	if (capture_exclude_check(excl, r->ctx.reason,
	    sizeof(r->ctx.reason)) == -1) {
		rc = API_BAD_REQUEST;
		goto out;
	}
	if ((rc = obj_find(&r->ctx, &node_class, id, 0, &node)) != API_OK)
		goto out;
	params = json_pack("{s:s, s:s, s:O?}", "image", img.uid, "compress",
	    comp, "exclude", json_is_array(excl) ? excl : NULL);
	memset(&js, 0, sizeof(js));
	js.kind = &job_capture;
	js.params = params;
	js.target = node.name;
	js.node_uid = node.uid;
	rc = job_answer(r, &js, r->conf->capture_wait, 1);
out:
	json_decref(params);
	objrow_free(&node);
	objrow_free(&img);
	return rc;
}
