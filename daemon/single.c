/*
 * Single-command mode: vigild [options] -- COMMAND [ARG...] (SPEC 4, 6),
 * vigild as a container's init in place of tini or dumb-init.
 *
 * One thread, one libevent loop on the signal source and the one timer of
 * the phase below; no pool. main() has already blocked every asynchronous
 * signal, set the log level and made us a subreaper where we are not PID 1.
 *
 * - Every forwardable signal (all but KILL, STOP, the fault signals and the
 *   C library's internal ones) is taken from the source and sent as it came
 *   to the command's process group; vigild acts on none of them itself, and
 *   its own end comes from the command's. SIGCHLD is never forwarded: it is
 *   the hint to reap, with the one waitpid(-1, WNOHANG) loop, which reaps
 *   orphans re-parented to us too. A signal vigild sent itself (SIGPIPE
 *   from a write to a closed stderr) is not passed on.
 * - The command runs in a session of its own (its pid is its group) with
 *   0, 1, 2 and every other descriptor vigild inherited at the same number
 *   (socket activation); vigild's own descriptors are close-on-exec.
 *   Descriptors activated for vigild (LISTEN_PID is its pid) are the
 *   command's: it sees LISTEN_PID as its own pid (single_activation()).
 * - Its status is its exit code, or 128+N if signal N killed it. When it
 *   ends for good, what is left of its group and of our descendants gets
 *   SIGTERM (and SIGCONT, for stopped ones), then SIGKILL once the grace
 *   period is over; vigild exits with that status as soon as none is left.
 * - --restart always|on-failure: after each run the rest of its group is
 *   stopped the same way, then the command starts again after a delay that
 *   doubles from 100 ms up to 30 s while runs last less than 1 s. SIGTERM
 *   or SIGINT, forwarded like any signal, also ends the restarts.
 * - No timer runs while the command runs; the loop only wakes up for
 *   deadlines while waiting to restart or for the rest of a group to go.
 * - -p PIDFILE: written and locked as in configuration mode (pidfile.c),
 *   before the command starts, so a second vigild on the same file never
 *   starts its command; removed at exit.
 * - -s SOCKET: the control socket of configuration mode (control*.c, peer
 *   checks included) on this loop. Its commands act on struct svc, so the
 *   command is described by a one-service configuration (config_single())
 *   and one struct svc that this file keeps up to date as a mirror of its
 *   phases (single_state()); service.c's state machine never drives it.
 *   What the commands do comes from single_ops: start and restart skip a
 *   restart delay, restart stops the run as stop does and starts again at
 *   once whatever the policy; stop and shutdown end the command for good,
 *   as a forwarded SIGTERM does, then vigild exits with its status. Both
 *   stop the run as a grace-bounded stop: SIGTERM, SIGKILL after --grace.
 *   Output is not captured, so log answers that it is not.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "vigild.h"
#include "xmalloc.h"

#define SINGLE_DELAY_MIN_MS	100	/* first restart delay */
#define SINGLE_DELAY_MAX_MS	30000	/* ceiling of the doubling */
#define SINGLE_QUICK_MS		1000	/* a shorter run is a quick failure */
#define SINGLE_KILL_WAIT_MS	2000	/* after SIGKILL, before giving up */
#define SINGLE_RECHECK_MS	100	/* see single_timeout() */
#define SINGLE_FD_MAX		1024	/* vigil_spawnattr_set_fd() bound */
#define SINGLE_SIG_BATCH	256	/* signals read per wake-up */

enum single_phase {
	PHASE_RUN,	/* the command runs */
	PHASE_DRAIN,	/* it ended; the rest of its group goes, then backoff */
	PHASE_BACKOFF,	/* waiting to start it again */
	PHASE_FINAL,	/* it ended for good; the rest goes, then we exit */
	PHASE_DONE	/* nothing left: return the status */
};

struct single {
	const struct single_opts *opts;
	const char	*name;		/* the service's, for log lines */
	const char	*path;		/* argv[0], for messages */
	struct svc	*svc;		/* what the control socket sees */
	struct vigil_spawnattr *attr;
	struct vigil_sigsrc *src;
	struct event	*sig_ev;	/* the source is readable */
	struct event	*timer_ev;	/* deadline_ms, or a recheck */
	int		 spawn_flags;	/* VIGIL_SPAWN_SEARCH, _LISTEN_PID */
	int		 tty_flags;	/* VIGIL_SPAWN_CTTY etc., or 0 */
	int		 tty_back;	/* give the foreground back at exit */
	sigset_t	 early;		/* received before the first start */
	enum single_phase phase;
	pid_t		 pid;		/* the command; 0 when not running */
	pid_t		 pgid;		/* its group; 0 before the first run */
	int		 ended;		/* reaped, not yet acted upon */
	int		 wstatus;	/* its wait status, when ended */
	int		 children;	/* waitpid() says we have some left */
	int64_t		 started_ms;
	int64_t		 ended_ms;
	int64_t		 deadline_ms;	/* -1: none */
	int64_t		 restart_ms;	/* when to start again */
	int64_t		 delay_ms;	/* next quick-failure delay */
	int		 killed;	/* SIGKILL sent in this stop */
	int		 status;	/* exit code, or 128+N */
	int		 stop;		/* no more restarts */
	int		 stopping;	/* a stop on request of the run */
	int		 op_restart;	/* start again once the run is over */
	int		 op_stop;	/* ended by vigilctl stop or shutdown */
	int		 fatal;		/* cannot be executed */
	unsigned int	 runs;		/* starts so far */
	char		 what[160];	/* how the last run ended */
};

