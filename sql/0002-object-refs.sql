-- corral 0002: references between objects (a boot config's image, a
-- distro's repos, a node's groups).  The JSON document keeps the field as
-- the client sees it; this table lets the database refuse to delete an
-- object something still refers to, and tells us who does.

CREATE TABLE object_refs (
	uid		CHAR(32) NOT NULL,	-- the referring object
	field		VARCHAR(32) NOT NULL,
	ref_uid		CHAR(32) NOT NULL,	-- the object referred to
	PRIMARY KEY (uid, field, ref_uid),
	KEY ref_uid (ref_uid),
	FOREIGN KEY (uid) REFERENCES objects (uid) ON DELETE CASCADE,
	FOREIGN KEY (ref_uid) REFERENCES objects (uid)
) ENGINE=InnoDB;
