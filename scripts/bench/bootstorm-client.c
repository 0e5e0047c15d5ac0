/*
 * The load client of scripts/bench/bootstorm: many simulated iPXE clients
 * at once, each from its own loopback address, on libcurl's multi
 * interface (one process, one thread, no fork per client; sockets in one
 * epoll set, curl_multi_socket_action).
 *
 *   bootstorm-client storm  -f NODES -u BASEURL [options]
 *   bootstorm-client static -f NODES -K URL -I URL [options]
 *   bootstorm-client probe  -u URL -H HEADER [-p MS] [-d SECONDS]
 *
 * NODES has one client a line, "ADDRESS MAC" (127.0.x.y 52:54:..).
 *
 * storm: each client does what iPXE does with corral's script: GET
 * BASEURL/api/v1/boot/ipxe/<MAC>; a script with kernel and initrd lines
 * makes it GET the kernel, then the initramfs (as iPXE does, one after
 * the other), counting the bytes against Content-Length (and -k/-i when
 * given); a 503 on a file (nginx's limit_conn) makes it sleep the
 * script's N/-s seconds and fetch the same link again, up to FILE_TRIES
 * tries as the script does, then start again with the script; a wait
 * script ("sleep N", "chain URL": admission control, an unknown MAC) or
 * a 429 makes it sleep N/-s seconds and ask for the script again.  Each
 * is counted as a retry.  Anything else is a failure and the
 * client stops.
 * static: the same two files from fixed URLs, same addresses and
 * concurrency, no script and no retries: nginx's baseline.
 * probe: an admin's GET every -p ms (20) over one kept-alive connection
 * until SIGTERM/SIGINT or -d seconds; prints its latencies.
 *
 * Prints one "key value" a line on stdout for the bench script; storm and
 * static add where the wall time went: the mean number of downloads in
 * flight, when half and 90 % of the clients were done, and the client's
 * own CPU seconds.  -T FILE writes a line a second (done, downloading,
 * sleeping, MiB/s of that second).  -w BYTES sets each connection's
 * SO_RCVBUF (the kernel doubles it; about half is the window).  -F
 * opens a new connection for every request (else kept alive, as iPXE
 * does, until the initramfs).
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define SCRIPT_MAX	65536
#define EVENTS		256	/* epoll events a wake-up */
#define FILE_TRIES	4	/* as fcgi/api_boot.c's BOOT_FETCH_TRIES */

enum step { S_SCRIPT, S_KERNEL, S_INITRD, S_WAIT, S_DONE, S_FAILED };

struct client {
	char		 iface[64];	/* "host!127.0.x.y" */
	char		 mac[32];
	char		*script_url;	/* what the next script GET asks */
	char		*kernel;	/* links of the last script */
	char		*initrd;
	double		 retry_s;	/* the last script's sleep, seconds */
	enum step	 step;
	double		 wake;		/* S_WAIT: when to start again */
	enum step	 resume;	/* S_WAIT: with which step */
	unsigned	 ftries;	/* tries of the current file */
	CURL		*h;
	struct curl_slist *resolve;	/* its own host name's address */
	char		*buf;		/* the script's body */
	size_t		 len;
	uint64_t	 got;		/* bytes of the current file */
	unsigned	 retries;
};

static const char *mode;
static double	 sleep_div = 10;
static long	 timeout_s = 600;
static uint64_t	 want_k, want_i;	/* expected sizes, 0: any */
static uint64_t	 bytes_total;	/* of files received whole */
static uint64_t	 bytes_recv;	/* as they arrive, for the timeline */
static unsigned	 scripts, scripts_wait, retries, failures, done;
static unsigned	 fail_shown;
static unsigned	 refused, fetched;	/* file answers: 503/429, 200 */
static double	 refused_s, fetched_s;	/* their summed times */
static double	 refused_conn_s;	/* the connects' part of refused_s */
static double	 refused_pre_s;		/* until the request was sent */
static unsigned	 refused_new;		/* refusals on a new connection */
static double	 t_start;		/* when the clients started */
static double	 t_half, t_ninety;	/* when 50 % and 90 % were done */
static size_t	 nclients;
static const char *timeline;		/* -T: one line a second, or NULL */
static int	 rcvbuf;		/* -w: SO_RCVBUF, 0: the kernel's */
static long	 fresh;			/* -F: a new connection per request */
static volatile sig_atomic_t stop;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bootstorm-client storm -f NODES -u BASEURL "
	    "[-s DIV] [-k BYTES] [-i BYTES] [-t SECONDS] [-T FILE] [-w BYTES] [-F]\n"
	    "       bootstorm-client static -f NODES -K URL -I URL "
	    "[-k BYTES] [-i BYTES] [-t SECONDS] [-T FILE] [-w BYTES] [-F]\n"
	    "       bootstorm-client probe -u URL -H HEADER [-p MS] "
	    "[-d SECONDS]\n");
	exit(2);
}

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL) {
		perror("strdup");
		exit(1);
	}
	return p;
}