static struct single	*ctl_single;	/* for single_ops */

static void	single_state(struct single *, enum svc_state, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/*
 * Set the state the control socket shows for the command, and why (the
 * lines of the log are single.c's own, as they have always been).
 */
static void
single_state(struct single *s, enum svc_state st, const char *fmt, ...)
{
	struct svc *svc = s->svc;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(svc->reason, sizeof svc->reason, fmt, ap);
	va_end(ap);
	svc->state = st;
	svc->state_ms = now_ms();
}

/* No more restarts: the end comes with the command's (or its group's). */
static void
single_no_restart(struct single *s)
{
	s->stop = 1;
	vd.shutting_down = 1;	/* the control socket refuses starts */
}

/* "SIGTERM", or "signal 40" for one without a name (buf holds it). */
static const char *
single_signame(int signo, char *buf, size_t len)
{
	const char *n;

	if ((n = config_signal_name(signo)) != NULL)
		return n;
	snprintf(buf, len, "signal %d", signo);
	return buf;
}

/*
 * The signals the source takes: every asynchronous one that can be caught
 * (vigil_sigset_async() leaves out the fault signals, and sigfillset() the
 * C library's internal ones), SIGCHLD included as the reap hint.
 */
static void
single_sigset(sigset_t *set)
{
	vigil_sigset_async(set);
	sigdelset(set, SIGKILL);
	sigdelset(set, SIGSTOP);
}

/*
 * Put every signal of set back to SIG_DFL; they are all blocked, so none
 * can act. A SIGCHLD ignored by whoever started us would make the kernel
 * reap our children itself (statuses lost, waitpid() failing with ECHILD),
 * and the BSDs discard an ignored signal instead of queueing it.
 */
static void
single_default_dispositions(const sigset_t *set)
{
	struct sigaction sa;
	int signo;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (signo = 1; signo < NSIG; signo++)
		if (sigismember(set, signo) == 1)
			(void)sigaction(signo, &sa, NULL);
}

/* Pass descriptor fd if vigild inherited it (open, not close-on-exec). */
static void
single_pass_fd(struct vigil_spawnattr *a, int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFD)) == -1 || (fl & FD_CLOEXEC))
		return;
	if (fd >= SINGLE_FD_MAX) {
		log_warnx("descriptor %d not passed to the command (above %d)",
		    fd, SINGLE_FD_MAX - 1);
		return;
	}
	if (vigil_spawnattr_set_fd(a, fd, fd) == -1)
		fatal("descriptor %d", fd);
	if (fd > STDERR_FILENO)
		log_debug("passing descriptor %d to the command", fd);
}

/* A LISTEN_* count or pid: decimal digits only, 1 to max; else -1. */
static long
single_listen_num(const char *v, long max)
{
	char *end;
	long n;

	if (v == NULL || v[0] < '0' || v[0] > '9')
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > max)
		return -1;
	return n;
}

/*
 * Socket activation (sd_listen_fds(3)). Descriptors 3 to 3+LISTEN_FDS-1
 * given to vigild with LISTEN_PID naming vigild are the command's, and
 * sd_listen_fds() in the command takes them only if LISTEN_PID names the
 * command: so the command gets LISTEN_PID set to its own pid by the spawn
 * (VIGIL_SPAWN_LISTEN_PID, on every start), LISTEN_FDS and LISTEN_FDNAMES
 * as they are. The checks are sd_listen_fds()'s: our pid, a count of at
 * least 1, every one of those descriptors open; done first, before vigild
 * opens anything that could take a missing number. Variables naming
 * another process (left over from an ancestor) or invalid are removed, as
 * systemd would not set them: the command is not activated. Every
 * inherited descriptor passes anyway (single_pass_fds()).
 * Returns the spawn flag to add, or 0.
 */
