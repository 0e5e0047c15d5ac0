/*
 * Tenant webhooks (TAPMS "TenantHooks" and "GlobalTenantHooks"), the API
 * side: checking and storing a tenant's hooks, queueing their delivery,
 * and the gate blocking hooks put before a change.  Delivery itself is
 * corral-jobd's (hook.c, run_hook.c): no worker ever calls a hook.
 *
 * A hook: {name, url, blockingcall, eventtypes [CREATE|UPDATE|DELETE],
 * timeout (s), secret}.  A tenant's live in its tenants.hooks column; the
 * global ones are tenanthook objects of the management tenant.  A secret
 * is sealed at once (crypto_seal) and shown as "********"; sending
 * "********" back keeps the stored one.  A tenant's hook secret is sealed
 * under the management tenant's data key, bound to the tenant's UID and
 * "hook:<name>", so it outlives the tenant's own keys (a DELETE event is
 * delivered after the tenant is gone); a tenanthook's is bound to the
 * object's UID and "hook:secret".
 *
 * Non-blocking hooks: hook_notify queues one "hook" job per hook after a
 * change; the job holds the body (so retries sign the same bytes under the
 * same webhook-id) and the secret still sealed.
 *
 * Blocking hooks: hook_gate, called by a handler before it changes
 * anything, queues one "hookgate" job calling them in turn, and hands the
 * request to the waiter (no worker waits).  When the job ends the waiter
 * hands it back to GET /_hookgate/<job>, which checks that the job is a
 * gate of this caller for this very request (method, path, query, body
 * hash), uses it up, and runs the original route again with the gate
 * marked passed; or answers the refusal.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "extern.h"

#define HOOKS_MAX		16	/* hooks of one tenant */
#define HOOK_SECRET_MAX		1024
#define HOOKGATE_FRESH		120	/* s a passed gate stays usable */
#define HOOKGATE_SLACK		10	/* s of a gate's wait beyond its hooks */

static const char *const hook_events[] = { "CREATE", "UPDATE", "DELETE" };

const struct jobkind job_hook = { "hook", 0, NULL };
const struct jobkind job_hookgate = { "hookgate", 0, NULL };

/* ------------------------------------------------------------------ addresses */

/* Parse "addr/bits" (bits optional) into a and *bits (0..128, 16-byte form). */
static int
cidr_parse(const char *s, size_t len, unsigned char a[16], int *bits)
{
	char		 buf[IP_STR_MAX + 8], *slash;
	const char	*errstr;
	long long	 n;
	int		 fam;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if ((fam = ip_parse(buf, a)) == 0)
		return -1;
	if (slash == NULL) {
		*bits = 128;
		return 0;
	}
	n = num_parse(slash, 0, fam == AF_INET ? 32 : 128, &errstr);
	if (errstr != NULL)
		return -1;
	*bits = (int)n + (fam == AF_INET ? 96 : 0);
	return 0;
}

/* Whether a (16-byte form) is in one of the CIDRs of the list. */
static int
cidr_list_has(const char *list, const unsigned char a[16])
{
	unsigned char	 net[16];
	const char	*p = list;
	size_t		 n;
	int		 bits;

	while (p != NULL && *p != '\0') {
		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n > 0 && cidr_parse(p, n, net, &bits) == 0 &&
		    ip_same_prefix(a, net, bits))
			return 1;
		p += n;
	}
	return 0;
}

/*
 * Whether list is a valid [hooks] allow/deny value: CIDRs ("10.0.0.0/8",
 * "::1/128", a bare address) separated by spaces.  NULL is empty.
 */
int
hook_cidrs_ok(const char *list)
{
	unsigned char	 a[16];
	const char	*p = list;
	size_t		 n;
	int		 bits;

	while (p != NULL && *p != '\0') {
		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n > 0 && cidr_parse(p, n, a, &bits) == -1)
			return 0;
		p += n;
	}
	return 1;
}

/*
 * Whether a webhook may connect to the address text addr (IPv4 or IPv6;
 * an IPv4-mapped IPv6 address counts as its IPv4 address): loopback,
 * link-local, unspecified, multicast and broadcast addresses and the
 * networks of deny (the BMC networks) are refused unless allow names
 * them.  Pure: 1 allowed, 0 refused with why ("127.0.0.1 is a loopback
 * address"), -1 when addr is not an address.
 */
