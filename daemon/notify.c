/*
 * sd_notify, both ways (SPEC 4, 4.1; research/forksafety.md A9). The
 * protocol is written here: no libsystemd.
 *
 * As a client of systemd: notify_init() takes NOTIFY_SOCKET and
 * WATCHDOG_USEC/WATCHDOG_PID out of the environment (no child may see
 * them), and notify_systemd() sends one datagram per message from a fresh
 * close-on-exec socket. Sends never block the loop (MSG_DONTWAIT) and
 * never fail the daemon: a failure is only returned. With WATCHDOG_USEC,
 * a persistent loop timer sends WATCHDOG=1 every half interval, so a wedged
 * loop stops the pings; without it there is no timer at all.
 *
 * As a server for children, one listener per run of a service:
 *
 * - ready type notify: a datagram socket bound at "<runtime_dir>/n<N>",
 *   mode 0600 and owned by the service's user, whose path goes into the
 *   child's NOTIFY_SOCKET. Datagrams larger than NOTIFY_MSG_MAX or with a
 *   NUL are dropped whole; lines without a "KEY=" are skipped. READY=1
 *   calls svc_ready(s, "notify") once per run; STATUS= goes into s->reason
 *   (control characters replaced, cut on a character boundary); MAINPID= is
 *   not supported (the main process is always the one vigild started) and
 *   only logged at debug, as are STOPPING=1 and RELOADING=1; other keys are
 *   ignored. Descriptors passed along (BARRIER=1 sends one) are closed at
 *   once, which is what the sender waits for.
 *
 *   Senders (Linux, SO_PASSCRED): a message is taken only from the
 *   service's main process or a process of its session (getsid() ==
 *   s->pid; every service runs in a session of its own). A sender that is
 *   already gone when the message is read, as a short-lived
 *   "systemd-notify --ready" may be, cannot be checked that way; its
 *   message is taken if it ran as the service's user. Others are dropped
 *   with a debug line. Elsewhere the socket's owner and mode, in vigild's
 *   private directory, are the only check.
 *
 * - ready type fd: a pipe whose write end the child gets at ready.fd (the
 *   s6 convention). Anything up to and including a newline makes the
 *   service ready; then the read end is closed. EOF before a newline does
 *   nothing: the readiness timeout of service.c applies.
 *
 * - other types: no listener (NULL, errno 0).
 *
 * svc_ready() is called last in a callback and nothing of the listener is
 * touched after it, so svc_ready() may call notify_close().
 *
 * Main thread only, except notify_systemd(), which any thread may call
 * once notify_init() has returned. Every descriptor is close-on-exec.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "reexec.h"
#include "vigild.h"
#include "xmalloc.h"

#define NOTIFY_MSG_MAX		4096	/* bytes in a child's datagram */
#define NOTIFY_BATCH		16	/* datagrams read per wakeup */
#define NOTIFY_MAXFDS		16	/* passed descriptors we can close */
#define NOTIFY_BIND_TRIES	64

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL		0
#endif
#ifndef MSG_CMSG_CLOEXEC
#define MSG_CMSG_CLOEXEC	0
#endif

struct notify_listener {
	struct svc	*s;
	enum ready_type	 type;
	int		 fd;		/* socket, or the pipe's read end */
	struct event	*ev;
	char		*path;		/* the socket's path, to unlink */
	int		 ready;		/* svc_ready() was called */
};

/* systemd's address; len 0 when NOTIFY_SOCKET was unset or unusable. */
static struct sockaddr_un notify_addr;
static socklen_t	 notify_addrlen;
static struct event	*notify_wd_ev;
static unsigned int	 notify_counter;
/* What NOTIFY_SOCKET and WATCHDOG_* said, for a re-exec. */
static char		*sd_env[3];
static const char *const sd_names[3] = {
	"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"
};

