/*
 * bench_svc: the service that bench/supervisors.sh runs under every
 * supervisor. One program, so every supervisor runs the same executable
 * (directly: no shell in between).
 *
 *   bench_svc stamp FILE    append "S <ns>" at start and "E <ns>" just
 *                           before exiting 0 (CLOCK_MONOTONIC): the restart
 *                           gap is each S minus the E before it
 *   bench_svc touch FILE    create FILE, then wait for a signal forever
 *   bench_svc sigrecv FIFO  on each SIGUSR2, write the CLOCK_MONOTONIC time
 *                           of the handler's entry (8 bytes) to FIFO; write
 *                           0 once the handler is installed
 *
 * With no other argument (s6 and runit run ./run, a symbolic link to this
 * program, with no argument or, for s6, the service name) the mode comes from $BENCH_SVC_MODE and the
 * file is $BENCH_SVC_DIR/NAME, NAME being the base name of the working
 * directory (the service directory); sigrecv uses $BENCH_SVC_DIR itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int fifo_fd = -1;

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
on_signal(int signo)
{
	uint64_t t = mono_ns();
	int saved = errno;

	(void)signo;
	if (write(fifo_fd, &t, sizeof t) == -1) {
		/* nothing to do: the sender times out */
	}
	errno = saved;
}

static int
stamp(const char *file)
{
	char buf[64];
	uint64_t t = mono_ns();
	int fd, n;

	if ((fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		return 1;
	n = snprintf(buf, sizeof buf, "S %llu\n", (unsigned long long)t);
	if (write(fd, buf, (size_t)n) != n)
		return 1;
	n = snprintf(buf, sizeof buf, "E %llu\n",
	    (unsigned long long)mono_ns());
	if (write(fd, buf, (size_t)n) != n)
		return 1;
	_exit(0);
}

static int
touch(const char *file)
{
	int fd;

	if ((fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1)
		return 1;
	close(fd);
	for (;;)
		pause();
}

static int
sigrecv(const char *fifo)
{
	struct sigaction sa;
	sigset_t set;
	uint64_t zero = 0;

	if ((fifo_fd = open(fifo, O_RDWR | O_CLOEXEC)) == -1)
		return 1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR2, &sa, NULL) == -1)
		return 1;
	/* Whatever mask or disposition we inherited, take SIGUSR2. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	if (write(fifo_fd, &zero, sizeof zero) != sizeof zero)
		return 1;
	for (;;)
		pause();
}

int
main(int argc, char *argv[])
{
	const char *mode, *dir;
	char cwd[PATH_MAX], path[2 * PATH_MAX + 2], *base;

	if (argc == 3) {
		mode = argv[1];
		snprintf(path, sizeof path, "%s", argv[2]);
	} else if (argc <= 2) {		/* s6 passes the service name */
		mode = getenv("BENCH_SVC_MODE");
		dir = getenv("BENCH_SVC_DIR");
		if (mode == NULL || dir == NULL ||
		    getcwd(cwd, sizeof cwd) == NULL)
			return 2;
		base = strrchr(cwd, '/');
		base = base != NULL ? base + 1 : cwd;
		if (strcmp(mode, "sigrecv") == 0)
			snprintf(path, sizeof path, "%s", dir);
		else
			snprintf(path, sizeof path, "%s/%s", dir, base);
	} else {
		fprintf(stderr, "usage: bench_svc stamp|touch|sigrecv FILE\n");
		return 2;
	}
	if (strcmp(mode, "stamp") == 0)
		return stamp(path);
	if (strcmp(mode, "touch") == 0)
		return touch(path);
	if (strcmp(mode, "sigrecv") == 0)
		return sigrecv(path);
	fprintf(stderr, "bench_svc: unknown mode %s\n", mode);
	return 2;
}
