/*
 * The git job kinds, as the API sees them (run_git.c runs them).  Neither
 * is generic: only the gitrepo endpoints queue them, after finding the
 * repository in the caller's scope, and the scheduler in corral-jobd.
 *
 *   gitsync  {"repo": UID, "action": status|checkout|reset|pull|rebase|
 *            delete, "branchmap": {local: remote}, "branches": [...],
 *            "all": bool, "scheduled": bool}
 *   gitread  {"repo": UID, "op": file|branches, "path": "a/b",
 *            "public": bool, "names": [...], "filter": "text"}
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"

static const char *const sync_actions[] = {
	"status", "checkout", "reset", "pull", "rebase", "delete", "init"
};

/* Whether bm is {"local": "remote", ...} of branch names. */
static int
branchmap_ok(const json_t *bm)
{
	const char	*k;
	json_t		*v;

	if (!json_is_object(bm))
		return 0;
	json_object_foreach((json_t *)(uintptr_t)bm, k, v)
		if (!valid_branch(k) || !json_is_string(v) ||
		    !valid_branch(json_string_value(v)))
			return 0;
	return 1;
}

/* Whether l is a list of branch names. */
static int
names_ok(const json_t *l)
{
	size_t	 i;

	if (!json_is_array(l))
		return 0;
	for (i = 0; i < json_array_size(l); i++)
		if (!valid_branch(json_string_value(json_array_get(l, i))))
			return 0;
	return 1;
}

static int
gitsync_check(const json_t *p, char *why, size_t whysz)
{
	const char	*a = json_string_value(json_object_get(p, "action"));
	const json_t	*v;
	size_t		 i;

	if (!uid_valid(json_string_value(json_object_get(p, "repo")))) {
		snprintf(why, whysz, "repo must be a gitrepo's UID");
		return -1;
	}
	for (i = 0; a != NULL && i < nitems(sync_actions); i++)
		if (strcmp(a, sync_actions[i]) == 0)
			break;
	if (a == NULL || i == nitems(sync_actions)) {
		snprintf(why, whysz, "action must be one of status, checkout, "
		    "reset, pull, rebase");
		return -1;
	}
	if ((v = json_object_get(p, "branchmap")) != NULL && !branchmap_ok(v)) {
		snprintf(why, whysz, "branchmap must map local branch names to "
		    "remote ones, or list branch names");
		return -1;
	}
	if ((v = json_object_get(p, "branches")) != NULL && !names_ok(v)) {
		snprintf(why, whysz, "branches must be a list of branch names");
		return -1;
	}
	return 0;
}

static int
gitread_check(const json_t *p, char *why, size_t whysz)
{
	const char	*op = json_string_value(json_object_get(p, "op"));
	const char	*path = json_string_value(json_object_get(p, "path"));

	if (!uid_valid(json_string_value(json_object_get(p, "repo")))) {
		snprintf(why, whysz, "repo must be a gitrepo's UID");
		return -1;
	}
	if (op == NULL || (strcmp(op, "file") != 0 &&
	    strcmp(op, "branches") != 0)) {
		snprintf(why, whysz, "op must be file or branches");
		return -1;
	}
	if (path != NULL && *path != '\0' && !git_path_ok(path)) {
		snprintf(why, whysz, "path must stay inside the repository");
		return -1;
	}
	return 0;
}

const struct jobkind job_gitsync = { "gitsync", 0, gitsync_check };
const struct jobkind job_gitread = { "gitread", 0, gitread_check };
