/*
 * Unit tests of the webhook address check (api_hook.c's
 * hook_addr_allowed, what hook.c asks at connect time) and of the
 * [hooks] allow/deny syntax: table-driven, refused[] and allowed[].
 */
#include <string.h>

#include "extern.h"
#include "../tap.h"

struct acase {
	const char	*addr, *allow, *deny;
	const char	*why;		/* part of the reason; NULL: allowed */
};

static const struct acase cases[] = {
	/* refused by default */
	{ "127.0.0.1", NULL, NULL, "loopback" },
	{ "127.8.9.10", NULL, NULL, "loopback" },
	{ "::1", NULL, NULL, "loopback" },
	{ "::ffff:127.0.0.1", NULL, NULL, "loopback" },
	{ "0.0.0.0", NULL, NULL, "unspecified" },
	{ "::", NULL, NULL, "unspecified" },
	{ "169.254.169.254", NULL, NULL, "link-local" },
	{ "fe80::1", NULL, NULL, "link-local" },
	{ "224.0.0.1", NULL, NULL, "multicast" },
	{ "ff02::1", NULL, NULL, "multicast" },
	{ "255.255.255.255", NULL, NULL, "broadcast" },
	{ "::ffff:169.254.1.1", NULL, NULL, "link-local" },
	/* the BMC networks, by [hooks] deny */
	{ "10.1.2.3", NULL, "10.1.0.0/16", "deny" },
	{ "fd00::5", NULL, "192.168.0.0/24 fd00::/8", "deny" },
	/* allowed */
	{ "10.19.12.61", NULL, NULL, NULL },
	{ "10.2.2.3", NULL, "10.1.0.0/16", NULL },
	{ "2001:db8::1", NULL, NULL, NULL },
	{ "127.0.0.1", "127.0.0.0/8", NULL, NULL },
	{ "::1", "::1/128", NULL, NULL },
	{ "127.0.0.1", "::1/128", NULL, "loopback" },
	{ "127.0.0.2", "127.0.0.1", NULL, "loopback" },
	{ "10.1.2.3", "10.1.2.3/32", "10.1.0.0/16", NULL },
	{ "169.254.1.1", "10.0.0.0/8 169.254.0.0/16", NULL, NULL },
};

static const char *const lists_ok[] = {
	"", "127.0.0.0/8", "127.0.0.0/8 ::1/128", "10.0.0.1", "  10.0.0.0/8  ",
	"1.2.3.4/32,5.6.7.8/0",
};
static const char *const lists_bad[] = {
	"127.0.0.0/33", "localhost", "10.0.0.0/x", "::1/129", "1.2.3/8",
	"10.0.0.0/8 nope",
};

int
main(void)
{
	char		 why[256];
	size_t		 i;
	int		 rc;

	for (i = 0; i < nitems(cases); i++) {
		why[0] = '\0';
		rc = hook_addr_allowed(cases[i].addr, cases[i].allow,
		    cases[i].deny, why, sizeof(why));
		if (cases[i].why == NULL)
			is_int(rc, 1, "%s allowed (allow %s, deny %s)",
			    cases[i].addr, cases[i].allow ? cases[i].allow : "-",
			    cases[i].deny ? cases[i].deny : "-");
		else
			ok(rc == 0 && strstr(why, cases[i].why) != NULL,
			    "%s refused: %s", cases[i].addr, why);
	}
	is_int(hook_addr_allowed("not-an-address", NULL, NULL, why,
	    sizeof(why)), -1, "a name is not an address");
	for (i = 0; i < nitems(lists_ok); i++)
		ok(hook_cidrs_ok(lists_ok[i]), "list ok: \"%s\"", lists_ok[i]);
	ok(hook_cidrs_ok(NULL), "no list is ok");
	for (i = 0; i < nitems(lists_bad); i++)
		ok(!hook_cidrs_ok(lists_bad[i]), "list refused: \"%s\"",
		    lists_bad[i]);
	return done_testing();
}
