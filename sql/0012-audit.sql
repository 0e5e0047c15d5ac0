-- corral 0012: the audit log (fcgi/audit.c, GET /audit in fcgi/api_audit.c).
--
-- One row per write, power action, exec, login, token issue and tenancy
-- token call, written after the request's own transaction in a statement
-- of its own, so a write that failed and rolled back is recorded too.
-- corral-jobd adds rows for what it does on its own (a tenant deployed or
-- deleted).  Rows are only ever inserted: the API has no route that
-- changes or deletes them, and the triggers below refuse an UPDATE or
-- DELETE from any session, corral's own included.
--
--   actor      "admin:<name>", "tenancy:<tenancy name>", "node:<address>",
--              "anonymous" or "jobd"
--   actor_uid  the admin's UID, or ''
--   tenant_id  the tenant the action is in; NULL when nobody is known
--              (no tenants foreign key: rows outlive a deleted tenant)
--   route      the route table's pattern ("/node/:id"), or the path asked
--              for when no route matched
--   object     the route's first capture, the UID a create made, or the
--              user name a login tried
--   fields     JSON list of the body's top-level keys; never a value
--   status     the HTTP status corral-api answered
--   reason     a failure's reason, as the client was told (shortened)
CREATE TABLE audit (
	id		BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	at		DECIMAL(17,6) NOT NULL,
	actor		VARCHAR(300) NOT NULL,
	actor_uid	VARCHAR(32) NOT NULL DEFAULT '',
	tenant_id	INT NULL,
	method		VARCHAR(8) NOT NULL,
	route		VARCHAR(255) NOT NULL,
	object		VARCHAR(255) NULL,
	fields		TEXT NULL CHECK (fields IS NULL OR JSON_VALID(fields)),
	status		SMALLINT NOT NULL,
	reason		VARCHAR(255) NULL,
	source		VARCHAR(46) NULL,
	request_id	VARCHAR(64) NULL,
	KEY at (at),
	KEY tenant (tenant_id, id),
	KEY actor (actor, id),
	KEY object (object, id)
) ENGINE=InnoDB;

-- Append-only.  corral's database user holds every privilege on its own
-- database (it runs these migrations), so it could drop the triggers or
-- TRUNCATE the table: they stop a stray or injected UPDATE/DELETE, not
-- an operator.  Trimming old rows is an operator's job: drop the delete
-- trigger, delete, create it again.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit FOR EACH ROW
	SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit rows cannot be changed';
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit FOR EACH ROW
	SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit rows cannot be deleted';