static int
single_activation(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long n, fd;

	if (pid == NULL && fds == NULL && getenv("LISTEN_FDNAMES") == NULL)
		return 0;
	if (single_listen_num(pid, LONG_MAX) != (long)getpid()) {
		log_debug("LISTEN_PID=%s does not name vigild: no LISTEN_* "
		    "variables for the command", pid != NULL ? pid : "");
		goto drop;
	}
	if ((n = single_listen_num(fds, SINGLE_FD_MAX - 3)) == -1) {
		log_warnx("LISTEN_FDS=%s is not a count of descriptors: no "
		    "LISTEN_* variables for the command", fds != NULL ? fds :
		    "");
		goto drop;
	}
	for (fd = 3; fd < 3 + n; fd++)
		if (fcntl((int)fd, F_GETFD) == -1) {
			log_warnx("LISTEN_FDS=%ld, but descriptor %ld is not "
			    "open: no LISTEN_* variables for the command", n,
			    fd);
			goto drop;
		}
	log_debug("socket activation: %ld descriptor(s) for the command", n);
	return VIGIL_SPAWN_LISTEN_PID;
drop:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 0;
}

/*
 * Give the command every descriptor vigild inherited, at the same number:
 * 0, 1 and 2 (one that is closed is /dev/null in the child), and those
 * above, for socket activation. What vigild opens itself is close-on-exec
 * and so never passed: the signal source, a pid file, the C library's.
 */
static void
single_pass_fds(struct vigil_spawnattr *a)
{
	struct dirent *de;
	DIR *d;
	char *end;
	long fd;

	if ((d = opendir("/proc/self/fd")) == NULL) {
		for (fd = 0; fd < SINGLE_FD_MAX; fd++)
			single_pass_fd(a, (int)fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		fd = strtol(de->d_name, &end, 10);
		if (de->d_name[0] < '0' || de->d_name[0] > '9' ||
		    *end != '\0' || fd > INT_MAX || fd == dirfd(d))
			continue;
		single_pass_fd(a, (int)fd);
	}
	closedir(d);
}

/*
 * 1 if the kernel sent si on our behalf: Linux sends the signals of
 * TIOCNOTTY as if we had sent them to ourselves, others as the kernel.
 */
static int
single_from_kernel(const siginfo_t *si)
{
#ifdef SI_KERNEL
	if (si->si_code == SI_KERNEL)
		return 1;
#endif
	return si->si_pid == 0 || si->si_pid == getpid();
}

/*
 * Let go of the terminal of the session we lead, so that the command can
 * make it its own. The kernel then sends SIGHUP and SIGCONT to the
 * terminal's foreground group, that is to us; they are blocked, so take
 * them back at once instead of forwarding them to the command just started
 * (dumb-init #136). A HUP or CONT another process of our pid namespace
 * sent meanwhile is kept in s->early and forwarded after the start.
 */
static int
single_release_tty(struct single *s)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;
	siginfo_t si;

	if (ioctl(STDIN_FILENO, TIOCNOTTY) == -1) {
		log_warn("cannot release the terminal");
		return -1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCONT);
	while (sigtimedwait(&set, &si, &zero) > 0) {
		if (single_from_kernel(&si))
			continue;
		sigaddset(&s->early, si.si_signo);
	}
	return 0;
}

/*
 * Give the terminal on fd 0 to the command when vigild is in its
 * foreground group (the init of `docker run -it`, or vigild run from an
 * interactive shell), so that job control works in it.
 *
 * A terminal belongs to one session. Where vigild leads that session (the
 * container case), it lets go of the terminal, and the command takes it in
 * a session of its own: setsid, TIOCSCTTY and tcsetpgrp in the child
 * (VIGIL_SPAWN_CTTY). Elsewhere the terminal stays with the shell's
 * session, so the command runs in a new process group of vigild's session
 * made the foreground one (tcsetpgrp in the child), and vigild gives the
 * foreground back to its own group when it exits.
 *
 * vigild itself never stops for job control: TSTP, TTIN and TTOU are
 * blocked and taken from the source like every other signal (and
 * forwarded to the command's group), and because SIGTTOU is blocked the
 * kernel lets vigild write to the terminal and call tcsetpgrp() from a
 * background group instead of stopping it.
 */
static void
single_tty(struct single *s)
{
	pid_t fg;

	if (!isatty(STDIN_FILENO) ||
	    (fg = tcgetpgrp(STDIN_FILENO)) == -1 || fg != getpgrp())
		return;
	if (getsid(0) == getpid()) {
		if (single_release_tty(s) == 0)
			s->tty_flags = VIGIL_SPAWN_CTTY;
	} else {
		s->tty_flags = VIGIL_SPAWN_CTTY | VIGIL_SPAWN_NOSETSID |
		    VIGIL_SPAWN_SETPGROUP;
		s->tty_back = 1;
	}
	if (s->tty_flags != 0)
		log_debug("the command gets the terminal%s", s->tty_back ?
		    " in a process group of our session" : "");
}