/*
 * Fill notify_addr from NOTIFY_SOCKET: "/path", or "@name" for a Linux
 * abstract socket (a leading NUL, and a length without a trailing NUL).
 * Anything else (vsock:, a relative path, too long) is refused with a
 * warning: vigild then behaves as if it were not under systemd.
 */
static void
notify_parse_addr(const char *s)
{
	size_t len = strlen(s);

	memset(&notify_addr, 0, sizeof notify_addr);
	notify_addr.sun_family = AF_UNIX;
	notify_addrlen = 0;
	if (len >= sizeof notify_addr.sun_path) {
		log_warnx("NOTIFY_SOCKET is too long, ignored");
		return;
	}
	if (s[0] == '/') {
		memcpy(notify_addr.sun_path, s, len + 1);
		notify_addrlen = offsetof(struct sockaddr_un, sun_path) +
		    len + 1;
		return;
	}
#ifdef __linux__
	if (s[0] == '@' && len > 1) {
		memcpy(notify_addr.sun_path + 1, s + 1, len - 1);
		notify_addrlen = offsetof(struct sockaddr_un, sun_path) + len;
		return;
	}
#endif
	log_warnx("NOTIFY_SOCKET \"%s\" is not supported, ignored", s);
}

/* Parse a positive decimal number; 0 if s is not one. */
static unsigned long long
notify_parse_ull(const char *s)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	return v;
}

/* The watchdog timer: one WATCHDOG=1 per half interval. */
static void
notify_wd_cb(int fd, short events, void *arg)
{
	if (notify_systemd("WATCHDOG=1") == -1)
		log_debug("watchdog ping: %s", strerror(errno));
}

/*
 * WATCHDOG_USEC counts only if WATCHDOG_PID is unset or names us (else it
 * was meant for another process that passed its environment on).
 */
static void
notify_watchdog_start(const char *usec_s, const char *pid_s)
{
	unsigned long long usec, half;
	struct timeval tv;

	if ((usec = notify_parse_ull(usec_s)) == 0) {
		if (usec_s != NULL)
			log_warnx("WATCHDOG_USEC \"%s\" is invalid, ignored",
			    usec_s);
		return;
	}
	if (pid_s != NULL && notify_parse_ull(pid_s) != (unsigned long long)
	    getpid()) {
		log_debug("WATCHDOG_PID is not ours: no watchdog pings");
		return;
	}
	if (notify_addrlen == 0 || vd.base == NULL)
		return;
	if ((half = usec / 2) == 0)
		half = 1;
	tv.tv_sec = (time_t)(half / 1000000);
	tv.tv_usec = (suseconds_t)(half % 1000000);
	if (notify_wd_ev == NULL)
		notify_wd_ev = event_new(vd.base, -1, EV_PERSIST,
		    notify_wd_cb, NULL);
	if (notify_wd_ev == NULL || event_add(notify_wd_ev, &tv) == -1) {
		log_warnx("cannot start the watchdog timer");
		return;
	}
	log_debug("watchdog: WATCHDOG=1 every %llu us", half);
}

/*
 * Take NOTIFY_SOCKET and WATCHDOG_* out of the environment and keep what
 * they say. Call once vd.base exists (the watchdog timer lives on it).
 */
