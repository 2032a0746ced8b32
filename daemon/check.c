/*
 * Checks (SPEC 4.1, 4.2): readiness by tcp or exec, and health checks.
 *
 * A service has at most one check, which follows its state (check_update(),
 * called by set_state() in service.c on every change):
 *
 *   starting, ready type tcp or exec   the readiness check: a try at once,
 *                                       then one interval after each failed
 *                                       try; a success calls svc_ready()
 *   running, with a health command     the health check: a try interval
 *                                       after the service became ready, then
 *                                       interval after each try; retries
 *                                       failures in a row call
 *                                       svc_unhealthy()
 *   any other state, or a shutdown     none: a try in flight is abandoned,
 *                                       its process group killed
 *
 * One try at a time per check, each bounded: a readiness try by interval, a
 * health try by timeout. The next try waits interval from the end of the
 * previous one (as docker's HEALTHCHECK does), so tries never overlap and a
 * slow check cannot pile up. Nothing here runs a timer for a service
 * without such a check.
 *
 * tcp: a non-blocking connect() driven by the loop; an established
 * connection (closed at once) is a success; the addresses of the host are
 * tried in order. A numeric host is parsed once, on the loop; a host name is
 * resolved with getaddrinfo() on the worker pool before each try, so that a
 * name that does not resolve yet at boot, or changes, is followed. At most
 * one resolution per check is in flight: a try that reaches its bound while
 * resolving leaves it running, and its result serves the next try.
 *
 * exec: the command is spawned like the service (svc_spawn_attr():
 * environment, directory, user and group, umask, limits) in a session and
 * process group of its own, stdin and stdout on /dev/null, stderr where the
 * service's stderr goes (so a failing check can say why in the service's
 * log). Exit 0 is a success. The process is reaped by the one waitpid() loop
 * of reap.c, which hands it here by pid. When a try ends its process group
 * is killed, so nothing a check started outlives it; a try that reaches its
 * bound, or a check that ends, kills the group at once and keeps the pid on
 * the list until it is reaped, so a check process is never taken for an
 * orphan. check_exit() kills and reaps what is left before vigild exits.
 *
 * Main thread only, but resolve_job(), which runs on a worker and touches
 * nothing but its own host, port and results.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "vigild.h"
#include "xmalloc.h"

#define CHECK_EXIT_WAIT_MS	2000	/* for killed checks at exit, in all */

extern char **environ;

enum check_kind {
	CHECK_NONE = -1,
	CHECK_READY,		/* starting: ready type tcp or exec */
	CHECK_HEALTH		/* running: the health command */
};

/* A check's process, from its spawn until it is reaped. */
struct checkproc {
	pid_t			 pid;	/* also its process group */
	struct check		*c;	/* NULL: abandoned, only to be reaped */
	TAILQ_ENTRY(checkproc)	 entry;
};

/* A host name resolution on the pool; an abandoned one ends on its own. */
struct resolve {
	char			*host;
	char			*port;
	struct addrinfo		*res;	/* set by the job */
	int			 error;	/* of getaddrinfo(), by the job */
	struct check		*c;	/* NULL: abandoned */
	TAILQ_ENTRY(resolve)	 entry;
};

struct check {
	struct svc		*s;
	enum check_kind		 kind;
	struct event		*timer;	/* the next try, or the bound of one */
	int			 trying;
	unsigned int		 failures;	/* in a row */
	char			 why[128];	/* of the last failure */
	/* tcp */
	struct addrinfo		*numeric;	/* a numeric host, parsed once */
	struct addrinfo		*resolved;	/* a host name, for one try */
	struct addrinfo		*next;		/* the address to try next */
	struct resolve		*resolve;	/* in flight */
	int			 fd;		/* connecting */
	int			 error;		/* of the last connect */
	struct event		*conn_ev;
	/* exec */
	struct checkproc	*proc;
	struct output		*err;
};

static TAILQ_HEAD(, checkproc) procs = TAILQ_HEAD_INITIALIZER(procs);
/* Resolutions in flight, kept reachable until their done callback. */
static TAILQ_HEAD(, resolve) resolves = TAILQ_HEAD_INITIALIZER(resolves);

static void	tcp_connect(struct check *);

static int
check_is_tcp(const struct check *c)
{
	return c->kind == CHECK_READY && c->s->conf->ready.type == READY_TCP;
}

/* The bound of one try. */
static int64_t
check_bound(const struct check *c)
{
	const struct service_conf *sc = c->s->conf;

	return c->kind == CHECK_READY ? sc->ready.interval_ms :
	    sc->health.timeout_ms;
}

