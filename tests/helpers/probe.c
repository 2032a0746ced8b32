/*
 * probe: the child the tests spawn. It reports the state it was started in
 * (ids, session, signal mask and dispositions, descriptors, limits, tty) so
 * a test can check what vigil_spawn() or vigild gave it. Standalone: it does
 * not link libvigil, and it installs no signal handler of its own, so what it
 * reports is what it inherited.
 *
 *	probe report [-e NAME]... [FILE]	report, exit 0
 *	probe wait [-e NAME]... [FILE]		report, then pause() forever
 *	probe exit N				exit with status N
 *	probe listen [-e NAME]... [FILE]	report, then serve fd 3 once
 *
 * The report is key=value lines: pid, ppid, pgid, sid, uid, euid, gid, egid,
 * groups, umask, cwd, sigblk, sigign, sigcgt (hex, bit N-1 for signal N),
 * fds (open descriptors), fdid_N (dev:ino of each), nofile and core
 * (soft:hard, "inf" for no limit), tty_fg (tcgetpgrp(0), -1 if none),
 * argc and argv_N, env_NAME for each -e NAME that is set. With FILE it is
 * written to FILE.tmp and renamed, so FILE appears complete or not at all.
 * listen adds env_LISTEN_PID, env_LISTEN_FDS, env_LISTEN_FDNAMES (if set)
 * and listen_pids (how many LISTEN_PID entries the environment has).
 *
 * New commands go in the table at the end; keep each a small function.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPORT_MAX	65536
#define FD_PROBE_MAX	1024
#define MAX_ENV		32
#define LISTEN_FD	3	/* SD_LISTEN_FDS_START */

extern char **environ;

struct report {
	char	buf[REPORT_MAX];
	size_t	len;
};

struct report_opts {
	const char	*env[MAX_ENV];
	size_t		 nenv;
	const char	*file;		/* NULL: stdout */
};

/*
 * Sanitizer runtimes install handlers for the fault signals (which would
 * show in sigcgt) and lower RLIMIT_CORE (which would hide the limit we were
 * given); the probe must report only what it inherited.
 */
const char	*__asan_default_options(void);
const char	*__tsan_default_options(void);
const char	*__ubsan_default_options(void);

#define SAN_OPTIONS "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:" \
	"handle_sigill=0:handle_abort=0:handle_sigtrap=0:disable_coredump=0"

const char *
__asan_default_options(void)
{
	return SAN_OPTIONS ":detect_leaks=0";
}

const char *
__tsan_default_options(void)
{
	return SAN_OPTIONS;
}

const char *
__ubsan_default_options(void)
{
	return SAN_OPTIONS;
}

static void	add(struct report *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
usage(const char *msg)
{
	fprintf(stderr, "probe: %s\n", msg);
	exit(2);
}

/* Append a formatted piece to the report (truncated if it is full). */
static void
add(struct report *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->len >= sizeof r->buf - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->len, sizeof r->buf - r->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->len += (size_t)n < sizeof r->buf - r->len ?
		    (size_t)n : sizeof r->buf - r->len - 1;
}

static int
int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * The open descriptors, sorted: /proc/self/fd where it exists (minus the
 * descriptor listing it), else fcntl() on every number below FD_PROBE_MAX.
 */
static size_t
open_fds(int *fds, size_t max)
{
	DIR *d;
	struct dirent *de;
	size_t n = 0;
	int fd;

	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(d)) != NULL && n < max) {
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			if ((fd = atoi(de->d_name)) != dirfd(d))
				fds[n++] = fd;
		}
		closedir(d);
	} else {
		for (fd = 0; fd < FD_PROBE_MAX && n < max; fd++)
			if (fcntl(fd, F_GETFD) != -1)
				fds[n++] = fd;
	}
	qsort(fds, n, sizeof *fds, int_cmp);
	return n;
}

/* fds=0,1,2 and fdid_N=dev:ino for each; first, before we open anything. */
static void
report_fds(struct report *r)
{
	int fds[FD_PROBE_MAX];
	struct stat st;
	size_t i, n;

	n = open_fds(fds, FD_PROBE_MAX);
	add(r, "fds=");
	for (i = 0; i < n; i++)
		add(r, "%s%d", i ? "," : "", fds[i]);
	add(r, "\n");
	for (i = 0; i < n; i++)
		if (fstat(fds[i], &st) == 0)
			add(r, "fdid_%d=%llu:%llu\n", fds[i],
			    (unsigned long long)st.st_dev,
			    (unsigned long long)st.st_ino);
}

