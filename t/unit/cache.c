/*
 * The read cache (fcgi/cache.c) against a real LMDB environment in a
 * temporary directory: what is served when, what a change drops, and that
 * a fill never undoes an invalidation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../fcgi/extern.h"
#include "../tap.h"

#define UID_A	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define UID_B	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define MAC_A	"52:54:00:00:00:0a"

static struct objrow
row(const char *uid, const char *name, long long tid, long long version)
{
	struct objrow	 o;

	memset(&o, 0, sizeof(o));
	o.uid = (char *)(uintptr_t)uid;
	o.name = (char *)(uintptr_t)name;
	o.tenant_id = tid;
	o.version = version;
	o.last_modified = 1796400000.123456;
	o.last_modified_on = (char *)(uintptr_t)"head1";
	o.last_modified_by = (char *)(uintptr_t)"admin";
	return o;
}

/* Look cls/field=value up from scope tid: the hit's doc, or "" (miss), or NULL (bypass). */
static char *
lookup(const char *cls, const char *field, long long tid, const char *value,
    struct cachefill *fill, struct objrow *out)
{
	struct objrow	 o;
	char		*doc = NULL;
	enum cachehit	 hit;

	hit = cache_obj_get(cls, field, tid, value, &o, &doc, fill);
	if (out != NULL)
		*out = o;
	else
		objrow_free(&o);
	if (hit == CACHE_BYPASS)
		return NULL;
	return hit == CACHE_HIT ? doc : xstrdup("");
}

static void
change(const char *cls, long long tid, const char *uid, const char *name)
{
	struct change	 ch;

	memset(&ch, 0, sizeof(ch));
	snprintf(ch.cls, sizeof(ch.cls), "%s", cls);
	snprintf(ch.uid, sizeof(ch.uid), "%s", uid);
	snprintf(ch.name, sizeof(ch.name), "%s", name);
	ch.tid = tid;
	ok(cache_invalidate(&ch, 1) == 0, "invalidate %s %s", cls, name);
}

