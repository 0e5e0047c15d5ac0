/*
 * Git repositories (reference: "Git Repository Objects"): metadata of
 * locally hosted repositories.  Serving their content and syncing them
 * is api_git.c's (the endpoints) and run_git.c's (the jobs).
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"

static const struct field gitrepo_fields[] = {
	FIELD("name",        F_NAME,   F_REQUIRED, 63,   "The name of the repository"),
	FIELD("description", F_TEXT,   0,          4096, "A text string with descriptive information"),
	FIELD("public",      F_BOOL,   0,          0,    "Whether nodes may read it without a token"),
	FIELD("url",         F_STRING, 0,          2048, "URL it is synchronized with (either url or upstream)"),
	FIELD("upstream",    F_STRING, 0,          2048, "URL of an upstream it is synchronized from (either url or upstream)"),
	FIELD("branch_map",  F_ANY,    0,          0,    "Local-to-remote branch mappings: an object of branch names"),
	FIELD("sync_period", F_ANY,    0,          0,    "Seconds between synchronizations, or \"10m\", \"2h\", \"1d\""),
};

/* A number of seconds, or digits with one of s m h d. */
static int
valid_period(const json_t *v)
{
	const char	*s;
	size_t		 n;

	if (json_is_integer(v))
		return json_integer_value(v) >= 0;
	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	n = strspn(s, "0123456789");
	return n > 0 && n < 10 && strchr("smhd", s[n]) != NULL && s[n] != '\0' &&
	    s[n + 1] == '\0';
}

static enum apierr
gitrepo_prepare(struct ctx *c, json_t *doc, enum how how)
{
	const char	*k;
	json_t		*v, *bm;

	if (json_object_get(doc, "url") != NULL &&
	    json_object_get(doc, "upstream") != NULL)
		return ctx_fail(c, API_BAD_REQUEST, "Set either url or upstream, "
		    "not both");
	if (((v = json_object_get(doc, "url")) != NULL ||
	    (v = json_object_get(doc, "upstream")) != NULL) &&
	    !valid_url(json_string_value(v)))
		return ctx_fail(c, API_BAD_REQUEST, "Field url/upstream must be a URL");
	if ((v = json_object_get(doc, "sync_period")) != NULL && !valid_period(v))
		return ctx_fail(c, API_BAD_REQUEST, "Field sync_period must be "
		    "seconds or a string like \"10m\", \"2h\", \"1d\"");
	if ((bm = json_object_get(doc, "branch_map")) != NULL) {
		if (!json_is_object(bm))
			return ctx_fail(c, API_BAD_REQUEST, "Field branch_map "
			    "must map local branch names to remote ones");
		json_object_foreach(bm, k, v)
			if (!valid_branch(k) || !json_is_string(v) ||
			    !valid_branch(json_string_value(v)))
				return ctx_fail(c, API_BAD_REQUEST, "Field "
				    "branch_map: %.64s is not a branch name", k);
	}
	return API_OK;
}

const struct objclass gitrepo_class = {
	.name = "gitrepo", .plural = "gitrepos", .label = "gitrepo",
	.spec = FIELDS(gitrepo_fields),
	.prepare = gitrepo_prepare,
};
