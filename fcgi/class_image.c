/*
 * Images (reference: "Image Objects"): the metadata of a file system
 * deployed onto nodes.  Its content is a file of the artifact store
 * (fstore.c, api_files.c).
 */
#include "extern.h"

static const struct field image_fields[] = {
	FIELD("name",        F_NAME, F_REQUIRED, 63,   "The name for the image"),
	FIELD("description", F_TEXT, 0,          4096, "A text string with descriptive information"),
	FIELD("frozen",      F_BOOL, 0,          0,    "When true, every change but unfreezing is refused"),
	FIELD_REF("parent",  F_REF,  0,          0,    "image", "The image this one was derived from (informational); stored as UID"),
	FIELD_REF("distro",  F_REF,  0,          0,    "distro", "The software distribution of the image; stored as UID"),
	FIELD("content",     F_OBJECT, F_READONLY, 0,  "The file system image, keyed by its format (cwsquash, tar, iso9660, raw); PUT /image/<ID>/content uploads it"),
};

const struct objclass image_class = {
	.name = "image", .plural = "images", .label = "image",
	.spec = FIELDS(image_fields),
	.frozen_reason = "Cannot modify frozen image.",
};
