/*
 * Unit tests of the gitrepo parsers the API applies before any job
 * exists (api_git.c): which file paths stay inside a repository, and
 * what a sync_period means in seconds.  Table-driven: valid[] and
 * invalid[].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "../tap.h"

static const char *const valid_paths[] = {
	"README", "conf/a.txt", "a/b/c/d.e", ".gitignore", "dir/.hidden",
	"..a", "a..", "a/..b/c", "with space.txt", "ünïcode/ƒile", "a:b",
	"-leading-dash",
};

static const char *const invalid_paths[] = {
	"", "/", "/etc/passwd", "..", "../x", "a/../b", "a/..", ".", "./a",
	"a/./b", "a//b", "a/", "a\\b", "..\\x", "a\tb", "a\nb", "a\x7f",
	"\x01",
};

static const struct {
	const char	*text;		/* NULL: the integer below */
	long long	 num;
	long long	 secs;
} periods[] = {
	{ NULL, 30, 30 }, { NULL, 0, 0 }, { NULL, -5, 0 },
	{ "45s", 0, 45 }, { "10m", 0, 600 }, { "2h", 0, 7200 },
	{ "1d", 0, 86400 }, { "7", 0, 7 }, { "0m", 0, 0 },
};

int
main(void)
{
	char		 buf[1200];
	json_t		*v;
	size_t		 i;
	long long	 got;

	for (i = 0; i < nitems(valid_paths); i++)
		ok(git_path_ok(valid_paths[i]), "path \"%s\" stays inside",
		    valid_paths[i]);
	for (i = 0; i < nitems(invalid_paths); i++)
		ok(!git_path_ok(invalid_paths[i]), "path #%zu (\"%s\") is "
		    "refused", i, invalid_paths[i]);
	ok(!git_path_ok(NULL), "no path is refused");
	memset(buf, 'a', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	ok(!git_path_ok(buf), "a path over 1024 bytes is refused");

	for (i = 0; i < nitems(periods); i++) {
		v = periods[i].text != NULL ? json_string(periods[i].text) :
		    json_integer(periods[i].num);
		got = git_period(v);
		is_int(got, periods[i].secs, "sync_period %s%lld is %lld s",
		    periods[i].text != NULL ? periods[i].text : "",
		    periods[i].text != NULL ? 0 : periods[i].num,
		    periods[i].secs);
		json_decref(v);
	}
	ok(git_period(NULL) == 0, "no sync_period: none");
	return done_testing();
}
