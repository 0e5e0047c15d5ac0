/*
 * The isolation matrix covers the route table: every route has exactly
 * one row in t/data/isolation.matrix, and every row names a route, with
 * ten statuses.  Adding a route means saying there what each persona
 * gets (t/api/99-isolation.t then checks it against a real stack).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "../tap.h"

#define MATRIX_ROWS_MAX	1024
#define MATRIX_PERSONAS	10

/*
 * The file: $CORRAL_SRCDIR's, else the source tree the test was built
 * from.
 */
static FILE *
matrix_open(char *path, size_t pathsz)
{
	const char	*src = getenv("CORRAL_SRCDIR");

	snprintf(path, pathsz, "%s/t/data/isolation.matrix",
	    src != NULL && *src != '\0' ? src : CORRAL_TOP_SRCDIR);
	return fopen(path, "r");
}

/* Strip the blanks around s in place; returns s moved past the leading ones. */
static char *
trim(char *s)
{
	size_t	 n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* How many statuses (three digits, maybe a '*') the last field holds. */
static int
count_statuses(char *f)
{
	char	*tok, *save = NULL;
	int	 n = 0;

	for (tok = strtok_r(f, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save)) {
		if (strlen(tok) < 3 || !isdigit((unsigned char)tok[0]) ||
		    !isdigit((unsigned char)tok[1]) ||
		    !isdigit((unsigned char)tok[2]) ||
		    (tok[3] != '\0' && strcmp(tok + 3, "*") != 0))
			return -1;
		n++;
	}
	return n;
}

int
main(void)
{
	static char	 rows[MATRIX_ROWS_MAX][160];
	const struct route *r;
	FILE		*fp;
	char		 path[4096], line[8192], name[160], *f[4], *p, *bar;
	int		 seen[MATRIX_ROWS_MAX];
	size_t		 nrows = 0, i, j, k, missing = 0, unknown = 0, twice = 0;
	size_t		 malformed = 0;

	if ((fp = matrix_open(path, sizeof(path))) == NULL) {
		ok(0, "%s opens", path);
		return done_testing();
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		/* Fields are split at " | ": a body may hold '|'. */
		for (k = 0; k < 3; k++) {
			f[k] = p;
			if ((bar = strstr(p, " | ")) == NULL)
				break;
			*bar = '\0';
			p = bar + 3;
		}
		if (k < 3 || (f[3] = p, count_statuses(f[3]) != MATRIX_PERSONAS)) {
			diag("malformed row: %s", f[0]);
			malformed++;
			continue;
		}
		if (nrows == MATRIX_ROWS_MAX) {
			ok(0, "the matrix holds at most %d rows", MATRIX_ROWS_MAX);
			break;
		}
		snprintf(rows[nrows++], sizeof(rows[0]), "%s", trim(f[0]));
	}
	fclose(fp);
	is_int(malformed, 0, "every row is METHOD PATTERN | path | body | "
	    "%d statuses", MATRIX_PERSONAS);

	memset(seen, 0, sizeof(seen));
	for (i = 0; (r = route_at(i)) != NULL; i++) {
		snprintf(name, sizeof(name), "%s %s", method_name(r->method),
		    r->pattern);
		for (j = 0; j < nrows; j++)
			if (strcmp(rows[j], name) == 0)
				break;
		if (j == nrows) {
			diag("no row in the isolation matrix: %s", name);
			missing++;
		} else
			seen[j]++;
	}
	for (j = 0; j < nrows; j++) {
		if (seen[j] == 0) {
			diag("a row for no route: %s", rows[j]);
			unknown++;
		}
		for (k = j + 1; k < nrows; k++)
			if (strcmp(rows[j], rows[k]) == 0) {
				diag("two rows: %s", rows[j]);
				twice++;
			}
	}
	is_int(missing, 0, "every route (%zu) has a row in %s", route_count(),
	    path);
	is_int(unknown, 0, "every row (%zu) is a route", nrows);
	is_int(twice, 0, "no route has two rows");
	return done_testing();
}
