/*
 * Hosted git repositories' endpoints (reference: "Git Repository
 * Objects"), and the authorization nginx asks before it lets a git client
 * reach a repository.
 *
 * No worker runs git: each read or sync is a job for corral-jobd
 * (run_git.c), pinned to this head (the repository answered is the copy
 * on this head's disk) and answered synchronously through the waiter, as
 * power calls are.  A file read ends at GET /gitread/<job> rather than
 * /job/<job>/result, because a public repository is read without a
 * token.  Clones and pushes never pass through a worker at all: nginx
 * asks GET /_gitauth (auth_request) and hands the request to
 * git-http-backend.
 *
 * Where things are (a rename moves nothing; two tenants' repositories
 * of one name never meet):
 *   on disk   [git] dir/<tenant id>/<gitrepo UID>.git
 *   over HTTP /git/<tenant name>/<gitrepo name>.git
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define GIT_URI_MAX	2048

static const struct field gitsync_fields[] = {
	FIELD("action",    F_STRING, F_REQUIRED, 16, "status, checkout, reset, pull or rebase"),
	FIELD("branchmap", F_ANY,    0,          0,  "Branches to sync: {\"local\": \"remote\"} or [\"name\", ...]; default the gitrepo's branch_map, else all"),
};
const struct bodyspec b_gitsync = FIELDS(gitsync_fields);

static const struct field gitbranches_fields[] = {
	FIELD("branchmap", F_ARRAY_STR, 0, 1000, "The branches to show; default all"),
	FIELD("all",       F_BOOL,      0, 0,    "true: every branch (the default)"),
	FIELD("filter",    F_STRING,    0, 200,  "Only branches whose name holds this text"),
};
const struct bodyspec b_gitbranches = FIELDS(gitbranches_fields);

static const struct field gitbranches_del_fields[] = {
	FIELD("branches", F_ARRAY_STR, 0, 1000, "The branches to delete"),
	FIELD("all",      F_BOOL,      0, 0,    "true: delete every branch"),
};
const struct bodyspec b_gitbranches_del = FIELDS(gitbranches_del_fields);

/* Where gitrepo uid of tenant lives on this head's disk, into buf. */
void
git_repo_path(const struct conf *conf, long long tenant, const char *uid,
    char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%s/%lld/%s.git", conf->git_dir, tenant, uid);
}

/*
 * Whether path names something inside a repository: relative, its
 * components neither empty nor "." nor "..", no control characters or
 * backslashes.  What nginx normalized may still hold them (%2e%2e).
 */
