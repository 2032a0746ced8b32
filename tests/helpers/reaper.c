/*
 * reaper CMD [ARG...]: run CMD as a child of a subreaper, pass its exit
 * status through, and when it ends kill every descendant still alive
 * (orphans are re-parented here). If any was left, say so on stdout as a
 * TAP diagnostic and exit 1: an integration test must leave no process.
 * SIGTERM/SIGINT/SIGHUP to the reaper are passed to CMD. Linux only; on
 * other systems it just runs CMD.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pid_t child;

static void
pass_on(int sig)
{
	if (child > 0)
		kill(child, sig);
}

/* Kill this process's children; return how many there were. */
static int
kill_children(void)
{
	DIR *d;
	struct dirent *de;
	char path[300], buf[512], *p;
	FILE *f;
	long ppid;
	int n = 0;

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
		    ppid == (long)getpid() && p[2] != 'Z') {
			printf("# reaper: killing left-over process %s %.*s\n",
			    de->d_name, (int)(p - buf + 1), buf);
			kill((pid_t)atol(de->d_name), SIGKILL);
			n++;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

int
main(int argc, char *argv[])
{
	int status = 0, st, left = 0, n, rounds;
	pid_t w;

	if (argc < 2) {
		fprintf(stderr, "usage: reaper command [arg ...]\n");
		return 2;
	}
#ifdef PR_SET_CHILD_SUBREAPER
	prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif
	signal(SIGTERM, pass_on);
	signal(SIGINT, pass_on);
	signal(SIGHUP, pass_on);
	if ((child = fork()) == -1)
		return 127;
	if (child == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	while ((w = waitpid(child, &status, 0)) == -1 && errno == EINTR)
		;
	fflush(stdout);
	/* Give orphans a moment to be re-parented, then sweep until none. */
	for (rounds = 0; rounds < 50; rounds++) {
		while ((w = waitpid(-1, &st, WNOHANG)) > 0)
			;
		if ((n = kill_children()) == 0)
			break;
		left += n;
		while (waitpid(-1, &st, 0) > 0)
			;
	}
	fflush(stdout);
	if (left > 0)
		return 1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}
