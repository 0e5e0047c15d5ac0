/*
 * Boot configs (reference: "Boot Config Objects"): how a node boots.
 * The kernel and initramfs are files of the artifact store (fstore.c,
 * api_files.c); /errors checks they and the image's content are there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

static const char *const boot_styles[] = {
	"rwram", "roram", "iscsi", "next", "disked", "sanboot", "live", NULL
};

static const struct field bootconfig_fields[] = {
	FIELD("name",            F_NAME,   F_REQUIRED, 63,   "The name for the Boot Config"),
	FIELD("description",     F_TEXT,   0,          4096, "A text string with descriptive information"),
	FIELD("frozen",          F_BOOL,   0,          0,    "When true, every change but unfreezing is refused"),
	FIELD("cmdline",         F_TEXT,   0,          4096, "Kernel command line"),
	FIELD_REF("image",       F_REF,    0,          0,    "image", "The image to boot, by UID or name; stored as UID"),
	FIELD_ENUM("boot_style", F_ENUM,   0,          0,    boot_styles, "rwram (default), roram, iscsi, next, disked, sanboot or live"),
	FIELD_REF("repo",        F_REF,    0,          0,    "repo", "A software repository, by UID or name; stored as UID"),
	FIELD("kickstart",       F_NAME,   0,          253,  "The kickstart file (in the kickstarts directory) for disked installs"),
	FIELD("kernel",          F_OBJECT, F_READONLY, 0,    "The kernel file (size, mtime, chksum, uid); PUT /bootconfig/<ID>/kernel uploads it"),
	FIELD("initramfs",       F_OBJECT, F_READONLY, 0,    "The initramfs file (size, mtime, chksum, uid); PUT /bootconfig/<ID>/initramfs uploads it"),
};

/* cmdline goes to the kernel verbatim: one line. */
static enum apierr
bootconfig_prepare(struct ctx *c, json_t *doc, enum how how)
{
	const char	*cmd = json_string_value(json_object_get(doc, "cmdline"));

	if (cmd != NULL && strpbrk(cmd, "\r\n") != NULL)
		return ctx_fail(c, API_BAD_REQUEST, "Field cmdline must be one line");
	if (how != HOW_PATCH && json_object_get(doc, "boot_style") == NULL)
		json_object_set_new(doc, "boot_style", json_string("rwram"));
	return API_OK;
}

const struct objclass bootconfig_class = {
	.name = "bootconfig", .plural = "bootconfigs", .label = "boot config",
	.spec = FIELDS(bootconfig_fields),
	.frozen_reason = "Cannot modify frozen boot configuration.",
	.prepare = bootconfig_prepare,
};

/*
 * What keeps boot config uid (its document doc) from booting, as a list (new reference): no
 * image, no kernel or initramfs, or one whose file is missing or
 * corrupt in the store, or an image without its content file.
 */
static json_t *
bootconfig_problems(struct ctx *c, const char *uid, const json_t *doc)
{
	static const char *const files[] = { "kernel", "initramfs" };
	const char	*image, *p;
	json_t		*problems = json_array();
	char		 buf[128];
	size_t		 i;

	for (i = 0; i < nitems(files); i++)
		if ((p = fstore_slot_problem(c, uid, files[i], buf,
		    sizeof(buf))) != NULL)
			json_array_append_new(problems, json_string(p));
	image = json_string_value(json_object_get(doc, "image"));
	if (image == NULL)
		json_array_append_new(problems, json_string("no image"));
	else if ((p = fstore_slot_problem(c, image, "content", buf,
	    sizeof(buf))) != NULL) {
		if (strncmp(p, "no ", 3) == 0)
			p = "image has no content";
		else if (strncmp(p, "content file", 12) == 0) {
			snprintf(buf, sizeof(buf), "image %s", p + 8);
			p = buf;
		}
		json_array_append_new(problems, json_string(p));
	}
	return problems;
}

/*
 * GET /bootconfig/:id/errors: {"success": true} if nothing keeps it from
 * booting, else 200 with success false and the problems in the reason,
 * the shape the reference describes.
 */
enum apierr
api_bootconfig_errors(struct req *r)
{
	struct objrow	 o;
	json_t		*p;
	char		*s;
	enum apierr	 rc;

	if ((rc = obj_find(&r->ctx, &bootconfig_class, req_param(r, "id"), 0,
	    &o)) != API_OK)
		return rc;
	p = bootconfig_problems(&r->ctx, o.uid, o.doc);
	if (json_array_size(p) > 0) {
		s = json_dumps(p, JSON_COMPACT);
		r->data = json_pack("{s:b, s:s+, s:o}", "success", 0, "reason",
		    "Boot config cannot boot a node: ", s + 0, "problems", p);
		free(s);
	} else {
		r->data = json_pack("{s:b}", "success", 1);
		json_decref(p);
	}
	objrow_free(&o);
	return API_OK;
}

/* GET /bootconfigs/errors: the problems of every boot config in scope, by UID. */
enum apierr
api_bootconfigs_errors(struct req *r)
{
	const char	*uid;
	json_t		*all, *obj, *out;
	enum apierr	 rc;

	if ((rc = obj_list(&r->ctx, &bootconfig_class, &all)) != API_OK)
		return rc;
	out = json_object();
	json_object_foreach(all, uid, obj)
		json_object_set_new(out, uid, bootconfig_problems(&r->ctx, uid,
		    obj));
	json_decref(all);
	r->data = out;
	return API_OK;
}
