/*
 * GET /audit: reading the audit log (audit.c writes it).  A tenant's
 * role.fulladmin sees its own tenant's rows, the superadministrator all.
 * There is no route that changes or deletes a row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define AUDIT_PAGE		100	/* rows a page holds by default */
#define AUDIT_PAGE_MAX		1000
#define AUDIT_ID_MAX		(1LL << 62)
#define AUDIT_FILTER_MAX	300	/* the widest column, actor */
#define AUDIT_TIME_MAX		100000000000LL	/* epoch seconds, year 5138 */

/* The query parameters GET /audit knows; any other is refused. */
static const char *const audit_params[] = {
	"since", "until", "object", "actor", "route", "limit", "after", "before",
};

/* Whether query parameter key is in r's query at all. */
static int
audit_has(const struct req *r, const char *key)
{
	const char	*p = r->query;
	size_t		 len = strlen(key);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, len) == 0 && (p[len] == '=' ||
		    p[len] == '&' || p[len] == '\0'))
			return 1;
		p = strchr(p, '&');
		p = p != NULL ? p + 1 : NULL;
	}
	return 0;
}

/*
 * Query parameter key of r, percent-decoded, into buf[bufsz]; NULL if
 * absent.  *rc is set to the 400 for a value that is empty, too long or
 * badly encoded.
 */
static const char *
audit_param(struct req *r, const char *key, char *buf, size_t bufsz,
    enum apierr *rc)
{
	char	 raw[1024];
	size_t	 i, o = 0;
	int	 hi, lo;

