-- corral 0011: tenants as the superadministrator manages them, tenancies
-- (leased sets of nodes), tenancy tokens and what a leased node keeps for
-- the management tenant (fcgi/tenant.c, fcgi/tenancy.c).

-- A tenant's settings beyond its name (tenant-management, TAPMS and the
-- tenant API documents).  NULL limits are "no limit".  hooks is the JSON
-- list of the tenant's webhooks, their secrets sealed; kms its key
-- settings ({"enablekms", "keyname", "keytype"}).
ALTER TABLE tenants
	ADD customer		VARCHAR(255) NOT NULL DEFAULT '',
	ADD max_tenancies	INT NULL,
	ADD max_nodes		INT NULL,
	ADD hooks		LONGTEXT NOT NULL DEFAULT '[]' CHECK (JSON_VALID(hooks)),
	ADD kms			LONGTEXT NOT NULL DEFAULT '{}' CHECK (JSON_VALID(kms)),
	ADD bootstrap		TINYINT NOT NULL DEFAULT 0,
	ADD created_at		DECIMAL(17,6) NOT NULL DEFAULT 0,
	ADD version		BIGINT NOT NULL DEFAULT 1,
	ADD last_modified	DECIMAL(17,6) NOT NULL DEFAULT 0,
	ADD last_modified_on	VARCHAR(253) NOT NULL DEFAULT '',
	ADD last_modified_by	VARCHAR(253) NOT NULL DEFAULT '';

UPDATE tenants SET created_at = UNIX_TIMESTAMP(NOW(6)),
	last_modified = UNIX_TIMESTAMP(NOW(6)), last_modified_by = 'corral';

-- The management tenant's two built-in tenancies.  Tenancies are objects
-- of class "tenancy" owned by their tenant.
INSERT INTO objects (uid, class, tenant_id, name, doc, version, last_modified,
	last_modified_on, last_modified_by)
SELECT LOWER(HEX(RANDOM_BYTES(16))), 'tenancy', t.id, n.name,
	JSON_OBJECT('description', n.description, 'vlans', JSON_ARRAY(),
	    'vnis', JSON_ARRAY(), 'pkeys', JSON_ARRAY()),
	1, UNIX_TIMESTAMP(NOW(6)), '', 'corral'
FROM tenants t
JOIN (SELECT 'Available' AS name, 'Nodes free to be leased' AS description
      UNION ALL SELECT 'Quarantine', 'Nodes returned from a tenancy, wiped and powered off') n
WHERE t.name = 'cw-management';

-- Which tenancy each node is in.  A node without a row is in Available,
-- so a node is in exactly one tenancy by construction (the primary key
-- allows one row, no row means Available).  A tenancy holding nodes
-- cannot be deleted (the foreign key) until they have moved out.
CREATE TABLE node_tenancy (
	node_uid	CHAR(32) NOT NULL PRIMARY KEY,
	tenancy_uid	CHAR(32) NOT NULL,
	since		DECIMAL(17,6) NOT NULL,
	KEY tenancy (tenancy_uid),
	FOREIGN KEY (node_uid) REFERENCES objects (uid) ON DELETE CASCADE,
	FOREIGN KEY (tenancy_uid) REFERENCES objects (uid)
) ENGINE=InnoDB;

-- VLANs, VNIs and partition keys handed to tenancies from the cluster's
-- ranges: one row each, so two tenancies never share one.  Deleting a
-- tenancy returns them (class_tenancy's delete hook, in the delete's
-- transaction: they are allocated before the tenancy's row is written,
-- so no foreign key can name it).
CREATE TABLE tenancy_ids (
	kind		ENUM('vlan','vni','pkey') NOT NULL,
	value		INT NOT NULL,
	tenancy_uid	CHAR(32) NOT NULL,
	PRIMARY KEY (kind, value),
	KEY tenancy (tenancy_uid)
) ENGINE=InnoDB;

-- Tenancy tokens (POST /tenancy/<ID>/newtoken): listed and revocable.
-- A token is good while its row exists, is not revoked and has not
-- expired; the JWT itself carries only its id and tenancy.
CREATE TABLE tenancy_tokens (
	jti		CHAR(32) NOT NULL PRIMARY KEY,
	tenancy_uid	CHAR(32) NOT NULL,
	created_at	DECIMAL(17,6) NOT NULL,
	created_by	VARCHAR(253) NOT NULL,
	expires_at	BIGINT NOT NULL,
	revoked		TINYINT NOT NULL DEFAULT 0,
	KEY tenancy (tenancy_uid),
	FOREIGN KEY (tenancy_uid) REFERENCES objects (uid) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Cluster-wide ranges tenancies' ids come from ("FIRST-LAST", "" none).
INSERT INTO cluster_settings (k, v) VALUES
	('tenancy_vlans', '""'), ('tenancy_vnis', '""'), ('tenancy_pkeys', '""'),
	('tenancy_power_off', 'true');

-- A deleted tenant's jobs and batches go with it: queued ones are marked
-- cancelled first, running ones finish (their result has nowhere to go).
ALTER TABLE jobs DROP FOREIGN KEY jobs_ibfk_1,
	ADD CONSTRAINT jobs_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
	ON DELETE CASCADE;
ALTER TABLE batches DROP FOREIGN KEY batches_ibfk_1,
	ADD CONSTRAINT batches_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
	ON DELETE CASCADE;

-- auth_config is a tenant's own (each tenant sees only its own in
-- GET /cluster): the management tenant keeps what was set.
INSERT INTO tenant_settings (tenant_id, k, v)
SELECT t.id, c.k, c.v FROM cluster_settings c
JOIN tenants t ON t.name = 'cw-management' WHERE c.k = 'auth_config';
DELETE FROM cluster_settings WHERE k = 'auth_config';
