/*
 * Unit tests of the router: pattern matching, captures, literal segments
 * before captures, 404 versus 405, and the routes anyone may call without
 * a token, against an allow-list kept here on purpose: adding a public
 * route means changing this list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "../tap.h"

static const struct {
	enum method	 m;
	const char	*path;
	const char	*pattern;	/* expected route, NULL: none */
	const char	*param;		/* expected first capture */
	int		 known;		/* path exists with another method */
} cases[] = {
	{ M_POST,   "/login",			"/login",		NULL, 0 },
	{ M_GET,    "/login",			NULL,			NULL, 1 },
	{ M_GET,    "/admins",			"/admins",		NULL, 0 },
	{ M_GET,    "/admins/meta",		"/admins/meta",		NULL, 0 },
	{ M_GET,    "/admin/admin2",		"/admin/:id",		"admin2", 0 },
	{ M_GET,    "/admin/d763705495c3423083ae35f0850da018", "/admin/:id",
	    "d763705495c3423083ae35f0850da018", 0 },
	{ M_PATCH,  "/admin/x/gui_settings",	"/admin/:id/gui_settings", "x", 0 },
	{ M_POST,   "/admin/x/keys",		"/admin/:id/keys",	"x", 0 },
	{ M_POST,   "/admin/x/newtoken",	"/admin/:id/newtoken",	"x", 0 },
	{ M_GET,    "/admin/x/newtoken",	NULL,			NULL, 1 },
	{ M_GET,    "/admin/",			NULL,			NULL, 0 },
	{ M_GET,    "/admin//keys",		NULL,			NULL, 0 },
	{ M_GET,    "/admin/x/keys/extra",	NULL,			NULL, 0 },
	{ M_GET,    "/nosuch",			NULL,			NULL, 0 },
	{ M_GET,    "",				NULL,			NULL, 0 },
	{ M_GET,    "/",			NULL,			NULL, 0 },
	{ M_GET,    "admins",			NULL,			NULL, 0 },
	{ M_DELETE, "/cluster/time",		NULL,			NULL, 1 },
	{ M_GET,    "/cluster/time",		"/cluster/time",	NULL, 0 },
	{ M_GET,    "/job/abc",			"/job/:id",		"abc", 0 },
	/* A literal segment wins over a capture, whatever the row order. */
	{ M_PUT,    "/node/putstatus",		"/node/putstatus",	NULL, 0 },
	{ M_POST,   "/node/putattribs",		"/node/putattribs",	NULL, 0 },
	{ M_PUT,    "/node/n1",			"/node/:id",		"n1", 0 },
	{ M_GET,    "/nodes/meta",		"/nodes/meta",		NULL, 0 },
	{ M_GET,    "/nets/byip/10.0.0.1",	"/nets/byip/:part",	"10.0.0.1", 0 },
	{ M_GET,    "/bootconfigs/errors",	"/bootconfigs/errors",	NULL, 0 },
	{ M_GET,    "/namingpools/info/n1",	"/namingpools/info/:node", "n1", 0 },
	/* ":path*" takes the rest of the path, slashes and all (tail below). */
	{ M_GET,    "/gitrepo/cfg/repo",	"/gitrepo/:id/repo",	"cfg", 0 },
	{ M_GET,    "/gitrepo/cfg/repo/a/b.txt", "/gitrepo/:id/repo/:path*", "cfg", 0 },
	{ M_GET,    "/gitrepo/cfg/content/x",	"/gitrepo/:id/content/:path*", "cfg", 0 },
	{ M_GET,    "/gitrepo/cfg/repo/",	NULL,			NULL, 0 },
	{ M_POST,   "/gitrepo/cfg/repo/a",	NULL,			NULL, 1 },
	{ M_GET,    "/node/putstatus",		"/node/:id",		"putstatus", 0 },
	/* /ignition/bin is the binary, not a node's config. */
	{ M_GET,    "/ignition/bin",		"/ignition/bin",	NULL, 0 },
	{ M_GET,    "/ignition/0123456789abcdef0123456789abcdef", "/ignition/:uid",
	    "0123456789abcdef0123456789abcdef", 0 },
	{ M_GET,    "/bootconfig/b1/kickstart",	"/bootconfig/:id/kickstart", "b1", 0 },
	{ M_GET,    "/install/client/download/rpm/a.rpm", "/install/client/download/:pkgsys/:name", "rpm", 0 },
	{ M_DELETE, "/node/putstatus",		"/node/:id",		"putstatus", 0 },
	{ M_PATCH,  "/node/putstatus",		"/node/:id",		"putstatus", 0 },
	/* The audit log is read-only: no other method. */
	{ M_GET,    "/audit",			"/audit",		NULL, 0 },
	{ M_DELETE, "/audit",			NULL,			NULL, 1 },
	{ M_PUT,    "/audit/1",			NULL,			NULL, 0 },
};

