-- corral 0013: tenants' RSA wrapping keys (kms.keytype rsa-2048/3072/4096;
-- fcgi/crypto.c).
--
-- A tenant created with enablekms and an RSA key type has an RSA key
-- pair here: the private key (DER) sealed (AES-256-GCM) under the head's
-- master key, like the data keys, and its public key.  The tenant's data
-- key is then wrapped with the public key (RSA-OAEP, SHA-256) instead of
-- the master key: tenant_keys.wrapped is "rsa:<base64>".  A rekey seals
-- the private keys again under the new master key.  Deleting the tenant
-- destroys both.
CREATE TABLE tenant_wrap_keys (
	tenant_id	INT NOT NULL PRIMARY KEY,
	keytype		VARCHAR(16) NOT NULL,
	master_id	CHAR(32) NOT NULL,
	sealed		TEXT NOT NULL,
	public_pem	TEXT NOT NULL,
	created_at	DECIMAL(17,6) NOT NULL,
	FOREIGN KEY (master_id) REFERENCES master_keys (id)
) ENGINE=InnoDB;

-- An RSA-wrapped data key is longer than one wrapped under the master key.
ALTER TABLE tenant_keys MODIFY wrapped TEXT NOT NULL;
