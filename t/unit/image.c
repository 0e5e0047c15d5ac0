/*
 * Unit tests of what ISO and capture jobs accept (job_image.c): the
 * exclude list (each path reaches a node's shell and tar), the
 * compressors, and the job kinds' parameter checks.
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"
#include "../tap.h"

#define UID_A	"0123456789abcdef0123456789abcdef"

/* JSON texts of exclude values: valid[] pass, invalid[] fail. */
static const char *const excl_valid[] = {
	"null",
	"[]",
	"[\"/var/tmp\"]",
	"[\"/var/tmp/\", \"/home/*/.cache\", \"/a b/c'd\"]",
	"[\"/..x\", \"/x..\", \"/x/..y\"]",
	"[\"/caf\\u00e9\"]",
};
static const char *const excl_invalid[] = {
	"\"/tmp\"",		/* not a list */
	"{}",
	"[1]",
	"[null]",
	"[\"tmp\"]",		/* relative */
	"[\"/\"]",		/* the whole root */
	"[\"\"]",
	"[\"/a/../etc\"]",
	"[\"/a/..\"]",
	"[\"/a\\nb\"]",		/* control characters */
	"[\"/a\\u0000b\"]",
	"[\"/a\\u007fb\"]",
};

static const char *const comp_valid[] = { "gzip", "xz", "zstd", "lzo", "lz4", "lzma" };
static const char *const comp_invalid[] = { "none", "", "GZIP", "gzip ", "bzip2" };

/* Parameters of mkiso and capture jobs: valid[] pass, invalid[] fail. */
static const struct { const struct jobkind *kind; const char *json; } params_valid[] = {
	{ &job_mkiso, "{\"bootconfig\": \"" UID_A "\"}" },
	{ &job_mkiso, "{\"bootconfig\": \"" UID_A "\", \"image\": null}" },
	{ &job_mkiso, "{\"bootconfig\": \"" UID_A "\", \"image\": \"" UID_A "\"}" },
	{ &job_capture, "{\"image\": \"" UID_A "\"}" },
	{ &job_capture, "{\"image\": \"" UID_A "\", \"compress\": \"xz\", \"exclude\": [\"/tmp\"]}" },
};
static const struct { const struct jobkind *kind; const char *json; } params_invalid[] = {
	{ &job_mkiso, "[]" },
	{ &job_mkiso, "{}" },
	{ &job_mkiso, "{\"bootconfig\": \"bc1\"}" },
	{ &job_mkiso, "{\"bootconfig\": \"" UID_A "\", \"image\": \"img0\"}" },
	{ &job_mkiso, "{\"bootconfig\": \"" UID_A "\", \"x\": 1}" },
	{ &job_capture, "{}" },
	{ &job_capture, "{\"image\": \"" UID_A "\", \"compress\": \"none\"}" },
	{ &job_capture, "{\"image\": \"" UID_A "\", \"exclude\": [\"rel\"]}" },
	{ &job_capture, "{\"image\": \"" UID_A "\", \"uid\": \"n1\"}" },
};

static json_t *
parse(const char *text)
{
	json_error_t	 e;

	return json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
}

int
main(void)
{
	char		 why[256];
	json_t		*v;
	size_t		 i;

	for (i = 0; i < nitems(excl_valid); i++) {
		v = parse(excl_valid[i]);
		why[0] = '\0';
		ok(v != NULL && capture_exclude_check(v, why, sizeof(why)) == 0,
		    "exclude %s is accepted %s", excl_valid[i], why);
		json_decref(v);
	}
	for (i = 0; i < nitems(excl_invalid); i++) {
		v = parse(excl_invalid[i]);
		why[0] = '\0';
		ok(v != NULL && capture_exclude_check(v, why, sizeof(why)) == -1 &&
		    strstr(why, "exclude") != NULL, "exclude %s is refused (%s)",
		    excl_invalid[i], why);
		json_decref(v);
	}
	/* The bound on the list's length. */
	v = json_array();
	for (i = 0; i <= CAPTURE_EXCLUDE_MAX; i++)
		json_array_append_new(v, json_string("/x"));
	ok(capture_exclude_check(v, why, sizeof(why)) == -1,
	    "%d exclusions are refused", CAPTURE_EXCLUDE_MAX + 1);
	json_array_remove(v, 0);
	ok(capture_exclude_check(v, why, sizeof(why)) == 0,
	    "%d exclusions are accepted", CAPTURE_EXCLUDE_MAX);
	json_decref(v);

	for (i = 0; i < nitems(comp_valid); i++)
		ok(capture_compress_ok(comp_valid[i]), "compress %s", comp_valid[i]);
	for (i = 0; i < nitems(comp_invalid); i++)
		ok(!capture_compress_ok(comp_invalid[i]), "compress \"%s\" refused",
		    comp_invalid[i]);
	ok(!capture_compress_ok(NULL), "compress NULL refused");

	for (i = 0; i < nitems(params_valid); i++) {
		v = parse(params_valid[i].json);
		why[0] = '\0';
		ok(params_valid[i].kind->check(v, why, sizeof(why)) == 0,
		    "%s %s is accepted %s", params_valid[i].kind->name,
		    params_valid[i].json, why);
		json_decref(v);
	}
	for (i = 0; i < nitems(params_invalid); i++) {
		v = parse(params_invalid[i].json);
		why[0] = '\0';
		ok(params_invalid[i].kind->check(v, why, sizeof(why)) == -1 &&
		    why[0] != '\0', "%s %s is refused (%s)",
		    params_invalid[i].kind->name, params_invalid[i].json, why);
		json_decref(v);
	}
	ok(jobkind_find("mkiso") == &job_mkiso && !job_mkiso.generic,
	    "mkiso is a kind POST /jobs does not queue");
	ok(jobkind_find("capture") == &job_capture && !job_capture.generic,
	    "capture is a kind POST /jobs does not queue");
	return done_testing();
}
