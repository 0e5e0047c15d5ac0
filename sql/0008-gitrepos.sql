-- corral 0008: git repositories (fcgi/git.c, fcgi/run_git.c).
--
-- The repositories themselves are bare git repositories on each head's
-- disk ([git] dir/<tenant id>/<gitrepo UID>.git); the database keeps only
-- when each head last queued and finished a synchronization of each
-- repository, so corral-jobd's scheduler (sync_period) survives restarts
-- and never queues a repository twice within its period.  A head syncs
-- its own copy: the key is (uid, head).  Deleting the gitrepo drops its
-- rows (ON DELETE CASCADE); its directory is removed by jobd.
CREATE TABLE gitrepo_sync (
	uid		CHAR(32) NOT NULL,
	head		VARCHAR(253) NOT NULL,
	queued_at	DECIMAL(17,6) NULL,
	synced_at	DECIMAL(17,6) NULL,
	state		VARCHAR(16) NULL,
	error		TEXT NULL,
	PRIMARY KEY (uid, head),
	FOREIGN KEY (uid) REFERENCES objects (uid) ON DELETE CASCADE
) ENGINE=InnoDB;