int
hook_addr_allowed(const char *addr, const char *allow, const char *deny,
    char *why, size_t whysz)
{
	static const struct {
		const char	*cidr;
		const char	*what;
	} refused[] = {
		{ "0.0.0.0/8", "an unspecified" },
		{ "127.0.0.0/8", "a loopback" },
		{ "169.254.0.0/16", "a link-local" },
		{ "224.0.0.0/4", "a multicast" },
		{ "255.255.255.255/32", "a broadcast" },
		{ "::/128", "an unspecified" },
		{ "::1/128", "a loopback" },
		{ "fe80::/10", "a link-local" },
		{ "ff00::/8", "a multicast" },
	};
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };
	unsigned char	 a[16], net[16];
	char		 shown[IP_STR_MAX];
	size_t		 i;
	int		 fam, bits;

	if ((fam = ip_parse(addr, a)) == 0)
		return -1;
	if (fam == AF_INET6 && memcmp(a, mapped, 12) == 0) {
		memset(a, 0, 12);
		fam = AF_INET;
	}
	if (ip_format(a, fam, shown) == NULL)
		snprintf(shown, sizeof(shown), "?");
	if (cidr_list_has(allow, a))
		return 1;
	for (i = 0; i < nitems(refused); i++) {
		/* ::/128 in the 16-byte form is also IPv4 0.0.0.0. */
		if (cidr_parse(refused[i].cidr, strlen(refused[i].cidr), net,
		    &bits) == 0 && ip_same_prefix(a, net, bits) &&
		    (fam == AF_INET) == (strchr(refused[i].cidr, ':') == NULL)) {
			snprintf(why, whysz, "%s is %s address (not in [hooks] "
			    "allow)", shown, refused[i].what);
			return 0;
		}
	}
	if (cidr_list_has(deny, a)) {
		snprintf(why, whysz, "%s is in a network [hooks] deny refuses "
		    "(not in [hooks] allow)", shown);
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------ checks */

static int
hook_event_valid(const char *s)
{
	size_t	 i;

	for (i = 0; s != NULL && i < nitems(hook_events); i++)
		if (strcmp(s, hook_events[i]) == 0)
			return 1;
	return 0;
}

/*
 * Check one hook h (what of it there is: a tenanthook document holds no
 * name) for where ("hooks[2]", "tenanthook").  keys: a client's list
 * entry (name and secret checked here, other keys refused).  API_OK or
 * 400 with the reason.
 */
static enum apierr
hook_entry_check(struct ctx *c, const json_t *h, const char *where, int keys)
{
	const char	*k, *url;
	json_t		*v, *e;
	size_t		 i, j;

	if (!json_is_object(h))
		return ctx_fail(c, API_BAD_REQUEST, "%s must be an object "
		    "{name, url, blockingcall, eventtypes, timeout, secret}",
		    where);
	if (keys)
		json_object_foreach((json_t *)(uintptr_t)h, k, v)
			if (!conf_list_has("name url blockingcall eventtypes "
			    "timeout secret", k))
				return ctx_fail(c, API_BAD_REQUEST, "Unhandled "
				    "parameter(s): %s.%.64s", where, k);
	if (keys && ((v = json_object_get(h, "name")) == NULL ||
	    !json_is_string(v) || !valid_dnsname(json_string_value(v)) ||
	    strchr(json_string_value(v), '.') != NULL ||
	    strlen(json_string_value(v)) > 63))
		return ctx_fail(c, API_BAD_REQUEST, "%s.name must be a DNS "
		    "label (letters, digits, '-', at most 63)", where);
	url = json_string_value(json_object_get(h, "url"));
	if (url == NULL || !valid_url(url) || (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0))
		return ctx_fail(c, API_BAD_REQUEST, "%s.url must be an http:// "
		    "or https:// URL", where);
	if ((v = json_object_get(h, "blockingcall")) != NULL &&
	    !json_is_boolean(v))
		return ctx_fail(c, API_BAD_REQUEST, "%s.blockingcall must be "
		    "true or false", where);
	v = json_object_get(h, "eventtypes");
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > nitems(hook_events))
		return ctx_fail(c, API_BAD_REQUEST, "%s.eventtypes must list "
		    "CREATE, UPDATE and/or DELETE", where);
	json_array_foreach(v, i, e) {
		if (!hook_event_valid(json_string_value(e)))
			return ctx_fail(c, API_BAD_REQUEST, "%s.eventtypes: "
			    "each must be CREATE, UPDATE or DELETE", where);
		for (j = 0; j < i; j++)
			if (json_equal(e, json_array_get(v, j)))
				return ctx_fail(c, API_BAD_REQUEST, "%s."
				    "eventtypes: %s is listed twice", where,
				    json_string_value(e));
	}
	if ((v = json_object_get(h, "timeout")) != NULL && (!json_is_integer(v) ||
	    json_integer_value(v) < 1 || json_integer_value(v) > 60))
		return ctx_fail(c, API_BAD_REQUEST, "%s.timeout must be 1 to 60 "
		    "seconds", where);
	/* A tenanthook's may be sealed already; its field spec bounds it. */
	if (keys && (v = json_object_get(h, "secret")) != NULL &&
	    (!json_is_string(v) ||
	    json_string_length(v) == 0 ||
	    json_string_length(v) > HOOK_SECRET_MAX))
		return ctx_fail(c, API_BAD_REQUEST, "%s.secret must be a string "
		    "of 1 to %d bytes", where, HOOK_SECRET_MAX);
	return API_OK;
}

