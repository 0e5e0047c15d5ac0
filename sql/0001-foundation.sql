-- corral 0001: tenants, the generic object store, refresh tokens, jobs,
-- cluster settings.  Forward-only: later changes go in 0002-… files.

CREATE TABLE schema_version (
	version		INT NOT NULL PRIMARY KEY,
	name		VARCHAR(128) NOT NULL,
	applied_at	TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB;

CREATE TABLE tenants (
	id		INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	uid		CHAR(32) NOT NULL UNIQUE,
	name		VARCHAR(63) NOT NULL UNIQUE,
	label		VARCHAR(255) NOT NULL DEFAULT '',
	description	TEXT NOT NULL DEFAULT '',
	state		ENUM('New','Deploying','Deployed','Deleting') NOT NULL DEFAULT 'New',
	workers		INT NOT NULL DEFAULT 1
) ENGINE=InnoDB;

-- The management tenant always exists; its fulladmins are superadministrators.
INSERT INTO tenants (uid, name, label, description, state, workers)
VALUES (LOWER(HEX(RANDOM_BYTES(16))), 'cw-management', 'Management',
	'The cluster operator''s own tenant', 'Deployed', 4);

-- Every ClusterWare object of every class.  Fields that are not identity
-- live in doc (JSON); identity, scope and bookkeeping are columns so they
-- can be indexed and checked by the database.
CREATE TABLE objects (
	uid		CHAR(32) NOT NULL PRIMARY KEY,
	class		VARCHAR(32) NOT NULL,
	tenant_id	INT NOT NULL,
	name		VARCHAR(253) NOT NULL,
	doc		LONGTEXT NOT NULL CHECK (JSON_VALID(doc)),
	version		BIGINT NOT NULL DEFAULT 1,
	last_modified	DECIMAL(17,6) NOT NULL,
	last_modified_on VARCHAR(253) NOT NULL,
	last_modified_by VARCHAR(253) NOT NULL,
	UNIQUE KEY class_tenant_name (class, tenant_id, name),
	KEY class_name (class, name),	-- the superadministrator's lookups by name
	FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB;

-- Identifiers that must be unique across tenants (admin user names, node
-- MACs): one row each, so the database refuses a duplicate atomically.
CREATE TABLE object_keys (
	class		VARCHAR(32) NOT NULL,
	kind		VARCHAR(16) NOT NULL,
	value		VARCHAR(253) NOT NULL,
	uid		CHAR(32) NOT NULL,
	PRIMARY KEY (class, kind, value),
	KEY uid (uid),
	FOREIGN KEY (uid) REFERENCES objects (uid) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Issued refresh tokens.  Each is used once; a second use revokes its
-- family (every token descended from the same login).
CREATE TABLE refresh_tokens (
	jti		CHAR(32) NOT NULL PRIMARY KEY,
	family		CHAR(32) NOT NULL,
	admin_uid	CHAR(32) NOT NULL,
	expires_at	BIGINT NOT NULL,
	used		TINYINT NOT NULL DEFAULT 0,
	revoked		TINYINT NOT NULL DEFAULT 0,
	KEY family (family),
	FOREIGN KEY (admin_uid) REFERENCES objects (uid) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Slow work for corral-jobd.  queued -> claimed (jobd took it) -> running
-- (a runner holds the lock corral-job-<id>) -> done | failed.
CREATE TABLE jobs (
	id		BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	uid		CHAR(32) NOT NULL UNIQUE,
	tenant_id	INT NOT NULL,
	kind		VARCHAR(32) NOT NULL,
	target		VARCHAR(253) NULL,
	params		LONGTEXT NOT NULL CHECK (JSON_VALID(params)),
	state		ENUM('queued','claimed','running','done','failed','cancelled')
			NOT NULL DEFAULT 'queued',
	attempts	INT NOT NULL DEFAULT 0,
	result		LONGTEXT NULL,
	created_by	VARCHAR(253) NOT NULL,
	created_at	DECIMAL(17,6) NOT NULL,
	claimed_by	VARCHAR(253) NULL,
	claimed_at	DECIMAL(17,6) NULL,
	started_at	DECIMAL(17,6) NULL,
	finished_at	DECIMAL(17,6) NULL,
	KEY state_id (state, id),
	FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB;

-- Cluster-wide settings (GET/PATCH /cluster): one JSON value per key.
CREATE TABLE cluster_settings (
	k		VARCHAR(64) NOT NULL PRIMARY KEY,
	v		LONGTEXT NOT NULL CHECK (JSON_VALID(v))
) ENGINE=InnoDB;

INSERT INTO cluster_settings (k, v) VALUES
	('cluster_name', '"corral"'),
	('cluster_id', '""'),
	('default_group', '""'),
	('default_distro', '""'),
	('naming', '"n{}"'),
	('accept_new_nodes', 'false'),
	('influx_token', '""'),
	('auth_config', '{}');
