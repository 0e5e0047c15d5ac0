/*
 * Untrusted JSON: strict decoding and checking a body against a route's
 * spec before any handler sees it (kcgi's validators, for JSON).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define JSON_MAX_DEPTH	16	/* no legitimate body nests deeper */

static int
json_depth_ok(const json_t *v, int depth)
{
	const char	*k;
	json_t		*e;
	size_t		 i;

	if (depth > JSON_MAX_DEPTH)
		return 0;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)(uintptr_t)v, k, e)
			if (!json_depth_ok(e, depth + 1))
				return 0;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if (!json_depth_ok(e, depth + 1))
				return 0;
	}
	return 1;
}

/*
 * Decode buf as one JSON value: duplicate keys, NUL bytes in strings,
 * trailing bytes and deep nesting are refused.  Returns a new reference,
 * or NULL with a human reason in err.
 */
json_t *
json_decode_strict(const char *buf, size_t len, char *err, size_t errsz)
{
	json_error_t	 e;
	json_t		*v;

	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
	if (v == NULL) {
		snprintf(err, errsz, "Malformed JSON at line %d, column %d: %s",
		    e.line, e.column, e.text);
		return NULL;
	}
	if (!json_depth_ok(v, 0)) {
		json_decref(v);
		snprintf(err, errsz, "JSON nested deeper than %d levels",
		    JSON_MAX_DEPTH);
		return NULL;
	}
	return v;
}

static const char *const ftype_names[F__MAX] = {
	"a string", "a string", "a name (letters, digits, '.', '_', '-')",
	"an integer", "true or false", "a JSON object", "a list of strings",
	"a list of roles", "any JSON value", "a name or UID",
	"a name or UID, or a list of them", "one of the listed values",
	"an IPv4 or IPv6 address", "a MAC address (aa:bb:cc:dd:ee:ff)",
	"a JSON object of key-value pairs",
};