/* The management tenant's id, or 0 with the failure in c. */
static long long
hook_mgmt(struct ctx *c)
{
	enum apierr	 rc;
	long long	 id;

	if ((id = tenant_lookup(c, MGMT_TENANT, &rc)) == 0 && rc == API_OK)
		ctx_internal(c, "no management tenant");
	return id;
}

/* The stored hook called name in list, or NULL. */
static const json_t *
hook_named(const json_t *list, const char *name)
{
	size_t	 i;
	json_t	*h;

	json_array_foreach(list, i, h)
		if (json_is_string(json_object_get(h, "name")) &&
		    strcmp(json_string_value(json_object_get(h, "name")),
		    name) == 0)
			return h;
	return NULL;
}

/*
 * Check a tenant's hooks list as a client sent it (the "hooks" field of
 * POST /tenants, PATCH/PUT /tenant/<ID>) and make it storable, in place:
 * names DNS labels and unique, URLs http(s), eventtypes valid, timeout 1
 * to 60 s, blockingcall false unless sent, and each secret sealed for
 * tenant_uid (a "********" keeps the stored_hooks' secret of the hook of
 * that name; stored_hooks may be NULL on create).  API_OK, or 400 with a
 * reason naming the hook and the rule.
 */
enum apierr
hooks_check(struct ctx *c, json_t *hooks, const json_t *stored_hooks,
    const char *tenant_uid)
{
	char		 where[32], key[80], *sealed = NULL;
	const char	*name, *secret, *old;
	const json_t	*prev;
	json_t		*h;
	long long	 mgmt = 0;
	size_t		 i, j;
	enum apierr	 rc;

	if (!json_is_array(hooks))
		return ctx_fail(c, API_BAD_REQUEST, "Field hooks must be a list "
		    "of hooks");
	if (json_array_size(hooks) > HOOKS_MAX)
		return ctx_fail(c, API_BAD_REQUEST, "Field hooks: at most %d "
		    "hooks", HOOKS_MAX);
	json_array_foreach(hooks, i, h) {
		snprintf(where, sizeof(where), "hooks[%zu]", i);
		if ((rc = hook_entry_check(c, h, where, 1)) != API_OK)
			return rc;
		name = json_string_value(json_object_get(h, "name"));
		for (j = 0; j < i; j++)
			if (strcmp(name, json_string_value(json_object_get(
			    json_array_get(hooks, j), "name"))) == 0)
				return ctx_fail(c, API_BAD_REQUEST, "Field "
				    "hooks: two hooks are called %s", name);
		if (json_object_get(h, "blockingcall") == NULL)
			json_object_set_new(h, "blockingcall", json_false());
		if ((secret = json_string_value(json_object_get(h, "secret"))) ==
		    NULL)
			continue;
		if (strcmp(secret, SECRET_MASK) == 0) {
			prev = hook_named(stored_hooks, name);
			old = json_string_value(json_object_get(prev, "secret"));
			if (old == NULL || strncmp(old, SEAL_PREFIX,
			    strlen(SEAL_PREFIX)) != 0)
				return ctx_fail(c, API_BAD_REQUEST, "%s.secret: "
				    "%s keeps a stored secret, but hook %s has "
				    "none; send the secret", where, SECRET_MASK,
				    name);
			json_object_set_new(h, "secret", json_string(old));
			continue;
		}
		if (mgmt == 0 && (mgmt = hook_mgmt(c)) == 0)
			return API_INTERNAL;
		snprintf(key, sizeof(key), "hook:%s", name);
		if ((rc = crypto_seal(c, mgmt, tenant_uid, key, secret,
		    &sealed)) != API_OK)
			return rc;
		json_object_set_new(h, "secret", json_string(sealed));
		free(sealed);
		sealed = NULL;
	}
	return API_OK;
}

/*
 * A tenant's stored hooks as clients see them (new reference): every
 * secret "********".  stored may be NULL (an empty list).
 */
