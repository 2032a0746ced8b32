/*
 * The service state machine: one struct svc per instance, driven by a
 * state x event table. Every state change is logged with its reason.
 *
 * States (SPEC 4.2):
 *   stopped   not running and not wanted: the initial state, an operator
 *             stop, or a start waiting for its dependencies (reason says so)
 *   starting  running, not ready yet (readiness, or min_uptime for none)
 *   running   running and ready
 *   stopping  stop signal sent to the group (SIGTERM to what is left of
 *             it after the main process exited); SIGKILL after
 *             stop_timeout
 *   backoff   ended; waiting restart_delay (doubled per quick failure,
 *             with +-10% jitter) before starting again
 *   exited    ended and not restarted (policy, or success under on-failure)
 *   fatal     start limit hit, or the program cannot be executed
 *
 * Events: START (operator, autostart, a dependency), STOP (operator,
 * shutdown, reload, a required service gone), EXIT (the main process was
 * reaped), GONE (the whole process group is gone), READY (readiness
 * reported), TIMER (the one timer: its meaning depends on the state).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "reexec.h"
#include "vigild.h"
#include "xmalloc.h"

extern char **environ;

#define SPAWN_RETRY_MS	100	/* least delay after a spawn that may pass */

enum svc_event {
	EV_START,
	EV_STOP,
	EV_EXIT,
	EV_GONE,
	EV_READY,
	EV_TIMER,
	EV_NEVENTS
};

static const char *const state_names[SVC_NSTATES] = {
	"stopped", "starting", "running", "stopping", "backoff", "exited",
	"fatal"
};

static int	ready_sent;	/* READY=1 told to systemd */
static struct event *shutdown_timer;

static void	set_state(struct svc *, enum svc_state, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	dispatch(struct svc *, enum svc_event);
static void	deps_changed(void);
static void	shutdown_step(void);
static int64_t	backoff_delay(struct svc *);

const char *
svc_state_name(enum svc_state st)
{
	return state_names[st];
}

static int
svc_active(const struct svc *s)
{
	return s->state == SVC_STARTING || s->state == SVC_RUNNING ||
	    s->state == SVC_STOPPING || s->state == SVC_BACKOFF;
}

/* The group still has a member (the main process counts until reaped). */
static int
group_alive(const struct svc *s)
{
	return s->pid > 0 && (kill(-s->pid, 0) == 0 || errno == EPERM);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct svc *s = arg;

	(void)fd;
	(void)what;
	s->timer_due_ms = 0;
	dispatch(s, EV_TIMER);
}

static void
arm_timer(struct svc *s, int64_t ms)
{
	struct timeval tv;

	ms_to_tv(ms, &tv);
	evtimer_add(s->timer, &tv);
	s->timer_due_ms = now_ms() + ms;
}

static void
disarm_timer(struct svc *s)
{
	evtimer_del(s->timer);
	s->timer_due_ms = 0;
}

/* Change state, log the change and its reason. */
static void
set_state(struct svc *s, enum svc_state st, const char *fmt, ...)
{
	va_list ap;
	enum svc_state old = s->state;

	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof s->reason, fmt, ap);
	va_end(ap);
	s->state = st;
	s->state_ms = now_ms();
	if (s->remove_after_stop && !svc_active(s))
		reload_sweep_soon();
	if (old != st)
		log_svc(st == SVC_FATAL ? LOG_LEVEL_WARN : LOG_LEVEL_INFO,
		    s->name, "%s -> %s: %s", state_names[old],
		    state_names[st], s->reason);
	else
		log_svc(LOG_LEVEL_DEBUG, s->name, "%s: %s", state_names[st],
		    s->reason);
	check_update(s);
}

static struct svc *
svc_new(const struct service_conf *sc, unsigned int instance)
{
	struct svc *s = xcalloc(1, sizeof *s);

	s->conf = sc;
	s->instance = instance;
	config_instance_name(sc, instance, s->name, sizeof s->name);
	s->state = SVC_STOPPED;
	s->state_ms = now_ms();
	s->pidfd = -1;
	s->last_code = -1;
	s->next_delay_ms = sc->restart_delay_ms;
	s->start_times = xcalloc(sc->start_burst + 1, sizeof *s->start_times);
	s->timer = evtimer_new(vd.base, timer_cb, s);
	s->log = ring_new();
	snprintf(s->reason, sizeof s->reason, "not started");
	return s;
}

static void
svc_free(struct svc *s)
{
	event_free(s->timer);
	if (s->out != NULL)
		output_release(s->out);
	if (s->err != NULL)
		output_release(s->err);
	if (s->notify != NULL)
		notify_close(s->notify);
	ring_free(s->log);
	free(s->start_times);
	free(s);
}

