/*
 * The standard routes of every class (list, create, meta, get, PATCH,
 * PUT, DELETE) and the search and single-field GETs, as generic handlers:
 * a route row names its class (and an argument), and these turn the
 * request into calls of the object engine in the caller's scope.
 */
#include <string.h>

#include "extern.h"

/* GET /<plural>: every object in scope, keyed by UID. */
enum apierr
api_obj_list(struct req *r)
{
	struct outbuf	 b = { NULL, 0, 0 };
	struct cachefill fill;
	const char	*cls = r->route->cls->name;
	long long	 tid = r->ctx.scope.tenant;
	enum apierr	 rc;

	if (resp_cached_list(r, cls, tid, "", &fill))
		return API_OK;
	if ((rc = obj_list_text(&r->ctx, r->route->cls, &b)) == API_OK) {
		cache_list_store(&fill, cls, tid, "", b.p, b.len);
		resp_out(r, &b);
	}
	out_free(&b);
	return rc;
}

/*
 * POST /<plural>: create one object from the body and answer its UID;
 * classes with a bulk_max also take a list, created all or none, and
 * answer the UIDs in order.
 */
enum apierr
api_obj_post(struct req *r)
{
	const struct objclass	*cls = r->route->cls;
	char			 uid[UID_LEN + 1];
	enum apierr		 rc;

	if (cls->bulk_max > 0 && json_is_array(r->json))
		return obj_create_list(&r->ctx, cls, r->json, r->who.tok.tid,
		    &r->data);
	if (!json_is_object(r->json))
		return req_fail(r, API_BAD_REQUEST, "Expected a JSON object");
	rc = obj_create(&r->ctx, cls, json_deep_copy(r->json), r->who.tok.tid,
	    uid);
	if (rc == API_OK)
		r->data = json_string(uid);
	return rc;
}

/* GET /<class>/:id: the object itself as "data". */
enum apierr
api_obj_get(struct req *r)
{
	struct outbuf	 b = { NULL, 0, 0 };
	enum apierr	 rc;

	if ((rc = obj_get_text(&r->ctx, r->route->cls, req_param(r, "id"),
	    &b)) == API_OK)
		resp_out(r, &b);
	out_free(&b);
	return rc;
}

static enum apierr
api_obj_update(struct req *r, enum how how)
{
	if (!json_is_object(r->json))
		return req_fail(r, API_BAD_REQUEST, "Expected a JSON object");
	return obj_change(&r->ctx, r->route->cls, req_param(r, "id"),
	    json_deep_copy(r->json), how);
}

/* PATCH /<class>/:id: change only the sent fields; null unsets one. */
enum apierr
api_obj_patch(struct req *r)
{
	return api_obj_update(r, HOW_PATCH);
}

/* PUT /<class>/:id: replace the object; fields not sent go to defaults. */
enum apierr
api_obj_put(struct req *r)
{
	return api_obj_update(r, HOW_REPLACE);
}

/* DELETE /<class>/:id: 409 while frozen or while others refer to it. */
enum apierr
api_obj_delete(struct req *r)
{
	return obj_delete(&r->ctx, r->route->cls, req_param(r, "id"));
}

/* GET /<plural>/meta (public): the class's fields. */
enum apierr
api_obj_meta(struct req *r)
{
	r->data = obj_meta(r->route->cls);
	return API_OK;
}

/*
 * GET /<plural>/by<what>/:part: the UIDs of the objects in scope that
 * the route's matcher (its argument, a struct search) accepts.
 */
enum apierr
api_obj_search(struct req *r)
{
	const struct search	*s = r->route->arg;

	return obj_search(&r->ctx, r->route->cls, s->match, req_param(r, "part"),
	    &r->data);
}

/*
 * GET /<class>/:id/<field>: one field of the object (the route's
 * argument names it), or the field type's empty value when it is unset:
 * /node/:id/groups, /admin/:id/gui_settings.
 */
enum apierr
api_obj_field_get(struct req *r)
{
	const struct objclass	*cls = r->route->cls;
	const char		*name = r->route->arg;
	const struct field	*f = NULL;
	struct objrow		 o;
	json_t			*v;
	enum apierr		 rc;
	size_t			 i;

	for (i = 0; i < cls->spec.nfields && f == NULL; i++)
		if (strcmp(cls->spec.fields[i].name, name) == 0)
			f = &cls->spec.fields[i];
	if (f == NULL)
		return ctx_internal(&r->ctx, "class %s has no field %s",
		    cls->name, name);
	if ((rc = obj_find(&r->ctx, cls, req_param(r, "id"), 0, &o)) != API_OK)
		return rc;
	if ((v = json_object_get(o.doc, name)) != NULL)
		r->data = json_incref(v);
	else if (f->type == F_OBJECT || f->type == F_ATTRS)
		r->data = json_object();
	else if (f->type == F_ARRAY_STR || f->type == F_REF_LIST)
		r->data = json_array();
	else
		r->data = json_null();
	objrow_free(&o);
	return API_OK;
}