/* Put our own group back in the foreground of the terminal, at exit. */
static void
single_tty_restore(const struct single *s)
{
	if (s->tty_back && tcsetpgrp(STDIN_FILENO, getpgrp()) == -1)
		log_debug("cannot take the terminal back: %s",
		    strerror(errno));
}

/* Signal the command's process group, if it has ever had one. */
static int
single_kill_group(const struct single *s, int signo)
{
	if (s->pgid <= 1)
		return 0;
	return kill(-s->pgid, signo);
}

/* 1 if the command's process group still has a member. */
static int
single_group_alive(const struct single *s)
{
	return s->pgid > 1 && (kill(-s->pgid, 0) == 0 || errno != ESRCH);
}

struct single_proc {
	pid_t	pid;
	pid_t	ppid;
	int	mark;	/* a descendant of ours */
};

static int
single_proc_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct single_proc *)a)->pid;
	pid_t y = ((const struct single_proc *)b)->pid;

	return (x > y) - (x < y);
}

/* Parse /proc/NAME/stat into p; 0 on success. */
static int
single_proc_read(const char *name, struct single_proc *p)
{
	char path[64], buf[512], *cp;
	long ppid;
	FILE *f;
	int ok;

	snprintf(path, sizeof path, "/proc/%s/stat", name);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	ok = fgets(buf, sizeof buf, f) != NULL &&
	    (cp = strrchr(buf, ')')) != NULL &&
	    sscanf(cp + 1, " %*c %ld", &ppid) == 1;
	fclose(f);
	if (!ok)
		return -1;
	p->pid = (pid_t)strtol(name, NULL, 10);
	p->ppid = (pid_t)ppid;
	p->mark = 0;
	return 0;
}

/*
 * Every process of /proc, sorted by pid, in *procs; the count, or -1 if
 * /proc is missing or shows another pid namespace than ours (its "self"
 * is not our pid), where its pids would mean nothing to kill().
 */
static ssize_t
single_proc_list(struct single_proc **procs)
{
	struct single_proc *v = NULL;
	struct dirent *de;
	size_t n = 0, cap = 0;
	char self[32];
	ssize_t len;
	DIR *d;

	if ((len = readlink("/proc/self", self, sizeof self - 1)) <= 0)
		return -1;
	self[len] = '\0';
	if (strtol(self, NULL, 10) != (long)getpid() ||
	    (d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			v = xreallocarray(v, cap, sizeof *v);
		}
		if (single_proc_read(de->d_name, &v[n]) == 0)
			n++;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof *v, single_proc_cmp);
	*procs = v;
	return (ssize_t)n;
}

/* Mark the descendants of pid me in v (sorted by pid). */
static void
single_proc_mark(struct single_proc *v, size_t n, pid_t me)
{
	struct single_proc key, *parent;
	size_t i;
	int changed;

	do {
		changed = 0;
		for (i = 0; i < n; i++) {
			if (v[i].mark)
				continue;
			key.pid = v[i].ppid;
			parent = bsearch(&key, v, n, sizeof *v,
			    single_proc_cmp);
			if (v[i].ppid == me || (parent != NULL &&
			    parent->mark)) {
				v[i].mark = 1;
				changed = 1;
			}
		}
	} while (changed);
}

/*
 * Send signo to every descendant of vigild, found through /proc. As PID 1
 * without a usable /proc, every process of the namespace but us is one:
 * kill(-1). Elsewhere without /proc only the group is known. A descendant
 * that is not our child may end and its pid be reused between the scan and
 * the kill; our own children cannot, since only we reap them.
 */
static void
single_kill_descendants(int signo)
{
	struct single_proc *v;
	ssize_t n, i;

	if ((n = single_proc_list(&v)) == -1) {
		if (getpid() == 1)
			(void)kill(-1, signo);
		return;
	}
	single_proc_mark(v, (size_t)n, getpid());
	for (i = 0; i < n; i++)
		if (v[i].mark)
			(void)kill(v[i].pid, signo);
	free(v);
}

/* signo to the command's group, and in the final stop to every descendant. */
static void
single_kill_rest(const struct single *s, int signo)
{
	(void)single_kill_group(s, signo);
	if (s->phase == PHASE_FINAL)
		single_kill_descendants(signo);
}

/*
 * 1 while something of the stop is left: a member of the command's group,
 * and in the final stop any child of ours (adopted orphans included; as PID
 * 1 or subreaper every descendant has a child of ours as an ancestor).
 */
static int
single_left(const struct single *s)
{
	if (single_group_alive(s))
		return 1;
	return s->phase == PHASE_FINAL && s->children;
}

