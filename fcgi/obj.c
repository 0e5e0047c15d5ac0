/*
 * The generic object engine: list, create, get, PATCH, PUT, DELETE and
 * /meta for every class, driven by the class's field table.  A class file
 * adds only what is special to it, through the prepare and render hooks.
 *
 * Storage: one row of `objects` per object.  Identity and bookkeeping are
 * columns; every other field lives in the JSON `doc`.  Identifiers unique
 * across tenants (admin user names, node MACs) also get an `object_keys`
 * row so the database refuses duplicates atomically.
 *
 * Reads see only the caller's tenant (the superadministrator sees all);
 * an object outside that scope is reported exactly as a missing one.
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

/* The tenant the caller's reads and writes are confined to; 0 = all. */
long long
scope_tenant(const struct req *r)
{
	return r->who.super ? 0 : r->who.tok.tid;
}

/*
 * Fetch one row of an OBJ_COLS statement into o, leaving the document
 * as the stored text in *doc (new allocation).  DB_OK, DB_DONE or error.
 */
static enum dbrc
obj_row_text(struct req *r, enum sql id, struct objrow *o, char **doc)
{
	memset(o, 0, sizeof(*o));
	*doc = NULL;
	return db_next(r->db, id, "ssisidss", &o->uid, &o->name, &o->tenant_id,
	    doc, &o->version, &o->last_modified, &o->last_modified_on,
	    &o->last_modified_by);
}

/* Fetch one row of an OBJ_COLS statement into o.  DB_OK, DB_DONE or error. */
enum dbrc
obj_row_next(struct req *r, enum sql id, struct objrow *o)
{
	char		*doc = NULL;
	char		 err[128];
	enum dbrc	 rc;

	if ((rc = obj_row_text(r, id, o, &doc)) != DB_OK)
		return rc;
	o->doc = doc == NULL ? NULL : json_decode_strict(doc, strlen(doc),
	    err, sizeof(err));
	free(doc);
	if (o->doc == NULL || !json_is_object(o->doc)) {
		log_err("object %s: stored document is not an object", o->uid);
		objrow_free(o);
		return DB_ERROR;
	}
	return DB_OK;
}

/*
 * Render row o of class cls for output (new reference): name, the
 * declared fields in table order, bookkeeping, then uid, as the
 * reference's examples show.  Secret fields never leave.
 */
