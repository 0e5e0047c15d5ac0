-- corral 0004: secret attribute values kept apart from the documents, and
-- settings that belong to a tenant.
--
-- Secrets: a BMC password in a node's or group's attributes is stored
-- here, and the document keeps "********", so every list and object GET
-- (spliced from the stored document) shows the mask.  Only the endpoints
-- the reference shows them on unseal them, for role.configadmin and above
-- of the owning tenant.  v is the value as JSON text.
CREATE TABLE object_secrets (
	uid		CHAR(32) NOT NULL,
	k		VARCHAR(64) NOT NULL,
	v		LONGTEXT NOT NULL CHECK (JSON_VALID(v)),
	PRIMARY KEY (uid, k),
	FOREIGN KEY (uid) REFERENCES objects (uid) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Seal what earlier versions stored in the clear under the default
-- secret keys.
INSERT INTO object_secrets (uid, k, v)
SELECT o.uid, d.k, JSON_EXTRACT(o.doc, CONCAT('$.attributes.', d.k))
FROM objects o
JOIN (SELECT 'ipmi_pass' AS k UNION ALL SELECT 'redfish_pass'
      UNION ALL SELECT 'bmc_pass') d
WHERE JSON_EXTRACT(o.doc, CONCAT('$.attributes.', d.k)) IS NOT NULL;
-- JSON_REPLACE leaves paths a document does not have alone; one UPDATE
-- per object (a join would set only one key of an object with several).
UPDATE objects
SET doc = JSON_REPLACE(doc, '$.attributes.ipmi_pass', '********',
    '$.attributes.redfish_pass', '********', '$.attributes.bmc_pass', '********')
WHERE uid IN (SELECT uid FROM object_secrets);

-- Settings naming a tenant's own objects (its default group, naming
-- pattern and distro) are one per tenant; the rest of cluster_settings
-- stays cluster-wide.  A tenant without a row sees the default.
CREATE TABLE tenant_settings (
	tenant_id	INT NOT NULL,
	k		VARCHAR(64) NOT NULL,
	v		LONGTEXT NOT NULL CHECK (JSON_VALID(v)),
	PRIMARY KEY (tenant_id, k),
	FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB;

INSERT INTO tenant_settings (tenant_id, k, v)
SELECT t.id, c.k, c.v FROM cluster_settings c
JOIN tenants t ON t.name = 'cw-management'
WHERE c.k IN ('default_group', 'naming', 'default_distro');
DELETE FROM cluster_settings WHERE k IN ('default_group', 'naming', 'default_distro');
