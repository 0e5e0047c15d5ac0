/*
 * Unit tests of the router: pattern matching, captures, 404 versus 405,
 * and that every route declares a sane role requirement.
 */
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
	return done_testing();
}
