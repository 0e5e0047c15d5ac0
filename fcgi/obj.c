/*
 * The generic object engine: find, list, create, change, delete and /meta
 * for every class, driven by the class's field table.  A class file adds
 * only what is special to it, through the hooks of struct objclass.
 *
 * Every function works in an explicit context (struct ctx): a connection
 * and a scope.  Reads see only the scope's tenant (SCOPE_ALL: every
 * tenant), and an object outside it is reported exactly as a missing one;
 * writes are recorded as the scope's actor.  Nothing here knows about
 * HTTP: api_obj.c turns requests into these calls.
 *
 * Storage: one row of `objects` per object.  Identity and bookkeeping are
 * columns; every other field lives in the JSON `doc`, written in field
 * order with every field present (null when unset), so a GET can copy
 * the stored text as it is.  In memory a document never holds a null:
 * null and absent mean the same, "unset".  Identifiers unique across
 * tenants (admin user names, node MACs) also get an `object_keys` row so
 * the database refuses duplicates atomically.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* Free what a row owns (not the row itself). */
void
objrow_free(struct objrow *o)
{
	free(o->uid);
	free(o->name);
	json_decref(o->doc);
	free(o->last_modified_on);
	free(o->last_modified_by);
	memset(o, 0, sizeof(*o));
}

/*
 * Fetch one row of an OBJ_COLS statement into o, leaving the document
 * as the stored text in *doc (new allocation).  DB_OK, DB_DONE or error.
 */
static enum dbrc
obj_row_text(struct ctx *c, enum sql id, struct objrow *o, char **doc)
{
	memset(o, 0, sizeof(*o));
	*doc = NULL;
	return db_next(c->db, id, "ssisidss", &o->uid, &o->name, &o->tenant_id,
	    doc, &o->version, &o->last_modified, &o->last_modified_on,
	    &o->last_modified_by);
}

/*
 * Decode the stored text doc into o->doc (obj_row_next's work for a row
 * read as text).  0, or -1 (logged) when it is not a JSON object.
 */
static int
obj_doc_decode(struct objrow *o, const char *doc)
{
	char	 err[128];

	o->doc = doc == NULL ? NULL : json_decode_strict(doc, strlen(doc),
	    err, sizeof(err));
	if (o->doc == NULL || !json_is_object(o->doc)) {
		log_err("object %s: stored document is not an object", o->uid);
		return -1;
	}
	json_drop_nulls(o->doc);
	/* Shown from the tenant_id column (obj_doc_text); never read back. */
	json_object_del(o->doc, "tenant");
	return 0;
}

/* Fetch one row of an OBJ_COLS statement into o.  DB_OK, DB_DONE or error. */
enum dbrc
obj_row_next(struct ctx *c, enum sql id, struct objrow *o)
{
	char		*doc = NULL;
	enum dbrc	 rc;

	if ((rc = obj_row_text(c, id, o, &doc)) != DB_OK)
		return rc;
	if (obj_doc_decode(o, doc) == -1) {
		free(doc);
		objrow_free(o);
		return DB_ERROR;
	}
	free(doc);
	return DB_OK;
}

/* Whether a field is kept in a column (name, uid) rather than in doc. */
static int
obj_bookkeeping(const char *field)
{
	return strcmp(field, "name") == 0 || strcmp(field, "uid") == 0;
}

/*
 * Row o of class cls for output (new reference): name, every declared
 * field in table order (null when unset), bookkeeping, then uid, as the
 * reference's examples show.  What the stored text holds, as an object.
 */
json_t *
obj_render(const struct objclass *cls, const struct objrow *o)
{
	const struct field	*f;
	json_t			*out, *v;
	size_t			 i;

	out = json_object();
	json_object_set_new(out, "name", json_string(o->name));
	for (i = 0; i < cls->spec.nfields; i++) {
		f = &cls->spec.fields[i];
		if (obj_bookkeeping(f->name))
			continue;
		v = json_object_get(o->doc, f->name);
		if (v != NULL && (f->flags & F_SECRET) != 0)
			json_object_set_new(out, f->name,
			    json_string(SECRET_MASK));
		else
			json_object_set(out, f->name, v != NULL ? v : json_null());
	}
	json_object_set_new(out, "last_modified", json_real(o->last_modified));
	json_object_set_new(out, "last_modified_on",
	    json_string(o->last_modified_on));
	json_object_set_new(out, "last_modified_by",
	    json_string(o->last_modified_by));
	json_object_set_new(out, "uid", json_string(o->uid));
	return out;
}

/* A printable, bounded copy of a client-supplied id for reasons. */
static const char *
id_echo(const char *id, char *buf, size_t sz)
{
	size_t	 i;

	for (i = 0; id[i] != '\0' && i + 1 < sz && i < 64; i++)
		buf[i] = ((unsigned char)id[i] < 0x20 || id[i] == 0x7f) ? '?' : id[i];
	buf[i] = '\0';
	utf8_clean(buf);
	return buf;
}

/* "Node" for "node": labels start reasons. */
static void
label_cap(const struct objclass *cls, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s", cls->label);
	if (buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] = (char)(buf[0] - 'a' + 'A');
}

/*
 * The unique MAC or IP field of cls that id is a value of (a node's MAC
 * or address identify it as well as its name), with the value as stored
 * in key; NULL if id is no such value.
 */
static const struct field *
obj_key_field(const struct objclass *cls, const char *id,
    char key[IP_STR_MAX + 1])
{
	const struct field	*f;
	unsigned char		 a[16];
	size_t			 i;
	int			 fam;

	for (i = 0; i < cls->spec.nfields; i++) {
		f = &cls->spec.fields[i];
		if (!(f->flags & F_UNIQUE))
			continue;
		if (f->type == F_MAC && mac_normalize(id, key) == 0)
			return f;
		if (f->type == F_IP && (fam = ip_parse(id, a)) != 0 &&
		    ip_format(a, fam, key) != NULL)
			return f;
	}
	return NULL;
}

/* API_NOT_FOUND, the way every lookup says it. */
static enum apierr
obj_not_found(struct ctx *c, const struct objclass *cls, const char *id)
{
	char	 echo[80];

	return ctx_fail(c, API_NOT_FOUND, "No %s found for ID=%s", cls->label,
	    id_echo(id, echo, sizeof(echo)));
}

