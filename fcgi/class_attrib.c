/*
 * Attribute groups (reference: "Attribute-Group Objects"): named sets of
 * key-value pairs that nodes inherit, in the order they join them.
 */
#include "extern.h"

static const struct field attrib_fields[] = {
	{ "name",	 F_NAME,   F_REQUIRED, 63,    "The name for the group" },
	{ "description", F_TEXT,   0,	       4096,  "A text string with descriptive information" },
	{ "attributes",	 F_OBJECT, 0,	       65536, "Key-value pairs nodes in the group inherit" },
};

const struct bodyspec b_attrib = { attrib_fields, 3, 0 };

/* A new group starts with an empty store, as the reference's example shows. */
static enum apierr
attrib_prepare(struct req *r, json_t *doc, int creating)
{
	json_t	*a;

	if ((a = json_object_get(doc, "attributes")) == NULL) {
		if (creating)
			json_object_set_new(doc, "attributes", json_object());
		return API_OK;
	}
	return attrs_check(r, a);
}

const struct objclass attrib_class = {
	"attrib", "attribs", "attribute group", attrib_fields, 3, &b_attrib, 0,
	attrib_prepare,
};
