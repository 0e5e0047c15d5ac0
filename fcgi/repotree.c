/*
 * Software repositories served to nodes over plain HTTP: the tree of a
 * repo's ISO, extracted by corral-jobd with xorriso (no loop mount, no
 * root), published under [files] dir for nginx's /repo/ location:
 *
 *   <dir>/repos/<repo uid>/         the extracted tree
 *   <dir>/www/repo/<repo uid>       symlink to it: /repo/<uid>/...
 *   <dir>/www/repo/<name>           symlink, management tenant's repos
 *                                   only: /repo/<name>/... (a tenant's
 *                                   names may clash; its UIDs cannot)
 *   <dir>/trash/                    trees on their way out
 *
 * A new ISO's tree is extracted beside the old one and swapped in with
 * renames, so a node never sees half a tree.  Removing is a rename into
 * trash (instant, safe in a worker); corral-jobd empties the trash.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define REPOTREE_TIME_LIMIT_MS	(3600 * 1000LL)	/* extracting one ISO */

/*
 * Run argv (absolute path first) through tool.c and wait for it; its
 * stderr goes to errlog, whose last line a failure quotes in err.
 * posix_spawn's argv is char *const[] for history's sake: it is not
 * changed.  Returns 0, or -1 with err set.
 */
static int
repotree_run(const char *argv[], const char *what, const char *errlog,
    char *err, size_t errsz)
{
	pid_t	 pid;
	int	 rc;

	if (tool_spawn((char *const *)(uintptr_t)argv, -1, -1, errlog, &pid,
	    err, errsz) == -1)
		return -1;
	rc = tool_wait(pid, monotonic_ms() + REPOTREE_TIME_LIMIT_MS, what,
	    errlog, err, errsz);
	return rc;
}

