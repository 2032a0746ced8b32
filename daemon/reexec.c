/*
 * Re-exec (SPEC 4.5): vigild replaces its image with a fresh execve() of
 * the path it was started from, keeping its pid, its children and every
 * descriptor that carries their state.
 *
 * The old image, on `vigilctl reexec` or a signal routed to reexec:
 *
 *   1. refuses at once what it cannot do now (a shutdown, a reload, removed
 *      services still stopping, single-command mode, a path it cannot
 *      execute), answering the error;
 *   2. runs the binary with -V and waits (on the loop) for it to exit 0: a
 *      binary the kernel can execute may still fail to start (a missing
 *      shared library), and once execve() has succeeded there is no going
 *      back;
 *   3. freezes the output writers: no new batch is handed to the pool, and
 *      it waits, on the loop and for at most RX_FREEZE_MS, for the batches
 *      in flight to be written, so that no line is ever half written (the
 *      loop keeps reading the children's pipes meanwhile; what it reads
 *      waits in the queues, which cross the exec);
 *   3. blocks every signal in the main thread too (with the self-pipe
 *      source its handler can then run nowhere) and routes what the signal
 *      source still holds: a signal that arrives later stays pending in the
 *      kernel, and pending signals survive execve();
 *   4. ends the checks, killing and reaping their processes (the new image
 *      starts them again);
 *   5. writes the state (reexec.h) to an anonymous file, tells the other
 *      control clients that it is going, clears close-on-exec on the
 *      descriptors the state names, and calls execve() with the same
 *      arguments and environment plus VIGIL_REEXEC_STATE=FD.
 *
 * If execve() fails, everything is put back (close-on-exec, the signal
 * mask, the writers, the checks) and the request fails with the error.
 *
 * The new image reads the state before anything else, parses the saved
 * configuration text (not the file: SPEC 6), adopts the pid file, the
 * control socket and its lock, the runtime directory, every capture pipe
 * with its partial line and its queued lines, the service logs and the
 * readiness listeners, restores each service's state, pid, counters and
 * pending timer (deadlines are CLOCK_MONOTONIC, which the exec does not
 * reset), starts the checks again and answers the client that asked.
 * Children are never touched: they stay ours, and their exits wait as
 * zombies until the new loop reaps them.
 *
 * If the new image cannot restore the state (an unreadable state, or a
 * binary that refuses the saved configuration) it must not leave the
 * children running with nobody to supervise them: it stops every service
 * group the state names (SIGTERM, then SIGKILL) and exits 1.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "reexec.h"
#include "vigild.h"
#include "xmalloc.h"

#define RX_MAGIC	"vigil-reexec"
#define RX_VERSION	1
#define RX_FREEZE_MS	10000	/* for the writers in flight */
#define RX_MAX_FDS	65536
#define RX_STATE_MAX	((size_t)1 << 30)
#define RX_ABANDON_MS	5000

extern char **environ;

struct rx_state {
	char		*buf;
	struct rx_rec	*recs;
	size_t		 n;
};

static int		 busy;
static pid_t		 probe_pid;
static int		 probe_errfd = -1;	/* the probe's stderr */
static unsigned long long req_conn;
static struct event	*timeout_ev, *go_ev;

/* Split one line, in place, into a record; 0, or -1 if it is malformed. */
static int
rx_parse_line(char *line, struct rx_rec *r)
{
	char *tok, *eq, *save = NULL;

	memset(r, 0, sizeof *r);
	if ((r->type = strtok_r(line, " ", &save)) == NULL)
		return -1;
	while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
		if ((eq = strchr(tok, '=')) == NULL)
			return -1;
		if (r->n == RX_MAXKEYS)
			continue;	/* a newer writer's: unknown anyway */
		*eq = '\0';
		r->key[r->n] = tok;
		r->val[r->n++] = eq + 1;
	}
	return 0;
}

static struct rx_rec *
rx_find(struct rx_state *st, const char *type)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (strcmp(st->recs[i].type, type) == 0)
			return &st->recs[i];
	return NULL;
}