/*
 * Read the row that id names from MariaDB into o and *doc (the stored
 * text), as q = SQL_OBJ_BY_*.  API_OK with o->uid NULL when there is
 * none; API_CONFLICT when a name is ambiguous across tenants.
 */
static enum apierr
obj_lookup_db(struct ctx *c, const struct objclass *cls, const char *id,
    enum sql q, const char *field, const char *value, struct objrow *o,
    char **doc)
{
	struct objrow	 extra;
	char		*extradoc;
	char		 echo[80];
	enum dbrc	 rc;

	if (q == SQL_OBJ_BY_UID)
		rc = db_run(c->db, q, "ss", cls->name, id);
	else if (q == SQL_OBJ_BY_KEY)
		rc = db_run(c->db, q, "sss", cls->name, field, value);
	else if (q == SQL_OBJ_BY_NAME_ANY)
		rc = db_run(c->db, q, "ss", cls->name, id);
	else
		rc = db_run(c->db, q, "sis", cls->name, c->scope.tenant, id);
	if (rc != DB_OK)
		return ctx_dbfail(c, rc);
	rc = obj_row_text(c, q, o, doc);
	if (rc == DB_OK && q == SQL_OBJ_BY_NAME_ANY &&
	    obj_row_text(c, q, &extra, &extradoc) == DB_OK) {
		objrow_free(&extra);
		free(extradoc);
		objrow_free(o);
		free(*doc);
		*doc = NULL;
		db_done(c->db, q);
		return ctx_fail(c, API_CONFLICT, "More than one %s is "
		    "named %s (in different tenants); use the UID",
		    cls->label, id_echo(id, echo, sizeof(echo)));
	}
	db_done(c->db, q);
	if (rc != DB_OK && rc != DB_DONE) {
		objrow_free(o);
		free(*doc);
		*doc = NULL;
		return ctx_dbfail(c, rc);
	}
	return API_OK;
}

/*
 * Resolve id (UID, name, or a unique MAC or IP) of class cls within the
 * scope into *out, locking the row for the rest of the transaction if
 * for_update.  With text (never with for_update), the document is left
 * as stored, in *text, and out->doc is NULL.  API_NOT_FOUND when it does
 * not exist or is outside the scope.
 *
 * Outside a transaction the row comes from the head's read cache when it
 * holds it (cache.c); a row read from MariaDB is stored there.  Inside
 * one, MariaDB answers: what a transaction reads must be current.
 */
static enum apierr
obj_lookup(struct ctx *c, const struct objclass *cls, const char *id,
    int for_update, struct objrow *out, char **text)
{
	const struct field *f;
	struct objrow	 o;
	struct cachefill fill = { 0, 0 };
	long long	 tid = c->scope.tenant;
	enum apierr	 arc;
	enum dbrc	 rc;
	enum sql	 q;
	const char	*field, *value = id;
	char		*uid, *doc = NULL;
	char		 key[IP_STR_MAX + 1];

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	if (text != NULL)
		*text = NULL;
	if (id == NULL)
		return obj_not_found(c, cls, "");
	if (uid_valid(id)) {
		q = SQL_OBJ_BY_UID;
		field = "uid";
	} else if ((f = obj_key_field(cls, id, key)) != NULL) {
		q = SQL_OBJ_BY_KEY;
		field = f->name;
		value = key;
	} else {
		q = tid == SCOPE_ALL ? SQL_OBJ_BY_NAME_ANY : SQL_OBJ_BY_NAME;
		field = "name";
	}

	if (for_update || db_in_tx(c->db) ||
	    cache_obj_get(cls->name, field, tid, value, &o, &doc, &fill) !=
	    CACHE_HIT) {
		if ((arc = obj_lookup_db(c, cls, id, q, field, value, &o,
		    &doc)) != API_OK)
			return arc;
		if (o.uid != NULL && !for_update)
			cache_obj_store(&fill, cls->name, field, tid, value, &o,
			    doc);
	}
	if (o.uid == NULL || (tid != SCOPE_ALL && o.tenant_id != tid)) {
		objrow_free(&o);
		free(doc);
		return obj_not_found(c, cls, id);
	}
	if (!for_update) {
		if (text != NULL)
			*text = doc;
		else {
			arc = obj_doc_decode(&o, doc) == 0 ? API_OK :
			    ctx_internal(c, "object %s is damaged", o.uid);
			free(doc);
			if (arc != API_OK) {
				objrow_free(&o);
				return arc;
			}
		}
		*out = o;
		return API_OK;
	}
	free(doc);
	/* Re-read under a row lock: what we merge into must be current. */
	uid = o.uid;
	o.uid = NULL;
	objrow_free(&o);
	rc = db_run(c->db, SQL_OBJ_LOCK, "s", uid);
	free(uid);
	if (rc != DB_OK)
		return ctx_dbfail(c, rc);
	rc = obj_row_next(c, SQL_OBJ_LOCK, &o);
	db_done(c->db, SQL_OBJ_LOCK);
	if (rc == DB_DONE)
		return obj_not_found(c, cls, id);
	if (rc != DB_OK)
		return ctx_dbfail(c, rc);
	*out = o;
	return API_OK;
}

/* Resolve id into *out; see obj_lookup. */
enum apierr
obj_find(struct ctx *c, const struct objclass *cls, const char *id,
    int for_update, struct objrow *out)
{
	return obj_lookup(c, cls, id, for_update, out, NULL);
}

/*
 * Resolve id into *out with its document left as the stored text in
 * *text (new allocation; out->doc NULL), for callers that look at a few
 * fields or none; see obj_lookup.
 */
enum apierr
obj_find_text(struct ctx *c, const struct objclass *cls, const char *id,
    struct objrow *out, char **text)
{
	return obj_lookup(c, cls, id, 0, out, text);
}

/* Whether cls has an F_SECRET field, which the stored text must not show. */
static int
cls_has_secret(const struct objclass *cls)
{
	size_t	 i;

	for (i = 0; i < cls->spec.nfields; i++)
		if (cls->spec.fields[i].flags & F_SECRET)
			return 1;
	return 0;
}

