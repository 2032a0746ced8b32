/*
 * spawn_bench: spawn-and-wait latency of /bin/true as the parent's resident
 * memory grows, for vigil_spawn() (its default path) and for a plain
 * fork() + execv() + waitpid(). See bench/README.md.
 *
 *	spawn_bench [-n N]
 *
 * One worker process per memory size (16 MiB and 1 GiB, every page touched,
 * transparent huge pages off so the page tables are those of an ordinary
 * heap) times the spawns it is told to make; the coordinator hands out the
 * work round-robin (each iteration runs every method in every worker, in an
 * order that alternates), so all cells share the same noise. It prints the
 * median and the 90th percentile per (method, size) and each method's
 * 1 GiB / 16 MiB ratio of medians.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vigil/vigil.h"

#define PROGRAM		"/bin/true"
#define NSIZES		2
#define NMETHODS	2

static const struct {
	const char	*name;
	size_t		 bytes;
} sizes[NSIZES] = {
	{ "16 MiB",	(size_t)16 << 20 },
	{ "1 GiB",	(size_t)1 << 30 },
};

static const char *methods[NMETHODS] = { "vigil_spawn", "fork+execv" };
static char	 program[] = PROGRAM;
static char	*spawn_argv[] = { program, NULL };

struct worker {
	pid_t	pid;
	int	cmd;	/* coordinator -> worker: a method number */
	int	res;	/* worker -> coordinator: nanoseconds, or 0 on error */
};

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "spawn_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* Map bytes of anonymous memory and touch every page so it is resident. */
static void
make_resident(size_t bytes)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p;
	size_t i;

	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
#ifdef MADV_NOHUGEPAGE
	madvise(p, bytes, MADV_NOHUGEPAGE);
#endif
	for (i = 0; i < bytes; i += (size_t)page)
		p[i] = (char)i;
}