int
git_path_ok(const char *path)
{
	const char	*p, *seg;
	size_t		 len;

	if (path == NULL || *path == '\0' || *path == '/' ||
	    strlen(path) > 1024)
		return 0;
	for (p = path; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return 0;
	for (seg = path; ; seg += len + 1) {
		len = strcspn(seg, "/");
		if (len == 0 || (len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
		if (seg[len] == '\0')
			return 1;
	}
}

/*
 * A gitrepo's sync_period in seconds: a number, or digits with s, m, h
 * or d (the class checked the shape).  0: none.
 */
long long
git_period(const json_t *v)
{
	const char	*s;
	char		*end;
	long long	 n;

	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? json_integer_value(v) : 0;
	if ((s = json_string_value(v)) == NULL)
		return 0;
	n = strtoll(s, &end, 10);
	switch (*end) {
	case 'd':
		n *= 24;
		/* FALLTHROUGH */
	case 'h':
		n *= 60;
		/* FALLTHROUGH */
	case 'm':
		n *= 60;
		break;
	}
	return n > 0 ? n : 0;
}

/* How long a synchronous git call waits for its job. */
static long long
git_wait(const struct conf *conf)
{
	long long	 w = (long long)conf->git_timeout * 3 + 30;

	return w > JOB_WAIT_MAX ? JOB_WAIT_MAX : w;
}

/*
 * Queue a git job on gitrepo o for this head, in o's tenant (its worker
 * slots; its admins see it in GET /jobs).  serial: one such job on the
 * repository at a time (the jobs table's one-job-per-target key).
 */
static enum apierr
git_queue(struct req *r, const struct objrow *o, const struct jobkind *kind,
    const json_t *params, int serial, char uid[UID_LEN + 1])
{
	char		*ptext;
	double		 now = time_now();
	enum dbrc	 rc;

	if (kind->check(params, r->ctx.reason, sizeof(r->ctx.reason)) == -1)
		return API_BAD_REQUEST;
	if ((ptext = json_dumps(params, JSON_COMPACT)) == NULL)
		return ctx_internal(&r->ctx, "job parameters cannot be encoded");
	if (uid_new(uid) == -1) {
		free(ptext);
		return ctx_internal(&r->ctx, "no random bytes for a job UID");
	}
	rc = db_run(r->ctx.db, SQL_JOB_INSERT, "sissssdsissdd", uid,
	    o->tenant_id, kind->name, o->name, ptext, r->who.authed ?
	    r->who.tok.name : "public", now, serial ? o->uid : NULL, 0LL,
	    NULL, r->conf->head_name, 0.0, now + (double)git_wait(r->conf));
	free(ptext);
	if (rc != DB_OK)
		return ctx_dbfail(&r->ctx, rc);
	jobd_wake(r->conf);
	return API_OK;
}

/*
 * The gitrepo a public route is asked for: in the caller's scope with a
 * token; without one, a public gitrepo of the tenant public_tenant()
 * names.  *authed says which.
 */
static enum apierr
gitrepo_public_find(struct req *r, struct objrow *o, int *authed)
{
	struct ctx	 pub;
	long long	 tid;
	enum apierr	 rc;

	if ((rc = req_auth_optional(r)) != API_OK)
		return rc;
	if ((*authed = r->who.authed))
		return obj_find(&r->ctx, &gitrepo_class, req_param(r, "id"), 0, o);
	if ((tid = public_tenant(r, &rc)) == 0)
		return rc;
	ctx_init(&pub, r->ctx.db, r->conf, scope_of_tenant(tid, 0, "public"));
	if ((rc = obj_find(&pub, &gitrepo_class, req_param(r, "id"), 0, o)) !=
	    API_OK)
		return ctx_pass(&r->ctx, &pub, rc);
	if (!json_is_true(json_object_get(o->doc, "public"))) {
		objrow_free(o);
		return req_fail(r, API_NOT_FOUND, "No public gitrepo found for "
		    "ID=%.64s (a private one needs a token)", req_param(r, "id"));
	}
	return API_OK;
}

/* A tenant's name, by id, into buf. */
static enum apierr
tenant_name(struct ctx *c, long long tid, char *buf, size_t bufsz)
{
	char		*uid = NULL, *name = NULL;
	long long	 id;
	enum dbrc	 rc;

	if ((rc = db_run(c->db, SQL_TENANT_BY_ID, "i", tid)) == DB_OK)
		rc = db_next(c->db, SQL_TENANT_BY_ID, "iss", &id, &uid, &name);
	db_done(c->db, SQL_TENANT_BY_ID);
	if (rc == DB_OK)
		snprintf(buf, bufsz, "%s", name);
	free(uid);
	free(name);
	return rc == DB_OK ? API_OK : rc == DB_DONE ?
	    ctx_internal(c, "tenant %lld is gone", tid) : ctx_dbfail(c, rc);
}

/*
 * GET /gitrepo/:id/url: the URL to clone it from, as text, no envelope.
 * Public for public repositories (the reference); a token shows its own
 * tenant's private ones too.  Scheme and host are what the client used
 * to reach us, so the URL works from where it asked.
 */
enum apierr
api_gitrepo_url(struct req *r)
{
	struct objrow	 o;
	const char	*scheme = req_header(r, "REQUEST_SCHEME");
	char		 url[768], tname[NAME_MAX_LEN + 1];
	int		 authed;
	enum apierr	 rc;

	if ((rc = gitrepo_public_find(r, &o, &authed)) != API_OK)
		return rc;
	if ((rc = tenant_name(&r->ctx, o.tenant_id, tname, sizeof(tname))) ==
	    API_OK) {
		snprintf(url, sizeof(url), "%s://%s/git/%s/%s.git\n",
		    scheme != NULL && strcmp(scheme, "http") == 0 ? "http" :
		    "https", r->host != NULL && valid_host(r->host) ? r->host :
		    r->conf->head_name, tname, o.name);
		resp_raw(r, 200, "text/plain", url, strlen(url));
	}
	objrow_free(&o);
	return rc;
}

/*
 * GET /gitrepo/:id/repo[/<PATH>], /gitrepo/:id/content[/<PATH>]: the
 * file at PATH on the default branch, as it is (no envelope).  Without
 * PATH, or for a directory, the names in it, one a line, directories
 * ending in '/'.  400 for a path that leaves the repository; 404 for
 * none there; 413 for a file over [git] max_file.
 */
enum apierr
api_gitrepo_file(struct req *r)
{
	struct objrow	 o;
	const char	*path = req_param(r, "path");
	char		 uid[UID_LEN + 1];
	json_t		*p;
	int		 authed;
	enum apierr	 rc;

	if (path != NULL && !git_path_ok(path))
		return req_fail(r, API_BAD_REQUEST, "Path must stay inside the "
		    "repository: relative, no empty, \".\" or \"..\" parts");
	if ((rc = gitrepo_public_find(r, &o, &authed)) != API_OK)
		return rc;
	p = json_pack("{s:s, s:s, s:s, s:b}", "repo", o.uid, "op", "file",
	    "path", path != NULL ? path : "", "public",
	    json_is_true(json_object_get(o.doc, "public")));
	rc = git_queue(r, &o, &job_gitread, p, 0, uid);
	json_decref(p);
	objrow_free(&o);
	if (rc != API_OK)
		return rc;
	return job_wait(r, uid, git_wait(r->conf), JOB_WAIT_GITREAD);
}

/*
 * GET /gitread/:job: where the waiter hands a file read back.  The job
 * is the capability: its UID is random and only ever in nginx's internal
 * redirect; a private repository's read still needs the caller's token
 * (nginx kept the original request's headers) in the repository's tenant.
 */
enum apierr
api_gitread_result(struct req *r)
{
	const char	*id, *content, *err;
	char		*uid = NULL, *kind = NULL, *target = NULL, *params = NULL;
	char		*state = NULL, *result = NULL, *by = NULL, *batch = NULL;
	char		 why[128];
	long long	 tenant = 0, attempts, code;
	double		 created, started, finished;
	json_t		*res = NULL, *pj = NULL;
	enum apierr	 rc;
	enum dbrc	 drc;

	id = req_param(r, "job");
	if (!uid_valid(id))
		return req_fail(r, API_NOT_FOUND, "No such read");
	if ((drc = db_run(r->ctx.db, SQL_JOB_GET, "s", id)) == DB_OK)
		drc = db_next(r->ctx.db, SQL_JOB_GET, "sissssissddds", &uid,
		    &tenant, &kind, &target, &params, &state, &attempts,
		    &result, &by, &created, &started, &finished, &batch);
	db_done(r->ctx.db, SQL_JOB_GET);
	if (drc != DB_OK && drc != DB_DONE) {
		rc = ctx_dbfail(&r->ctx, drc);
		goto out;
	}
	if (drc == DB_DONE || strcmp(kind, "gitread") != 0) {
		rc = req_fail(r, API_NOT_FOUND, "No such read");
		goto out;
	}
	pj = json_decode_strict(params, strlen(params), why, sizeof(why));
	if (!json_is_true(json_object_get(pj, "public"))) {
		if ((rc = req_auth_optional(r)) != API_OK)
			goto out;
		if (!r->who.authed || (r->ctx.scope.tenant != SCOPE_ALL &&
		    r->ctx.scope.tenant != tenant)) {
			rc = req_fail(r, API_NOT_FOUND, "No such read");
			goto out;
		}
	}
	if (strcmp(state, "queued") == 0) {
		/* Nobody waits for it any more: it must not run later. */
		(void)db_run(r->ctx.db, SQL_JOB_CANCEL, "sds", "{\"error\":"
		    "\"did not start within the wait; cancelled\"}", time_now(),
		    uid);
		rc = req_fail(r, API_TIMEOUT, "The read did not start within "
		    "the wait; try again");
		goto out;
	}
	if (!job_state_ended(state)) {
		rc = req_fail(r, API_TIMEOUT, "The read is still running after "
		    "the wait; try again");
		goto out;
	}
	res = result != NULL ? json_decode_strict(result, strlen(result), why,
	    sizeof(why)) : NULL;
	err = json_string_value(json_object_get(res, "error"));
	if (strcmp(state, "done") != 0) {
		rc = req_fail(r, API_BAD_GATEWAY, "%s: %s", target,
		    err != NULL ? err : "the read failed");
		goto out;
	}
	code = json_integer_value(json_object_get(res, "code"));
	content = json_string_value(json_object_get(res, "content"));
	if (code == 200 && content != NULL) {
		resp_raw(r, 200, "text/plain; charset=utf-8", content,
		    json_string_length(json_object_get(res, "content")));
		rc = API_OK;
	} else
		rc = req_fail(r, code == 413 ? API_TOO_LARGE : code == 415 ?
		    API_BAD_MEDIA : code == 400 ? API_BAD_REQUEST :
		    API_NOT_FOUND, "%s", err != NULL ? err : "Not found");
out:
	json_decref(res);
	json_decref(pj);
	free(uid);
	free(kind);
	free(target);
	free(params);
	free(state);
	free(result);
	free(by);
	free(batch);
	return rc;
}

/*
 * The body's branchmap as {"local": "remote"} (new reference): an object
 * as it is, a list of names as each to itself.  NULL with the reason set.
 */
static json_t *
branchmap_of(struct req *r, const json_t *bm)
{
	json_t		*m;
	size_t		 i;
	const char	*name;

	if (json_is_object(bm))
		return json_incref((json_t *)(uintptr_t)bm);
	if (!json_is_array(bm)) {
		req_fail(r, API_BAD_REQUEST, "branchmap must map local branch "
		    "names to remote ones, or list branch names");
		return NULL;
	}
	m = json_object();
	for (i = 0; i < json_array_size(bm); i++) {
		name = json_string_value(json_array_get(bm, i));
		if (!valid_branch(name)) {
			json_decref(m);
			req_fail(r, API_BAD_REQUEST, "branchmap[%zu] is not a "
			    "branch name", i);
			return NULL;
		}
		json_object_set_new(m, name, json_string(name));
	}
	return m;
}

/*
 * GET|POST /gitrepo/:id/sync {"action", "branchmap"}: synchronize with
 * the gitrepo's url or upstream, and answer what happened once it has
 * (a gitsync job; run_git.c says what each action does).
 */
enum apierr
api_gitrepo_sync(struct req *r)
{
	struct objrow	 o;
	const json_t	*bm;
	char		 uid[UID_LEN + 1];
	json_t		*p, *m = NULL;
	enum apierr	 rc;

	if (r->json == NULL)
		return req_fail(r, API_BAD_REQUEST, "action is required: status, "
		    "checkout, reset, pull or rebase");
	if ((bm = json_object_get(r->json, "branchmap")) != NULL &&
	    (m = branchmap_of(r, bm)) == NULL)
		return API_BAD_REQUEST;
	if ((rc = obj_find(&r->ctx, &gitrepo_class, req_param(r, "id"), 0,
	    &o)) != API_OK) {
		json_decref(m);
		return rc;
	}
	if (json_object_get(o.doc, "url") == NULL &&
	    json_object_get(o.doc, "upstream") == NULL)
		rc = req_fail(r, API_BAD_REQUEST, "Gitrepo %s has no url or "
		    "upstream to synchronize with", o.name);
	else {
		p = json_pack("{s:s, s:O}", "repo", o.uid, "action",
		    json_object_get(r->json, "action"));
		if (m != NULL)
			json_object_set(p, "branchmap", m);
		if (!conf_list_has("status checkout reset pull rebase",
		    json_string_value(json_object_get(p, "action"))))
			rc = req_fail(r, API_BAD_REQUEST, "action must be one of "
			    "status, checkout, reset, pull, rebase");
		else
			rc = git_queue(r, &o, &job_gitsync, p, 1, uid);
		json_decref(p);
	}
	objrow_free(&o);
	json_decref(m);
	if (rc != API_OK)
		return rc;
	return job_wait(r, uid, git_wait(r->conf), 1);
}

/*
 * GET /gitrepo/:id/branches {"branchmap": [names], "all", "filter"}: the
 * branches, {"<name>": {"commit", "date", "subject", "default"}}.
 */
enum apierr
api_gitrepo_branches(struct req *r)
{
	struct objrow	 o;
	char		 uid[UID_LEN + 1];
	json_t		*p;
	enum apierr	 rc;

	if ((rc = obj_find(&r->ctx, &gitrepo_class, req_param(r, "id"), 0,
	    &o)) != API_OK)
		return rc;
	p = json_pack("{s:s, s:s}", "repo", o.uid, "op", "branches");
	if (r->json != NULL && json_object_get(r->json, "branchmap") != NULL)
		json_object_set(p, "names", json_object_get(r->json, "branchmap"));
	if (r->json != NULL && json_object_get(r->json, "filter") != NULL)
		json_object_set(p, "filter", json_object_get(r->json, "filter"));
	rc = git_queue(r, &o, &job_gitread, p, 0, uid);
	json_decref(p);
	objrow_free(&o);
	if (rc != API_OK)
		return rc;
	return job_wait(r, uid, git_wait(r->conf), 1);
}

/*
 * DELETE /gitrepo/:id/branches {"branches": [...]} or {"all": true}:
 * {"deleted": [names]}.  A branch that is not there is a 502 naming it,
 * and nothing is deleted.
 */
enum apierr
api_gitrepo_branches_del(struct req *r)
{
	struct objrow	 o;
	const json_t	*b, *all;
	char		 uid[UID_LEN + 1];
	json_t		*p;
	size_t		 i;
	enum apierr	 rc;

	b = r->json != NULL ? json_object_get(r->json, "branches") : NULL;
	all = r->json != NULL ? json_object_get(r->json, "all") : NULL;
	if ((b == NULL || json_array_size(b) == 0) && !json_is_true(all))
		return req_fail(r, API_BAD_REQUEST, "Say which branches: "
		    "\"branches\": [names], or \"all\": true");
	for (i = 0; b != NULL && i < json_array_size(b); i++)
		if (!valid_branch(json_string_value(json_array_get(b, i))))
			return req_fail(r, API_BAD_REQUEST, "branches[%zu] is "
			    "not a branch name", i);
	if ((rc = obj_find(&r->ctx, &gitrepo_class, req_param(r, "id"), 0,
	    &o)) != API_OK)
		return rc;
	p = json_pack("{s:s, s:s, s:b}", "repo", o.uid, "action", "delete",
	    "all", json_is_true(all));
	if (b != NULL)
		json_object_set(p, "branches", (json_t *)(uintptr_t)b);
	rc = git_queue(r, &o, &job_gitsync, p, 1, uid);
	json_decref(p);
	objrow_free(&o);
	if (rc != API_OK)
		return rc;
	return job_wait(r, uid, git_wait(r->conf), 1);
}

/* Whether s is made of the characters git's HTTP paths use. */
static int
git_rest_ok(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789/._-", s[i]) == NULL || s[i] == '\0')
			return 0;
	for (i = 0; i + 1 < len; i++)
		if (s[i] == '.' && s[i + 1] == '.')
			return 0;
	return len == 0 || s[0] != '/';
}

/*
 * GET /_gitauth: nginx's auth_request for /git/<tenant>/<name>.git/...
 * (the original URI in CORRAL_GIT_URI, which only nginx's internal
 * location sets; from outside this is a 404).  200 lets the request
 * through to git-http-backend with X-Corral-Git-Path (where the
 * repository is on disk, below [git] dir) and, for a push,
 * X-Corral-Git-User (the admin, git's REMOTE_USER).  Reading needs a
 * public repository or any role in its tenant; pushing needs
 * role.configadmin there.  401 without a token (nginx adds a Basic
 * challenge so git says "authentication failed"); 403 for anything a
 * token may not reach, whether it exists or not (nginx shows it as 404).
 */
enum apierr
api_gitauth(struct req *r)
{
	const char	*uri = req_header(r, "CORRAL_GIT_URI");
	const char	*p, *q, *tn, *name, *rest;
	char		 tenant[NAME_MAX_LEN + 1], repo[NAME_MAX_LEN + 1];
	char		 hdr[1024], dir[64];
	size_t		 tlen, nlen, rlen;
	struct objrow	 o;
	struct ctx	 in;
	long long	 tid;
	int		 push;
	enum apierr	 rc;

	if (uri == NULL || *uri == '\0')
		return req_fail(r, API_NOT_FOUND, "No such endpoint");
	if (strlen(uri) > GIT_URI_MAX || strncmp(uri, "/git/", 5) != 0)
		goto denied;
	tn = uri + 5;
	tlen = strcspn(tn, "/?");
	if (tn[tlen] != '/')
		goto denied;
	/* "<name>.git", ending the segment: a name may hold ".git" itself. */
	name = tn + tlen + 1;
	nlen = strcspn(name, "/?");
	if (nlen < 5 || strncmp(name + nlen - 4, ".git", 4) != 0)
		goto denied;
	p = name + nlen;
	nlen -= 4;
	rest = *p == '/' ? p + 1 : p;
	rlen = strcspn(rest, "?");
	q = rest[rlen] == '?' ? rest + rlen + 1 : "";
	if (tlen == 0 || tlen > NAME_MAX_LEN || nlen == 0 ||
	    nlen > NAME_MAX_LEN || !git_rest_ok(rest, rlen))
		goto denied;
	memcpy(tenant, tn, tlen);
	tenant[tlen] = '\0';
	memcpy(repo, name, nlen);
	repo[nlen] = '\0';
	if (!valid_name(tenant) || !valid_name(repo))
		goto denied;
	push = (rlen == 16 && strncmp(rest, "git-receive-pack", 16) == 0) ||
	    strstr(q, "service=git-receive-pack") != NULL;

	if ((rc = req_auth_optional(r)) != API_OK) {
		resp_headers(r, 401, "");
		return API_OK;
	}
	if ((tid = tenant_lookup(&r->ctx, tenant, &rc)) == 0) {
		if (rc != API_OK && rc != API_NOT_FOUND)
			return rc;
		goto denied;
	}
	if (r->who.authed && r->ctx.scope.tenant != SCOPE_ALL &&
	    r->ctx.scope.tenant != tid)
		goto denied;
	ctx_init(&in, r->ctx.db, r->conf, scope_of_tenant(tid,
	    r->who.tok.roles, r->who.authed ? r->who.tok.name : "public"));
	rc = obj_find(&in, &gitrepo_class, repo, 0, &o);
	ctx_clear(&in);
	if (rc == API_NOT_FOUND)
		goto denied;
	if (rc != API_OK)
		return ctx_internal(&r->ctx, "gitauth: lookup failed");
	if (!r->who.authed && (push ||
	    !json_is_true(json_object_get(o.doc, "public")))) {
		objrow_free(&o);
		resp_headers(r, 401, "");
		return API_OK;
	}
	if (push && !req_allows(r, NEED_CONFIG)) {
		objrow_free(&o);
		goto denied;
	}
	snprintf(dir, sizeof(dir), "/%lld/%s.git", o.tenant_id, o.uid);
	snprintf(hdr, sizeof(hdr), "X-Corral-Git-Path: %s/%.*s\r\n%s%s%s",
	    dir, (int)rlen, rest, push ? "X-Corral-Git-User: " : "",
	    push ? r->who.tok.name : "", push ? "\r\n" : "");
	objrow_free(&o);
	resp_headers(r, 200, hdr);
	return API_OK;
denied:
	resp_headers(r, 403, "");
	return API_OK;
}
