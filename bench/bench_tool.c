/*
 * bench_tool: the measuring side of bench/supervisors.sh (Linux only).
 *
 *   bench_tool sig -n N [-T MS] [-W] [-o FILE] -p PID FIFO
 *       kill(PID, SIGUSR2) N times
 *   bench_tool sig -n N [-T MS] [-W] [-o FILE] FIFO -- CMD...
 *       run CMD N times
 *       Each time: take CLOCK_MONOTONIC, send (or spawn CMD), wait for the
 *       bench_svc sigrecv handler's timestamp on FIFO; prints
 *       "n median p90 min max lost" in microseconds. It first waits for
 *       the receiver's 0 ("ready"), unless -W is given; -o FILE appends
 *       every latency (nanoseconds, one a line) to FILE.
 *   bench_tool launch -n N -d DIR [-T MS] -P PIDFILE [-o LOG] [-E VAR=VAL]...
 *           -- CMD...
 *       Watch DIR (inotify), start CMD (output to LOG, VAR=VAL added to its
 *       environment), write its pid to PIDFILE, wait until N files were
 *       created in DIR; prints the milliseconds from just before fork() to
 *       the Nth creation (exit 1 on timeout or if CMD dies).
 *   bench_tool stop -f PIDS [-T MS] (-p PID -s SIG | -- CMD...)
 *       Open a pidfd for every pid in the file PIDS, then send SIG to PID
 *       (or run CMD) and wait until all of them have exited; prints the
 *       milliseconds (exit 1 on timeout, with the number still alive).
 *   bench_tool respawn -n N [-T MS] -- CMD...
 *       The floor of a restart: posix_spawn() CMD (in a new session, as
 *       supervisors do), waitpid(), again, N times (or until MS have
 *       passed), with nothing else in between. Prints "runs cpu_ms", its
 *       own CPU time.
 *   bench_tool spawnall -n N -- CMD ARG...
 *       The floor of a supervisor: posix_spawn() N copies of CMD, each in a
 *       new session (the first "%d" in each ARG replaced by the copy's
 *       number, 0 to N-1), reap
 *       them, and on SIGTERM send SIGTERM to those left, wait for them and
 *       exit.
 *   bench_tool pids [-e EXE] [-r] ROOT...
 *       The descendants of the ROOT pids (with -r the roots too), those
 *       whose /proc/PID/exe is EXE only with -e; one pid a line.
 *   bench_tool mem PID...    "PSS_KiB RSS_KiB" summed from smaps_rollup
 *   bench_tool ctxt PID...   voluntary + nonvoluntary context switches,
 *                            summed over every thread of every PID
 *   bench_tool cpu PID...    milliseconds on a CPU (schedstat), summed over
 *                            every thread of every PID
 *   bench_tool gaps FILE...  restart gaps from bench_svc stamp files, all
 *                            pooled: "n median p90 min max" in ms
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "bench_tool: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: bench_tool sig|launch|stop|respawn|spawnall|"
	    "pids|mem|ctxt|cpu|gaps ... (see bench_tool.c)\n");
	exit(2);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts v; the q-quantile (nearest rank). */
static int64_t
quantile(int64_t *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i];
}

/*
 * Start argv with an empty signal mask, stdin from /dev/null, stdout and
 * stderr to out (NULL: /dev/null) and the NAME=VALUE strings of env added
 * to the environment.
 */
