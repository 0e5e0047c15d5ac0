/*
 * The data layer: the only file that talks to MariaDB.
 *
 * Every statement corral runs is in sqls[] below, prepared once per
 * connection, bound with a tiny format string ('s' string, 'i' long long,
 * 'd' double) and never built from strings.  Reading the table is reading
 * the whole data-access surface.
 *
 * A lost connection (server restart, idle timeout) is noticed on use.
 * The statement that found it is retried once on a fresh connection only
 * when no transaction is open and the statement is marked RETRY (safe to
 * run twice); otherwise DB_GONE tells the caller to answer 503 and the
 * next request reconnects.  A failed COMMIT (Galera refuses a
 * transaction that lost certification exactly there) leaves the session
 * as a fresh one: rolled back, autocommit on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "extern.h"

/* A tenant as tenant.c reads it; the nullable limits as text. */
#define TENANT_COLS "id, uid, name, label, description, customer, state, " \
	"workers, CAST(max_tenancies AS CHAR), CAST(max_nodes AS CHAR), hooks, " \
	"kms, bootstrap, created_at + 0e0, version, last_modified + 0e0, " \
	"last_modified_on, last_modified_by"
#define OBJ_COLS "uid, name, tenant_id, doc, version, last_modified + 0e0, " \
	"last_modified_on, last_modified_by"

/*
 * A tenancy member's MAC and address, taken out of its document by the
 * database: short strings sort in a temporary table in memory, where the
 * whole document (LONGTEXT) would send it to disk.
 */
#define TENANCY_MEMBER_COLS "CAST(JSON_VALUE(o.doc, '$.mac') AS CHAR(64)), " \
	"CAST(JSON_VALUE(o.doc, '$.ip') AS CHAR(64))"

/*
 * The text of every statement, in the order of enum sql (extern.h): first
 * those that may be run again on a fresh connection after the connection
 * was lost while they ran (then the server may or may not have executed
 * them): reads, upserts, and inserts of a row that brings its own unique
 * key with ON DUPLICATE KEY (a second run finds the first's row).  From
 * SQL__ONCE on, statements run at most once: a second run would do or
 * answer something else, so a lost connection is DB_GONE and the client
 * is told to try again.  Inside a transaction nothing is retried (the
 * transaction died with the connection).
 */