/*
 * Send signo (0: only look) to the group of every service the state
 * names; the number of groups that exist.
 */
static size_t
rx_signal_groups(struct rx_state *st, int signo)
{
	struct rx_rec *r;
	size_t i, n = 0;
	pid_t pid;

	for (i = 0; st != NULL && i < st->n; i++) {
		r = &st->recs[i];
		if (strcmp(r->type, "svc") == 0 &&
		    (pid = (pid_t)rx_getint(r, "pid", 0)) > 1 &&
		    kill(-pid, signo) == 0)
			n++;
	}
	return n;
}

/*
 * The state could not be restored: nobody would supervise the children it
 * names. Stop their groups (SIGTERM, then SIGKILL) and exit 1.
 */
static void __attribute__((noreturn))
rx_abandon(struct rx_state *st, const char *why)
{
	static const struct timespec tick = { 0, 20 * 1000 * 1000 };
	struct rx_rec *r;
	const char *path;
	int64_t end;
	size_t i;

	log_warnx("re-exec: cannot restore the state: %s; stopping every "
	    "service and exiting", why);
	rx_signal_groups(st, SIGTERM);
	end = now_ms() + RX_ABANDON_MS;
	do {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (rx_signal_groups(st, 0) == 0)
			break;
		nanosleep(&tick, NULL);
	} while (now_ms() < end);
	rx_signal_groups(st, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	/* What the old image would have removed at its exit. */
	for (i = 0; st != NULL && i < st->n; i++) {
		r = &st->recs[i];
		if (strcmp(r->type, "ctl") == 0) {
			if ((path = rx_get(r, "path", NULL)) != NULL)
				(void)unlink(path);
			if ((path = rx_get(r, "lock_path", NULL)) != NULL)
				(void)unlink(path);
		} else if (strcmp(r->type, "pid") == 0 &&
		    (path = rx_get(r, "path", NULL)) != NULL)
			(void)unlink(path);
		else if (strcmp(r->type, "ntf") == 0 &&
		    (path = rx_get(r, "path", NULL)) != NULL)
			(void)unlink(path);
	}
	for (i = 0; st != NULL && i < st->n; i++) {
		r = &st->recs[i];
		if (strcmp(r->type, "vd") == 0 &&
		    (path = rx_get(r, "runtime_dir", NULL)) != NULL)
			(void)rmdir(path);
	}
	exit(1);
}

/*
 * Read and split the state on fd (closed). Always returns the state, with
 * the records read so far; *why is NULL, or says why it is unusable.
 */
static struct rx_state *
rx_read(int fd, const char **why)
{
	struct rx_state *st;
	struct stat sb;
	char *line, *nl;
	size_t len = 0, cap;
	ssize_t n;

	*why = NULL;
	st = xcalloc(1, sizeof *st);
	cap = fstat(fd, &sb) == 0 && sb.st_size > 0 ?
	    (size_t)sb.st_size + 1 : 65536;
	if (cap > RX_STATE_MAX) {
		*why = "the state is too large";
		goto done;
	}
	st->buf = xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= RX_STATE_MAX) {
				*why = "the state is too large";
				goto done;
			}
			cap *= 2;
			st->buf = xreallocarray(st->buf, 1, cap);
		}
		n = pread(fd, st->buf + len, cap - len - 1, (off_t)len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*why = strerror(errno);
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	st->buf[len] = '\0';
	/* Records. */
	for (line = st->buf, cap = 0; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL) {
			*why = "the state is cut short";
			goto done;
		}
		*nl = '\0';
		if (st->n == cap) {
			cap = cap == 0 ? 256 : cap * 2;
			st->recs = xreallocarray(st->recs, cap,
			    sizeof *st->recs);
		}
		if (rx_parse_line(line, &st->recs[st->n]) == -1) {
			*why = "a malformed record";
			goto done;
		}
		st->n++;
	}
	if (st->n == 0 || strcmp(st->recs[0].type, RX_MAGIC) != 0)
		*why = "not a vigild state";
	else if (rx_getint(&st->recs[0], "version", 0) != RX_VERSION)
		*why = "a state format this vigild does not know";
	else if (st->n < 2 || strcmp(st->recs[st->n - 1].type, "end") != 0)
		*why = "the state is cut short";
