/*
 * Running the git jobs (parameters checked by job_git.c) on this head's
 * copy of a repository, and the scheduler that queues the syncs that
 * sync_period asks for.  git itself is git.c's.
 *
 * Every job first makes the bare repository if this head has none yet,
 * so a repository comes into existence on a head with the first job that
 * touches it there: the scheduler queues an "init" sync for each gitrepo
 * the first time it sees it on this head, and any read, sync or push
 * setup after that finds it.  A rename changes nothing on disk (the path
 * is the UID's).  A deleted gitrepo's directory is removed by the
 * scheduler once the database confirms the UID is gone.
 *
 * gitsync actions, against the gitrepo's url or upstream (either is the
 * remote; corral fetches from it and never pushes to it), over the
 * branches of the call's branchmap, else the gitrepo's branch_map
 * ({"local": "remote"}), else every branch the remote has:
 *   status    fetch, then tell each branch: same, behind, ahead,
 *             diverged, local only, remote only
 *   checkout  create the local branches the remote has and this one
 *             lacks; existing ones are left as they are
 *   pull      fast-forward every branch to the remote's; a branch that
 *             has its own commits is refused (use rebase or reset)
 *   reset     make every branch exactly the remote's (local commits go)
 *   rebase    like pull, but a branch with its own commits has them
 *             replayed onto the remote's (refused on a conflict)
 *   delete    (DELETE /gitrepo/<ID>/branches) delete the named branches
 *   init      (the scheduler) just make the repository
 * The default branch (HEAD) follows the remote's default when the local
 * one does not resolve (a new repository's "main" on a remote of
 * "master").
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "extern.h"

/* A git job's working state, between prepare, run and record. */
struct gitjob {
	char		 path[1024];	/* the repository on this disk */
	char		 uid[UID_LEN + 1];
	char		*name;
	char		*remote;	/* url or upstream, or NULL */
	json_t		*branch_map;	/* the gitrepo's, or NULL */
	json_t		*last;		/* status: the last sync, or NULL */
};

/* Load the gitrepo the job is for.  0, or -1 with err. */
static int
gitjob_prepare(struct jobrun *jr, char *err, size_t errsz)
{
	struct gitjob	*gj;
	struct objrow	 o;
	const char	*uid = json_string_value(json_object_get(jr->params,
			    "repo"));
	char		*state = NULL, *error = NULL;
	double		 queued = 0, synced = 0;
	const json_t	*v;

	gj = jr->priv = xcalloc(1, sizeof(*gj));
	if (uid == NULL || obj_find(&jr->ctx, &gitrepo_class, uid, 0, &o) !=
	    API_OK || o.tenant_id != jr->tenant) {
		snprintf(err, errsz, "the gitrepo no longer exists");
		return -1;
	}
	snprintf(gj->uid, sizeof(gj->uid), "%s", o.uid);
	git_repo_path(jr->conf, o.tenant_id, o.uid, gj->path, sizeof(gj->path));
	gj->name = xstrdup(o.name);
	if ((v = json_object_get(o.doc, "upstream")) != NULL ||
	    (v = json_object_get(o.doc, "url")) != NULL)
		gj->remote = xstrdup(json_string_value(v));
	if ((v = json_object_get(o.doc, "branch_map")) != NULL &&
	    json_object_size(v) > 0)
		gj->branch_map = json_incref((json_t *)(uintptr_t)v);
	objrow_free(&o);
	if (db_run(jr->ctx.db, SQL_GITSYNC_GET, "ss", gj->uid,
	    jr->conf->head_name) == DB_OK && db_next(jr->ctx.db,
	    SQL_GITSYNC_GET, "ddss", &queued, &synced, &state, &error) == DB_OK)
		gj->last = json_pack("{s:f, s:f, s:s?, s:s?}", "queued_at",
		    queued, "synced_at", synced, "state", state, "error", error);
	db_done(jr->ctx.db, SQL_GITSYNC_GET);
	free(state);
	free(error);
	return 0;
}