void
notify_init(void)
{
	const char *sock, *usec, *pid;

	sock = getenv("NOTIFY_SOCKET");
	usec = getenv("WATCHDOG_USEC");
	pid = getenv("WATCHDOG_PID");
	free(sd_env[0]);
	free(sd_env[1]);
	free(sd_env[2]);
	sd_env[0] = sock != NULL ? xstrdup(sock) : NULL;
	sd_env[1] = usec != NULL ? xstrdup(usec) : NULL;
	sd_env[2] = pid != NULL ? xstrdup(pid) : NULL;

	notify_addrlen = 0;
	if (sock != NULL && *sock != '\0')
		notify_parse_addr(sock);
	if (notify_wd_ev != NULL)
		event_del(notify_wd_ev);
	notify_watchdog_start(usec, pid);

	/* Last: the strings above point into the environment. */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

/* Log a message sent to systemd at debug, on one line. */
static void
log_notify_sent(char *msg)
{
	char *p;

	for (p = msg; (p = strchr(p, '\n')) != NULL; p++)
		*p = ' ';
	log_debug("notify: %s", msg);
}

/*
 * Send one message to systemd. Returns 0 when sent or when NOTIFY_SOCKET
 * was unset; -1 with errno (EMSGSIZE past 4 KiB, EAGAIN if systemd's queue
 * is full, or the socket's errors) otherwise. Never blocks.
 */
int
notify_systemd(const char *fmt, ...)
{
	char msg[NOTIFY_MSG_MAX];
	va_list ap;
	ssize_t r;
	int fd, n, saved;

	if (notify_addrlen == 0)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof msg) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	r = sendto(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT,
	    (const struct sockaddr *)&notify_addr, notify_addrlen);
	saved = errno;
	close(fd);
	if (r != -1 && strcmp(msg, "WATCHDOG=1") != 0)
		log_notify_sent(msg);
	errno = saved;
	return r == -1 ? -1 : 0;
}

#ifdef SCM_CREDENTIALS
/* The user a service runs as, for the check of a gone sender. */
static uid_t
notify_service_uid(const struct svc *s)
{
	return s->conf->has_user ? s->conf->uid : geteuid();
}

/*
 * Is (pid, uid), the sender of a datagram, one of s's processes? pid is 0
 * when unknown (another pid namespace, or not reported).
 */
static int
notify_sender_ok(const struct svc *s, pid_t pid, uid_t uid)
{
	pid_t sid;

	if (s->pid <= 0)
		return 0;
	if (pid > 0 && pid == s->pid)
		return 1;
	if (pid > 0 && (sid = getsid(pid)) != -1)
		return sid == s->pid;
	if (pid > 0 && errno != ESRCH)
		return 0;
	return uid == notify_service_uid(s);
}
#endif

/*
 * Copy a STATUS= value into s->reason: bounded, control characters made
 * '?', never cut inside a UTF-8 sequence.
 */
static void
notify_set_status(struct svc *s, const char *v)
{
	size_t len, i;

	len = strlen(v);
	if (len >= sizeof s->reason) {
		len = sizeof s->reason - 1;
		while (len > 0 && ((unsigned char)v[len] & 0xc0) == 0x80)
			len--;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		s->reason[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	s->reason[len] = '\0';
	log_svc(LOG_LEVEL_DEBUG, s->name, "status: %s", s->reason);
}

/*
 * Act on one datagram (NUL-terminated, no other NUL). STATUS= is applied
 * after svc_ready() so that the service's own words stay in s->reason.
 * Returns 1 if svc_ready() was called (l may be gone), else 0.
 */
static int
notify_handle(struct notify_listener *l, char *msg)
{
	struct svc *s = l->s;
	char *line, *next, *eq, *status = NULL;
	int ready = 0;

	for (line = msg; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((eq = strchr(line, '=')) == NULL || eq == line)
			continue;
		*eq++ = '\0';
		if (strcmp(line, "READY") == 0 && strcmp(eq, "1") == 0)
			ready = 1;
		else if (strcmp(line, "STATUS") == 0)
			status = eq;
		else if (strcmp(line, "MAINPID") == 0)
			log_svc(LOG_LEVEL_DEBUG, s->name,
			    "MAINPID=%s is not supported, ignored", eq);
		else if (strcmp(line, "STOPPING") == 0 ||
		    strcmp(line, "RELOADING") == 0)
			log_svc(LOG_LEVEL_DEBUG, s->name, "notify: %s=%s",
			    line, eq);
	}
	if (ready && l->ready)
		log_svc(LOG_LEVEL_DEBUG, s->name, "READY=1 again, ignored");
	if (ready && !l->ready) {
		l->ready = 1;
		svc_ready(s, "notify");
		/* l may have been closed by svc_ready(); s lives on. */
		if (status != NULL)
			notify_set_status(s, status);
		return 1;
	}
	if (status != NULL)
		notify_set_status(s, status);
	return 0;
}

/*
 * Go through a message's control data: close every descriptor passed
 * (BARRIER=1 waits for that), and keep the sender's credentials.
 */
static void
notify_cmsg(struct msghdr *mh, pid_t *pid, uid_t *uid)
{
	struct cmsghdr *cm;
	size_t i, n;
	int fd;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_RIGHTS) {
			n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < n; i++) {
				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
				    sizeof fd);
				close(fd);
			}
		}