/* The wait before the next try. */
static int64_t
check_interval(const struct check *c)
{
	const struct service_conf *sc = c->s->conf;

	return c->kind == CHECK_READY ? sc->ready.interval_ms :
	    sc->health.interval_ms;
}

static void
check_arm(struct check *c, int64_t ms)
{
	struct timeval tv;

	ms_to_tv(ms, &tv);
	evtimer_add(c->timer, &tv);
}

/* Kill the group of a process not reaped yet (so its pid is still ours). */
static void
proc_abandon(struct checkproc *p)
{
	(void)kill(-p->pid, SIGKILL);
	p->c = NULL;
}

/* Release what a try holds; a process in flight is killed and abandoned. */
static void
try_end(struct check *c)
{
	c->trying = 0;
	evtimer_del(c->timer);
	if (c->conn_ev != NULL)
		event_free(c->conn_ev);
	c->conn_ev = NULL;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	if (c->resolved != NULL)
		freeaddrinfo(c->resolved);
	c->resolved = c->next = NULL;
	if (c->proc != NULL)
		proc_abandon(c->proc);
	c->proc = NULL;
	output_release(c->err);
	c->err = NULL;
}

/*
 * A try ended: ok, or failed for why. The calls to service.c come last:
 * svc_ready() and svc_unhealthy() change the state, which frees c.
 */
static void
try_done(struct check *c, int ok, const char *why)
{
	struct svc *s = c->s;
	unsigned int retries = s->conf->health.retries;

	try_end(c);
	if (ok && c->kind == CHECK_READY) {
		svc_ready(s, check_is_tcp(c) ? "tcp" : "exec");
		return;
	}
	if (ok) {
		if (c->failures > 0) {
			log_svc(LOG_LEVEL_INFO, s->name, "health check passed "
			    "after %u failure%s", c->failures,
			    c->failures > 1 ? "s" : "");
			snprintf(s->reason, sizeof s->reason,
			    "health check passed again");
		}
		c->failures = 0;
		check_arm(c, check_interval(c));
		return;
	}
	c->failures++;
	if (why != c->why)
		snprintf(c->why, sizeof c->why, "%s", why);
	if (c->kind == CHECK_READY) {
		log_svc(LOG_LEVEL_DEBUG, s->name, "readiness check failed: %s",
		    why);
		check_arm(c, check_interval(c));
		return;
	}
	log_svc(LOG_LEVEL_WARN, s->name, "health check failed (%u of %u): %s",
	    c->failures, retries, why);
	if (c->failures >= retries) {
		svc_unhealthy(s, why);
		return;
	}
	snprintf(s->reason, sizeof s->reason, "health check failing "
	    "(%u of %u): %s", c->failures, retries, why);
	check_arm(c, check_interval(c));
}

/* ---- tcp ----------------------------------------------------------- */

/* On a worker: resolve, touching nothing but r. */
static void
resolve_job(void *arg)
{
	struct resolve *r = arg;
	struct addrinfo hints;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	r->error = getaddrinfo(r->host, r->port, &hints, &r->res);
}

static void
resolve_free(struct resolve *r)
{
	if (r->res != NULL)
		freeaddrinfo(r->res);
	free(r->host);
	free(r->port);
	free(r);
}

/*
 * On the loop: the resolution is over. Its addresses serve the try in
 * flight, or the next one if the last reached its bound meanwhile.
 */
static void
resolve_done(void *arg)
{
	struct resolve *r = arg;
	struct check *c = r->c;

	TAILQ_REMOVE(&resolves, r, entry);
	if (c == NULL) {
		resolve_free(r);
		return;
	}
	c->resolve = NULL;
	if (r->error != 0) {
		snprintf(c->why, sizeof c->why, "cannot resolve %s: %s",
		    r->host, gai_strerror(r->error));
		resolve_free(r);
		if (c->trying)
			try_done(c, 0, c->why);
		return;
	}
	c->resolved = r->res;
	r->res = NULL;
	resolve_free(r);
	if (c->trying) {
		c->next = c->resolved;
		tcp_connect(c);
	}
}

static int
resolve_start(struct check *c)
{
	const struct ready_conf *rc = &c->s->conf->ready;
	struct resolve *r = xcalloc(1, sizeof *r);

	r->host = xstrdup(rc->host);
	r->port = xstrdup(rc->port);
	r->c = c;
	TAILQ_INSERT_TAIL(&resolves, r, entry);
	if (vigil_pool_submit(vd.pool, resolve_job, resolve_done, r) == -1) {
		TAILQ_REMOVE(&resolves, r, entry);
		resolve_free(r);
		return -1;
	}
	c->resolve = r;
	return 0;
}