static void
gitjob_cleanup(struct jobrun *jr)
{
	struct gitjob	*gj = jr->priv;

	if (gj == NULL)
		return;
	free(gj->name);
	free(gj->remote);
	json_decref(gj->branch_map);
	json_decref(gj->last);
	free(gj);
	jr->priv = NULL;
}

/*
 * Point HEAD at a branch that exists when it names none: the remote's
 * default, else main, master or the first there is.
 */
static void
head_fix(struct jobrun *jr, const char *path, const char *remote_default)
{
	const char *const	 tries[] = { remote_default, "main", "master" };
	char			 sha[SHA1_HEX + 1], ref[256], def[256], why[128];
	json_t			*b = NULL;
	const char		*k;
	json_t			*v;
	size_t			 i;

	if (git_rev(jr->conf, path, "HEAD", sha) == 0 && sha[0] != '\0')
		return;
	for (i = 0; i < nitems(tries); i++) {
		if (tries[i] == NULL || *tries[i] == '\0')
			continue;
		snprintf(ref, sizeof(ref), "refs/heads/%s", tries[i]);
		if (git_rev(jr->conf, path, ref, sha) == 0 && sha[0] != '\0') {
			(void)git_set_default(jr->conf, path, tries[i], why,
			    sizeof(why));
			return;
		}
	}
	if (git_branches(jr->conf, path, &b, def, sizeof(def), why,
	    sizeof(why)) == 0)
		json_object_foreach(b, k, v) {
			(void)git_set_default(jr->conf, path, k, why, sizeof(why));
			break;
		}
	json_decref(b);
}

/* What one branch's sync did, as its entry of the result. */
static json_t *
branch_entry(const char *before, const char *after, const char *what)
{
	return json_pack("{s:s?, s:s?, s:s}", "before", *before != '\0' ?
	    before : NULL, "after", *after != '\0' ? after : NULL, "result",
	    what);
}

/*
 * Sync one branch: local from the remote's branch rbranch (at rsha).
 * Returns 0 with *what set, or -1 with err.
 */
static int
sync_branch(struct jobrun *jr, struct gitjob *gj, const char *action,
    const char *local, const char *rbranch, const char *rsha,
    const char **what, char *err, size_t errsz)
{
	char	 ref[256], track[256], sha[SHA1_HEX + 1];

	snprintf(ref, sizeof(ref), "refs/heads/%s", local);
	snprintf(track, sizeof(track), "refs/corral/remote/%s", local);
	(void)git_rev(jr->conf, gj->path, ref, sha);
	if (strcmp(action, "checkout") == 0 && sha[0] != '\0') {
		*what = "unchanged (exists)";
		return 0;
	}
	if (sha[0] != '\0' && strcmp(sha, rsha) == 0) {
		*what = "unchanged";
		return 0;
	}
	if (strcmp(action, "reset") == 0 || strcmp(action, "checkout") == 0 ||
	    sha[0] == '\0') {
		if (git_fetch(jr->conf, gj->path, gj->remote, rbranch, ref, 1,
		    err, errsz) == -1)
			return -1;
		*what = sha[0] == '\0' ? "created" : "reset";
		return 0;
	}
	/* pull, rebase: the remote's commits in first, under corral's ref. */
	if (git_fetch(jr->conf, gj->path, gj->remote, rbranch, track, 1, err,
	    errsz) == -1)
		return -1;
	if (git_is_ancestor(jr->conf, gj->path, sha, rsha)) {
		if (git_update_ref(jr->conf, gj->path, ref, rsha, sha, err,
		    errsz) == -1)
			return -1;
		*what = "fast-forward";
		return 0;
	}
	if (git_is_ancestor(jr->conf, gj->path, rsha, sha)) {
		*what = "unchanged (ahead of the remote)";
		return 0;
	}
	if (strcmp(action, "pull") == 0) {
		snprintf(err, errsz, "branch %s has commits the remote lacks; "
		    "not a fast-forward (use rebase or reset)", local);
		return -1;
	}
	if (git_rebase(jr->conf, gj->path, local, rsha, err, errsz) == -1)
		return -1;
	*what = "rebased";
	return 0;
}