#ifdef SCM_CREDENTIALS
		if (cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(cm), sizeof uc);
			*pid = uc.pid;
			*uid = uc.uid;
		}
#endif
	}
}

/*
 * Read one datagram into buf (NOTIFY_MSG_MAX + 1 bytes) and NUL-terminate
 * it. Returns 1 if there is a message to act on, 0 for one dropped, -1
 * when there is nothing more to read.
 */
static int
notify_recv(struct notify_listener *l, char *buf)
{
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(NOTIFY_MAXFDS * sizeof(int))
#ifdef SCM_CREDENTIALS
				    + CMSG_SPACE(sizeof(struct ucred))
#endif
				    ];
	} cbuf;
	struct msghdr mh;
	struct iovec iov;
	ssize_t n;
	pid_t pid = 0;
	uid_t uid = (uid_t)-1;

	iov.iov_base = buf;
	iov.iov_len = NOTIFY_MSG_MAX;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof cbuf.buf;
	while ((n = recvmsg(l->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) ==
	    -1 && errno == EINTR)
		;
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_svc(LOG_LEVEL_WARN, l->s->name,
			    "notify socket: %s", strerror(errno));
		return -1;
	}
	notify_cmsg(&mh, &pid, &uid);
#ifdef SCM_CREDENTIALS
	if (!notify_sender_ok(l->s, pid, uid)) {
		log_svc(LOG_LEVEL_DEBUG, l->s->name, "notify: message from "
		    "pid %ld, not of the service, dropped", (long)pid);
		return 0;
	}
#endif
	if ((mh.msg_flags & MSG_TRUNC) || memchr(buf, '\0', (size_t)n)) {
		log_svc(LOG_LEVEL_DEBUG, l->s->name,
		    "notify: malformed or oversize message dropped");
		return 0;
	}
	buf[n] = '\0';
	return 1;
}

/* The notify socket is readable: act on a bounded batch of datagrams. */
static void
notify_sock_cb(int fd, short events, void *arg)
{
	struct notify_listener *l = arg;
	char buf[NOTIFY_MSG_MAX + 1];
	int i, r;

	for (i = 0; i < NOTIFY_BATCH; i++) {
		if ((r = notify_recv(l, buf)) == -1)
			return;
		if (r == 1 && notify_handle(l, buf))
			return;		/* l may be gone */
	}
}

/* Stop watching the readiness pipe and close it. */
static void
notify_pipe_done(struct notify_listener *l)
{
	event_del(l->ev);
	close(l->fd);
	l->fd = -1;
}

/* The readiness pipe is readable: a newline means ready, EOF nothing. */
static void
notify_pipe_cb(int fd, short events, void *arg)
{
	struct notify_listener *l = arg;
	char buf[512];
	ssize_t n;

	for (;;) {
		if ((n = read(fd, buf, sizeof buf)) == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			log_svc(LOG_LEVEL_WARN, l->s->name,
			    "readiness descriptor: %s", strerror(errno));
			notify_pipe_done(l);
			return;
		}
		if (n == 0) {
			log_svc(LOG_LEVEL_DEBUG, l->s->name, "readiness "
			    "descriptor closed without a newline");
			notify_pipe_done(l);
			return;
		}
		if (memchr(buf, '\n', (size_t)n) != NULL) {
			notify_pipe_done(l);
			l->ready = 1;
			svc_ready(l->s, "fd");
			return;		/* l may be gone */
		}
	}
}