/* Make path's parent directories as needed; 0 or -1. */
static int
repotree_dirs(const struct conf *c)
{
	static const char *const sub[] = { "repos", "www", "www/repo", "trash" };
	char	 path[PATH_MAX];
	size_t	 i;

	for (i = 0; i < nitems(sub); i++) {
		snprintf(path, sizeof(path), "%s/%s", c->files_dir, sub[i]);
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			log_err("repo: mkdir %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Move path (if it exists) into the trash; 0, or -1 (logged). */
static int
repotree_trash(const struct conf *c, const char *path)
{
	char	 dest[PATH_MAX], rnd[UID_LEN + 1];

	if (uid_new(rnd) == -1)
		return -1;
	snprintf(dest, sizeof(dest), "%s/trash/%s", c->files_dir, rnd);
	if (rename(path, dest) == -1 && errno != ENOENT) {
		log_err("repo: rename %s to %s: %s", path, dest, strerror(errno));
		return -1;
	}
	return 0;
}

/* Point <dir>/www/repo/<link> at the tree of uid, replacing any link. */
static int
repotree_link(const struct conf *c, const char *link, const char *uid)
{
	char	 path[PATH_MAX], tmp[PATH_MAX], target[PATH_MAX];

	snprintf(path, sizeof(path), "%s/www/repo/%s", c->files_dir, link);
	snprintf(tmp, sizeof(tmp), "%s/www/repo/.%s.new", c->files_dir, link);
	snprintf(target, sizeof(target), "../../repos/%s", uid);
	unlink(tmp);
	if (symlink(target, tmp) == -1 || rename(tmp, path) == -1) {
		log_err("repo: link %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * Extract the ISO at iso as the tree of repo uid and publish it as
 * /repo/<uid>/ (and /repo/<name>/ when name is not NULL).  For
 * corral-jobd.  Returns 0, or -1 with a reason in err.
 */
int
repotree_publish(const struct conf *c, const char *uid, const char *name,
    const char *iso, char *err, size_t errsz)
{
	char		 fresh[PATH_MAX], tree[PATH_MAX], errlog[PATH_MAX],
			 rnd[UID_LEN + 1];
	const char	*xorriso[] = { "/usr/bin/xorriso", "-report_about",
			    "WARNING", "-osirrox", "on", "-indev", NULL,
			    "-extract", "/", NULL, NULL };
	const char	*chmod[] = { "/bin/chmod", "-R", "u+rwX,go+rX", NULL,
			    NULL };

	if (repotree_dirs(c) == -1 || uid_new(rnd) == -1) {
		snprintf(err, errsz, "the store's repo directories cannot be made");
		return -1;
	}
	snprintf(fresh, sizeof(fresh), "%s/repos/.new-%s", c->files_dir, rnd);
	snprintf(errlog, sizeof(errlog), "%s/repos/.new-%s.err", c->files_dir,
	    rnd);
	snprintf(tree, sizeof(tree), "%s/repos/%s", c->files_dir, uid);
	xorriso[6] = iso;
	xorriso[9] = fresh;
	/* ISO trees are read-only; ours must be removable and readable. */
	chmod[3] = fresh;
	if (repotree_run(xorriso, "xorriso", errlog, err, errsz) == -1 ||
	    repotree_run(chmod, "chmod", errlog, err, errsz) == -1)
		goto fail;
	unlink(errlog);
	if (repotree_trash(c, tree) == -1 || rename(fresh, tree) == -1) {
		snprintf(err, errsz, "the extracted tree cannot be put in place");
		goto fail;
	}
	if (repotree_link(c, uid, uid) == -1 ||
	    (name != NULL && repotree_link(c, name, uid) == -1)) {
		snprintf(err, errsz, "the tree cannot be published");
		return -1;
	}
	return 0;
fail:
	unlink(errlog);
	repotree_trash(c, fresh);
	return -1;
}

/*
 * Stop serving repo uid's tree (its ISO went, or the repo): remove its
 * links (name may be NULL) and move the tree to the trash.  Cheap enough
 * for a worker; does nothing for an object without a tree.
 */
void
repotree_unpublish(const struct conf *c, const char *uid, const char *name)
{
	char	 path[PATH_MAX], target[PATH_MAX], want[PATH_MAX];
	ssize_t	 n;

	snprintf(path, sizeof(path), "%s/repos/%s", c->files_dir, uid);
	if (access(path, F_OK) == -1)
		return;
	snprintf(path, sizeof(path), "%s/www/repo/%s", c->files_dir, uid);
	unlink(path);
	if (name != NULL) {
		/* The name's link only if it is still this repo's. */
		snprintf(path, sizeof(path), "%s/www/repo/%s", c->files_dir, name);
		snprintf(want, sizeof(want), "../../repos/%s", uid);
		if ((n = readlink(path, target, sizeof(target) - 1)) > 0) {
			target[n] = '\0';
			if (strcmp(target, want) == 0)
				unlink(path);
		}
	}
	snprintf(path, sizeof(path), "%s/repos/%s", c->files_dir, uid);
	repotree_trash(c, path);
}

/*
 * Empty the trash (corral-jobd, now and then): rm -rf of each entry in a
 * child of its own, so a large tree does not stop jobd's loop; jobd
 * reaps them with its runners.  Returns at once.
 */
void
repotree_empty_trash(const struct conf *c)
{
	char		 dir[PATH_MAX], path[PATH_MAX], err[256];
	const char	*rm[] = { "/bin/rm", "-rf", "--", NULL, NULL };
	DIR		*d;
	struct dirent	*de;
	pid_t		 pid;

	snprintf(dir, sizeof(dir), "%s/trash", c->files_dir);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || (size_t)snprintf(path, sizeof(path),
		    "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		rm[3] = path;
		if (tool_spawn((char *const *)(uintptr_t)rm, -1, -1, NULL, &pid,
		    err, sizeof(err)) == -1)
			log_warn("repo: %s", err);
	}
	closedir(d);
}