done:
	close(fd);
	return st;
}

static void
rx_free(struct rx_state *st)
{
	free(st->recs);
	free(st->buf);
	free(st);
}

/* The descriptor an environment variable names; -1 if it is not one. */
static int
rx_env_fd(const char *env)
{
	char *end;
	long fd;

	errno = 0;
	fd = strtol(env, &end, 10);
	if (errno != 0 || *end != '\0' || fd < 3 || fd >= RX_MAX_FDS)
		return -1;
	return (int)fd;
}

struct rx_state *
rx_load(void)
{
	struct rx_state *st;
	const char *env, *why;
	int fd;

	if ((env = getenv(RX_ENV)) == NULL)
		return NULL;
	if ((fd = rx_env_fd(env)) == -1) {
		log_warnx("re-exec: bad %s=%s", RX_ENV, env);
		rx_abandon(NULL, "no state");
	}
	unsetenv(RX_ENV);
	st = rx_read(fd, &why);
	if (why != NULL)
		rx_abandon(st, why);
	return st;
}

/*
 * The probe of a re-exec, in the new binary: could it take over the state
 * on the descriptor env names (its format, and the configuration text, with
 * the files it names as they are now)? 0, or 1 with the errors on stderr.
 */
int
rx_check(const char *env)
{
	struct config_diag diag = { 0 };
	struct rx_state *st;
	struct rx_rec *r;
	struct config *cf;
	const char *why, *path;
	char *text;
	size_t i;
	int fd, ok;

	if ((fd = rx_env_fd(env)) == -1) {
		fprintf(stderr, "bad %s=%s\n", RX_CHECK_ENV, env);
		return 1;
	}
	st = rx_read(fd, &why);
	if (why == NULL && ((r = rx_find(st, "vd")) == NULL ||
	    (path = rx_get(r, "conf_path", NULL)) == NULL))
		why = "no daemon record";
	if (why == NULL && ((r = rx_find(st, "conf")) == NULL ||
	    (text = rx_get(r, "text", NULL)) == NULL))
		why = "no configuration";
	if (why != NULL) {
		fprintf(stderr, "the state: %s\n", why);
		rx_free(st);
		return 1;
	}
	if ((cf = config_load_text(path, text, &diag)) == NULL) {
		for (i = 0; i < diag.nerrors; i++)
			fprintf(stderr, "%s\n", diag.errors[i]);
		if (diag.nerrors == 0)
			fprintf(stderr, "%s: the configuration is refused\n",
			    path);
	}
	ok = cf != NULL;
	config_diag_clear(&diag);
	config_free(cf);
	rx_free(st);
	return ok ? 0 : 1;
}

int
rx_foreground(struct rx_state *st)
{
	struct rx_rec *r = rx_find(st, "vd");

	return r != NULL ? (int)rx_getint(r, "foreground", 1) : 1;
}

struct config *
rx_config(struct rx_state *st, const char *conf_path)
{
	struct config_diag diag = { 0 };
	struct rx_rec *r;
	struct config *cf;
	const char *path;
	char *text;
	size_t i;

	if ((r = rx_find(st, "vd")) == NULL)
		rx_abandon(st, "no daemon record");
	if ((path = rx_get(r, "conf_path", NULL)) == NULL)
		path = conf_path;
	if ((r = rx_find(st, "conf")) == NULL ||
	    (text = rx_get(r, "text", NULL)) == NULL)
		rx_abandon(st, "no configuration");
	if ((cf = config_load_text(path, text, &diag)) == NULL) {
		for (i = 0; i < diag.nerrors; i++)
			log_warnx("%s", diag.errors[i]);
		rx_abandon(st, "the configuration is refused");
	}
	config_diag_clear(&diag);
	vd.conf_path = cf->path;
	return cf;
}