/*
 * The Sig* lines of /proc/self/status, as the kernel shows them; 0 if the
 * file is missing (the caller then computes them).
 */
static int
proc_sigs(struct report *r)
{
	static const char *keys[] = { "SigBlk:", "SigIgn:", "SigCgt:" };
	static const char *names[] = { "sigblk", "sigign", "sigcgt" };
	char line[256];
	FILE *f;
	size_t i, found = 0;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL) {
		for (i = 0; i < 3; i++) {
			if (strncmp(line, keys[i], strlen(keys[i])) != 0)
				continue;
			add(r, "%s=%s", names[i],
			    line + strlen(keys[i]) + strspn(line +
			    strlen(keys[i]), " \t"));
			found++;
		}
	}
	fclose(f);
	return found == 3;
}

/* Mask and dispositions from the system calls, where /proc is missing. */
static void
report_sigs(struct report *r)
{
	unsigned long long blk = 0, ign = 0, cgt = 0, bit;
	struct sigaction sa;
	sigset_t m;
	int sig;

	if (proc_sigs(r))
		return;
	sigprocmask(SIG_BLOCK, NULL, &m);
	for (sig = 1; sig < 64 && sig < NSIG; sig++) {
		bit = 1ULL << (sig - 1);
		if (sigismember(&m, sig) == 1)
			blk |= bit;
		if (sigaction(sig, NULL, &sa) == -1)
			continue;
		if (sa.sa_handler == SIG_IGN)
			ign |= bit;
		else if (sa.sa_handler != SIG_DFL)
			cgt |= bit;
	}
	add(r, "sigblk=%016llx\nsigign=%016llx\nsigcgt=%016llx\n", blk, ign,
	    cgt);
}

static void
add_rlimit(struct report *r, const char *name, int resource)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl) == -1)
		return;
	add(r, "%s=", name);
	if (rl.rlim_cur == RLIM_INFINITY)
		add(r, "inf:");
	else
		add(r, "%llu:", (unsigned long long)rl.rlim_cur);
	if (rl.rlim_max == RLIM_INFINITY)
		add(r, "inf\n");
	else
		add(r, "%llu\n", (unsigned long long)rl.rlim_max);
}

/* Ids, session, groups, umask and working directory. */
static void
report_ids(struct report *r)
{
	gid_t groups[NGROUPS_MAX];
	char cwd[PATH_MAX];
	mode_t mask;
	int i, n;

	add(r, "pid=%ld\nppid=%ld\npgid=%ld\nsid=%ld\n", (long)getpid(),
	    (long)getppid(), (long)getpgrp(), (long)getsid(0));
	add(r, "uid=%lu\neuid=%lu\ngid=%lu\negid=%lu\n",
	    (unsigned long)getuid(), (unsigned long)geteuid(),
	    (unsigned long)getgid(), (unsigned long)getegid());
	n = getgroups(NGROUPS_MAX, groups);
	add(r, "groups=");
	for (i = 0; i < n; i++)
		add(r, "%s%lu", i ? "," : "", (unsigned long)groups[i]);
	add(r, "\n");
	mask = umask(0);
	umask(mask);
	add(r, "umask=%03o\n", (unsigned int)mask);
	add(r, "cwd=%s\n", getcwd(cwd, sizeof cwd) != NULL ? cwd : "?");
}