/* The branches to sync: {"local": "remote"} (new reference). */
static json_t *
sync_map(struct jobrun *jr, struct gitjob *gj, const json_t *remote)
{
	const json_t	*m = json_object_get(jr->params, "branchmap");
	const char	*k;
	json_t		*v, *all;

	if (m != NULL && json_object_size(m) > 0)
		return json_incref((json_t *)(uintptr_t)m);
	if (gj->branch_map != NULL)
		return json_incref(gj->branch_map);
	all = json_object();
	json_object_foreach((json_t *)(uintptr_t)remote, k, v)
		json_object_set_new(all, k, json_string(k));
	return all;
}

/* status: each mapped branch compared, after fetching the remote's. */
static json_t *
sync_status(struct jobrun *jr, struct gitjob *gj, const json_t *map,
    const json_t *remote, char *err, size_t errsz)
{
	const char	*local, *rsha;
	char		 ref[256], track[256], sha[SHA1_HEX + 1];
	const char	*state;
	json_t		*out, *v;

	out = json_object();
	json_object_foreach((json_t *)(uintptr_t)map, local, v) {
		rsha = json_string_value(json_object_get(remote,
		    json_string_value(v)));
		snprintf(ref, sizeof(ref), "refs/heads/%s", local);
		snprintf(track, sizeof(track), "refs/corral/remote/%s", local);
		(void)git_rev(jr->conf, gj->path, ref, sha);
		if (rsha != NULL && sha[0] != '\0' && strcmp(sha, rsha) != 0 &&
		    git_fetch(jr->conf, gj->path, gj->remote,
		    json_string_value(v), track, 1, err, errsz) == -1) {
			json_decref(out);
			return NULL;
		}
		if (rsha == NULL && sha[0] == '\0')
			state = "missing";
		else if (rsha == NULL)
			state = "local only";
		else if (sha[0] == '\0')
			state = "remote only";
		else if (strcmp(sha, rsha) == 0)
			state = "same";
		else if (git_is_ancestor(jr->conf, gj->path, sha, rsha))
			state = "behind";
		else if (git_is_ancestor(jr->conf, gj->path, rsha, sha))
			state = "ahead";
		else
			state = "diverged";
		json_object_set_new(out, local, json_pack("{s:s?, s:s?, s:s, "
		    "s:s}", "local", sha[0] != '\0' ? sha : NULL, "remote", rsha,
		    "remote_branch", json_string_value(v), "state", state));
	}
	return out;
}

/* delete: the named branches (all checked first), or every branch. */
static json_t *
sync_delete(struct jobrun *jr, struct gitjob *gj, char *err, size_t errsz)
{
	const json_t	*names = json_object_get(jr->params, "branches");
	const char	*k;
	char		 ref[256], def[256];
	json_t		*have, *del, *v;
	size_t		 i;

	if (git_branches(jr->conf, gj->path, &have, def, sizeof(def), err,
	    errsz) == -1)
		return NULL;
	del = json_array();
	if (json_is_true(json_object_get(jr->params, "all")))
		json_object_foreach(have, k, v)
			json_array_append_new(del, json_string(k));
	for (i = 0; i < json_array_size(names); i++) {
		k = json_string_value(json_array_get(names, i));
		if (json_object_get(have, k) == NULL) {
			/* The client named it: a 404, not a failure of git. */
			snprintf(err, errsz, "no branch %s in %s", k, gj->name);
			jr->fail_status = 404;
			goto fail;
		}
		if (!json_list_has(del, k))
			json_array_append_new(del, json_string(k));
	}
	for (i = 0; i < json_array_size(del); i++) {
		snprintf(ref, sizeof(ref), "refs/heads/%s",
		    json_string_value(json_array_get(del, i)));
		if (git_delete_ref(jr->conf, gj->path, ref, err, errsz) == -1)
			goto fail;
	}
	json_decref(have);
	head_fix(jr, gj->path, NULL);
	git_server_info(jr->conf, gj->path);
	return json_pack("{s:o}", "deleted", del);
fail:
	json_decref(have);
	json_decref(del);
	return NULL;
}