	if (req_query(r, key, raw, sizeof(raw)) == NULL) {
		if (audit_has(r, key))
			*rc = req_fail(r, API_BAD_REQUEST, "Filter %s is empty "
			    "or too long", key);
		return NULL;
	}
	for (i = 0; raw[i] != '\0'; i++) {
		if (o + 1 >= bufsz) {
			*rc = req_fail(r, API_BAD_REQUEST, "Filter %s is too long",
			    key);
			return NULL;
		}
		if (raw[i] != '%') {
			buf[o++] = raw[i];
			continue;
		}
		if ((hi = hex_digit(raw[i + 1])) == -1 ||
		    (lo = hex_digit(raw[i + 2])) == -1) {
			*rc = req_fail(r, API_BAD_REQUEST, "Filter %s is not "
			    "percent-encoded", key);
			return NULL;
		}
		buf[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	buf[o] = '\0';
	if (o == 0 || strlen(buf) != o) {
		*rc = req_fail(r, API_BAD_REQUEST, "Filter %s is empty or holds "
		    "a NUL", key);
		return NULL;
	}
	return buf;
}

/* 400 unless every query parameter is one GET /audit knows. */
static enum apierr
audit_params_check(struct req *r)
{
	const char	*p = r->query, *end, *eq;
	size_t		 i, len;

	while (p != NULL && *p != '\0') {
		if ((end = strchr(p, '&')) == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		len = (size_t)((eq != NULL ? eq : end) - p);
		for (i = 0; len > 0 && i < nitems(audit_params); i++)
			if (strlen(audit_params[i]) == len &&
			    strncmp(p, audit_params[i], len) == 0)
				break;
		if (len > 0 && i == nitems(audit_params))
			return req_fail(r, API_BAD_REQUEST, "Unknown filter %.*s; "
			    "GET /audit takes since, until, object, actor, route, "
			    "limit, after and before", (int)(len > 32 ? 32 : len), p);
		if (len > 0 && eq == NULL)
			return req_fail(r, API_BAD_REQUEST, "Filter %s needs a "
			    "value", audit_params[i]);
		p = *end == '&' ? end + 1 : end;
	}
	return API_OK;
}

/*
 * Integer query parameter key into *v, bounded by min and max; unchanged
 * when absent.  API_OK or the 400.
 */
static enum apierr
audit_num(struct req *r, const char *key, long long min, long long max,
    long long *v)
{
	const char	*errstr, *s;
	char		 buf[32];
	enum apierr	 rc = API_OK;

	if ((s = audit_param(r, key, buf, sizeof(buf), &rc)) == NULL)
		return rc;
	*v = num_parse(s, min, max, &errstr);
	if (errstr != NULL)
		return req_fail(r, API_BAD_REQUEST, "%s must be an integer from "
		    "%lld to %lld", key, min, max);
	return API_OK;
}

/* One audit row as JSON (new reference); takes the strings. */
static json_t *
audit_row_json(long long id, double at, char *actor, char *uid, char *tenant,
    char *method, char *route, char *object, char *fields, long long status,
    char *reason, char *source, char *reqid)
{
	json_t	*row, *f = NULL;

	if (fields != NULL)
		f = json_loads(fields, 0, NULL);
	row = json_pack("{s:I, s:f, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:o, "
	    "s:I, s:s?, s:s?, s:s?}", "id", (json_int_t)id, "at", at, "actor",
	    actor, "actor_uid", uid != NULL && *uid ? uid : NULL, "tenant",
	    tenant, "method", method, "route", route, "object", object,
	    "fields", f != NULL ? f : json_null(), "status", (json_int_t)status,
	    "reason", reason, "source", source, "request_id", reqid);
	free(actor);
	free(uid);
	free(tenant);
	free(method);
	free(route);
	free(object);
	free(fields);
	free(reason);
	free(source);
	free(reqid);
	return row;
}

/*
 * GET /audit[?since=&until=&object=&actor=&route=&limit=&after=|before=]:
 * the caller's tenant's rows (every tenant's for the superadministrator),
 * newest first, or oldest first from after=.  Answers {"rows": [...],
 * "next": <the id to pass as after= or before= for the next page, or
 * null>}.  400 for a filter it does not know or cannot read.
 */
enum apierr
api_audit_list(struct req *r)
{
	char		 obuf[AUDIT_FILTER_MAX + 1], abuf[AUDIT_FILTER_MAX + 1];
	char		 rbuf[AUDIT_FILTER_MAX + 1];
	char		*actor, *uid, *tenant, *method, *route, *object;
	char		*fields, *reason, *source, *reqid;
	const char	*fobj, *fact, *froute;
	long long	 since = 0, until = AUDIT_TIME_MAX, limit = AUDIT_PAGE;
	long long	 after = -1, before = -1, id, tid, tenant_id, status;
	long long	 n = 0, last = 0;
	double		 at;
	json_t		*rows;
	enum sql	 q;
	enum apierr	 rc = API_OK;
	enum dbrc	 drc;

	if ((rc = audit_params_check(r)) != API_OK ||
	    (rc = audit_num(r, "since", 0, AUDIT_TIME_MAX, &since)) != API_OK ||
	    (rc = audit_num(r, "until", 0, AUDIT_TIME_MAX, &until)) != API_OK ||
	    (rc = audit_num(r, "limit", 1, AUDIT_PAGE_MAX, &limit)) != API_OK ||
	    (rc = audit_num(r, "after", 0, AUDIT_ID_MAX, &after)) != API_OK ||
	    (rc = audit_num(r, "before", 1, AUDIT_ID_MAX, &before)) != API_OK)
		return rc;
	fobj = audit_param(r, "object", obuf, sizeof(obuf), &rc);
	fact = audit_param(r, "actor", abuf, sizeof(abuf), &rc);
	froute = audit_param(r, "route", rbuf, sizeof(rbuf), &rc);
	if (rc != API_OK)
		return rc;
	if (after != -1 && before != -1)
		return req_fail(r, API_BAD_REQUEST, "Send after or before, not both");
	if (until < since)
		return req_fail(r, API_BAD_REQUEST, "until is before since");

	/* One row more than the page says whether there is a next page. */
	q = after != -1 ? SQL_AUDIT_LIST_UP : SQL_AUDIT_LIST_DOWN;
	tid = r->ctx.scope.tenant;
	if ((drc = db_run(r->ctx.db, q, "iiddiissssssi", tid, tid, (double)since,
	    (double)until, after != -1 ? after : 0LL,
	    before != -1 ? before : AUDIT_ID_MAX, fact, fact, fobj, fobj, froute,
	    froute, limit + 1)) != DB_OK) {
		db_done(r->ctx.db, q);
		return ctx_dbfail(&r->ctx, drc);
	}
	rows = json_array();
	while ((drc = db_next(r->ctx.db, q, "idssisssssisss", &id, &at,
	    &actor, &uid, &tenant_id, &tenant, &method, &route, &object,
	    &fields, &status, &reason, &source, &reqid)) == DB_OK) {
		if (n++ == limit) {
			json_decref(audit_row_json(id, at, actor, uid, tenant,
			    method, route, object, fields, status, reason, source,
			    reqid));
			continue;
		}
		json_array_append_new(rows, audit_row_json(id, at, actor, uid,
		    tenant, method, route, object, fields, status, reason,
		    source, reqid));
		last = id;
	}
	db_done(r->ctx.db, q);
	if (drc != DB_DONE) {
		json_decref(rows);
		return ctx_dbfail(&r->ctx, drc);
	}
	r->data = json_pack("{s:o, s:o}", "rows", rows, "next", n > limit ?
	    json_integer(last) : json_null());
	return API_OK;
}
