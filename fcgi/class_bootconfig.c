/*
 * Boot configs (reference: "Boot Config Objects"): how a node boots.
 * The kernel and initramfs bytes come with a later capability; what can
 * be checked without them is checked by /errors.
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
	FIELD("kernel",          F_STRING, F_READONLY, 0,    "The kernel file; uploaded through its own endpoint"),
	FIELD("initramfs",       F_STRING, F_READONLY, 0,    "The initramfs file; uploaded through its own endpoint"),
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
 * What keeps boot config doc (stored, or rendered with nulls) from
 * booting, as a list (new reference).
 */
static json_t *
bootconfig_problems(const json_t *doc)
{
	static const struct { const char *field, *problem; } needs[] = {
		{ "image", "no image" },
		{ "kernel", "no kernel" },
		{ "initramfs", "no initramfs" },
	};
	json_t	*p = json_array(), *v;
	size_t	 i;

	for (i = 0; i < nitems(needs); i++)
		if ((v = json_object_get(doc, needs[i].field)) == NULL ||
		    json_is_null(v))
			json_array_append_new(p, json_string(needs[i].problem));
	return p;
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
	p = bootconfig_problems(o.doc);
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
		json_object_set_new(out, uid, bootconfig_problems(obj));
	json_decref(all);
	r->data = out;
	return API_OK;
}