static json_t *
gitsync_run(struct jobrun *jr, char *err, size_t errsz)
{
	struct gitjob	*gj = jr->priv;
	const char	*action = json_string_value(json_object_get(jr->params,
			    "action"));
	const char	*local, *what = NULL, *rsha;
	char		 rdef[256], before[SHA1_HEX + 1], after[SHA1_HEX + 1];
	char		 ref[256];
	json_t		*remote = NULL, *map = NULL, *res = NULL, *out, *v;

	if (git_init(jr->conf, gj->path, err, errsz) == -1)
		return NULL;
	if (strcmp(action, "init") == 0)
		return json_pack("{s:s}", "repo", gj->name);
	if (strcmp(action, "delete") == 0)
		return sync_delete(jr, gj, err, errsz);
	if (gj->remote == NULL) {
		snprintf(err, errsz, "%s has no url or upstream", gj->name);
		return NULL;
	}
	if (git_remote_heads(jr->conf, gj->path, gj->remote, &remote, rdef,
	    sizeof(rdef), err, errsz) == -1)
		return NULL;
	map = sync_map(jr, gj, remote);
	if (strcmp(action, "status") == 0) {
		if ((out = sync_status(jr, gj, map, remote, err, errsz)) != NULL)
			res = json_pack("{s:s, s:o, s:O?}", "action", action,
			    "branches", out, "last_sync", gj->last);
		goto done;
	}
	out = json_object();
	json_object_foreach(map, local, v) {
		rsha = json_string_value(json_object_get(remote,
		    json_string_value(v)));
		snprintf(ref, sizeof(ref), "refs/heads/%s", local);
		(void)git_rev(jr->conf, gj->path, ref, before);
		if (rsha == NULL) {
			snprintf(err, errsz, "the remote has no branch %s",
			    json_string_value(v));
			json_decref(out);
			goto done;
		}
		if (sync_branch(jr, gj, action, local, json_string_value(v),
		    rsha, &what, err, errsz) == -1) {
			json_decref(out);
			goto done;
		}
		(void)git_rev(jr->conf, gj->path, ref, after);
		json_object_set_new(out, local, branch_entry(before, after, what));
	}
	head_fix(jr, gj->path, rdef);
	git_server_info(jr->conf, gj->path);
	res = json_pack("{s:s, s:o}", "action", action, "branches", out);
done:
	json_decref(remote);
	json_decref(map);
	return res;
}

/* How the sync ended, for status and the scheduler's record. */
static void
gitsync_record(struct jobrun *jr, const json_t *result, const char *err)
{
	struct gitjob	*gj = jr->priv;
	const char	*action = json_string_value(json_object_get(jr->params,
			    "action"));

	if (gj == NULL || gj->uid[0] == '\0' || action == NULL ||
	    strcmp(action, "status") == 0 || strcmp(action, "delete") == 0 ||
	    strcmp(action, "init") == 0)
		return;
	(void)db_run(jr->ctx.db, SQL_GITSYNC_DONE, "ssdss", gj->uid,
	    jr->conf->head_name, time_now(), result != NULL ? "done" :
	    "failed", result != NULL ? NULL : err);
}

/* A read's answer, rendered by GET /gitread/<job>. */
static json_t *
read_answer(int code, const char *error)
{
	return json_pack("{s:i, s:s}", "code", code, "error", error);
}

/* gitread file: the file's text or a directory's names. */
static json_t *
read_file(struct jobrun *jr, struct gitjob *gj, char *err, size_t errsz)
{
	const char	*path = json_string_value(json_object_get(jr->params,
			    "path"));
	char		*data = NULL, why[256];
	size_t		 len;
	json_t		*s, *res;
	int		 kind, rc;

	if (path == NULL)
		path = "";
	rc = git_read(jr->conf, gj->path, path, &kind, &data, &len, err, errsz);
	if (rc == -1)
		return NULL;
	if (rc == 1) {
		snprintf(why, sizeof(why), "No %s%s in gitrepo %s", *path ?
		    "file " : "commit yet", path, gj->name);
		return read_answer(404, why);
	}
	if (rc == 2) {
		snprintf(why, sizeof(why), "%s is larger than %zu bytes; clone "
		    "the repository to read it", path, jr->conf->git_max_file);
		return read_answer(413, why);
	}
	if ((s = json_stringn(data, len)) == NULL) {
		free(data);
		snprintf(why, sizeof(why), "%s is not text (UTF-8); clone the "
		    "repository to read it", path);
		return read_answer(415, why);
	}
	free(data);
	res = json_pack("{s:i, s:s, s:o}", "code", 200, "kind", kind == 't' ?
	    "tree" : "blob", "content", s);
	return res;
}