json_t *
hooks_render(const json_t *stored)
{
	json_t	*out, *h;
	size_t	 i;

	out = json_is_array(stored) ? json_deep_copy(stored) : json_array();
	json_array_foreach(out, i, h)
		if (json_object_get(h, "secret") != NULL)
			json_object_set_new(h, "secret",
			    json_string(SECRET_MASK));
	return out;
}

/* ------------------------------------------------------------------ tenanthook */

/*
 * A tenanthook object's check and its secret sealed, bound to the
 * object's UID: a new one from what the client sent, the stored one for
 * "********" (and on PATCH without one, as obj_change merged it).
 */
static enum apierr
tenanthook_assign(struct ctx *c, struct objrow *o, const json_t *before,
    const json_t *change)
{
	const char	*sent, *old;
	char		*sealed = NULL;
	enum apierr	 rc;

	if (json_object_get(o->doc, "blockingcall") == NULL)
		json_object_set_new(o->doc, "blockingcall", json_false());
	if ((rc = hook_entry_check(c, o->doc, "tenanthook", 0)) != API_OK)
		return rc;
	if ((sent = json_string_value(json_object_get(change, "secret"))) ==
	    NULL)
		return API_OK;
	if (strcmp(sent, SECRET_MASK) == 0) {
		old = json_string_value(json_object_get(before, "secret"));
		if (old == NULL)
			return ctx_fail(c, API_BAD_REQUEST, "tenanthook.secret: "
			    "%s keeps a stored secret, but there is none; send "
			    "the secret", SECRET_MASK);
		json_object_set_new(o->doc, "secret", json_string(old));
		return API_OK;
	}
	if ((rc = crypto_seal(c, o->tenant_id, o->uid, "hook:secret", sent,
	    &sealed)) != API_OK)
		return rc;
	json_object_set_new(o->doc, "secret", json_string(sealed));
	free(sealed);
	return API_OK;
}

static const struct field tenanthook_fields[] = {
	FIELD("name",         F_NAME,      F_REQUIRED, 63,   "The hook's name"),
	FIELD("url",          F_STRING,    F_REQUIRED, 2048, "Where events are POSTed (http or https)"),
	FIELD("blockingcall", F_BOOL,      0,          0,    "Whether a change waits for a 2xx from it"),
	FIELD("eventtypes",   F_ARRAY_STR, F_REQUIRED, 3,    "CREATE, UPDATE and/or DELETE"),
	FIELD("timeout",      F_INT,       0,          60,   "Seconds it may take (default [hooks] timeout)"),
	FIELD("secret",       F_STRING,    F_SECRET,   HOOK_SECRET_MAX, "Signs each call (HMAC-SHA256); shown as ********"),
};

/*
 * Global hooks (TAPMS GlobalTenantHooks): called for every tenant's
 * events, the superadministrator's, objects of the management tenant.
 */
const struct objclass tenanthook_class = {
	.name = "tenanthook", .plural = "tenanthooks", .label = "tenanthook",
	.spec = FIELDS(tenanthook_fields),
	.assign = tenanthook_assign,
};

/* ------------------------------------------------------------------ queueing */

/* What a delivery needs of one hook: a job's "hook" parameter. */
static json_t *
hook_target(const struct conf *conf, const json_t *h, const char *bound_uid,
    const char *key)
{
	json_t		*t;
	const char	*secret;

	t = json_pack("{s:O, s:O, s:I}", "name", json_object_get(h, "name"),
	    "url", json_object_get(h, "url"), "timeout", (json_int_t)
	    (json_is_integer(json_object_get(h, "timeout")) ?
	    json_integer_value(json_object_get(h, "timeout")) :
	    conf->hooks_timeout));
	secret = json_string_value(json_object_get(h, "secret"));
	/* Still sealed: only jobd opens it, and GET /job never shows it. */
	if (t != NULL && secret != NULL && strncmp(secret, SEAL_PREFIX,
	    strlen(SEAL_PREFIX)) == 0)
		json_object_set_new(t, "sealed", json_pack("{s:s, s:s, s:s}",
		    "value", secret, "uid", bound_uid, "key", key));
	return t;
}

/* Whether hook h is called for event, blocking or not as asked. */
static int
hook_wants(const json_t *h, const char *event, int blocking)
{
	return json_list_has(json_object_get(h, "eventtypes"), event) &&
	    json_is_true(json_object_get(h, "blockingcall")) == blocking;
}

/* obj_each's collector of the global hooks that match. */
struct hook_pick {
	const struct conf	*conf;
	const char		*event;
	int			 blocking;
	json_t			*out;
};