static void
build_report(struct report *r, const struct report_opts *o, int argc,
    char **argv)
{
	const char *v;
	size_t i;
	int j;

	r->len = 0;
	report_fds(r);
	report_ids(r);
	report_sigs(r);
	add_rlimit(r, "nofile", RLIMIT_NOFILE);
	add_rlimit(r, "core", RLIMIT_CORE);
	add(r, "tty_fg=%ld\n", (long)tcgetpgrp(0));
	add(r, "argc=%d\n", argc);
	for (j = 0; j < argc; j++)
		add(r, "argv_%d=%s\n", j, argv[j]);
	for (i = 0; i < o->nenv; i++)
		if ((v = getenv(o->env[i])) != NULL)
			add(r, "env_%s=%s\n", o->env[i], v);
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write the report to stdout, or atomically to file (tmp + rename). */
static int
emit(const struct report *r, const char *file)
{
	char tmp[PATH_MAX];
	int fd;

	if (file == NULL)
		return write_all(STDOUT_FILENO, r->buf, r->len);
	if (snprintf(tmp, sizeof tmp, "%s.tmp", file) >= (int)sizeof tmp)
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		return -1;
	if (write_all(fd, r->buf, r->len) == -1 || close(fd) == -1)
		return -1;
	return rename(tmp, file);
}

/* [-e NAME]... [FILE] */
static void
parse_report_opts(int argc, char **argv, struct report_opts *o)
{
	int i;

	memset(o, 0, sizeof *o);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-e") == 0) {
			if (++i == argc || o->nenv == MAX_ENV)
				usage("-e needs a NAME");
			o->env[o->nenv++] = argv[i];
		} else if (o->file == NULL)
			o->file = argv[i];
		else
			usage("too many arguments");
	}
}

static struct report	report;
static int		full_argc;	/* the whole command line */
static char		**full_argv;

static int
cmd_report(int argc, char **argv)
{
	struct report_opts o;

	parse_report_opts(argc, argv, &o);
	build_report(&report, &o, full_argc, full_argv);
	if (emit(&report, o.file) == -1) {
		perror("probe: report");
		return 1;
	}
	return 0;
}

/* Report, then wait for a signal to end us by its default action. */
static int
cmd_wait(int argc, char **argv)
{
	if (cmd_report(argc, argv) != 0)
		return 1;
	for (;;)
		pause();
}

static int
cmd_exit(int argc, char **argv)
{
	if (argc != 2)
		usage("exit N");
	return atoi(argv[1]);
}

/*
 * Socket activation as sd_listen_fds(3) sees it: report, with the LISTEN_*
 * variables; then, if LISTEN_PID is our pid and LISTEN_FDS at least 1,
 * accept one connection on descriptor 3, write "pid=N\n" (our pid) to it
 * and exit 0. Exit 1 when the descriptors are not for us.
 */
static int
cmd_listen(int argc, char **argv)
{
	static const char *vars[] = { "LISTEN_PID", "LISTEN_FDS",
	    "LISTEN_FDNAMES" };
	struct report_opts o;
	const char *pid, *fds;
	char buf[64];
	size_t i;
	int c, n = 0;

	parse_report_opts(argc, argv, &o);
	for (i = 0; i < 3 && o.nenv < MAX_ENV; i++)
		o.env[o.nenv++] = vars[i];
	build_report(&report, &o, full_argc, full_argv);
	for (i = 0; environ[i] != NULL; i++)
		n += strncmp(environ[i], "LISTEN_PID=", 11) == 0;
	add(&report, "listen_pids=%d\n", n);
	if (emit(&report, o.file) == -1) {
		perror("probe: report");
		return 1;
	}
	if ((pid = getenv("LISTEN_PID")) == NULL ||
	    atol(pid) != (long)getpid() ||
	    (fds = getenv("LISTEN_FDS")) == NULL || atoi(fds) < 1)
		return 1;
	while ((c = accept(LISTEN_FD, NULL, NULL)) == -1 && errno == EINTR)
		;
	if (c == -1) {
		perror("probe: accept");
		return 1;
	}
	n = snprintf(buf, sizeof buf, "pid=%ld\n", (long)getpid());
	n = write_all(c, buf, (size_t)n);
	close(c);
	return n == -1;
}

static const struct command {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*usage;
} commands[] = {
	{ "report",	cmd_report,	"report [-e NAME]... [FILE]" },
	{ "wait",	cmd_wait,	"wait [-e NAME]... [FILE]" },
	{ "exit",	cmd_exit,	"exit N" },
	{ "listen",	cmd_listen,	"listen [-e NAME]... [FILE]" },
};

int
main(int argc, char **argv)
{
	size_t i;

	full_argc = argc;
	full_argv = argv;
	if (argc >= 2) {
		for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
			if (strcmp(argv[1], commands[i].name) == 0)
				return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "usage:\n");
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(stderr, "\tprobe %s\n", commands[i].usage);
	return 2;
}
