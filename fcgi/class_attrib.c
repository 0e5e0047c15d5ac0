/*
 * Attribute groups (reference: "Attribute-Group Objects"): named sets of
 * key-value pairs that nodes inherit, in the order they join them
 * (attrs.c merges them and seals their secrets).
 */
#include "extern.h"

static const struct field attrib_fields[] = {
	{ .name = "name", .type = F_NAME, .flags = F_REQUIRED, .max = 63,
	  .summary = "The name for the group" },
	{ .name = "description", .type = F_TEXT, .max = 4096,
	  .summary = "A text string with descriptive information" },
	{ .name = "attributes", .type = F_ATTRS, .max = 65536,
	  .summary = "Key-value pairs nodes in the group inherit" },
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