/* gitread branches: each with its head commit; the default marked. */
static json_t *
read_branches(struct jobrun *jr, struct gitjob *gj, char *err, size_t errsz)
{
	const json_t	*names = json_object_get(jr->params, "names");
	const char	*filter = json_string_value(json_object_get(jr->params,
			    "filter"));
	const char	*k;
	char		 def[256];
	json_t		*b, *v;
	void		*tmp;

	if (git_branches(jr->conf, gj->path, &b, def, sizeof(def), err,
	    errsz) == -1)
		return NULL;
	json_object_foreach_safe(b, tmp, k, v) {
		if ((names != NULL && !json_list_has(names, k)) ||
		    (filter != NULL && strstr(k, filter) == NULL)) {
			json_object_del(b, k);
			continue;
		}
		json_object_set_new(v, "default", json_boolean(strcmp(k,
		    def) == 0));
	}
	return b;
}

static json_t *
gitread_run(struct jobrun *jr, char *err, size_t errsz)
{
	struct gitjob	*gj = jr->priv;
	const char	*op = json_string_value(json_object_get(jr->params, "op"));

	if (git_init(jr->conf, gj->path, err, errsz) == -1)
		return NULL;
	if (op != NULL && strcmp(op, "branches") == 0)
		return read_branches(jr, gj, err, errsz);
	return read_file(jr, gj, err, errsz);
}

const struct runkind run_gitsync = {
	"gitsync", gitjob_prepare, gitsync_run, gitsync_record, gitjob_cleanup
};
const struct runkind run_gitread = {
	"gitread", gitjob_prepare, gitread_run, NULL, gitjob_cleanup
};

/* ------------------------------------------------------------ scheduler */

/* Collect each gitrepo's uid, tenant and doc (obj_each's callback). */
static void
sched_collect(const struct objrow *o, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:s, s:I, s:O}", "uid",
	    o->uid, "name", o->name, "tenant", (json_int_t)o->tenant_id, "doc",
	    o->doc));
}

/* Queue a gitsync job for this head, as the scheduler. */
static void
sched_queue(struct db *db, const struct conf *conf, const json_t *repo,
    const char *action, double expires)
{
	char		 uid[UID_LEN + 1], *ptext;
	json_t		*p;

	p = json_pack("{s:s, s:s, s:b}", "repo", json_string_value(
	    json_object_get(repo, "uid")), "action", action, "scheduled", 1);
	ptext = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	if (ptext == NULL || uid_new(uid) == -1) {
		free(ptext);
		return;
	}
	if (db_run(db, SQL_JOB_INSERT, "sissssdsissdd", uid,
	    (long long)json_integer_value(json_object_get(repo, "tenant")),
	    "gitsync", json_string_value(json_object_get(repo, "name")), ptext,
	    "jobd", time_now(), json_string_value(json_object_get(repo, "uid")),
	    0LL, NULL, conf->head_name, 0.0, expires) != DB_OK)
		log_warn("gitrepo %s: %s could not be queued",
		    json_string_value(json_object_get(repo, "name")), action);
	free(ptext);
}

/*
 * Remove the repositories of gitrepos that are gone: a directory
 * <tenant>/<uid>.git whose UID is not in have and that the database,
 * asked again now, does not know (a gitrepo made since have was read
 * is kept).
 */