static const char *const sqls[] = {
	/* SQL_SCHEMA_VERSION */
	"SELECT COALESCE(MAX(version), 0) FROM schema_version",
	/* SQL_TENANT_BY_NAME */
	"SELECT id, uid, name FROM tenants WHERE name = ?",
	/* SQL_TENANT_BY_ID */
	"SELECT id, uid, name FROM tenants WHERE id = ?",
	/* SQL_OBJ_LIST */
	"SELECT " OBJ_COLS " FROM objects WHERE class = ? AND tenant_id = ? "
	"ORDER BY name",
	/* SQL_OBJ_LIST_ALL */
	"SELECT " OBJ_COLS " FROM objects WHERE class = ? ORDER BY name",
	/* SQL_OBJ_BY_UID */
	"SELECT " OBJ_COLS " FROM objects WHERE class = ? AND uid = ?",
	/* SQL_OBJ_BY_NAME */
	"SELECT " OBJ_COLS " FROM objects WHERE class = ? AND tenant_id = ? "
	"AND name = ?",
	/*
	 * SQL_OBJ_BY_NAME_ANY: The superadministrator's view; two rows =
	 * ambiguous.
	 */
	"SELECT " OBJ_COLS " FROM objects WHERE class = ? AND name = ? "
	"ORDER BY tenant_id LIMIT 2",
	/* SQL_OBJ_BY_KEY */
	"SELECT o.uid, o.name, o.tenant_id, o.doc, o.version, "
	"o.last_modified + 0e0, o.last_modified_on, o.last_modified_by "
	"FROM object_keys k JOIN objects o ON o.uid = k.uid "
	"WHERE k.class = ? AND k.kind = ? AND k.value = ?",
	/*
	 * SQL_KEY_MAX: The largest key with a prefix: a naming pool's largest
	 * index.
	 */
	"SELECT MAX(value) FROM object_keys WHERE class = ? AND kind = ? "
	"AND value LIKE ?",
	/*
	 * SQL_REF_WHO: Who refers to an object, for the reason a delete fails.
	 */
	"SELECT o.class, o.name FROM object_refs r JOIN objects o "
	"ON o.uid = r.uid WHERE r.ref_uid = ? ORDER BY o.class, o.name LIMIT 8",
	/*
	 * SQL_REFRESH_INSERT: jti is random and unique: a second run finds the
	 * first's row.
	 */
	"INSERT INTO refresh_tokens (jti, family, admin_uid, expires_at) "
	"VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE jti = jti",
	/* SQL_REFRESH_REVOKE_FAMILY */
	"UPDATE refresh_tokens SET revoked = 1 WHERE family = ?",
	/*
	 * SQL_AUDIT_LIST_UP, SQL_AUDIT_LIST_DOWN: a page of the audit log
	 * (api_audit.c) in id order from after=, or backwards from before=.
	 * A filter bound NULL (or tenant 0: every tenant) matches every row;
	 * MariaDB folds the bound values before it picks an index.
	 */
#define AUDIT_LIST \
	"SELECT a.id, a.at + 0e0, a.actor, a.actor_uid, a.tenant_id, t.name, " \
	"a.method, a.route, a.object, a.fields, a.status, a.reason, a.source, " \
	"a.request_id FROM audit a LEFT JOIN tenants t ON t.id = a.tenant_id " \
	"WHERE (? = 0 OR a.tenant_id = ?) AND a.at >= ? AND a.at <= ? " \
	"AND a.id > ? AND a.id < ? AND (? IS NULL OR a.actor = ?) " \
	"AND (? IS NULL OR a.object = ?) AND (? IS NULL OR a.route = ?) "
	/* SQL_AUDIT_LIST_UP */
	AUDIT_LIST "ORDER BY a.id LIMIT ?",
	/* SQL_AUDIT_LIST_DOWN */
	AUDIT_LIST "ORDER BY a.id DESC LIMIT ?",
	/* SQL_CLUSTER_LIST */
	"SELECT k, v FROM cluster_settings ORDER BY k",
	/* SQL_CLUSTER_SET */
	"INSERT INTO cluster_settings (k, v) VALUES (?, ?) "
	"ON DUPLICATE KEY UPDATE v = VALUES(v)",
	/* SQL_TENANT_SETTING_LIST */
	"SELECT k, v FROM tenant_settings WHERE tenant_id = ? ORDER BY k",
	/* SQL_TENANT_SETTING_GET */
	"SELECT v FROM tenant_settings WHERE tenant_id = ? AND k = ?",
	/* SQL_TENANT_SETTING_SET */
	"INSERT INTO tenant_settings (tenant_id, k, v) VALUES (?, ?, ?) "
	"ON DUPLICATE KEY UPDATE v = VALUES(v)",
	/*
	 * SQL_JOB_INSERT: uid is random and unique: a second run finds the
	 * first's row.
	 */
	"INSERT INTO jobs (uid, tenant_id, kind, target, params, created_by, "
	"created_at, node_uid, batch_id, bmc_host, head, not_before, "
	"expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, 0), ?, ?, ?, "
	"NULLIF(?, 0)) ON DUPLICATE KEY UPDATE uid = uid",
	/* SQL_JOB_GET */
	"SELECT j.uid, j.tenant_id, j.kind, j.target, j.params, j.state, "
	"j.attempts, j.result, j.created_by, j.created_at + 0e0, "
	"j.started_at + 0e0, j.finished_at + 0e0, b.uid FROM jobs j "
	"LEFT JOIN batches b ON b.id = j.batch_id WHERE j.uid = ?",
	/* SQL_JOB_LOAD */
	"SELECT uid, tenant_id, kind, target, params, node_uid, attempts "
	"FROM jobs WHERE id = ?",
	/*
	 * SQL_JOB_FINISH: Only the lease holder writes the result.  The last
	 * clause matches the row this statement already wrote (same state,
	 * same time), so a second run after a lost answer finds it
	 * (CLIENT_FOUND_ROWS) and reports it written.
	 */
	"UPDATE jobs SET state = ?, result = ?, finished_at = ? "
	"WHERE id = ? AND claimed_by = ? AND (state = 'running' OR "
	"(state = ? AND finished_at = ?))",
	/*
	 * SQL_JOB_BEAT: A runner renews its lease; 0 rows means it lost it.
	 * Lease times are the database's clock, the same for every head.
	 */
	"UPDATE jobs SET heartbeat_at = UNIX_TIMESTAMP(NOW(6)) "
	"WHERE id = ? AND claimed_by = ? AND state IN ('claimed', 'running')",
	/*
	 * SQL_JOB_FAIL_ORPHANS: A running job whose lease ran out: its runner
	 * died, and what it did cannot be known, so it is not run again.
	 */
	"UPDATE jobs SET state = 'failed', result = ?, finished_at = ? "
	"WHERE state = 'running' AND heartbeat_at < UNIX_TIMESTAMP(NOW(6)) - ?",
	/*
	 * SQL_JOB_REQUEUE_ORPHANS: A claimed job whose lease ran out never
	 * started: queue it again; it runs exactly once later.
	 */
	"UPDATE jobs SET state = 'queued', claimed_by = NULL, claimed_at = NULL, "
	"heartbeat_at = NULL, slot = NULL "
	"WHERE state = 'claimed' AND heartbeat_at < UNIX_TIMESTAMP(NOW(6)) - ?",
	/* SQL_JOB_EXPIRE: Queued jobs nobody waits for any more. */
	"UPDATE jobs SET state = 'cancelled', result = ?, finished_at = ? "
	"WHERE state = 'queued' AND expires_at IS NOT NULL AND expires_at < ?",
	/* SQL_JOB_CANCEL */
	"UPDATE jobs SET state = 'cancelled', result = ?, finished_at = ? "
	"WHERE uid = ? AND state = 'queued'",
	/* SQL_JOB_ACTIVE: What the claim limits count. */
	"SELECT tenant_id, COALESCE(slot, -1), bmc_host FROM jobs "
	"WHERE state IN ('claimed', 'running')",
	/* SQL_TENANT_WORKERS: Who is capped by its workers, and at what. */
	"SELECT id, workers, name = '" MGMT_TENANT "' FROM tenants",
	/*
	 * SQL_JOB_ENDED: Which of the waited-for jobs (a JSON array of UIDs)
	 * have ended.
	 */
	"SELECT j.uid FROM JSON_TABLE(?, '$[*]' COLUMNS (u CHAR(32) PATH '$')) "
	"AS w JOIN jobs j ON j.uid = w.u "
	"WHERE j.state IN ('done', 'failed', 'cancelled')",
	/*
	 * SQL_JOB_LIST: A page of jobs, newest first, in scope (0: all),
	 * filtered by state, kind, node and batch (NULL/0: any).
	 */
	"SELECT j.uid, j.kind, j.target, j.state, j.attempts, j.result, "
	"j.created_by, j.created_at + 0e0, j.started_at + 0e0, "
	"j.finished_at + 0e0, b.uid, j.id FROM jobs j "
	"LEFT JOIN batches b ON b.id = j.batch_id "
	"WHERE (? = 0 OR j.tenant_id = ?) AND (? IS NULL OR j.state = ?) "
	"AND (? IS NULL OR j.kind = ?) AND (? IS NULL OR j.node_uid = ?) "
	"AND (? = 0 OR j.batch_id = ?) AND j.id < ? ORDER BY j.id DESC LIMIT ?",
	/* SQL_JOB_STATS: Queued and active jobs per tenant in scope. */
	"SELECT t.name, t.workers, COALESCE(SUM(j.state = 'queued'), 0), "
	"COALESCE(SUM(j.state IN ('claimed', 'running')), 0) FROM tenants t "
	"LEFT JOIN jobs j ON j.tenant_id = t.id "
	"AND j.state IN ('queued', 'claimed', 'running') "
	"WHERE (? = 0 OR t.id = ?) GROUP BY t.id ORDER BY t.name",
	/* SQL_JOB_NODE_BUSY: Whether a node has a job not yet ended. */
	"SELECT COUNT(*) FROM jobs WHERE node_uid = ? "
	"AND state IN ('queued', 'claimed', 'running')",
	/*
	 * SQL_BATCH_INSERT: uid is random and unique: a second run finds the
	 * first's row, and LAST_INSERT_ID(id) hands back its id.
	 */
	"INSERT INTO batches (uid, tenant_id, kind, params, total, created_by, "
	"created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
	"ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
	/* SQL_BATCH_GET */
	"SELECT id, uid, tenant_id, kind, params, total, created_by, "
	"created_at + 0e0 FROM batches WHERE uid = ?",
	/* SQL_BATCH_JOBS: A batch's jobs with their node's name. */
	"SELECT j.uid, j.node_uid, o.name, j.state, j.result, "
	"j.started_at + 0e0, j.finished_at + 0e0 FROM jobs j "
	"LEFT JOIN objects o ON o.uid = j.node_uid "
	"WHERE j.batch_id = ? ORDER BY j.id",
	/* SQL_POWER_PUT: What the BMC last said. */
	"INSERT INTO node_power (uid, state, checked_at, error) "
	"VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE state = VALUES(state), "
	"checked_at = VALUES(checked_at), error = VALUES(error)",
	/* SQL_POWER_GET */
	"SELECT state, checked_at + 0e0, error FROM node_power WHERE uid = ?",
	/*
	 * SQL_NODE_POWER_LIST: Nodes in scope (0: all) with their remembered
	 * power state and whether they have been silent since a time.
	 */
	"SELECT o.uid, COALESCE(p.state, 'unchecked'), "
	"COALESCE(s.updated_at, 0) < ? FROM objects o "
	"LEFT JOIN node_power p ON p.uid = o.uid "
	"LEFT JOIN node_status s ON s.uid = o.uid "
	"WHERE o.class = 'node' AND (? = 0 OR o.tenant_id = ?) ORDER BY o.name",
	/* SQL_HOSTKEY_GET */
	"SELECT hostkey FROM node_hostkeys WHERE uid = ?",
	/*
	 * SQL_HOSTKEY_PUT: First contact only: a key already recorded (by
	 * another head, say) wins.
	 */
	"INSERT IGNORE INTO node_hostkeys (uid, hostkey, learned_at) "
	"VALUES (?, ?, ?)",
	/* SQL_HOSTKEY_DELETE */
	"DELETE FROM node_hostkeys WHERE uid = ?",
	/* SQL_STATUS_GET */
	"SELECT status, updated_at + 0e0 FROM node_status WHERE uid = ?",
	/* SQL_STATUS_PUT */
	"INSERT INTO node_status (uid, status, updated_at) VALUES (?, ?, ?) "
	"ON DUPLICATE KEY UPDATE status = VALUES(status), "
	"updated_at = VALUES(updated_at)",
	/*
	 * SQL_NODE_SCAN: * What selectors read, for every node in scope (0:
	 * all); the status only when asked for, as it is the bulk of it.
	 */
	"SELECT o.uid, o.doc, IF(?, s.status, NULL), "
	"COALESCE(s.updated_at, 0) + 0e0, p.state, b.stage, "
	"COALESCE(b.at, 0) + 0e0 FROM objects o "
	"LEFT JOIN node_status s ON s.uid = o.uid "
	"LEFT JOIN node_power p ON p.uid = o.uid "
	"LEFT JOIN node_boot b ON b.uid = o.uid "
	"WHERE o.class = 'node' AND (? = 0 OR o.tenant_id = ?) ORDER BY o.name",
	/*
	 * SQL_OBJ_UIDS: Every object in scope (0: all), for /cluster/summary.
	 */
	"SELECT class, uid FROM objects WHERE (? = 0 OR tenant_id = ?) "
	"ORDER BY class, name",
	/* SQL_REF_FROM: Who refers to an object through one field. */
	"SELECT uid FROM object_refs WHERE ref_uid = ? AND field = ?",
	/*
	 * SQL_SECRET_LIST: Secret attribute values, kept apart from the
	 * documents.
	 */
	"SELECT k, v FROM object_secrets WHERE uid = ? ORDER BY k",
	/*
	 * SQL_MASTER_CURRENT: The master key new tenant keys are wrapped
	 * under.  A locking read: in a transaction it sees the newest commit,
	 * not the snapshot, so a rekey that retired a key is noticed.
	 */
	"SELECT id FROM master_keys ORDER BY created_at DESC, id LIMIT 1 "
	"LOCK IN SHARE MODE",
	/* SQL_TENANT_KEY_OF: A tenant's data key, the newest commit. */
	"SELECT id FROM tenant_keys WHERE tenant_id = ? LOCK IN SHARE MODE",
	/*
	 * SQL_TENANT_KEY_GET: A data key and the master key it is wrapped
	 * under, the newest commit (a rekey may have just re-wrapped it).
	 */
	"SELECT tenant_id, master_id, wrapped FROM tenant_keys WHERE id = ? "
	"LOCK IN SHARE MODE",
	/*
	 * SQL_TENANT_KEY_INSERT: One per tenant: the first writer's wins, the
	 * others read it back.  id is random and unique: a second run finds
	 * the first's row.
	 */
	"INSERT INTO tenant_keys (id, tenant_id, master_id, wrapped, created_at) "
	"VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE id = id",
	/*
	 * SQL_FILE_REF_GET: The file an object's slot uses, with how many
	 * uses the file has in all.
	 */
	"SELECT r.sha256, f.sha1, f.size, r.mtime + 0e0, f.fmt, r.uid, "
	"(SELECT COUNT(*) FROM file_refs x WHERE x.sha256 = r.sha256) "
	"FROM file_refs r JOIN files f ON f.sha256 = r.sha256 "
	"WHERE r.obj_uid = ? AND r.slot = ?",
	/* SQL_FILE_USES: The files an object uses (before it is deleted). */
	"SELECT sha256 FROM file_refs WHERE obj_uid = ?",
	/* SQL_FILE_UNUSED: Stored files nothing uses. */
	"SELECT f.sha256, f.size FROM files f WHERE NOT EXISTS "
	"(SELECT 1 FROM file_refs r WHERE r.sha256 = f.sha256) ORDER BY f.sha256",
	/* SQL_FILE_ALL: Every stored file, with its uses, for the store check. */
	"SELECT f.sha256, f.sha1, f.size, (SELECT COUNT(*) FROM file_refs r "
	"WHERE r.sha256 = f.sha256) FROM files f ORDER BY f.sha256",
	/*
	 * SQL_FILE_ADD: A file entering the store; one already there keeps
	 * its row, now locked for the caller's transaction.
	 */
	"INSERT INTO files (sha256, sha1, size, fmt, stored_at, stored_on) "
	"VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE sha256 = sha256",
	/* SQL_GITSYNC_SEED: A gitrepo's sync row on a head, once. */
	"INSERT IGNORE INTO gitrepo_sync (uid, head) VALUES (?, ?)",
	/*
	 * SQL_GITSYNC_TAKE: The scheduler's turn (run_git.c): queue a sync
	 * only if none was queued within the period (queued_at <= now -
	 * period).  A second run after a lost answer matches nothing: one
	 * period is skipped, never a sync queued twice.
	 */
	"UPDATE gitrepo_sync SET queued_at = ? WHERE uid = ? AND head = ? "
	"AND (queued_at IS NULL OR queued_at <= ?)",
	/* SQL_GITSYNC_DONE: How a head's last sync of a gitrepo ended. */
	"INSERT INTO gitrepo_sync (uid, head, synced_at, state, error) "
	"VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
	"synced_at = VALUES(synced_at), state = VALUES(state), "
	"error = VALUES(error)",
	/* SQL_GITSYNC_GET */
	"SELECT queued_at + 0e0, synced_at + 0e0, state, error "
	"FROM gitrepo_sync WHERE uid = ? AND head = ?",
	/*
	 * SQL_DHCP_FINGERPRINT: What dnsmasq's files are made of, in one row
	 * that changes with every insert, update and delete (the version sum
	 * and the UID checksum catch the writes MAX(last_modified) misses:
	 * an older timestamp committed late).  Read from the index of 0010.
	 */
	"SELECT COUNT(*), COALESCE(MAX(last_modified), 0) + 0e0, "
	"CAST(COALESCE(SUM(version), 0) AS SIGNED), "
	"CAST(COALESCE(BIT_XOR(CRC32(uid)), 0) AS SIGNED) FROM objects "
	"WHERE class IN ('hostname', 'net', 'node')",
	/* SQL_DHCP_OBJECTS: Every row dnsmasq's files are made from, in a fixed order. */
	"SELECT class, uid, name, doc, tenant_id = (SELECT id FROM tenants "
	"WHERE name = '" MGMT_TENANT "') FROM objects "
	"WHERE class IN ('hostname', 'net', 'node') ORDER BY class, name, uid",
	/* SQL_TENANT_GET: A tenant by UID or name, every column the API shows. */
	"SELECT " TENANT_COLS " FROM tenants WHERE uid = ? OR name = ?",
	/* SQL_TENANT_ALL */
	"SELECT id, uid, name FROM tenants ORDER BY id",
	/* SQL_TENANT_USAGE: A tenant's tenancies and nodes, against its limits. */
	"SELECT (SELECT COUNT(*) FROM objects WHERE class = 'tenancy' AND "
	"tenant_id = ?), (SELECT COUNT(*) FROM objects WHERE class = 'node' AND "
	"tenant_id = ?)",
	/* SQL_TENANT_POOL: The workers every tenant holds. */
	"SELECT COALESCE(SUM(workers), 0) FROM tenants",
	/* SQL_TENANT_JOBCOUNT: Jobs in progress and queued, of a tenant (0: all). */
	"SELECT COALESCE(SUM(state IN ('claimed', 'running')), 0), "
	"COALESCE(SUM(state = 'queued'), 0) FROM jobs WHERE tenant_id = ? OR ? = 0",
	/* SQL_TENANCY_OF_NODE: No row: the node is in Available. */
	"SELECT tenancy_uid FROM node_tenancy WHERE node_uid = ?",
	/* SQL_TENANCY_MEMBERS: A tenancy's nodes, by name. */
	"SELECT o.uid, o.name, " TENANCY_MEMBER_COLS " FROM node_tenancy nt "
	"JOIN objects o ON o.uid = nt.node_uid WHERE nt.tenancy_uid = ? "
	"ORDER BY o.name",
	/* SQL_TENANCY_AVAILABLE: The management tenant's nodes in no tenancy's row. */
	"SELECT o.uid, o.name, " TENANCY_MEMBER_COLS " FROM objects o "
	"LEFT JOIN node_tenancy nt "
	"ON nt.node_uid = o.uid WHERE o.class = 'node' AND o.tenant_id = ? "
	"AND nt.node_uid IS NULL ORDER BY o.name",
	/* SQL_TENANCY_IDS: The VLANs, VNIs and partition keys a tenancy holds. */
	"SELECT kind + 0, value FROM tenancy_ids WHERE tenancy_uid = ? ORDER BY kind, value",
	/* SQL_TENANCY_IDS_USED: Those of one kind in use in a range, ascending. */
	"SELECT value FROM tenancy_ids WHERE kind = ? AND value BETWEEN ? AND ? "
	"ORDER BY value",
	/* SQL_TENANCY_TOKEN_GET: Whether a tenancy token is still good. */
	"SELECT t.tenancy_uid, o.name, o.tenant_id, t.expires_at, t.revoked "
	"FROM tenancy_tokens t JOIN objects o ON o.uid = t.tenancy_uid "
	"WHERE t.jti = ?",
	/* SQL_TENANCY_TOKENS */
	"SELECT jti, created_at + 0e0, created_by, expires_at, revoked FROM "
	"tenancy_tokens WHERE tenancy_uid = ? ORDER BY created_at",
	/* SQL_NODEHOME_GET: What the management tenant keeps of a leased node. */
	"SELECT " OBJ_COLS " FROM objects WHERE class = 'nodehome' AND name = ?",
	/* SQL_WRAPKEY_GET: A tenant's RSA wrapping key, if it has one. */
	"SELECT keytype, master_id, sealed, public_pem FROM tenant_wrap_keys "
	"WHERE tenant_id = ?",
	/* SQL_TENANT_OBJS_OF: One class of a tenant, oldest first (bootstrap). */
	"SELECT " OBJ_COLS " FROM objects WHERE class = ? AND tenant_id = ? "
	"ORDER BY last_modified, uid",
	/* SQL_TENANT_STATE_OF: For token checks (auth through the cache). */
	"SELECT state FROM tenants WHERE id = ?",
	/*
	 * The change feed (follow.c).  SQL_CHANGES_NEW: what came after the
	 * follower's last row.  SQL_CHANGES_RANGE: a gap it is waiting on.
	 * SQL_CHANGES_MINE: this connection's own writes, after the request
	 * that made them.  SQL_CHANGES_START: where a new follower begins:
	 * before the rows of the last ? seconds, whose gaps may still fill.
	 * SQL_CHANGES_TRIM: rows older than ? seconds go (retry-safe).
	 */
#define CHANGE_COLS "seq, class, tenant_id, uid, name"
	"SELECT " CHANGE_COLS " FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
	"SELECT " CHANGE_COLS " FROM changes WHERE seq BETWEEN ? AND ?",
	"SELECT " CHANGE_COLS " FROM changes WHERE conn = CONNECTION_ID() "
	"AND seq > ? ORDER BY seq",
	"SELECT COALESCE((SELECT MIN(seq) - 1 FROM changes "
	"WHERE at > NOW(6) - INTERVAL ? SECOND), "
	"(SELECT MAX(seq) FROM changes), 0)",
	"DELETE FROM changes WHERE at < NOW(6) - INTERVAL ? SECOND LIMIT 10000",
	/* ---------------------------------------------- SQL__ONCE: never retried */
	/*
	 * SQL_OBJ_LOCK: The row a read-modify-write works on (in a
	 * transaction).
	 */
	"SELECT " OBJ_COLS " FROM objects WHERE uid = ? FOR UPDATE",
	/* SQL_OBJ_INSERT */
	"INSERT INTO objects (uid, class, tenant_id, name, doc, version, "
	"last_modified, last_modified_on, last_modified_by) "
	"VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)",
	/* SQL_OBJ_UPDATE */
	"UPDATE objects SET tenant_id = ?, name = ?, doc = ?, "
	"version = version + 1, last_modified = ?, last_modified_on = ?, "
	"last_modified_by = ? WHERE uid = ?",
	/* SQL_OBJ_DELETE */
	"DELETE FROM objects WHERE uid = ?",
	/* SQL_KEY_INSERT */
	"INSERT INTO object_keys (class, kind, value, uid) VALUES (?, ?, ?, ?)",
	/* SQL_KEY_DELETE_ALL */
	"DELETE FROM object_keys WHERE uid = ?",
	/* SQL_REF_INSERT: A list naming one object twice needs one row. */
	"INSERT IGNORE INTO object_refs (uid, field, ref_uid) VALUES (?, ?, ?)",
	/* SQL_REF_DELETE_ALL */
	"DELETE FROM object_refs WHERE uid = ?",
	/* SQL_REFRESH_GET */
	"SELECT family, admin_uid, used, revoked FROM refresh_tokens "
	"WHERE jti = ? FOR UPDATE",
	/* SQL_REFRESH_USE */
	"UPDATE refresh_tokens SET used = 1 WHERE jti = ? AND used = 0",
	/*
	 * SQL_AUDIT_INSERT: once: the row has no key of its own a second
	 * run could find (audit.c).
	 */
	"INSERT INTO audit (at, actor, actor_uid, tenant_id, method, route, "
	"object, fields, status, reason, source, request_id) VALUES (?, ?, ?, "
	"NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?)",
	/*
	 * SQL_JOB_CLAIMABLE: SKIP LOCKED lets several jobd share the queue;
	 * a job pinned to a head runs only there.
	 */
	"SELECT id, tenant_id, node_uid, bmc_host FROM jobs "
	"WHERE state = 'queued' AND not_before <= ? "
	"AND (head IS NULL OR head = ?) ORDER BY id LIMIT ? "
	"FOR UPDATE SKIP LOCKED",
	/*
	 * SQL_JOB_CLAIM: Takes the lease.  The unique keys on busy_node and
	 * (tenant_id, busy_slot) refuse a second job on a busy node or a
	 * slot in use (DB_DUP); slot -1 is none.
	 */
	"UPDATE jobs SET state = 'claimed', claimed_by = ?, claimed_at = ?, "
	"heartbeat_at = UNIX_TIMESTAMP(NOW(6)), slot = NULLIF(?, -1), "
	"attempts = attempts + 1 WHERE id = ? AND state = 'queued'",
	/*
	 * SQL_JOB_START: Whether it moved the row is the answer: never run
	 * twice.
	 */
	"UPDATE jobs SET state = 'running', started_at = ?, "
	"heartbeat_at = UNIX_TIMESTAMP(NOW(6)) "
	"WHERE id = ? AND state = 'claimed' AND claimed_by = ?",
	/*
	 * SQL_TENANT_LOCK: Serializes assignment from a tenant's default pool.
	 */
	"SELECT id FROM tenants WHERE id = ? FOR UPDATE",
	/*
	 * SQL_KEY_VALUES: * Identifiers in use with a prefix (a naming pool's
	 * indexes); a locking read sees the newest rows, not the snapshot.
	 */
	"SELECT value FROM object_keys WHERE class = ? AND kind = ? "
	"AND value LIKE ? LOCK IN SHARE MODE",
	/* SQL_SECRET_PUT */
	"INSERT INTO object_secrets (uid, k, v) VALUES (?, ?, ?) "
	"ON DUPLICATE KEY UPDATE v = VALUES(v)",
	/* SQL_SECRET_DELETE */
	"DELETE FROM object_secrets WHERE uid = ? AND k = ?",
	/*
	 * SQL_MASTER_FIRST: The first master key, unless there is one: 0 rows
	 * means another process made it, and this one's file goes.
	 */
	"INSERT INTO master_keys (id, created_at, created_on) "
	"SELECT ?, ?, ? FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM master_keys)",
	/* SQL_MASTER_LOCK: A rekey holds every master key row. */
	"SELECT id FROM master_keys FOR UPDATE",
	/* SQL_MASTER_ADD */
	"INSERT INTO master_keys (id, created_at, created_on) VALUES (?, ?, ?)",
	/* SQL_MASTER_RETIRE: Once every tenant key is wrapped under the new one. */
	"DELETE FROM master_keys WHERE id <> ?",
	/* SQL_TENANT_KEYS_LOCK: What a rekey re-wraps. */
	"SELECT id, tenant_id, master_id, wrapped FROM tenant_keys ORDER BY id "
	"FOR UPDATE",
	/* SQL_TENANT_KEY_REWRAP */
	"UPDATE tenant_keys SET master_id = ?, wrapped = ? WHERE id = ?",
	/*
	 * SQL_SECRET_CLEAR_LOCK: Secret values not sealed yet (stored before
	 * migration 0006, or by hand), with the tenant of their object.
	 */
	"SELECT s.uid, s.k, s.v, o.tenant_id FROM object_secrets s "
	"JOIN objects o ON o.uid = s.uid WHERE s.v NOT LIKE '\"cs1:%' "
	"ORDER BY s.uid, s.k FOR UPDATE",
	/*
	 * SQL_FILE_LOCK: A stored file's row, locked, and its number of uses:
	 * whoever removes its bytes and whoever adds a use wait for each
	 * other here.
	 */
	"SELECT (SELECT COUNT(*) FROM file_refs r WHERE r.sha256 = f.sha256) "
	"FROM files f WHERE f.sha256 = ? FOR UPDATE",
	/* SQL_FILE_REF_LOCK: The file an object's slot uses now, locked. */
	"SELECT sha256 FROM file_refs WHERE obj_uid = ? AND slot = ? FOR UPDATE",
	/* SQL_FILE_REF_PUT: Make a slot use a file (a new use: a new uid). */
	"INSERT INTO file_refs (obj_uid, slot, sha256, uid, mtime, filename) "
	"VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
	"sha256 = VALUES(sha256), uid = VALUES(uid), mtime = VALUES(mtime), "
	"filename = VALUES(filename)",
	/* SQL_FILE_REF_DELETE */
	"DELETE FROM file_refs WHERE obj_uid = ? AND slot = ?",
	/* SQL_FILE_DELETE: Only once nothing uses it (checked under lock). */
	"DELETE FROM files WHERE sha256 = ?",
	/* SQL_BOOT_GET: A node's boot progress (boot.c). */
	"SELECT stage, at + 0e0, stages FROM node_boot WHERE uid = ?",
	/* SQL_BOOT_LOCK: The same, to change it. */
	"SELECT stage, at + 0e0, stages FROM node_boot WHERE uid = ? FOR UPDATE",
	/* SQL_BOOT_PUT */
	"INSERT INTO node_boot (uid, stage, at, stages) VALUES (?, ?, ?, ?) "
	"ON DUPLICATE KEY UPDATE stage = VALUES(stage), at = VALUES(at), "
	"stages = VALUES(stages)",
	/*
	 * SQL_JOB_GATE_USE: A passed hook gate lets one change through:
	 * whether it moved the row is the answer.
	 */
	"UPDATE jobs SET result = JSON_SET(COALESCE(result, '{}'), '$.used', "
	"TRUE) WHERE uid = ? AND kind = 'hookgate' AND state = 'done' AND "
	"JSON_EXTRACT(COALESCE(result, '{}'), '$.used') IS NULL",
	/*
	 * SQL_JOB_RETRY: The runner puts its job back in the queue, to be
	 * claimed again from not_before on (a webhook's backoff); only the
	 * lease holder may.  result keeps the last failure for GET /job.
	 */
	"UPDATE jobs SET state = 'queued', claimed_by = NULL, claimed_at = NULL, "
	"heartbeat_at = NULL, slot = NULL, not_before = ?, result = ? "
	"WHERE id = ? AND claimed_by = ? AND state = 'running'",
	/* SQL_TENANT_INSERT */
	"INSERT INTO tenants (uid, name, label, description, customer, state, "
	"workers, max_tenancies, max_nodes, hooks, kms, bootstrap, created_at, "
	"last_modified, last_modified_on, last_modified_by) "
	"VALUES (?, ?, ?, ?, ?, 'New', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	/* SQL_TENANT_UPDATE */
	"UPDATE tenants SET label = ?, description = ?, customer = ?, workers = ?, "
	"max_tenancies = ?, max_nodes = ?, hooks = ?, kms = ?, "
	"version = version + 1, last_modified = ?, last_modified_on = ?, "
	"last_modified_by = ? WHERE id = ?",
	/* SQL_TENANT_STATE */
	"UPDATE tenants SET state = ?, version = version + 1, last_modified = ?, "
	"last_modified_on = ?, last_modified_by = ? WHERE id = ?",
	/* SQL_TENANT_DELETE: Its jobs, batches and settings go with it (0011). */
	"DELETE FROM tenants WHERE id = ?",
	/* SQL_TENANT_JOBS_CANCEL: A deleted tenant's queued jobs; running ones finish. */
	"UPDATE jobs SET state = 'cancelled', finished_at = ?, "
	"result = '\"The tenant was deleted\"' WHERE tenant_id = ? AND state = 'queued'",
	/* SQL_TENANT_REFS_DROP: So its objects can go in any order. */
	"DELETE r FROM object_refs r JOIN objects o ON o.uid = r.uid "
	"WHERE o.tenant_id = ?",
	/* SQL_TENANT_OBJS_DROP: Keys, secrets, refresh tokens, status cascade. */
	"DELETE FROM objects WHERE tenant_id = ?",
	/* SQL_TENANT_KEY_DROP: A deleted tenant's data key is destroyed. */
	"DELETE FROM tenant_keys WHERE tenant_id = ?",
	/* SQL_NODE_TENANCY_SET */
	"INSERT INTO node_tenancy (node_uid, tenancy_uid, since) VALUES (?, ?, ?) "
	"ON DUPLICATE KEY UPDATE tenancy_uid = VALUES(tenancy_uid), since = VALUES(since)",
	/* SQL_NODE_TENANCY_CLEAR: Back to Available. */
	"DELETE FROM node_tenancy WHERE node_uid = ?",
	/* SQL_TENANCY_ID_ADD: DB_DUP when another tenancy holds it. */
	"INSERT INTO tenancy_ids (kind, value, tenancy_uid) VALUES (?, ?, ?)",
	/* SQL_TENANCY_IDS_DROP */
	"DELETE FROM tenancy_ids WHERE tenancy_uid = ?",
	/* SQL_TENANCY_IDS_DROP_KIND: One kind, before a PATCH lists it anew. */
	"DELETE FROM tenancy_ids WHERE tenancy_uid = ? AND kind = ?",
	/* SQL_TENANCY_TOKEN_ADD */
	"INSERT INTO tenancy_tokens (jti, tenancy_uid, created_at, created_by, "
	"expires_at) VALUES (?, ?, ?, ?, ?)",
	/* SQL_TENANCY_TOKEN_REVOKE: One token, or (jti NULL) all of a tenancy's. */
	"UPDATE tenancy_tokens SET revoked = 1 WHERE tenancy_uid = ? AND "
	"(jti = ? OR ? IS NULL) AND revoked = 0",
	/* SQL_NODE_STATUS_WIPE: What a node reported goes when it changes hands. */
	"DELETE FROM node_status WHERE uid = ?",
	/* SQL_NODE_BOOT_WIPE */
	"DELETE FROM node_boot WHERE uid = ?",
	/* SQL_TENANT_KMS */
	"UPDATE tenants SET kms = ? WHERE id = ?",
	/* SQL_WRAPKEY_INSERT: DB_DUP when the tenant has one. */
	"INSERT INTO tenant_wrap_keys (tenant_id, keytype, master_id, sealed, "
	"public_pem, created_at) VALUES (?, ?, ?, ?, ?, ?)",
	/* SQL_WRAPKEY_REWRAP: A rekey seals the private key again. */
	"UPDATE tenant_wrap_keys SET master_id = ?, sealed = ? WHERE tenant_id = ?",
	/* SQL_WRAPKEY_DROP: A deleted tenant's wrapping key is destroyed. */
	"DELETE FROM tenant_wrap_keys WHERE tenant_id = ?",
	/* SQL_TENANT_KEY_WRAP_SET: A data key wrapped anew (under RSA). */
	"UPDATE tenant_keys SET wrapped = ? WHERE id = ?",
	/* SQL_FILE_REFS_COPY: Another object uses the same stored files. */
	"INSERT INTO file_refs (obj_uid, slot, sha256, uid, mtime, filename) "
	"SELECT ?, slot, sha256, LOWER(HEX(RANDOM_BYTES(16))), mtime, filename "
	"FROM file_refs WHERE obj_uid = ?",
	/* SQL_TENANT_SETTINGS_COPY */
	"INSERT INTO tenant_settings (tenant_id, k, v) SELECT ?, k, v "
	"FROM tenant_settings WHERE tenant_id = ? ON DUPLICATE KEY UPDATE v = VALUES(v)",
};