/*
 * Write object o, its stored document doc, as obj_render would show it:
 * the document (compact JSON we wrote, every field present) is copied
 * between the name and the bookkeeping fields rather than decoded and
 * encoded again.
 */
static void
out_obj(const struct objclass *cls, struct outbuf *b, struct objrow *o,
    const char *doc)
{
	json_t	*obj;
	char	*rendered;
	size_t	 n = doc != NULL ? strlen(doc) : 0;

	if (n < 2 || doc[0] != '{' || doc[n - 1] != '}' || cls_has_secret(cls)) {
		/*
		 * Not our compact form (edited by hand?), or a sealed value
		 * to mask: the slow way.
		 */
		if ((o->doc = doc != NULL ? json_loads(doc, 0, NULL) : NULL) == NULL)
			o->doc = json_object();
		json_drop_nulls(o->doc);
		obj = obj_render(cls, o);
		rendered = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(16));
		out_str(b, rendered != NULL ? rendered : "null");
		free(rendered);
		json_decref(obj);
		return;
	}
	out_str(b, "{\"name\": ");
	out_jstr(b, o->name);
	if (n > 2) {
		out_str(b, ", ");
		out_add(b, doc + 1, n - 2);
	}
	out_str(b, ", \"last_modified\": ");
	out_seconds(b, o->last_modified);
	out_str(b, ", \"last_modified_on\": ");
	out_jstr(b, o->last_modified_on);
	out_str(b, ", \"last_modified_by\": ");
	out_jstr(b, o->last_modified_by);
	out_str(b, ", \"uid\": ");
	out_jstr(b, o->uid);
	out_str(b, "}");
}

/* Run the query of every object of cls in tenant tid; its name goes to *q. */
static enum dbrc
obj_list_query(struct ctx *c, const struct objclass *cls, long long tid,
    enum sql *q)
{
	*q = tid == SCOPE_ALL ? SQL_OBJ_LIST_ALL : SQL_OBJ_LIST;
	return tid == SCOPE_ALL ? db_run(c->db, *q, "s", cls->name) :
	    db_run(c->db, *q, "si", cls->name, tid);
}

/*
 * The answer of GET /<plural> into b: the envelope around every object
 * of cls in scope, keyed by UID, spliced from the stored text (DESIGN
 * section 6: lists of 10,000 in under 100 ms).
 */
enum apierr
obj_list_text(struct ctx *c, const struct objclass *cls, struct outbuf *b)
{
	struct objrow	 o;
	char		*doc;
	size_t		 rows = 0;
	enum sql	 q;
	enum dbrc	 rc;

	if ((rc = obj_list_query(c, cls, c->scope.tenant, &q)) != DB_OK)
		return ctx_dbfail(c, rc);
	out_str(b, "{\"success\": true, \"data\": {");
	while ((rc = obj_row_text(c, q, &o, &doc)) == DB_OK) {
		out_str(b, rows++ ? ", " : "");
		out_jstr(b, o.uid);
		out_str(b, ": ");
		out_obj(cls, b, &o, doc);
		free(doc);
		objrow_free(&o);
	}
	db_done(c->db, q);
	if (rc != DB_DONE)
		return ctx_dbfail(c, rc);
	out_str(b, "}}");
	return API_OK;
}

/*
 * The answer of GET /<class>/:id into b: the object itself as "data"
 * (the reference's examples), spliced from the stored text: the hot path
 * of DESIGN section 6, no decode, no encode.
 */
enum apierr
obj_get_text(struct ctx *c, const struct objclass *cls, const char *id,
    struct outbuf *b)
{
	struct objrow	 o;
	enum apierr	 rc;
	char		*doc = NULL;

	if ((rc = obj_lookup(c, cls, id, 0, &o, &doc)) != API_OK)
		return rc;
	out_str(b, "{\"success\": true, \"data\": ");
	out_obj(cls, b, &o, doc);
	out_str(b, "}");
	free(doc);
	objrow_free(&o);
	return API_OK;
}

/*
 * Every object of cls in scope, rendered and keyed by UID, into *out
 * (new reference), for callers that search or reshape the list.
 */
enum apierr
obj_list(struct ctx *c, const struct objclass *cls, json_t **out)
{
	struct objrow	 o;
	enum sql	 q;
	enum dbrc	 rc;

	*out = NULL;
	if ((rc = obj_list_query(c, cls, c->scope.tenant, &q)) != DB_OK)
		return ctx_dbfail(c, rc);
	*out = json_object();
	while ((rc = obj_row_next(c, q, &o)) == DB_OK) {
		json_object_set_new(*out, o.uid, obj_render(cls, &o));
		objrow_free(&o);
	}
	db_done(c->db, q);
	if (rc == DB_DONE)
		return API_OK;
	json_decref(*out);
	*out = NULL;
	return ctx_dbfail(c, rc);
}

/*
 * Insert the rows of o's identifiers unique across tenants: its name
 * (for classes that need it), its F_UNIQUE fields and the class's keys.
 */
static enum apierr
obj_keys_write(struct ctx *c, const struct objclass *cls, const struct objrow *o)
{
	const struct field	*f;
	enum dbrc		 rc;
	enum apierr		 arc;
	json_t			*v, *keys;
	char			 echo[80], label[64];
	size_t			 i;

	label_cap(cls, label, sizeof(label));
	if (cls->global_names) {
		rc = db_run(c->db, SQL_KEY_INSERT, "ssss", cls->name, "name",
		    o->name, o->uid);
		if (rc == DB_DUP)
			return ctx_fail(c, API_CONFLICT, "%s with name=%s "
			    "already exists.", label, id_echo(o->name, echo,
			    sizeof(echo)));
		if (rc != DB_OK)
			return ctx_dbfail(c, rc);
	}
	keys = json_array();
	for (i = 0; i < cls->spec.nfields; i++) {
		f = &cls->spec.fields[i];
		if ((f->flags & F_UNIQUE) &&
		    (v = json_object_get(o->doc, f->name)) != NULL &&
		    json_is_string(v))
			json_array_append_new(keys, json_pack("[s,O,s++]",
			    f->name, v, f->type == F_MAC ? "MAC" : f->type ==
			    F_IP ? "IP" : f->name, "=", json_string_value(v)));
	}
	if (cls->keys != NULL)
		cls->keys(o, keys);
	arc = API_OK;
	json_array_foreach(keys, i, v) {
		rc = db_run(c->db, SQL_KEY_INSERT, "ssss", cls->keys_class !=
		    NULL ? cls->keys_class : cls->name,
		    json_string_value(json_array_get(v, 0)),
		    json_string_value(json_array_get(v, 1)), o->uid);
		if (rc == DB_DUP)
			arc = ctx_fail(c, API_CONFLICT, "%s with %s already "
			    "exists.", label, id_echo(json_string_value(
			    json_array_get(v, 2)), echo, sizeof(echo)));
		else if (rc != DB_OK)
			arc = ctx_dbfail(c, rc);
		if (arc != API_OK)
			break;
	}
	json_decref(keys);
	return arc;
}