/* Add the instances of one configured service. */
void
svc_add_conf(const struct service_conf *sc)
{
	unsigned int i;

	for (i = 0; i < sc->instances; i++)
		svc_add_conf_instance(sc, i);
}

struct svc *
svc_add_conf_instance(const struct service_conf *sc, unsigned int i)
{
	struct svc *s = svc_new(sc, i);

	TAILQ_INSERT_TAIL(&svcs, s, entry);
	return s;
}

void
svc_create_all(const struct config *cf)
{
	size_t i;

	for (i = 0; i < cf->nservices; i++)
		svc_add_conf(&cf->services[i]);
}

struct svc *
svc_find(const char *name)
{
	struct svc *s;

	TAILQ_FOREACH(s, &svcs, entry)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

struct svc *
svc_by_pid(pid_t pid)
{
	struct svc *s;

	TAILQ_FOREACH(s, &svcs, entry)
		if (s->pid == pid)
			return s;
	return NULL;
}

/* ---- starting ------------------------------------------------------ */

/* Is every instance of every service s starts after running? */
static const char *
deps_blocking(const struct svc *s, int *hopeless)
{
	struct svc *d;
	char **a;

	*hopeless = 0;
	for (a = s->conf->after; a != NULL && *a != NULL; a++)
		TAILQ_FOREACH(d, &svcs, entry) {
			if (strcmp(d->conf->name, *a) != 0)
				continue;
			if (d->state == SVC_RUNNING)
				continue;
			if (d->state == SVC_FATAL ||
			    (d->state == SVC_STOPPED && !d->want_start) ||
			    d->state == SVC_EXITED)
				*hopeless = 1;
			return d->name;
		}
	return NULL;
}

/* Fill a spawn attribute for one run of argv as s; NULL on failure. */
struct vigil_spawnattr *
svc_spawn_attr(struct svc *s, char *const argv[], char **env, int out_fd,
    int err_fd, int ready_fd)
{
	const struct service_conf *sc = s->conf;
	struct vigil_spawnattr *a;
	size_t i;
	int flags = 0;

	if ((a = vigil_spawnattr_new()) == NULL)
		return NULL;
	if (vigil_spawnattr_set_argv(a, argv) == -1 ||
	    vigil_spawnattr_set_env(a, env) == -1)
		goto fail;
	if (strchr(argv[0], '/') == NULL)
		flags |= VIGIL_SPAWN_SEARCH;
	if (vigil_spawnattr_set_flags(a, flags) == -1)
		goto fail;
	if (sc->directory != NULL &&
	    vigil_spawnattr_set_dir(a, sc->directory) == -1)
		goto fail;
	if (sc->has_user && vigil_spawnattr_set_user(a, sc->uid, sc->gid,
	    sc->sgids, sc->nsgids) == -1)
		goto fail;
	if (!sc->has_user && sc->has_group && vigil_spawnattr_set_user(a,
	    geteuid(), sc->gid, NULL, 0) == -1)
		goto fail;
	if (sc->has_umask && vigil_spawnattr_set_umask(a, sc->umask) == -1)
		goto fail;
	for (i = 0; i < sc->nlimits; i++)
		if (vigil_spawnattr_set_rlimit(a, sc->limits[i].resource,
		    sc->limits[i].value, sc->limits[i].value) == -1)
			goto fail;
	if ((out_fd != -1 && vigil_spawnattr_set_fd(a, 1, out_fd) == -1) ||
	    (err_fd != -1 && vigil_spawnattr_set_fd(a, 2, err_fd) == -1) ||
	    (ready_fd != -1 &&
	    vigil_spawnattr_set_fd(a, sc->ready.fd, ready_fd) == -1))
		goto fail;
	return a;
fail:
	vigil_spawnattr_free(a);
	return NULL;
}

/* Where one stream of the child goes: a capture pipe, ours, or nothing. */
static int
stream_fd(struct svc *s, const struct output_conf *oc, int dest,
    struct output **op, int *close_fd)
{
	int fd;

	*close_fd = -1;
	switch (oc->kind) {
	case OUTPUT_CONSOLE:
		if ((*op = output_new(s->name, dest, s->log, &fd)) == NULL)
			return -1;
		*close_fd = fd;
		return fd;
	case OUTPUT_INHERIT:
		return dest;
	default:
		return -1;	/* /dev/null */
	}
}

/* Record a start for the start limit; 1 if the limit is now exceeded. */
static int
start_limit_hit(struct svc *s)
{
	unsigned int burst = s->conf->start_burst, i, recent = 0;
	int64_t now = now_ms();

	if (burst == 0)
		return 0;
	for (i = 0; i < burst; i++)
		if (s->start_times[i] != 0 &&
		    now - s->start_times[i] < s->conf->start_interval_ms)
			recent++;
	return recent >= burst;
}

static void
forget_starts(struct svc *s)
{
	memset(s->start_times, 0, s->conf->start_burst *
	    sizeof *s->start_times);
	s->nstarts = 0;
}

static void
note_start(struct svc *s)
{
	unsigned int burst = s->conf->start_burst;

	if (burst > 0)
		s->start_times[s->nstarts++ % burst] = now_ms();
}

/* Errors of a spawn that may pass: retry them, do not go fatal. */
static int
spawn_transient(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM ||
	    err == EAGAIN || err == ENOBUFS;
}

/*
 * -> fatal, naming what failed (or backoff if it may pass). The spawn's errno does not say whether the
 * exec or the chdir before it failed, and "cannot execute /bin/true: No
 * such file or directory" for a missing directory sends the operator the
 * wrong way: look at the directory (only on this failure path).
 */
static void
spawn_failed(struct svc *s, int err)
{
	const char *dir = s->conf->directory;
	struct stat st;
	int64_t delay;

	if (spawn_transient(err)) {
		/*
		 * Out of descriptors, processes or memory: the machine's
		 * state, not the program's. A failed start, under the
		 * restart delay (at least SPAWN_RETRY_MS, restart_delay 0
		 * must not spin) and the start limit.
		 */
		s->quick_failures++;
		note_start(s);
		if (start_limit_hit(s)) {
			set_state(s, SVC_FATAL, "cannot start: %s; start limit "
			    "of %u in %.1f s hit", strerror(err),
			    s->conf->start_burst,
			    s->conf->start_interval_ms / 1000.0);
			return;
		}
		if ((delay = backoff_delay(s)) < SPAWN_RETRY_MS)
			delay = SPAWN_RETRY_MS;
		set_state(s, SVC_BACKOFF, "cannot start: %s; retrying in "
		    "%.3f s", strerror(err), delay / 1000.0);
		arm_timer(s, delay);
		return;
	}
	if (dir != NULL && (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)))
		set_state(s, SVC_FATAL, "cannot change to directory %s: %s",
		    dir, strerror(err));
	else
		set_state(s, SVC_FATAL, "cannot execute %s: %s",
		    s->conf->argv[0], strerror(err));
}