static void
hook_pick_global(const struct objrow *o, void *arg)
{
	struct hook_pick	*p = arg;
	json_t			*h, *t;

	if (!hook_wants(o->doc, p->event, p->blocking))
		return;
	h = json_deep_copy(o->doc);
	json_object_set_new(h, "name", json_string(o->name));
	if ((t = hook_target(p->conf, h, o->uid, "hook:secret")) != NULL) {
		json_object_set_new(t, "global", json_string(o->uid));
		json_array_append_new(p->out, t);
	}
	json_decref(h);
}

/*
 * The hooks called for event, blocking or not: the tenant's own, then
 * the global ones.  *out a new list of job targets.
 */
static enum apierr
hooks_pick(struct ctx *c, const char *tenant_uid, const json_t *tenant_hooks,
    const char *event, int blocking, long long *mgmt, json_t **out)
{
	struct hook_pick	 p;
	struct ctx		 gc;
	char			 key[80];
	json_t			*h, *t;
	size_t			 i;
	enum apierr		 rc;

	*out = json_array();
	if ((*mgmt = hook_mgmt(c)) == 0)
		return API_INTERNAL;
	json_array_foreach(tenant_hooks, i, h) {
		if (!hook_wants(h, event, blocking))
			continue;
		snprintf(key, sizeof(key), "hook:%s",
		    json_string_value(json_object_get(h, "name")));
		if ((t = hook_target(c->conf, h, tenant_uid, key)) != NULL)
			json_array_append_new(*out, t);
	}
	memset(&p, 0, sizeof(p));
	p.conf = c->conf;
	p.event = event;
	p.blocking = blocking;
	p.out = *out;
	/* The global hooks are the management tenant's, whoever changes. */
	ctx_init(&gc, c->db, c->conf, scope_of_tenant(*mgmt, ROLES_ALL,
	    c->scope.actor));
	rc = obj_each(&gc, &tenanthook_class, *mgmt, hook_pick_global, &p);
	rc = ctx_pass(c, &gc, rc);
	ctx_clear(&gc);
	return rc;
}

/*
 * The body every hook of the event gets, as the TAPMS document shows it:
 * {"eventtype": "UPDATE", "tenantspec": {"tenantname", "state",
 * "tenantresources", "tenantkms", "tenanthooks" (no secrets), ...}}
 * from the tenant
 * document tenant (new allocation, compact JSON).
 */
char *
hook_body(const char *event, const json_t *tenant)
{
	static const char *const copied[] = { "uid", "label", "description",
	    "customer", "state", "max_tenancies", "max_nodes", "workers",
	    "created_at" };
	json_t		*spec, *hooks, *h, *v, *body;
	char		*text;
	size_t		 i;

	spec = json_object();
	json_object_set(spec, "tenantname", (v = json_object_get(tenant,
	    "name")) != NULL ? v : json_null());
	for (i = 0; i < nitems(copied); i++)
		if ((v = json_object_get(tenant, copied[i])) != NULL)
			json_object_set(spec, copied[i], v);
	/* json_object_set_new: the default is a new value, v a borrowed one. */
	json_object_set_new(spec, "tenantresources", (v = json_object_get(
	    tenant, "tenantresources")) != NULL ? json_incref(v) : json_array());
	json_object_set_new(spec, "tenantkms", (v = json_object_get(tenant,
	    "kms")) != NULL ? json_incref(v) : json_object());
	hooks = json_array();
	json_array_foreach(json_object_get(tenant, "hooks"), i, v) {
		h = json_pack("{s:O?, s:b, s:O?, s:O?}", "name",
		    json_object_get(v, "name"), "blockingcall",
		    json_is_true(json_object_get(v, "blockingcall")), "url",
		    json_object_get(v, "url"), "eventtypes",
		    json_object_get(v, "eventtypes"));
		if (h != NULL)
			json_array_append_new(hooks, h);
	}
	json_object_set_new(spec, "tenanthooks", hooks);
	body = json_pack("{s:s, s:o}", "eventtype", event, "tenantspec", spec);
	text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	return text;
}

/*
 * After a change of tenant tenant_id (tenant_uid) for event ("CREATE",
 * "UPDATE", "DELETE"): queue one "hook" job per non-blocking hook of the
 * event, the tenant's own (tenant_hooks, as stored: secrets sealed) and
 * every global one, with payload the tenant's document (as stored or
 * rendered; secrets are never put in the body).  corral-jobd delivers
 * them, retrying with backoff.  Works from any ctx (a request's, or
 * corral-jobd's).  API_OK, or the failure with its reason.
 */