void
rx_adopt_files(struct rx_state *st)
{
	struct rx_rec *r;
	const char *dir;

	r = rx_find(st, "vd");
	if ((dir = rx_get(r, "runtime_dir", NULL)) != NULL)
		vd.runtime_dir = xstrdup(dir);
	if ((r = rx_find(st, "pid")) != NULL)
		pidfile_restore(r);
	if ((r = rx_find(st, "ctl")) == NULL)
		rx_abandon(st, "no control socket");
	control_restore(r);
	if ((r = rx_find(st, "sd")) != NULL)
		notify_restore(r);
}

void
rx_restore(struct rx_state *st)
{
	struct rx_rec *r;
	struct svc *s;
	const char *name, *line;
	size_t i, len, nsvc = 0;

	for (i = 0; i < st->n; i++) {
		r = &st->recs[i];
		if (strcmp(r->type, "out") == 0 ||
		    strcmp(r->type, "batch") == 0)
			output_restore(r);
	}
	for (i = 0; i < st->n; i++) {
		r = &st->recs[i];
		if (strcmp(r->type, "svc") == 0) {
			if (svc_restore(r) == 0)
				nsvc++;
		} else if (strcmp(r->type, "svcs") == 0)
			svc_restore_ready_sent((int)rx_getint(r, "ready_sent",
			    0));
		else if (strcmp(r->type, "ntf") == 0) {
			if ((name = rx_get(r, "s", NULL)) != NULL &&
			    (s = svc_find(name)) != NULL)
				notify_adopt(s, r);
		}
		else if (strcmp(r->type, "ring") == 0) {
			if ((name = rx_get(r, "s", NULL)) != NULL &&
			    (s = svc_find(name)) != NULL &&
			    (line = rx_get(r, "l", &len)) != NULL)
				ring_append(s->log, line, len);
		}
	}
	svc_restore_done();
	notify_watchdog_ping();
	log_info("vigild %s re-executed: %zu service(s) restored from %s",
	    PACKAGE_VERSION, nsvc, vd.conf_path);
	for (i = 0; i < st->n; i++)
		if (strcmp(st->recs[i].type, "follow") == 0)
			control_restore_follow(&st->recs[i]);
	if ((r = rx_find(st, "conn")) != NULL)
		control_restore_conn(r, 1, NULL);
	rx_free(st);
}

/* ---- the old image ----------------------------------------------------- */

int
reexec_busy(void)
{
	return busy;
}

/* The request is over: answer who asked (a log line for a signal). */
static void
reexec_fail(const char *err)
{
	log_warnx("re-exec failed: %s", err);
	if (req_conn != 0)
		ctl_reexec_done(req_conn, 0, err);
	req_conn = 0;
	busy = 0;
	if (timeout_ev != NULL)
		evtimer_del(timeout_ev);
	/*
	 * output_idle() may have made go_cb active already: a request made
	 * before it runs must not find it there, unprobed and unfrozen.
	 */
	if (go_ev != NULL)
		event_del(go_ev);
}

/* The anonymous file for the state, close-on-exec until we clear it. */
static int
state_fd(void)
{
	char *path;
	int fd;

#ifdef HAVE_MEMFD_CREATE
	if ((fd = memfd_create("vigild-state", MFD_CLOEXEC)) != -1)
		return fd;
#endif
	xasprintf(&path, "%s/state.XXXXXX", vd.runtime_dir != NULL ?
	    vd.runtime_dir : "/tmp");
	fd = mkostemp(path, O_CLOEXEC);
	if (fd != -1)
		unlink(path);
	free(path);
	return fd;
}

struct ring_arg {
	FILE		*f;
	const char	*name;
};

static void
save_line(const char *line, size_t len, void *arg)
{
	struct ring_arg *ra = arg;

	rx_begin(ra->f, "ring");
	rx_str(ra->f, "s", ra->name);
	rx_bytes(ra->f, "l", line, len);
	rx_finish(ra->f);
}