/* A file's bytes are counted and dropped. */
static size_t
discard(char *p, size_t sz, size_t n, void *arg)
{
	struct client	*c = arg;

	(void)p;
	c->got += sz * n;
	bytes_recv += sz * n;
	return sz * n;
}

/* A script is kept (it is small; more than SCRIPT_MAX is an error). */
static size_t
keep(char *p, size_t sz, size_t n, void *arg)
{
	struct client	*c = arg;

	if (c->len + sz * n > SCRIPT_MAX)
		return 0;
	memcpy(c->buf + c->len, p, sz * n);
	c->len += sz * n;
	c->buf[c->len] = '\0';
	return sz * n;
}

static void
fail(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The client stops; the first few reasons go to stderr. */
static void
fail(struct client *c, const char *fmt, ...)
{
	va_list	 ap;

	c->step = S_FAILED;
	failures++;
	if (fail_shown++ < 10) {
		fprintf(stderr, "bootstorm-client: %s (%s): ", c->iface + 5,
		    c->mac);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

/* Start the request of the client's step on the multi handle. */
static void
start(CURLM *m, struct client *c)
{
	const char	*url;

	curl_multi_remove_handle(m, c->h);
	c->got = 0;
	c->len = 0;
	c->buf[0] = '\0';
	if (c->step == S_SCRIPT) {
		url = c->script_url;
		curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, keep);
	} else {
		url = c->step == S_KERNEL ? c->kernel : c->initrd;
		curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, discard);
	}
	/* A node that has its initramfs boots it: its connection goes. */
	curl_easy_setopt(c->h, CURLOPT_FORBID_REUSE,
	    fresh || c->step == S_INITRD ? 1L : 0L);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_multi_add_handle(m, c->h);
}

/* Sleep as the script says (scaled down), then ask for a script again. */
static void
retry_later(struct client *c, double secs)
{
	c->retries++;
	retries++;
	c->step = S_WAIT;
	c->resume = S_SCRIPT;
	c->ftries = 0;
	c->wake = now() + secs / sleep_div;
}

/*
 * The script's own retry of a refused file: the same link after its
 * sleep, FILE_TRIES tries in all, then "goto retry" (a fresh script).
 */
static void
retry_file(struct client *c)
{
	enum step	 was = c->step;

	if (++c->ftries >= FILE_TRIES) {
		retry_later(c, c->retry_s);
		return;
	}
	c->retries++;
	retries++;
	c->step = S_WAIT;
	c->resume = was;
	c->wake = now() + c->retry_s / sleep_div;
}

/*
 * The first word after "word " on the first line of s that starts with
 * it (last: the line's last word instead), or NULL.
 */
static char *
line_arg(const char *s, const char *word, int last)
{
	const char	*p, *e, *w;
	size_t		 n = strlen(word);

	for (p = s; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL) {
		if (strncmp(p, word, n) != 0 || p[n] != ' ')
			continue;
		p += n + 1;
		e = p + strcspn(p, last ? "\n" : " \t\r\n");
		if (last) {
			while (e > p && isspace((unsigned char)e[-1]))
				e--;
			for (w = e; w > p && w[-1] != ' '; w--)
				;
			p = w;
		}
		return strndup(p, e - p);
	}
	return NULL;
}

/* What a script says: boot (links) or wait (sleep, chain). */
static void
script_done(struct client *c)
{
	char	*sl, *ch = NULL;
	double	 secs;

	free(c->kernel);
	free(c->initrd);
	c->kernel = line_arg(c->buf, "kernel", 0);
	c->initrd = line_arg(c->buf, "initrd", 0);
	sl = line_arg(c->buf, "sleep", 0);
	secs = sl != NULL ? atof(sl) : 0;
	c->retry_s = secs > 0 ? secs : 5;
	if (strncmp(c->buf, "#!ipxe\n", 7) != 0) {
		fail(c, "script does not start #!ipxe: %.80s", c->buf);
		goto out;
	}
	if (c->kernel != NULL && c->initrd != NULL) {
		c->step = S_KERNEL;
		goto out;
	}
	/* A wait script: "sleep N", "chain --replace --autofree URL". */
	if ((ch = line_arg(c->buf, "chain", 1)) == NULL || sl == NULL) {
		fail(c, "script neither boots nor waits: %.200s", c->buf);
		goto out;
	}
	free(c->script_url);
	c->script_url = ch;
	scripts_wait++;
	retry_later(c, secs);
out:
	free(sl);
}

/* One transfer of c ended: the next step. */
static void
finished(CURLM *m, struct client *c, CURLcode res)
{
	long		 code = 0;
	curl_off_t	 cl = -1;
	uint64_t	 want;
	double		 t = 0, ct = 0;
	long		 nc = 0;

	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(c->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	if (res != CURLE_OK) {
		fail(c, "%s: %s", c->step == S_SCRIPT ? "script" :
		    c->step == S_KERNEL ? "kernel" : "initrd",
		    curl_easy_strerror(res));
		return;
	}
	if (c->step == S_SCRIPT) {
		scripts++;
		if (code == 429 || code == 503) {
			retry_later(c, 5);
			curl_multi_remove_handle(m, c->h);
			return;
		}
		if (code != 200) {
			fail(c, "script: HTTP %ld: %.200s", code, c->buf);
			return;
		}
		script_done(c);
	} else {
		curl_easy_getinfo(c->h, CURLINFO_TOTAL_TIME, &t);
		if (code == 503 || code == 429) {
			refused++;
			refused_s += t;
			curl_easy_getinfo(c->h, CURLINFO_CONNECT_TIME, &ct);
			curl_easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &nc);
			refused_conn_s += ct;
			curl_easy_getinfo(c->h, CURLINFO_PRETRANSFER_TIME, &ct);
			refused_pre_s += ct;
			refused_new += nc > 0;
			/* the script's retry: the same link, then a fresh script */
			if (strcmp(mode, "static") == 0)
				fail(c, "static file: HTTP %ld", code);
			else
				retry_file(c);
			curl_multi_remove_handle(m, c->h);
			return;
		}
		want = c->step == S_KERNEL ? want_k : want_i;
		if (code != 200 || cl < 0 || (uint64_t)cl != c->got ||
		    (want != 0 && c->got != want)) {
			fail(c, "%s: HTTP %ld, %llu bytes, Content-Length %lld",
			    c->step == S_KERNEL ? "kernel" : "initrd", code,
			    (unsigned long long)c->got, (long long)cl);
			return;
		}
		bytes_total += c->got;
		fetched++;
		fetched_s += t;
		c->ftries = 0;
		if (c->step == S_KERNEL)
			c->step = S_INITRD;
		else {
			c->step = S_DONE;
			done++;
			/* The tail: how long the last 10 % took. */
			if (t_half == 0 && done * 2 >= nclients)
				t_half = now() - t_start;
			if (t_ninety == 0 && done * 10 >= nclients * 9)
				t_ninety = now() - t_start;
			curl_multi_remove_handle(m, c->h);
			return;
		}
	}
	if (c->step != S_WAIT && c->step != S_FAILED)
		start(m, c);
	else
		curl_multi_remove_handle(m, c->h);
}

/* The clients of NODES ("ADDRESS MAC" lines). */
static struct client *
read_nodes(const char *file, size_t *np)
{
	FILE		*f;
	char		 addr[48], mac[32];
	struct client	*v = NULL;
	size_t		 n = 0;

	if ((f = fopen(file, "r")) == NULL) {
		perror(file);
		exit(1);
	}
	while (fscanf(f, "%47s %31s", addr, mac) == 2) {
		if ((v = realloc(v, (n + 1) * sizeof(*v))) == NULL) {
			perror("realloc");
			exit(1);
		}
		memset(&v[n], 0, sizeof(v[n]));
		snprintf(v[n].iface, sizeof(v[n].iface), "host!%s", addr);
		snprintf(v[n].mac, sizeof(v[n].mac), "%s", mac);
		n++;
	}
	fclose(f);
	*np = n;
	return v;
}

/*
 * A client's receive buffer, as small as a firmware's: iPXE offers a
 * 256 KiB window.  Left to autotuning, every loopback connection grows
 * to megabytes, the sum of both ends passes the kernel's tcp_mem and
 * the storm measures dropped segments and retransmission timeouts.
 */
static int
sockopt_cb(void *arg, curl_socket_t s, curlsocktype purpose)
{
	(void)arg;
	if (purpose == CURLSOCKTYPE_IPCXN && rcvbuf > 0 &&
	    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) == -1)
		perror("SO_RCVBUF");
	return CURL_SOCKOPT_OK;
}

