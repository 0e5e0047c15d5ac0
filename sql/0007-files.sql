-- corral 0007: the artifact store (fcgi/fstore.c).
--
-- Kernels, initramfs, image contents and ISOs are files under [files] dir,
-- named by their SHA-256 and stored once however many objects use them.
-- files has one row per stored file; file_refs one per use of it: an
-- object's slot (a boot config's kernel or initramfs, an image's content,
-- a repo's iso).  A file's reference count is its number of file_refs
-- rows, counted by the database rather than kept in a counter that could
-- drift.  Deleting an object drops its uses with it (ON DELETE CASCADE);
-- a file nobody uses any more is "unused" (GET /head/files/unused) until
-- its bytes are removed.
CREATE TABLE files (
	sha256		CHAR(64) NOT NULL PRIMARY KEY,
	sha1		CHAR(40) NOT NULL,
	size		BIGINT NOT NULL,
	fmt		VARCHAR(16) NOT NULL,
	stored_at	DECIMAL(17,6) NOT NULL,
	stored_on	VARCHAR(253) NOT NULL
) ENGINE=InnoDB;

-- uid is the reference's "filename"/"uid" of this use: new with every
-- upload, so a client can tell a replaced file from the one it had.
CREATE TABLE file_refs (
	obj_uid		CHAR(32) NOT NULL,
	slot		VARCHAR(16) NOT NULL,
	sha256		CHAR(64) NOT NULL,
	uid		CHAR(32) NOT NULL UNIQUE,
	mtime		DECIMAL(17,6) NOT NULL,
	filename	VARCHAR(255) NULL,
	PRIMARY KEY (obj_uid, slot),
	KEY sha256 (sha256),
	FOREIGN KEY (obj_uid) REFERENCES objects (uid) ON DELETE CASCADE,
	FOREIGN KEY (sha256) REFERENCES files (sha256)
) ENGINE=InnoDB;
