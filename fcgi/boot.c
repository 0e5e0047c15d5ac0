/*
 * Boot progress: how far each node got in its network boot.
 *
 * Five stages, in the order a boot passes them: dhcp (dnsmasq leased the
 * node an address), script (corral-api served its iPXE script), kernel
 * and initramfs (nginx sent the whole file), status (the node's first
 * report after its script).  Who sees each stage:
 *   - script and status: corral-api, as it answers them;
 *   - dhcp: dnsmasq's dhcp-script runs `corral-jobd boot-event dhcp ...`,
 *     which sends one line to corral-jobd's boot event socket;
 *   - kernel, initramfs: nginx logs each signed download to the same
 *     socket (access_log syslog:server=unix:...), after the last byte.
 * The rows are telemetry: an event lost (jobd down, socket full) loses
 * a stage's time, never a boot.
 *
 * One row per node (node_boot): the furthest stage of the current boot,
 * its time, and every stage seen in this boot with its time.  What makes
 * a new boot is boot_advance's rule, kept pure so the unit test reads as
 * a table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/*
 * A node silent for this long (s) since its last stage starts a new boot
 * at its next DHCP: a boot that stalled is over.
 */
#define BOOT_STALE_AFTER	600.0

static const char *const stage_names[BOOT__MAX] = {
	"dhcp", "script", "kernel", "initramfs", "status",
};

/* The stage called name, or -1. */
int
boot_stage_parse(const char *name)
{
	int	 i;

	for (i = 0; i < BOOT__MAX; i++)
		if (name != NULL && strcmp(name, stage_names[i]) == 0)
			return i;
	return -1;
}

/* The name of stage s (borrowed). */
const char *
boot_stage_name(int s)
{
	return s >= 0 && s < BOOT__MAX ? stage_names[s] : "unknown";
}

/*
 * Apply event ev at time at to a node's progress: cur (its furthest
 * stage, -1 for none), cur_at (when it got there) and stages (borrowed;
 * changed in place).  Returns the new furthest stage, and sets *changed
 * when anything is to be written.
 *
 * A new boot begins
 *   - at a script request, once the current boot got past its script
 *     (the firmware came back for a fresh start);
 *   - at a DHCP lease, once the node was up (status) or silent for
 *     BOOT_STALE_AFTER.
 * Otherwise the event joins the current boot: a DHCP lease inside a boot
 * (the initramfs asks again) keeps the boot's first one, a status report
 * counts only the first time (nodes report every few minutes), and the
 * furthest stage never goes back.  A report from a node never seen
 * booting (booted from its disk, say) records nothing: it has no boot
 * to be a stage of.
 */
int
boot_advance(int cur, double cur_at, json_t *stages, int ev, double at,
    int *changed)
{
	int	 restart;

	*changed = 0;
	if (cur < 0 && ev == BOOT_STATUS)
		return cur;
	restart = cur < 0 ||
	    (ev == BOOT_SCRIPT && cur > BOOT_SCRIPT) ||
	    (ev == BOOT_DHCP && (cur == BOOT_STATUS ||
	    at - cur_at > BOOT_STALE_AFTER));
	if (restart) {
		json_object_clear(stages);
		json_object_set_new(stages, stage_names[ev], json_real(at));
		*changed = 1;
		return ev;
	}
	if ((ev == BOOT_DHCP || ev == BOOT_STATUS) &&
	    json_object_get(stages, stage_names[ev]) != NULL)
		return cur;
	json_object_set_new(stages, stage_names[ev], json_real(at));
	*changed = 1;
	return ev > cur ? ev : cur;
}

/*
 * The stored progress of node uid into *stage (-1: none), *at and
 * *stages (new reference, {} if none), with SQL_BOOT_GET or, inside a
 * transaction, SQL_BOOT_LOCK.
 */
static enum apierr
boot_load(struct ctx *c, enum sql q, const char *uid, int *stage, double *at,
    json_t **stages)
{
	char		*name = NULL, *text = NULL, err[64];
	enum dbrc	 rc;

	*stage = -1;
	*at = 0;
	*stages = NULL;
	if ((rc = db_run(c->db, q, "s", uid)) != DB_OK)
		return ctx_dbfail(c, rc);
	rc = db_next(c->db, q, "sds", &name, at, &text);
	db_done(c->db, q);
	if (rc == DB_OK) {
		*stage = boot_stage_parse(name);
		*stages = json_decode_strict(text, strlen(text), err, sizeof(err));
	}
	free(name);
	free(text);
	if (rc != DB_OK && rc != DB_DONE)
		return ctx_dbfail(c, rc);
	if (!json_is_object(*stages)) {
		json_decref(*stages);
		*stages = json_object();
		*stage = -1;
	}
	return API_OK;
}

/*
 * The locked half of boot_record: one transaction that advances node
 * uid's stored progress to ev at time at.
 */