static void	end_run(struct svc *);

/* Our copies of the descriptors given to the child (-1: none). */
static void
close_child_ends(int out, int err, int ready)
{
	if (out != -1)
		close(out);
	if (err != -1)
		close(err);
	if (ready != -1)
		close(ready);
}

/* Spawn the program: -> starting, or fatal if it cannot be executed. */
static void
spawn_run(struct svc *s)
{
	const struct service_conf *sc = s->conf;
	struct vigil_spawnattr *a = NULL;
	char **env = NULL, *notify_env = NULL;
	int out_fd, err_fd, close_out = -1, close_err = -1, ready_fd = -1;
	int saved;
	pid_t pid;

	s->out = s->err = NULL;
	s->notify = NULL;
	if ((out_fd = stream_fd(s, &sc->out, 1, &s->out, &close_out)) == -1 &&
	    sc->out.kind == OUTPUT_CONSOLE)
		goto fail;
	if (sc->err.kind == OUTPUT_STDOUT)
		err_fd = out_fd;
	else if ((err_fd = stream_fd(s, &sc->err, 2, &s->err,
	    &close_err)) == -1 && sc->err.kind == OUTPUT_CONSOLE)
		goto fail;
	if (sc->ready.type == READY_NOTIFY || sc->ready.type == READY_FD)
		s->notify = notify_listen(s, &notify_env, &ready_fd);
	env = config_service_env(sc, environ, s->name, s->instance);
	if (notify_env != NULL) {
		size_t n = 0;

		while (env[n] != NULL)
			n++;
		env = xreallocarray(env, n + 2, sizeof *env);
		env[n] = notify_env;
		env[n + 1] = NULL;
		notify_env = NULL;
	}
	if ((a = svc_spawn_attr(s, sc->argv, env, out_fd, err_fd,
	    ready_fd)) == NULL)
		goto fail;
	if (vigil_spawn(a, &pid, NULL) == -1)
		goto fail;
	vigil_spawnattr_free(a);
	config_env_free(env);
	close_child_ends(close_out, close_err, ready_fd);
	s->pid = pid;
	s->ready = 0;
	s->killed = 0;
	s->started_ms = now_ms();
	note_start(s);
	set_state(s, SVC_STARTING, "started, pid %d", (int)pid);
	if (sc->ready.type == READY_NONE)
		arm_timer(s, sc->min_uptime_ms);
	else
		arm_timer(s, sc->ready.timeout_ms);
	return;
fail:
	saved = errno;
	vigil_spawnattr_free(a);
	if (env != NULL)
		config_env_free(env);
	free(notify_env);
	close_child_ends(close_out, close_err, ready_fd);
	end_run(s);
	s->pid = 0;
	spawn_failed(s, saved);
	deps_changed();
}

