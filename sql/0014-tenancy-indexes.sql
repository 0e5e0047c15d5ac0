-- corral 0014: a tenant's lists read from an index in name order, however
-- many tenants share the table (scripts/bench/tenancy).
--
-- objects had the unique key (class, tenant_id, name) and, from the
-- foreign key, a key of tenant_id alone.  For "class = ? AND tenant_id = ?
-- ORDER BY name" (a tenant admin's GET /<plural>) MariaDB took the
-- narrower tenant_id key, read every object of the tenant and sorted
-- them: with 100 tenants of 100 nodes, a tenant's GET /nodes cost the
-- database 1.5-2x what the same list cost in a cluster of one tenant.
-- The unique key now leads with tenant_id, so it also serves the foreign
-- key and the lone tenant_id key goes: one index fewer, and a tenant's
-- rows of a class come in name order.  Lookups by class alone or by
-- class and name keep class_name.
ALTER TABLE objects
	DROP KEY class_tenant_name,
	ADD UNIQUE KEY tenant_class_name (tenant_id, class, name),
	DROP KEY tenant_id;
