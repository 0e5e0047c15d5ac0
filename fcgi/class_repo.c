/*
 * Software repositories (reference: "Software Repository Objects").  The
 * ISO bytes of locally hosted repos come with a later capability.
 */
#include <string.h>

#include "extern.h"

static const struct field repo_fields[] = {
	{ "name",	      F_NAME,	   F_REQUIRED, 63,   "The name of the repository" },
	{ "description",      F_TEXT,	   0,	       4096, "A text string with descriptive information" },
	{ "full_name",	      F_TEXT,	   0,	       256,  "A text string identifying the repository" },
	{ "urls",	      F_ARRAY_STR, 0,	       32,   "URLs of the repository" },
	{ "mirrors",	      F_ARRAY_STR, 0,	       32,   "Mirror URLs" },
	{ "disable",	      F_ANY,	   0,	       0,    "A list of true/false flags, one per URL" },
	{ "keys",	      F_ARRAY_STR, 0,	       32,   "Signing keys (URLs or key text), one per URL" },
	{ "check",	      F_BOOL,	   0,	       0,    "Whether package signatures are checked" },
	{ "rhel_entitlement", F_STRING,	   0,	       256,  "RedHat license entitlement key" },
};

#define NFIELDS	(sizeof(repo_fields) / sizeof(repo_fields[0]))

const struct bodyspec b_repo = { repo_fields, NFIELDS, 0 };

/* URLs reach package managers on nodes: a scheme, no blanks. */
static enum apierr
repo_check_urls(struct req *r, const json_t *doc, const char *field)
{
	json_t	*e;
	size_t	 i;

	json_array_foreach(json_object_get(doc, field), i, e)
		if (!valid_url(json_string_value(e)))
			return req_fail(r, API_BAD_REQUEST, "Entry %zu of %s is "
			    "not a URL", i, field);
	return API_OK;
}

static enum apierr
repo_prepare(struct req *r, json_t *doc, int creating)
{
	json_t		*d, *e;
	enum apierr	 rc;
	size_t		 i;

	if ((rc = repo_check_urls(r, doc, "urls")) != API_OK ||
	    (rc = repo_check_urls(r, doc, "mirrors")) != API_OK)
		return rc;
	if ((d = json_object_get(doc, "disable")) != NULL) {
		if (!json_is_array(d) || json_array_size(d) > 32)
			return req_fail(r, API_BAD_REQUEST, "Field disable must "
			    "be a list of true/false");
		json_array_foreach(d, i, e)
			if (!json_is_boolean(e))
				return req_fail(r, API_BAD_REQUEST, "Field disable "
				    "must be a list of true/false");
	}
	return API_OK;
}

const struct objclass repo_class = {
	"repo", "repos", "repo", repo_fields, NFIELDS, &b_repo, 0, repo_prepare,
};
