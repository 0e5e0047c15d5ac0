/*
 * Running a capture job (parameters checked by job_image.c): a running
 * node's root file system becomes an image's content.
 *
 *   node: tar of [capture] root ──ssh (ssh.c, the head's key)──▶ pipe
 *   head: pipe ──▶ tar2sqfs ──▶ a staging file ──fstore_ingest──▶ content
 *
 * tar runs on the node (GNU tar, as every distribution's base system
 * has it): POSIX format with xattrs, numeric owners, one file system (so
 * /proc, /sys, /dev, /run and other mounts are left out, their mount
 * points kept), the exclusions anchored at the root.  squashfs-tools-ng's
 * tar2sqfs reads the stream on the head and keeps owners, modes, times
 * and links as tar recorded them, so jobd needs no root and nothing is
 * unpacked on the head.  The squashfs is the reference's "cwsquash".
 *
 * tar exits 1 when a file changed while it was read, which a live system
 * does; the capture is kept and its result says so.  The root to capture
 * is [capture] root, "/", or the node's _capture_root attribute (an
 * admin's: a node may not write "_" keys about itself), for a node whose
 * system lies elsewhere, and for tests, which capture a prepared tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define CAPTURE_NO_ROOT	97	/* the command's exit when the root is missing */

/* tar2sqfs's fixed arguments (posix_spawn wants them writable). */
static char	 arg_quiet[] = "--quiet", arg_force[] = "--force";
static char	 arg_comp[] = "--compressor", arg_jobs[] = "--num-jobs";

struct capture_job {
	struct node_ssh		 node;
	struct ssh_result	 res;
	char			*image;		/* its UID */
	char			*root;		/* the tree captured */
	long long		 image_tenant;
	char			 staged[1024];	/* the squashfs being made */
	char			 errlog[1100];	/* tar2sqfs's stderr */
	char			 replaced[SHA256_HEX + 1]; /* the old content */
};

/*
 * The tree to capture on node o into *root (new allocation): its
 * _capture_root attribute, else [capture] root.  0, or -1 with a reason.
 */
static int
capture_root(struct jobrun *jr, const struct objrow *o, char **root,
    char *err, size_t errsz)
{
	const char	*r = jr->conf->capture_root, *c;
	json_t		*attrs = NULL, *v;
	int		 rc = -1;

	if (attrs_node_view(&jr->ctx, o, 0, &attrs) == API_OK &&
	    (v = json_object_get(attrs, "_capture_root")) != NULL)
		r = json_string_value(v);
	if (r == NULL || r[0] != '/' || strlen(r) > CAPTURE_PATH_MAX) {
		snprintf(err, errsz, "%s: attribute _capture_root must be an "
		    "absolute path", o->name);
		goto out;
	}
	for (c = r; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			snprintf(err, errsz, "%s: attribute _capture_root holds "
			    "a control character", o->name);
			goto out;
		}
	*root = xstrdup(r);
	rc = 0;
out:
	json_decref(attrs);
	return rc;
}

static int
capture_prepare(struct jobrun *jr, char *err, size_t errsz)
{
	struct capture_job	*cj;
	struct objrow		 node, img;
	int			 fd, rc = -1;

	cj = jr->priv = xcalloc(1, sizeof(*cj));
	memset(&img, 0, sizeof(img));
	if (jr->node == NULL || obj_find(&jr->ctx, &node_class, jr->node, 0,
	    &node) != API_OK) {
		snprintf(err, errsz, "the node no longer exists");
		return -1;
	}
	if (obj_find(&jr->ctx, &image_class, json_string_value(
	    json_object_get(jr->params, "image")), 0, &img) != API_OK) {
		snprintf(err, errsz, "the image no longer exists");
		goto out;
	}
	if (json_is_true(json_object_get(img.doc, "frozen"))) {
		snprintf(err, errsz, "%s", image_class.frozen_reason);
		goto out;
	}
	cj->image = xstrdup(img.uid);
	cj->image_tenant = img.tenant_id;
	if (node_ssh_load(jr, &node, &cj->node, err, errsz) == -1 ||
	    capture_root(jr, &node, &cj->root, err, errsz) == -1)
		goto out;
	if ((fd = fstore_staging_open(jr->conf, cj->staged,
	    sizeof(cj->staged))) == -1) {
		snprintf(err, errsz, "no staging file in the artifact store");
		cj->staged[0] = '\0';
		goto out;
	}
	close(fd);	/* tar2sqfs writes it by name */
	snprintf(cj->errlog, sizeof(cj->errlog), "%s.log", cj->staged);
	rc = 0;
out:
	objrow_free(&img);
	objrow_free(&node);
	return rc;
}