/* Bind l->fd at the next free "<runtime_dir>/n<N>"; 0 or -1 with errno. */
static int
notify_bind(struct notify_listener *l)
{
	struct sockaddr_un sun;
	socklen_t len;
	int i, n;

	if (vd.runtime_dir == NULL) {
		errno = ENOENT;
		return -1;
	}
	for (i = 0; i < NOTIFY_BIND_TRIES; i++) {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		n = snprintf(sun.sun_path, sizeof sun.sun_path, "%s/n%u",
		    vd.runtime_dir, ++notify_counter);
		if (n < 0 || (size_t)n >= sizeof sun.sun_path) {
			errno = ENAMETOOLONG;
			return -1;
		}
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    (size_t)n + 1);
		/* In use: a run of the image before a re-exec may own it. */
		if (bind(l->fd, (struct sockaddr *)&sun, len) == 0) {
			l->path = xstrdup(sun.sun_path);
			return 0;
		}
		if (errno != EADDRINUSE)
			return -1;
	}
	return -1;
}

/*
 * The notify socket of one run: bound, reachable by the service's user
 * only, credentials on (Linux), watched.
 */
static int
notify_listen_socket(struct notify_listener *l, char **env_out)
{
	const struct service_conf *c = l->s->conf;
	int on = 1;

	l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l->fd == -1)
		return -1;
#ifdef SO_PASSCRED
	/* Before bind(), so that no message comes without credentials. */
	if (setsockopt(l->fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == -1)
		return -1;
#else
	(void)on;
#endif
	if (notify_bind(l) == -1)
		return -1;
	if (chmod(l->path, 0600) == -1)
		return -1;
	if (c->has_user && geteuid() == 0 &&
	    chown(l->path, c->uid, c->gid) == -1)
		return -1;
	l->ev = event_new(vd.base, l->fd, EV_READ | EV_PERSIST,
	    notify_sock_cb, l);
	if (l->ev == NULL || event_add(l->ev, NULL) == -1) {
		errno = ENOMEM;
		return -1;
	}
	xasprintf(env_out, "NOTIFY_SOCKET=%s", l->path);
	return 0;
}

/* The readiness pipe of one run: the read end watched, non-blocking. */
static int
notify_listen_pipe(struct notify_listener *l, int *child_fd)
{
	int fds[2];

#ifdef HAVE_PIPE2
	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
#else
	if (pipe(fds) == -1)
		return -1;
	(void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
#endif
	l->fd = fds[0];
	/* The read end only: the write end is the child's, blocking. */
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1) {
		close(fds[1]);
		return -1;
	}
	l->ev = event_new(vd.base, l->fd, EV_READ | EV_PERSIST,
	    notify_pipe_cb, l);
	if (l->ev == NULL || event_add(l->ev, NULL) == -1) {
		close(fds[1]);
		errno = ENOMEM;
		return -1;
	}
	*child_fd = fds[1];
	return 0;
}

/*
 * The readiness listener of one run of s (see the top of the file). For
 * notify, *env_out gets "NOTIFY_SOCKET=PATH" (the caller frees it); for
 * fd, *child_fd gets the pipe's close-on-exec write end, which the spawn
 * places at s->conf->ready.fd and the caller must close right after the
 * spawn (else EOF never comes). Other types: NULL with errno 0. On
 * failure: NULL with errno set and a warning logged. In every NULL case
 * *env_out is NULL and *child_fd -1.
 */
