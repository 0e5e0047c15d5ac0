/*
 * corral-jobd's side of boot progress (boot.c): the boot event socket.
 * nginx logs each signed kernel and initramfs download to it, dnsmasq's
 * dhcp-script each lease (through `corral-jobd boot-event`, bootev_send),
 * one text line a datagram; corral-jobd's main loop records them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "extern.h"

/*
 * Boot events come in bursts (a rack's kernels finish together), and a
 * unix datagram socket queues only net.unix.max_dgram_qlen of them (10
 * by default); nginx drops what does not fit.  So a thread does nothing
 * but move datagrams from the socket into memory, and the main loop
 * records them (boot.c) between its other work, however long the
 * database takes.  Runners are forked from the main thread and never
 * touch the queue.
 */
#define BOOTEV_MAX	100000	/* events held at most; more are dropped */

struct bootev {
	pthread_mutex_t	 mu;
	char		**lines;
	size_t		 n, cap;
	size_t		 dropped;
	int		 fd;		/* the event socket, blocking */
	int		 pipe[2];	/* the reader's "there is more" to poll */
};

static void *
bootev_reader(void *arg)
{
	struct bootev	*q = arg;
	char		 line[1024];
	ssize_t		 n;

	for (;;) {
		if ((n = recv(q->fd, line, sizeof(line) - 1, 0)) <= 0) {
			if (n == -1 && errno != EINTR && errno != EAGAIN)
				sleep(1);	/* not seen; but never spin */
			continue;
		}
		line[n] = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		pthread_mutex_lock(&q->mu);
		if (q->n == BOOTEV_MAX)
			q->dropped++;
		else {
			if (q->n == q->cap) {
				q->cap = q->cap ? q->cap * 2 : 256;
				q->lines = xrealloc(q->lines, q->cap *
				    sizeof(*q->lines));
			}
			q->lines[q->n++] = xstrdup(line);
		}
		pthread_mutex_unlock(&q->mu);
		(void)write(q->pipe[1], "", 1);
	}
	return NULL;
}

/*
 * Start the event reader on fd (the bound event socket).  Returns the
 * queue, or NULL (logged): boot progress then goes unrecorded.
 */
struct bootev *
bootev_start(int fd)
{
	struct bootev	*q = xcalloc(1, sizeof(*q));
	pthread_t	 t;
	sigset_t	 all, old;
	int		 rc;

	q->fd = fd;
	pthread_mutex_init(&q->mu, NULL);
	if (fcntl(fd, F_SETFL, 0) == -1 || pipe(q->pipe) == -1 ||
	    fcntl(q->pipe[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(q->pipe[1], F_SETFL, O_NONBLOCK) == -1) {
		log_err("boot events: %s", strerror(errno));
		return NULL;
	}
	/* Signals are the main thread's (the self-pipe). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&t, NULL, bootev_reader, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_err("boot events: thread: %s", strerror(rc));
		return NULL;
	}
	pthread_detach(t);
	return q;
}

/*
 * Record every boot event the reader has queued, with db (NULL while the
 * database is away: they are dropped then, as telemetry may be).
 */
void
bootev_drain(struct bootev *q, struct db *db, const struct conf *conf)
{
	char		**lines, buf[256];
	size_t		 n, i, dropped;

	if (q == NULL)
		return;
	while (read(q->pipe[0], buf, sizeof(buf)) > 0)
		continue;
	pthread_mutex_lock(&q->mu);
	lines = q->lines;
	n = q->n;
	dropped = q->dropped;
	q->lines = NULL;
	q->n = q->cap = q->dropped = 0;
	pthread_mutex_unlock(&q->mu);
	if (dropped > 0)
		log_warn("boot events: %zu dropped (more than %d waiting)",
		    dropped, BOOTEV_MAX);
	for (i = 0; i < n; i++) {
		if (db != NULL)
			boot_event(db, conf, lines[i]);
		free(lines[i]);
	}
	free(lines);
}

/* What the main loop polls for "events are waiting", or -1 for none. */
int
bootev_pollfd(const struct bootev *q)
{
	return q != NULL ? q->pipe[0] : -1;
}

/*
 * corral-jobd boot-event dhcp ACTION MAC IP [HOST]: what dnsmasq's
 * dhcp-script runs for every lease change (fcgi/dhcp.c writes the
 * wrapper).  Sends "dhcp MAC IP" to the running jobd's boot event socket
 * for a new or renewed lease; ignores the rest.  Always exits 0: dnsmasq
 * logs a failing script, and boot progress is not worth that noise.
 */
int
bootev_send(const struct conf *conf, int argc, char *argv[])
{
	struct sockaddr_un	 sun;
	char			 mac[18], line[128];
	int			 fd;

	if (argc < 5 || strcmp(argv[1], "dhcp") != 0 ||
	    (strcmp(argv[2], "add") != 0 && strcmp(argv[2], "old") != 0) ||
	    mac_normalize(argv[3], mac) == -1 || !valid_ip(argv[4]))
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (conf->boot_event_socket == NULL ||
	    strlen(conf->boot_event_socket) >= sizeof(sun.sun_path))
		return 0;
	strcpy(sun.sun_path, conf->boot_event_socket);
	snprintf(line, sizeof(line), "dhcp %s %s", mac, argv[4]);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1)
		return 0;
	(void)sendto(fd, line, strlen(line), MSG_DONTWAIT,
	    (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return 0;
}
