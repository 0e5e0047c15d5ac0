/*
 * Images (reference: "Image Objects"): the metadata of a file system
 * deployed onto nodes.  Its content bytes come with a later capability.
 */
#include "extern.h"

static const struct field image_fields[] = {
	{ .name = "name", .type = F_NAME, .flags = F_REQUIRED, .max = 63,
	  .summary = "The name for the image" },
	{ .name = "description", .type = F_TEXT, .max = 4096,
	  .summary = "A text string with descriptive information" },
	{ .name = "frozen", .type = F_BOOL,
	  .summary = "When true, every change but unfreezing is refused" },
	{ .name = "parent", .type = F_REF, .ref = "image",
	  .summary = "The image this one was derived from (informational); "
	  "stored as UID" },
	{ .name = "distro", .type = F_REF, .ref = "distro",
	  .summary = "The software distribution of the image; stored as UID" },
};

const struct objclass image_class = {
	.name = "image", .plural = "images", .label = "image",
	.spec = FIELDS(image_fields),
	.frozen_reason = "Cannot modify frozen image.",
};