/* Start now if the dependencies allow it, else wait for them. */
static void
try_start(struct svc *s)
{
	const char *dep;
	int hopeless;

	if ((dep = deps_blocking(s, &hopeless)) != NULL) {
		if (hopeless) {
			s->want_start = 0;
			set_state(s, SVC_STOPPED, "not started: %s is %s",
			    dep, state_names[svc_find(dep)->state]);
		} else
			set_state(s, SVC_STOPPED, "waiting for %s", dep);
		return;
	}
	s->want_start = 0;
	spawn_run(s);
}

/* ---- ending -------------------------------------------------------- */

/* Free what a run held; the capture keeps reading to EOF. */
static void
end_run(struct svc *s)
{
	if (s->out != NULL)
		output_release(s->out);
	if (s->err != NULL)
		output_release(s->err);
	if (s->notify != NULL)
		notify_close(s->notify);
	s->out = s->err = NULL;
	s->notify = NULL;
}

static void
describe_exit(char *buf, size_t len, const struct svc *s)
{
	if (s->last_signal != 0)
		snprintf(buf, len, "killed by %s",
		    config_signal_name(s->last_signal) != NULL ?
		    config_signal_name(s->last_signal) : "a signal");
	else
		snprintf(buf, len, "exited with code %d", s->last_code);
}

/* restart_delay doubled per quick failure, capped, with +-10% jitter. */
static int64_t
backoff_delay(struct svc *s)
{
	int64_t d = s->conf->restart_delay_ms;
	unsigned int i;

	for (i = 1; i < s->quick_failures && d < s->conf->restart_delay_max_ms;
	    i++)
		d *= 2;
	if (d > s->conf->restart_delay_max_ms)
		d = s->conf->restart_delay_max_ms;
	if (d > 0)
		d += (d * ((int64_t)arc4random_uniform(2001) - 1000)) / 10000;
	return d;
}

/* The run ended (main process reaped, group gone): what next? */
static void
after_run(struct svc *s, int failed_start)
{
	const struct service_conf *sc = s->conf;
	char what[96];
	int64_t ran, delay;
	int success, restart;

	/*
	 * The run ended when the main process exited or a stop began, not
	 * when the rest of its group was finally gone.
	 */
	ran = (s->state == SVC_STOPPING ? s->state_ms : now_ms()) -
	    s->started_ms;
	describe_exit(what, sizeof what, s);
	if (failed_start)
		snprintf(what, sizeof what, "readiness timeout");
	else if (s->unhealthy[0] != '\0')
		snprintf(what, sizeof what, "health check failed: %s",
		    s->unhealthy);
	success = !failed_start && s->unhealthy[0] == '\0' &&
	    s->last_signal == 0 && config_success_exit(sc, s->last_code);
	s->unhealthy[0] = '\0';
	if (ran < sc->min_uptime_ms || failed_start)
		s->quick_failures++;
	else
		s->quick_failures = 0;
	restart = sc->restart == RESTART_ALWAYS ||
	    (sc->restart == RESTART_ON_FAILURE && !success);
	if (s->want_stop || vd.shutting_down) {
		s->want_stop = 0;
		set_state(s, SVC_STOPPED, "stopped (%s)", what);
	} else if (!restart)
		set_state(s, SVC_EXITED, "%s", what);
	else if (s->quick_failures > 0 && start_limit_hit(s))
		set_state(s, SVC_FATAL, "%s; start limit of %u in %.1f s hit",
		    what, sc->start_burst, sc->start_interval_ms / 1000.0);
	else {
		/*
		 * Every restart waits restart_delay at least, after a stable
		 * run too (vigild.conf(5): "the first delay before a
		 * restart", as systemd's RestartSec): a stable run only
		 * starts the doubling over. Restarting at once after it made
		 * a service that dies just after min_uptime respawn with no
		 * pause at all.
		 */
		delay = backoff_delay(s);
		s->restarts++;
		if (delay == 0) {
			set_state(s, SVC_BACKOFF, "%s; restarting now", what);
			s->pid = 0;
			s->want_start = 1;
			try_start(s);
			return;
		}
		set_state(s, SVC_BACKOFF, "%s; restarting in %.3f s", what,
		    delay / 1000.0);
		arm_timer(s, delay);
	}
	s->pid = 0;
	/*
	 * A restart (reload, operator) asked for before a shutdown began
	 * ends with the stop: starting it again now would spawn a service
	 * in the middle of the shutdown, only to stop it at once.
	 */
	if (s->restart_after_stop && s->state == SVC_STOPPED) {
		s->restart_after_stop = 0;
		if (!vd.shutting_down) {
			s->want_start = 1;
			try_start(s);
		}
	}
}