/* One spawn of PROGRAM with method m, waited for; nanoseconds or 0. */
static uint64_t
spawn_once(int m, const struct vigil_spawnattr *a)
{
	uint64_t t0 = now_ns();
	pid_t pid;
	int st;

	if (m == 0) {
		if (vigil_spawn(a, &pid, NULL) == -1)
			return 0;
	} else {
		if ((pid = fork()) == -1)
			return 0;
		if (pid == 0) {
			execv(PROGRAM, spawn_argv);
			_exit(127);
		}
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 0;
	return now_ns() - t0;
}

/* A worker: hold bytes resident, run the spawns asked for until EOF. */
static void __attribute__((noreturn))
worker_main(size_t bytes, int cmd, int res)
{
	struct vigil_spawnattr *a;
	uint64_t ns;
	int m;

	make_resident(bytes);
	if ((a = vigil_spawnattr_new()) == NULL ||
	    vigil_spawnattr_set_argv(a, spawn_argv) == -1)
		die("vigil_spawnattr");
	while (read(cmd, &m, sizeof m) == (ssize_t)sizeof m) {
		ns = spawn_once(m, a);
		if (write(res, &ns, sizeof ns) != (ssize_t)sizeof ns)
			break;
	}
	vigil_spawnattr_free(a);
	_exit(0);
}

/*
 * Start worker z. The child closes the coordinator's ends of the workers
 * started before it, or they would never see EOF.
 */
static void
worker_start(struct worker *w, int z)
{
	int cmd[2], res[2], i;

	if (pipe(cmd) == -1 || pipe(res) == -1)
		die("pipe");
	if ((w[z].pid = fork()) == -1)
		die("fork");
	if (w[z].pid == 0) {
		for (i = 0; i < z; i++) {
			close(w[i].cmd);
			close(w[i].res);
		}
		close(cmd[1]);
		close(res[0]);
		worker_main(sizes[z].bytes, cmd[0], res[1]);
	}
	w = &w[z];
	close(cmd[0]);
	close(res[1]);
	w->cmd = cmd[1];
	w->res = res[0];
}

/* Ask worker w for one spawn with method m; returns nanoseconds. */
static uint64_t
worker_run(struct worker *w, int m)
{
	uint64_t ns;

	if (write(w->cmd, &m, sizeof m) != (ssize_t)sizeof m ||
	    read(w->res, &ns, sizeof ns) != (ssize_t)sizeof ns)
		die("worker");
	if (ns == 0) {
		fprintf(stderr, "spawn_bench: %s of %s failed\n", methods[m],
		    PROGRAM);
		exit(1);
	}
	return ns;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The q-quantile (0..1) of n sorted samples, in milliseconds. */
static double
quantile_ms(const uint64_t *v, int n, double q)
{
	int i = (int)(q * (n - 1) + 0.5);

	return (double)v[i] / 1e6;
}

static void
report(uint64_t *s[NMETHODS][NSIZES], int n)
{
	double med[NMETHODS][NSIZES];
	int m, z;

	printf("%-12s %-7s %10s %10s\n", "method", "size", "median ms",
	    "p90 ms");
	for (m = 0; m < NMETHODS; m++) {
		for (z = 0; z < NSIZES; z++) {
			qsort(s[m][z], (size_t)n, sizeof s[m][z][0], u64_cmp);
			med[m][z] = quantile_ms(s[m][z], n, 0.5);
			printf("%-12s %-7s %10.3f %10.3f\n", methods[m],
			    sizes[z].name, med[m][z],
			    quantile_ms(s[m][z], n, 0.9));
		}
	}
	printf("\nratio %s / %s of the medians:\n", sizes[1].name,
	    sizes[0].name);
	for (m = 0; m < NMETHODS; m++)
		printf("%-12s %6.2f\n", methods[m], med[m][1] / med[m][0]);
}

/* The path vigil_spawn() takes for this request here. */
static const char *
spawn_path(void)
{
	struct vigil_spawnattr *a;

	if ((a = vigil_spawnattr_new()) == NULL ||
	    vigil_spawnattr_set_argv(a, spawn_argv) == -1)
		die("vigil_spawnattr");
	if (spawn_once(0, a) == 0) {
		fprintf(stderr, "spawn_bench: cannot spawn %s\n", PROGRAM);
		exit(1);
	}
	vigil_spawnattr_free(a);
	return vigil_spawn_last_path();
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: spawn_bench [-n iterations]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct worker w[NSIZES];
	uint64_t *s[NMETHODS][NSIZES];
	const char *path;
	int ch, n = 300, i, k, m, z;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		if (ch != 'n' || (n = atoi(optarg)) <= 0)
			usage();
	}
	for (m = 0; m < NMETHODS; m++)
		for (z = 0; z < NSIZES; z++)
			if ((s[m][z] = calloc((size_t)n, sizeof **s)) == NULL)
				die("calloc");
	path = spawn_path();
	for (z = 0; z < NSIZES; z++)
		worker_start(w, z);
	/* Warm up (page cache, the workers' memory), then measure. */
	for (z = 0; z < NSIZES; z++)
		for (m = 0; m < NMETHODS; m++)
			worker_run(&w[z], m);
	for (i = 0; i < n; i++) {
		for (k = 0; k < NMETHODS * NSIZES; k++) {
			/* Alternate the order so no cell always goes first. */
			m = ((k + i) / NSIZES) % NMETHODS;
			z = (k + i) % NSIZES;
			s[m][z][i] = worker_run(&w[z], m);
		}
	}
	for (z = 0; z < NSIZES; z++)
		close(w[z].cmd);
	for (z = 0; z < NSIZES; z++) {
		waitpid(w[z].pid, NULL, 0);
		close(w[z].res);
	}
	printf("spawn_bench: %s, %d iterations per cell, interleaved; "
	    "vigil_spawn path: %s\n\n", PROGRAM, n, path);
	report(s, n);
	return 0;
}
