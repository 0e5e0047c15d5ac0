-- corral 0006: secret attribute values encrypted at rest (fcgi/crypto.c).
--
-- A value in object_secrets.v becomes the JSON string
-- "cs1:<data key id>:<base64 of IV, ciphertext and GCM tag>": AES-256-GCM
-- under its tenant's data key, bound to its object's UID and its
-- attribute key.  Each tenant has one random 256-bit data key, stored
-- here wrapped (AES-256-GCM) under the head's master key.  The master
-- keys themselves are files on the heads ([secrets] key_dir/<id>.key),
-- never in the database; master_keys only names them.

-- The master keys in use: one, but for the moment of a rekey, which adds
-- the new one and removes the old ones in the transaction that re-wraps
-- every tenant key.  created_on names the head that made it (the one to
-- copy its file from).
CREATE TABLE master_keys (
	id		CHAR(32) NOT NULL PRIMARY KEY,
	created_at	DECIMAL(17,6) NOT NULL,
	created_on	VARCHAR(253) NOT NULL
) ENGINE=InnoDB;

-- One data key per tenant, made on first use.  No foreign key to tenants:
-- a value sealed under a tenant's key stays with its object, which may
-- move to another tenant (a leased node), so the key outlives its tenant.
-- The foreign key to master_keys makes a tenant key wrapped under a master
-- key that a concurrent rekey retired fail (and be made again) rather
-- than be stored under a key nobody keeps.
CREATE TABLE tenant_keys (
	id		CHAR(32) NOT NULL PRIMARY KEY,
	tenant_id	INT NOT NULL UNIQUE,
	master_id	CHAR(32) NOT NULL,
	wrapped		VARCHAR(255) NOT NULL,
	created_at	DECIMAL(17,6) NOT NULL,
	FOREIGN KEY (master_id) REFERENCES master_keys (id)
) ENGINE=InnoDB;

-- SQL cannot encrypt: what 0004 stored in the clear is sealed in C when
-- corral-api starts (or by `corral-api -c CONF seal`).  Until then each
-- such value is marked as clear, {"clear": value}, so that a clear
-- password which happens to begin with "cs1:" is never taken for a
-- sealed one.
UPDATE object_secrets SET v = JSON_OBJECT('clear', JSON_EXTRACT(v, '$'));