/* ---- the table ----------------------------------------------------- */

static void
act_none(struct svc *s)
{
	(void)s;
}

static void
act_start(struct svc *s)
{
	disarm_timer(s);
	try_start(s);
}

/* Stop a live run: stop signal to the group, SIGKILL after the timeout. */
static void
act_stop_run(struct svc *s)
{
	s->want_stop = 1;
	disarm_timer(s);
	s->failed_start = 0;
	set_state(s, SVC_STOPPING, "sending %s",
	    config_signal_name(s->conf->stop_signal) != NULL ?
	    config_signal_name(s->conf->stop_signal) : "the stop signal");
	svc_signal(s, s->conf->stop_signal);
	svc_signal(s, SIGCONT);
	arm_timer(s, s->conf->stop_timeout_ms);
}

static void
act_stop_backoff(struct svc *s)
{
	disarm_timer(s);
	set_state(s, SVC_STOPPED, "stopped while waiting to restart");
}

static void
act_stop_idle(struct svc *s)
{
	s->want_start = 0;
	if (s->state == SVC_STOPPED)
		snprintf(s->reason, sizeof s->reason, "stopped");
}

/*
 * The main process was reaped while it was wanted. If the rest of its
 * process group lives on, the run is not over: the leftovers get SIGTERM
 * (vigild(8)) and, as in any stop, SIGKILL after stop_timeout, and the
 * policy decides once the group is gone (GONE in stopping). Only asking
 * them to go left a member that ignores SIGTERM running unsupervised,
 * beside the next run and after vigild's own exit.
 */
static void
act_exit(struct svc *s)
{
	char what[96];

	disarm_timer(s);
	end_run(s);
	if (group_alive(s)) {
		describe_exit(what, sizeof what, s);
		s->failed_start = 0;
		set_state(s, SVC_STOPPING, "%s; sending SIGTERM to the rest of "
		    "its process group", what);
		svc_signal(s, SIGTERM);
		svc_signal(s, SIGCONT);
		arm_timer(s, s->conf->stop_timeout_ms);
		return;
	}
	after_run(s, 0);
	deps_changed();
}

/*
 * Stopping on its own (leftovers of an exit, a readiness timeout) when a
 * stop is asked: end in stopped, not in a restart.
 */
static void
act_stop_stopping(struct svc *s)
{
	s->want_stop = 1;
}

/* Stopping: the main process was reaped; wait for the group. */
static void
act_exit_stopping(struct svc *s)
{
	end_run(s);
	if (!group_alive(s))
		dispatch(s, EV_GONE);
}

static void
act_gone_stopping(struct svc *s)
{
	int failed = s->failed_start;

	disarm_timer(s);
	s->failed_start = 0;
	after_run(s, failed);
	deps_changed();
}

static void
act_ready(struct svc *s)
{
	disarm_timer(s);
	s->ready = 1;
	set_state(s, SVC_RUNNING, "ready");
	deps_changed();
}

/* Starting: min_uptime reached (ready none) or the readiness timeout. */
static void
act_timer_starting(struct svc *s)
{
	if (s->conf->ready.type == READY_NONE) {
		s->ready = 1;
		set_state(s, SVC_RUNNING, "up for %.1f s",
		    s->conf->min_uptime_ms / 1000.0);
		deps_changed();
		return;
	}
	log_svc(LOG_LEVEL_WARN, s->name, "not ready after %.1f s",
	    s->conf->ready.timeout_ms / 1000.0);
	act_stop_run(s);
	s->want_stop = 0;
	s->failed_start = 1;	/* a failed start, not a stop */
}

/*
 * Stopping: stop_timeout passed. SIGKILL the group, then look again
 * every 100 ms in case its last members are not our children (without a
 * subreaper their deaths are not reported to us).
 */
static void
act_timer_stopping(struct svc *s)
{
	if (!group_alive(s)) {
		dispatch(s, EV_GONE);
		return;
	}
	if (!s->killed)
		log_svc(LOG_LEVEL_WARN, s->name, "still running after %.1f s; "
		    "sending SIGKILL to its process group",
		    s->conf->stop_timeout_ms / 1000.0);
	s->killed = 1;
	svc_signal(s, SIGKILL);
	arm_timer(s, 100);
}

/* A restart waits for `after` as the first start did. */
static void
act_timer_backoff(struct svc *s)
{
	s->want_start = 1;
	try_start(s);
}

typedef void svc_action(struct svc *);

