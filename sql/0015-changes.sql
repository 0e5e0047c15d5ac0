-- corral 0015: the change feed that keeps every head's read cache true
-- (fcgi/cache.c, fcgi/follow.c; README "The read cache").
--
-- Every committed write to what the cache holds -- objects of every class
-- (admins and their roles included) and tenants -- appends a
-- row here in the same transaction, by the triggers below.  Triggers
-- rather than code: a write made with the mariadb client, by a migration,
-- by corral-jobd or by another head's corral lands in the feed the same
-- way, and no write path can forget it.  (Tenancy tokens are not cached:
-- their row is read on every use, so a revocation holds at once.)
--
--   seq        feed order.  Not commit order: a transaction may take its
--              seq before another commits a higher one, so a follower
--              reads a gap as "not committed yet" and looks again
--              (follow.c)
--   class      the object's class; 'tenant' for tenants
--   tenant_id  the object's tenant (the tenant itself for 'tenant')
--   uid        the object's UID
--   name       the object's name; a rename or a move to another tenant
--              writes a second row with the old name and tenant, so the
--              aliases of both are dropped
--   conn       CONNECTION_ID() of the writer: a worker finds its own
--              writes and drops them from the cache before it answers
--   at         when the row was written; the follower trims old rows
CREATE TABLE changes (
	seq		BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	class		VARCHAR(32) NOT NULL,
	tenant_id	INT NOT NULL,
	uid		CHAR(32) NOT NULL,
	name		VARCHAR(253) NOT NULL,
	conn		BIGINT UNSIGNED NOT NULL,
	at		TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	KEY conn_seq (conn, seq),
	KEY at (at)
) ENGINE=InnoDB;

CREATE TRIGGER objects_changes_insert AFTER INSERT ON objects FOR EACH ROW
	INSERT INTO changes (class, tenant_id, uid, name, conn)
	VALUES (NEW.class, NEW.tenant_id, NEW.uid, NEW.name, CONNECTION_ID());
CREATE TRIGGER objects_changes_update AFTER UPDATE ON objects FOR EACH ROW
	INSERT INTO changes (class, tenant_id, uid, name, conn)
	SELECT NEW.class, NEW.tenant_id, NEW.uid, NEW.name, CONNECTION_ID()
	UNION ALL
	SELECT OLD.class, OLD.tenant_id, OLD.uid, OLD.name, CONNECTION_ID()
	FROM DUAL WHERE OLD.name <> NEW.name OR OLD.tenant_id <> NEW.tenant_id;
CREATE TRIGGER objects_changes_delete AFTER DELETE ON objects FOR EACH ROW
	INSERT INTO changes (class, tenant_id, uid, name, conn)
	VALUES (OLD.class, OLD.tenant_id, OLD.uid, OLD.name, CONNECTION_ID());

CREATE TRIGGER tenants_changes_insert AFTER INSERT ON tenants FOR EACH ROW
	INSERT INTO changes (class, tenant_id, uid, name, conn)
	VALUES ('tenant', NEW.id, NEW.uid, NEW.name, CONNECTION_ID());
CREATE TRIGGER tenants_changes_update AFTER UPDATE ON tenants FOR EACH ROW
	INSERT INTO changes (class, tenant_id, uid, name, conn)
	VALUES ('tenant', NEW.id, NEW.uid, NEW.name, CONNECTION_ID());
CREATE TRIGGER tenants_changes_delete AFTER DELETE ON tenants FOR EACH ROW
	INSERT INTO changes (class, tenant_id, uid, name, conn)
	VALUES ('tenant', OLD.id, OLD.uid, OLD.name, CONNECTION_ID());
