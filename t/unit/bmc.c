/*
 * The BMC drivers (ipmi.c, redfish.c) against simulated BMCs: three
 * ipmi_sim BMCs and a UDP black hole from t/lib/bmc-sim, Redfish BMCs over
 * HTTP and HTTPS from t/lib/redfish-bmc.  Every change is checked in the
 * simulator's own state files, not only in what the driver says; every
 * failure by its reason and by how long it took.  Nothing leaves
 * 127.0.0.0/8.
 *
 * Needs root (ipmi_sim binds port 623), ipmi_sim (openipmi), python3,
 * openssl and perl; skips otherwise.  The tests run in a child; the parent
 * stops every simulator and removes the temporary directory however the
 * child ends.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"
#include "../tap.h"

#define USER		"corral"
#define PASS		"Zq7-s3cret"
#define WRONG		"Wr0ng-Pa55"
#define CHILD_LIMIT	120	/* s the whole test may take */
#define SLACK		0.5	/* s a timeout may overrun */

static char	 srcdir[PATH_MAX];
static char	 tmp[64];
static char	 net[32];	/* "127.77.N": this run's addresses */
static int	 leaks;		/* reasons that contained a password */

/* The outcome of one driver call. */
struct call {
	int		 rc;
	enum power_state st;
	char		 err[512];
	double		 secs;
};

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
nap(double secs)
{
	struct timespec	 ts;

	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/* Run a shell command; its exit status, or -1. */
static int
sh(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static int
sh(const char *fmt, ...)
{
	char	 cmd[2048];
	va_list	 ap;
	int	 st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if ((st = system(cmd)) == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* The first line a shell command prints (static), or NULL. */
static const char *
capture(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static const char *
capture(const char *fmt, ...)
{
	static char	 line[512];
	char		 cmd[2048];
	va_list		 ap;
	FILE		*p;
	int		 got;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if ((p = popen(cmd, "r")) == NULL)
		return NULL;
	got = fgets(line, sizeof(line), p) != NULL;
	if (pclose(p) != 0 || !got)
		return NULL;
	line[strcspn(line, "\n")] = '\0';
	return line;
}

/* A file's contents without the last newline (static, rotating), or "". */
static const char *
slurp(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static const char *
slurp(const char *fmt, ...)
{
	static char	 bufs[4][1024];
	static int	 next;
	char		 path[PATH_MAX], *b = bufs[next++ % 4];
	va_list		 ap;
	FILE		*f;
	size_t		 n = 0;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if ((f = fopen(path, "r")) != NULL) {
		n = fread(b, 1, 1023, f);
		fclose(f);
	}
	b[n] = '\0';
	while (n > 0 && b[n - 1] == '\n')
		b[--n] = '\0';
	return b;
}

/* Write s to a file (tests set a simulator's state this way). */
static void
put(const char *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
put(const char *s, const char *fmt, ...)
{
	char	 path[PATH_MAX];
	va_list	 ap;
	FILE	*f;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if ((f = fopen(path, "w")) == NULL) {
		diag("%s: %s", path, strerror(errno));
		return;
	}
	fputs(s, f);
	fclose(f);
}

/* Power options as [power] would give them, for IPMI 2.0 and ipmi_sim. */
static struct power_opts
opts(void)
{
	struct power_opts	 o = {
		.timeout_ms = 2000,
		.retries = 3,
		.ipmi_version = 20,
		.ipmi_cipher = 3,
		.ipmi_priv = NULL,
		.ipmi_workarounds = "opensesspriv",
		.ca_bundle = NULL,
		.tls_verify = 1,
	};

	return o;
}

static void
leak_check(const struct call *c)
{
	if (strstr(c->err, PASS) != NULL || strstr(c->err, WRONG) != NULL) {
		diag("password in a reason: %s", c->err);
		leaks++;
	}
}

/* ipmi_power on the BMC at net.last. */
static struct call
ipmi(int last, const char *pass, const struct power_opts *o, enum power_op op)
{
	struct call	 c;
	char		 host[48];
	struct bmc	 b = { .scheme = "ipmi", .host = host, .port = 0,
	    .user = USER, .pass = pass, .path = NULL };
	double		 t0 = now();

	snprintf(host, sizeof(host), "%s.%d", net, last);
	c.err[0] = '\0';
	c.rc = ipmi_power(&b, o, op, &c.st, c.err, sizeof(c.err));
	c.secs = now() - t0;
	leak_check(&c);
	return c;
}

/* redfish_power on the BMC at net.last:port. */
static struct call
redfish(const char *scheme, int last, int port, const char *path,
    const char *pass, const struct power_opts *o, enum power_op op)
{
	struct call	 c;
	char		 host[48];
	struct bmc	 b = { .scheme = scheme, .host = host, .port = port,
	    .user = USER, .pass = pass, .path = path };
	double		 t0 = now();

	snprintf(host, sizeof(host), "%s.%d", net, last);
	c.err[0] = '\0';
	c.rc = redfish_power(&b, o, op, &c.st, c.err, sizeof(c.err));
	c.secs = now() - t0;
	leak_check(&c);
	return c;
}

/* A call that must succeed. */
static int
succeeds(const struct call *c, const char *name)
{
	if (c->rc != 0)
		diag("%s: %s", name, c->err);
	return ok(c->rc == 0, "%s (%.3f s)", name, c->secs);
}

/* A call that must fail with want in its reason, within secs. */
static void
fails(const struct call *c, const char *want, double secs, const char *name)
{
	if (!ok(c->rc == -1 && strstr(c->err, want) != NULL, "%s: \"%s\"",
	    name, want))
		diag("rc %d, reason: %s", c->rc, c->err);
	if (!ok(c->secs <= secs, "%s within %.1f s", name, secs))
		diag("took %.3f s", c->secs);
}

/* Wait up to secs for a file to hold want; whether it did. */
static int
await(const char *want, double secs, const char *path)
{
	double	 end = now() + secs;

	while (strcmp(slurp("%s", path), want) != 0 && now() < end)
		nap(0.02);
	return strcmp(slurp("%s", path), want) == 0;
}

static void
test_options(void)
{
	struct power_opts	 o = opts();
	char			 err[512];

	o.ipmi_workarounds = "authcap nochecksumcheck idzero unexpectedauth "
	    "forcepermsg endianseq noauthcodecheck intel20 supermicro20 sun20 "
	    "opensesspriv,integritycheckvalue";
	is_int(ipmi_opts_check(&o, err, sizeof(err)), 0,
	    "every workaround name is known");
	o.ipmi_workarounds = "opensesspriv bogus";
	ok(ipmi_opts_check(&o, err, sizeof(err)) == -1 &&
	    strstr(err, "\"bogus\"") != NULL, "an unknown workaround is named");
	o = opts();
	o.ipmi_cipher = 0;
	ok(ipmi_opts_check(&o, err, sizeof(err)) == -1 &&
	    strstr(err, "cipher suite 0") != NULL, "cipher suite 0 refused");
	o = opts();
	o.ipmi_priv = "root";
	is_int(ipmi_opts_check(&o, err, sizeof(err)), -1,
	    "privilege root refused");
	o = opts();
	o.ipmi_version = 17;
	is_int(ipmi_opts_check(&o, err, sizeof(err)), -1,
	    "IPMI version 17 refused");
}

static void
test_ipmi(void)
{
	struct power_opts	 o = opts();
	struct call		 c;
	char			 bmc[3][PATH_MAX], path[PATH_MAX + 8];
	int			 i;

	for (i = 0; i < 3; i++)
		snprintf(bmc[i], sizeof(bmc[i]), "%s/ipmi/bmc%d", tmp, i + 1);

	c = ipmi(1, PASS, &o, POWER_STAT);
	succeeds(&c, "ipmi stat");
	is_int(c.st, POWER_IS_OFF, "a new BMC's chassis is off");
	c = ipmi(1, PASS, &o, POWER_ON);
	succeeds(&c, "ipmi on");
	is_str(slurp("%s/power", bmc[0]), "1", "on: the simulator's power is 1");
	c = ipmi(1, PASS, &o, POWER_STAT);
	ok(c.rc == 0 && c.st == POWER_IS_ON, "stat reads it back: on");
	c = ipmi(1, PASS, &o, POWER_OFF);
	succeeds(&c, "ipmi off");
	is_str(slurp("%s/power", bmc[0]), "0", "off: power is 0");
	is_str(slurp("%s/log", bmc[0]), "power 1\npower 0",
	    "the simulator saw power up, power down");
	c = ipmi(1, PASS, &o, POWER_STAT);
	ok(c.rc == 0 && c.st == POWER_IS_OFF, "stat reads it back: off");

	/* ipmi_sim cycles as off now, on a second later. */
	put("1\n", "%s/power", bmc[1]);
	put("", "%s/log", bmc[1]);
	c = ipmi(2, PASS, &o, POWER_CYCLE);
	succeeds(&c, "ipmi cycle");
	snprintf(path, sizeof(path), "%s/power", bmc[1]);
	ok(await("1", 3, path), "cycle: on again after it");
	is_str(slurp("%s/log", bmc[1]), "power 0\npower 1",
	    "cycle: off, then on");
	put("", "%s/log", bmc[1]);
	c = ipmi(2, PASS, &o, POWER_RESET);
	succeeds(&c, "ipmi reset");
	is_str(slurp("%s/log", bmc[1]), "reset 1", "reset: a hard reset");
	is_str(slurp("%s/power", bmc[1]), "1", "reset: power stays on");

	put("1\n", "%s/power", bmc[2]);
	c = ipmi(3, PASS, &o, POWER_SOFT);
	succeeds(&c, "ipmi soft");
	is_str(slurp("%s/log", bmc[2]), "shutdown 1", "soft: an ACPI shutdown");
	is_str(slurp("%s/power", bmc[2]), "0", "soft: the OS powered off");
	put("1\n", "%s/power", bmc[2]);
	put("ignore\n", "%s/soft", bmc[2]);
	c = ipmi(3, PASS, &o, POWER_SOFT);
	ok(c.rc == 0 && strcmp(slurp("%s/power", bmc[2]), "1") == 0,
	    "soft, ignored by the OS: still on");
	put("off\n", "%s/soft", bmc[2]);

	/* IPMI 1.5: ipmi_sim drops the first answer after activation, so
	 * each call costs one retransmission; the workaround is not needed. */
	o.ipmi_version = 15;
	o.ipmi_workarounds = NULL;
	c = ipmi(3, PASS, &o, POWER_ON);
	succeeds(&c, "ipmi 1.5 on");
	is_str(slurp("%s/power", bmc[2]), "1", "1.5 on: power is 1");
	c = ipmi(3, PASS, &o, POWER_STAT);
	ok(c.rc == 0 && c.st == POWER_IS_ON, "1.5 stat: on");
	o.timeout_ms = 1000;
	c = ipmi(3, WRONG, &o, POWER_STAT);
	fails(&c, "authentication failed", 1.0 + SLACK,
	    "1.5, wrong password");

	o = opts();
	c = ipmi(1, WRONG, &o, POWER_ON);
	fails(&c, "authentication failed (wrong user name or password)", 0.5,
	    "wrong password");
	is_str(slurp("%s/power", bmc[0]), "0", "wrong password: power untouched");
	o.ipmi_cipher = 0;
	c = ipmi(1, PASS, &o, POWER_ON);
	fails(&c, "cipher suite 0 refused", 0.1, "cipher suite 0");
	o = opts();
	o.ipmi_workarounds = NULL;
	c = ipmi(1, PASS, &o, POWER_STAT);
	fails(&c, "privilege operator", 0.5,
	    "ipmi_sim without opensesspriv");
	o = opts();
	o.ipmi_priv = "admin";
	c = ipmi(1, PASS, &o, POWER_STAT);
	succeeds(&c, "privilege admin");

	/* A failing chassis: ipmi_sim answers completion code 0xff. */
	put("", "%s/fail", bmc[0]);
	o = opts();
	c = ipmi(1, PASS, &o, POWER_ON);
	fails(&c, "power on failed: Unspecified error", 0.5,
	    "a failing chassis");
	ok(strstr(c.err, "completion code 0xff") != NULL,
	    "the completion code is given");
	sh("rm -f '%s/fail'", bmc[0]);

	/* A chassis slower than the timeout: no answer to the command. */
	put("3\n", "%s/delay", bmc[1]);
	o.timeout_ms = 1000;
	c = ipmi(2, PASS, &o, POWER_OFF);
	fails(&c, "no answer to power off within 1.0 s", 1.0 + SLACK,
	    "a slow chassis");
	put("0\n", "%s/delay", bmc[1]);

	o = opts();
	o.timeout_ms = 1000;
	c = ipmi(9, PASS, &o, POWER_STAT);
	fails(&c, "no answer within 1.0 s", 1.0 + SLACK, "a black hole");
	ok(c.secs >= 0.9, "a black hole is waited for (%.3f s)", c.secs);
	c = ipmi(60, PASS, &o, POWER_STAT);
	fails(&c, "refused (nothing listens on UDP port 623)", 0.2,
	    "nothing listening");
}

/* Start a Redfish BMC at net.last in dir; its port, or -1. */
static int
rf_start(const char *dir, int last, const char *more)
{
	const char	*url;

	url = capture("'%s/t/lib/redfish-bmc' start '%s/%s' --addr %s.%d "
	    "--systems 2 --user " USER " --pass '" PASS "' %s",
	    srcdir, tmp, dir, net, last, more);
	if (url == NULL || strrchr(url, ':') == NULL) {
		diag("redfish-bmc %s did not start", dir);
		return -1;
	}
	return atoi(strrchr(url, ':') + 1);
}

static void
test_redfish(void)
{
	struct power_opts	 o = opts();
	struct call		 c;
	char			 rf[PATH_MAX], rfs[PATH_MAX], rfnc[PATH_MAX];
	char			 cert[PATH_MAX], tls[2 * PATH_MAX + 16];
	int			 port, sport, slowport, ncport;

	snprintf(rf, sizeof(rf), "%s/rf", tmp);
	snprintf(rfs, sizeof(rfs), "%s/rfs", tmp);
	snprintf(rfnc, sizeof(rfnc), "%s/rfnc", tmp);
	snprintf(cert, sizeof(cert), "%s/cert.pem", tmp);
	if (sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
	    "-keyout '%s/key.pem' -out '%s' -subj /CN=%s.22 "
	    "-addext subjectAltName=IP:%s.22 2>/dev/null", tmp, cert, net,
	    net) != 0)
		diag("openssl could not make a certificate");
	snprintf(tls, sizeof(tls), "--tls '%s' '%s/key.pem'", cert, tmp);
	port = rf_start("rf", 21, "");
	sport = rf_start("rfs", 22, tls);
	slowport = rf_start("rfslow", 23, "--delay 3");
	ncport = rf_start("rfnc", 24, "--allow On,ForceOff,GracefulShutdown");
	if (port == -1 || sport == -1 || slowport == -1 || ncport == -1) {
		ok(0, "the Redfish BMCs start");
		return;
	}

	c = redfish("redfish+http", 21, port, NULL, PASS, &o, POWER_STAT);
	succeeds(&c, "redfish stat");
	is_int(c.st, POWER_IS_OFF, "a new system is off");
	c = redfish("redfish+http", 21, port, NULL, PASS, &o, POWER_ON);
	succeeds(&c, "redfish on");
	is_str(slurp("%s/system1.power", rf), "On", "on: the first system is On");
	is_str(slurp("%s/system2.power", rf), "Off", "on: the second is not");
	c = redfish("redfish+http", 21, port, NULL, PASS, &o, POWER_STAT);
	ok(c.rc == 0 && c.st == POWER_IS_ON, "stat reads it back: on");
	c = redfish("redfish+http", 21, port, NULL, PASS, &o, POWER_ON);
	ok(c.rc == 0 && c.st == POWER_IS_ON, "on when on: succeeds, says on");
	c = redfish("redfish+http", 21, port, NULL, PASS, &o, POWER_CYCLE);
	succeeds(&c, "redfish cycle");
	c = redfish("redfish+http", 21, port, NULL, PASS, &o, POWER_RESET);
	succeeds(&c, "redfish reset");
	c = redfish("redfish+http", 21, port, NULL, PASS, &o, POWER_SOFT);
	succeeds(&c, "redfish soft");
	is_str(slurp("%s/system1.power", rf), "Off", "soft: Off");
	c = redfish("redfish+http", 21, port, NULL, PASS, &o, POWER_OFF);
	ok(c.rc == 0 && c.st == POWER_IS_OFF, "off when off: succeeds, says off");
	is_str(slurp("%s/system1.log", rf),
	    "On\nPowerCycle\nForceRestart\nGracefulShutdown",
	    "the ResetTypes sent, nothing for on when on or off when off");
	put("On\n", "%s/system1.power", rf);
	c = redfish("redfish+http", 21, port, NULL, PASS, &o, POWER_OFF);
	succeeds(&c, "redfish off");
	is_str(slurp("%s/system1.power", rf), "Off", "off: Off");

	c = redfish("redfish+http", 21, port, "Systems/2", PASS, &o, POWER_ON);
	succeeds(&c, "a system named in the URI");
	is_str(slurp("%s/system2.power", rf), "On", "that system is On");
	c = redfish("redfish+http", 21, port, "/redfish/v1/Systems/2", PASS,
	    &o, POWER_STAT);
	ok(c.rc == 0 && c.st == POWER_IS_ON, "an absolute system path");
	c = redfish("redfish+http", 21, port, "Systems/9", PASS, &o,
	    POWER_STAT);
	fails(&c, "/redfish/v1/Systems/9 not found", 0.5, "no such system");
	c = redfish("redfish+http", 21, port, "Systems/1 x", PASS, &o,
	    POWER_STAT);
	fails(&c, "not a plain URL path", 0.1, "a path with a space");

	c = redfish("redfish+http", 21, port, NULL, WRONG, &o, POWER_ON);
	fails(&c, "authentication failed (wrong user name or password)", 0.5,
	    "redfish, wrong password");

	c = redfish("redfish", 22, sport, NULL, PASS, &o, POWER_ON);
	fails(&c, "certificate not trusted", 0.5, "a self-signed certificate");
	is_str(slurp("%s/system1.power", rfs), "Off",
	    "untrusted: nothing was sent");
	o.ca_bundle = cert;
	c = redfish("redfish", 22, sport, NULL, PASS, &o, POWER_ON);
	succeeds(&c, "trusted through ca_bundle");
	is_str(slurp("%s/system1.power", rfs), "On", "https on: On");
	o.ca_bundle = NULL;
	o.tls_verify = 0;
	c = redfish("redfish", 22, sport, NULL, PASS, &o, POWER_STAT);
	ok(c.rc == 0 && c.st == POWER_IS_ON, "tls_verify off: no CA needed");
	o = opts();
	c = redfish("redfish", 21, port, NULL, PASS, &o, POWER_STAT);
	fails(&c, "TLS handshake failed", 0.5, "https to a plain HTTP BMC");

	/* No PowerCycle offered: ForceOff, then On. */
	put("On\n", "%s/system1.power", rfnc);
	c = redfish("redfish+http", 24, ncport, NULL, PASS, &o, POWER_CYCLE);
	succeeds(&c, "cycle without PowerCycle");
	is_str(slurp("%s/system1.log", rfnc), "ForceOff\nOn",
	    "cycle: ForceOff, then On");
	c = redfish("redfish+http", 24, ncport, NULL, PASS, &o, POWER_RESET);
	fails(&c, "does not offer ResetType ForceRestart", 0.5,
	    "a ResetType the BMC lacks");

	o.timeout_ms = 1000;
	c = redfish("redfish+http", 23, slowport, NULL, PASS, &o, POWER_STAT);
	fails(&c, "no answer within 1.0 s", 1.0 + SLACK, "a slow Redfish BMC");
	c = redfish("redfish+http", 60, 1, NULL, PASS, &o, POWER_STAT);
	fails(&c, "connection refused", 0.2, "nothing listening on TCP");
}

/* The tests proper, in the child. */
static int
run(void)
{
	const char	*line;

	line = capture("'%s/t/lib/bmc-sim' start '%s/ipmi' 3 " USER " '" PASS
	    "' --addr %s.1 | tail -n 1", srcdir, tmp, net);
	if (line == NULL ||
	    sh("'%s/t/lib/bmc-sim' blackhole '%s/ipmi' %s.9 623 >/dev/null",
	    srcdir, tmp, net) != 0) {
		ok(0, "the simulated BMCs start");
		return done_testing();
	}
	test_options();
	test_ipmi();
	test_redfish();
	is_int(leaks, 0, "no reason ever held a password");
	return done_testing();
}

static volatile sig_atomic_t	 stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

/* Why this machine cannot run the test, or NULL. */
static const char *
cannot_run(void)
{
	char	 path[PATH_MAX + 32];

	if (geteuid() != 0)
		return "needs root (ipmi_sim binds UDP port 623)";
	if (sh("command -v ipmi_sim >/dev/null") != 0)
		return "ipmi_sim not installed (Debian: openipmi)";
	if (sh("command -v python3 >/dev/null && command -v openssl "
	    ">/dev/null && command -v perl >/dev/null") != 0)
		return "needs python3, openssl and perl";
	snprintf(path, sizeof(path), "%s/t/lib/bmc-sim", srcdir);
	if (access(path, X_OK) == -1)
		return "t/lib/bmc-sim not found (set CORRAL_SRCDIR)";
	return NULL;
}

int
main(int argc, char **argv)
{
	const char	*why, *env;
	char		 here[PATH_MAX - 8];
	pid_t		 pid;
	double		 end;
	int		 status = 0, rc;

	/* The source tree: CORRAL_SRCDIR (make check), or ../.. from here. */
	if ((env = getenv("CORRAL_SRCDIR")) != NULL && *env != '\0')
		snprintf(srcdir, sizeof(srcdir), "%s", env);
	else {
		snprintf(here, sizeof(here), "%s", argc > 0 ? argv[0] : ".");
		if (strrchr(here, '/') != NULL)
			*strrchr(here, '/') = '\0';
		else
			snprintf(here, sizeof(here), ".");
		snprintf(srcdir, sizeof(srcdir), "%s/../..", here);
	}
	if (strchr(srcdir, '\'') != NULL) {
		printf("1..0 # SKIP a quote in the source path\n");
		return 0;
	}
	if ((why = cannot_run()) != NULL) {
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "/tmp/corral-bmc.XXXXXX");
	if (mkdtemp(tmp) == NULL) {
		printf("1..0 # SKIP mkdtemp: %s\n", strerror(errno));
		return 0;
	}
	/* Addresses of our own, so that parallel runs do not meet. */
	snprintf(net, sizeof(net), "127.77.%d", (int)(getpid() % 250) + 1);

	fflush(stdout);
	if ((pid = fork()) == -1) {
		printf("1..0 # SKIP fork: %s\n", strerror(errno));
		return 0;
	}
	if (pid == 0)
		_exit(run());

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	end = now() + CHILD_LIMIT;
	while ((rc = waitpid(pid, &status, WNOHANG)) == 0 ||
	    (rc == -1 && errno == EINTR)) {
		if (stop_signal || now() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fprintf(stderr, "# %s: killed the tests\n", stop_signal ?
			    "signal" : "time limit");
			status = 0xff00;	/* exit status 255 */
			break;
		}
		nap(0.05);
	}
	sh("'%s/t/lib/bmc-sim' stop '%s/ipmi'", srcdir, tmp);
	sh("for d in rf rfs rfslow rfnc; do '%s/t/lib/redfish-bmc' stop "
	    "'%s'/$d; done", srcdir, tmp);
	sh("rm -rf '%s'", tmp);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}
