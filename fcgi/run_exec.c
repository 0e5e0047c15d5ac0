/*
 * Running an exec job (parameters checked by job.c): the command on the
 * node over ssh with the head's key (ssh.c), its output written to the
 * spool file [jobd] spool/<job UID>, which nginx streams to the caller
 * (GET /job/<ID>/result), so no process ever holds it in memory.
 *
 * The node's host key is kept in the database (node_hostkeys), learned
 * on first contact and checked on every later one; a changed key is
 * refused until an admin clears it (DELETE /node/<ID>/hostkey).  Exec
 * jobs are pinned to the head that queued them (jobs.head), since the
 * spool file is on that head's disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

struct exec_job {
	struct node_ssh		 node;
	struct ssh_result	 res;
	int			 out;		/* the spool file */
	char			 path[1024];
};

static int
exec_prepare(struct jobrun *jr, char *err, size_t errsz)
{
	struct exec_job	*xj;
	struct objrow	 o;
	int		 rc = -1;

	xj = jr->priv = xcalloc(1, sizeof(*xj));
	xj->out = -1;
	if (jr->node == NULL || obj_find(&jr->ctx, &node_class, jr->node, 0,
	    &o) != API_OK) {
		snprintf(err, errsz, "the node no longer exists");
		return -1;
	}
	if (node_ssh_load(jr, &o, &xj->node, err, errsz) == -1)
		goto out;
	snprintf(xj->path, sizeof(xj->path), "%s/%s", jr->conf->jobd_spool,
	    jr->uid);
	if ((xj->out = open(xj->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0640)) == -1) {
		snprintf(err, errsz, "spool file: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	objrow_free(&o);
	return rc;
}

static json_t *
exec_run(struct jobrun *jr, char *err, size_t errsz)
{
	struct exec_job	*xj = jr->priv;
	struct ssh_opts	 o;
	const char	*cmd, *in, *mode;

	memset(&o, 0, sizeof(o));
	o.key = jr->conf->exec_key;
	o.connect_timeout = jr->conf->exec_connect_timeout;
	o.time_limit = jr->conf->exec_time_limit;
	o.max_output = (long long)jr->conf->exec_max_output;
	mode = json_string_value(json_object_get(jr->params, "stderr"));
	o.stderr_mode = mode != NULL && strcmp(mode, "discard") == 0 ?
	    SSH_STDERR_DISCARD : SSH_STDERR_MERGE;
	cmd = json_string_value(json_object_get(jr->params, "cmd"));
	in = json_string_value(json_object_get(jr->params, "stdin"));
	if (cmd == NULL) {
		snprintf(err, errsz, "no cmd");
		return NULL;
	}
	if (ssh_exec(&xj->node.t, &o, cmd, in, in != NULL ?
	    json_string_length(json_object_get(jr->params, "stdin")) : 0,
	    xj->out, &xj->res, err, errsz) == -1)
		return NULL;
	return json_pack("{s:i, s:I, s:b, s:b}", "exit", xj->res.exit_status,
	    "bytes", (json_int_t)xj->res.out_bytes, "timed_out",
	    xj->res.timed_out, "truncated", xj->res.truncated);
}

/* Record a host key learned on first contact (the first head's wins). */
static void
exec_record(struct jobrun *jr, const json_t *result, const char *err)
{
	struct exec_job	*xj = jr->priv;

	(void)result;
	(void)err;
	if (xj != NULL && xj->res.learned != NULL)
		(void)db_run(jr->ctx.db, SQL_HOSTKEY_PUT, "ssd", jr->node,
		    xj->res.learned, time_now());
}

static void
exec_cleanup(struct jobrun *jr)
{
	struct exec_job	*xj = jr->priv;

	if (xj == NULL)
		return;
	if (xj->out != -1)
		close(xj->out);
	ssh_result_free(&xj->res);
	node_ssh_free(&xj->node);
	free(xj);
	jr->priv = NULL;
}

const struct runkind run_exec = {
	"exec", exec_prepare, exec_run, exec_record, exec_cleanup
};
