/*
 * Attribute groups (reference: "Attribute-Group Objects"): named sets of
 * key-value pairs that nodes inherit, in the order they join them
 * (attrs.c merges them and seals their secrets).
 */
#include "extern.h"

static const struct field attrib_fields[] = {
	FIELD("name",        F_NAME,  F_REQUIRED, 63,    "The name for the group"),
	FIELD("description", F_TEXT,  0,          4096,  "A text string with descriptive information"),
	FIELD("attributes",  F_ATTRS, 0,          65536, "Key-value pairs nodes in the group inherit"),
};

/* A new group starts with an empty store, as the reference's example shows. */
static enum apierr
attrib_prepare(struct ctx *c, json_t *doc, enum how how)
{
	if (how != HOW_PATCH && json_object_get(doc, "attributes") == NULL)
		json_object_set_new(doc, "attributes", json_object());
	return API_OK;
}

const struct objclass attrib_class = {
	.name = "attrib", .plural = "attribs", .label = "attribute group",
	.spec = FIELDS(attrib_fields),
	.prepare = attrib_prepare,
};
