/*
 * The "export" and "import" job kinds, as the API sees them (api_export.c
 * queues them, run_export.c runs them): their parameters, checked before
 * a job row exists.  Neither is generic: only their endpoints queue them,
 * after checking the caller may read the boot config or write its tenant.
 *
 *   export  "obj"     the boot config's UID
 *           "by"      the admin exporting
 *   import  "staged"  the archive's name in the store's staging directory
 *           "by"      the admin importing (last_modified_by)
 *           "roles"   the admin's ROLE_* bits (the scope it writes with)
 *           "rename", "image_rename"   optional new names
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"

/* Whether every key of params is one of the words of known. */
static int
keys_known(const json_t *params, const char *known)
{
	const char	*key;
	json_t		*val;

	json_object_foreach((json_t *)(uintptr_t)params, key, val)
		if (!conf_list_has(known, key))
			return 0;
	return 1;
}

/* An optional string field of params is absent or a valid object name. */
static int
name_ok(const json_t *params, const char *key)
{
	const json_t	*v = json_object_get(params, key);

	return v == NULL || (json_is_string(v) &&
	    valid_name(json_string_value(v)) &&
	    strlen(json_string_value(v)) <= 63);
}

static int
export_check(const json_t *params, char *why, size_t whysz)
{
	const char	*obj;

	obj = json_string_value(json_object_get(params, "obj"));
	if (!json_is_object(params) || !keys_known(params, "obj by") ||
	    obj == NULL || !uid_valid(obj)) {
		snprintf(why, whysz, "export needs obj (a boot config's UID) "
		    "and by");
		return -1;
	}
	return 0;
}

static int
import_check(const json_t *params, char *why, size_t whysz)
{
	const char	*staged;
	const json_t	*roles;

	staged = json_string_value(json_object_get(params, "staged"));
	roles = json_object_get(params, "roles");
	if (!json_is_object(params) || !keys_known(params, "staged by roles "
	    "rename image_rename") || staged == NULL || !uid_valid(staged) ||
	    !json_is_integer(roles) || json_integer_value(roles) < 0 ||
	    json_integer_value(roles) > ROLES_ALL ||
	    !name_ok(params, "rename") || !name_ok(params, "image_rename")) {
		snprintf(why, whysz, "import needs staged (a UID), by, roles, "
		    "and names for rename and image_rename");
		return -1;
	}
	return 0;
}

const struct jobkind job_export = { "export", 0, export_check };
const struct jobkind job_import = { "import", 0, import_check };