/* state x event -> action. */
static svc_action *const table[SVC_NSTATES][EV_NEVENTS] = {
	/*		START		STOP			EXIT
			GONE		READY			TIMER */
	[SVC_STOPPED] =	{ act_start,	act_stop_idle,		act_none,
			  act_none,	act_none,		act_none },
	[SVC_STARTING] = { act_none,	act_stop_run,		act_exit,
			  act_none,	act_ready,		act_timer_starting },
	[SVC_RUNNING] =	{ act_none,	act_stop_run,		act_exit,
			  act_none,	act_none,		act_none },
	[SVC_STOPPING] = { act_none,	act_stop_stopping,	act_exit_stopping,
			  act_gone_stopping, act_none,		act_timer_stopping },
	[SVC_BACKOFF] =	{ act_start,	act_stop_backoff,	act_none,
			  act_none,	act_none,		act_timer_backoff },
	[SVC_EXITED] =	{ act_start,	act_stop_idle,		act_none,
			  act_none,	act_none,		act_none },
	[SVC_FATAL] =	{ act_start,	act_stop_idle,		act_none,
			  act_none,	act_none,		act_none },
};

static void
dispatch(struct svc *s, enum svc_event ev)
{
	table[s->state][ev](s);
	if (vd.shutting_down)
		shutdown_step();
}

/* ---- the public side ----------------------------------------------- */

int
svc_start(struct svc *s, const char *why)
{
	char **r;
	struct svc *d;

	if (vd.shutting_down)
		return -1;
	/* requires: starting s starts what it requires. */
	for (r = s->conf->requires; r != NULL && *r != NULL; r++)
		TAILQ_FOREACH(d, &svcs, entry)
			if (strcmp(d->conf->name, *r) == 0 && !svc_active(d) &&
			    d != s)
				svc_start(d, "required by another service");
	log_svc(LOG_LEVEL_DEBUG, s->name, "start: %s", why);
	if (svc_active(s) && s->state != SVC_BACKOFF) {
		if (s->state == SVC_STOPPING)
			s->restart_after_stop = 1;
		return 0;
	}
	/*
	 * A start from rest (operator, reload, a dependent) is a fresh
	 * start: the start limit counts from here, or a service that had
	 * gone fatal would go fatal again at its first quick failure.
	 */
	if (!svc_active(s))
		forget_starts(s);
	s->want_start = 1;
	s->quick_failures = 0;
	dispatch(s, EV_START);
	return 0;
}

int
svc_stop(struct svc *s, const char *why)
{
	log_svc(LOG_LEVEL_DEBUG, s->name, "stop: %s", why);
	s->restart_after_stop = 0;
	dispatch(s, EV_STOP);
	if (s->state == SVC_STOPPED && !vd.shutting_down)
		snprintf(s->reason, sizeof s->reason, "stopped: %s", why);
	deps_changed();
	return 0;
}

int
svc_restart(struct svc *s, const char *why)
{
	if (s->state == SVC_STARTING || s->state == SVC_RUNNING) {
		svc_stop(s, why);
		s->restart_after_stop = 1;
		return 0;
	}
	return svc_start(s, why);
}

/* The main process of s was reaped with status. */
void
svc_exited(struct svc *s, int status)
{
	if (WIFSIGNALED(status)) {
		s->last_signal = WTERMSIG(status);
		s->last_code = -1;
	} else {
		s->last_signal = 0;
		s->last_code = WEXITSTATUS(status);
	}
	dispatch(s, EV_EXIT);
}

/* Called by reap.c after each reaping pass: groups that emptied. */
void
svc_groups_check(void)
{
	struct svc *s, *st;

	TAILQ_FOREACH_SAFE(s, &svcs, entry, st)
		if (s->state == SVC_STOPPING && !group_alive(s))
			dispatch(s, EV_GONE);
}

void
svc_ready(struct svc *s, const char *how)
{
	log_svc(LOG_LEVEL_DEBUG, s->name, "ready (%s)", how);
	dispatch(s, EV_READY);
}

/*
 * Running: the health check failed retries times in a row (check.c). Stop
 * the run as a failure, as a readiness timeout does: once the group is
 * gone the restart policy applies, the reason naming the health check.
 * why is copied first: it may belong to the check, which the stop ends.
 */
void
svc_unhealthy(struct svc *s, const char *why)
{
	if (s->state != SVC_RUNNING)
		return;
	snprintf(s->unhealthy, sizeof s->unhealthy, "%s", why);
	act_stop_run(s);
	s->want_stop = 0;
}

void
svc_signal(struct svc *s, int signo)
{
	if (s->pid <= 0)
		return;
	if (kill(-s->pid, signo) == -1 && errno != ESRCH)
		log_svc(LOG_LEVEL_WARN, s->name, "kill %d: %s", signo,
		    strerror(errno));
}

void
svc_start_autostart(void)
{
	struct svc *s;

	TAILQ_FOREACH(s, &svcs, entry)
		if (s->conf->autostart)
			s->want_start = 1;
	TAILQ_FOREACH(s, &svcs, entry)
		if (s->want_start && s->state == SVC_STOPPED)
			svc_start(s, "autostart");
	deps_changed();
}