/* s, single-quoted for a POSIX shell (a quote as '\''). */
static void
sh_quote(struct outbuf *b, const char *s)
{
	out_add(b, "'", 1);
	for (; *s != '\0'; s++)
		if (*s == '\'')
			out_add(b, "'\\''", 4);
		else
			out_add(b, s, 1);
	out_add(b, "'", 1);
}

/*
 * The command run on the node (new allocation): into the root, or exit
 * CAPTURE_NO_ROOT; then tar of "." to stdout, each exclusion as an
 * anchored pattern ("/var/tmp" leaves out ./var/tmp and what is in it).
 */
static char *
capture_command(const char *root, const json_t *exclude)
{
	struct outbuf	 b;
	const char	*p;
	char		*pat, *cmd;
	size_t		 i, len;

	memset(&b, 0, sizeof(b));
	out_str(&b, "cd -- ");
	sh_quote(&b, root);
	out_str(&b, " 2>/dev/null || exit 97; exec tar --create --file=- "
	    "--format=posix --xattrs --numeric-owner --one-file-system "
	    "--anchored");
	for (i = 0; i < json_array_size(exclude); i++) {
		p = json_string_value(json_array_get(exclude, i));
		len = strlen(p);
		while (len > 1 && p[len - 1] == '/')
			len--;
		xasprintf(&pat, "--exclude=.%.*s", (int)len, p);
		out_str(&b, " ");
		sh_quote(&b, pat);
		free(pat);
	}
	out_str(&b, " .");
	cmd = xstrndup(b.p, b.len);
	out_free(&b);
	return cmd;
}

/* Store the squashfs as the image's content, on a connection of its own. */
static int
capture_ingest(struct jobrun *jr, struct fileinfo *fi, char *err,
    size_t errsz)
{
	struct capture_job	*cj = jr->priv;
	struct ctx		 c;
	struct db		*db;
	int			 status, rc = -1;

	/*
	 * The heartbeat thread owns jr->ctx.db while run() works; the
	 * image's tenant is the scope the content is written in.
	 */
	if ((db = db_open(jr->conf)) == NULL || db_ready(db) == -1) {
		snprintf(err, errsz, "no database to record the capture in");
		db_close(db);
		return -1;
	}
	ctx_init(&c, db, jr->conf, scope_of_tenant(cj->image_tenant, ROLES_ALL,
	    "jobd"));
	/* The store refuses a frozen or vanished image, with its status. */
	if ((status = fstore_ingest(&c, cj->staged, cj->image, "content",
	    NULL, fi, cj->replaced, err, errsz)) != 0) {
		log_warn("job %lld: storing the capture: %d %s", jr->id, status,
		    err);
		if (status >= 400 && status != 500)
			jr->fail_status = status;
	} else
		rc = 0;
	cj->staged[0] = '\0';	/* consumed, whatever happened */
	ctx_clear(&c);
	db_close(db);
	return rc;
}