static pid_t
spawn(char **argv, const char *out, char **env, size_t nenv)
{
	pid_t pid;

	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		sigset_t set;
		size_t i;
		int fd;

		sigemptyset(&set);
		sigprocmask(SIG_SETMASK, &set, NULL);
		if ((fd = open("/dev/null", O_RDONLY)) != -1) {
			dup2(fd, 0);
			if (fd > 2)
				close(fd);
		}
		if ((fd = open(out != NULL ? out : "/dev/null",
		    O_WRONLY | O_CREAT | O_APPEND, 0644)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		for (i = 0; i < nenv; i++)
			putenv(env[i]);
		execvp(argv[0], argv);
		dprintf(2, "bench_tool: exec %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Read one 8-byte timestamp from fd within ms; 1 ok, 0 timeout. */
static int
read_stamp(int fd, int ms, uint64_t *t)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t deadline = mono_ns() + (int64_t)ms * 1000000;
	ssize_t n;

	for (;;) {
		int left = (int)((deadline - mono_ns()) / 1000000);

		if (left < 0)
			return 0;
		if (poll(&p, 1, left) == -1) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p.revents == 0)
			continue;
		n = read(fd, t, sizeof *t);
		if (n == sizeof *t)
			return 1;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n >= 0) {
			fprintf(stderr, "bench_tool: short read on fifo\n");
			exit(2);
		}
		die("read fifo");
	}
}

static int
cmd_sig(int argc, char *argv[])
{
	int64_t *lat, t0;
	uint64_t t;
	char **cmd = NULL, *fifo;
	pid_t pid = 0, child;
	size_t n = 200, i, got = 0, lost = 0;
	int ch, timeout = 2000, fd, status, wait_ready = 1;
	FILE *raw = NULL;

	while ((ch = getopt(argc, argv, "+n:T:p:Wo:")) != -1) {
		switch (ch) {
		case 'W': wait_ready = 0; break;
		case 'o':
			if ((raw = fopen(optarg, "a")) == NULL)
				die(optarg);
			break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'T': timeout = atoi(optarg); break;
		case 'p': pid = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	fifo = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind < argc)
		cmd = argv + optind;
	if ((pid <= 0) == (cmd == NULL))
		usage();
	if ((fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1)
		die(fifo);
	/* The receiver says it is ready with a 0. */
	if (wait_ready && !read_stamp(fd, 10000, &t)) {
		fprintf(stderr, "bench_tool: the receiver never got ready\n");
		return 1;
	}
	lat = calloc(n, sizeof *lat);
	for (i = 0; i < n; i++) {
		/* A short, varying pause: no phase locking with anything. */
		struct timespec ts = { 0, 1000000 + (long)(i % 7) * 300000 };

		nanosleep(&ts, NULL);
		while (read(fd, &t, sizeof t) == sizeof t)
			;	/* stale */
		t0 = mono_ns();
		child = 0;
		if (cmd != NULL)
			child = spawn(cmd, NULL, NULL, 0);
		else if (kill(pid, SIGUSR2) == -1)
			die("kill");
		if (read_stamp(fd, timeout, &t) && (int64_t)t >= t0)
			lat[got++] = (int64_t)t - t0;
		else
			lost++;
		if (child > 0)
			while (waitpid(child, &status, 0) == -1 &&
			    errno == EINTR)
				;
		if (lost > 10 && got == 0)
			break;
	}
	if (raw != NULL) {
		for (i = 0; i < got; i++)
			fprintf(raw, "%lld\n", (long long)lat[i]);
		fclose(raw);
	}
	qsort(lat, got, sizeof *lat, cmp_i64);
	printf("%zu %.1f %.1f %.1f %.1f %zu\n", got,
	    quantile(lat, got, 0.5) / 1e3, quantile(lat, got, 0.9) / 1e3,
	    got ? lat[0] / 1e3 : 0.0, got ? lat[got - 1] / 1e3 : 0.0, lost);
	return got == 0;
}

static size_t
count_dir(const char *dir)
{
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	if ((d = opendir(dir)) == NULL)
		die(dir);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int
cmd_launch(int argc, char *argv[])
{
	char buf[64 * 1024] __attribute__((aligned(8)));
	const char *dir = NULL, *pidfile = NULL, *out = NULL;
	char *env[64];
	size_t want = 0, have, nenv = 0;
	int64_t t0, deadline;
	int ch, timeout = 60000, in;
	pid_t pid;
	FILE *f;

	while ((ch = getopt(argc, argv, "+n:d:T:P:o:E:")) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case 'E':
			if (nenv == sizeof env / sizeof env[0])
				usage();
			env[nenv++] = optarg;
			break;
		case 'n': want = strtoul(optarg, NULL, 10); break;
		case 'd': dir = optarg; break;
		case 'T': timeout = atoi(optarg); break;
		case 'P': pidfile = optarg; break;
		default: usage();
		}
	}
	if (dir == NULL || pidfile == NULL || optind >= argc)
		usage();
	if ((in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		die("inotify_init1");
	if (inotify_add_watch(in, dir, IN_CREATE | IN_MOVED_TO) == -1)
		die(dir);
	have = count_dir(dir);
	t0 = mono_ns();
	pid = spawn(argv + optind, out, env, nenv);
	if ((f = fopen(pidfile, "w")) == NULL)
		die(pidfile);
	fprintf(f, "%d\n", (int)pid);
	fclose(f);
	deadline = t0 + (int64_t)timeout * 1000000;
	while (have < want) {
		struct pollfd p = { .fd = in, .events = POLLIN };
		int left = (int)((deadline - mono_ns()) / 1000000);
		ssize_t n;
		char *q;

		if (left < 0) {
			printf("timeout %zu/%zu\n", count_dir(dir), want);
			return 1;
		}
		if (poll(&p, 1, left > 200 ? 200 : left) == -1 &&
		    errno != EINTR)
			die("poll");
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			printf("died %zu/%zu\n", count_dir(dir), want);
			return 1;
		}
		while ((n = read(in, buf, sizeof buf)) > 0)
			for (q = buf; q < buf + n;) {
				struct inotify_event *e = (void *)q;

				if (e->mask & IN_Q_OVERFLOW)
					have = count_dir(dir);
				else if (e->len > 0 && e->name[0] != '.')
					have++;
				q += sizeof *e + e->len;
			}
		if (have >= want)	/* recount: names are unique */
			have = count_dir(dir);
	}
	printf("%.1f\n", (mono_ns() - t0) / 1e6);
	return 0;
}

static int
cmd_stop(int argc, char *argv[])
{
	const char *pidsfile = NULL;
	struct pollfd *pf = NULL;
	size_t npf = 0, cap = 0, alive, i;
	int64_t t0, deadline;
	int ch, timeout = 30000, sig = SIGTERM, status;
	pid_t pid = 0, child = 0;
	FILE *f;
	char line[64];

	while ((ch = getopt(argc, argv, "+f:T:p:s:")) != -1) {
		switch (ch) {
		case 'f': pidsfile = optarg; break;
		case 'T': timeout = atoi(optarg); break;
		case 'p': pid = atoi(optarg); break;
		case 's': sig = atoi(optarg); break;
		default: usage();
		}
	}
	if (pidsfile == NULL || (pid <= 0) == (optind >= argc))
		usage();
	if ((f = fopen(pidsfile, "r")) == NULL)
		die(pidsfile);
	while (fgets(line, sizeof line, f) != NULL) {
		int fd = (int)syscall(SYS_pidfd_open, atoi(line), 0);

		if (fd == -1)
			continue;	/* already gone */
		if (npf == cap) {
			cap = cap ? cap * 2 : 256;
			if ((pf = realloc(pf, cap * sizeof *pf)) == NULL)
				die("realloc");
		}
		pf[npf].fd = fd;
		pf[npf].events = POLLIN;
		pf[npf].revents = 0;
		npf++;
	}
	fclose(f);
	t0 = mono_ns();
	if (pid > 0) {
		if (kill(pid, sig) == -1)
			die("kill");
	} else
		child = spawn(argv + optind, NULL, NULL, 0);
	deadline = t0 + (int64_t)timeout * 1000000;
	for (;;) {
		int left = (int)((deadline - mono_ns()) / 1000000);

		alive = 0;
		for (i = 0; i < npf; i++)
			if (pf[i].fd >= 0)
				alive++;
		if (alive == 0)
			break;
		if (left < 0) {
			printf("timeout %zu\n", alive);
			return 1;
		}
		if (poll(pf, npf, left) == -1 && errno != EINTR)
			die("poll");
		for (i = 0; i < npf; i++)
			if (pf[i].fd >= 0 && pf[i].revents != 0) {
				close(pf[i].fd);
				pf[i].fd = -1;	/* poll ignores it now */
			}
	}
	printf("%.1f\n", (mono_ns() - t0) / 1e6);
	if (child > 0)
		while (waitpid(child, &status, 0) == -1 && errno == EINTR)
			;
	return 0;
}

extern char **environ;

static int
cmd_respawn(int argc, char *argv[])
{
	posix_spawnattr_t attr;
	size_t n = 500, i;
	int ch, timeout = 30000, status;
	int64_t deadline;
	pid_t pid;

	while ((ch = getopt(argc, argv, "+n:T:")) != -1) {
		switch (ch) {
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'T': timeout = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
	deadline = mono_ns() + (int64_t)timeout * 1000000;
	for (i = 0; i < n && mono_ns() < deadline; i++) {
		if ((errno = posix_spawn(&pid, argv[optind], NULL, &attr,
		    argv + optind, environ)) != 0)
			die(argv[optind]);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
	}
	{
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		printf("%zu %.1f\n", i, (ru.ru_utime.tv_sec +
		    ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec +
		    ru.ru_stime.tv_usec) / 1e3);
	}
	return 0;
}

static int
cmd_spawnall(int argc, char *argv[])
{
	posix_spawnattr_t attr;
	sigset_t set, empty;
	siginfo_t si;
	char **args;
	pid_t *pids, p;
	size_t n = 100, i, left;
	int ch, j, nargs, status, stopping = 0;

	while ((ch = getopt(argc, argv, "+n:")) != -1) {
		switch (ch) {
		case 'n': n = strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	nargs = argc - optind;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&empty);
	/* Each in its own session, as supervisors do. */
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &empty);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSID);
	pids = calloc(n, sizeof *pids);
	args = calloc((size_t)nargs + 1, sizeof *args);
	for (j = 0; j < nargs; j++)
		args[j] = malloc(strlen(argv[optind + j]) + 24);
	for (i = 0; i < n; i++) {
		for (j = 0; j < nargs; j++) {
			const char *a = argv[optind + j], *pc = strstr(a, "%d");

			if (pc == NULL)
				strcpy(args[j], a);
			else
				sprintf(args[j], "%.*s%zu%s", (int)(pc - a), a,
				    i, pc + 2);
		}
		if ((errno = posix_spawn(&pids[i], args[0], NULL, &attr, args,
		    environ)) != 0)
			die(args[0]);
	}
	left = n;
	while (left > 0) {
		if (sigwaitinfo(&set, &si) == -1)
			continue;
		if (si.si_signo != SIGCHLD) {
			if (!stopping)
				for (i = 0; i < n; i++)
					if (pids[i] > 0)
						kill(pids[i], SIGTERM);
			stopping = 1;
			continue;
		}
		while ((p = waitpid(-1, &status, WNOHANG)) > 0)
			for (i = 0; i < n; i++)
				if (pids[i] == p) {
					pids[i] = 0;
					left--;
					break;
				}
	}
	return 0;
}

static pid_t
proc_ppid(pid_t pid)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;
	int ppid;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

static int
cmd_pids(int argc, char *argv[])
{
	const char *exe = NULL;
	pid_t *pid = NULL, *ppid = NULL, *set;
	size_t n = 0, cap = 0, nset, i, j, k;
	int ch, roots = 0;
	DIR *d;
	struct dirent *e;

	while ((ch = getopt(argc, argv, "+e:r")) != -1) {
		switch (ch) {
		case 'e': exe = optarg; break;
		case 'r': roots = 1; break;
		default: usage();
		}
	}
	if ((d = opendir("/proc")) == NULL)
		die("/proc");
	while ((e = readdir(d)) != NULL) {
		pid_t p = atoi(e->d_name), pp;

		if (p <= 0 || (pp = proc_ppid(p)) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			pid = realloc(pid, cap * sizeof *pid);
			ppid = realloc(ppid, cap * sizeof *ppid);
			if (pid == NULL || ppid == NULL)
				die("realloc");
		}
		pid[n] = p;
		ppid[n] = pp;
		n++;
	}
	closedir(d);
	/* The closure of the roots under "is a child of". */
	set = calloc(2 * n + (size_t)argc, sizeof *set);
	nset = 0;
	for (i = (size_t)optind; i < (size_t)argc; i++)
		set[nset++] = atoi(argv[i]);
	for (k = 0; k < nset; k++)
		for (j = 0; j < n; j++)
			if (ppid[j] == set[k] && pid[j] != set[k])
				set[nset++] = pid[j];
	for (k = roots ? 0 : (size_t)(argc - optind); k < nset; k++) {
		if (exe != NULL) {
			char path[64], target[PATH_MAX];
			ssize_t l;

			snprintf(path, sizeof path, "/proc/%d/exe", (int)set[k]);
			if ((l = readlink(path, target, sizeof target - 1)) <= 0)
				continue;
			target[l] = '\0';
			if (strcmp(target, exe) != 0)
				continue;
		}
		printf("%d\n", (int)set[k]);
	}
	return 0;
}

static int
cmd_mem(int argc, char *argv[])
{
	unsigned long long pss = 0, rss = 0, v;
	char path[64], line[256];
	int i;
	FILE *f;

	for (i = 1; i < argc; i++) {
		snprintf(path, sizeof path, "/proc/%s/smaps_rollup", argv[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof line, f) != NULL) {
			if (sscanf(line, "Pss: %llu", &v) == 1)
				pss += v;
			else if (sscanf(line, "Rss: %llu", &v) == 1)
				rss += v;
		}
		fclose(f);
	}
	printf("%llu %llu\n", pss, rss);
	return 0;
}

/* Sum, over every thread of every pid, context switches or CPU time. */
static int
cmd_tasks(int argc, char *argv[], int cpu)
{
	unsigned long long sum = 0, v;
	char path[PATH_MAX], line[256];
	struct dirent *e;
	DIR *d;
	FILE *f;
	int i;

	for (i = 1; i < argc; i++) {
		snprintf(path, sizeof path, "/proc/%s/task", argv[i]);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "/proc/%s/task/%s/%s",
			    argv[i], e->d_name, cpu ? "schedstat" : "status");
			if ((f = fopen(path, "r")) == NULL)
				continue;
			while (fgets(line, sizeof line, f) != NULL)
				if (cpu ? sscanf(line, "%llu", &v) == 1 :
				    sscanf(line, "voluntary_ctxt_switches: %llu",
				    &v) == 1 || sscanf(line,
				    "nonvoluntary_ctxt_switches: %llu", &v) == 1)
					sum += v;
			fclose(f);
		}
		closedir(d);
	}
	if (cpu)
		printf("%.1f\n", sum / 1e6);
	else
		printf("%llu\n", sum);
	return 0;
}

/* Append the gaps of one stamp file to *gap (n used, cap allocated). */
static void
read_gaps(const char *path, int64_t **gap, size_t *n, size_t *cap)
{
	int64_t last_end = -1;
	unsigned long long t;
	char kind, line[128];
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		die(path);
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%c %llu", &kind, &t) != 2)
			continue;
		if (kind == 'E') {
			last_end = (int64_t)t;
			continue;
		}
		if (kind != 'S' || last_end < 0)
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 1024;
			if ((*gap = realloc(*gap, *cap * sizeof **gap)) == NULL)
				die("realloc");
		}
		(*gap)[(*n)++] = (int64_t)t - last_end;
		last_end = -1;
	}
	fclose(f);
}

static int
cmd_gaps(int argc, char *argv[])
{
	int64_t *gap = NULL;
	size_t n = 0, cap = 0;
	int i;

	if (argc < 2)
		usage();
	for (i = 1; i < argc; i++)
		read_gaps(argv[i], &gap, &n, &cap);
	qsort(gap, n, sizeof *gap, cmp_i64);
	printf("%zu %.3f %.3f %.3f %.3f\n", n, quantile(gap, n, 0.5) / 1e6,
	    quantile(gap, n, 0.9) / 1e6, n ? gap[0] / 1e6 : 0.0,
	    n ? gap[n - 1] / 1e6 : 0.0);
	return n == 0;
}

int
main(int argc, char *argv[])
{
	if (argc < 2)
		usage();
	argc--;
	argv++;
	optind = 1;
	if (strcmp(argv[0], "sig") == 0)
		return cmd_sig(argc, argv);
	if (strcmp(argv[0], "launch") == 0)
		return cmd_launch(argc, argv);
	if (strcmp(argv[0], "stop") == 0)
		return cmd_stop(argc, argv);
	if (strcmp(argv[0], "respawn") == 0)
		return cmd_respawn(argc, argv);
	if (strcmp(argv[0], "spawnall") == 0)
		return cmd_spawnall(argc, argv);
	if (strcmp(argv[0], "pids") == 0)
		return cmd_pids(argc, argv);
	if (strcmp(argv[0], "mem") == 0)
		return cmd_mem(argc, argv);
	if (strcmp(argv[0], "ctxt") == 0)
		return cmd_tasks(argc, argv, 0);
	if (strcmp(argv[0], "cpu") == 0)
		return cmd_tasks(argc, argv, 1);
	if (strcmp(argv[0], "gaps") == 0)
		return cmd_gaps(argc, argv);
	usage();
}