/* The connection in progress completed or failed. */
static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;
	socklen_t len = sizeof c->error;

	(void)fd;
	(void)what;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &c->error, &len) == -1)
		c->error = errno;
	event_free(c->conn_ev);
	c->conn_ev = NULL;
	close(c->fd);
	c->fd = -1;
	if (c->error == 0)
		try_done(c, 1, NULL);
	else
		tcp_connect(c);
}

/* Connect to c->next, then to the addresses after it; one is enough. */
static void
tcp_connect(struct check *c)
{
	const struct ready_conf *rc = &c->s->conf->ready;
	struct addrinfo *ai;

	while ((ai = c->next) != NULL) {
		c->next = ai->ai_next;
		c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (c->fd == -1) {
			c->error = errno;
			continue;
		}
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			try_done(c, 1, NULL);
			return;
		}
		c->error = errno;
		if (c->error == EINPROGRESS) {
			c->conn_ev = event_new(vd.base, c->fd, EV_WRITE,
			    conn_cb, c);
			if (c->conn_ev != NULL &&
			    event_add(c->conn_ev, NULL) == 0)
				return;
			c->error = ENOMEM;
		}
		close(c->fd);
		c->fd = -1;
	}
	snprintf(c->why, sizeof c->why, "%s%s%s:%s: %s",
	    strchr(rc->host, ':') != NULL ? "[" : "", rc->host,
	    strchr(rc->host, ':') != NULL ? "]" : "", rc->port,
	    strerror(c->error));
	try_done(c, 0, c->why);
}

static void
tcp_try(struct check *c)
{
	if (c->numeric != NULL || c->resolved != NULL) {
		c->next = c->numeric != NULL ? c->numeric : c->resolved;
		tcp_connect(c);
	} else if (c->resolve == NULL && resolve_start(c) == -1)
		try_done(c, 0, "cannot queue the name resolution");
	/* Else the resolution in flight goes on with this try. */
}

/* ---- exec ---------------------------------------------------------- */

/* Where a check's stderr goes: where the service's does; -1: /dev/null. */
static int
exec_stderr(struct check *c, int *close_fd)
{
	const struct service_conf *sc = c->s->conf;
	int merged = sc->err.kind == OUTPUT_STDOUT, dest = merged ? 1 : 2;
	enum output_kind kind = merged ? sc->out.kind : sc->err.kind;

	*close_fd = -1;
	if (kind == OUTPUT_INHERIT)
		return dest;
	if (kind != OUTPUT_CONSOLE ||
	    (c->err = output_new(c->s->name, dest, c->s->log, close_fd)) ==
	    NULL)
		return -1;
	return *close_fd;
}

static void
exec_try(struct check *c)
{
	struct svc *s = c->s;
	char *const *argv = c->kind == CHECK_READY ? s->conf->ready.argv :
	    s->conf->health.argv;
	struct vigil_spawnattr *a;
	char **env;
	int err_fd, close_fd, r = -1, saved;
	pid_t pid;

	err_fd = exec_stderr(c, &close_fd);
	env = config_service_env(s->conf, environ, s->name, s->instance);
	if ((a = svc_spawn_attr(s, argv, env, -1, err_fd, -1)) != NULL)
		r = vigil_spawn(a, &pid, NULL);
	saved = errno;
	vigil_spawnattr_free(a);
	config_env_free(env);
	if (close_fd != -1)
		close(close_fd);
	if (r == -1) {
		snprintf(c->why, sizeof c->why, "cannot execute %s: %s",
		    argv[0], strerror(saved));
		try_done(c, 0, c->why);
		return;
	}
	c->proc = xcalloc(1, sizeof *c->proc);
	c->proc->pid = pid;
	c->proc->c = c;
	TAILQ_INSERT_TAIL(&procs, c->proc, entry);
}

int
check_reaped(pid_t pid, int status)
{
	struct checkproc *p;
	struct check *c;
	const char *sig;

	TAILQ_FOREACH(p, &procs, entry)
		if (p->pid == pid)
			break;
	if (p == NULL)
		return 0;
	TAILQ_REMOVE(&procs, p, entry);
	/*
	 * What it left in its group goes with it. Only now, after the reap:
	 * as for a service's group, nothing can have taken over the pid in
	 * between but a new process that made it its own group's id at once.
	 */
	(void)kill(-pid, SIGKILL);
	c = p->c;
	free(p);
	log_debug("reaped check process %d%s", (int)pid,
	    c == NULL ? ", abandoned" : "");
	if (c == NULL)
		return 1;
	c->proc = NULL;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		try_done(c, 1, NULL);
		return 1;
	}
	if (WIFSIGNALED(status)) {
		sig = config_signal_name(WTERMSIG(status));
		snprintf(c->why, sizeof c->why, "killed by %s",
		    sig != NULL ? sig : "a signal");
	} else
		snprintf(c->why, sizeof c->why, "exited with code %d",
		    WEXITSTATUS(status));
	try_done(c, 0, c->why);
	return 1;
}