int
main(void)
{
	struct conf		 c;
	struct cachefill	 fill, old;
	struct cacheview	 view;
	struct objrow		 a, got;
	char			 dir[] = "/tmp/corral-cache-test-XXXXXX";
	char			 state[32], *doc;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	memset(&c, 0, sizeof(c));
	c.cache_enabled = 1;
	c.cache_dir = dir;
	c.cache_max_lag_ms = 200;
	c.cache_size_mb = 64;
	ok(cache_reset(&c) == 0, "reset makes the directory ready");
	cache_open(&c);

	/* Nothing is served before the follower's first complete poll. */
	doc = lookup("node", "uid", 1, UID_A, &fill, NULL);
	ok(doc == NULL && !fill.ok, "before any poll: bypass, no fill");
	ok(cache_mark_fresh(monotonic_ms() - 500) == 0, "mark fresh (old)");
	doc = lookup("node", "uid", 1, UID_A, &fill, NULL);
	ok(doc == NULL, "a poll older than max_lag: bypass");
	ok(cache_mark_fresh(monotonic_ms()) == 0, "mark fresh (now)");
	doc = lookup("node", "uid", 1, UID_A, &fill, NULL);
	is_str(doc, "", "fresh: a miss");
	free(doc);
	ok(fill.ok, "a miss may fill");

	/* Store by name in tenant 1; found by name and by UID. */
	a = row(UID_A, "n1", 1, 3);
	doc = lookup("node", "name", 1, "n1", &fill, NULL);
	free(doc);
	cache_obj_store(&fill, "node", "name", 1, "n1", &a, "{\"mac\":\"" MAC_A "\"}");
	doc = lookup("node", "name", 1, "n1", &fill, &got);
	is_str(doc, "{\"mac\":\"" MAC_A "\"}", "by name: the stored text");
	is_str(got.uid, UID_A, "by name: the uid");
	is_int(got.tenant_id, 1, "by name: the tenant");
	is_int(got.version, 3, "by name: the version");
	ok(got.last_modified == 1796400000.123456, "by name: last_modified exact");
	is_str(got.last_modified_on, "head1", "by name: last_modified_on");
	free(doc);
	objrow_free(&got);
	doc = lookup("node", "uid", 1, UID_A, &fill, NULL);
	is_str(doc, "{\"mac\":\"" MAC_A "\"}", "by uid: the same row");
	free(doc);
	doc = lookup("node", "name", 2, "n1", &fill, NULL);
	is_str(doc, "", "the name in another tenant: a miss");
	free(doc);
	doc = lookup("node", "name", SCOPE_ALL, "n1", &fill, NULL);
	is_str(doc, "", "the any-tenant name: not stored yet");
	free(doc);

	/* The MAC alias joins the row's aliases. */
	doc = lookup("node", "mac", 1, MAC_A, &fill, NULL);
	free(doc);
	cache_obj_store(&fill, "node", "mac", 1, MAC_A, &a, "{\"mac\":\"" MAC_A "\"}");
	doc = lookup("node", "mac", 7, MAC_A, &fill, NULL);
	ok(doc != NULL && *doc != '\0', "by MAC: a hit, whatever the scope");
	free(doc);
	doc = lookup("node", "name", SCOPE_ALL, "n1", &fill, NULL);
	free(doc);
	cache_obj_store(&fill, "node", "name", SCOPE_ALL, "n1", &a, "{}");

	/* A change to the row drops the row and every alias it had. */
	change("node", 1, UID_A, "n1");
	doc = lookup("node", "uid", 1, UID_A, &fill, NULL);
	is_str(doc, "", "after the change: the uid misses");
	free(doc);
	doc = lookup("node", "mac", 1, MAC_A, &fill, NULL);
	is_str(doc, "", "after the change: the MAC alias went with it");
	free(doc);
	doc = lookup("node", "name", SCOPE_ALL, "n1", &fill, NULL);
	is_str(doc, "", "after the change: the any-tenant alias too");
	free(doc);

	/* Another tenant taking the name makes the any-tenant alias go. */
	doc = lookup("node", "name", SCOPE_ALL, "n1", &fill, NULL);
	free(doc);
	cache_obj_store(&fill, "node", "name", SCOPE_ALL, "n1", &a, "{}");
	change("node", 2, UID_B, "n1");
	doc = lookup("node", "name", SCOPE_ALL, "n1", &fill, NULL);
	is_str(doc, "", "a new n1 in tenant 2: the any-tenant alias is gone");
	free(doc);

	/* A fill read before an invalidation is not stored. */
	doc = lookup("node", "uid", 1, UID_A, &old, NULL);
	free(doc);
	change("node", 1, UID_A, "n1");
	cache_obj_store(&old, "node", "uid", 1, UID_A, &a, "{\"stale\":true}");
	doc = lookup("node", "uid", 1, UID_A, &fill, NULL);
	is_str(doc, "", "a fill older than an invalidation is dropped");
	free(doc);
	cache_obj_store(&fill, "node", "uid", 1, UID_A, &a, "{\"fresh\":true}");
	doc = lookup("node", "uid", 1, UID_A, &fill, NULL);
	is_str(doc, "{\"fresh\":true}", "a fill after it is stored");
	free(doc);

	/* Lists: stored whole, dropped by a change to any object of the class. */
	ok(cache_list_get("node", 1, &view, &fill) == CACHE_MISS, "list: a miss");
	cache_list_store(&fill, "node", 1, "{\"success\": true}", 17);
	ok(cache_list_get("node", 1, &view, &fill) == CACHE_HIT &&
	    view.len == 17 && memcmp(view.data, "{\"success\": true}", 17) == 0,
	    "list: the answer as stored");
	cache_view_end(&view);
	ok(cache_list_get("net", 1, &view, &fill) == CACHE_MISS,
	    "list of another class: a miss");
	change("node", 1, UID_B, "n9");
	ok(cache_list_get("node", 1, &view, &fill) == CACHE_MISS,
	    "list: gone after a change in the class");

	/* Tenants: a change of the tenant drops its state. */
	ok(cache_tenant_get(4, state, sizeof(state), &fill) == CACHE_MISS,
	    "tenant: a miss");
	cache_tenant_store(&fill, 4, "Deployed");
	ok(cache_tenant_get(4, state, sizeof(state), &fill) == CACHE_HIT &&
	    strcmp(state, "Deployed") == 0, "tenant: the state");
	change("tenant", 4, UID_B, "blue");
	ok(cache_tenant_get(4, state, sizeof(state), &fill) == CACHE_MISS,
	    "tenant: dropped by its change");

	/* A new follower empties the cache and serves nothing until it polls. */
	ok(cache_clear() == 0, "clear");
	doc = lookup("node", "uid", 1, UID_A, &fill, NULL);
	ok(doc == NULL, "after clear: bypass until the next poll");
	cache_mark_fresh(monotonic_ms());
	doc = lookup("node", "uid", 1, UID_A, &fill, NULL);
	is_str(doc, "", "after clear and a poll: the row is gone");
	free(doc);

	/* Off: nothing is served, nothing breaks. */
	cache_close();
	c.cache_enabled = 0;
	cache_open(&c);
	doc = lookup("node", "uid", 1, UID_A, &fill, NULL);
	ok(doc == NULL, "enabled = 0: bypass");
	cache_close();

	c.cache_enabled = 1;
	cache_reset(&c);
	rmdir(dir);
	return done_testing();
}
