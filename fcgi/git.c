/*
 * corral-jobd: the hosted git repositories on this head's disk.  The only
 * file that runs git(1) (Debian's git, spawned with an argv, never a
 * shell); corral-api never does: a worker must not wait on a process, so
 * everything that touches a repository is a job (run_git.c).
 *
 * Nothing of the user's or the system's git setup takes part
 * (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null), git never prompts
 * (GIT_TERMINAL_PROMPT=0, ssh in batch mode), and only the ordinary
 * transports are allowed for remotes: file, git, http(s), ssh.  "ext::"
 * (which runs a command) and the rest are refused by protocol.allow.
 *
 * Every command runs with a time limit ([git] timeout) in a process group
 * of its own, killed whole when the limit is reached, with its output
 * bounded: a repository is data from a remote, not to be trusted.
 */
/*
 * _GNU_SOURCE for posix_spawn_file_actions_addclosefrom_np: descriptors
 * jobd holds without FD_CLOEXEC (a database socket) must not leak into git.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "extern.h"

#define GIT_BIN		"/usr/bin/git"
#define GIT_ARGS_MAX	48
#define GIT_ERR_MAX	4096	/* bytes of stderr kept for the reason */
#define GIT_LIST_MAX	(4 << 20)	/* bytes of a listing (refs, a tree) */

/* What one git command did. */
struct gitrun {
	char	*out;		/* its stdout, NUL-terminated (malloc'd) */
	size_t	 len;
	int	 status;	/* exit status, or -1 when killed */
	int	 truncated;	/* stdout went past the cap */
	char	 err[GIT_ERR_MAX];	/* its stderr, cleaned to one line */
};

static void
gitrun_free(struct gitrun *g)
{
	free(g->out);
	memset(g, 0, sizeof(*g));
}