/* The format, the daemon and the configuration text. */
static void
save_head(FILE *f)
{
	rx_begin(f, RX_MAGIC);
	rx_int(f, "version", RX_VERSION);
	rx_finish(f);
	rx_begin(f, "vd");
	rx_str(f, "conf_path", vd.conf_path);
	rx_str(f, "runtime_dir", vd.runtime_dir);
	rx_int(f, "foreground", vd.foreground);
	rx_finish(f);
	rx_begin(f, "conf");
	rx_bytes(f, "text", vd.conf->source != NULL ? vd.conf->source : "",
	    vd.conf->source != NULL ? strlen(vd.conf->source) : 0);
	rx_finish(f);
}

/* Flush and close f (on a dup of the state's descriptor); 0 or -1. */
static int
save_close(FILE *f)
{
	int e;

	if (fflush(f) == EOF || ferror(f)) {
		e = errno != 0 ? errno : EIO;
		fclose(f);
		errno = e;
		return -1;
	}
	return fclose(f) == EOF ? -1 : 0;
}

static FILE *
save_open(int fd)
{
	FILE *f;
	int dfd;

	if ((dfd = dup(fd)) == -1)
		return NULL;
	if ((f = fdopen(dfd, "w")) == NULL)
		close(dfd);
	return f;
}

/* Everything the new image needs, to fd. 0, or -1 with errno. */
static int
save_state(int fd)
{
	struct ring_arg ra;
	struct svc *s;
	FILE *f;

	if ((f = save_open(fd)) == NULL)
		return -1;
	save_head(f);
	pidfile_save(f);
	notify_save(f);
	output_save(f);
	svc_save(f);
	TAILQ_FOREACH(s, &svcs, entry) {
		ra.f = f;
		ra.name = s->name;
		ring_foreach(s->log, 0, save_line, &ra);
	}
	control_save(f, req_conn);
	rx_begin(f, "end");
	rx_finish(f);
	return save_close(f);
}

/* What the probe checks (rx_check): the head of the state. -1 or a fd. */
static int
check_state(void)
{
	FILE *f;
	int fd, e;

	if ((fd = state_fd()) == -1)
		return -1;
	if ((f = save_open(fd)) == NULL)
		goto fail;
	save_head(f);
	rx_begin(f, "end");
	rx_finish(f);
	if (save_close(f) == -1)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/*
 * Our environment without RX_ENV and RX_CHECK_ENV, plus var (which must
 * outlive the array); the array is the caller's to free, not the strings.
 */
static char **
env_with(char *var)
{
	char **env;
	size_t n = 0, i, j = 0;

	while (environ[n] != NULL)
		n++;
	env = xreallocarray(NULL, n + 2, sizeof *env);
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], RX_ENV "=", sizeof RX_ENV) != 0 &&
		    strncmp(environ[i], RX_CHECK_ENV "=",
		    sizeof RX_CHECK_ENV) != 0)
			env[j++] = environ[i];
	env[j++] = var;
	env[j] = NULL;
	return env;
}

/*
 * With every signal blocked in this thread: route what the source holds.
 * Later signals stay pending in the kernel across the exec.
 */
static void
drain_signals(void)
{
	struct vigil_siginfo si;

	while (vd.sigsrc != NULL && vigil_sigsrc_read(vd.sigsrc, &si) == 1)
		route_signal(&si);
}

/*
 * The kqueue source (FreeBSD, macOS) sets the signals it routes to SIG_IGN
 * (kqueue still sees them): an ignored signal is discarded even while
 * blocked, and SIG_IGN survives execve(), so one sent between the drain and
 * the new image's source would be lost. With pend set: give them SIG_DFL
 * (every thread blocks them, so they stay pending across the exec) and
 * drain the source again for those that came meanwhile (one may then be
 * taken twice, never lost). With pend clear (the exec failed): SIG_IGN
 * again. Returns 1 if it changed anything. Other sources block the signals
 * without ignoring them: nothing to do.
 */
static int
signals_pend(int pend)
{
	struct sigaction sa;
	sigset_t set;
	int sig;

	if (strcmp(vigil_sigsrc_backend(), "kqueue") != 0)
		return 0;
	vigil_sigset_async(&set);
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = pend ? SIG_DFL : SIG_IGN;
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&set, sig) == 1 && sig != SIGKILL &&
		    sig != SIGSTOP && sig != SIGCHLD)
			(void)sigaction(sig, &sa, NULL);
	if (pend)
		drain_signals();
	return 1;
}

