/*
 * Reaping: the one waitpid(-1, WNOHANG) loop, run on every SIGCHLD (a
 * hint, never a count: signals coalesce) until nothing is left, so no
 * zombie outlives a loop iteration. Exits of services' main processes go
 * to the state machine, those of check processes to check.c; orphans (we
 * are a subreaper or PID 1) are reaped and logged at debug.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>

#include "log.h"
#include "reexec.h"
#include "vigild.h"

void
reap_children(void)
{
	struct svc *s;
	pid_t pid;
	int status, n = 0;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		n++;
		if ((s = svc_by_pid(pid)) != NULL)
			svc_exited(s, status);
		else if (check_reaped(pid, status))
			continue;
		else if (reexec_reaped(pid, status))
			continue;
		else if (WIFSIGNALED(status))
			log_debug("reaped orphan %d (signal %d)", (int)pid,
			    WTERMSIG(status));
		else
			log_debug("reaped orphan %d (code %d)", (int)pid,
			    WEXITSTATUS(status));
	}
	if (n > 0)
		svc_groups_check();
}