int
svc_all_ready(void)
{
	struct svc *s;

	TAILQ_FOREACH(s, &svcs, entry)
		if (s->conf->autostart && (s->state == SVC_STARTING ||
		    (s->state == SVC_STOPPED && s->want_start)))
			return 0;
	return 1;
}

int
svc_all_stopped(void)
{
	struct svc *s;

	TAILQ_FOREACH(s, &svcs, entry)
		if (svc_active(s))
			return 0;
	return 1;
}

/*
 * Something changed state: start what was waiting for its dependencies,
 * stop what requires a service that is gone for good, tell systemd once
 * everything that starts by itself is ready.
 */
static void
deps_changed(void)
{
	struct svc *s, *d;
	char **r;
	int again = 1, rounds = 0;

	/*
	 * Without after or requires nothing waits for another service (a
	 * start spawns at once) and nothing is stopped for one: skip the
	 * walk, which would make a cold start of N services O(N^2).
	 */
	if (vd.conf != NULL && !vd.conf->has_deps && !reload_busy())
		again = 0;
	while (again && rounds++ < 64) {
		again = 0;
		TAILQ_FOREACH(s, &svcs, entry) {
			if (s->want_start && s->state == SVC_STOPPED &&
			    !vd.shutting_down) {
				try_start(s);
				if (s->state != SVC_STOPPED)
					again = 1;
			}
			if (!svc_active(s) || s->state == SVC_STOPPING)
				continue;
			for (r = s->conf->requires; r != NULL && *r != NULL;
			    r++)
				TAILQ_FOREACH(d, &svcs, entry)
					if (strcmp(d->conf->name, *r) == 0 &&
					    (d->state == SVC_EXITED ||
					    d->state == SVC_FATAL ||
					    (d->state == SVC_STOPPED &&
					    !d->want_start))) {
						svc_stop(s, "a required "
						    "service is gone");
						again = 1;
						goto next;
					}
next:			;
		}
	}
	if (!ready_sent && !vd.shutting_down && svc_all_ready()) {
		ready_sent = 1;
		notify_systemd("READY=1\nSTATUS=all services started");
	}
}

/* ---- shutdown: reverse dependency order ----------------------------- */

/* Does a live service start after s (so must stop before it)? */
static int
has_live_dependent(const struct svc *s)
{
	struct svc *d;
	char **a;

	TAILQ_FOREACH(d, &svcs, entry) {
		if (d == s || !svc_active(d))
			continue;
		for (a = d->conf->after; a != NULL && *a != NULL; a++)
			if (strcmp(*a, s->conf->name) == 0)
				return 1;
	}
	return 0;
}

static void
shutdown_step(void)
{
	struct svc *s;
	static int in_step;

	if (in_step)
		return;
	in_step = 1;
	TAILQ_FOREACH_REVERSE(s, &svcs, svc_list, entry)
		if ((s->state == SVC_STARTING || s->state == SVC_RUNNING ||
		    s->state == SVC_BACKOFF) && !has_live_dependent(s))
			dispatch(s, EV_STOP);
	in_step = 0;
	if (svc_all_stopped())
		event_base_loopbreak(vd.base);
}

static void
shutdown_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct svc *s;

	(void)fd;
	(void)what;
	(void)arg;
	TAILQ_FOREACH(s, &svcs, entry)
		if (svc_active(s) && s->pid > 0) {
			log_svc(LOG_LEVEL_WARN, s->name, "shutdown timeout: "
			    "killing its process group");
			s->killed = 1;
			svc_signal(s, SIGKILL);
		} else if (s->state == SVC_BACKOFF)
			dispatch(s, EV_STOP);
}

void
svc_shutdown_all(void)
{
	struct timeval tv;

	if (vd.shutting_down)
		return;
	vd.shutting_down = 1;
	log_info("shutting down");
	check_stop_all();
	notify_systemd("STOPPING=1");
	shutdown_timer = evtimer_new(vd.base, shutdown_timeout_cb, NULL);
	ms_to_tv(vd.conf->shutdown_timeout_ms, &tv);
	evtimer_add(shutdown_timer, &tv);
	shutdown_step();
}

/* The control socket's operations in configuration mode. */
const struct svc_ops svc_config_ops = {
	svc_start, svc_stop, svc_restart, svc_shutdown_all, reload_start
};

/* Forget a service that reload removed (it is stopped). */
void
svc_remove(struct svc *s)
{
	TAILQ_REMOVE(&svcs, s, entry);
	svc_free(s);
}

/* ---- re-exec ------------------------------------------------------- */

int
svc_removal_pending(void)
{
	struct svc *s;

	TAILQ_FOREACH(s, &svcs, entry)
		if (s->remove_after_stop)
			return 1;
	return 0;
}

