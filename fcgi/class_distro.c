/*
 * Software distributions (reference: "Software Distribution Objects").
 */
#include "extern.h"

static const char *const packagings[] = { "rpm", "deb", "apk", NULL };

static const struct field distro_fields[] = {
	{ .name = "name", .type = F_NAME, .flags = F_REQUIRED, .max = 63,
	  .summary = "The name of the distribution" },
	{ .name = "description", .type = F_TEXT, .max = 4096,
	  .summary = "A text string with descriptive information" },
	{ .name = "repos", .type = F_REF_LIST, .max = 64, .ref = "repo",
	  .summary = "Software repositories holding its packages, by UID or "
	  "name; stored as UIDs" },
	{ .name = "packaging", .type = F_ENUM, .choices = packagings,
	  .summary = "rpm (default), deb or apk" },
	{ .name = "release", .type = F_STRING, .max = 64,
	  .summary = "The name of the release" },
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
