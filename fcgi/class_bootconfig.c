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
	{ "name",	 F_NAME, F_REQUIRED, 63,   "The name for the Boot Config" },
	{ "description", F_TEXT, 0,	     4096, "A text string with descriptive information" },
	{ "frozen",	 F_BOOL, 0,	     0,	   "When true, every change but unfreezing is refused" },
	{ "cmdline",	 F_TEXT, 0,	     4096, "Kernel command line" },
	{ "image",	 F_REF,	 0,	     0,	   "The image to boot, by UID or name; stored as UID", "image" },
	{ "boot_style",	 F_ENUM, 0,	     0,	   "rwram (default), roram, iscsi, next, disked, sanboot or live", NULL, boot_styles },
	{ "repo",	 F_REF,	 0,	     0,	   "A software repository, by UID or name; stored as UID", "repo" },
	{ "kickstart",	 F_NAME, 0,	     253,  "The kickstart file (in the kickstarts directory) for disked installs" },
	{ "kernel",	 F_STRING, F_READONLY, 0,  "The kernel file; uploaded through its own endpoint" },
	{ "initramfs",	 F_STRING, F_READONLY, 0,  "The initramfs file; uploaded through its own endpoint" },
};

#define NFIELDS	(sizeof(bootconfig_fields) / sizeof(bootconfig_fields[0]))

const struct bodyspec b_bootconfig = { bootconfig_fields, NFIELDS, 0 };

/* cmdline goes to the kernel verbatim: one line. */
static enum apierr
bootconfig_prepare(struct req *r, json_t *doc, int creating)
{
	const char	*c = json_string_value(json_object_get(doc, "cmdline"));

	if (c != NULL && strpbrk(c, "\r\n") != NULL)
		return req_fail(r, API_BAD_REQUEST, "Field cmdline must be one line");
	if (creating && json_object_get(doc, "boot_style") == NULL)
		json_object_set_new(doc, "boot_style", json_string("rwram"));
	return API_OK;
}

const struct objclass bootconfig_class = {
	"bootconfig", "bootconfigs", "boot config", bootconfig_fields, NFIELDS,
	&b_bootconfig, 0, bootconfig_prepare, NULL, NULL,
	"Cannot modify frozen boot configuration.",
};

/* What keeps boot config o from booting a node, as a list (new reference). */
static json_t *
bootconfig_problems(const struct objrow *o)
{
	json_t	*p = json_array();

	if (json_object_get(o->doc, "image") == NULL ||
	    json_is_null(json_object_get(o->doc, "image")))
		json_array_append_new(p, json_string("no image"));
	if (json_object_get(o->doc, "kernel") == NULL)
		json_array_append_new(p, json_string("no kernel"));
	if (json_object_get(o->doc, "initramfs") == NULL)
		json_array_append_new(p, json_string("no initramfs"));
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

	if ((rc = obj_find(r, &bootconfig_class, req_param(r, "id"), 0, &o)) != API_OK)
		return rc;
	p = bootconfig_problems(&o);
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
	struct objrow	 o;
	enum apierr	 rc;

	if ((rc = obj_list(r, &bootconfig_class)) != API_OK)
		return rc;
	all = r->data;
	out = json_object();
	json_object_foreach(all, uid, obj) {
		memset(&o, 0, sizeof(o));
		o.doc = obj;
		json_object_set_new(out, uid, bootconfig_problems(&o));
	}
	json_decref(all);
	r->data = out;
	return API_OK;
}
