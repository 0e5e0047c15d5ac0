/*
 * Images (reference: "Image Objects"): the metadata of a file system
 * deployed onto nodes.  Its content bytes come with a later capability.
 */
#include "extern.h"

static const struct field image_fields[] = {
	{ "name",	 F_NAME, F_REQUIRED, 63,   "The name for the image" },
	{ "description", F_TEXT, 0,	     4096, "A text string with descriptive information" },
	{ "frozen",	 F_BOOL, 0,	     0,	   "When true, every change but unfreezing is refused" },
	{ "parent",	 F_REF,	 0,	     0,	   "The image this one was derived from (informational); stored as UID", "image" },
	{ "distro",	 F_REF,	 0,	     0,	   "The software distribution of the image; stored as UID", "distro" },
};

const struct bodyspec b_image = { image_fields, 5, 0 };

const struct objclass image_class = {
	"image", "images", "image", image_fields, 5, &b_image, 0,
	NULL, NULL, NULL, "Cannot modify frozen image.",
};
