/*
 * Tests of ssh_exec against a real OpenSSH server (t/lib/sshd-node) on a
 * loopback address: first contact learns the host key, the known key is
 * checked, stdin, exit statuses (255 included), stderr, a 50 MB output
 * streamed with a small RSS, the time limit, the output cap, a changed
 * host key refused before anything runs, a refused login, and a port
 * that is closed or never answers.  Skips everything when sshd is not
 * installed.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"
#include "../tap.h"

#define NODE_ADDR	"127.0.2.1"
#define ALIAS		"0123456789abcdef0123456789abcdef"	/* a node UID */
#define BIG		52428800LL	/* 50 MB */
#define STDIN_LEN	(1024 * 1024)
#define RSS_MAX_KB	(32 * 1024)	/* the whole test, at its peak */
#define SLACK		3.0		/* s a kill may take beyond a limit */

static char	 tmp[] = "/tmp/corral-ssh-t.XXXXXX";
static char	 helper[4096], node[4200], key[4200], outpath[4200];
static char	 sshtmp[4200];
static int	 node_up;
static int	 outfd = -1;

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run argv (no shell) and return its exit status, or -1. */
static int
run(char *const argv[])
{
	pid_t	 pid;
	int	 st;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* t/lib/sshd-node verb dir [args...] */
static int
sshd_node(const char *verb, const char *a1, const char *a2, const char *a3)
{
	char	*argv[] = { helper, (char *)(uintptr_t)verb, node,
	    (char *)(uintptr_t)a1, (char *)(uintptr_t)a2,
	    (char *)(uintptr_t)a3, NULL };

	return run(argv);
}

static void
cleanup(void)
{
	char	 rm[] = "/bin/rm", rf[] = "-rf";
	char	*argv[] = { rm, rf, tmp, NULL };

	if (node_up)
		(void)sshd_node("stop", NULL, NULL, NULL);
	node_up = 0;
	if (outfd != -1)
		close(outfd);
	outfd = -1;
	if (getenv("CORRAL_KEEP") == NULL)
		(void)run(argv);
}

/* A TCP port on NODE_ADDR nobody listens on now; lfd >= 0 keeps it bound. */
static int
free_port(int listen_too, int *lfd)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, port;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, NODE_ADDR, &sin.sin_addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1 ||
	    (listen_too && listen(fd, 8) == -1)) {
		close(fd);
		return -1;
	}
	port = ntohs(sin.sin_port);
	if (listen_too)
		*lfd = fd;
	else
		close(fd);
	return port;
}

/* Empty the output file. */
static void
out_reset(void)
{
	if (ftruncate(outfd, 0) == -1 || lseek(outfd, 0, SEEK_SET) == -1)
		diag("out_reset: %s", strerror(errno));
}

