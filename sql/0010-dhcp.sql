-- corral 0010: the index corral-jobd polls (fcgi/dhcp.c).
--
-- corral-jobd regenerates dnsmasq's files when nodes, networks or hostname
-- records change.  It learns of a change without a job per write: about
-- twice a second it reads one row of COUNT, MAX(last_modified), SUM(version)
-- and a checksum of the UIDs over those classes (SQL_DHCP_FINGERPRINT).
-- This index holds every column that reads (InnoDB keeps the primary key,
-- uid, in each secondary index), so the poll never touches the documents.
ALTER TABLE objects ADD KEY class_modified (class, last_modified, version);
