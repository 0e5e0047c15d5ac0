-- corral 0009: how far each node got in its network boot (fcgi/boot.c).
--
-- Stages, in order: dhcp (dnsmasq leased it an address), script (its
-- iPXE script was served), kernel, initramfs (nginx sent the whole file),
-- status (its first report after the script).  `stage` and `at` are the
-- furthest stage of the current boot and when it was reached; `stages`
-- maps each stage seen in this boot to its time.  A boot report is
-- telemetry, written often during a boot storm, so it lives beside the
-- node and never bumps the node's version.
CREATE TABLE node_boot (
	uid		CHAR(32) NOT NULL PRIMARY KEY,
	stage		VARCHAR(16) NOT NULL,
	at		DECIMAL(17,6) NOT NULL,
	stages		TEXT NOT NULL CHECK (JSON_VALID(stages)),
	FOREIGN KEY (uid) REFERENCES objects (uid) ON DELETE CASCADE
) ENGINE=InnoDB;
