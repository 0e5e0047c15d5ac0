/*
 * The job kinds of ISO building and image capture, as the API sees them
 * (job.c has the others): their parameters' checks, shared with the
 * endpoints that queue them (api_image.c).  Both are queued only by
 * their own endpoints, which check the caller may read the boot config,
 * change the image and reach the node.
 *
 *   mkiso    {"bootconfig": UID, "image": UID or null}
 *   capture  {"image": UID, "exclude": [paths], "compress": name}
 *            (the node is the job's node)
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"

/* What tar2sqfs (squashfs-tools-ng) can write. */
static const char *const compressors[] = {
	"gzip", "xz", "zstd", "lzo", "lz4", "lzma"
};

/* Whether name is a squashfs compressor corral can write. */
int
capture_compress_ok(const char *name)
{
	size_t	 i;

	for (i = 0; name != NULL && i < nitems(compressors); i++)
		if (strcmp(name, compressors[i]) == 0)
			return 1;
	return 0;
}

/*
 * Whether exclude (NULL, null or a list) is a list of at most
 * CAPTURE_EXCLUDE_MAX absolute paths of printable characters, none with
 * a ".." component: each reaches the node's shell (quoted) and tar's
 * pattern matching, never a path on the head.  0, or -1 with why.
 */
int
capture_exclude_check(const json_t *exclude, char *why, size_t whysz)
{
	const char	*p, *c;
	size_t		 i, len;

	if (exclude == NULL || json_is_null(exclude))
		return 0;
	if (!json_is_array(exclude) ||
	    json_array_size(exclude) > CAPTURE_EXCLUDE_MAX) {
		snprintf(why, whysz, "exclude must be a list of at most %d "
		    "absolute paths", CAPTURE_EXCLUDE_MAX);
		return -1;
	}
	for (i = 0; i < json_array_size(exclude); i++) {
		p = json_string_value(json_array_get(exclude, i));
		len = p != NULL ? json_string_length(json_array_get(exclude, i)) :
		    0;
		if (p == NULL || len < 2 || len > CAPTURE_PATH_MAX ||
		    strlen(p) != len || p[0] != '/') {
			snprintf(why, whysz, "exclude[%zu] must be an absolute "
			    "path (2 to %d bytes) below /, e.g. \"/var/tmp\"", i,
			    CAPTURE_PATH_MAX);
			return -1;
		}
		for (c = p; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f) {
				snprintf(why, whysz, "exclude[%zu] holds a "
				    "control character", i);
				return -1;
			}
		if (strstr(p, "/../") != NULL || (len >= 3 &&
		    strcmp(p + len - 3, "/..") == 0)) {
			snprintf(why, whysz, "exclude[%zu] must not hold a .. "
			    "component", i);
			return -1;
		}
	}
	return 0;
}

/* -1 with a reason if params holds a key not among the words of known. */
static int
keys_known(const json_t *params, const char *known, const char *kind,
    char *why, size_t whysz)
{
	const char	*key;
	json_t		*val;

	if (!json_is_object(params)) {
		snprintf(why, whysz, "%s parameters must be a JSON object", kind);
		return -1;
	}
	json_object_foreach((json_t *)(uintptr_t)params, key, val)
		if (!conf_list_has(known, key)) {
			snprintf(why, whysz, "Unhandled parameter(s): %.64s "
			    "(%s takes %s)", key, kind, known);
			return -1;
		}
	return 0;
}

static int
mkiso_check(const json_t *params, char *why, size_t whysz)
{
	const json_t	*img;

	if (keys_known(params, "bootconfig image", "mkiso", why, whysz) == -1)
		return -1;
	if (!uid_valid(json_string_value(json_object_get(params,
	    "bootconfig")))) {
		snprintf(why, whysz, "bootconfig must be a boot config's UID");
		return -1;
	}
	img = json_object_get(params, "image");
	if (img != NULL && !json_is_null(img) &&
	    !uid_valid(json_string_value(img))) {
		snprintf(why, whysz, "image must be an image's UID or null");
		return -1;
	}
	return 0;
}

static int
capture_check(const json_t *params, char *why, size_t whysz)
{
	const char	*comp;

	if (keys_known(params, "image exclude compress", "capture", why,
	    whysz) == -1)
		return -1;
	if (!uid_valid(json_string_value(json_object_get(params, "image")))) {
		snprintf(why, whysz, "image must be an image's UID");
		return -1;
	}
	comp = json_string_value(json_object_get(params, "compress"));
	if (comp != NULL && !capture_compress_ok(comp)) {
		snprintf(why, whysz, "compress must be gzip, xz, zstd, lzo, lz4 "
		    "or lzma");
		return -1;
	}
	return capture_exclude_check(json_object_get(params, "exclude"), why,
	    whysz);
}

const struct jobkind job_mkiso = { "mkiso", 0, mkiso_check };
const struct jobkind job_capture = { "capture", 0, capture_check };