static json_t *
capture_run(struct jobrun *jr, char *err, size_t errsz)
{
	struct capture_job	*cj = jr->priv;
	struct ssh_opts		 o;
	struct fileinfo		 fi;
	const char		*comp;
	char			*cmd = NULL, jobs[24], sq_err[512];
	char			*argv[16];
	int			 p[2] = { -1, -1 }, sqfs_rc, ssh_rc;
	long			 ncpu;
	size_t			 n = 0;
	pid_t			 pid;
	json_t			*result = NULL;

	comp = json_string_value(json_object_get(jr->params, "compress"));
	if (comp == NULL)
		comp = jr->conf->capture_compress;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	snprintf(jobs, sizeof(jobs), "%ld", ncpu > 0 ? ncpu : 1);
	argv[n++] = jr->conf->capture_tar2sqfs;
	argv[n++] = arg_quiet;
	argv[n++] = arg_force;
	argv[n++] = arg_comp;
	argv[n++] = (char *)(uintptr_t)comp;
	argv[n++] = arg_jobs;
	argv[n++] = jobs;
	argv[n++] = cj->staged;
	argv[n] = NULL;
	if (pipe(p) == -1 || fcntl(p[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(p[1], F_SETFD, FD_CLOEXEC) == -1) {
		snprintf(err, errsz, "pipe: %s", strerror(errno));
		if (p[0] != -1) {
			close(p[0]);
			close(p[1]);
		}
		return NULL;
	}
	if (tool_spawn(argv, p[0], -1, cj->errlog, &pid, err, errsz) == -1) {
		close(p[0]);
		close(p[1]);
		return NULL;
	}
	close(p[0]);
	memset(&o, 0, sizeof(o));
	o.key = jr->conf->exec_key;
	o.connect_timeout = jr->conf->exec_connect_timeout;
	o.time_limit = jr->conf->capture_time_limit;
	o.stderr_mode = SSH_STDERR_DISCARD;	/* stdout is the tar stream */
	cmd = capture_command(cj->root,
	    json_object_get(jr->params, "exclude"));
	ssh_rc = ssh_exec(&cj->node.t, &o, cmd, NULL, 0, p[1], &cj->res, err,
	    errsz);
	close(p[1]);	/* tar2sqfs sees the end of the stream */
	free(cmd);
	/*
	 * The stream has ended: tar2sqfs finishes the squashfs (or fails on
	 * a cut stream) within the time the capture had.  Which reason is
	 * told: ssh's (unreachable, refused), unless ssh failed only because
	 * tar2sqfs stopped reading; then tar's; then tar2sqfs's.
	 */
	sqfs_rc = tool_wait(pid, monotonic_ms() + 1000LL *
	    (ssh_rc == -1 || cj->res.timed_out ? 60 :
	    jr->conf->capture_time_limit), "tar2sqfs", cj->errlog, sq_err,
	    sizeof(sq_err));
	if (ssh_rc == -1) {
		if (sqfs_rc == -1 && strstr(err, "cannot write") != NULL)
			snprintf(err, errsz, "%s", sq_err);
		return NULL;
	}
	if (cj->res.timed_out) {
		snprintf(err, errsz, "the capture ran over [capture] time_limit "
		    "(%d s)", jr->conf->capture_time_limit);
		return NULL;
	}
	if (cj->res.exit_status == CAPTURE_NO_ROOT) {
		snprintf(err, errsz, "%s has no directory %s to capture",
		    jr->target != NULL ? jr->target : "the node", cj->root);
		return NULL;
	}
	if (cj->res.exit_status != 0 && cj->res.exit_status != 1) {
		snprintf(err, errsz, "tar on the node failed (exit %d); is GNU "
		    "tar installed there?", cj->res.exit_status);
		return NULL;
	}
	if (sqfs_rc == -1) {
		snprintf(err, errsz, "%s", sq_err);
		return NULL;
	}
	if (capture_ingest(jr, &fi, err, errsz) == -1)
		return NULL;
	result = json_pack("{s:I, s:f, s:s+, s:s, s:s, s:s, s:s, s:I, s:s?, "
	    "s:b}", "size", (json_int_t)fi.size, "mtime", fi.mtime, "chksum",
	    "sha1:", fi.sha1, "sha256", fi.sha256, "fmt", fi.fmt, "uid", fi.uid,
	    "filename", fi.uid, "refcnt", (json_int_t)fi.refcnt, "node",
	    jr->target, "changed_while_read", cj->res.exit_status == 1);
	if (result == NULL)
		snprintf(err, errsz, "result could not be built");
	return result;
}

/* Record a host key learned on first contact (the first head's wins). */
static void
capture_record(struct jobrun *jr, const json_t *result, const char *err)
{
	struct capture_job	*cj = jr->priv;

	(void)result;
	(void)err;
	if (cj != NULL && cj->res.learned != NULL)
		(void)db_run(jr->ctx.db, SQL_HOSTKEY_PUT, "ssd", jr->node,
		    cj->res.learned, time_now());
}

static void
capture_cleanup(struct jobrun *jr)
{
	struct capture_job	*cj = jr->priv;

	if (cj == NULL)
		return;
	/* The answer is out: the replaced content's bytes may go. */
	if (cj->replaced[0] != '\0')
		fstore_release(&jr->ctx, cj->replaced);
	if (cj->staged[0] != '\0')
		(void)unlink(cj->staged);
	if (cj->errlog[0] != '\0')
		(void)unlink(cj->errlog);
	ssh_result_free(&cj->res);
	node_ssh_free(&cj->node);
	free(cj->image);
	free(cj->root);
	free(cj);
	jr->priv = NULL;
}

const struct runkind run_capture = {
	"capture", capture_prepare, capture_run, capture_record,
	capture_cleanup
};