/*
 * Every route that needs no token.  Each is public for a reason: login,
 * the reference's public endpoints, /meta, and what nodes call about
 * themselves (known by their address).
 */
static const char *const public_routes[] = {
	"POST /login",
	"GET /cluster/time",
	"GET /tenants/meta",
	"GET /tenancies/meta",
	"GET /cluster/database",
	"GET /cluster/hosts",
	"GET /cluster/sshkeys",
	"GET /cluster/cabundle",
	"GET /gitrepo/:id/url",
	/* Public repositories' files (the reference); a token widens. */
	"GET /gitrepo/:id/repo",
	"GET /gitrepo/:id/repo/:path*",
	"GET /gitrepo/:id/content",
	"GET /gitrepo/:id/content/:path*",
	/* Where the waiter hands a file read back: the job is the capability. */
	"GET /gitread/:job",
	/* nginx's auth_request for /git/; refuses without CORRAL_GIT_URI. */
	"GET /_gitauth",
	"PUT /node/putstatus",
	"PUT /node/putattribs",
	/* Network boot: firmware, installers, switches and new heads have no token. */
	"GET /boot/ipxe/:mac",
	"GET /kickstart/:name",
	"GET /ztp/script",
	"GET /ignition/bin",
	"GET /ignition/:uid",
	"GET /install/client/installer",
	"GET /install/client/download/:pkgsys/:name",
	"GET /install/repo",
	"POST /install/password",
	"GET /install/head/scyld-install",
	"GET /admins/meta",
	"GET /attribs/meta",
	"GET /images/meta",
	"GET /bootconfigs/meta",
	"GET /distros/meta",
	"GET /repos/meta",
	"GET /gitrepos/meta",
	"GET /tenanthooks/meta",
	"GET /nets/meta",
	"GET /hostnames/meta",
	"GET /dyngroups/meta",
	"GET /namingpools/meta",
	"GET /heads/meta",
	"GET /nodes/meta",
};