/* Store fields in one spelling, so lookups and uniqueness see one value. */
static void
obj_normalize(const struct objclass *cls, json_t *doc)
{
	const struct field	*f;
	json_t			*v;
	unsigned char		 a[16];
	char			 buf[IP_STR_MAX + 1];
	size_t			 i;
	int			 fam;

	for (i = 0; i < cls->spec.nfields; i++) {
		f = &cls->spec.fields[i];
		if ((v = json_object_get(doc, f->name)) == NULL || !json_is_string(v))
			continue;
		if (f->type == F_MAC && mac_normalize(json_string_value(v), buf) == 0)
			json_object_set_new(doc, f->name, json_string(buf));
		if (f->type == F_IP && (fam = ip_parse(json_string_value(v), a)) != 0 &&
		    ip_format(a, fam, buf) != NULL)
			json_object_set_new(doc, f->name, json_string(buf));
	}
}

/*
 * Load into *out the object of class refclass that id (a UID or a name)
 * names in tenant tenant_id.  API_BAD_REQUEST naming field if there is
 * none: references never cross tenants.
 */
enum apierr
obj_ref_load(struct ctx *c, const char *refclass, const char *field,
    long long tenant_id, const char *id, struct objrow *out)
{
	struct objrow	 o;
	enum sql	 q;
	enum dbrc	 rc;
	char		 echo[80];

	memset(out, 0, sizeof(*out));
	if (uid_valid(id)) {
		q = SQL_OBJ_BY_UID;
		rc = db_run(c->db, q, "ss", refclass, id);
	} else {
		q = SQL_OBJ_BY_NAME;
		rc = db_run(c->db, q, "sis", refclass, tenant_id, id);
	}
	if (rc != DB_OK)
		return ctx_dbfail(c, rc);
	rc = obj_row_next(c, q, &o);
	db_done(c->db, q);
	if (rc == DB_OK && o.tenant_id == tenant_id) {
		*out = o;
		return API_OK;
	}
	if (rc == DB_OK)
		objrow_free(&o);
	else if (rc != DB_DONE)
		return ctx_dbfail(c, rc);
	return ctx_fail(c, API_BAD_REQUEST, "No %s found for %s=%s", refclass,
	    field, id_echo(id, echo, sizeof(echo)));
}

/* The UID of what id names, into uid; see obj_ref_load. */
static enum apierr
obj_ref_resolve(struct ctx *c, const char *refclass, const char *field,
    long long tenant_id, const char *id, char uid[UID_LEN + 1])
{
	struct objrow	 o;
	enum apierr	 rc;

	if ((rc = obj_ref_load(c, refclass, field, tenant_id, id, &o)) != API_OK)
		return rc;
	memcpy(uid, o.uid, UID_LEN + 1);
	objrow_free(&o);
	return API_OK;
}

/*
 * Replace the names in o's reference fields by UIDs, which is what is
 * stored and shown, checking each names an object of o's tenant.
 */
static enum apierr
obj_refs_resolve(struct ctx *c, const struct objclass *cls, struct objrow *o)
{
	const struct field	*f;
	json_t			*v, *list;
	char			 uid[UID_LEN + 1];
	enum apierr		 arc = API_OK;
	size_t			 i, j;

	for (i = 0; i < cls->spec.nfields && arc == API_OK; i++) {
		f = &cls->spec.fields[i];
		if ((f->type != F_REF && f->type != F_REF_LIST) ||
		    (v = json_object_get(o->doc, f->name)) == NULL)
			continue;
		list = json_is_array(v) ? json_deep_copy(v) : json_pack("[O]", v);
		for (j = 0; j < json_array_size(list) && arc == API_OK; j++) {
			arc = obj_ref_resolve(c, f->ref, f->name, o->tenant_id,
			    json_string_value(json_array_get(list, j)), uid);
			if (arc == API_OK && o->uid != NULL &&
			    strcmp(uid, o->uid) == 0)
				arc = ctx_fail(c, API_BAD_REQUEST, "Field %s "
				    "cannot refer to the object itself", f->name);
			if (arc == API_OK)
				json_array_set_new(list, j, json_string(uid));
		}
		if (arc == API_OK)
			json_object_set(o->doc, f->name, f->type == F_REF ?
			    json_array_get(list, 0) : list);
		json_decref(list);
	}
	return arc;
}

/*
 * Record o's references (UIDs by now) in object_refs, so the database
 * refuses to delete what o refers to and can say who refers to what.
 */
static enum apierr
obj_refs_record(struct ctx *c, const struct objclass *cls, const struct objrow *o)
{
	const struct field	*f;
	json_t			*v, *e;
	enum dbrc		 rc;
	size_t			 i, j;

	if (o->version != 0 &&
	    (rc = db_run(c->db, SQL_REF_DELETE_ALL, "s", o->uid)) != DB_OK)
		return ctx_dbfail(c, rc);
	for (i = 0; i < cls->spec.nfields; i++) {
		f = &cls->spec.fields[i];
		if ((f->type != F_REF && f->type != F_REF_LIST) ||
		    (v = json_object_get(o->doc, f->name)) == NULL)
			continue;
		if (json_is_string(v) && (rc = db_run(c->db, SQL_REF_INSERT,
		    "sss", o->uid, f->name, json_string_value(v))) != DB_OK)
			return ctx_dbfail(c, rc);
		json_array_foreach(v, j, e)
			if ((rc = db_run(c->db, SQL_REF_INSERT, "sss", o->uid,
			    f->name, json_string_value(e))) != DB_OK)
				return ctx_dbfail(c, rc);
	}
	return API_OK;
}