/* Fail with a reason: a pure check's way of saying no. */
static enum apierr
why_fail(char *why, size_t whysz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum apierr
why_fail(char *why, size_t whysz, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	utf8_clean(why);
	return API_BAD_REQUEST;
}

/*
 * Write MAC address s as six lowercase hex pairs joined by ':' into out.
 * Accepts ':' or '-' separators and either case.  Returns 0 or -1.
 */
int
mac_normalize(const char *s, char out[18])
{
	static const char	 hex[] = "0123456789abcdef";
	const char		*p;
	int			 i, hi, lo;

	for (i = 0, p = s; i < 6; i++) {
		if ((hi = hex_digit(p[0])) == -1 || (lo = hex_digit(p[1])) == -1)
			return -1;
		out[3 * i] = hex[hi];
		out[3 * i + 1] = hex[lo];
		out[3 * i + 2] = i < 5 ? ':' : '\0';
		p += 2;
		if (i < 5 && *p != ':' && *p != '-')
			return -1;
		if (i < 5)
			p++;
	}
	return *p == '\0' ? 0 : -1;
}

/* Whether s names an object: a UID or a valid name. */
static int
valid_ref(const json_t *v)
{
	return json_is_string(v) && valid_name(json_string_value(v));
}

/*
 * Whether s is a URL a package manager or git could use: a scheme of
 * lowercase letters (and + - .), "://", then printable non-blank bytes.
 */
int
valid_url(const char *s)
{
	size_t	 n;

	if (s == NULL || strlen(s) > 2048)
		return 0;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+-.");
	if (n == 0 || strncmp(s + n, "://", 3) != 0 || s[n + 3] == '\0')
		return 0;
	for (s += n + 3; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/*
 * Whether s is a git branch name we accept: the name charset plus '/',
 * no "..", not starting with '-' (it would read as an option).
 */
int
valid_branch(const char *s)
{
	size_t	 n;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '/' ||
	    strstr(s, "..") != NULL || strlen(s) > 200)
		return 0;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-/");
	return s[n] == '\0';
}

/* Whether s is a textual IPv4 or IPv6 address. */
int
valid_ip(const char *s)
{
	unsigned char	 buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* "a, b, c" from a NULL-terminated list, into buf. */
static const char *
enum_list(const char *const *choices, char *buf, size_t sz)
{
	size_t	 i, len = 0;

	buf[0] = '\0';
	for (i = 0; choices != NULL && choices[i] != NULL && len < sz; i++)
		len += (size_t)snprintf(buf + len, sz - len, "%s%s",
		    i ? ", " : "", choices[i]);
	return buf;
}

/* The size of v as compact JSON, in bytes. */
size_t
json_size(const json_t *v)
{
	char	*dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	size_t	 n = dump == NULL ? 0 : strlen(dump);

	free(dump);
	return n;
}

/*
 * Check one field's value against its declaration.  Returns API_OK, or
 * API_BAD_REQUEST with a reason naming the field and the rule in why.
 */
enum apierr
json_check_field(const struct field *f, const json_t *v, char *why,
    size_t whysz)
{
	unsigned int	 bit;
	const char	*s;
	json_t		*e;
	char		 list[256], mac[18];
	size_t		 i;

	switch (f->type) {
	case F_STRING:
	case F_TEXT:
		if (!json_is_string(v))
			break;
		if (!valid_text(json_string_value(v), f->max ? f->max : 4096))
			return why_fail(why, whysz, "Field %s must be "
			    "text of at most %zu bytes without control characters",
			    f->name, f->max ? f->max : 4096);
		return API_OK;
	case F_NAME:
		if (!json_is_string(v))
			break;
		s = json_string_value(v);
		if (!valid_name(s) || (f->max && strlen(s) > f->max))
			return why_fail(why, whysz, "Field %s must be "
			    "1 to %zu letters, digits, '.', '_' or '-', not "
			    "starting with '.' or '-'", f->name,
			    f->max ? f->max : (size_t)NAME_MAX_LEN);
		return API_OK;
	case F_INT:
		if (!json_is_integer(v))
			break;
		if (json_integer_value(v) < 0 ||
		    (f->max && (size_t)json_integer_value(v) > f->max))
			return why_fail(why, whysz, "Field %s must be "
			    "an integer from 0 to %zu", f->name, f->max);
		return API_OK;
	case F_BOOL:
		if (!json_is_boolean(v))
			break;
		return API_OK;
	case F_OBJECT:
	case F_ATTRS:
		if (!json_is_object(v))
			break;
		if (f->max && json_size(v) > f->max)
			return why_fail(why, whysz, "Field %s is larger than "
			    "%zu bytes", f->name, f->max);
		return f->type == F_ATTRS ? attrs_check(v, why, whysz) : API_OK;
	case F_ARRAY_STR:
		if (!json_is_array(v))
			break;
		if (f->max && json_array_size(v) > f->max)
			return why_fail(why, whysz, "Field %s holds at "
			    "most %zu entries", f->name, f->max);
		json_array_foreach((json_t *)(uintptr_t)v, i, e)
			if (!json_is_string(e) ||
			    !valid_text(json_string_value(e), 16384))
				return why_fail(why, whysz, "Field %s "
				    "must be a list of strings", f->name);
		return API_OK;
	case F_ROLES:
		/* The reference calls roles "a comma-separated list": take both. */
		if (json_is_string(v))
			return API_OK;
		if (!json_is_array(v))
			break;
		json_array_foreach((json_t *)(uintptr_t)v, i, e) {
			if (!json_is_string(e))
				return why_fail(why, whysz,
				    "Field roles must be a list of role names");
			if (role_parse(json_string_value(e), &bit) == -1)
				return why_fail(why, whysz, "Unknown role: %.64s",
				    json_string_value(e));
		}
		return API_OK;
	case F_ANY:
		return API_OK;
	case F_REF:
		if (json_is_null(v) || valid_ref(v))
			return API_OK;
		break;
	case F_REF_LIST:
		if (valid_ref(v))
			return API_OK;	/* one name stands for a list of one */
		if (!json_is_array(v) || (f->max && json_array_size(v) > f->max))
			break;
		json_array_foreach((json_t *)(uintptr_t)v, i, e)
			if (!valid_ref(e))
				return why_fail(why, whysz, "Entry %zu of %s "
				    "is not a name or UID", i, f->name);
		return API_OK;
	case F_ENUM:
		if (!json_is_string(v))
			break;
		for (i = 0; f->choices != NULL && f->choices[i] != NULL; i++)
			if (strcmp(f->choices[i], json_string_value(v)) == 0)
				return API_OK;
		return why_fail(why, whysz, "Field %s must be one of: %s",
		    f->name, enum_list(f->choices, list, sizeof(list)));
	case F_IP:
		if (json_is_string(v) && valid_ip(json_string_value(v)))
			return API_OK;
		break;
	case F_MAC:
		if (json_is_string(v) && mac_normalize(json_string_value(v), mac) == 0)
			return API_OK;
		break;
	case F__MAX:
		break;
	}
	return why_fail(why, whysz, "Field %s must be %s", f->name,
	    ftype_names[f->type < F__MAX ? f->type : F_ANY]);
}

/*
 * A copy of object base (NULL or not an object: empty) edited by body
 * (new reference).  MERGE sets body's keys; REPLACE keeps only them;
 * REMOVE drops the keys body names (one string, or a list of strings),
 * or every key when body is NULL.
 */
json_t *
json_keys_edit(const json_t *base, const json_t *body, enum keyedit op)
{
	json_t		*out, *e;
	const char	*k;
	size_t		 i;

	out = op != KEYEDIT_REPLACE && json_is_object(base) ?
	    json_deep_copy(base) : json_object();
	switch (op) {
	case KEYEDIT_MERGE:
	case KEYEDIT_REPLACE:
		json_object_foreach((json_t *)(uintptr_t)body, k, e)
			json_object_set(out, k, e);
		break;
	case KEYEDIT_REMOVE:
		if (body == NULL)
			json_object_clear(out);
		else if (json_is_string(body))
			json_object_del(out, json_string_value(body));
		json_array_foreach(body, i, e)
			if (json_is_string(e))
				json_object_del(out, json_string_value(e));
		break;
	}
	return out;
}

/* A body of any JSON shape; the handler checks it. */
const struct bodyspec b_any = { .fields = NULL, .nfields = 0, .any = 1, .raw = 0 };

/*
 * Check obj against spec: an object whose keys are all declared (the
 * rest are reported as the reference does, "Unhandled parameter(s): a, b"),
 * whose values pass their field checks, and which holds every required
 * field unless partial (PATCH).  API_OK, or API_BAD_REQUEST with why.
 */
enum apierr
json_check_object(const struct bodyspec *spec, const json_t *obj, int partial,
    char *why, size_t whysz)
{
	const struct field	*f;
	const char		*k;
	json_t			*v;
	char			 unknown[256];
	size_t			 i, len = 0;
	enum apierr		 rc;

	if (!json_is_object(obj))
		return why_fail(why, whysz, "Expected a JSON object");
	unknown[0] = '\0';
	json_object_foreach((json_t *)(uintptr_t)obj, k, v) {
		for (i = 0; i < spec->nfields; i++)
			if (strcmp(spec->fields[i].name, k) == 0 &&
			    !(spec->fields[i].flags & F_READONLY))
				break;
		if (i < spec->nfields)
			continue;
		/* A bounded prefix of each key; why_fail mends a cut character. */
		len += (size_t)snprintf(unknown + len, len < sizeof(unknown) ?
		    sizeof(unknown) - len : 0, "%s%.32s", len ? ", " : "",
		    valid_text(k, 4096) ? k : "?");
		if (len >= sizeof(unknown))
			len = sizeof(unknown) - 1;
	}
	if (unknown[0] != '\0')
		return why_fail(why, whysz, "Unhandled parameter(s): %s", unknown);
	for (i = 0; i < spec->nfields; i++) {
		f = &spec->fields[i];
		if (f->flags & F_READONLY)
			continue;
		if ((v = json_object_get(obj, f->name)) == NULL) {
			if ((f->flags & F_REQUIRED) && !partial)
				return why_fail(why, whysz,
				    "Missing required field: %s", f->name);
			continue;
		}
		if (json_is_null(v) && !(f->flags & F_REQUIRED) && partial)
			continue;	/* PATCH null resets a field */
		if ((rc = json_check_field(f, v, why, whysz)) != API_OK)
			return rc;
	}
	return API_OK;
}

/* Remove every key of obj whose value is null. */
void
json_drop_nulls(json_t *obj)
{
	const char	*k;
	json_t		*v;
	void		*tmp;

	json_object_foreach_safe(obj, tmp, k, v)
		if (json_is_null(v))
			json_object_del(obj, k);
}

/* Whether array list holds the string s. */
int
json_list_has(const json_t *list, const char *s)
{
	const json_t	*e;
	size_t		 i;

	if (s == NULL)
		return 0;
	json_array_foreach((json_t *)(uintptr_t)list, i, e)
		if (json_is_string(e) && strcmp(json_string_value(e), s) == 0)
			return 1;
	return 0;
}

/*
 * The values of key in the JSON object text (new reference, a list in
 * the order written), for bodies that repeat a key, as the reference's
 * {"mac": "...", "mac": "..."} does: jansson keeps only the last of a
 * repeated key, so the object is walked member by member, each key and
 * value decoded by jansson itself.  Another key, or anything that is not
 * one object, is refused with a reason in err.
 */
json_t *
json_repeated_key(const char *text, size_t len, const char *key, char *err,
    size_t errsz)
{
	json_error_t	 je;
	json_t		*out, *k, *v;
	size_t		 pos = 0;

#define SKIP_WS() while (pos < len && (text[pos] == ' ' || text[pos] == '\t' || \
	    text[pos] == '\n' || text[pos] == '\r')) pos++
	out = json_array();
	SKIP_WS();
	if (pos >= len || text[pos++] != '{')
		goto bad;
	SKIP_WS();
	if (pos < len && text[pos] == '}') {
		pos++;
		goto end;
	}
	for (;;) {
		SKIP_WS();
		k = json_loadb(text + pos, len - pos, JSON_DECODE_ANY |
		    JSON_DISABLE_EOF_CHECK, &je);
		if (k == NULL || !json_is_string(k)) {
			json_decref(k);
			goto bad;
		}
		if (strcmp(json_string_value(k), key) != 0) {
			snprintf(err, errsz, "Unhandled parameter(s): %.64s",
			    json_string_value(k));
			json_decref(k);
			json_decref(out);
			return NULL;
		}
		json_decref(k);
		pos += je.position;
		SKIP_WS();
		if (pos >= len || text[pos++] != ':')
			goto bad;
		SKIP_WS();
		v = json_loadb(text + pos, len - pos, JSON_DECODE_ANY |
		    JSON_DISABLE_EOF_CHECK, &je);
		if (v == NULL)
			goto bad;
		json_array_append_new(out, v);
		pos += je.position;
		SKIP_WS();
		if (pos < len && text[pos] == ',') {
			pos++;
			continue;
		}
		if (pos < len && text[pos] == '}') {
			pos++;
			break;
		}
		goto bad;
	}
end:
	SKIP_WS();
	if (pos == len)
		return out;
bad:
#undef SKIP_WS
	snprintf(err, errsz, "Malformed JSON: expected {\"%s\": ...}", key);
	json_decref(out);
	return NULL;
}
