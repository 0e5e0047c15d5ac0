/*
 * corral: a tiny TAP producer for the C unit tests.
 *
 *	plan(n);			or nothing, and done_testing() prints it
 *	ok(cond, "name %d", i);
 *	is_int(got, want, "name");
 *	is_str(got, want, "name");	NULL is a value: is_str(NULL, NULL) passes
 *	skip(n, "why");
 *	diag("anything %s", s);		to stderr, as "# ..."
 *	return done_testing();		0 only if every test passed as planned
 *
 * Everything is static to the one test program that includes it.
 */
#ifndef CORRAL_TAP_H
#define CORRAL_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	tap_planned = -1;
static int	tap_run;
static int	tap_failed;

#define ok(cond, ...)	tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, \
	    __VA_ARGS__)
#define is_str(got, want, ...) \
	tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)

static inline void	diag(const char *, ...)
			    __attribute__((format(printf, 1, 2)));
static inline void	tap_vdiag(const char *, va_list)
			    __attribute__((format(printf, 1, 0)));
static inline int	tap_vok(int, const char *, int, const char *, va_list)
			    __attribute__((format(printf, 4, 0)));
static inline int	tap_ok(int, const char *, int, const char *, ...)
			    __attribute__((format(printf, 4, 5)));
static inline int	tap_is_int(long long, long long, const char *, int,
			    const char *, ...)
			    __attribute__((format(printf, 5, 6)));
static inline int	tap_is_str(const char *, const char *, const char *,
			    int, const char *, ...)
			    __attribute__((format(printf, 5, 6)));

static inline void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void
tap_vdiag(const char *fmt, va_list ap)
{
	char	 buf[1024];
	char	*p, *nl;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* Every line of a diagnostic must start with '#'. */
	for (p = buf; p != NULL; p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		if (*p != '\0' || nl != NULL)
			fprintf(stderr, "# %s\n", p);
	}
}

static inline void
diag(const char *fmt, ...)
{
	va_list	 ap;

	fflush(stdout);
	va_start(ap, fmt);
	tap_vdiag(fmt, ap);
	va_end(ap);
}

static inline int
tap_vok(int pass, const char *file, int line, const char *fmt, va_list ap)
{
	char	 name[512];
	char	*p;

	vsnprintf(name, sizeof(name), fmt, ap);
	/* A '#' in a name would start a directive; a newline would end it. */
	for (p = name; *p != '\0'; p++)
		if (*p == '#' || *p == '\n')
			*p = ' ';
	tap_run++;
	if (!pass)
		tap_failed++;
	printf("%sok %d - %s\n", pass ? "" : "not ", tap_run, name);
	fflush(stdout);
	if (!pass)
		fprintf(stderr, "#   Failed test '%s'\n#   at %s line %d.\n",
		    name, file, line);
	return pass;
}

static inline int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	return pass;
}

static inline int
tap_is_int(long long got, long long want, const char *file, int line,
    const char *fmt, ...)
{
	va_list	 ap;
	int	 pass = got == want;

	va_start(ap, fmt);
	tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		fprintf(stderr, "#          got: %lld\n#     expected: %lld\n",
		    got, want);
	return pass;
}

static inline int
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
	va_list	 ap;
	int	 pass;

	pass = (got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0);
	va_start(ap, fmt);
	tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		fprintf(stderr, "#          got: %s%s%s\n#     expected: %s%s%s\n",
		    got ? "'" : "", got ? got : "NULL", got ? "'" : "",
		    want ? "'" : "", want ? want : "NULL", want ? "'" : "");
	return pass;
}

static inline void
skip(int n, const char *why)
{
	while (n-- > 0) {
		tap_run++;
		printf("ok %d # skip %s\n", tap_run, why);
	}
	fflush(stdout);
}

/* Print the plan if there was none; the exit status for main(). */
static inline int
done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_run);
	else if (tap_planned != tap_run) {
		diag("planned %d tests but ran %d", tap_planned, tap_run);
		return 255;
	}
	fflush(stdout);
	if (tap_failed > 0) {
		diag("failed %d of %d tests", tap_failed, tap_run);
		return tap_failed < 254 ? tap_failed : 254;
	}
	return 0;
}

#endif /* CORRAL_TAP_H */
