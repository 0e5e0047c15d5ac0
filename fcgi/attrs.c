/*
 * Attribute key-value stores (reference: "Attribute-Group Objects", and
 * node attributes): validation, and the /<class>/:id/attributes
 * endpoints that change single keys of an object's "attributes" field.
 *
 * The reference says the store "can only reference one level": values
 * are strings, numbers or booleans, never objects or lists.
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"

#define ATTR_KEY_MAX	64
#define ATTR_VALUE_MAX	4096
#define ATTRS_MAX	512

/* Whether k is an attribute key: 1–64 of [A-Za-z0-9_.-]. */
static int
valid_attr_key(const char *k)
{
	size_t	 i;

	for (i = 0; k[i] != '\0'; i++)
		if (i >= ATTR_KEY_MAX || !((k[i] >= 'a' && k[i] <= 'z') ||
		    (k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= '0' && k[i] <= '9') ||
		    k[i] == '_' || k[i] == '.' || k[i] == '-'))
			return 0;
	return i > 0;
}

/*
 * Check an attributes object as stored: keys, one level of scalar
 * values, bounded sizes.  API_OK or API_BAD_REQUEST naming the key.
 */
enum apierr
attrs_check(struct req *r, const json_t *attrs)
{
	const char	*k;
	json_t		*v;

	if (!json_is_object(attrs))
		return req_fail(r, API_BAD_REQUEST, "Attributes must be a JSON "
		    "object of key-value pairs");
	if (json_object_size(attrs) > ATTRS_MAX)
		return req_fail(r, API_BAD_REQUEST, "At most %d attributes",
		    ATTRS_MAX);
	json_object_foreach((json_t *)(uintptr_t)attrs, k, v) {
		if (!valid_attr_key(k))
			return req_fail(r, API_BAD_REQUEST, "Attribute key %.64s "
			    "must be 1 to %d letters, digits, '_', '.' or '-'",
			    valid_text(k, 64) ? k : "?", ATTR_KEY_MAX);
		if (json_is_string(v) &&
		    !valid_text(json_string_value(v), ATTR_VALUE_MAX))
			return req_fail(r, API_BAD_REQUEST, "Attribute %s: text "
			    "of at most %d bytes without control characters", k,
			    ATTR_VALUE_MAX);
		if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v))
			return req_fail(r, API_BAD_REQUEST, "Attribute %s must "
			    "be a string, a number or true/false", k);
	}
	return API_OK;
}

/* GET /<class>/:id/attributes: the object's own key-value pairs. */
enum apierr
api_attrs_get(struct req *r)
{
	return obj_field_get(r, r->route->cls, req_param(r, "id"), "attributes",
	    json_object());
}

static enum apierr
attrs_change(struct req *r, enum keyedit op)
{
	struct fieldedit	 fe = { "attributes", op };
	json_t			*e;
	enum apierr		 rc;
	size_t			 i;

	if (op == KEYEDIT_REMOVE) {
		/* One key or a list of keys, as the reference says. */
		if (json_is_array(r->json)) {
			json_array_foreach(r->json, i, e)
				if (!json_is_string(e))
					return req_fail(r, API_BAD_REQUEST,
					    "Send a key or a list of keys");
		} else if (!json_is_string(r->json))
			return req_fail(r, API_BAD_REQUEST,
			    "Send a key or a list of keys");
	} else if ((rc = attrs_check(r, r->json)) != API_OK)
		return rc;
	return obj_change_by(r, r->route->cls, req_param(r, "id"),
	    obj_field_edit, &fe);
}

/* PUT /<class>/:id/attributes: replace every pair. */
enum apierr
api_attrs_put(struct req *r)
{
	return attrs_change(r, KEYEDIT_REPLACE);
}

/* PATCH /<class>/:id/attributes: set the sent keys, keep the rest. */
enum apierr
api_attrs_patch(struct req *r)
{
	return attrs_change(r, KEYEDIT_MERGE);
}

/* DELETE /<class>/:id/attributes: remove one key or a list of keys. */
enum apierr
api_attrs_delete(struct req *r)
{
	return attrs_change(r, KEYEDIT_REMOVE);
}