int
main(void)
{
	const struct route	*rt;
	char			*params[ROUTE_MAX_PARAMS];
	size_t			 i, n;
	int			 known;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rt = route_match(cases[i].m, cases[i].path, params, &n, &known);
		if (cases[i].pattern == NULL) {
			ok(rt == NULL, "%s: no route", cases[i].path);
			is_int(known, cases[i].known, "%s: %s", cases[i].path,
			    cases[i].known ? "405" : "404");
			continue;
		}
		ok(rt != NULL && strcmp(rt->pattern, cases[i].pattern) == 0,
		    "%s routes to %s", cases[i].path, cases[i].pattern);
		if (cases[i].param != NULL)
			is_str(n > 0 ? params[0] : NULL, cases[i].param,
			    "%s captures %s", cases[i].path, cases[i].param);
		else
			is_int(n, 0, "%s captures nothing", cases[i].path);
		while (n > 0)
			free(params[--n]);
	}
	ok(route_count() > 20, "the table holds the foundation's routes");

	/* The tail capture keeps every segment of the rest. */
	rt = route_match(M_GET, "/gitrepo/cfg/content/a/b/c.txt", params, &n,
	    &known);
	is_int(n, 2, "/gitrepo/cfg/content/a/b/c.txt: two captures");
	is_str(n == 2 ? params[1] : NULL, "a/b/c.txt", "... the tail whole");
	while (n > 0)
		free(params[--n]);

	/* Public routes: exactly the allow-list, no more, no fewer. */
	{
		const struct route	*r;
		char			 name[128];
		int			 seen[nitems(public_routes)];
		size_t			 j;

		memset(seen, 0, sizeof(seen));
		for (i = 0; (r = route_at(i)) != NULL; i++) {
			if (r->need != NEED_NONE)
				continue;
			snprintf(name, sizeof(name), "%s %s",
			    method_name(r->method), r->pattern);
			for (j = 0; j < nitems(public_routes); j++)
				if (strcmp(public_routes[j], name) == 0)
					break;
			ok(j < nitems(public_routes), "public route %s is on "
			    "the allow-list", name);
			if (j < nitems(public_routes))
				seen[j]++;
		}
		for (j = 0; j < nitems(public_routes); j++)
			is_int(seen[j], 1, "%s is public, once", public_routes[j]);
	}

	/*
	 * The audit log keeps every write but the nodes' status reports,
	 * and the reads that issue tokens or act; no other read.
	 */
	{
		const struct route	*r;
		size_t			 missed = 0, extra = 0;
		int			 want;

		for (i = 0; (r = route_at(i)) != NULL; i++) {
			want = r->method != M_GET && !(r->method == M_PUT &&
			    strcmp(r->pattern, "/node/putstatus") == 0);
			if (r->method == M_GET && (strcmp(r->pattern,
			    "/newtoken") == 0 || strcmp(r->pattern,
			    "/image/:id/capture") == 0 || strcmp(r->pattern,
			    "/gitrepo/:id/sync") == 0 ||
			    strncmp(r->pattern, "/tenancy/power/", 15) == 0 ||
			    strcmp(r->pattern, "/tenancy/members") == 0))
				want = 1;
			if (want && !audit_wanted(r->method, r->pattern)) {
				diag("not audited: %s %s", method_name(r->method),
				    r->pattern);
				missed++;
			} else if (!want && audit_wanted(r->method, r->pattern)) {
				diag("audited: %s %s", method_name(r->method),
				    r->pattern);
				extra++;
			}
		}
		is_int(missed, 0, "every write, login and token issue is audited");
		is_int(extra, 0, "no other read is");
		ok(audit_wanted(M_POST, NULL) && audit_wanted(M_DELETE, NULL),
		    "a write to no endpoint is audited");
		ok(!audit_wanted(M_GET, NULL) && !audit_wanted(M_HEAD, "/nodes"),
		    "a read of no endpoint, and HEAD, are not");
	}

	/* No two rows claim the same method and pattern. */
	{
		const struct route	*a, *b;
		size_t			 j, dups = 0;

		for (i = 0; (a = route_at(i)) != NULL; i++)
			for (j = i + 1; (b = route_at(j)) != NULL; j++)
				if (a->method == b->method &&
				    strcmp(a->pattern, b->pattern) == 0) {
					diag("twice: %s %s", method_name(a->method),
					    a->pattern);
					dups++;
				}
		is_int(dups, 0, "every method and pattern has one row");
	}

	/* Generic handlers need their class; write routes a body spec. */
	{
		const struct route	*r;
		size_t			 bad = 0;

		for (i = 0; (r = route_at(i)) != NULL; i++)
			if ((r->handler == api_obj_list ||
			    r->handler == api_obj_get ||
			    r->handler == api_obj_post ||
			    r->handler == api_obj_meta ||
			    r->handler == api_obj_search ||
			    r->handler == api_obj_field_get) && r->cls == NULL) {
				diag("no class: %s %s", method_name(r->method),
				    r->pattern);
				bad++;
			}
		is_int(bad, 0, "every generic route names its class");
	}
	return done_testing();
}