static enum apierr
boot_record_locked(struct ctx *c, const char *uid, int ev, double at)
{
	json_t		*stages = NULL;
	char		*text = NULL;
	double		 cur_at;
	int		 cur, next, changed;
	enum apierr	 rc;
	enum dbrc	 drc;

	if ((drc = db_begin(c->db)) != DB_OK)
		return ctx_dbfail(c, drc);
	if ((rc = boot_load(c, SQL_BOOT_LOCK, uid, &cur, &cur_at, &stages)) !=
	    API_OK)
		goto out;
	next = boot_advance(cur, cur_at, stages, ev, at, &changed);
	if (changed) {
		text = json_dumps(stages, JSON_COMPACT);
		/* The furthest stage's own time: when the boot got there. */
		if ((drc = db_run(c->db, SQL_BOOT_PUT, "ssds", uid,
		    stage_names[next], json_real_value(json_object_get(stages,
		    stage_names[next])), text)) != DB_OK) {
			rc = ctx_dbfail(c, drc);
			goto out;
		}
	}
	if ((drc = db_commit(c->db)) != DB_OK)
		rc = ctx_dbfail(c, drc);
out:
	if (rc != API_OK)
		db_rollback(c->db);
	free(text);
	json_decref(stages);
	return rc;
}

/*
 * Record that node uid reached stage ev at time at.  The common case
 * (a status report of a node that is up) only reads; a change is made
 * under the row's lock, so two heads' events never lose each other.
 * The lock of a row not there yet is InnoDB's gap lock, which two first
 * boots can hold at once and then deadlock on their inserts (a boot
 * storm does, scripts/bench/bootstorm): the loser tries again.
 */
enum apierr
boot_record(struct ctx *c, const char *uid, int ev, double at)
{
	json_t		*stages = NULL;
	double		 cur_at;
	int		 cur, changed, try;
	enum apierr	 rc;

	if ((rc = boot_load(c, SQL_BOOT_GET, uid, &cur, &cur_at, &stages)) !=
	    API_OK)
		return rc;
	(void)boot_advance(cur, cur_at, stages, ev, at, &changed);
	json_decref(stages);
	if (!changed)
		return API_OK;
	for (try = 0; try < 5; try++)
		if ((rc = boot_record_locked(c, uid, ev, at)) != API_CONFLICT)
			break;
	return rc;
}

/*
 * Add node uid's boot progress to its status object st (borrowed):
 * boot_stage, boot_time and boot_stages, absent for a node never seen
 * booting.
 */
enum apierr
boot_status_add(struct ctx *c, const char *uid, json_t *st)
{
	json_t		*stages;
	double		 at;
	int		 stage;
	enum apierr	 rc;

	if ((rc = boot_load(c, SQL_BOOT_GET, uid, &stage, &at, &stages)) !=
	    API_OK)
		return rc;
	if (stage >= 0) {
		json_object_set_new(st, "boot_stage",
		    json_string(stage_names[stage]));
		json_object_set_new(st, "boot_time", json_real(at));
		json_object_set_new(st, "boot_stages", stages);
	} else
		json_decref(stages);
	return API_OK;
}

/*
 * Parse one boot event line into its stage and the node's MAC (mac,
 * normalized).  Returns 0, or -1 for a line that is not an event or
 * reports nothing (a HEAD request, a partial or failed download).
 *   dhcp <mac> <ip>
 *       from `corral-jobd boot-event dhcp`;
 *   <syslog header> corral_boot: file <uri> <status> <method> <sent> <length>
 *       nginx's log_format corral_boot, uri = /boot/file/<mac>/<sha256>/<name>.
 */
int
boot_event_parse(const char *line, int *stage, char mac[18])
{
	char		 m[32], uri[256], method[16], name[32], sha[72];
	const char	*p;
	long long	 sent, length;
	int		 status;

	if (strncmp(line, "dhcp ", 5) == 0) {
		if (sscanf(line + 5, "%31s", m) != 1)
			return -1;
		*stage = BOOT_DHCP;
		return mac_normalize(m, mac);
	}
	if ((p = strstr(line, "corral_boot: file ")) == NULL)
		return -1;
	p += strlen("corral_boot: file ");
	if (sscanf(p, "%255s %d %15s %lld %lld", uri, &status, method, &sent,
	    &length) != 5)
		return -1;
	/* Only a whole file sent counts: not HEAD, not a range, not a cut. */
	if (strcmp(method, "GET") != 0 || status != 200 || sent <= 0 ||
	    sent != length)
		return -1;
	if (sscanf(uri, "/boot/file/%31[0-9a-f-]/%71[0-9a-f]/%31s", m, sha,
	    name) != 3)
		return -1;
	if (strcmp(name, BOOT_KERNEL_NAME) == 0)
		*stage = BOOT_KERNEL;
	else if (strcmp(name, BOOT_INITRD_NAME) == 0)
		*stage = BOOT_INITRAMFS;
	else
		return -1;
	return mac_normalize(m, mac);
}

/*
 * Record the event in line (one datagram of the boot event socket) for
 * the node with its MAC, in whatever tenant: MACs are unique across
 * tenants, and the line came from this head's own dnsmasq or nginx.
 * Lines that name no known node are dropped (unknown MACs boot too).
 */
void
boot_event(struct db *db, const struct conf *conf, const char *line)
{
	struct ctx	 c;
	struct objrow	 o;
	char		 mac[18];
	int		 stage;

	if (boot_event_parse(line, &stage, mac) == -1)
		return;
	ctx_init(&c, db, conf, scope_of_tenant(SCOPE_ALL, 0, "boot event"));
	if (obj_find(&c, &node_class, mac, 0, &o) == API_OK) {
		if (boot_record(&c, o.uid, stage, time_now()) != API_OK)
			log_warn("boot event for %s: %s", mac, c.reason);
		objrow_free(&o);
	}
	ctx_clear(&c);
}