/* Start stopping what is left: SIGTERM now, SIGKILL after the grace. */
static void
single_stop_rest(struct single *s, enum single_phase phase)
{
	s->phase = phase;
	s->killed = 0;
	s->deadline_ms = -1;
	if (!single_left(s))
		return;
	single_state(s, SVC_STOPPING, "%s; sending SIGTERM to the processes "
	    "left", s->what);
	log_info("sending SIGTERM to the processes left%s",
	    phase == PHASE_FINAL ? "" : " in the group");
	single_kill_rest(s, SIGTERM);
	single_kill_rest(s, SIGCONT);
	s->deadline_ms = now_ms() + s->opts->grace_ms;
}

/* Wait to start again: the quick-failure delay, counted from the end. */
static void
single_backoff(struct single *s)
{
	int64_t left;

	if (s->stop) {
		single_stop_rest(s, PHASE_FINAL);
		return;
	}
	s->phase = PHASE_BACKOFF;
	s->deadline_ms = s->restart_ms;
	left = s->restart_ms - now_ms();
	if (left < 0)
		left = 0;
	single_state(s, SVC_BACKOFF, "%s; restarting in %.3f s", s->what,
	    (double)left / 1000.0);
	log_svc(LOG_LEVEL_INFO, s->name, "restarting in %lld ms",
	    (long long)left);
}

/* 1 if the policy restarts the command after a run ending with status. */
static int
single_wants_restart(const struct single *s, int status)
{
	if (s->stop)
		return 0;
	if (s->op_restart)
		return 1;
	switch (s->opts->restart) {
	case RESTART_ALWAYS:
		return 1;
	case RESTART_ON_FAILURE:
		return status != 0;
	default:
		return 0;
	}
}

/*
 * A run is over with status (already in s->status): choose the restart
 * time (delay doubling on quick failures, back to the minimum after a long
 * run) and stop the rest of the group, or stop everything and exit.
 */
static void
single_run_over(struct single *s)
{
	int64_t delay;

	if (!single_wants_restart(s, s->status)) {
		single_stop_rest(s, PHASE_FINAL);
		return;
	}
	if (s->ended_ms - s->started_ms >= SINGLE_QUICK_MS || s->op_restart)
		s->delay_ms = SINGLE_DELAY_MIN_MS;
	delay = s->op_restart ? 0 : s->delay_ms;
	s->op_restart = 0;
	s->delay_ms = s->delay_ms * 2 > SINGLE_DELAY_MAX_MS ?
	    SINGLE_DELAY_MAX_MS : s->delay_ms * 2;
	s->restart_ms = s->ended_ms + delay;
	single_stop_rest(s, PHASE_DRAIN);
}

/* The command was reaped: log how it ended and take its status. */
static void
single_ended(struct single *s)
{
	char buf[32];
	int st = s->wstatus;

	s->ended = 0;
	s->pid = 0;
	s->stopping = 0;
	s->ended_ms = now_ms();
	s->svc->pid = 0;
	if (WIFEXITED(st)) {
		s->status = WEXITSTATUS(st);
		snprintf(s->what, sizeof s->what, "exited with status %d",
		    s->status);
		s->svc->last_code = s->status;
		s->svc->last_signal = 0;
	} else {
		s->status = 128 + WTERMSIG(st);
		snprintf(s->what, sizeof s->what, "killed by %s",
		    single_signame(WTERMSIG(st), buf, sizeof buf));
		s->svc->last_code = -1;
		s->svc->last_signal = WTERMSIG(st);
	}
	log_svc(LOG_LEVEL_INFO, s->name, "%s", s->what);
	single_run_over(s);
}

/*
 * The one waitpid() loop: reap every child that has ended, the command,
 * its group, and orphans re-parented to us, until none is waiting. Stopped
 * and continued children are not asked for, so only an end counts.
 */
static void
single_reap(struct single *s)
{
	pid_t pid;
	int st;

	for (;;) {
		pid = waitpid(-1, &st, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0) {
			s->children = pid == 0 || errno != ECHILD;
			return;
		}
		if (pid == s->pid) {
			s->ended = 1;
			s->wstatus = st;
		} else
			log_debug("reaped process %ld", (long)pid);
	}
}

/* A signal vigild received: the reap hint, or one to forward. */
static void
single_signal(struct single *s, const struct vigil_siginfo *si)
{
	char buf[32];
	const char *name = single_signame(si->signo, buf, sizeof buf);

	if (si->signo == SIGCHLD)
		return;		/* the loop reaps after every wake-up */
	if (si->pid == getpid()) {
		log_debug("not forwarding %s sent by vigild itself", name);
		return;
	}
	if ((si->signo == SIGTERM || si->signo == SIGINT) && !s->stop) {
		single_no_restart(s);
		if (s->opts->restart == RESTART_ALWAYS ||
		    s->opts->restart == RESTART_ON_FAILURE)
			log_info("%s received: no more restarts", name);
	}
	if (s->phase == PHASE_BACKOFF || s->pgid == 0) {
		log_debug("%s dropped: the command is not running", name);
		return;
	}
	if (single_kill_group(s, si->signo) == -1)
		log_debug("forwarding %s: %s", name, strerror(errno));
	else
		log_debug("forwarded %s to process group %ld", name,
		    (long)s->pgid);
}