/* Not going: the signal mask, the writers and the checks as they were. */
static void
go_undo(const sigset_t *old, int checks, const char *err)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
	output_thaw();
	if (checks)
		check_stop_all();
	reexec_fail(err);
}

/* The writers are idle: do it, from the loop. */
static void
go_cb(evutil_socket_t fd, short what, void *arg)
{
	static char var[64];
	char err[PATH_MAX + 128];
	sigset_t all, old;
	char **env;
	int sfd, e, kq;

	(void)fd;
	(void)what;
	(void)arg;
	if (!busy)
		return;
	evtimer_del(timeout_ev);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	drain_signals();
	if (vd.shutting_down || reload_busy() || reload_parsing()) {
		go_undo(&old, 0, vd.shutting_down ? "vigild is shutting down" :
		    "a reload began");
		return;
	}
	check_exit();
	rx_kept_reset();
	if ((sfd = state_fd()) == -1 || save_state(sfd) == -1) {
		e = errno;
		if (sfd != -1)
			close(sfd);
		go_undo(&old, 1, strerror(e));
		return;
	}
	rx_keep_fd(sfd);
	rx_kept_cloexec(0);
	snprintf(var, sizeof var, RX_ENV "=%d", sfd);
	env = env_with(var);
	log_info("re-executing %s", vd.self_path);
	control_part(req_conn);
	notify_watchdog_ping();
	kq = signals_pend(1);
	execve(vd.self_path, vd.argv, env);
	e = errno;
	if (kq)
		signals_pend(0);
	free(env);
	rx_kept_cloexec(1);
	close(sfd);
	rx_kept_reset();
	snprintf(err, sizeof err, "cannot execute %s: %s", vd.self_path,
	    strerror(e));
	go_undo(&old, 1, err);
}

static void
output_idle(void)
{
	if (busy)
		event_active(go_ev, 0, 0);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (probe_pid > 0) {
		/* Reaped as an orphan once it dies. */
		(void)kill(-probe_pid, SIGKILL);
		probe_pid = 0;
		if (probe_errfd != -1)
			close(probe_errfd);
		probe_errfd = -1;
		reexec_fail("the new binary did not answer -V in time");
		return;
	}
	output_thaw();
	reexec_fail("the output writers are blocked (is vigild's stdout "
	    "or stderr stopped?)");
}

/*
 * Run "self_path -V" with the head of the state on descriptor 3 and
 * RX_CHECK_ENV naming it, its stderr into a pipe: a binary that knows
 * RX_CHECK_ENV parses the configuration text as the new image would (an
 * env_file or an @include may have gone, a user or a group, the format may
 * have changed); one that does not prints its version. -1 with a message
 * in err if it cannot start.
 */
static int
probe_start(char *err, size_t errlen)
{
	struct vigil_spawnattr *a = NULL;
	static char flag[] = "-V";
	static char var[] = RX_CHECK_ENV "=3";
	char *argv[3], **env;
	int sfd, ep[2] = { -1, -1 }, e;

	argv[0] = vd.self_path;
	argv[1] = flag;
	argv[2] = NULL;
	if ((sfd = check_state()) == -1) {
		e = errno;
		snprintf(err, errlen, "cannot write the state: %s",
		    strerror(e));
		return -1;
	}
	env = env_with(var);
#ifdef HAVE_PIPE2
	if (pipe2(ep, O_CLOEXEC | O_NONBLOCK) == -1)
		ep[0] = ep[1] = -1;
#else
	if (pipe(ep) == -1)
		ep[0] = ep[1] = -1;
	else {
		(void)fcntl(ep[0], F_SETFD, FD_CLOEXEC);
		(void)fcntl(ep[1], F_SETFD, FD_CLOEXEC);
		(void)fcntl(ep[0], F_SETFL, O_NONBLOCK);
	}
#endif
	if ((a = vigil_spawnattr_new()) == NULL ||
	    vigil_spawnattr_set_argv(a, argv) == -1 ||
	    vigil_spawnattr_set_env(a, env) == -1 ||
	    vigil_spawnattr_set_fd(a, 3, sfd) == -1 ||
	    (ep[1] != -1 && vigil_spawnattr_set_fd(a, 2, ep[1]) == -1) ||
	    vigil_spawn(a, &probe_pid, NULL) == -1) {
		e = errno;
		vigil_spawnattr_free(a);
		free(env);
		close(sfd);
		if (ep[0] != -1) {
			close(ep[0]);
			close(ep[1]);
		}
		probe_pid = 0;
		snprintf(err, errlen, "cannot execute %s: %s", vd.self_path,
		    strerror(e));
		return -1;
	}
	vigil_spawnattr_free(a);
	free(env);
	close(sfd);
	if (ep[1] != -1)
		close(ep[1]);
	probe_errfd = ep[0];
	return 0;
}