/* The name of tenant id into name (NAME_MAX_LEN + 1), or API_* on failure. */
static enum apierr
tenant_name(struct ctx *c, long long id, char *name, size_t sz)
{
	long long	 got = 0;
	char		*uid = NULL, *n = NULL;
	enum dbrc	 rc;

	if ((rc = db_run(c->db, SQL_TENANT_BY_ID, "i", id)) != DB_OK)
		return ctx_dbfail(c, rc);
	rc = db_next(c->db, SQL_TENANT_BY_ID, "iss", &got, &uid, &n);
	db_done(c->db, SQL_TENANT_BY_ID);
	if (rc == DB_OK)
		snprintf(name, sz, "%s", n);
	free(uid);
	free(n);
	if (rc == DB_DONE)
		return ctx_internal(c, "tenant %lld does not exist", id);
	return rc == DB_OK ? API_OK : ctx_dbfail(c, rc);
}

/*
 * The stored text of o's document (new allocation): every field of the
 * class in table order, null when unset, so a GET can copy it as it is.
 * A class with a "tenant" field shows its tenant's name there.
 */
static char *
obj_doc_text(struct ctx *c, const struct objclass *cls, const struct objrow *o,
    enum apierr *rc)
{
	const struct field	*f;
	json_t			*doc, *v;
	char			*text, tname[NAME_MAX_LEN + 1];
	size_t			 i;

	*rc = API_OK;
	doc = json_object();
	for (i = 0; i < cls->spec.nfields; i++) {
		f = &cls->spec.fields[i];
		if (obj_bookkeeping(f->name))
			continue;
		if (strcmp(f->name, "tenant") == 0) {
			if ((*rc = tenant_name(c, o->tenant_id, tname,
			    sizeof(tname))) != API_OK) {
				json_decref(doc);
				return NULL;
			}
			json_object_set_new(doc, f->name, json_string(tname));
			continue;
		}
		v = json_object_get(o->doc, f->name);
		json_object_set(doc, f->name, v != NULL ? v : json_null());
	}
	text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(doc);
	if (text == NULL)
		*rc = ctx_internal(c, "%s %s: document cannot be encoded",
		    cls->name, o->uid);
	return text;
}

/*
 * Write o (new when o->version == 0) inside the caller's transaction:
 * the row, its bookkeeping, its secrets (sealed, attrs.c) and its unique
 * keys.
 */
enum apierr
obj_store(struct ctx *c, const struct objclass *cls, struct objrow *o)
{
	char		*doc, echo[80], label[64];
	json_t		*sealed = NULL;
	enum dbrc	 rc;
	enum apierr	 arc;

	o->last_modified = time_now();
	obj_normalize(cls, o->doc);
	if ((arc = obj_refs_resolve(c, cls, o)) != API_OK ||
	    (arc = attrs_seal(c, cls, o, &sealed)) != API_OK ||
	    (doc = obj_doc_text(c, cls, o, &arc)) == NULL) {
		json_decref(sealed);
		return arc;
	}
	if (o->version == 0)
		rc = db_run(c->db, SQL_OBJ_INSERT, "ssissdss", o->uid, cls->name,
		    o->tenant_id, o->name, doc, o->last_modified,
		    c->conf->head_name, c->scope.actor);
	else
		rc = db_run(c->db, SQL_OBJ_UPDATE, "issdsss", o->tenant_id,
		    o->name, doc, o->last_modified, c->conf->head_name,
		    c->scope.actor, o->uid);
	free(doc);
	if (rc == DB_OK)
		arc = attrs_seal_write(c, o->uid, sealed);
	json_decref(sealed);
	if (arc != API_OK)
		return arc;
	label_cap(cls, label, sizeof(label));
	if (rc == DB_DUP)
		return ctx_fail(c, API_CONFLICT, "%s with name=%s already "
		    "exists.", label, id_echo(o->name, echo, sizeof(echo)));
	if (rc == DB_REF)
		return ctx_fail(c, API_BAD_REQUEST, "A referenced object does "
		    "not exist");
	if (rc != DB_OK)
		return ctx_dbfail(c, rc);
	if (o->version != 0 && (rc = db_run(c->db, SQL_KEY_DELETE_ALL, "s",
	    o->uid)) != DB_OK)
		return ctx_dbfail(c, rc);
	if ((arc = obj_keys_write(c, cls, o)) != API_OK)
		return arc;
	return obj_refs_record(c, cls, o);
}

/* Split a document into the name column and the rest. */
static enum apierr
obj_take_name(struct ctx *c, json_t *doc, char **name)
{
	json_t	*v;

	if ((v = json_object_get(doc, "name")) == NULL || !json_is_string(v))
		return ctx_fail(c, API_BAD_REQUEST, "Missing required field: name");
	free(*name);
	*name = xstrdup(json_string_value(v));
	json_object_del(doc, "name");
	return API_OK;
}

/* The id of the tenant called name; 0 if there is none or *err is set. */
long long
tenant_lookup(struct ctx *c, const char *name, enum apierr *err)
{
	long long	 id = 0;
	char		*uid = NULL, *tname = NULL;
	enum dbrc	 rc;

	*err = API_OK;
	if ((rc = db_run(c->db, SQL_TENANT_BY_NAME, "s", name)) != DB_OK) {
		*err = ctx_dbfail(c, rc);
		return 0;
	}
	if ((rc = db_next(c->db, SQL_TENANT_BY_NAME, "iss", &id, &uid,
	    &tname)) != DB_OK)
		id = 0;
	db_done(c->db, SQL_TENANT_BY_NAME);
	free(uid);
	free(tname);
	if (rc != DB_OK && rc != DB_DONE)
		*err = ctx_dbfail(c, rc);
	return id;
}

/*
 * Take the "tenant" field (a tenant name) out of doc: only a scope over
 * every tenant (the superadministrator's) may place an object in one.
 * *tid keeps its value when the field is absent.  (A stored document
 * never holds it: obj_row_next drops what obj_doc_text wrote.)
 */