enum apierr
hook_notify(struct ctx *c, long long tenant_id, const char *tenant_uid,
    const json_t *tenant_hooks, const char *event, const json_t *payload)
{
	struct jobspec	 js;
	json_t		*targets = NULL, *params, *t;
	char		 uid[UID_LEN + 1], *body = NULL;
	long long	 mgmt;
	size_t		 i;
	enum apierr	 rc;

	(void)tenant_id;
	if (!hook_event_valid(event))
		return ctx_internal(c, "hook_notify: unknown event");
	if ((rc = hooks_pick(c, tenant_uid, tenant_hooks, event, 0, &mgmt,
	    &targets)) != API_OK || json_array_size(targets) == 0)
		goto out;
	if ((body = hook_body(event, payload)) == NULL) {
		rc = ctx_internal(c, "hook body cannot be encoded");
		goto out;
	}
	json_array_foreach(targets, i, t) {
		params = json_pack("{s:s, s:s, s:O, s:s}", "event", event,
		    "tenant_uid", tenant_uid, "hook", t, "body", body);
		memset(&js, 0, sizeof(js));
		js.kind = &job_hook;
		js.params = params;
		js.target = json_string_value(json_object_get(t, "name"));
		/* The superadministrator's jobs: a tenant never sees its hooks run. */
		rc = job_insert(c, mgmt, c->scope.actor, &js, uid);
		json_decref(params);
		if (rc != API_OK)
			goto out;
	}
	jobd_wake(c->conf);
out:
	free(body);
	json_decref(targets);
	return rc;
}

/*
 * Before a handler applies a change of tenant tenant_uid for event:
 * whether its blocking hooks (the tenant's, tenant_hooks as stored, and
 * the global ones) let it through.  None for the event, or the request
 * came back through GET /_hookgate with the gate passed: *passed = 1.
 * Otherwise a "hookgate" job is queued, the request is handed to the
 * waiter and *passed = 0: the handler returns API_OK at once and does
 * nothing (the route runs again once every hook answered 2xx, or the
 * refusal is answered).  payload: the tenant's document as it will be
 * (for DELETE: as it is).
 */
enum apierr
hook_gate(struct req *r, const char *tenant_uid, const json_t *tenant_hooks,
    const char *event, const json_t *payload, int *passed)
{
	struct jobspec	 js;
	json_t		*targets = NULL, *params = NULL, *t;
	char		 uid[UID_LEN + 1], sha[SHA256_HEX + 1], *body = NULL;
	long long	 mgmt, wait = HOOKGATE_SLACK;
	size_t		 i;
	enum apierr	 rc;

	*passed = 0;
	if (r->gate_passed) {
		r->gate_passed = 0;	/* one gate, one change */
		*passed = 1;
		return API_OK;
	}
	if (!hook_event_valid(event))
		return ctx_internal(&r->ctx, "hook_gate: unknown event");
	if ((rc = hooks_pick(&r->ctx, tenant_uid, tenant_hooks, event, 1,
	    &mgmt, &targets)) != API_OK)
		goto out;
	if (json_array_size(targets) == 0) {
		*passed = 1;
		goto out;
	}
	if ((body = hook_body(event, payload)) == NULL ||
	    crypto_sha256_hex(r->body != NULL ? r->body : "", r->bodylen,
	    sha) == -1) {
		rc = ctx_internal(&r->ctx, "hook body cannot be encoded");
		goto out;
	}
	json_array_foreach(targets, i, t)
		wait += json_integer_value(json_object_get(t, "timeout"));
	if (wait > JOB_WAIT_MAX)
		wait = JOB_WAIT_MAX;
	params = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:s?, s:s, s:s}",
	    "event", event, "tenant_uid", tenant_uid, "hooks", targets,
	    "body", body, "method", method_name(r->method), "path", r->path,
	    "query", r->query != NULL && *r->query != '\0' ? r->query : NULL,
	    "sha256", sha, "sub", r->who.tok.sub);
	targets = NULL;
	if (params == NULL) {
		rc = ctx_internal(&r->ctx, "hook gate cannot be encoded");
		goto out;
	}
	memset(&js, 0, sizeof(js));
	js.kind = &job_hookgate;
	js.params = params;
	js.target = tenant_uid;
	/* Not started by the end of the wait: cancelled, never run late. */
	js.expires_at = time_now() + (double)wait;
	if ((rc = job_insert(&r->ctx, mgmt, r->who.tok.name, &js, uid)) !=
	    API_OK)
		goto out;
	jobd_wake(r->conf);
	rc = job_wait(r, uid, wait, JOB_WAIT_HOOKGATE);
