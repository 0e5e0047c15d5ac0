/*
 * Software distributions (reference: "Software Distribution Objects").
 */
#include "extern.h"

static const char *const packagings[] = { "rpm", "deb", "apk", NULL };

static const struct field distro_fields[] = {
	FIELD("name",           F_NAME,     F_REQUIRED, 63,   "The name of the distribution"),
	FIELD("description",    F_TEXT,     0,          4096, "A text string with descriptive information"),
	FIELD_REF("repos",      F_REF_LIST, 0,          64,   "repo", "Software repositories holding its packages, by UID or name; stored as UIDs"),
	FIELD_ENUM("packaging", F_ENUM,     0,          0,    packagings, "rpm (default), deb or apk"),
	FIELD("release",        F_STRING,   0,          64,   "The name of the release"),
};

/* The reference: "rpm" is assumed when nothing else says. */
static enum apierr
distro_prepare(struct ctx *c, json_t *doc, enum how how)
{
	if (how != HOW_PATCH && json_object_get(doc, "packaging") == NULL)
		json_object_set_new(doc, "packaging", json_string("rpm"));
	return API_OK;
}

const struct objclass distro_class = {
	.name = "distro", .plural = "distros", .label = "distro",
	.spec = FIELDS(distro_fields),
	.prepare = distro_prepare,
};
