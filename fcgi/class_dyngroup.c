/*
 * Dynamic groups (reference: "Dynamic Group Objects"): a name for the
 * nodes a selector picks.  The selector is parsed once, when it is
 * written; "parsed" keeps its normalized form, as the reference shows.
 */
#include <stdlib.h>

#include "extern.h"

static const struct field dyngroup_fields[] = {
	{ "name",	 F_NAME,   F_REQUIRED,		   63,   "The name for the Dynamic Group" },
	{ "selector",	 F_STRING, F_REQUIRED,		   SEL_TEXT_MAX, "A node-selector, e.g. h[ram_total] > 100GB (grammar in README)" },
	{ "description", F_TEXT,   0,			   4096, "A text string with descriptive information" },
	{ "parsed",	 F_STRING, F_READONLY,		   0,    "The selector as the server understood it" },
};

const struct bodyspec b_dyngroup = { dyngroup_fields, 4, 0 };

/* A bad selector is a 400 pointing at the position. */
static enum apierr
dyngroup_prepare(struct req *r, json_t *doc, int creating)
{
	const char	*text = json_string_value(json_object_get(doc, "selector"));
	struct sel	*sel;
	char		 err[256], *norm;

	if (text == NULL)
		return req_fail(r, API_BAD_REQUEST, "Missing required field: selector");
	if ((sel = sel_parse(text, NULL, err, sizeof(err))) == NULL)
		return req_fail(r, API_BAD_REQUEST, "%s", err);
	norm = sel_normalize(sel);
	sel_free(sel);
	json_object_set_new(doc, "parsed", json_string(norm));
	free(norm);
	return API_OK;
}

const struct objclass dyngroup_class = {
	"dyngroup", "dyngroups", "dynamic group", dyngroup_fields, 4,
	&b_dyngroup, 0, dyngroup_prepare,
};
