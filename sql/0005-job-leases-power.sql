-- corral 0005: job leases instead of advisory locks, one job per node,
-- tenant worker slots, batches, remembered power state, node host keys.
--
-- Leases.  A jobd claims a queued row (claimed_by = "<head>:<pid>") and
-- its runner renews heartbeat_at while the job runs, each by one
-- conditional UPDATE.  Any head's jobd fails a 'running' row whose
-- heartbeat is older than the lease, and requeues a 'claimed' one.  All
-- lease times are the database's clock (UNIX_TIMESTAMP(NOW(6))), so heads
-- with skewed clocks agree.  Galera replicates rows, not GET_LOCK.
--
-- One job per node, at most `workers` jobs per tenant: the generated
-- columns below are non-NULL only while a job is claimed or running, and
-- their unique keys make the database refuse a second claim (on Galera,
-- certification refuses it across heads).
ALTER TABLE jobs
	ADD COLUMN heartbeat_at	DECIMAL(17,6) NULL AFTER claimed_at,
	ADD COLUMN node_uid	VARCHAR(32) NULL,
	ADD COLUMN batch_id	BIGINT NULL,
	ADD COLUMN bmc_host	VARCHAR(253) NULL,
	ADD COLUMN head		VARCHAR(253) NULL,
	ADD COLUMN not_before	DECIMAL(17,6) NOT NULL DEFAULT 0,
	ADD COLUMN expires_at	DECIMAL(17,6) NULL,
	ADD COLUMN slot		INT NULL;
-- A generated column may only read columns that exist before its ALTER,
-- and no CHAR column (its value would depend on the sql_mode
-- PAD_CHAR_TO_FULL_LENGTH): hence VARCHAR node_uid.
ALTER TABLE jobs
	ADD COLUMN busy_node	VARCHAR(32) AS
		(IF(state IN ('claimed', 'running'), node_uid, NULL)) PERSISTENT,
	ADD COLUMN busy_slot	INT AS
		(IF(state IN ('claimed', 'running'), slot, NULL)) PERSISTENT,
	ADD UNIQUE KEY one_job_per_node (busy_node),
	ADD UNIQUE KEY tenant_slot (tenant_id, busy_slot),
	ADD KEY batch (batch_id, id),
	ADD KEY node_state (node_uid, state),
	ADD KEY heartbeat (state, heartbeat_at);

-- A bulk action: one job per node under one id.
CREATE TABLE batches (
	id		BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	uid		CHAR(32) NOT NULL UNIQUE,
	tenant_id	INT NOT NULL,
	kind		VARCHAR(32) NOT NULL,
	params		LONGTEXT NOT NULL CHECK (JSON_VALID(params)),
	total		INT NOT NULL,
	created_by	VARCHAR(253) NOT NULL,
	created_at	DECIMAL(17,6) NOT NULL,
	FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB;

-- The last power state a BMC reported for a node, and when.
CREATE TABLE node_power (
	uid		CHAR(32) NOT NULL PRIMARY KEY,
	state		ENUM('on', 'off', 'unknown') NOT NULL,
	checked_at	DECIMAL(17,6) NOT NULL,
	error		TEXT NULL,
	FOREIGN KEY (uid) REFERENCES objects (uid) ON DELETE CASCADE
) ENGINE=InnoDB;

-- A node's SSH host key, recorded on first contact (in the database, not
-- a head's known_hosts, so every head checks the same key).
CREATE TABLE node_hostkeys (
	uid		CHAR(32) NOT NULL PRIMARY KEY,
	hostkey		TEXT NOT NULL,
	learned_at	DECIMAL(17,6) NOT NULL,
	FOREIGN KEY (uid) REFERENCES objects (uid) ON DELETE CASCADE
) ENGINE=InnoDB;