/* Forward what came before the first start (see single_release_tty()). */
static void
single_forward_early(struct single *s)
{
	struct vigil_siginfo si;
	int signo;

	memset(&si, 0, sizeof si);
	for (signo = 1; signo < NSIG; signo++) {
		if (sigismember(&s->early, signo) != 1)
			continue;
		si.signo = signo;
		single_signal(s, &si);
	}
	sigemptyset(&s->early);
}

/* Take every pending signal from the source, a bounded batch at a time. */
static void
single_read_signals(struct single *s)
{
	struct vigil_siginfo si;
	int n, r;

	for (n = 0; n < SINGLE_SIG_BATCH; n++) {
		if ((r = vigil_sigsrc_read(s->src, &si)) == 0)
			return;
		if (r == -1)
			fatal("signal source");
		single_signal(s, &si);
	}
}

/*
 * Spawn the command. Where the terminal cannot be handed over after all
 * (the session we left still holds it, say), start it without.
 */
static int
single_spawn(struct single *s, pid_t *pidp)
{
	int saved;

	vigil_spawnattr_set_flags(s->attr, s->spawn_flags | s->tty_flags);
	if (vigil_spawn(s->attr, pidp, NULL) == 0)
		return 0;
	if (s->tty_flags == 0 || (errno != EPERM && errno != ENOTTY))
		return -1;
	saved = errno;
	log_svc(LOG_LEVEL_WARN, s->name, "cannot get the terminal: %s",
	    strerror(saved));
	s->tty_flags = 0;
	vigil_spawnattr_set_flags(s->attr, s->spawn_flags);
	return vigil_spawn(s->attr, pidp, NULL);
}

/* 1 for the spawn errors that a later try may not see (resources). */
static int
single_transient(int err)
{
	return err == EAGAIN || err == ENOMEM || err == EMFILE ||
	    err == ENFILE;
}

/*
 * The command could not be started. Not executable: a message naming it,
 * and the end with 127 (not found) or 126, whatever the restart policy.
 * Short of resources: a failed run with status 126, for the policy.
 */
static void
single_start_failed(struct single *s, int err)
{
	snprintf(s->what, sizeof s->what, "cannot execute %s: %s", s->path,
	    strerror(err));
	log_svc(LOG_LEVEL_ERROR, s->name, "%s", s->what);
	s->status = err == ENOENT ? 127 : 126;
	s->started_ms = s->ended_ms = now_ms();
	if (!single_transient(err)) {
		single_no_restart(s);
		s->fatal = 1;
		single_state(s, SVC_FATAL, "%s", s->what);
	}
	single_run_over(s);
}

/* Start (or start again) the command. */
static void
single_start(struct single *s)
{
	pid_t pid;

	if (single_spawn(s, &pid) == -1) {
		single_start_failed(s, errno);
		return;
	}
	s->pid = s->pgid = pid;
	s->started_ms = now_ms();
	s->phase = PHASE_RUN;
	s->deadline_ms = -1;
	s->stopping = s->killed = 0;
	if (s->runs++ > 0)
		s->svc->restarts++;
	s->svc->pid = pid;
	s->svc->started_ms = s->started_ms;
	s->svc->ready = 1;	/* no readiness in this mode: up is ready */
	single_state(s, SVC_RUNNING, "started, pid %ld", (long)pid);
	log_svc(LOG_LEVEL_INFO, s->name, "started, pid %ld", (long)pid);
}

/*
 * Stop the run on request (vigilctl stop, restart, shutdown): SIGTERM and
 * SIGCONT to the command's group now, SIGKILL when the grace period is
 * over (single_step_once()). Its end is then handled as any other.
 */
static void
single_stop_run(struct single *s, const char *why)
{
	if (s->phase != PHASE_RUN || s->stopping)
		return;
	s->stopping = 1;
	s->killed = 0;
	single_state(s, SVC_STOPPING, "%s: sending SIGTERM", why);
	log_svc(LOG_LEVEL_INFO, s->name, "%s: sending SIGTERM to its process "
	    "group", why);
	(void)single_kill_group(s, SIGTERM);
	(void)single_kill_group(s, SIGCONT);
	s->deadline_ms = now_ms() + s->opts->grace_ms;
}

/*
 * A stop on request outlived the grace period: SIGKILL to the group. The
 * command's SIGCHLD ends the run; no deadline is left to wait for.
 */
static void
single_stop_expired(struct single *s)
{
	log_svc(LOG_LEVEL_WARN, s->name, "grace period over: sending SIGKILL "
	    "to its process group");
	(void)single_kill_group(s, SIGKILL);
	s->killed = 1;
	s->deadline_ms = -1;
}