out:
	free(body);
	json_decref(targets);
	json_decref(params);
	return rc;
}

/*
 * GET /_hookgate/:job: where the waiter hands back a request whose
 * blocking hooks were called.  The job must be a hookgate of this caller
 * for this request (method, path, query and body as sent), ended within
 * HOOKGATE_FRESH s, and not used before; then the original route runs
 * again with the gate passed.  A hook's refusal is a 409 naming the hook;
 * hooks that did not all answer within the wait, a 504.
 */
enum apierr
api_hookgate_result(struct req *r)
{
	const char	*uid = req_param(r, "job"), *method, *path, *query;
	char		*juid = NULL, *kind = NULL, *target = NULL, *ptext = NULL;
	char		*state = NULL, *result = NULL, *by = NULL, *batch = NULL;
	char		 err[128], sha[SHA256_HEX + 1];
	json_t		*params = NULL, *res = NULL;
	long long	 tenant, attempts;
	double		 created, started, finished;
	size_t		 i;
	int		 m;
	enum apierr	 rc;
	enum dbrc	 drc;

	if (!uid_valid(uid))
		return req_fail(r, API_NOT_FOUND, "No hook gate found");
	if ((drc = db_run(r->ctx.db, SQL_JOB_GET, "s", uid)) == DB_OK)
		drc = db_next(r->ctx.db, SQL_JOB_GET, "sissssissddds", &juid,
		    &tenant, &kind, &target, &ptext, &state, &attempts,
		    &result, &by, &created, &started, &finished, &batch);
	db_done(r->ctx.db, SQL_JOB_GET);
	if (drc != DB_OK && drc != DB_DONE) {
		rc = ctx_dbfail(&r->ctx, drc);
		goto out;
	}
	if (drc == DB_OK)
		params = json_decode_strict(ptext, strlen(ptext), err,
		    sizeof(err));
	/* Someone else's gate, or another request's: as if there were none. */
	if (drc == DB_DONE || strcmp(kind, "hookgate") != 0 || params == NULL ||
	    !json_is_string(json_object_get(params, "sub")) ||
	    strcmp(json_string_value(json_object_get(params, "sub")),
	    r->who.tok.sub) != 0 ||
	    crypto_sha256_hex(r->body != NULL ? r->body : "", r->bodylen,
	    sha) == -1 || !json_is_string(json_object_get(params, "sha256")) ||
	    strcmp(json_string_value(json_object_get(params, "sha256")),
	    sha) != 0) {
		rc = req_fail(r, API_NOT_FOUND, "No hook gate found for this "
		    "request");
		goto out;
	}
	res = result != NULL ? json_decode_strict(result, strlen(result), err,
	    sizeof(err)) : NULL;
	if (strcmp(state, "queued") == 0 || strcmp(state, "claimed") == 0 ||
	    strcmp(state, "running") == 0) {
		(void)db_run(r->ctx.db, SQL_JOB_CANCEL, "sds", "{\"error\":"
		    "\"the blocking hooks did not answer within the wait\"}",
		    time_now(), uid);
		rc = req_fail(r, API_TIMEOUT, "The blocking hooks did not all "
		    "answer within the wait; the change was not made");
		goto out;
	}
	if (strcmp(state, "done") != 0) {
		rc = req_fail(r, strcmp(state, "failed") == 0 ? API_CONFLICT :
		    API_TIMEOUT, "%s; the change was not made",
		    json_is_string(json_object_get(res, "error")) ?
		    json_string_value(json_object_get(res, "error")) :
		    "The blocking hooks did not answer");
		goto out;
	}
	if (time_now() - finished > HOOKGATE_FRESH) {
		rc = req_fail(r, API_CONFLICT, "The hooks' answer is older "
		    "than %d s; send the request again", HOOKGATE_FRESH);
		goto out;
	}
	if ((drc = db_run(r->ctx.db, SQL_JOB_GATE_USE, "s", uid)) != DB_OK) {
		rc = ctx_dbfail(&r->ctx, drc);
		goto out;
	}
	if (db_affected(r->ctx.db, SQL_JOB_GATE_USE) != 1) {
		rc = req_fail(r, API_CONFLICT, "This hook gate was used "
		    "already; send the request again");
		goto out;
	}
	method = json_string_value(json_object_get(params, "method"));
	path = json_string_value(json_object_get(params, "path"));
	query = json_string_value(json_object_get(params, "query"));
	for (m = 0; method != NULL && m < M__MAX; m++)
		if (strcmp(method, method_name((enum method)m)) == 0)
			break;
	if (method == NULL || m == M__MAX || path == NULL) {
		rc = ctx_internal(&r->ctx, "hook gate %s: no method or path", uid);
		goto out;
	}
	/* The original request, as it came; its route's checks run again. */
	free(r->gate_path);
	free(r->gate_query);
	r->gate_path = xstrdup(path);
	r->gate_query = query != NULL ? xstrdup(query) : NULL;
	r->method = (enum method)m;
	r->path = r->gate_path;
	r->query = r->gate_query;
	for (i = 0; i < r->nparams; i++) {
		free(r->params[i]);
		r->params[i] = NULL;
	}
	r->nparams = 0;
	r->route = NULL;
	json_decref(r->json);
	r->json = NULL;
	r->gate_passed = 1;
	rc = route_dispatch(r);
	r->gate_passed = 0;
out:
	json_decref(params);
	json_decref(res);
	free(juid);
	free(kind);
	free(target);
	free(ptext);
	free(state);
	free(result);
	free(by);
	free(batch);
	return rc;
}

