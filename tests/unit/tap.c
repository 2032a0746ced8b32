/* The TAP runner: see tap.h. */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#define SKIP_STATUS	77

static int	skip_fd = -1;

long long
tap_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
tap_msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void
tap_fail_(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	fprintf(stdout, "# %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	if (saved != 0)
		fprintf(stdout, " (errno %d: %s)", saved, strerror(saved));
	fputc('\n', stdout);
	fflush(stdout);
	_exit(1);
}

void
tap_skip(const char *fmt, ...)
{
	va_list ap;
	char buf[256];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (skip_fd != -1 && write(skip_fd, buf, strlen(buf)) == -1)
		_exit(1);
	fflush(stdout);
	_exit(SKIP_STATUS);
}

void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* Kill and count the runner's children left behind by a case (Linux). */
static int
reap_leftovers(void)
{
	int n = 0;
#ifdef __linux__
	DIR *d;
	struct dirent *de;
	char path[300], buf[512], *p;
	FILE *f;
	long ppid;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof buf, f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 2, "%*c %ld", &ppid) == 1 &&
		    ppid == (long)getpid()) {
			kill((pid_t)atol(de->d_name), SIGKILL);
			n++;
		}
		fclose(f);
	}
	closedir(d);
#endif
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	/* Wait for the ones just killed. */
	if (n > 0)
		while (waitpid(-1, NULL, 0) > 0)
			;
	return n;
}

static int
run_one(const struct tap_case *c, int num, unsigned int scale)
{
	int pfd[2], status, left, timed_out = 0;
	pid_t pid, w;
	long long deadline, left_ms;
	struct timespec ts;
	sigset_t chld, oldmask;
	char reason[256];
	ssize_t len;
	unsigned int timeout = (c->timeout ? c->timeout : 30) * scale;

	fflush(stdout);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &oldmask);
	/* CLOEXEC: a program the case execs must not hold it open. */
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		printf("not ok %d - %s # pipe: %s\n", num, c->name,
		    strerror(errno));
		return 1;
	}
	if ((pid = fork()) == -1) {
		printf("not ok %d - %s # fork: %s\n", num, c->name,
		    strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(pfd[0]);
		skip_fd = pfd[1];
		setpgid(0, 0);
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		c->fn();
		fflush(stdout);
		_exit(0);
	}
	close(pfd[1]);
	setpgid(pid, pid);
	/*
	 * The timeout is kept here, not by alarm() in the case: a case may
	 * block every signal, SIGALRM included.
	 */
	deadline = tap_now_ms() + (long long)timeout * 1000;
	for (;;) {
		if ((w = waitpid(pid, &status, WNOHANG)) == pid)
			break;
		if ((left_ms = deadline - tap_now_ms()) <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			timed_out = 1;
			break;
		}
		ts.tv_sec = left_ms / 1000;
		ts.tv_nsec = (left_ms % 1000) * 1000000;
		sigtimedwait(&chld, NULL, &ts);
	}
	/*
	 * The reason was written before the case exited; a grandchild that
	 * kept the pipe open must not block us, so do not wait for more.
	 */
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	len = read(pfd[0], reason, sizeof reason - 1);
	close(pfd[0]);
	reason[len > 0 ? len : 0] = '\0';
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	kill(-pid, SIGKILL);	/* stragglers in the case's group */
	left = reap_leftovers();
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_STATUS) {
		printf("ok %d - %s # SKIP %s\n", num, c->name, reason);
		return 0;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && left == 0) {
		printf("ok %d - %s\n", num, c->name);
		return 0;
	}
	if (timed_out)
		printf("not ok %d - %s # timed out after %u s\n", num, c->name,
		    timeout);
	else if (WIFSIGNALED(status))
		printf("not ok %d - %s # killed by signal %d\n", num, c->name,
		    WTERMSIG(status));
	else if (left > 0)
		printf("not ok %d - %s # left %d process(es) behind\n", num,
		    c->name, left);
	else
		printf("not ok %d - %s\n", num, c->name);
	return 1;
}

int
tap_run(const struct tap_case *cases, size_t n)
{
	const char *only = getenv("TAP_ONLY"), *s;
	unsigned int scale = 1;
	size_t i;
	int failed = 0, num = 0;

	if ((s = getenv("TAP_TIMEOUT")) != NULL && atoi(s) > 0)
		scale = (unsigned int)atoi(s);
	setvbuf(stdout, NULL, _IOLBF, 0);
#if defined(PR_SET_CHILD_SUBREAPER)
	prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < n; i++)
		if (only == NULL || strcmp(only, cases[i].name) == 0)
			num++;
	printf("1..%d\n", num);
	num = 0;
	for (i = 0; i < n; i++) {
		if (only != NULL && strcmp(only, cases[i].name) != 0)
			continue;
		failed += run_one(&cases[i], ++num, scale);
	}
	return failed ? 1 : 0;
}
