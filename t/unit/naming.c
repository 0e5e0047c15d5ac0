/*
 * Unit tests of naming-pool patterns: valid[] patterns with the name one
 * index makes and matches back, invalid[] patterns with the reason they
 * give, round trips and names that must not match.
 */
#include <string.h>

#include "extern.h"
#include "../tap.h"

#define P62	"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij"
#define P70	P62 "abcdefgh"

static const struct {
	const char	*pattern;
	const char	*prefix;
	const char	*suffix;
	int		 width;
	long long	 index;
	const char	*name;
} valid[] = {
	{ "n{}",		"n",		"",	0, 3,	"n3" },
	{ "gpu{:03d}",		"gpu",		"",	3, 7,	"gpu007" },
	{ "rack1-n{:02d}-a",	"rack1-n",	"-a",	2, 5,	"rack1-n05-a" },
	{ "{}",			"",		"",	0, 42,	"42" },
	{ "node{:d}",		"node",		"",	0, 10,	"node10" },
	{ "x{:09d}",		"x",		"",	9, 1,	"x000000001" },
	{ "a.b_c-{:01d}",	"a.b_c-",	"",	1, 0,	"a.b_c-0" },
	{ "_n{}",		"_n",		"",	0, 1,	"_n1" },
	{ "{:04d}.z",		"",		".z",	4, 12,	"0012.z" },
	{ "n{}0",		"n",		"0",	0, 10,	"n100" },
	{ P62 "{}",		P62,		"",	0, 9,	P62 "9" },
};

static const struct {
	const char	*pattern;
	const char	*reason;	/* a part of the reason */
} invalid[] = {
	{ "",			"empty" },
	{ "n",			"no placeholder" },
	{ "n{}{}",		"second placeholder at position 4" },
	{ "n{",			"Placeholder at position 2 must be" },
	{ "n}",			"'}' outside the placeholder at position 2" },
	{ "n{}}",		"'}' outside the placeholder at position 4" },
	{ "{:3d}",		"pads with spaces" },
	{ "n{:12d}",		"pads with spaces" },
	{ "{:0d}",		"1 to 9 digits" },
	{ "{:010d}",		"1 to 9 digits" },
	{ "{:003d}",		"1 to 9 digits" },
	{ "n{x}",		"Placeholder at position 2 must be" },
	{ "n{:03x}",		"Placeholder at position 2 must be" },
	{ "n{:03d",		"Placeholder at position 2 must be" },
	{ "n{: 3d}",		"Placeholder at position 2 must be" },
	{ "n{:-3d}",		"Placeholder at position 2 must be" },
	{ "-n{}",		"must not start with '-'" },
	{ ".n{}",		"must not start with '.'" },
	{ "n {}",		"a space at position 2" },
	{ "n/{}",		"'/' at position 2" },
	{ "n{}\n",		"byte 0x0a at position 4" },
	{ "\xc3\xa9{}",		"byte 0xc3 at position 1" },
	{ P70 "{}",		"prefix is longer than 63 characters at position 64" },
	{ "n{}" P70,		"suffix is longer than 63 characters at position 67" },
	{ P62 "{}x",		"longer than 63 characters" },
	{ P62 "{:02d}",		"longer than 63 characters" },
};

static const struct {
	const char	*pattern;
	const char	*name;
} nomatch[] = {
	{ "gpu{:03d}",	"gpu7" },
	{ "gpu{:03d}",	"gpu07" },
	{ "gpu{:03d}",	"gpu0007" },
	{ "gpu{:03d}",	"gpu01000" },
	{ "gpu{:03d}",	"gpu" },
	{ "gpu{:03d}",	"GPU007" },
	{ "gpu{:03d}",	"gpu007x" },
	{ "gpu{:03d}",	"gpu-07" },
	{ "gpu{:03d}",	"gpu+07" },
	{ "gpu{:03d}",	"gpu 07" },
	{ "n{}",	"n007" },
	{ "n{}",	"n01" },
	{ "n{}",	"n" },
	{ "n{}",	"n-1" },
	{ "n{}",	"m1" },
	{ "n{}",	"n1000000000" },
	{ "n{}",	"n99999999999999999999" },
	{ "n{}",	"" },
	{ "rack1-n{:02d}-a", "rack1-n5-a" },
	{ "rack1-n{:02d}-a", "rack1-n05-b" },
};