_Static_assert(nitems(sqls) == SQL__MAX, "one text per statement of enum sql");

#define DB_MAX_PARAMS	16
#define DB_MAX_COLS	24

struct db {
	const struct conf	*conf;
	MYSQL			*my;
	MYSQL_STMT		*stmt[SQL__MAX];
	int			 broken;	/* reconnect before next use */
	int			 in_tx;
	int			 wrote;		/* may have added to the change feed */
};

static MYSQL_STMT	*db_stmt(struct db *, enum sql);

/*
 * Whether statement id can add rows to the change feed: only writes to
 * the tables with feed triggers (sql/0015-changes.sql) do, and each of
 * those names its table.  An audit row or a job's heartbeat does not
 * make the worker look for its own changes (follow_own_writes).
 */
static int
db_feeds(enum sql id)
{
	static signed char	 feeds[SQL__MAX];	/* 0 unknown, 1 yes, -1 no */

	if (feeds[id] == 0)
		feeds[id] = strstr(sqls[id], "objects") != NULL ||
		    strstr(sqls[id], "tenants") != NULL ? 1 : -1;
	return feeds[id] == 1;
}

/*
 * Test faults.  CORRAL_TEST_DB_FAULTS names a file holding one word; the
 * first connection to reach the matching point takes the file (rename,
 * so exactly one does) and fails there once, against the real server:
 *   commit      the next COMMIT is refused as Galera refuses a
 *               transaction that lost certification: the server rolls
 *               it back and the client sees ER_LOCK_DEADLOCK.
 *   lost-write  the next write outside a transaction is executed by the
 *               server, then the connection is closed before its answer
 *               is read, as a network or server failure would.
 * A single private server produces neither on demand; the handling of
 * both is what the tests check.  Without the variable this costs one
 * getenv per commit or write.
 */