static enum apierr
obj_take_tenant(struct ctx *c, json_t *doc, long long *tid)
{
	json_t		*t = json_object_get(doc, "tenant");
	enum apierr	 rc;
	long long	 id;

	if (t == NULL)
		return API_OK;
	if (c->scope.tenant != SCOPE_ALL)
		return ctx_fail(c, API_FORBIDDEN, "Only the superadministrator "
		    "may place an object in a tenant");
	if (!json_is_string(t))
		return ctx_fail(c, API_BAD_REQUEST, "Field tenant must be a "
		    "tenant name");
	id = tenant_lookup(c, json_string_value(t), &rc);
	if (rc != API_OK)
		return rc;
	if (id == 0)
		return ctx_fail(c, API_BAD_REQUEST, "No tenant named %.64s",
		    json_string_value(t));
	json_object_del(doc, "tenant");
	*tid = id;
	return API_OK;
}

/*
 * The new object's UID into uid: the one doc brings, for classes whose
 * objects have their own, else a fresh one.
 */
static enum apierr
obj_take_uid(struct ctx *c, const struct objclass *cls, json_t *doc,
    char uid[UID_LEN + 1])
{
	json_t	*v = json_object_get(doc, "uid");

	if (cls->client_uid && v != NULL) {
		if (!json_is_string(v) || !uid_valid(json_string_value(v)))
			return ctx_fail(c, API_BAD_REQUEST, "Field uid must be "
			    "32 lowercase hex digits");
		memcpy(uid, json_string_value(v), UID_LEN + 1);
		json_object_del(doc, "uid");
		return API_OK;
	}
	if (uid_new(uid) == -1)
		return ctx_internal(c, "no random bytes for a UID");
	return API_OK;
}

/*
 * Create an object of class cls from doc (consumed) in tenant tenant_id
 * inside the caller's transaction.  Its UID goes to uid.
 */
static enum apierr
obj_insert(struct ctx *c, const struct objclass *cls, json_t *doc,
    long long tenant_id, char uid[UID_LEN + 1])
{
	struct objrow	 o;
	enum apierr	 rc;

	memset(&o, 0, sizeof(o));
	o.doc = doc;
	o.tenant_id = tenant_id;
	json_drop_nulls(o.doc);
	if ((rc = obj_take_tenant(c, o.doc, &o.tenant_id)) != API_OK)
		goto out;
	if (cls->prepare != NULL &&
	    (rc = cls->prepare(c, o.doc, HOW_CREATE)) != API_OK)
		goto out;
	if ((rc = obj_take_uid(c, cls, o.doc, uid)) != API_OK)
		goto out;
	o.uid = xstrdup(uid);
	if (cls->assign != NULL &&
	    (rc = cls->assign(c, &o, NULL, o.doc)) != API_OK)
		goto out;
	if ((rc = obj_take_name(c, o.doc, &o.name)) != API_OK)
		goto out;
	rc = obj_store(c, cls, &o);
out:
	objrow_free(&o);
	return rc;
}

/* Create one object in its own transaction; see obj_insert. */
enum apierr
obj_create(struct ctx *c, const struct objclass *cls, json_t *doc,
    long long tenant_id, char uid[UID_LEN + 1])
{
	enum apierr	 rc;
	enum dbrc	 drc;

	if ((drc = db_begin(c->db)) != DB_OK) {
		json_decref(doc);
		return ctx_dbfail(c, drc);
	}
	if ((rc = obj_insert(c, cls, doc, tenant_id, uid)) == API_OK &&
	    (drc = db_commit(c->db)) != DB_OK)
		rc = ctx_dbfail(c, drc);
	db_rollback(c->db);
	ctx_clear(c);
	return rc;
}

/*
 * Create every object of list (borrowed), each checked against the
 * class's fields, in one transaction, so all are created or none.  Their
 * UIDs, in order, go to *uids (new reference).  A failure names the
 * entry it is about: "Entry N: ...", N from 0.
 */
enum apierr
obj_create_list(struct ctx *c, const struct objclass *cls, const json_t *list,
    long long tenant_id, json_t **uids)
{
	char		 uid[UID_LEN + 1], why[REASON_MAX];
	json_t		*item, *out = NULL;
	enum apierr	 rc = API_OK;
	enum dbrc	 drc;
	size_t		 i;

	*uids = NULL;
	if (json_array_size(list) == 0 || json_array_size(list) > cls->bulk_max)
		return ctx_fail(c, API_BAD_REQUEST, "Send 1 to %zu %s objects",
		    cls->bulk_max, cls->label);
	json_array_foreach((json_t *)(uintptr_t)list, i, item)
		if ((rc = json_check_object(&cls->spec, item, 0, c->reason,
		    sizeof(c->reason))) != API_OK)
			goto fail;
	if ((drc = db_begin(c->db)) != DB_OK)
		return ctx_dbfail(c, drc);
	out = json_array();
	json_array_foreach((json_t *)(uintptr_t)list, i, item) {
		if ((rc = obj_insert(c, cls, json_deep_copy(item), tenant_id,
		    uid)) != API_OK)
			goto fail;
		json_array_append_new(out, json_string(uid));
	}
	if ((drc = db_commit(c->db)) != DB_OK)
		rc = ctx_dbfail(c, drc);
fail:
	db_rollback(c->db);
	ctx_clear(c);
	if (rc == API_OK) {
		*uids = out;
		return API_OK;
	}
	json_decref(out);
	if (rc == API_BAD_REQUEST || rc == API_CONFLICT) {
		snprintf(why, sizeof(why), "%s", c->reason);
		ctx_fail(c, rc, "Entry %zu: %s", i, why);
	}
	return rc;
}

/*
 * A frozen object refuses every change but unfreezing it: change may be
 * NULL (a delete) or a PATCH/PUT body.  A guard against accidents, as the
 * reference says, not against someone who unfreezes first.
 */
static enum apierr
obj_frozen_check(struct ctx *c, const struct objclass *cls,
    const struct objrow *o, const json_t *change)
{
	json_t	*f;

	if (cls->frozen_reason == NULL ||
	    !json_is_true(json_object_get(o->doc, "frozen")))
		return API_OK;
	if (change != NULL && json_object_size(change) == 1 &&
	    (f = json_object_get(change, "frozen")) != NULL && json_is_false(f))
		return API_OK;
	return ctx_fail(c, API_CONFLICT, "%s", cls->frozen_reason);
}