static void
sched_sweep(struct ctx *c, const json_t *have)
{
	const struct conf	*conf = c->conf;
	DIR			*top, *td;
	struct dirent		*te, *de;
	struct objrow		 o;
	char			 path[1024], uid[UID_LEN + 1], why[256];
	size_t			 i, n;
	int			 known;
	enum apierr		 rc;

	if ((top = opendir(conf->git_dir)) == NULL)
		return;
	while ((te = readdir(top)) != NULL) {
		if (te->d_name[0] == '.' || strspn(te->d_name, "0123456789") !=
		    strlen(te->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", conf->git_dir, te->d_name);
		if ((td = opendir(path)) == NULL)
			continue;
		while ((de = readdir(td)) != NULL) {
			n = strlen(de->d_name);
			if (n != UID_LEN + 4 || strcmp(de->d_name + UID_LEN,
			    ".git") != 0)
				continue;
			memcpy(uid, de->d_name, UID_LEN);
			uid[UID_LEN] = '\0';
			if (!uid_valid(uid))
				continue;
			for (known = 0, i = 0; !known &&
			    i < json_array_size(have); i++)
				known = strcmp(uid, json_string_value(
				    json_object_get(json_array_get(have, i),
				    "uid"))) == 0;
			if (known)
				continue;
			if ((rc = obj_find(c, &gitrepo_class, uid, 0, &o)) ==
			    API_OK)
				objrow_free(&o);
			if (rc != API_NOT_FOUND)
				continue;	/* there, or the database did not say */
			snprintf(path, sizeof(path), "%s/%s/%s", conf->git_dir,
			    te->d_name, de->d_name);
			if (git_remove(path, why, sizeof(why)) == 0)
				log_info("gitrepo %s is gone: removed %s", uid,
				    path);
			else
				log_warn("gitrepo %s is gone, but %s", uid, why);
		}
		closedir(td);
	}
	closedir(top);
}

/*
 * One pass of corral-jobd's git scheduler: for every gitrepo, make its
 * repository on this head the first time it is seen here without one (an
 * "init" job), queue a pull when its sync_period has passed since the last one
 * queued here (the database remembers, gitrepo_sync), and remove the
 * repositories of deleted gitrepos.  Runs no git itself: jobd's own
 * process never waits on a child.
 */
void
gitsched_pass(struct db *db, const struct conf *conf)
{
	struct ctx	 c;
	struct stat	 st;
	json_t		*all = json_array(), *repo, *doc;
	const char	*uid;
	char		 path[1024];
	long long	 period;
	double		 now = time_now();
	size_t		 i;
	int		 have;

	ctx_init(&c, db, conf, scope_of_tenant(SCOPE_ALL, ROLES_ALL, "jobd"));
	if (obj_each(&c, &gitrepo_class, SCOPE_ALL, sched_collect, all) !=
	    API_OK)
		goto out;
	for (i = 0; i < json_array_size(all); i++) {
		repo = json_array_get(all, i);
		uid = json_string_value(json_object_get(repo, "uid"));
		doc = json_object_get(repo, "doc");
		period = git_period(json_object_get(doc, "sync_period"));
		if (json_object_get(doc, "url") == NULL &&
		    json_object_get(doc, "upstream") == NULL)
			period = 0;
		git_repo_path(conf, json_integer_value(json_object_get(repo,
		    "tenant")), uid, path, sizeof(path));
		/* Most passes find nothing to do: no database write then. */
		have = stat(path, &st) == 0;
		if (have && period <= 0)
			continue;
		if (db_run(db, SQL_GITSYNC_SEED, "ss", uid, conf->head_name) !=
		    DB_OK)
			continue;
		if (db_affected(db, SQL_GITSYNC_SEED) == 1 && !have)
			sched_queue(db, conf, repo, "init", now + 600);
		if (period <= 0)
			continue;
		if (db_run(db, SQL_GITSYNC_TAKE, "dssd", now, uid,
		    conf->head_name, now - (double)period) == DB_OK &&
		    db_affected(db, SQL_GITSYNC_TAKE) == 1)
			sched_queue(db, conf, repo, "pull", now +
			    (double)(period > 60 ? period : 60));
	}
	sched_sweep(&c, all);
out:
	json_decref(all);
	ctx_clear(&c);
}