/* ---- the life of a check ------------------------------------------- */

/* Idle: start a try. Trying: it reached its bound, a failure. */
static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;

	(void)fd;
	(void)what;
	if (!c->trying) {
		c->trying = 1;
		check_arm(c, check_bound(c));
		if (check_is_tcp(c))
			tcp_try(c);
		else
			exec_try(c);
		return;
	}
	if (c->resolve != NULL)
		snprintf(c->why, sizeof c->why, "cannot resolve %s in %g s",
		    c->s->conf->ready.host, check_bound(c) / 1000.0);
	else
		snprintf(c->why, sizeof c->why, "timed out after %g s",
		    check_bound(c) / 1000.0);
	try_done(c, 0, c->why);
}

static struct check *
check_new(struct svc *s, enum check_kind kind)
{
	const struct ready_conf *rc = &s->conf->ready;
	struct check *c = xcalloc(1, sizeof *c);
	struct addrinfo hints;

	c->s = s;
	c->kind = kind;
	c->fd = -1;
	if ((c->timer = evtimer_new(vd.base, timer_cb, c)) == NULL)
		fatalx("cannot create a timer");
	if (check_is_tcp(c)) {
		memset(&hints, 0, sizeof hints);
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
		if (getaddrinfo(rc->host, rc->port, &hints, &c->numeric) != 0)
			c->numeric = NULL;	/* a name: resolved per try */
	}
	check_arm(c, kind == CHECK_READY ? 0 : check_interval(c));
	return c;
}

static void
check_free(struct check *c)
{
	try_end(c);
	if (c->resolve != NULL)
		c->resolve->c = NULL;
	if (c->numeric != NULL)
		freeaddrinfo(c->numeric);
	event_free(c->timer);
	free(c);
}

/* The check s needs in its state: none once a shutdown began. */
static enum check_kind
check_wanted(const struct svc *s)
{
	const struct service_conf *sc = s->conf;

	if (vd.shutting_down)
		return CHECK_NONE;
	if (s->state == SVC_STARTING && (sc->ready.type == READY_TCP ||
	    sc->ready.type == READY_EXEC))
		return CHECK_READY;
	if (s->state == SVC_RUNNING && sc->health.argv != NULL)
		return CHECK_HEALTH;
	return CHECK_NONE;
}

void
check_update(struct svc *s)
{
	enum check_kind want = check_wanted(s);

	if (s->check != NULL && s->check->kind != want) {
		if (s->check->kind == CHECK_READY && s->state != SVC_RUNNING &&
		    s->check->failures > 0)
			log_svc(LOG_LEVEL_INFO, s->name, "readiness check "
			    "failed %u time%s, last: %s", s->check->failures,
			    s->check->failures > 1 ? "s" : "", s->check->why);
		check_free(s->check);
		s->check = NULL;
	}
	if (want != CHECK_NONE && s->check == NULL)
		s->check = check_new(s, want);
}

void
check_stop_all(void)
{
	struct svc *s;

	TAILQ_FOREACH(s, &svcs, entry)
		check_update(s);
}

/*
 * The loop is over: end every check and reap every check process, killed
 * first. The wait is on processes sent SIGKILL, so it is short.
 */
void
check_exit(void)
{
	static const struct timespec tick = { 0, 10 * 1000 * 1000 };
	struct checkproc *p;
	struct svc *s;
	int64_t end;
	pid_t r = 0;

	TAILQ_FOREACH(s, &svcs, entry)
		if (s->check != NULL) {
			check_free(s->check);
			s->check = NULL;
		}
	/*
	 * Bounded: a process stuck in the kernel (a dead NFS server) does
	 * not die of SIGKILL, and must not keep vigild from exiting.
	 */
	end = now_ms() + CHECK_EXIT_WAIT_MS;
	while ((p = TAILQ_FIRST(&procs)) != NULL) {
		TAILQ_REMOVE(&procs, p, entry);
		(void)kill(-p->pid, SIGKILL);
		while ((r = waitpid(p->pid, NULL, WNOHANG)) == 0 &&
		    now_ms() < end)
			nanosleep(&tick, NULL);
		if (r == 0)
			log_warnx("check process %ld does not die; leaving it",
			    (long)p->pid);
		free(p);
	}
}