int
main(void)
{
	struct naming	 nm;
	char		 err[256], name[128];
	long long	 idx;
	size_t		 i;
	int		 rc;
	static const long long	 trips[] = { 0, 1, 7, 999, 1000, 123456789,
	    999999999 };

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		rc = naming_parse(valid[i].pattern, &nm, err, sizeof(err));
		if (!is_int(rc, 0, "parse %s", valid[i].pattern))
			diag("%s", err);
		is_str(nm.prefix, valid[i].prefix, "%s: prefix",
		    valid[i].pattern);
		is_str(nm.suffix, valid[i].suffix, "%s: suffix",
		    valid[i].pattern);
		is_int(nm.width, valid[i].width, "%s: width", valid[i].pattern);
		is_int(nm.zero, valid[i].width > 0, "%s: zero",
		    valid[i].pattern);
		rc = naming_format(&nm, valid[i].index, name, sizeof(name));
		is_int(rc, 0, "%s: format %lld", valid[i].pattern,
		    valid[i].index);
		is_str(name, valid[i].name, "%s: name of %lld",
		    valid[i].pattern, valid[i].index);
		idx = -1;
		is_int(naming_match(&nm, valid[i].name, &idx), 1,
		    "%s matches %s", valid[i].name, valid[i].pattern);
		is_int(idx, valid[i].index, "%s is index %lld", valid[i].name,
		    valid[i].index);
	}

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		err[0] = '\0';
		rc = naming_parse(invalid[i].pattern, &nm, err, sizeof(err));
		is_int(rc, -1, "invalid[%zu] refused", i);
		if (!ok(strstr(err, invalid[i].reason) != NULL,
		    "invalid[%zu] says '%s'", i, invalid[i].reason))
			diag("reason: %s", err);
	}

	/* Round trips over the width: 1000 simply grows to four digits. */
	naming_parse("gpu{:03d}", &nm, err, sizeof(err));
	for (i = 0; i < sizeof(trips) / sizeof(trips[0]); i++) {
		idx = -1;
		ok(naming_format(&nm, trips[i], name, sizeof(name)) == 0 &&
		    naming_match(&nm, name, &idx) == 1 && idx == trips[i],
		    "gpu{:03d}: %lld -> %s -> %lld", trips[i], name, idx);
	}
	naming_format(&nm, 1000, name, sizeof(name));
	is_str(name, "gpu1000", "1000 overflows the width, unpadded");
	naming_format(&nm, 0, name, sizeof(name));
	is_str(name, "gpu000", "0 is padded");
	naming_parse("n{}", &nm, err, sizeof(err));
	for (i = 0; i < sizeof(trips) / sizeof(trips[0]); i++) {
		idx = -1;
		ok(naming_format(&nm, trips[i], name, sizeof(name)) == 0 &&
		    naming_match(&nm, name, &idx) == 1 && idx == trips[i],
		    "n{}: %lld -> %s -> %lld", trips[i], name, idx);
	}

	for (i = 0; i < sizeof(nomatch) / sizeof(nomatch[0]); i++) {
		naming_parse(nomatch[i].pattern, &nm, err, sizeof(err));
		idx = -7;
		is_int(naming_match(&nm, nomatch[i].name, &idx), 0,
		    "'%s' does not match %s", nomatch[i].name,
		    nomatch[i].pattern);
		is_int(idx, -7, "... and leaves the index alone");
	}
	naming_parse("n{}", &nm, err, sizeof(err));
	is_int(naming_match(&nm, NULL, &idx), 0, "NULL name does not match");
	is_int(naming_match(&nm, "n5", NULL), 1, "index may be NULL");

	/* Indexes and buffers out of range. */
	is_int(naming_format(&nm, -1, name, sizeof(name)), -1, "index -1");
	is_int(naming_format(&nm, 1000000000LL, name, sizeof(name)), -1,
	    "index 10^9");
	is_int(naming_format(&nm, 999999999LL, name, sizeof(name)), 0,
	    "index 10^9 - 1");
	is_int(naming_format(&nm, 100, name, 4), -1, "buffer too small");
	is_str(name, "", "... leaves an empty string");
	naming_parse(P62 "{}", &nm, err, sizeof(err));
	is_int(naming_format(&nm, 10, name, sizeof(name)), -1,
	    "a 64-character name is not a DNS label");
	is_int(naming_match(&nm, P62 "10", &idx), 0, "... nor matches");

	/* Hand-built shapes the parser never makes. */
	memset(&nm, 0, sizeof(nm));
	strcpy(nm.prefix, "n");
	nm.width = 3;
	is_int(naming_format(&nm, 1, name, sizeof(name)), -1,
	    "space padding is never written");
	nm.zero = 1;
	nm.width = 10;
	is_int(naming_format(&nm, 1, name, sizeof(name)), -1,
	    "width 10 is never written");
	strcpy(nm.prefix, "-");
	nm.width = 0;
	nm.zero = 0;
	is_int(naming_format(&nm, 1, name, sizeof(name)), -1,
	    "an invalid name is never written");

	return done_testing();
}
