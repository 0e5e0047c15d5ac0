/*
 * Scopes and engine contexts: whom a read or write is done for, and
 * where its failure's reason goes.  Every caller of the object engine
 * (a request, corral-jobd, a boot client known by its address, a tool)
 * builds one explicitly; nothing borrows a request to widen its view.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "extern.h"

/*
 * A scope confined to tenant (SCOPE_ALL: every tenant), acting as actor
 * with roles.
 */
struct scope
scope_of_tenant(long long tenant, unsigned int roles, const char *actor)
{
	struct scope	 s;

	memset(&s, 0, sizeof(s));
	s.tenant = tenant;
	s.roles = roles;
	snprintf(s.actor, sizeof(s.actor), "%s", actor != NULL ? actor : "");
	return s;
}

/* The scope of a caller nobody has identified: it sees no tenant at all. */
struct scope
scope_nobody(void)
{
	return scope_of_tenant(SCOPE_NONE, 0, "");
}

/*
 * Whether the scope may read secret attribute values of an object of
 * tenant: role.configadmin or above of that tenant (every tenant's, for
 * a scope over all of them).
 */
int
scope_sees_secrets(const struct scope *s, long long tenant)
{
	if ((s->roles & (ROLE_CONFIGADMIN | ROLE_FULLADMIN)) == 0)
		return 0;
	return s->tenant == SCOPE_ALL || s->tenant == tenant;
}

/* Start a context on db in scope s. */
void
ctx_init(struct ctx *c, struct db *db, const struct conf *conf, struct scope s)
{
	memset(c, 0, sizeof(*c));
	c->db = db;
	c->conf = conf;
	c->scope = s;
}

/* Release what the context cached; the scope and reason stay. */
void
ctx_clear(struct ctx *c)
{
	if (c->cache_free != NULL)
		c->cache_free(c->cache);
	c->cache = NULL;
	c->cache_free = NULL;
}

/*
 * Record why the call failed and return code, so callers can write
 * "return ctx_fail(c, API_NOT_FOUND, ...)".  The reason is made valid
 * UTF-8 whatever the format cut or the client sent.
 */
enum apierr
ctx_vfail(struct ctx *c, enum apierr code, const char *fmt, va_list ap)
{
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	utf8_clean(c->reason);
	return code;
}

enum apierr
ctx_fail(struct ctx *c, enum apierr code, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	code = ctx_vfail(c, code, fmt, ap);
	va_end(ap);
	return code;
}

/*
 * A failure of ours (500), with its cause as the reason: whoever ends
 * the operation logs it (resp_send, with the request id, for a request)
 * and the client is told only that something went wrong.
 */
enum apierr
ctx_internal(struct ctx *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)ctx_vfail(c, API_INTERNAL, fmt, ap);
	va_end(ap);
	return API_INTERNAL;
}

/*
 * The outcome of a database failure rc (db.c logged its cause): 503 when
 * the connection was lost or the outcome is unknown (the client may try
 * again), 409 when a concurrent change won, else 500.
 */
enum apierr
ctx_dbfail(struct ctx *c, enum dbrc rc)
{
	switch (rc) {
	case DB_GONE:
		return ctx_fail(c, API_UNAVAILABLE, "Database unavailable; "
		    "try again");
	case DB_CONFLICT:
		return ctx_fail(c, API_CONFLICT, "A concurrent change won; "
		    "nothing was changed, try again");
	default:
		return ctx_internal(c, "database error %d (logged above)", (int)rc);
	}
}

/* Carry the outcome and reason of a call made in another context to. */
enum apierr
ctx_pass(struct ctx *to, const struct ctx *from, enum apierr rc)
{
	if (rc != API_OK)
		memcpy(to->reason, from->reason, sizeof(to->reason));
	return rc;
}