/* The first line the probe wrote to its stderr, in buf ("" if none). */
static void
probe_stderr(char *buf, size_t len)
{
	ssize_t n = -1;
	char *nl;

	buf[0] = '\0';
	if (probe_errfd != -1) {
		while ((n = read(probe_errfd, buf, len - 1)) == -1 &&
		    errno == EINTR)
			;
		close(probe_errfd);
		probe_errfd = -1;
	}
	buf[n > 0 ? n : 0] = '\0';
	if ((nl = strchr(buf, '\n')) != NULL)
		*nl = '\0';
}

int
reexec_reaped(pid_t pid, int status)
{
	char err[PATH_MAX + 1024], why[512];

	if (pid <= 0 || pid != probe_pid)
		return 0;
	probe_pid = 0;
	probe_stderr(why, sizeof why);
	if (!busy)
		return 1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		log_debug("re-exec: %s -V ran", vd.self_path);
		output_freeze(output_idle);
		return 1;
	}
	if (WIFSIGNALED(status))
		snprintf(err, sizeof err, "%s -V was killed by signal %d: the "
		    "new binary does not run", vd.self_path, WTERMSIG(status));
	else if (why[0] != '\0')
		snprintf(err, sizeof err, "%s cannot take over: %s",
		    vd.self_path, why);
	else
		snprintf(err, sizeof err, "%s -V exited with code %d: the new "
		    "binary does not run", vd.self_path, WEXITSTATUS(status));
	reexec_fail(err);
	return 1;
}

void
reexec_request(unsigned long long conn_id)
{
	struct timeval tv;
	char err[PATH_MAX + 128];

	err[0] = '\0';
	if (busy)
		snprintf(err, sizeof err, "a re-exec is already in progress");
	else if (vd.ops != &svc_config_ops)
		snprintf(err, sizeof err, "re-exec is not supported in "
		    "single-command mode");
	else if (vd.shutting_down)
		snprintf(err, sizeof err, "vigild is shutting down");
	else if (reload_busy() || reload_parsing())
		snprintf(err, sizeof err, "a reload is in progress");
	else if (svc_removal_pending())
		snprintf(err, sizeof err, "services removed by a reload "
		    "are still stopping");
	else if (vd.self_path == NULL || access(vd.self_path, X_OK) == -1)
		snprintf(err, sizeof err, "cannot execute %s: %s",
		    vd.self_path != NULL ? vd.self_path : "vigild",
		    strerror(errno));
	if (err[0] != '\0') {
		log_warnx("re-exec refused: %s", err);
		if (conn_id != 0)
			ctl_reexec_done(conn_id, 0, err);
		return;
	}
	busy = 1;
	req_conn = conn_id;
	if (go_ev == NULL) {
		go_ev = event_new(vd.base, -1, 0, go_cb, NULL);
		timeout_ev = evtimer_new(vd.base, timeout_cb, NULL);
		if (go_ev == NULL || timeout_ev == NULL)
			fatalx("re-exec: event_new");
	}
	if (probe_start(err, sizeof err) == -1) {
		reexec_fail(err);
		return;
	}
	ms_to_tv(RX_FREEZE_MS, &tv);
	evtimer_add(timeout_ev, &tv);
}