/* The output file's text (at most a few kB). */
static const char *
out_text(void)
{
	static char	 buf[8192];
	ssize_t		 n;

	n = pread(outfd, buf, sizeof(buf) - 1, 0);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static long long
out_size(void)
{
	struct stat	 st;

	return fstat(outfd, &st) == -1 ? -1 : (long long)st.st_size;
}

static long
maxrss_kb(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Whether dir has no entries. */
static int
dir_empty(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n == 0;
}

/* One ssh_exec into the output file, emptied first; prints err if any. */
static int
exec1(const struct ssh_target *t, const struct ssh_opts *o, const char *cmd,
    const char *in, size_t inlen, struct ssh_result *res, char *err,
    size_t errsz)
{
	int	 rc;

	out_reset();
	rc = ssh_exec(t, o, cmd, in, inlen, outfd, res, err, errsz);
	if (*err != '\0')
		diag("%s: %s", cmd, err);
	return rc;
}

int
main(void)
{
	struct ssh_target	 t;
	struct ssh_opts		 o;
	struct ssh_result	 res;
	struct passwd		*pw;
	const char		*srcdir;
	char			 err[512], pub[4300], port[16], marker[4300];
	char			 cmd[4400], key2[4300], other[16], want[64];
	char			*learned = NULL, *learned2 = NULL, *in = NULL;
	double			 t0, dt;
	long			 rss;
	size_t			 i;
	int			 rc, lfd = -1, silent, nport;

	if (access("/usr/sbin/sshd", X_OK) == -1 ||
	    access("/usr/bin/ssh", X_OK) == -1 ||
	    access("/usr/bin/ssh-keygen", X_OK) == -1) {
		printf("1..0 # SKIP OpenSSH's sshd/ssh not installed "
		    "(apt-get install openssh-server openssh-client)\n");
		return 0;
	}
	if ((srcdir = getenv("CORRAL_SRCDIR")) == NULL)
		srcdir = ".";
	snprintf(helper, sizeof(helper), "%s/t/lib/sshd-node", srcdir);
	if (access(helper, X_OK) == -1) {
		printf("1..0 # SKIP %s not found (set CORRAL_SRCDIR)\n", helper);
		return 0;
	}
	if (mkdtemp(tmp) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	atexit(cleanup);
	snprintf(node, sizeof(node), "%s/node", tmp);
	snprintf(key, sizeof(key), "%s/id_ed25519", tmp);
	snprintf(key2, sizeof(key2), "%s/other_ed25519", tmp);
	snprintf(pub, sizeof(pub), "%s.pub", key);
	snprintf(outpath, sizeof(outpath), "%s/out", tmp);
	snprintf(marker, sizeof(marker), "%s/marker", tmp);
	/* ssh_exec's temporary directories go here, to be seen removed. */
	snprintf(sshtmp, sizeof(sshtmp), "%s/tmp", tmp);
	mkdir(sshtmp, 0700);
	setenv("TMPDIR", sshtmp, 1);
	if ((outfd = open(outpath, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1) {
		printf("Bail out! %s: %s\n", outpath, strerror(errno));
		return 1;
	}
	if ((pw = getpwuid(getuid())) == NULL) {
		printf("Bail out! no passwd entry for uid %ld\n", (long)getuid());
		return 1;
	}

	/* ---- the key */
	is_int(ssh_key_ensure(key, err, sizeof(err)), 0, "key: made");
	ok(access(key, R_OK) == 0 && access(pub, R_OK) == 0,
	    "key: private and public files exist");
	is_int(ssh_key_ensure(key, err, sizeof(err)), 0, "key: kept when it "
	    "exists");
	unlink(pub);
	is_int(ssh_key_ensure(key, err, sizeof(err)), 0, "key: .pub remade");
	ok(access(pub, R_OK) == 0, "key: .pub exists again");
	is_int(ssh_key_ensure("-x/k", err, sizeof(err)), -1,
	    "key: a path ssh would misread is refused");

	/* ---- the node */
	nport = free_port(0, NULL);
	snprintf(port, sizeof(port), "%d", nport);
	rc = sshd_node("start", NODE_ADDR, port, pub);
	if (!is_int(rc, 0, "sshd-node starts on %s:%s", NODE_ADDR, port)) {
		printf("Bail out! sshd-node did not start\n");
		return 1;
	}
	node_up = 1;

	memset(&t, 0, sizeof(t));
	t.host = NODE_ADDR;
	t.port = nport;
	t.user = pw->pw_name;
	t.alias = ALIAS;
	memset(&o, 0, sizeof(o));
	o.key = key;
	o.connect_timeout = 2;
	o.stderr_mode = SSH_STDERR_MERGE;

	/* ---- first contact, then the known key */
	rc = exec1(&t, &o, "echo corral-$((6 * 7))", NULL, 0, &res, err,
	    sizeof(err));
	is_int(rc, 0, "first contact: ran");
	is_int(res.exit_status, 0, "first contact: exit status 0");
	is_str(out_text(), "corral-42\n", "first contact: output (a shell "
	    "on the node ran it), no login banner");
	is_int(res.out_bytes, 10, "first contact: out_bytes");
	ok(res.learned != NULL && strncmp(res.learned, ALIAS " ssh-ed25519 ",
	    strlen(ALIAS) + 13) == 0 && strchr(res.learned, '\n') == NULL,
	    "first contact: learned one line for the alias");
	learned = res.learned;
	res.learned = NULL;
	ssh_result_free(&res);

	t.known = learned;
	rc = exec1(&t, &o, "echo again", NULL, 0, &res, err, sizeof(err));
	is_int(rc, 0, "known key: ran");
	is_str(out_text(), "again\n", "known key: output");
	ok(res.learned == NULL, "known key: nothing learned");
	ssh_result_free(&res);

	/* One round trip (connect, key exchange, login, command, exit). */
	t0 = now();
	for (i = 0; i < 5; i++) {
		rc = exec1(&t, &o, "true", NULL, 0, &res, err, sizeof(err));
		ssh_result_free(&res);
		if (rc != 0)
			break;
	}
	dt = (now() - t0) / 5 * 1000;
	ok(i == 5, "round trip: 5 runs of true");
	diag("one ssh_exec round trip on loopback: %.0f ms", dt);

	/* ---- stdin */
	in = xmalloc(STDIN_LEN);
	for (i = 0; i < STDIN_LEN; i++)
		in[i] = (char)('a' + i % 26);
	rc = exec1(&t, &o, "wc -c", in, STDIN_LEN, &res, err, sizeof(err));
	is_int(rc, 0, "stdin: ran");
	snprintf(want, sizeof(want), "%d\n", STDIN_LEN);
	is_str(out_text(), want, "stdin: wc -c saw all 1 MB");
	ssh_result_free(&res);
	rc = exec1(&t, &o, "cat", in, STDIN_LEN, &res, err, sizeof(err));
	is_int(res.out_bytes, STDIN_LEN, "stdin: cat echoed 1 MB while "
	    "reading it (no deadlock)");
	{
		char	*back = xmalloc(STDIN_LEN);

		ok(pread(outfd, back, STDIN_LEN, 0) == STDIN_LEN &&
		    memcmp(back, in, STDIN_LEN) == 0, "stdin: same bytes back");
		free(back);
	}
	ssh_result_free(&res);
	rc = exec1(&t, &o, "echo ignored", in, STDIN_LEN, &res, err,
	    sizeof(err));
	ok(rc == 0 && res.exit_status == 0, "stdin: a command that does not "
	    "read it still ends");
	ssh_result_free(&res);

	/* ---- exit statuses */
	rc = exec1(&t, &o, "echo x; exit 3", NULL, 0, &res, err, sizeof(err));
	ok(rc == 0 && res.exit_status == 3, "exit 3 is reported as 3");
	ssh_result_free(&res);
	rc = exec1(&t, &o, "exit 255", NULL, 0, &res, err, sizeof(err));
	ok(rc == 0 && res.exit_status == 255, "exit 255 is the command's, "
	    "not ssh failing");
	ssh_result_free(&res);
	rc = exec1(&t, &o, "kill -9 $$", NULL, 0, &res, err, sizeof(err));
	ok(rc == 0 && res.exit_status == -1 && strstr(err, "signal") != NULL,
	    "killed by a signal on the node: ran, no status, says so");
	ssh_result_free(&res);

	/* ---- stderr */
	rc = exec1(&t, &o, "echo out; sleep 0.1; echo err >&2", NULL, 0, &res,
	    err, sizeof(err));
	is_str(out_text(), "out\nerr\n", "stderr: merged");
	ssh_result_free(&res);
	o.stderr_mode = SSH_STDERR_DISCARD;
	rc = exec1(&t, &o, "echo out; echo err >&2", NULL, 0, &res, err,
	    sizeof(err));
	is_str(out_text(), "out\n", "stderr: discarded");
	ssh_result_free(&res);
	o.stderr_mode = SSH_STDERR_MERGE;

	/* ---- 50 MB, streamed */
	t0 = now();
	rc = exec1(&t, &o, "head -c 52428800 /dev/zero", NULL, 0, &res, err,
	    sizeof(err));
	dt = now() - t0;
	ok(rc == 0 && res.exit_status == 0, "50 MB: ran");
	is_int(res.out_bytes, BIG, "50 MB: out_bytes");
	is_int(out_size(), BIG, "50 MB: all in the file");
	rss = maxrss_kb();
	ok(rss < RSS_MAX_KB, "50 MB: the test's peak RSS stays small "
	    "(%ld kB)", rss);
	diag("50 MB in %.2f s", dt);
	ssh_result_free(&res);
	out_reset();

	/* ---- time limit */
	o.time_limit = 1.0;
	t0 = now();
	rc = exec1(&t, &o, "sleep 30", NULL, 0, &res, err, sizeof(err));
	dt = now() - t0;
	ok(rc == 0 && res.timed_out && res.exit_status == -1,
	    "time limit: ended, flagged, no status");
	ok(dt < o.time_limit + SLACK, "time limit: within 1 s + slack "
	    "(%.2f s)", dt);
	ssh_result_free(&res);
	o.time_limit = 0;

	/* ---- output cap */
	o.max_output = 10000;
	rc = exec1(&t, &o, "head -c 1000000 /dev/zero; sleep 30", NULL, 0,
	    &res, err, sizeof(err));
	ok(rc == 0 && res.truncated && !res.timed_out, "max_output: ended "
	    "and flagged");
	is_int(res.out_bytes, 10000, "max_output: exactly the cap written");
	is_int(out_size(), 10000, "max_output: exactly the cap in the file");
	ssh_result_free(&res);
	o.max_output = 5;
	rc = exec1(&t, &o, "printf 12345", NULL, 0, &res, err, sizeof(err));
	ok(rc == 0 && !res.truncated && res.exit_status == 0 &&
	    res.out_bytes == 5, "max_output: output of exactly the cap is "
	    "not truncated");
	ssh_result_free(&res);
	o.max_output = 0;

	/* ---- bad arguments never reach ssh */
	t.host = "-oProxyCommand=touch /tmp/x";
	rc = ssh_exec(&t, &o, "true", NULL, 0, outfd, &res, err, sizeof(err));
	ok(rc == -1 && strcmp(err, "invalid host address") == 0,
	    "an option as host is refused");
	ssh_result_free(&res);
	t.host = NODE_ADDR;
	t.known = "someone-else ssh-ed25519 AAAA";
	rc = ssh_exec(&t, &o, "true", NULL, 0, outfd, &res, err, sizeof(err));
	ok(rc == -1 && strcmp(err, "invalid known host key of " ALIAS) == 0,
	    "a known line for another alias is refused");
	ssh_result_free(&res);
	t.known = learned;

	/* ---- a changed host key */
	is_int(sshd_node("rekey", NULL, NULL, NULL), 0, "sshd-node: new host "
	    "key");
	snprintf(cmd, sizeof(cmd), "touch %s", marker);
	rc = exec1(&t, &o, cmd, NULL, 0, &res, err, sizeof(err));
	is_int(rc, -1, "changed key: refused");
	is_str(err, "host key of " ALIAS " changed; an admin must clear it "
	    "with DELETE /node/" ALIAS "/hostkey", "changed key: the reason");
	ok(access(marker, F_OK) == -1 && errno == ENOENT,
	    "changed key: the command did not run");
	ok(res.learned == NULL, "changed key: nothing learned");
	ssh_result_free(&res);

	t.known = NULL;
	rc = exec1(&t, &o, cmd, NULL, 0, &res, err, sizeof(err));
	ok(rc == 0 && access(marker, F_OK) == 0, "cleared key: runs again");
	ok(res.learned != NULL && strcmp(res.learned, learned) != 0,
	    "cleared key: learns the new key");
	learned2 = res.learned;
	res.learned = NULL;
	ssh_result_free(&res);
	t.known = learned2;

	/* ---- a key the node does not accept */
	is_int(ssh_key_ensure(key2, err, sizeof(err)), 0, "other key: made");
	o.key = key2;
	rc = exec1(&t, &o, "true", NULL, 0, &res, err, sizeof(err));
	snprintf(want, sizeof(want), "%s refused corral's key for user %s",
	    NODE_ADDR, pw->pw_name);
	ok(rc == -1 && strcmp(err, want) == 0, "other key: login refused, "
	    "and said so");
	ssh_result_free(&res);
	o.key = key;

	/* ---- nobody there */
	snprintf(other, sizeof(other), "%d", free_port(0, NULL));
	t.port = atoi(other);
	t0 = now();
	rc = exec1(&t, &o, "true", NULL, 0, &res, err, sizeof(err));
	dt = now() - t0;
	snprintf(want, sizeof(want), "%s port %s refused the connection",
	    NODE_ADDR, other);
	ok(rc == -1 && strcmp(err, want) == 0, "closed port: the reason");
	ok(dt < o.connect_timeout, "closed port: at once (%.2f s)", dt);
	ssh_result_free(&res);

	/* A listener that never speaks: ConnectTimeout covers the banner. */
	silent = free_port(1, &lfd);
	t.port = silent;
	t0 = now();
	rc = exec1(&t, &o, "true", NULL, 0, &res, err, sizeof(err));
	dt = now() - t0;
	snprintf(want, sizeof(want), "no answer from %s port %d within 2 s",
	    NODE_ADDR, silent);
	ok(rc == -1 && strcmp(err, want) == 0, "silent port: the reason");
	ok(dt < o.connect_timeout + SLACK, "silent port: within "
	    "connect_timeout (%.2f s)", dt);
	ssh_result_free(&res);
	if (lfd != -1)
		close(lfd);

	ok(dir_empty(sshtmp), "every run removed its temporary directory");

	free(in);
	free(learned);
	free(learned2);
	cleanup();
	return done_testing();
}