struct notify_listener *
notify_listen(struct svc *s, char **env_out, int *child_fd)
{
	struct notify_listener *l;
	int r, saved;

	*env_out = NULL;
	*child_fd = -1;
	if (s->conf->ready.type != READY_NOTIFY &&
	    s->conf->ready.type != READY_FD) {
		errno = 0;
		return NULL;
	}
	l = xcalloc(1, sizeof *l);
	l->s = s;
	l->type = s->conf->ready.type;
	l->fd = -1;
	if (l->type == READY_NOTIFY)
		r = notify_listen_socket(l, env_out);
	else
		r = notify_listen_pipe(l, child_fd);
	if (r == -1) {
		saved = errno;
		log_svc(LOG_LEVEL_WARN, s->name, "cannot make the readiness "
		    "%s: %s", l->type == READY_NOTIFY ? "socket" : "pipe",
		    strerror(saved));
		notify_close(l);
		errno = saved;
		return NULL;
	}
	return l;
}

/* End a listener: no more callbacks, descriptor closed, socket unlinked. */
void
notify_close(struct notify_listener *l)
{
	if (l == NULL)
		return;
	if (l->ev != NULL)
		event_free(l->ev);
	if (l->fd != -1)
		close(l->fd);
	if (l->path != NULL) {
		unlink(l->path);
		free(l->path);
	}
	free(l);
}

/* ---- re-exec ----------------------------------------------------------- */

void
notify_watchdog_ping(void)
{
	if (notify_wd_ev != NULL)
		notify_wd_cb(-1, 0, NULL);
}

/* What systemd gave us, and the name counter of the notify sockets. */
void
notify_save(FILE *f)
{
	rx_begin(f, "sd");
	rx_str(f, "socket", sd_env[0]);
	rx_str(f, "wd_usec", sd_env[1]);
	rx_str(f, "wd_pid", sd_env[2]);
	rx_int(f, "counter", notify_counter);
	rx_finish(f);
}

/* The readiness listener of s, if it has one. */
void
notify_save_listener(FILE *f, const struct svc *s)
{
	struct notify_listener *l = s->notify;

	if (l == NULL)
		return;
	rx_begin(f, "ntf");
	rx_str(f, "s", s->name);
	rx_int(f, "type", l->type);
	rx_int(f, "fd", l->fd);
	rx_str(f, "path", l->path);
	rx_int(f, "ready", l->ready);
	rx_finish(f);
	rx_keep_fd(l->fd);
}

/* "sd": systemd's variables back for notify_init(), before the loop. */
void
notify_restore(struct rx_rec *r)
{
	const char *v;
	size_t i;

	for (i = 0; i < 3; i++)
		if ((v = rx_get(r, i == 0 ? "socket" : i == 1 ? "wd_usec" :
		    "wd_pid", NULL)) != NULL)
			setenv(sd_names[i], v, 1);
	notify_counter = (unsigned int)rx_getint(r, "counter", 0);
}

/* "ntf": the readiness listener of s, adopted. */
void
notify_adopt(struct svc *s, struct rx_rec *r)
{
	struct notify_listener *l;
	const char *v;

	l = xcalloc(1, sizeof *l);
	l->s = s;
	l->type = (enum ready_type)rx_getint(r, "type", READY_NOTIFY);
	l->fd = (int)rx_getint(r, "fd", -1);
	l->ready = (int)rx_getint(r, "ready", 0);
	if ((v = rx_get(r, "path", NULL)) != NULL)
		l->path = xstrdup(v);
	if (l->fd != -1) {
		rx_cloexec(l->fd);
		l->ev = event_new(vd.base, l->fd, EV_READ | EV_PERSIST,
		    l->type == READY_NOTIFY ? notify_sock_cb : notify_pipe_cb,
		    l);
		if (l->ev == NULL || event_add(l->ev, NULL) == -1)
			fatalx("notify: event_new");
	}
	if (s->notify != NULL)
		notify_close(s->notify);
	s->notify = l;
}
