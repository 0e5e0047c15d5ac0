/*
 * corral-noop: the benchmark's baseline.
 *
 *	corral-noop SOCKETPATH [workers]
 *
 * A FastCGI responder that does nothing but answer {"success": true}.
 * scripts/bench/ puts it behind the same nginx configuration as corral-api
 * (location /bench/noop) and reports corral-api's throughput as a ratio of
 * this one's, so the number measures corral's own cost and not nginx, TLS,
 * the kernel or the machine.  To keep that comparison fair it is shaped like
 * corral-api: a unix socket opened by a master, N forked workers each
 * looping on FCGX_Accept_r, no threads.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#define NOOP_WORKERS_DEFAULT	4	/* corral-api's default */
#define NOOP_WORKERS_MAX	256
#define NOOP_BACKLOG		1024	/* deep enough for wrk's connections */

static volatile sig_atomic_t	 quit;

static const char	 reply[] =
	"Status: 200 OK\r\n"
	"Content-Type: application/json\r\n"
	"\r\n"
	"{\"success\": true}";

static void
on_quit(int sig)
{
	(void)sig;
	quit = 1;
}

/*
 * Open the listening socket at path with mode 0660, so that only its owner
 * and group (nginx runs as one of them) can connect.  A stale socket from a
 * previous run is removed.  Returns the descriptor, or -1 (reported).
 */
static int
noop_listen(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "corral-noop: %s: path too long\n", path);
		return -1;
	}
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);

	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		perror("corral-noop: socket");
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		fprintf(stderr, "corral-noop: unlink %s: %s\n", path,
		    strerror(errno));
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "corral-noop: bind %s: %s\n", path,
		    strerror(errno));
		goto fail;
	}
	/* bind(2) honours the umask; set the mode we mean explicitly. */
	if (chmod(path, 0660) == -1) {
		fprintf(stderr, "corral-noop: chmod %s: %s\n", path,
		    strerror(errno));
		goto fail;
	}
	if (listen(fd, NOOP_BACKLOG) == -1) {
		perror("corral-noop: listen");
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * One worker: accept and answer until killed.  Never returns.
 */
static void
noop_worker(int fd)
{
	FCGX_Request	 req;

	/* The master's handlers are for the master; workers just die. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);

	if (FCGX_InitRequest(&req, fd, 0) != 0) {
		fprintf(stderr, "corral-noop: FCGX_InitRequest failed\n");
		_exit(1);
	}
	while (FCGX_Accept_r(&req) >= 0)
		FCGX_PutStr(reply, sizeof(reply) - 1, req.out);
	_exit(0);
}

/* Fork one worker; returns its pid or -1. */
static pid_t
noop_spawn(int fd)
{
	pid_t	 pid;

	if ((pid = fork()) == -1) {
		perror("corral-noop: fork");
		return -1;
	}
	if (pid == 0)
		noop_worker(fd);
	return pid;
}

int
main(int argc, char *argv[])
{
	struct sigaction	 sa;
	pid_t			 pids[NOOP_WORKERS_MAX], pid;
	const char		*path;
	char			*end;
	long			 n = NOOP_WORKERS_DEFAULT;
	int			 fd, i, status;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: corral-noop socketpath [workers]\n");
		return 2;
	}
	path = argv[1];
	if (argc == 3) {
		errno = 0;
		n = strtol(argv[2], &end, 10);
		if (errno != 0 || *end != '\0' || end == argv[2] ||
		    n < 1 || n > NOOP_WORKERS_MAX) {
			fprintf(stderr, "corral-noop: workers: 1 to %d\n",
			    NOOP_WORKERS_MAX);
			return 2;
		}
	}

	if (FCGX_Init() != 0) {
		fprintf(stderr, "corral-noop: FCGX_Init failed\n");
		return 1;
	}
	if ((fd = noop_listen(path)) == -1)
		return 1;

	/* No SA_RESTART: SIGTERM must interrupt waitpid(2) below. */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_quit;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	for (i = 0; i < n; i++)
		pids[i] = noop_spawn(fd);

	/* Respawn the dead, like corral-api, until asked to stop. */
	while (!quit) {
		if ((pid = waitpid(-1, &status, 0)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < n; i++)
			if (pids[i] == pid && !quit)
				pids[i] = noop_spawn(fd);
	}

	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		continue;
	unlink(path);
	return 0;
}
