/*
 * Software distributions (reference: "Software Distribution Objects").
 */
#include "extern.h"

static const char *const packagings[] = { "rpm", "deb", "apk", NULL };

static const struct field distro_fields[] = {
	{ "name",	 F_NAME,     F_REQUIRED, 63,   "The name of the distribution" },
	{ "description", F_TEXT,     0,		 4096, "A text string with descriptive information" },
	{ "repos",	 F_REF_LIST, 0,		 64,   "Software repositories holding its packages, by UID or name; stored as UIDs", "repo" },
	{ "packaging",	 F_ENUM,     0,		 0,    "rpm (default), deb or apk", NULL, packagings },
	{ "release",	 F_STRING,   0,		 64,   "The name of the release" },
};

const struct bodyspec b_distro = { distro_fields, 5, 0 };

/* The reference: "rpm" is assumed when nothing else says. */
static enum apierr
distro_prepare(struct req *r, json_t *doc, int creating)
{
	if (creating && json_object_get(doc, "packaging") == NULL)
		json_object_set_new(doc, "packaging", json_string("rpm"));
	return API_OK;
}

const struct objclass distro_class = {
	"distro", "distros", "distro", distro_fields, 5, &b_distro, 0,
	distro_prepare,
};