/*
 * The document a change makes of stored row o: a PATCH merges the sent
 * fields (null removes one); a PUT replaces what clients write, and what
 * the server keeps (read-only fields) stays.  New reference.
 */
static json_t *
obj_changed_doc(const struct objclass *cls, const struct objrow *o,
    const json_t *change, enum how how)
{
	const char	*k;
	json_t		*doc, *v;
	size_t		 i;

	if (how == HOW_REPLACE) {
		doc = json_deep_copy(change);
		for (i = 0; i < cls->spec.nfields; i++)
			if ((cls->spec.fields[i].flags & F_READONLY) &&
			    (v = json_object_get(o->doc,
			    cls->spec.fields[i].name)) != NULL)
				json_object_set(doc, cls->spec.fields[i].name, v);
		if (json_object_get(doc, "name") == NULL)
			json_object_set_new(doc, "name", json_string(o->name));
	} else {
		doc = json_deep_copy(o->doc);
		json_object_set_new(doc, "name", json_string(o->name));
		json_object_foreach((json_t *)(uintptr_t)change, k, v)
			json_object_set(doc, k, v);
	}
	json_drop_nulls(doc);
	return doc;
}

/*
 * Apply change (consumed) to object id of class cls, in one transaction
 * over the locked row, so concurrent PATCHes of different fields both
 * survive.  With fn, the change is computed by fn from the locked row,
 * so read-modify-write of one field (a list to append to) loses nothing
 * either.  The class's may_change hook sees the stored object and the
 * change before anything is written.
 */
static enum apierr
obj_change_locked(struct ctx *c, const struct objclass *cls, const char *id,
    json_t *change, enum how how, change_fn fn, const void *arg)
{
	struct objrow	 o;
	json_t		*v, *doc = NULL, *before = NULL;
	enum apierr	 rc;
	enum dbrc	 drc;

	memset(&o, 0, sizeof(o));
	if ((drc = db_begin(c->db)) != DB_OK) {
		rc = ctx_dbfail(c, drc);
		goto out;
	}
	if ((rc = obj_find(c, cls, id, 1, &o)) != API_OK)
		goto out;
	if (fn != NULL && (rc = fn(c, &o, arg, &change)) != API_OK)
		goto out;
	if (change == NULL || !json_is_object(change)) {
		rc = ctx_fail(c, API_BAD_REQUEST, "Expected a JSON object");
		goto out;
	}
	if ((rc = obj_frozen_check(c, cls, &o, change)) != API_OK)
		goto out;
	if (cls->may_change != NULL &&
	    (rc = cls->may_change(c, &o, change)) != API_OK)
		goto out;
	doc = obj_changed_doc(cls, &o, change, how);
	if ((rc = obj_take_tenant(c, doc, &o.tenant_id)) != API_OK)
		goto out;
	if ((v = json_object_get(doc, "uid")) != NULL) {
		if (!json_is_string(v) || strcmp(json_string_value(v), o.uid) != 0) {
			rc = ctx_fail(c, API_BAD_REQUEST, "The uid of an object "
			    "cannot change");
			goto out;
		}
		json_object_del(doc, "uid");
	}
	if (cls->prepare != NULL && (rc = cls->prepare(c, doc, how)) != API_OK)
		goto out;
	before = o.doc;
	o.doc = doc;
	doc = NULL;
	if (cls->assign != NULL &&
	    (rc = cls->assign(c, &o, before, change)) != API_OK)
		goto out;
	if ((rc = obj_take_name(c, o.doc, &o.name)) != API_OK)
		goto out;
	if ((rc = obj_store(c, cls, &o)) != API_OK)
		goto out;
	if ((drc = db_commit(c->db)) != DB_OK)
		rc = ctx_dbfail(c, drc);
out:
	db_rollback(c->db);
	ctx_clear(c);
	json_decref(doc);
	json_decref(before);
	json_decref(change);
	objrow_free(&o);
	return rc;
}

/* Apply change (consumed) to object id as a PATCH or a PUT. */
enum apierr
obj_change(struct ctx *c, const struct objclass *cls, const char *id,
    json_t *change, enum how how)
{
	return obj_change_locked(c, cls, id, change, how, NULL, NULL);
}

/* Apply, as a PATCH, the change fn computes from the locked object id. */
enum apierr
obj_change_by(struct ctx *c, const struct objclass *cls, const char *id,
    change_fn fn, const void *arg)
{
	return obj_change_locked(c, cls, id, NULL, HOW_PATCH, fn, arg);
}

/*
 * A change_fn editing the keys of one object-valued field (attributes,
 * gui_settings) of the locked object: arg is a struct fieldedit.
 */
enum apierr
obj_field_edit(struct ctx *c, const struct objrow *o, const void *arg,
    json_t **change)
{
	const struct fieldedit	*fe = arg;

	*change = json_pack("{s:o}", fe->field, json_keys_edit(
	    json_object_get(o->doc, fe->field), fe->body, fe->op));
	return API_OK;
}

/*
 * API_CONFLICT naming who refers to o (up to eight of them), else API_OK.
 */
static enum apierr
obj_referrers(struct ctx *c, const struct objclass *cls, const struct objrow *o)
{
	char		*rclass, *rname, who[256];
	size_t		 len = 0;
	enum dbrc	 rc;

	if ((rc = db_run(c->db, SQL_REF_WHO, "s", o->uid)) != DB_OK)
		return ctx_dbfail(c, rc);
	who[0] = '\0';
	while (db_next(c->db, SQL_REF_WHO, "ss", &rclass, &rname) == DB_OK) {
		if (len < sizeof(who))
			len += (size_t)snprintf(who + len, sizeof(who) - len,
			    "%s%s %s", len ? ", " : "", rclass, rname);
		free(rclass);
		free(rname);
	}
	db_done(c->db, SQL_REF_WHO);
	if (who[0] == '\0')
		return API_OK;
	return ctx_fail(c, API_CONFLICT, "Cannot delete %s %s: used by %s",
	    cls->label, o->name, who);
}