/* Nothing is left: the state the control socket shows last. */
static void
single_done(struct single *s)
{
	s->phase = PHASE_DONE;
	if (s->fatal)
		single_state(s, SVC_FATAL, "%s", s->what);
	else if (s->op_stop)
		single_state(s, SVC_STOPPED, "stopped (%s)", s->what);
	else
		single_state(s, SVC_EXITED, "%s", s->what);
}

/*
 * The grace period is over: SIGKILL to what is left. After a last bounded
 * wait (a process in uninterruptible sleep), give up waiting for it.
 */
static void
single_expired(struct single *s)
{
	if (!s->killed) {
		log_warnx("grace period over: sending SIGKILL");
		single_kill_rest(s, SIGKILL);
		s->killed = 1;
		s->deadline_ms = now_ms() + SINGLE_KILL_WAIT_MS;
		return;
	}
	log_warnx("processes still left after SIGKILL; not waiting");
	if (s->phase == PHASE_DRAIN)
		single_backoff(s);
	else
		single_done(s);
}

/* Move on from the current phase once its condition or deadline is met. */
static void
single_step_once(struct single *s)
{
	int expired = s->deadline_ms != -1 && now_ms() >= s->deadline_ms;

	switch (s->phase) {
	case PHASE_RUN:
		if (s->stopping && expired)
			single_stop_expired(s);
		break;
	case PHASE_DRAIN:
	case PHASE_FINAL:
		if (single_left(s)) {
			if (expired)
				single_expired(s);
		} else if (s->phase == PHASE_DRAIN)
			single_backoff(s);
		else
			single_done(s);
		break;
	case PHASE_BACKOFF:
		if (s->stop)
			single_stop_rest(s, PHASE_FINAL);
		else if (expired)
			single_start(s);
		break;
	default:
		break;
	}
}

/* Act on a reaped command, then move on until the phase holds. */
static void
single_step(struct single *s)
{
	enum single_phase prev;

	if (s->ended)
		single_ended(s);
	do {
		prev = s->phase;
		single_step_once(s);
	} while (s->phase != prev);
}

/*
 * How long the loop may sleep: forever while the command runs or nothing is
 * due. While the rest of a group goes, look again every SINGLE_RECHECK_MS:
 * a member whose parent is not us ends without a SIGCHLD to us.
 */
static int
single_timeout(const struct single *s)
{
	int64_t left;

	if (s->deadline_ms == -1)
		return -1;
	left = s->deadline_ms - now_ms();
	if (left < 0)
		left = 0;
	if ((s->phase == PHASE_DRAIN || s->phase == PHASE_FINAL) &&
	    left > SINGLE_RECHECK_MS)
		left = SINGLE_RECHECK_MS;
	return (int)left;
}

/*
 * Move on as far as the phase allows, then sleep until its next deadline
 * (no timer at all when nothing is due), or end the loop when done.
 */
static void
single_update(struct single *s)
{
	struct timeval tv;
	int ms;

	single_step(s);
	if (s->phase == PHASE_DONE) {
		event_base_loopbreak(vd.base);
		return;
	}
	if ((ms = single_timeout(s)) == -1)
		evtimer_del(s->timer_ev);
	else {
		ms_to_tv(ms, &tv);
		evtimer_add(s->timer_ev, &tv);
	}
}

/* Signals came: forward them, reap, move on. */
static void
single_signal_cb(evutil_socket_t fd, short what, void *arg)
{
	struct single *s = arg;

	single_read_signals(s);
	single_reap(s);
	single_update(s);
}

/* A deadline or a recheck (see single_timeout()). */
static void
single_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct single *s = arg;

	single_reap(s);
	single_update(s);
}

/* The loop: wait for a signal or a deadline, reap, move on; until done. */
static void
single_loop(struct single *s)
{
	s->sig_ev = event_new(vd.base, vigil_sigsrc_fd(s->src),
	    EV_READ | EV_PERSIST, single_signal_cb, s);
	s->timer_ev = evtimer_new(vd.base, single_timer_cb, s);
	if (s->sig_ev == NULL || s->timer_ev == NULL)
		fatalx("cannot create the loop's events");
	event_add(s->sig_ev, NULL);
	single_update(s);
	if (s->phase != PHASE_DONE && event_base_dispatch(vd.base) == -1)
		fatalx("the event loop failed");
	event_free(s->timer_ev);
	event_free(s->sig_ev);
}

/* ---- the control socket's operations (vigilctl) ------------------ */

/*
 * start: waiting to restart, or for the rest of the last run to go, the
 * command starts now (or as soon as that rest is gone), its quick-failure
 * delay back to the minimum. Running, it is already started.
 */