json_t *
obj_render(struct req *r, const struct objclass *cls, const struct objrow *o)
{
	const struct field	*f;
	json_t			*out, *v;
	size_t			 i;

	out = json_object();
	json_object_set_new(out, "name", json_string(o->name));
	for (i = 0; i < cls->nfields; i++) {
		f = &cls->fields[i];
		if ((f->flags & F_SECRET) || strcmp(f->name, "name") == 0)
			continue;
		if ((v = json_object_get(o->doc, f->name)) != NULL)
			json_object_set(out, f->name, v);
	}
	json_object_set_new(out, "last_modified", json_real(o->last_modified));
	json_object_set_new(out, "last_modified_on",
	    json_string(o->last_modified_on));
	json_object_set_new(out, "last_modified_by",
	    json_string(o->last_modified_by));
	json_object_set_new(out, "uid", json_string(o->uid));
	if (cls->render != NULL)
		cls->render(r, out);
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
	return buf;
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

	for (i = 0; i < cls->nfields; i++) {
		f = &cls->fields[i];
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

/*
 * Resolve id (UID, name, or a unique MAC or IP) of class cls within the
 * caller's scope into *out, locking the row for the rest of the
 * transaction if for_update.  With text (never with for_update), the
 * document is left as stored, in *text, and out->doc is NULL.
 * API_NOT_FOUND when it does not exist or is outside the scope.
 */
static enum apierr
obj_lookup(struct req *r, const struct objclass *cls, const char *id,
    int for_update, struct objrow *out, char **text)
{
	const struct field *f;
	struct objrow	 o, extra;
	long long	 tid = scope_tenant(r);
	enum dbrc	 rc;
	enum sql	 q;
	char		*uid;
	char		 echo[80], key[IP_STR_MAX + 1];
	int		 found = 0;

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	if (uid_valid(id)) {
		q = SQL_OBJ_BY_UID;
		rc = db_run(r->db, q, "ss", cls->name, id);
	} else if ((f = obj_key_field(cls, id, key)) != NULL) {
		q = SQL_OBJ_BY_KEY;
		rc = db_run(r->db, q, "sss", cls->name, f->name, key);
	} else if (tid == 0) {
		q = SQL_OBJ_BY_NAME_ANY;
		rc = db_run(r->db, q, "ss", cls->name, id);
	} else {
		q = SQL_OBJ_BY_NAME;
		rc = db_run(r->db, q, "sis", cls->name, tid, id);
	}
	if (rc != DB_OK)
		return req_dbfail(r, rc);
	rc = text != NULL ? obj_row_text(r, q, &o, text) : obj_row_next(r, q, &o);
	if (rc == DB_OK) {
		found = 1;
		if (q == SQL_OBJ_BY_NAME_ANY && obj_row_next(r, q, &extra) == DB_OK) {
			objrow_free(&extra);
			objrow_free(&o);
			if (text != NULL) {
				free(*text);
				*text = NULL;
			}
			db_done(r->db, q);
			return req_fail(r, API_CONFLICT, "More than one %s is "
			    "named %s (in different tenants); use the UID",
			    cls->label, id_echo(id, echo, sizeof(echo)));
		}
	}
	db_done(r->db, q);
	if (rc != DB_OK && rc != DB_DONE)
		return req_dbfail(r, rc);
	if (!found || (tid != 0 && o.tenant_id != tid)) {
		objrow_free(&o);
		if (text != NULL) {
			free(*text);
			*text = NULL;
		}
		return req_fail(r, API_NOT_FOUND, "No %s found for ID=%s",
		    cls->label, id_echo(id, echo, sizeof(echo)));
	}
	if (!for_update) {
		*out = o;
		return API_OK;
	}
	/* Re-read under a row lock: what we merge into must be current. */
	uid = o.uid;
	o.uid = NULL;
	objrow_free(&o);
	rc = db_run(r->db, SQL_OBJ_LOCK, "s", uid);
	free(uid);
	if (rc != DB_OK)
		return req_dbfail(r, rc);
	rc = obj_row_next(r, SQL_OBJ_LOCK, &o);
	db_done(r->db, SQL_OBJ_LOCK);
	if (rc == DB_DONE)
		return req_fail(r, API_NOT_FOUND, "No %s found for ID=%s",
		    cls->label, id_echo(id, echo, sizeof(echo)));
	if (rc != DB_OK)
		return req_dbfail(r, rc);
	*out = o;
	return API_OK;
}

/* Resolve id into *out; see obj_lookup. */
enum apierr
obj_find(struct req *r, const struct objclass *cls, const char *id,
    int for_update, struct objrow *out)
{
	return obj_lookup(r, cls, id, for_update, out, NULL);
}

/* A growing output buffer for spliced answers. */
struct outbuf {
	char	*p;
	size_t	 len, cap;
};

static void
out_add(struct outbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 4096;
		if ((b->p = realloc(b->p, b->cap)) == NULL) {
			fputs("corral: out of memory\n", stderr);
			abort();
		}
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
out_str(struct outbuf *b, const char *s)
{
	out_add(b, s, strlen(s));
}

/* s as a JSON string, quotes included. */
static void
out_jstr(struct outbuf *b, const char *s)
{
	char	 esc[8];
	size_t	 run;

	out_add(b, "\"", 1);
	while (*s != '\0') {
		for (run = 0; s[run] != '\0' && s[run] != '"' && s[run] != '\\' &&
		    (unsigned char)s[run] >= 0x20; run++)
			;
		out_add(b, s, run);
		s += run;
		if (*s == '\0')
			break;
		snprintf(esc, sizeof(esc), *s == '"' || *s == '\\' ? "\\%c" :
		    "\\u%04x", *s == '"' || *s == '\\' ? *s : (unsigned char)*s);
		out_str(b, esc);
		s++;
	}
	out_add(b, "\"", 1);
}

/*
 * Whether obj_list may splice the stored documents into its answer as
 * text: only when rendering adds and hides nothing.
 */
static int
obj_splices(const struct objclass *cls)
{
	size_t	 i;

	if (cls->render != NULL)
		return 0;
	for (i = 0; i < cls->nfields; i++)
		if (cls->fields[i].flags & F_SECRET)
			return 0;
	return 1;
}

/*
 * Write object o, its stored document doc, as obj_render would show it:
 * the document (compact JSON we wrote) is copied between the name and
 * the bookkeeping fields rather than decoded and encoded again.
 */
static void
out_obj(struct req *r, const struct objclass *cls, struct outbuf *b,
    struct objrow *o, const char *doc)
{
	json_t	*obj;
	char	*rendered, num[40];
	size_t	 n = doc != NULL ? strlen(doc) : 0;

	if (n < 2 || doc[0] != '{' || doc[n - 1] != '}') {
		/* Not our compact form (edited by hand?): the slow way. */
		if ((o->doc = doc != NULL ? json_loads(doc, 0, NULL) : NULL) == NULL)
			o->doc = json_object();
		obj = obj_render(r, cls, o);
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
	snprintf(num, sizeof(num), "%.16g", o->last_modified);
	out_str(b, ", \"last_modified\": ");
	out_str(b, num);
	out_str(b, ", \"last_modified_on\": ");
	out_jstr(b, o->last_modified_on);
	out_str(b, ", \"last_modified_by\": ");
	out_jstr(b, o->last_modified_by);
	out_str(b, ", \"uid\": ");
	out_jstr(b, o->uid);
	out_str(b, "}");
}

/* Run the query of every object of cls in scope; its name goes to *q. */
static enum dbrc
obj_list_query(struct req *r, const struct objclass *cls, enum sql *q)
{
	long long	 tid = scope_tenant(r);

	*q = tid == 0 ? SQL_OBJ_LIST_ALL : SQL_OBJ_LIST;
	return tid == 0 ? db_run(r->db, *q, "s", cls->name) :
	    db_run(r->db, *q, "si", cls->name, tid);
}

/*
 * GET /<plural> for classes obj_splices allows, written out directly
 * (out_obj), so 10,000 nodes cost a copy rather than a decode and an
 * encode each (DESIGN §6: lists of 10,000 in under 100 ms).
 */
static enum apierr
obj_list_spliced(struct req *r, const struct objclass *cls)
{
	struct outbuf	 b = { NULL, 0, 0 };
	struct objrow	 o;
	char		*doc;
	size_t		 rows = 0;
	enum sql	 q;
	enum dbrc	 rc;

	if ((rc = obj_list_query(r, cls, &q)) != DB_OK)
		return req_dbfail(r, rc);
	out_str(&b, "{\"success\": true, \"data\": {");
	while ((rc = obj_row_text(r, q, &o, &doc)) == DB_OK) {
		out_str(&b, rows++ ? ", " : "");
		out_jstr(&b, o.uid);
		out_str(&b, ": ");
		out_obj(r, cls, &b, &o, doc);
		free(doc);
		objrow_free(&o);
	}
	db_done(r->db, q);
	if (rc != DB_DONE) {
		free(b.p);
		return req_dbfail(r, rc);
	}
	out_str(&b, "}}");
	resp_raw(r, 200, "application/json", b.p, b.len);
	free(b.p);
	return API_OK;
}

/*
 * Every object of cls in scope, keyed by UID, as r->data (for callers
 * that search or reshape the list; GET /<plural> answers api_obj_list).
 */
enum apierr
obj_list(struct req *r, const struct objclass *cls)
{
	struct objrow	 o;
	enum sql	 q;
	enum dbrc	 rc;

	if ((rc = obj_list_query(r, cls, &q)) != DB_OK)
		return req_dbfail(r, rc);
	r->data = json_object();
	while ((rc = obj_row_next(r, q, &o)) == DB_OK) {
		json_object_set_new(r->data, o.uid, obj_render(r, cls, &o));
		objrow_free(&o);
	}
	db_done(r->db, q);
	return rc == DB_DONE ? API_OK : req_dbfail(r, rc);
}

/*
 * GET /<class>/:id: the object itself as "data" (the reference's
 * examples; its prose mentions a UID-keyed wrapper that no example shows).
 */
enum apierr
obj_get(struct req *r, const struct objclass *cls)
{
	struct outbuf	 b = { NULL, 0, 0 };
	struct objrow	 o;
	enum apierr	 rc;
	char		*doc = NULL;

	if (obj_splices(cls)) {
		/* The hot path of DESIGN §6: no decode, no encode. */
		if ((rc = obj_lookup(r, cls, req_param(r, "id"), 0, &o, &doc)) !=
		    API_OK)
			return rc;
		out_str(&b, "{\"success\": true, \"data\": ");
		out_obj(r, cls, &b, &o, doc);
		out_str(&b, "}");
		resp_raw(r, 200, "application/json", b.p, b.len);
		free(b.p);
		free(doc);
		objrow_free(&o);
		return API_OK;
	}
	if ((rc = obj_find(r, cls, req_param(r, "id"), 0, &o)) != API_OK)
		return rc;
	r->data = obj_render(r, cls, &o);
	objrow_free(&o);
	return API_OK;
}

/*
 * Insert the rows of o's identifiers unique across tenants: its name
 * (for classes that need it), its F_UNIQUE fields and the class's keys.
 */
static enum apierr
obj_keys_write(struct req *r, const struct objclass *cls, const struct objrow *o)
{
	const struct field	*f;
	enum dbrc		 rc;
	enum apierr		 arc;
	json_t			*v, *keys;
	char			 echo[80];
	size_t			 i;

	if (cls->global_names) {
		rc = db_run(r->db, SQL_KEY_INSERT, "ssss", cls->name, "name",
		    o->name, o->uid);
		if (rc == DB_DUP)
			return req_fail(r, API_CONFLICT, "%c%s with name=%s "
			    "already exists.", cls->label[0] - 'a' + 'A',
			    cls->label + 1, id_echo(o->name, echo, sizeof(echo)));
		if (rc != DB_OK)
			return req_dbfail(r, rc);
	}
	keys = json_array();
	for (i = 0; i < cls->nfields; i++) {
		f = &cls->fields[i];
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
		rc = db_run(r->db, SQL_KEY_INSERT, "ssss", cls->name,
		    json_string_value(json_array_get(v, 0)),
		    json_string_value(json_array_get(v, 1)), o->uid);
		if (rc == DB_DUP)
			arc = req_fail(r, API_CONFLICT, "%c%s with %s already "
			    "exists.", cls->label[0] - 'a' + 'A', cls->label + 1,
			    id_echo(json_string_value(json_array_get(v, 2)),
			    echo, sizeof(echo)));
		else if (rc != DB_OK)
			arc = req_dbfail(r, rc);
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

	for (i = 0; i < cls->nfields; i++) {
		f = &cls->fields[i];
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
obj_ref_load(struct req *r, const char *refclass, const char *field,
    long long tenant_id, const char *id, struct objrow *out)
{
	struct objrow	 o;
	enum sql	 q;
	enum dbrc	 rc;
	char		 echo[80];

	memset(out, 0, sizeof(*out));
	if (uid_valid(id)) {
		q = SQL_OBJ_BY_UID;
		rc = db_run(r->db, q, "ss", refclass, id);
	} else {
		q = SQL_OBJ_BY_NAME;
		rc = db_run(r->db, q, "sis", refclass, tenant_id, id);
	}
	if (rc != DB_OK)
		return req_dbfail(r, rc);
	rc = obj_row_next(r, q, &o);
	db_done(r->db, q);
	if (rc == DB_OK && o.tenant_id == tenant_id) {
		*out = o;
		return API_OK;
	}
	if (rc == DB_OK)
		objrow_free(&o);
	else if (rc != DB_DONE)
		return req_dbfail(r, rc);
	return req_fail(r, API_BAD_REQUEST, "No %s found for %s=%s", refclass,
	    field, id_echo(id, echo, sizeof(echo)));
}

/* The UID of what id names, into uid; see obj_ref_load. */
static enum apierr
obj_ref_resolve(struct req *r, const char *refclass, const char *field,
    long long tenant_id, const char *id, char uid[UID_LEN + 1])
{
	struct objrow	 o;
	enum apierr	 rc;

	if ((rc = obj_ref_load(r, refclass, field, tenant_id, id, &o)) != API_OK)
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
obj_refs_resolve(struct req *r, const struct objclass *cls, struct objrow *o)
{
	const struct field	*f;
	json_t			*v, *list;
	char			 uid[UID_LEN + 1];
	enum apierr		 arc = API_OK;
	size_t			 i, j;

	for (i = 0; i < cls->nfields && arc == API_OK; i++) {
		f = &cls->fields[i];
		if ((f->type != F_REF && f->type != F_REF_LIST) ||
		    (v = json_object_get(o->doc, f->name)) == NULL ||
		    json_is_null(v))
			continue;
		list = json_is_array(v) ? json_deep_copy(v) : json_pack("[O]", v);
		for (j = 0; j < json_array_size(list) && arc == API_OK; j++) {
			arc = obj_ref_resolve(r, f->ref, f->name, o->tenant_id,
			    json_string_value(json_array_get(list, j)), uid);
			if (arc == API_OK && o->uid != NULL &&
			    strcmp(uid, o->uid) == 0)
				arc = req_fail(r, API_BAD_REQUEST, "Field %s cannot "
				    "refer to the object itself", f->name);
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
obj_refs_record(struct req *r, const struct objclass *cls, const struct objrow *o)
{
	const struct field	*f;
	json_t			*v, *e;
	enum dbrc		 rc;
	size_t			 i, j;

	if (o->version != 0 &&
	    (rc = db_run(r->db, SQL_REF_DELETE_ALL, "s", o->uid)) != DB_OK)
		return req_dbfail(r, rc);
	for (i = 0; i < cls->nfields; i++) {
		f = &cls->fields[i];
		if ((f->type != F_REF && f->type != F_REF_LIST) ||
		    (v = json_object_get(o->doc, f->name)) == NULL)
			continue;
		if (json_is_string(v) && (rc = db_run(r->db, SQL_REF_INSERT,
		    "sss", o->uid, f->name, json_string_value(v))) != DB_OK)
			return req_dbfail(r, rc);
		json_array_foreach(v, j, e)
			if ((rc = db_run(r->db, SQL_REF_INSERT, "sss", o->uid,
			    f->name, json_string_value(e))) != DB_OK)
				return req_dbfail(r, rc);
	}
	return API_OK;
}

/*
 * Write o (new when o->version == 0) inside the caller's transaction:
 * the row, its bookkeeping and its unique keys.
 */
enum apierr
obj_store(struct req *r, const struct objclass *cls, struct objrow *o)
{
	char		*doc, echo[80];
	enum dbrc	 rc;
	enum apierr	 arc;

	o->last_modified = time_now();
	obj_normalize(cls, o->doc);
	if ((arc = obj_refs_resolve(r, cls, o)) != API_OK)
		return arc;
	doc = json_dumps(o->doc, JSON_COMPACT | JSON_REAL_PRECISION(17));
	if (o->version == 0)
		rc = db_run(r->db, SQL_OBJ_INSERT, "ssissdss", o->uid, cls->name,
		    o->tenant_id, o->name, doc, o->last_modified,
		    r->conf->head_name, r->who.tok.name);
	else
		rc = db_run(r->db, SQL_OBJ_UPDATE, "issdsss", o->tenant_id, o->name,
		    doc, o->last_modified, r->conf->head_name, r->who.tok.name,
		    o->uid);
	free(doc);
	if (rc == DB_DUP)
		return req_fail(r, API_CONFLICT, "%c%s with name=%s already "
		    "exists.", cls->label[0] - 'a' + 'A', cls->label + 1,
		    id_echo(o->name, echo, sizeof(echo)));
	if (rc == DB_REF)
		return req_fail(r, API_BAD_REQUEST, "A referenced object does "
		    "not exist");
	if (rc != DB_OK)
		return req_dbfail(r, rc);
	if (o->version != 0 && (rc = db_run(r->db, SQL_KEY_DELETE_ALL, "s",
	    o->uid)) != DB_OK)
		return req_dbfail(r, rc);
	if ((arc = obj_keys_write(r, cls, o)) != API_OK)
		return arc;
	return obj_refs_record(r, cls, o);
}

/* Split a document into the name column and the rest. */
static enum apierr
obj_take_name(struct req *r, const struct objclass *cls, json_t *doc,
    char **name)
{
	json_t	*v;

	if ((v = json_object_get(doc, "name")) == NULL || !json_is_string(v))
		return req_fail(r, API_BAD_REQUEST, "Missing required field: name");
	free(*name);
	*name = xstrdup(json_string_value(v));
	json_object_del(doc, "name");
	return API_OK;
}

/* The id of the tenant called name; 0 if there is none or *err is set. */
long long
tenant_lookup(struct req *r, const char *name, enum apierr *err)
{
	long long	 id = 0;
	char		*uid = NULL, *tname = NULL;
	enum dbrc	 rc;

	*err = API_OK;
	if ((rc = db_run(r->db, SQL_TENANT_BY_NAME, "s", name)) != DB_OK) {
		*err = req_dbfail(r, rc);
		return 0;
	}
	if (db_next(r->db, SQL_TENANT_BY_NAME, "iss", &id, &uid, &tname) != DB_OK)
		id = 0;
	db_done(r->db, SQL_TENANT_BY_NAME);
	free(uid);
	free(tname);
	return id;
}

/*
 * Take the "tenant" field (a tenant name) out of doc: only the
 * superadministrator may place an object in a tenant.  *tid keeps its
 * value when the field is absent.
 */
static enum apierr
obj_take_tenant(struct req *r, json_t *doc, long long *tid)
{
	json_t		*t = json_object_get(doc, "tenant");
	enum apierr	 rc;
	long long	 id;

	if (t == NULL)
		return API_OK;
	if (!r->who.super)
		return req_fail(r, API_FORBIDDEN, "Only the superadministrator "
		    "may place an object in a tenant");
	if (!json_is_string(t))
		return req_fail(r, API_BAD_REQUEST, "Field tenant must be a "
		    "tenant name");
	id = tenant_lookup(r, json_string_value(t), &rc);
	if (rc != API_OK)
		return rc;
	if (id == 0)
		return req_fail(r, API_BAD_REQUEST, "No tenant named %.64s",
		    json_string_value(t));
	*tid = id;
	json_object_del(doc, "tenant");
	return API_OK;
}

/*
 * The new object's UID into uid: the one doc brings, for classes whose
 * objects have their own, else a fresh one.
 */
static enum apierr
obj_take_uid(struct req *r, const struct objclass *cls, json_t *doc,
    char uid[UID_LEN + 1])
{
	json_t	*v = json_object_get(doc, "uid");

	if (cls->client_uid && v != NULL) {
		if (!json_is_string(v) || !uid_valid(json_string_value(v)))
			return req_fail(r, API_BAD_REQUEST, "Field uid must be "
			    "32 lowercase hex digits");
		memcpy(uid, json_string_value(v), UID_LEN + 1);
		json_object_del(doc, "uid");
		return API_OK;
	}
	if (uid_new(uid) == -1)
		return req_fail(r, API_INTERNAL, " ");
	return API_OK;
}

/*
 * Create an object of class cls from doc (consumed) in tenant tenant_id
 * inside the caller's transaction.  Its UID goes to uid.
 */
static enum apierr
obj_insert(struct req *r, const struct objclass *cls, json_t *doc,
    long long tenant_id, char uid[UID_LEN + 1])
{
	struct objrow	 o;
	enum apierr	 rc;

	memset(&o, 0, sizeof(o));
	o.doc = doc;
	o.tenant_id = tenant_id;
	if ((rc = obj_take_tenant(r, o.doc, &o.tenant_id)) != API_OK)
		goto out;
	if (cls->prepare != NULL && (rc = cls->prepare(r, o.doc, 1)) != API_OK)
		goto out;
	if ((rc = obj_take_uid(r, cls, o.doc, uid)) != API_OK)
		goto out;
	o.uid = xstrdup(uid);
	if (cls->assign != NULL && (rc = cls->assign(r, &o, NULL)) != API_OK)
		goto out;
	if ((rc = obj_take_name(r, cls, o.doc, &o.name)) != API_OK)
		goto out;
	rc = obj_store(r, cls, &o);
out:
	objrow_free(&o);
	return rc;
}

/* Create one object in its own transaction; see obj_insert. */
enum apierr
obj_create(struct req *r, const struct objclass *cls, json_t *doc,
    long long tenant_id, char uid[UID_LEN + 1])
{
	enum apierr	 rc;
	enum dbrc	 drc;

	if ((drc = db_begin(r->db)) != DB_OK) {
		json_decref(doc);
		return req_dbfail(r, drc);
	}
	if ((rc = obj_insert(r, cls, doc, tenant_id, uid)) == API_OK &&
	    (drc = db_commit(r->db)) != DB_OK)
		rc = req_dbfail(r, drc);
	db_rollback(r->db);
	return rc;
}

/*
 * POST /<plural> with a list: every object checked and created in one
 * transaction, so all are created or none; answers their UIDs in order.
 * A failure names the entry it is about.
 */
static enum apierr
obj_post_list(struct req *r, const struct objclass *cls)
{
	char		 uid[UID_LEN + 1], why[sizeof(r->reason)];
	json_t		*item, *uids = NULL;
	enum apierr	 rc = API_OK;
	enum dbrc	 drc;
	size_t		 i;

	if (json_array_size(r->json) == 0 ||
	    json_array_size(r->json) > cls->bulk_max)
		return req_fail(r, API_BAD_REQUEST, "Send 1 to %zu %s objects",
		    cls->bulk_max, cls->label);
	json_array_foreach(r->json, i, item)
		if ((rc = json_check_object(r, cls->spec, item, 0)) != API_OK)
			goto fail;
	if ((drc = db_begin(r->db)) != DB_OK)
		return req_dbfail(r, drc);
	uids = json_array();
	json_array_foreach(r->json, i, item) {
		rc = obj_insert(r, cls, json_deep_copy(item), r->who.tok.tid, uid);
		if (rc != API_OK)
			goto fail;
		json_array_append_new(uids, json_string(uid));
	}
	if ((drc = db_commit(r->db)) != DB_OK)
		rc = req_dbfail(r, drc);
fail:
	db_rollback(r->db);
	if (rc == API_OK) {
		r->data = uids;
		return API_OK;
	}
	json_decref(uids);
	if (rc == API_BAD_REQUEST || rc == API_CONFLICT) {
		snprintf(why, sizeof(why), "%s", r->reason);
		req_fail(r, rc, "Entry %zu: %s", i, why);
	}
	return rc;
}

/* POST /<plural>: create from the body, answer the new UID. */
enum apierr
obj_post(struct req *r, const struct objclass *cls)
{
	char		 uid[UID_LEN + 1];
	enum apierr	 rc;

	if (cls->bulk_max > 0 && json_is_array(r->json))
		return obj_post_list(r, cls);
	if (r->json == NULL)
		return req_fail(r, API_BAD_REQUEST, "Expected a JSON object");
	/* A route taking lists as well left the checking to us. */
	if (r->route->body != NULL && r->route->body->any &&
	    (rc = json_check_object(r, cls->spec, r->json, 0)) != API_OK)
		return rc;
	rc = obj_create(r, cls, json_deep_copy(r->json), r->who.tok.tid, uid);
	if (rc == API_OK)
		r->data = json_string(uid);
	return rc;
}

/*
 * A frozen object refuses every change but unfreezing it: change may be
 * NULL (a delete) or a PATCH/PUT body.  A guard against accidents, as the
 * reference says, not against someone who unfreezes first.
 */
static enum apierr
obj_frozen_check(struct req *r, const struct objclass *cls,
    const struct objrow *o, const json_t *change)
{
	json_t	*f;

	if (cls->frozen_reason == NULL ||
	    !json_is_true(json_object_get(o->doc, "frozen")))
		return API_OK;
	if (change != NULL && json_object_size(change) == 1 &&
	    (f = json_object_get(change, "frozen")) != NULL && json_is_false(f))
		return API_OK;
	return req_fail(r, API_CONFLICT, "%s", cls->frozen_reason);
}

/*
 * Apply change (consumed) to object id of class cls: merged into the
 * stored fields (PATCH; null removes a field) or replacing them (PUT), in
 * one transaction over the locked row, so concurrent PATCHes of
 * different fields both survive.  With fn, the change is computed by fn
 * from the locked row, so read-modify-write of one field (a list to
 * append to) loses nothing either.  The class's may_change hook sees the
 * stored object and the change before anything is written.
 */
static enum apierr
obj_change_locked(struct req *r, const struct objclass *cls, const char *id,
    json_t *change, int replace, change_fn fn, void *arg)
{
	struct objrow	 o;
	const char	*k;
	json_t		*v, *doc = NULL, *before = NULL;
	enum apierr	 rc;
	enum dbrc	 drc;
	size_t		 i;

	memset(&o, 0, sizeof(o));
	if ((drc = db_begin(r->db)) != DB_OK) {
		rc = req_dbfail(r, drc);
		goto out;
	}
	if ((rc = obj_find(r, cls, id, 1, &o)) != API_OK)
		goto out;
	if (fn != NULL && (rc = fn(r, &o, arg, &change)) != API_OK)
		goto out;
	if ((rc = obj_frozen_check(r, cls, &o, change)) != API_OK)
		goto out;
	if (cls->may_change != NULL &&
	    (rc = cls->may_change(r, &o, change)) != API_OK)
		goto out;
	if (replace) {
		/* PUT replaces what clients write; what the server keeps stays. */
		doc = json_deep_copy(change);
		for (i = 0; i < cls->nfields; i++)
			if ((cls->fields[i].flags & F_READONLY) &&
			    (v = json_object_get(o.doc, cls->fields[i].name)) != NULL)
				json_object_set(doc, cls->fields[i].name, v);
	} else {
		doc = json_deep_copy(o.doc);
		json_object_set_new(doc, "name", json_string(o.name));
		json_object_foreach(change, k, v) {
			if (json_is_null(v))
				json_object_del(doc, k);
			else
				json_object_set(doc, k, v);
		}
	}
	if ((rc = obj_take_tenant(r, doc, &o.tenant_id)) != API_OK)
		goto out;
	if ((v = json_object_get(doc, "uid")) != NULL) {
		if (!json_is_string(v) || strcmp(json_string_value(v), o.uid) != 0) {
			rc = req_fail(r, API_BAD_REQUEST, "The uid of an object "
			    "cannot change");
			goto out;
		}
		json_object_del(doc, "uid");
	}
	if (cls->prepare != NULL && (rc = cls->prepare(r, doc, replace)) != API_OK)
		goto out;
	before = o.doc;
	o.doc = doc;
	doc = NULL;
	if (cls->assign != NULL && (rc = cls->assign(r, &o, before)) != API_OK)
		goto out;
	if ((rc = obj_take_name(r, cls, o.doc, &o.name)) != API_OK)
		goto out;
	if ((rc = obj_store(r, cls, &o)) != API_OK)
		goto out;
	if ((drc = db_commit(r->db)) != DB_OK)
		rc = req_dbfail(r, drc);
out:
	db_rollback(r->db);
	json_decref(doc);
	json_decref(before);
	json_decref(change);
	objrow_free(&o);
	return rc;
}

/* Apply change (consumed) to object id; see obj_change_locked. */
enum apierr
obj_change(struct req *r, const struct objclass *cls, const char *id,
    json_t *change, int replace)
{
	return obj_change_locked(r, cls, id, change, replace, NULL, NULL);
}

/* Apply the change fn computes from the locked object id. */
enum apierr
obj_change_by(struct req *r, const struct objclass *cls, const char *id,
    change_fn fn, void *arg)
{
	return obj_change_locked(r, cls, id, NULL, 0, fn, arg);
}

/*
 * Answer one field of object id (the GETs of /attributes, /groups,
 * /gui_settings): the stored value, or empty (consumed) when the object
 * has no value of empty's type.
 */
enum apierr
obj_field_get(struct req *r, const struct objclass *cls, const char *id,
    const char *field, json_t *empty)
{
	struct objrow	 o;
	json_t		*v;
	enum apierr	 rc;

	if ((rc = obj_find(r, cls, id, 0, &o)) != API_OK) {
		json_decref(empty);
		return rc;
	}
	v = json_object_get(o.doc, field);
	if (v != NULL && json_typeof(v) == json_typeof(empty)) {
		json_decref(empty);
		r->data = json_incref(v);
	} else
		r->data = empty;
	objrow_free(&o);
	return API_OK;
}

/*
 * A change_fn editing the keys of one object-valued field (attributes,
 * gui_settings) of the locked object by the request body.
 */
enum apierr
obj_field_edit(struct req *r, const struct objrow *o, void *arg, json_t **change)
{
	const struct fieldedit	*fe = arg;

	*change = json_pack("{s:o}", fe->field, json_keys_edit(
	    json_object_get(o->doc, fe->field), r->json, fe->op));
	return API_OK;
}

/* PATCH (replace == 0) or PUT (replace == 1) /<class>/:id from the body. */
enum apierr
obj_update(struct req *r, const struct objclass *cls, int replace)
{
	if (r->json == NULL)
		return req_fail(r, API_BAD_REQUEST, "Expected a JSON object");
	return obj_change(r, cls, req_param(r, "id"), json_deep_copy(r->json),
	    replace);
}

/*
 * API_CONFLICT naming who refers to o (up to eight of them), else API_OK.
 */
static enum apierr
obj_referrers(struct req *r, const struct objclass *cls, const struct objrow *o)
{
	char		*rclass, *rname, who[256];
	size_t		 len = 0;
	enum dbrc	 rc;

	if ((rc = db_run(r->db, SQL_REF_WHO, "s", o->uid)) != DB_OK)
		return req_dbfail(r, rc);
	who[0] = '\0';
	while (db_next(r->db, SQL_REF_WHO, "ss", &rclass, &rname) == DB_OK) {
		if (len < sizeof(who))
			len += (size_t)snprintf(who + len, sizeof(who) - len,
			    "%s%s %s", len ? ", " : "", rclass, rname);
		free(rclass);
		free(rname);
	}
	db_done(r->db, SQL_REF_WHO);
	if (who[0] == '\0')
		return API_OK;
	return req_fail(r, API_CONFLICT, "Cannot delete %s %s: used by %s",
	    cls->label, o->name, who);
}

/* DELETE /<class>/:id. */
enum apierr
obj_delete(struct req *r, const struct objclass *cls)
{
	struct objrow	 o;
	enum apierr	 rc;
	enum dbrc	 drc;

	if ((drc = db_begin(r->db)) != DB_OK)
		return req_dbfail(r, drc);
	if ((rc = obj_find(r, cls, req_param(r, "id"), 1, &o)) != API_OK)
		goto out;
	if ((rc = obj_frozen_check(r, cls, &o, NULL)) != API_OK ||
	    (rc = obj_referrers(r, cls, &o)) != API_OK)
		goto out;
	drc = db_run(r->db, SQL_OBJ_DELETE, "s", o.uid);
	if (drc == DB_REF)
		rc = req_fail(r, API_CONFLICT, "Cannot delete %s %s: other "
		    "objects refer to it", cls->label, o.name);
	else if (drc != DB_OK)
		rc = req_dbfail(r, drc);
	else if ((drc = db_commit(r->db)) != DB_OK)
		rc = req_dbfail(r, drc);
out:
	db_rollback(r->db);
	objrow_free(&o);
	return rc;
}

/* Every object of class cls in tenant tid (0: all) into fn, row by row. */
enum apierr
obj_each(struct req *r, const char *cls, long long tid,
    void (*fn)(const struct objrow *, void *), void *arg)
{
	struct objrow	 o;
	enum sql	 q = tid == 0 ? SQL_OBJ_LIST_ALL : SQL_OBJ_LIST;
	enum dbrc	 rc;

	rc = tid == 0 ? db_run(r->db, q, "s", cls) : db_run(r->db, q, "si", cls, tid);
	if (rc != DB_OK)
		return req_dbfail(r, rc);
	while ((rc = obj_row_next(r, q, &o)) == DB_OK) {
		fn(&o, arg);
		objrow_free(&o);
	}
	db_done(r->db, q);
	return rc == DB_DONE ? API_OK : req_dbfail(r, rc);
}

/*
 * The UIDs of the objects in scope that match says match what, as a list
 * (the "by…" search endpoints of the reference).
 */
enum apierr
obj_search(struct req *r, const struct objclass *cls, match_fn match,
    const char *what)
{
	const char	*uid;
	json_t		*all, *obj, *out;
	enum apierr	 rc;

	if ((rc = obj_list(r, cls)) != API_OK)
		return rc;
	all = r->data;
	out = json_array();
	json_object_foreach(all, uid, obj)
		if (match(obj, uid, what))
			json_array_append_new(out, json_string(uid));
	json_decref(all);
	r->data = out;
	return API_OK;
}

/*
 * GET /<plural>/meta: the field list, each with path, summary, source and
 * format, as the reference describes.  Public.
 */
enum apierr
obj_meta(struct req *r, const struct objclass *cls)
{
	static const char *const formats[F__MAX] = {
		"string", "string", "name", "integer", "boolean", "object",
		"list of strings", "list of roles", "any", "uid", "list of uids",
		"enum", "ip address", "mac address"
	};
	static const struct { const char *name, *summary, *format; } book[] = {
		{ "uid", "Unique ID: 32 lowercase hex digits", "uid" },
		{ "last_modified", "When the object last changed, epoch seconds", "float" },
		{ "last_modified_on", "The head node that last changed it", "string" },
		{ "last_modified_by", "The admin who last changed it", "string" },
	};
	const struct field	*f;
	json_t			*fields;
	size_t			 i;

	fields = json_array();
	for (i = 0; i < cls->nfields; i++) {
		f = &cls->fields[i];
		if (f->flags & F_SECRET)
			continue;
		json_array_append_new(fields, json_pack("{s:[s], s:s, s:s, s:s, s:b}",
		    "path", f->name, "summary", f->summary,
		    "source", (f->flags & F_READONLY) ? "server" : "client",
		    "format", formats[f->type], "required",
		    (f->flags & F_REQUIRED) != 0));
	}
	for (i = 0; i < sizeof(book) / sizeof(book[0]); i++)
		json_array_append_new(fields, json_pack("{s:[s], s:s, s:s, s:s, s:b}",
		    "path", book[i].name, "summary", book[i].summary,
		    "source", "server", "format", book[i].format, "required", 0));
	r->data = json_pack("{s:s, s:o}", "class", cls->plural, "fields", fields);
	return API_OK;
}

/*
 * The generic handlers: a route names its class, and these serve every
 * class whose operations need nothing special.
 */
/* GET /<plural>: every object in scope, keyed by UID. */
enum apierr
api_obj_list(struct req *r)
{
	const struct objclass	*cls = r->route->cls;

	return obj_splices(cls) ? obj_list_spliced(r, cls) : obj_list(r, cls);
}

enum apierr
api_obj_post(struct req *r)
{
	return obj_post(r, r->route->cls);
}

enum apierr
api_obj_get(struct req *r)
{
	return obj_get(r, r->route->cls);
}

enum apierr
api_obj_patch(struct req *r)
{
	return obj_update(r, r->route->cls, 0);
}

enum apierr
api_obj_put(struct req *r)
{
	return obj_update(r, r->route->cls, 1);
}

enum apierr
api_obj_delete(struct req *r)
{
	return obj_delete(r, r->route->cls);
}

enum apierr
api_obj_meta(struct req *r)
{
	return obj_meta(r, r->route->cls);
}