/* stderr as one printable line: git's messages run over several. */
static void
err_clean(char *s)
{
	char	*p;

	for (p = s; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
		else if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	while (p > s && p[-1] == ' ')
		*--p = '\0';
	utf8_clean(s);
}

/*
 * Run git with args (NULL-terminated, after the fixed options) in repo
 * (NULL: none), keeping at most max bytes of stdout.  Returns 0 when git
 * ran to its end (whatever its status), -1 with err set when it could not
 * be started or was killed by the time limit.
 */
static int
git_exec(const struct conf *conf, const char *repo, const char *const *args,
    size_t max, struct gitrun *g, char *err, size_t errsz)
{
	static const char *const fixed[] = {
		GIT_BIN, "-c", "protocol.allow=never",
		"-c", "protocol.file.allow=always",
		"-c", "protocol.git.allow=always",
		"-c", "protocol.http.allow=always",
		"-c", "protocol.https.allow=always",
		"-c", "protocol.ssh.allow=always",
		"-c", "core.hooksPath=/dev/null",
		"-c", "user.name=corral", "-c", "user.email=corral@localhost",
	};
	static const char *const envp[] = {
		"PATH=/usr/bin:/bin", "LC_ALL=C", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=/bin/false", "SSH_ASKPASS=/bin/false",
		"GIT_SSH_COMMAND=ssh -o BatchMode=yes -F /dev/null",
		"HOME=/nonexistent", NULL
	};
	const char			*argv[GIT_ARGS_MAX];
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 sa;
	struct pollfd			 pfd[2];
	char				 buf[8192];
	size_t				 n = 0, elen = 0, cap = 0, i;
	ssize_t				 got;
	long long			 deadline;
	pid_t				 pid = -1;
	int				 outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int				 status, rc = -1, open_fds, left;

	memset(g, 0, sizeof(*g));
	for (i = 0; i < nitems(fixed); i++)
		argv[n++] = fixed[i];
	if (repo != NULL) {
		argv[n++] = "-C";
		argv[n++] = repo;
	}
	for (i = 0; args[i] != NULL && n < GIT_ARGS_MAX - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (args[i] != NULL) {
		snprintf(err, errsz, "git: too many arguments");
		return -1;
	}
	if (pipe2(outp, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1) {
		snprintf(err, errsz, "git: pipe: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&sa);
	/* Its own group: the time limit kills git and what it started. */
	posix_spawnattr_setpgroup(&sa, 0);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP);
	/* posix_spawn's prototype predates const; it changes neither. */
	errno = posix_spawn(&pid, GIT_BIN, &fa, &sa,
	    (char *const *)(uintptr_t)argv, (char *const *)(uintptr_t)envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	if (errno != 0) {
		snprintf(err, errsz, "git cannot be started: %s", strerror(errno));
		pid = -1;
		goto out;
	}
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	g->out = xmalloc(cap = 4096);
	deadline = monotonic_ms() + (long long)conf->git_timeout * 1000;
	open_fds = 2;
	while (open_fds > 0) {
		left = (int)(deadline - monotonic_ms());
		if (left <= 0)
			break;
		pfd[0].fd = outp[0];
		pfd[1].fd = errp[0];
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, left) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].fd != -1 && pfd[0].revents != 0) {
			got = read(outp[0], buf, sizeof(buf));
			if (got <= 0) {
				close(outp[0]);
				outp[0] = -1;
				open_fds--;
			} else if (g->len + (size_t)got > max) {
				g->truncated = 1;
				break;
			} else {
				while (g->len + (size_t)got + 1 > cap)
					g->out = xrealloc(g->out, cap *= 2);
				memcpy(g->out + g->len, buf, (size_t)got);
				g->len += (size_t)got;
			}
		}
		if (pfd[1].fd != -1 && pfd[1].revents != 0) {
			got = read(errp[0], buf, sizeof(buf));
			if (got <= 0) {
				close(errp[0]);
				errp[0] = -1;
				open_fds--;
			} else if (elen < sizeof(g->err) - 1) {
				if ((size_t)got > sizeof(g->err) - 1 - elen)
					got = (ssize_t)(sizeof(g->err) - 1 - elen);
				memcpy(g->err + elen, buf, (size_t)got);
				elen += (size_t)got;
			}
		}
	}
	g->out[g->len] = '\0';
	g->err[elen] = '\0';
	err_clean(g->err);
	if (open_fds > 0) {
		/* The limit, or output past the cap: stop it whole. */
		(void)kill(-pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		pid = -1;
		if (g->truncated) {
			g->status = -1;
			rc = 0;
		} else
			snprintf(err, errsz, "git %s: no end within %d s",
			    args[0], conf->git_timeout);
		goto out;
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	pid = -1;
	g->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	rc = 0;
out:
	if (pid != -1) {
		(void)kill(-pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
	}
	for (i = 0; i < 2; i++) {
		if (outp[i] != -1)
			close(outp[i]);
		if (errp[i] != -1)
			close(errp[i]);
	}
	if (rc == -1)
		gitrun_free(g);
	return rc;
}

/*
 * Run git and insist it succeeds: 0, or -1 with git's own message (or
 * what stopped it) in err.  The output stays in g for the caller.
 */
static int
git_ok(const struct conf *conf, const char *repo, const char *const *args,
    size_t max, struct gitrun *g, char *err, size_t errsz)
{
	if (git_exec(conf, repo, args, max, g, err, errsz) == -1)
		return -1;
	if (g->status == 0 && !g->truncated)
		return 0;
	if (g->truncated)
		snprintf(err, errsz, "git %s: output larger than %zu bytes",
		    args[0], max);
	else
		snprintf(err, errsz, "git %s: %s", args[0], g->err[0] != '\0' ?
		    g->err : "failed");
	gitrun_free(g);
	return -1;
}

/* Run git for its effect only. */
static int
git_do(const struct conf *conf, const char *repo, const char *const *args,
    char *err, size_t errsz)
{
	struct gitrun	 g;

	if (git_ok(conf, repo, args, GIT_LIST_MAX, &g, err, errsz) == -1)
		return -1;
	gitrun_free(&g);
	return 0;
}

/* mkdir path unless it exists, as a directory. */
static int
dir_ensure(const char *path, char *err, size_t errsz)
{
	struct stat	 st;

	if (mkdir(path, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (lstat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errsz, "%s is not a directory", path);
		return -1;
	}
	return 0;
}

/*
 * Make the bare repository at repo unless it exists ([git] dir and the
 * tenant's directory too).  Its default branch is main until a sync says
 * otherwise.  0, or -1 with err.
 */
int
git_init(const struct conf *conf, const char *repo, char *err, size_t errsz)
{
	const char *const	 args[] = { "init", "-q", "--bare",
				    "--initial-branch=main", repo, NULL };
	const char *const	 cfg[] = { "config", "http.receivepack",
				    "true", NULL };
	char			 parent[1024], *slash;
	struct stat		 st;

	if (stat(repo, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (dir_ensure(conf->git_dir, err, errsz) == -1)
		return -1;
	snprintf(parent, sizeof(parent), "%s", repo);
	if ((slash = strrchr(parent, '/')) != NULL) {
		*slash = '\0';
		if (dir_ensure(parent, err, errsz) == -1)
			return -1;
	}
	if (git_do(conf, NULL, args, err, errsz) == -1)
		return -1;
	/*
	 * Pushes come only through nginx, which lets them through for
	 * configadmins alone and then names the admin (REMOTE_USER).
	 */
	return git_do(conf, repo, cfg, err, errsz);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == -1 &&
	    errno != ENOENT ? -1 : 0;
}

/* Remove the repository at repo and everything in it.  0 or -1. */
int
git_remove(const char *repo, char *err, size_t errsz)
{
	struct stat	 st;

	if (lstat(repo, &st) == -1)
		return 0;
	if (nftw(repo, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == -1) {
		snprintf(err, errsz, "%s: %s", repo, strerror(errno));
		return -1;
	}
	return 0;
}

/* Whether git, run with args in repo, exits 0 (a yes-or-no question). */
static int
git_succeeds(const struct conf *conf, const char *repo,
    const char *const args[])
{
	struct gitrun		 g;
	char			 err[64];
	int			 status;

	if (git_exec(conf, repo, args, 256, &g, err, sizeof(err)) == -1)
		return 0;
	status = g.status;
	gitrun_free(&g);
	return status == 0;
}

/* Whether rev names a commit in repo. */
static int
git_has(const struct conf *conf, const char *repo, const char *rev)
{
	const char *const	 args[] = { "rev-parse", "-q", "--verify",
				    rev, NULL };

	return git_succeeds(conf, repo, args);
}

/*
 * The branches of repo: {"<name>": {"commit", "subject", "date"}} into
 * *out (new reference), and the default branch (HEAD's) into def.
 */
int
git_branches(const struct conf *conf, const char *repo, json_t **out,
    char *def, size_t defsz, char *err, size_t errsz)
{
	const char *const	 refs[] = { "for-each-ref",
	    "--format=%(refname:lstrip=2)%00%(objectname)%00"
	    "%(committerdate:unix)%00%(contents:subject)", "refs/heads/", NULL };
	const char *const	 head[] = { "symbolic-ref", "-q", "--short",
				    "HEAD", NULL };
	struct gitrun		 g;
	char			*line, *next, *end, *f[4];
	size_t			 i;

	*out = NULL;
	if (git_ok(conf, repo, refs, GIT_LIST_MAX, &g, err, errsz) == -1)
		return -1;
	*out = json_object();
	end = g.out + g.len;
	for (line = g.out; line < end; line = next) {
		/* git's %00 is a NUL byte in the line: lines end by length. */
		if ((next = memchr(line, '\n', (size_t)(end - line))) == NULL)
			next = end;
		*next++ = '\0';
		f[0] = line;
		for (i = 1; i < 4; i++)
			f[i] = f[i - 1] + strlen(f[i - 1]) + 1;
		if (f[3] >= next)
			continue;
		utf8_clean(f[3]);
		json_object_set_new(*out, f[0], json_pack("{s:s, s:I, s:s}",
		    "commit", f[1], "date", (json_int_t)strtoll(f[2], NULL, 10),
		    "subject", f[3]));
	}
	gitrun_free(&g);
	def[0] = '\0';
	if (git_exec(conf, repo, head, 1024, &g, err, errsz) == 0) {
		if (g.status == 0) {
			g.out[strcspn(g.out, "\n")] = '\0';
			snprintf(def, defsz, "%s", g.out);
		}
		gitrun_free(&g);
	}
	return 0;
}

/*
 * What the default branch holds at path ("" for the top): a file's bytes
 * (*kind 'b') or a tree's names, one a line, directories with a trailing
 * '/' (*kind 't'), into *data (malloc'd, NUL-terminated, *len bytes).
 * Returns 0; 1 when there is no such path (or no commit yet); 2 when the
 * file is larger than [git] max_file; -1 with err on failure.
 */
int
git_read(const struct conf *conf, const char *repo, const char *path,
    int *kind, char **data, size_t *len, char *err, size_t errsz)
{
	const char	*args[5];
	struct gitrun	 g;
	char		*spec = NULL, *line, *next, *name, *o;
	int		 rc = -1;

	*data = NULL;
	*len = 0;
	if (!git_has(conf, repo, "HEAD^{commit}"))
		return 1;
	xasprintf(&spec, "HEAD:%s", path);
	args[0] = "cat-file";
	args[1] = "-t";
	args[2] = spec;
	args[3] = NULL;
	if (git_exec(conf, repo, args, 64, &g, err, errsz) == -1)
		goto out;
	if (g.status != 0) {
		gitrun_free(&g);
		rc = 1;
		goto out;
	}
	*kind = strncmp(g.out, "tree", 4) == 0 ? 't' :
	    strncmp(g.out, "blob", 4) == 0 ? 'b' : 0;
	gitrun_free(&g);
	if (*kind == 0) {
		rc = 1;		/* a submodule's commit: nothing here */
		goto out;
	}
	if (*kind == 'b') {
		args[1] = "blob";
		if (git_exec(conf, repo, args, conf->git_max_file, &g, err,
		    errsz) == -1)
			goto out;
		if (g.truncated) {
			gitrun_free(&g);
			rc = 2;
			goto out;
		}
		if (g.status != 0) {
			snprintf(err, errsz, "git cat-file: %s", g.err);
			gitrun_free(&g);
			goto out;
		}
		*data = g.out;
		*len = g.len;
		rc = 0;
		goto out;
	}
	args[0] = "ls-tree";
	args[1] = "-z";
	args[2] = spec;
	args[3] = NULL;
	if (git_ok(conf, repo, args, GIT_LIST_MAX, &g, err, errsz) == -1)
		goto out;
	/* "<mode> <type> <object>\t<name>\0" each; the name as is. */
	*data = o = xmalloc(g.len + 1);
	for (line = g.out; line < g.out + g.len; line = next) {
		next = line + strlen(line) + 1;
		if ((name = strchr(line, '\t')) == NULL)
			continue;
		name++;
		o += sprintf(o, "%s%s\n", name, strstr(line, " tree ") != NULL &&
		    strstr(line, " tree ") < name ? "/" : "");
	}
	*len = (size_t)(o - *data);
	gitrun_free(&g);
	rc = 0;
out:
	free(spec);
	return rc;
}

/*
 * The branches url has: {"<branch>": "<commit>"} into *out (new
 * reference), and its default branch into def ("" if it does not say).
 */
int
git_remote_heads(const struct conf *conf, const char *repo, const char *url,
    json_t **out, char *def, size_t defsz, char *err, size_t errsz)
{
	const char *const	 args[] = { "ls-remote", "--symref", url,
				    "HEAD", "refs/heads/*", NULL };
	struct gitrun		 g;
	char			*line, *next, *tab;

	*out = NULL;
	def[0] = '\0';
	if (git_ok(conf, repo, args, GIT_LIST_MAX, &g, err, errsz) == -1)
		return -1;
	*out = json_object();
	for (line = g.out; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab++ = '\0';
		if (strncmp(line, "ref: refs/heads/", 16) == 0 &&
		    strcmp(tab, "HEAD") == 0)
			snprintf(def, defsz, "%s", line + 16);
		else if (strncmp(tab, "refs/heads/", 11) == 0 &&
		    valid_branch(tab + 11))
			json_object_set_new(*out, tab + 11, json_string(line));
	}
	gitrun_free(&g);
	return 0;
}

/*
 * Fetch url's branch remote into ref (a full ref name: refs/heads/x, or
 * corral's own refs/corral/remote/x), fast-forward only unless force.
 */
int
git_fetch(const struct conf *conf, const char *repo, const char *url,
    const char *remote, const char *ref, int force, char *err, size_t errsz)
{
	const char	*args[8];
	char		*spec = NULL;
	int		 rc;

	xasprintf(&spec, "%srefs/heads/%s:%s", force ? "+" : "", remote, ref);
	args[0] = "fetch";
	args[1] = "-q";
	args[2] = "--no-tags";
	args[3] = "--update-head-ok";
	args[4] = "--";
	args[5] = url;
	args[6] = spec;
	args[7] = NULL;
	rc = git_do(conf, repo, args, err, errsz);
	free(spec);
	return rc;
}

/* The commit ref names in repo into sha (41 bytes), or "" if none. */
int
git_rev(const struct conf *conf, const char *repo, const char *ref,
    char sha[SHA1_HEX + 1])
{
	const char *const	 args[] = { "rev-parse", "-q", "--verify",
				    ref, NULL };
	struct gitrun		 g;
	char			 err[64];

	sha[0] = '\0';
	if (git_exec(conf, repo, args, 256, &g, err, sizeof(err)) == -1)
		return -1;
	if (g.status == 0 && g.len >= SHA1_HEX)
		snprintf(sha, SHA1_HEX + 1, "%s", g.out);
	gitrun_free(&g);
	return 0;
}

/* Whether commit a is an ancestor of commit b (or the same). */
int
git_is_ancestor(const struct conf *conf, const char *repo, const char *a,
    const char *b)
{
	const char *const	 args[] = { "merge-base", "--is-ancestor",
				    a, b, NULL };

	return git_succeeds(conf, repo, args);
}

/* Point ref at sha, if it still is at old ("" : whatever it is). */
int
git_update_ref(const struct conf *conf, const char *repo, const char *ref,
    const char *sha, const char *old, char *err, size_t errsz)
{
	const char	*args[] = { "update-ref", "-m", "corral sync", ref, sha,
			    old != NULL && *old != '\0' ? old : NULL, NULL };

	return git_do(conf, repo, args, err, errsz);
}

/* Delete branch (refs/heads/<branch>), or corral's ref. */
int
git_delete_ref(const struct conf *conf, const char *repo, const char *ref,
    char *err, size_t errsz)
{
	const char *const	 args[] = { "update-ref", "-d", ref, NULL };

	return git_do(conf, repo, args, err, errsz);
}

/* Make branch the default (HEAD), as a clone checks it out. */
int
git_set_default(const struct conf *conf, const char *repo, const char *branch,
    char *err, size_t errsz)
{
	const char	*args[] = { "symbolic-ref", "HEAD", NULL, NULL };
	char		*ref = NULL;
	int		 rc;

	xasprintf(&ref, "refs/heads/%s", branch);
	args[2] = ref;
	rc = git_do(conf, repo, args, err, errsz);
	free(ref);
	return rc;
}

/*
 * Rebase branch's own commits onto onto (a commit), in a worktree made
 * for it under the repository and removed after; the branch moves only
 * if the rebase went through without conflicts.  0, or -1 with err.
 */
int
git_rebase(const struct conf *conf, const char *repo, const char *branch,
    const char *onto, char *err, size_t errsz)
{
	const char	*add[] = { "worktree", "add", "-q", "--detach", NULL,
			    NULL, NULL };
	const char	*rb[] = { "rebase", "-q", onto, NULL };
	const char *const abort_rb[] = { "rebase", "--abort", NULL };
	const char	*rm[] = { "worktree", "remove", "--force", NULL, NULL };
	const char *const prune[] = { "worktree", "prune", NULL };
	char		*wt = NULL, *ref = NULL, old[SHA1_HEX + 1];
	char		 sha[SHA1_HEX + 1], why[64];
	int		 rc = -1;

	xasprintf(&ref, "refs/heads/%s", branch);
	if (git_rev(conf, repo, ref, old) == -1 || old[0] == '\0') {
		snprintf(err, errsz, "no branch %s", branch);
		goto out;
	}
	xasprintf(&wt, "%s/corral-rebase", repo);
	(void)git_remove(wt, why, sizeof(why));
	(void)git_do(conf, repo, prune, why, sizeof(why));
	add[4] = wt;
	add[5] = old;
	if (git_do(conf, repo, add, err, errsz) == -1)
		goto out;
	if (git_do(conf, wt, rb, err, errsz) == -1) {
		(void)git_do(conf, wt, abort_rb, why, sizeof(why));
		goto gone;
	}
	if (git_rev(conf, wt, "HEAD", sha) == -1 || sha[0] == '\0') {
		snprintf(err, errsz, "rebase left no commit");
		goto gone;
	}
	rc = git_update_ref(conf, repo, ref, sha, old, err, errsz);
gone:
	rm[3] = wt;
	(void)git_do(conf, repo, rm, why, sizeof(why));
	(void)git_remove(wt, why, sizeof(why));
	(void)git_do(conf, repo, prune, why, sizeof(why));
out:
	free(wt);
	free(ref);
	return rc;
}

/* Let clients of the dumb protocol see the refs too (cheap; best effort). */
void
git_server_info(const struct conf *conf, const char *repo)
{
	const char *const	 args[] = { "update-server-info", NULL };
	char			 why[64];

	(void)git_do(conf, repo, args, why, sizeof(why));
}