static int
single_op_start(struct svc *svc, const char *why)
{
	struct single *s = ctl_single;

	if (s->stop)
		return -1;
	if (s->phase == PHASE_BACKOFF || s->phase == PHASE_DRAIN) {
		log_svc(LOG_LEVEL_INFO, s->name, "starting without delay: %s",
		    why);
		s->delay_ms = SINGLE_DELAY_MIN_MS;
		s->restart_ms = now_ms();
		if (s->phase == PHASE_BACKOFF)
			s->deadline_ms = s->restart_ms;
	}
	single_update(s);
	return 0;
}

/* restart: stop the run and start again at once, whatever the policy. */
static int
single_op_restart(struct svc *svc, const char *why)
{
	struct single *s = ctl_single;

	if (s->stop)
		return -1;
	if (s->phase != PHASE_RUN)
		return single_op_start(svc, why);
	s->op_restart = 1;
	single_stop_run(s, why);
	single_update(s);
	return 0;
}

/*
 * stop and shutdown: the command ends for good, as after a forwarded
 * SIGTERM (and vigild with it), but bounded: SIGKILL after the grace
 * period. A stop waits for the state stopped, which the control socket
 * reports on its way out (control_close()).
 */
static void
single_end(struct single *s, const char *why)
{
	if (!s->stop)
		log_info("%s: the command stops for good, and vigild with it",
		    why);
	single_no_restart(s);
	s->op_stop = 1;
	s->op_restart = 0;
	single_stop_run(s, why);
	single_update(s);
}

static int
single_op_stop(struct svc *svc, const char *why)
{
	single_end(ctl_single, why);
	return 0;
}

static void
single_op_shutdown(void)
{
	single_end(ctl_single, "shutdown");
}

static const struct svc_ops single_ops = {
	single_op_start, single_op_stop, single_op_restart, single_op_shutdown,
	NULL	/* no configuration to reload */
};

/*
 * Describe the command for the control socket: a one-service
 * configuration and its struct svc, kept up to date by single_state().
 * With -s, open the socket (refusing if another vigild has it) and serve.
 */
static void
single_control(struct single *s, char **argv)
{
	char err[512];

	/*
	 * A stop may take the grace period twice over, the command's then
	 * its leftovers', each with its wait after SIGKILL: vigilctl waits
	 * for that long.
	 */
	vd.conf = config_single(argv, s->opts->restart == -1 ? RESTART_NEVER :
	    (enum restart_policy)s->opts->restart,
	    2 * (s->opts->grace_ms + SINGLE_KILL_WAIT_MS));
	vd.ops = &single_ops;
	ctl_single = s;
	s->svc = svc_add_conf_instance(&vd.conf->services[0], 0);
	s->name = s->svc->name;
	if (s->opts->socket == NULL)
		return;
	if (control_listen(s->opts->socket, err, sizeof err) == -1) {
		pidfile_remove();
		fatalx("%s", err);
	}
	control_start();
}

/*
 * Run argv as the one supervised command until it ends for good and
 * nothing of it is left; return the status for main() to exit with.
 */
int
single_main(char **argv, const struct single_opts *opts)
{
	struct single s;
	sigset_t set;
	char err[512];

	memset(&s, 0, sizeof s);
	s.opts = opts;
	s.path = argv[0];
	s.spawn_flags = VIGIL_SPAWN_SEARCH | single_activation();
	s.deadline_ms = -1;
	s.delay_ms = SINGLE_DELAY_MIN_MS;
	s.phase = PHASE_BACKOFF;
	sigemptyset(&s.early);
	single_sigset(&set);
	single_default_dispositions(&set);
	if (opts->pidfile != NULL &&
	    pidfile_open(opts->pidfile, err, sizeof err) == -1)
		fatalx("%s", err);

	if ((s.attr = vigil_spawnattr_new()) == NULL ||
	    vigil_spawnattr_set_argv(s.attr, argv) == -1)
		fatal("spawn attributes");
	single_pass_fds(s.attr);
	if ((vd.base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	single_control(&s, argv);
	single_tty(&s);
	/* Armed before the first spawn, so no SIGCHLD can be missed. */
	if ((s.src = vigil_sigsrc_new(&set)) == NULL)
		fatal("cannot create the signal source");

	single_reap(&s);
	single_start(&s);
	if (s.pid != 0)
		single_forward_early(&s);
	single_reap(&s);
	single_loop(&s);

	single_tty_restore(&s);
	control_close();
	ctl_single = NULL;
	svc_remove(s.svc);
	config_free(vd.conf);
	vd.conf = NULL;
	vigil_sigsrc_free(s.src);
	vigil_spawnattr_free(s.attr);
	event_base_free(vd.base);
	vd.base = NULL;
	pidfile_remove();
	log_debug("exiting with status %d", s.status);
	return s.status;
}