static int
db_fault(const char *word)
{
	const char	*path = getenv("CORRAL_TEST_DB_FAULTS");
	char		 buf[32], taken[4096];
	FILE		*f;
	size_t		 n;

	if (path == NULL || *path == '\0' || (f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, " \t\r\n")] = '\0';
	if (strcmp(buf, word) != 0)
		return 0;
	snprintf(taken, sizeof(taken), "%s.taken", path);
	if (rename(path, taken) == -1)
		return 0;	/* another connection took it */
	log_warn("test fault: %s", word);
	return 1;
}

static void
db_disconnect(struct db *db)
{
	size_t	 i;

	for (i = 0; i < SQL__MAX; i++)
		if (db->stmt[i] != NULL) {
			mysql_stmt_close(db->stmt[i]);
			db->stmt[i] = NULL;
		}
	if (db->my != NULL) {
		mysql_close(db->my);
		db->my = NULL;
	}
}

static int
db_connect(struct db *db)
{
	const struct conf	*c = db->conf;
	unsigned int		 timeout = 5;
	my_bool			 off = 0;

	db_disconnect(db);
	if ((db->my = mysql_init(NULL)) == NULL)
		return -1;
	mysql_optionsv(db->my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	/*
	 * Reconnecting silently would lose prepared statements and session
	 * state.  CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched,
	 * so one that finds its own earlier write counts it (SQL_JOB_FINISH).
	 */
	mysql_optionsv(db->my, MYSQL_OPT_RECONNECT, &off);
	mysql_optionsv(db->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (mysql_real_connect(db->my, c->db_host, c->db_user, c->db_password,
	    c->db_name, c->db_host != NULL ? (unsigned int)c->db_port : 0,
	    c->db_host != NULL ? NULL : c->db_socket, CLIENT_FOUND_ROWS) == NULL) {
		log_err("database connect: %s", mysql_error(db->my));
		goto fail;
	}
	db->broken = 0;
	db->in_tx = 0;
	return 0;
fail:
	db_disconnect(db);
	db->broken = 1;
	return -1;
}

/*
 * Connect to the database the configuration names and prepare every
 * statement.  Returns a handle even when the server is down (it is then
 * marked broken and db_ready() retries); NULL only if the schema is of
 * another version, which no retry can mend.
 */
struct db *
db_open(const struct conf *c)
{
	struct db	*db;
	long long	 version = -1;

	db = xcalloc(1, sizeof(*db));
	db->conf = c;
	if (db_connect(db) == -1)
		return db;
	if (db_run(db, SQL_SCHEMA_VERSION, "") != DB_OK ||
	    db_next(db, SQL_SCHEMA_VERSION, "i", &version) != DB_OK) {
		db_done(db, SQL_SCHEMA_VERSION);
		return db;
	}
	db_done(db, SQL_SCHEMA_VERSION);
	if (version != SCHEMA_VERSION) {
		log_err("database schema is version %lld, this corral needs %d: "
		    "run scripts/migrate", version, SCHEMA_VERSION);
		db_close(db);
		return NULL;
	}
	return db;
}

/*
 * Prepare every statement now, so a statement the server refuses is
 * found at start rather than on first use.  corral-jobd does this once;
 * every test stack starts one.  Returns 0 or -1 (logged).
 */
int
db_prepare_all(struct db *db)
{
	size_t	 i;

	if (db_ready(db) == -1)
		return -1;
	for (i = 0; i < SQL__MAX; i++)
		if (db_stmt(db, (enum sql)i) == NULL)
			return -1;
	return 0;
}

/* Close the connection and free the handle. */
void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	db_disconnect(db);
	free(db);
}

/* Make sure the handle can be used, reconnecting if needed.  0 = usable. */
int
db_ready(struct db *db)
{
	if (!db->broken && db->my != NULL)
		return 0;
	return db_connect(db);
}

/*
 * Whether a statement that may have added to the change feed (a write
 * to objects or tenants) ran since the last call; the flag is cleared.  The worker then looks
 * for its own changes in the feed (follow_own_writes).
 */
int
db_take_wrote(struct db *db)
{
	int	 wrote = db->wrote;

	db->wrote = 0;
	return wrote;
}

/* Whether a transaction is open on the handle. */
int
db_in_tx(const struct db *db)
{
	return db->in_tx;
}

static enum dbrc
db_errcode(struct db *db, unsigned int err, const char *what, const char *msg)
{
	switch (err) {
	case ER_DUP_ENTRY:
		return DB_DUP;
	case ER_LOCK_DEADLOCK:		/* also Galera's certification failure */
	case ER_LOCK_WAIT_TIMEOUT:
		log_warn("database conflict (%s): %s", what, msg);
		return DB_CONFLICT;
	case ER_ROW_IS_REFERENCED_2:
	case ER_NO_REFERENCED_ROW_2:
	case ER_ROW_IS_REFERENCED:
	case ER_NO_REFERENCED_ROW:
		return DB_REF;
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
	case CR_SERVER_LOST_EXTENDED:
	case 4031:	/* ER_CLIENT_INTERACTION_TIMEOUT */
		log_warn("database connection lost (%s): %s", what, msg);
		db->broken = 1;
		return DB_GONE;
	default:
		log_err("database error %u (%s): %s", err, what, msg);
		return DB_ERROR;
	}
}

/*
 * The prepared statement id, prepared now if this connection has not yet
 * used it.  Lazily: a jobd runner lives for one job and uses a handful of
 * the statements, and preparing all of them would cost it more than the
 * job's own queries.  NULL when the server refuses (logged).
 */
static MYSQL_STMT *
db_stmt(struct db *db, enum sql id)
{
	MYSQL_STMT	*st;

	if (db->stmt[id] != NULL)
		return db->stmt[id];
	if ((st = mysql_stmt_init(db->my)) == NULL) {
		log_err("statement %d: out of memory", (int)id);
		return NULL;
	}
	if (mysql_stmt_prepare(st, sqls[id], strlen(sqls[id])) != 0) {
		(void)db_errcode(db, mysql_stmt_errno(st), "prepare",
		    mysql_stmt_error(st));
		log_err("statement %d could not be prepared", (int)id);
		mysql_stmt_close(st);
		return NULL;
	}
	return db->stmt[id] = st;
}

static enum dbrc
db_execute(struct db *db, enum sql id, const char *fmt, va_list ap)
{
	MYSQL_BIND	 b[DB_MAX_PARAMS];
	long long	 ints[DB_MAX_PARAMS];
	double		 dbls[DB_MAX_PARAMS];
	unsigned long	 lens[DB_MAX_PARAMS];
	my_bool		 nulls[DB_MAX_PARAMS];
	MYSQL_STMT	*st;
	const char	*s;
	size_t		 i, n = strlen(fmt);

	if ((st = db_stmt(db, id)) == NULL)
		return db->broken ? DB_GONE : DB_ERROR;
	if (n > DB_MAX_PARAMS || n != mysql_stmt_param_count(st)) {
		log_err("statement %d: %zu parameters bound, %lu expected",
		    (int)id, n, mysql_stmt_param_count(st));
		return DB_ERROR;
	}
	memset(b, 0, sizeof(b));
	for (i = 0; i < n; i++) {
		nulls[i] = 0;
		b[i].is_null = &nulls[i];
		switch (fmt[i]) {
		case 's':
			s = va_arg(ap, const char *);
			b[i].buffer_type = MYSQL_TYPE_STRING;
			b[i].buffer = (void *)(uintptr_t)s;
			lens[i] = s == NULL ? 0 : strlen(s);
			b[i].buffer_length = lens[i];
			b[i].length = &lens[i];
			nulls[i] = s == NULL;
			break;
		case 'i':
			ints[i] = va_arg(ap, long long);
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = &ints[i];
			break;
		case 'd':
			dbls[i] = va_arg(ap, double);
			b[i].buffer_type = MYSQL_TYPE_DOUBLE;
			b[i].buffer = &dbls[i];
			break;
		default:
			log_err("statement %d: bad bind format '%c'", (int)id, fmt[i]);
			return DB_ERROR;
		}
	}
	if (n > 0 && mysql_stmt_bind_param(st, b) != 0)
		return db_errcode(db, mysql_stmt_errno(st), "bind",
		    mysql_stmt_error(st));
	/* Before it runs: a write may land though its answer is lost. */
	if (mysql_stmt_field_count(st) == 0 && db_feeds(id))
		db->wrote = 1;
	if (mysql_stmt_execute(st) != 0)
		return db_errcode(db, mysql_stmt_errno(st), "execute",
		    mysql_stmt_error(st));
	if (!db->in_tx && mysql_stmt_field_count(st) == 0 &&
	    db_fault("lost-write")) {
		db_disconnect(db);
		return db_errcode(db, CR_SERVER_LOST, "execute",
		    "Lost connection to server during query (test fault)");
	}
	/*
	 * Buffer the whole result client-side so other statements can run on
	 * this connection while the caller walks the rows.
	 */
	if (mysql_stmt_field_count(st) > 0 && mysql_stmt_store_result(st) != 0)
		return db_errcode(db, mysql_stmt_errno(st), "store",
		    mysql_stmt_error(st));
	return DB_OK;
}

/*
 * Run statement id with the arguments fmt describes.  A statement with a
 * result must be followed by db_next() calls and one db_done().
 */
enum dbrc
db_run(struct db *db, enum sql id, const char *fmt, ...)
{
	va_list		 ap;
	enum dbrc	 rc;
	int		 tries;

	for (tries = 0; tries < 2; tries++) {
		if (db_ready(db) == -1)
			return DB_GONE;
		va_start(ap, fmt);
		rc = db_execute(db, id, fmt, ap);
		va_end(ap);
		/* Run it again only where a second run can do no harm. */
		if (rc != DB_GONE || db->in_tx || id >= SQL__ONCE)
			break;
	}
	return rc;
}

/*
 * Fetch the next row of statement id into the pointers fmt describes:
 * 's' char ** (new allocation, NULL for SQL NULL), 'i' long long *,
 * 'd' double * (0 for NULL).  Returns DB_OK, DB_DONE or an error.
 */
enum dbrc
db_next(struct db *db, enum sql id, const char *fmt, ...)
{
	MYSQL_BIND	 b[DB_MAX_COLS];
	unsigned long	 lens[DB_MAX_COLS];
	my_bool		 nulls[DB_MAX_COLS], errs[DB_MAX_COLS];
	void		*dst[DB_MAX_COLS];
	MYSQL_STMT	*st = db->stmt[id];
	va_list		 ap;
	size_t		 i, n = strlen(fmt);
	char		*str;
	int		 frc;

	if (db->my == NULL || st == NULL)
		return DB_GONE;
	if (n > DB_MAX_COLS || n != mysql_stmt_field_count(st)) {
		log_err("statement %d: %zu columns fetched, %u in result",
		    (int)id, n, mysql_stmt_field_count(st));
		return DB_ERROR;
	}
	memset(b, 0, sizeof(b));
	va_start(ap, fmt);
	for (i = 0; i < n; i++) {
		dst[i] = va_arg(ap, void *);
		b[i].is_null = &nulls[i];
		b[i].error = &errs[i];
		b[i].length = &lens[i];
		switch (fmt[i]) {
		case 's':
			/* Zero-sized: the length comes back, the bytes below. */
			*(char **)dst[i] = NULL;
			b[i].buffer_type = MYSQL_TYPE_STRING;
			break;
		case 'i':
			*(long long *)dst[i] = 0;
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = dst[i];
			break;
		case 'd':
			*(double *)dst[i] = 0;
			b[i].buffer_type = MYSQL_TYPE_DOUBLE;
			b[i].buffer = dst[i];
			break;
		default:
			va_end(ap);
			log_err("statement %d: bad fetch format '%c'", (int)id, fmt[i]);
			return DB_ERROR;
		}
	}
	va_end(ap);
	if (mysql_stmt_bind_result(st, b) != 0)
		return db_errcode(db, mysql_stmt_errno(st), "bind result",
		    mysql_stmt_error(st));
	frc = mysql_stmt_fetch(st);
	if (frc == MYSQL_NO_DATA)
		return DB_DONE;
	if (frc == 1)
		return db_errcode(db, mysql_stmt_errno(st), "fetch",
		    mysql_stmt_error(st));
	for (i = 0; i < n; i++) {
		if (fmt[i] != 's' || nulls[i])
			continue;
		str = xmalloc(lens[i] + 1);
		if (lens[i] > 0) {
			MYSQL_BIND	 col;

			memset(&col, 0, sizeof(col));
			col.buffer_type = MYSQL_TYPE_STRING;
			col.buffer = str;
			col.buffer_length = lens[i];
			if (mysql_stmt_fetch_column(st, &col, (unsigned int)i, 0) != 0) {
				free(str);
				return db_errcode(db, mysql_stmt_errno(st),
				    "fetch column", mysql_stmt_error(st));
			}
		}
		str[lens[i]] = '\0';
		*(char **)dst[i] = str;
	}
	return DB_OK;
}

/* Release the buffered result of statement id. */
void
db_done(struct db *db, enum sql id)
{
	if (db->stmt[id] != NULL)
		mysql_stmt_free_result(db->stmt[id]);
}

/* Rows changed by the last run of statement id. */
long long
db_affected(struct db *db, enum sql id)
{
	return db->stmt[id] == NULL ? 0 :
	    (long long)mysql_stmt_affected_rows(db->stmt[id]);
}

/* The AUTO_INCREMENT value the last run of statement id made. */
long long
db_insert_id(struct db *db, enum sql id)
{
	return db->stmt[id] == NULL ? 0 :
	    (long long)mysql_stmt_insert_id(db->stmt[id]);
}

/* Open a transaction; every write of one request happens inside one. */
enum dbrc
db_begin(struct db *db)
{
	if (db_ready(db) == -1)
		return DB_GONE;
	if (mysql_autocommit(db->my, 0) != 0)
		return db_errcode(db, mysql_errno(db->my), "begin",
		    mysql_error(db->my));
	db->in_tx = 1;
	return DB_OK;
}

/*
 * Leave the transaction whatever state the session is in: roll back what
 * is open and turn autocommit on again.  A session where either fails is
 * dropped, and the next use starts a fresh one, which has autocommit on.
 */
static void
db_end_tx(struct db *db, int rollback)
{
	db->in_tx = 0;
	if (db->my == NULL || db->broken)
		return;
	if ((rollback && mysql_rollback(db->my) != 0) ||
	    mysql_autocommit(db->my, 1) != 0) {
		log_warn("database session could not leave its transaction "
		    "(%s); reconnecting", mysql_error(db->my));
		db->broken = 1;
	}
}

/*
 * Commit the open transaction.  Only after DB_OK may a 2xx be sent.  A
 * refused COMMIT (DB_CONFLICT: a deadlock, or Galera certification) has
 * changed nothing; DB_GONE leaves it unknown whether it happened.  Either
 * way the session is back in autocommit mode, so the next statement is
 * not silently part of a transaction nobody will commit.
 */
enum dbrc
db_commit(struct db *db)
{
	enum dbrc	 rc = DB_OK;

	if (db->my == NULL || db->broken)
		rc = DB_GONE;
	else if (db_fault("commit")) {
		(void)mysql_rollback(db->my);
		rc = db_errcode(db, ER_LOCK_DEADLOCK, "commit",
		    "Deadlock found when trying to get lock (test fault)");
	} else if (mysql_commit(db->my) != 0)
		rc = db_errcode(db, mysql_errno(db->my), "commit",
		    mysql_error(db->my));
	db_end_tx(db, rc != DB_OK);
	return rc;
}

/* Abandon the open transaction (a no-op when none is open). */
void
db_rollback(struct db *db)
{
	if (db->in_tx)
		db_end_tx(db, 1);
}