/*
 * url ("http://HOST:PORT/path") under client i's own host name,
 * "c<i>.bootstorm", which c->resolve maps to HOST: libcurl's cache keeps
 * connections by host name and port and looks through all of one name's
 * (polling each idle one) for every new request, so 2,000 clients of one
 * name cost the client more CPU than nginx.  nginx answers any Host, and
 * the links a script names keep it.
 */
static char *
own_host(struct client *c, size_t i, const char *url)
{
	const char	*h, *e, *p;
	char		 buf[1024];

	if ((h = strstr(url, "://")) == NULL || (e = strchr(h + 3, ':')) == NULL ||
	    (p = strchr(e, '/')) == NULL) {
		fprintf(stderr, "bootstorm-client: %s: not http://HOST:PORT/...\n",
		    url);
		exit(2);
	}
	h += 3;
	snprintf(buf, sizeof(buf), "c%zu.bootstorm:%.*s:%.*s", i,
	    (int)(p - e - 1), e + 1, (int)(e - h), h);
	if (c->resolve == NULL)
		c->resolve = curl_slist_append(NULL, buf);
	snprintf(buf, sizeof(buf), "%.*sc%zu.bootstorm%s", (int)(h - url), url,
	    i, e);
	return xstrdup(buf);
}

/*
 * libcurl's sockets go into one epoll set (curl_multi_socket_action):
 * curl_multi_perform would look at every transfer at every wake-up, and
 * with a thousand in flight the client, not nginx, set the pace.
 */