/* Delete object id of class cls, unless it is frozen or referred to. */
enum apierr
obj_delete(struct ctx *c, const struct objclass *cls, const char *id)
{
	struct objrow	 o;
	json_t		*files = NULL;
	enum apierr	 rc;
	enum dbrc	 drc;

	memset(&o, 0, sizeof(o));
	if ((drc = db_begin(c->db)) != DB_OK)
		return ctx_dbfail(c, drc);
	if ((rc = obj_find(c, cls, id, 1, &o)) != API_OK)
		goto out;
	if ((rc = obj_frozen_check(c, cls, &o, NULL)) != API_OK ||
	    (cls->may_delete != NULL &&
	    (rc = cls->may_delete(c, &o)) != API_OK) ||
	    (rc = obj_referrers(c, cls, &o)) != API_OK)
		goto out;
	/* Its uses of stored files go with it; their bytes after the commit. */
	files = fstore_uses(c, o.uid);
	drc = db_run(c->db, SQL_OBJ_DELETE, "s", o.uid);
	if (drc == DB_REF)
		rc = ctx_fail(c, API_CONFLICT, "Cannot delete %s %s: other "
		    "objects refer to it", cls->label, o.name);
	else if (drc != DB_OK)
		rc = ctx_dbfail(c, drc);
	else if ((drc = db_commit(c->db)) != DB_OK)
		rc = ctx_dbfail(c, drc);
	else {
		fstore_release_all(c, files);
		files = NULL;
		if (cls == &repo_class)
			repotree_unpublish(c->conf, o.uid, o.name);
	}
out:
	db_rollback(c->db);
	json_decref(files);
	objrow_free(&o);
	return rc;
}

/* Every object of cls in tenant tid (SCOPE_ALL: all) into fn, row by row. */
enum apierr
obj_each(struct ctx *c, const struct objclass *cls, long long tid, each_fn fn,
    void *arg)
{
	struct objrow	 o;
	enum sql	 q;
	enum dbrc	 rc;

	if ((rc = obj_list_query(c, cls, tid, &q)) != DB_OK)
		return ctx_dbfail(c, rc);
	while ((rc = obj_row_next(c, q, &o)) == DB_OK) {
		fn(&o, arg);
		objrow_free(&o);
	}
	db_done(c->db, q);
	return rc == DB_DONE ? API_OK : ctx_dbfail(c, rc);
}

/*
 * The UIDs of the objects in scope that match says match what, as a list
 * into *out (new reference): the "by..." search endpoints of the reference.
 */
enum apierr
obj_search(struct ctx *c, const struct objclass *cls, match_fn match,
    const char *what, json_t **out)
{
	const char	*uid;
	json_t		*all, *obj;
	enum apierr	 rc;

	*out = NULL;
	if ((rc = obj_list(c, cls, &all)) != API_OK)
		return rc;
	*out = json_array();
	json_object_foreach(all, uid, obj)
		if (match(obj, uid, what))
			json_array_append_new(*out, json_string(uid));
	json_decref(all);
	return API_OK;
}

/*
 * The /meta answer of a class (new reference): the field list, each with
 * path, summary, source and format, as the reference describes.
 */
json_t *
obj_meta(const struct objclass *cls)
{
	static const char *const formats[F__MAX] = {
		"string", "string", "name", "integer", "boolean", "object",
		"list of strings", "list of roles", "any", "uid", "list of uids",
		"enum", "ip address", "mac address", "key-value pairs"
	};
	static const struct { const char *name, *summary, *format; } book[] = {
		{ "uid", "Unique ID: 32 lowercase hex digits", "uid" },
		{ "last_modified", "When the object last changed, epoch seconds", "float" },
		{ "last_modified_on", "The head node that last changed it", "string" },
		{ "last_modified_by", "The admin who last changed it", "string" },
	};
	const struct field	*f;
	json_t			*fields;
	size_t			 i, j;

	fields = json_array();
	for (i = 0; i < cls->spec.nfields; i++) {
		f = &cls->spec.fields[i];
		json_array_append_new(fields, json_pack("{s:[s], s:s, s:s, s:s, s:b}",
		    "path", f->name, "summary", f->summary,
		    "source", (f->flags & F_READONLY) ? "server" : "client",
		    "format", formats[f->type], "required",
		    (f->flags & F_REQUIRED) != 0));
	}
	for (i = 0; i < nitems(book); i++) {
		for (j = 0; j < cls->spec.nfields; j++)
			if (strcmp(cls->spec.fields[j].name, book[i].name) == 0)
				break;
		if (j < cls->spec.nfields)
			continue;	/* the class says more of it */
		json_array_append_new(fields, json_pack("{s:[s], s:s, s:s, s:s, s:b}",
		    "path", book[i].name, "summary", book[i].summary,
		    "source", "server", "format", book[i].format, "required", 0));
	}
	return json_pack("{s:s, s:o}", "class", cls->plural, "fields", fields);
}

/* Lock the row of object uid for the rest of the caller's transaction. */
enum apierr
obj_lock(struct ctx *c, const char *uid)
{
	struct objrow	 o;
	enum dbrc	 rc;

	if ((rc = db_run(c->db, SQL_OBJ_LOCK, "s", uid)) != DB_OK)
		return ctx_dbfail(c, rc);
	while ((rc = obj_row_next(c, SQL_OBJ_LOCK, &o)) == DB_OK)
		objrow_free(&o);
	db_done(c->db, SQL_OBJ_LOCK);
	return rc == DB_DONE ? API_OK : ctx_dbfail(c, rc);
}

/* Lock tenant tid's row for the rest of the caller's transaction. */
enum apierr
tenant_lock(struct ctx *c, long long tid)
{
	long long	 id;
	enum dbrc	 rc;

	if ((rc = db_run(c->db, SQL_TENANT_LOCK, "i", tid)) != DB_OK)
		return ctx_dbfail(c, rc);
	while ((rc = db_next(c->db, SQL_TENANT_LOCK, "i", &id)) == DB_OK)
		;
	db_done(c->db, SQL_TENANT_LOCK);
	return rc == DB_DONE ? API_OK : ctx_dbfail(c, rc);
}