static int
output_fd_of(struct output *o)
{
	return o != NULL ? output_fd(o) : -1;
}

void
svc_save(FILE *f)
{
	struct svc *s;

	rx_begin(f, "svcs");
	rx_int(f, "ready_sent", ready_sent);
	rx_finish(f);
	TAILQ_FOREACH(s, &svcs, entry) {
		rx_begin(f, "svc");
		rx_str(f, "name", s->name);
		rx_int(f, "state", s->state);
		rx_int(f, "pid", s->pid);
		rx_int(f, "started", s->started_ms);
		rx_int(f, "state_ms", s->state_ms);
		rx_int(f, "ready", s->ready);
		rx_int(f, "restarts", s->restarts);
		rx_int(f, "quick", s->quick_failures);
		rx_int(f, "next_delay", s->next_delay_ms);
		rx_int(f, "nstarts", s->nstarts);
		rx_bytes(f, "starts", (const char *)s->start_times,
		    (s->conf->start_burst + 1) * sizeof *s->start_times);
		rx_int(f, "last_code", s->last_code);
		rx_int(f, "last_signal", s->last_signal);
		rx_str(f, "reason", s->reason);
		rx_int(f, "want_start", s->want_start);
		rx_int(f, "want_stop", s->want_stop);
		rx_int(f, "failed_start", s->failed_start);
		rx_str(f, "unhealthy", s->unhealthy);
		rx_int(f, "restart_after_stop", s->restart_after_stop);
		rx_int(f, "killed", s->killed);
		rx_int(f, "timer", s->timer_due_ms);
		rx_int(f, "out", output_fd_of(s->out));
		rx_int(f, "err", output_fd_of(s->err));
		rx_finish(f);
		notify_save_listener(f, s);
	}
}

int
svc_restore(struct rx_rec *r)
{
	const char *name, *v;
	struct svc *s;
	size_t len;
	int64_t due, now = now_ms();
	long long st;

	if ((name = rx_get(r, "name", NULL)) == NULL)
		return -1;
	if ((s = svc_find(name)) == NULL) {
		log_warnx("re-exec: service %s is not in the configuration",
		    name);
		return -1;
	}
	st = rx_getint(r, "state", SVC_STOPPED);
	if (st < 0 || st >= SVC_NSTATES)
		st = SVC_STOPPED;
	s->state = (enum svc_state)st;
	s->pid = (pid_t)rx_getint(r, "pid", 0);
	s->started_ms = rx_getint(r, "started", 0);
	s->state_ms = rx_getint(r, "state_ms", now);
	s->ready = (int)rx_getint(r, "ready", 0);
	s->restarts = (unsigned int)rx_getint(r, "restarts", 0);
	s->quick_failures = (unsigned int)rx_getint(r, "quick", 0);
	s->next_delay_ms = rx_getint(r, "next_delay",
	    s->conf->restart_delay_ms);
	s->nstarts = (unsigned int)rx_getint(r, "nstarts", 0);
	if ((v = rx_get(r, "starts", &len)) != NULL &&
	    len == (s->conf->start_burst + 1) * sizeof *s->start_times)
		memcpy(s->start_times, v, len);
	else
		s->nstarts = 0;
	s->last_code = (int)rx_getint(r, "last_code", -1);
	s->last_signal = (int)rx_getint(r, "last_signal", 0);
	if ((v = rx_get(r, "reason", NULL)) != NULL)
		snprintf(s->reason, sizeof s->reason, "%s", v);
	s->want_start = (int)rx_getint(r, "want_start", 0);
	s->want_stop = (int)rx_getint(r, "want_stop", 0);
	s->failed_start = (int)rx_getint(r, "failed_start", 0);
	if ((v = rx_get(r, "unhealthy", NULL)) != NULL)
		snprintf(s->unhealthy, sizeof s->unhealthy, "%s", v);
	s->restart_after_stop = (int)rx_getint(r, "restart_after_stop", 0);
	s->killed = (int)rx_getint(r, "killed", 0);
	s->out = output_by_fd((int)rx_getint(r, "out", -1));
	s->err = output_by_fd((int)rx_getint(r, "err", -1));
	if ((due = rx_getint(r, "timer", 0)) > 0)
		arm_timer(s, due > now ? due - now : 0);
	return 0;
}

/*
 * Every service is back: start the checks their states want, and look
 * at the groups once (an exit during the exec waits as a zombie, which the
 * first SIGCHLD-less pass would miss).
 */
void
svc_restore_done(void)
{
	struct svc *s;

	TAILQ_FOREACH(s, &svcs, entry)
		check_update(s);
	reap_children();
	deps_changed();
}

void
svc_restore_ready_sent(int v)
{
	ready_sent = v;
}