static int	 ep = -1;
static double	 curl_due = -1;	/* when libcurl wants its timeout, or -1 */

static int
sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct epoll_event	 ev;

	(void)e;
	(void)userp;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
	    (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	ev.data.fd = s;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev) == -1 &&
	    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) == -1)
		perror("epoll_ctl");
	return 0;
}

static int
timer_cb(CURLM *m, long ms, void *userp)
{
	(void)m;
	(void)userp;
	curl_due = ms < 0 ? -1 : now() + ms / 1000.0;
	return 0;
}

static int
run_clients(const char *nodes, const char *base, const char *kurl,
    const char *iurl)
{
	CURLM		*m;
	CURLMsg		*msg;
	struct client	*cl, *c;
	size_t		 n, i;
	struct epoll_event evs[EVENTS];
	int		 running, left, active, waiting, nev, ended;
	double		 t0, t1, next, tn, area = 0, t_last, t_line, wait_ms;
	double		 t_woke, busy, busy_sum = 0, busy_max = 0;
	unsigned long	 rounds = 0;
	uint64_t	 b_line = 0;
	char		 url[1024];
	struct rusage	 ru;
	FILE		*tl = NULL;

	cl = read_nodes(nodes, &n);
	if (n == 0) {
		fprintf(stderr, "bootstorm-client: %s: no clients\n", nodes);
		return 1;
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("epoll_create1");
		return 1;
	}
	m = curl_multi_init();
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)(2 * n + 16));
	curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, timer_cb);
	for (i = 0; i < n; i++) {
		c = &cl[i];
		if ((c->buf = malloc(SCRIPT_MAX + 1)) == NULL ||
		    (c->h = curl_easy_init()) == NULL) {
			perror("client");
			return 1;
		}
		curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
		curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
		curl_easy_setopt(c->h, CURLOPT_INTERFACE, c->iface);
		curl_easy_setopt(c->h, CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
		curl_easy_setopt(c->h, CURLOPT_TIMEOUT, timeout_s);
		curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT, 60L);
		curl_easy_setopt(c->h, CURLOPT_BUFFERSIZE, 256L * 1024);
		curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c->h, CURLOPT_HTTP_VERSION,
		    CURL_HTTP_VERSION_1_1);
		if (base != NULL) {
			snprintf(url, sizeof(url), "%s/api/v1/boot/ipxe/%s",
			    base, c->mac);
			c->script_url = own_host(c, i, url);
			c->step = S_SCRIPT;
		} else {
			c->kernel = own_host(c, i, kurl);
			c->initrd = own_host(c, i, iurl);
			c->step = S_KERNEL;
		}
		curl_easy_setopt(c->h, CURLOPT_RESOLVE, c->resolve);
	}
	if (timeline != NULL && (tl = fopen(timeline, "w")) == NULL) {
		perror(timeline);
		return 1;
	}
	nclients = n;
	t0 = t_start = t_last = t_line = t_woke = now();
	active = 0;
	next = 0;
	for (i = 0; i < n; i++)
		start(m, &cl[i]);
	for (;;) {
		tn = now();
		wait_ms = 1000;	/* the timeline's second at the latest */
		if (curl_due >= 0)
			wait_ms = curl_due <= tn ? 0 : (curl_due - tn) * 1000 + 1;
		if (next > 0 && (next - tn) * 1000 + 1 < wait_ms)
			wait_ms = next <= tn ? 0 : (next - tn) * 1000 + 1;
		busy = now() - t_woke;	/* the last round's work */
		busy_sum += busy;
		busy_max = busy > busy_max ? busy : busy_max;
		rounds++;
		nev = epoll_wait(ep, evs, EVENTS, (int)wait_ms);
		t_woke = now();
		if (nev == -1 && errno != EINTR) {
			perror("epoll_wait");
			return 1;
		}
		for (i = 0; nev > 0 && i < (size_t)nev; i++)
			curl_multi_socket_action(m, evs[i].data.fd,
			    (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			    (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
			    (evs[i].events & (EPOLLERR | EPOLLHUP) ?
			    CURL_CSELECT_ERR : 0), &running);
		tn = now();
		if (curl_due >= 0 && curl_due <= tn) {
			curl_due = -1;
			curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0,
			    &running);
		}
		ended = 0;
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&c);
			finished(m, c, msg->data.result);
			ended++;
		}
		/*
		 * Clients whose sleep is over go on (a script or a file
		 * again); the states change only here and in finished(), so
		 * the clients are looked at only then.
		 */
		tn = now();
		if (ended == 0 && (next == 0 || next > tn) &&
		    tn - t_line < 1)
			continue;
		/* Downloads in flight, over time: do slots stand idle? */
		area += active * (tn - t_last);
		t_last = tn;
		next = 0;
		left = active = waiting = 0;
		for (i = 0; i < n; i++) {
			c = &cl[i];
			if (c->step == S_WAIT) {
				if (c->wake <= tn) {
					c->step = c->resume;
					start(m, c);
				} else if (next == 0 || c->wake < next)
					next = c->wake;
			}
			if (c->step == S_KERNEL || c->step == S_INITRD)
				active++;
			else if (c->step == S_WAIT)
				waiting++;
			if (c->step != S_DONE && c->step != S_FAILED)
				left++;
		}
		if (tl != NULL && (tn - t_line >= 1 || left == 0)) {
			fprintf(tl, "%.1f done %u downloading %d sleeping %d "
			    "MiB/s %.0f\n", tn - t0, done, active, waiting,
			    (bytes_recv - b_line) / 1048576.0 / (tn - t_line));
			t_line = tn;
			b_line = bytes_recv;
		}
		if (left == 0)
			break;
	}
	t1 = now();
	printf("clients %zu\n", n);
	printf("done %u\n", done);
	printf("failures %u\n", failures);
	printf("retries %u\n", retries);
	printf("scripts %u\n", scripts);
	printf("scripts_wait %u\n", scripts_wait);
	printf("seconds %.3f\n", t1 - t0);
	printf("script_rps %.1f\n", scripts / (t1 - t0));
	printf("bytes %llu\n", (unsigned long long)bytes_total);
	printf("mib_s %.1f\n", bytes_total / 1048576.0 / (t1 - t0));
	printf("downloading_mean %.0f\n", area / (t1 - t0));
	printf("refused %u\nrefused_ms_mean %.0f\n", refused,
	    refused ? refused_s / refused * 1000 : 0);
	printf("refused_new %u\nrefused_connect_ms_mean %.0f\n", refused_new,
	    refused ? refused_conn_s / refused * 1000 : 0);
	printf("refused_presend_ms_mean %.0f\n",
	    refused ? refused_pre_s / refused * 1000 : 0);
	printf("fetched %u\nfetched_s_mean %.2f\n", fetched,
	    fetched ? fetched_s / fetched : 0);
	printf("t50_s %.1f\nt90_s %.1f\n", t_half, t_ninety);
	printf("rounds %lu\nround_ms_mean %.2f\nround_ms_max %.1f\n", rounds,
	    rounds ? busy_sum / rounds * 1000 : 0, busy_max * 1000);
	getrusage(RUSAGE_SELF, &ru);
	printf("client_cpu_s %.1f\n", ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	if (tl != NULL)
		fclose(tl);
	return failures != 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* GET url every ms milliseconds until a signal or secs; latencies. */
static int
probe(const char *url, const char *header, long ms, double secs)
{
	CURL			*h;
	struct curl_slist	*hl = NULL;
	double			*lat = NULL, t, t0, p50, p99, mx;
	size_t			 n = 0, cap = 0;
	unsigned		 errs = 0;
	long			 code;
	FILE			*null;

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if ((null = fopen("/dev/null", "w")) == NULL || (h = curl_easy_init()) == NULL)
		return 1;
	if (header != NULL)
		hl = curl_slist_append(hl, header);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, null);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	t0 = now();
	while (!stop && (secs <= 0 || now() - t0 < secs)) {
		t = now();
		code = 0;
		if (curl_easy_perform(h) != CURLE_OK ||
		    (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code),
		    code != 200))
			errs++;
		t = now() - t;
		if (n == cap && (lat = realloc(lat, (cap = cap * 2 + 1024) *
		    sizeof(*lat))) == NULL)
			return 1;
		lat[n++] = t * 1000;
		if (t * 1000 < ms && !stop)
			usleep((useconds_t)((ms - t * 1000) * 1000));
	}
	qsort(lat, n, sizeof(*lat), cmp_double);
	p50 = n ? lat[n / 2] : 0;
	p99 = n ? lat[(size_t)((n - 1) * 0.99)] : 0;
	mx = n ? lat[n - 1] : 0;
	printf("probes %zu\nprobe_errors %u\np50_ms %.2f\np99_ms %.2f\n"
	    "max_ms %.2f\n", n, errs, p50, p99, mx);
	curl_easy_cleanup(h);
	curl_slist_free_all(hl);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char	*nodes = NULL, *base = NULL, *kurl = NULL, *iurl = NULL;
	const char	*header = NULL;
	long		 ms = 20;
	double		 secs = 0;
	int		 ch, rc;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((ch = getopt(argc, argv, "f:u:K:I:s:k:i:t:T:w:FH:p:d:")) != -1) {
		switch (ch) {
		case 'f': nodes = optarg; break;
		case 'u': base = optarg; break;
		case 'K': kurl = optarg; break;
		case 'I': iurl = optarg; break;
		case 's': sleep_div = atof(optarg); break;
		case 'k': want_k = strtoull(optarg, NULL, 10); break;
		case 'i': want_i = strtoull(optarg, NULL, 10); break;
		case 't': timeout_s = atol(optarg); break;
		case 'T': timeline = optarg; break;
		case 'w': rcvbuf = atoi(optarg); break;
		case 'F': fresh = 1; break;
		case 'H': header = optarg; break;
		case 'p': ms = atol(optarg); break;
		case 'd': secs = atof(optarg); break;
		default: usage();
		}
	}
	if (sleep_div <= 0)
		usage();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(mode, "storm") == 0 && nodes && base)
		rc = run_clients(nodes, base, NULL, NULL);
	else if (strcmp(mode, "static") == 0 && nodes && kurl && iurl)
		rc = run_clients(nodes, NULL, kurl, iurl);
	else if (strcmp(mode, "probe") == 0 && base)
		rc = probe(base, header, ms, secs);
	else
		usage();
	curl_global_cleanup();
	return rc;
}
