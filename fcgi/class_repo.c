/*
 * Software repositories (reference: "Software Repository Objects").  The
 * ISO of a locally hosted repo is a file of the artifact store (fstore.c,
 * api_files.c).
 */
#include <string.h>

#include "extern.h"

static const struct field repo_fields[] = {
	FIELD("name",             F_NAME,      F_REQUIRED, 63,   "The name of the repository"),
	FIELD("description",      F_TEXT,      0,          4096, "A text string with descriptive information"),
	FIELD("full_name",        F_TEXT,      0,          256,  "A text string identifying the repository"),
	FIELD("urls",             F_ARRAY_STR, 0,          32,   "URLs of the repository"),
	FIELD("mirrors",          F_ARRAY_STR, 0,          32,   "Mirror URLs"),
	FIELD("disable",          F_ANY,       0,          0,    "A list of true/false flags, one per URL"),
	FIELD("keys",             F_ARRAY_STR, 0,          32,   "Signing keys (URLs or key text), one per URL"),
	FIELD("check",            F_BOOL,      0,          0,    "Whether package signatures are checked"),
	FIELD("rhel_entitlement", F_STRING,    0,          256,  "RedHat license entitlement key"),
	FIELD("iso",              F_OBJECT,    F_READONLY, 0,    "The repository's ISO (size, mtime, chksum, uid); PUT /repo/<ID>/iso uploads it"),
};

/* URLs reach package managers on nodes: a scheme, no blanks. */
static enum apierr
repo_check_urls(struct ctx *c, const json_t *doc, const char *field)
{
	json_t	*e;
	size_t	 i;

	json_array_foreach(json_object_get(doc, field), i, e)
		if (!valid_url(json_string_value(e)))
			return ctx_fail(c, API_BAD_REQUEST, "Entry %zu of %s is "
			    "not a URL", i, field);
	return API_OK;
}

static enum apierr
repo_prepare(struct ctx *c, json_t *doc, enum how how)
{
	json_t		*d, *e;
	enum apierr	 rc;
	size_t		 i;

	if ((rc = repo_check_urls(c, doc, "urls")) != API_OK ||
	    (rc = repo_check_urls(c, doc, "mirrors")) != API_OK)
		return rc;
	if ((d = json_object_get(doc, "disable")) != NULL) {
		if (!json_is_array(d) || json_array_size(d) > 32)
			return ctx_fail(c, API_BAD_REQUEST, "Field disable must "
			    "be a list of true/false");
		json_array_foreach(d, i, e)
			if (!json_is_boolean(e))
				return ctx_fail(c, API_BAD_REQUEST, "Field disable "
				    "must be a list of true/false");
	}
	return API_OK;
}

const struct objclass repo_class = {
	.name = "repo", .plural = "repos", .label = "repo",
	.spec = FIELDS(repo_fields),
	.prepare = repo_prepare,
};
