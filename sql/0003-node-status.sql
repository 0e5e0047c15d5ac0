-- corral 0003: what nodes report about themselves.  Status is sent often
-- (load, memory, packages; several KB) and is not part of the node
-- object an admin edits, so it lives beside it: a report neither bumps
-- the node's version nor travels with every GET /nodes.

CREATE TABLE node_status (
	uid		CHAR(32) NOT NULL PRIMARY KEY,
	status		LONGTEXT NOT NULL CHECK (JSON_VALID(status)),
	updated_at	DECIMAL(17,6) NOT NULL,
	FOREIGN KEY (uid) REFERENCES objects (uid) ON DELETE CASCADE
) ENGINE=InnoDB;