/*
 * A hook or hookgate job's parameters as GET /job shows them: the sealed
 * secrets left out (sealed is not clear, but nobody needs to see it).
 */
void
hook_params_mask(json_t *params)
{
	json_t	*h;
	size_t	 i;

	if (!json_is_object(params))
		return;
	json_object_del(json_object_get(params, "hook"), "sealed");
	json_array_foreach(json_object_get(params, "hooks"), i, h)
		json_object_del(h, "sealed");
}

/*
 * POST /_hooktest/:name {"event", "hooks"}: a stand-in for the tenant
 * routes, answering 404 unless [hooks] test_route is on (the test
 * stack's).  It does what a tenant change does with hooks: checks and
 * seals them, passes the blocking hooks' gate, stores {"name", "uid",
 * "hooks"} as the management tenant's setting "hooktest:<name>" (the
 * change), then notifies the non-blocking hooks.  Answers {"uid",
 * "hooks"} (secrets masked).
 */
enum apierr
api_hooktest(struct req *r)
{
	const char	*name = req_param(r, "name"), *event;
	char		 k[96], sha[SHA256_HEX + 1], uid[UID_LEN + 1], *text = NULL;
	char		*old = NULL, err[128];
	json_t		*hooks, *stored = NULL, *doc = NULL;
	long long	 mgmt;
	int		 passed;
	enum apierr	 rc;
	enum dbrc	 drc;

	if (!r->conf->hooks_test_route)
		return req_fail(r, API_NOT_FOUND, "No such endpoint");
	event = json_string_value(json_object_get(r->json, "event"));
	hooks = json_object_get(r->json, "hooks");
	if (!valid_dnsname(name) || strlen(name) > 63 ||
	    !hook_event_valid(event) || hooks == NULL)
		return req_fail(r, API_BAD_REQUEST, "name, event and hooks");
	if ((mgmt = hook_mgmt(&r->ctx)) == 0)
		return API_INTERNAL;
	crypto_sha256_hex(name, strlen(name), sha);
	memcpy(uid, sha, UID_LEN);
	uid[UID_LEN] = '\0';
	snprintf(k, sizeof(k), "hooktest:%s", name);
	if ((drc = db_run(r->ctx.db, SQL_TENANT_SETTING_GET, "is", mgmt, k)) ==
	    DB_OK && db_next(r->ctx.db, SQL_TENANT_SETTING_GET, "s", &old) ==
	    DB_OK)
		stored = json_decode_strict(old, strlen(old), err, sizeof(err));
	db_done(r->ctx.db, SQL_TENANT_SETTING_GET);
	if ((rc = hooks_check(&r->ctx, hooks, json_object_get(stored, "hooks"),
	    uid)) != API_OK)
		goto out;
	doc = json_pack("{s:s, s:s, s:s, s:O}", "name", name, "uid", uid,
	    "state", "Deployed", "hooks", hooks);
	if ((rc = hook_gate(r, uid, hooks, event, doc, &passed)) != API_OK ||
	    !passed)
		goto out;
	text = json_dumps(doc, JSON_COMPACT);
	if ((drc = db_run(r->ctx.db, SQL_TENANT_SETTING_SET, "iss", mgmt, k,
	    text)) != DB_OK) {
		rc = ctx_dbfail(&r->ctx, drc);
		goto out;
	}
	if ((rc = hook_notify(&r->ctx, mgmt, uid, hooks, event, doc)) != API_OK)
		goto out;
	r->data = json_pack("{s:s, s:o}", "uid", uid, "hooks",
	    hooks_render(hooks));
out:
	free(old);
	free(text);
	json_decref(stored);
	json_decref(doc);
	return rc;
}
