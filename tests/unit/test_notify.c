/*
 * daemon/notify.c and daemon/pidfile.c: sd_notify as a client of a fake
 * systemd (a datagram socket of ours, by path and abstract), the watchdog
 * timer, the readiness listeners a child talks to (notify socket and fd
 * pipe, children forked here, no vigild), and the pid file lock between
 * processes. svc_ready() is defined here: it records its calls.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "../../daemon/vigild.h"
#include "tap.h"

#define ENV_PREFIX	"NOTIFY_SOCKET="
#define NOBODY		65534

static char	 svc_name[] = "web";
static char	 sentinel[] = "x";
static int	 ready_calls;
static char	 ready_how[16];
static char	 tmpdir[64];

static int	 close_on_ready;

/*
 * What service.c does for real; here it counts, and may end the listener
 * from inside the callback as service.c is allowed to.
 */
void
svc_ready(struct svc *s, const char *how)
{
	ready_calls++;
	snprintf(ready_how, sizeof ready_how, "%s", how);
	s->ready = 1;
	if (close_on_ready) {
		notify_close(s->notify);
		s->notify = NULL;
	}
}

/* An event base and a private runtime directory, as vigild.c makes them. */
static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof tmpdir, "/tmp/vigil-nt-XXXXXX");
	CHECK(mkdtemp(tmpdir) != NULL);
	CHECK(chmod(tmpdir, 0700) == 0);
	vd.runtime_dir = tmpdir;
	CHECK((vd.base = event_base_new()) != NULL);
}

/* Remove the runtime directory; it must be empty by now. */
static void
teardown(void)
{
	CHECKF(rmdir(tmpdir) == 0, "%s not empty or gone", tmpdir);
	event_base_free(vd.base);
	vd.base = NULL;
}

static int
nevents(void)
{
	return event_base_get_num_events(vd.base, EVENT_BASE_COUNT_ADDED);
}

/* Run whatever is ready on the loop, without waiting. For WAIT_FOR. */
static int
pump(void)
{
	event_base_loop(vd.base, EVLOOP_NONBLOCK);
	return 1;
}

/* A service of the given readiness type, not running. */
static void
make_svc(struct svc *s, struct service_conf *c, enum ready_type type)
{
	memset(c, 0, sizeof *c);
	memset(s, 0, sizeof *s);
	c->name = svc_name;
	c->ready.type = type;
	c->ready.fd = 5;
	s->conf = c;
	snprintf(s->name, sizeof s->name, "web");
	s->pidfd = -1;
	s->last_code = -1;
}

/* Fill sun with a path ("/...") or an abstract name ("@..."). */
static socklen_t
make_addr(struct sockaddr_un *sun, const char *name)
{
	size_t len = strlen(name);

	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	CHECK(len < sizeof sun->sun_path);
	memcpy(sun->sun_path, name, len);
	if (name[0] != '@')
		len++;		/* a path counts its NUL, a name does not */
	sun->sun_path[0] = name[0] == '@' ? '\0' : name[0];
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

/* A fake systemd: a datagram socket bound at name, credentials on. */
static int
fake_systemd(const char *name)
{
	struct sockaddr_un sun;
	socklen_t len = make_addr(&sun, name);
	int fd, on = 1;

	CHECK_OK(fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
#ifdef SO_PASSCRED
	CHECK_OK(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
#else
	(void)on;
#endif
	CHECK_OK(bind(fd, (struct sockaddr *)&sun, len));
	return fd;
}

/*
 * Receive one datagram within ms into buf (NUL-terminated); its sender's
 * pid in *sender where the system says (else 0). -1 on timeout.
 */
static ssize_t
recv_wait(int fd, char *buf, size_t len, int ms, pid_t *sender)
{
	union {
		struct cmsghdr	align;
		char		buf[256];
	} cbuf;
	struct pollfd pfd = { fd, POLLIN, 0 };
	struct msghdr mh;
	struct iovec iov = { buf, len - 1 };
	struct cmsghdr *cm;
	ssize_t n;

	*sender = 0;
	if (poll(&pfd, 1, ms) != 1)
		return -1;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof cbuf.buf;
	if ((n = recvmsg(fd, &mh, 0)) == -1)
		return -1;
	buf[n] = '\0';
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
#ifdef SCM_CREDENTIALS
		struct ucred uc;

		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&uc, CMSG_DATA(cm), sizeof uc);
			*sender = uc.pid;
		}
#endif
	}
	return n;
}

/* The next datagram is exactly want, and it came from this process. */
static void
expect_msg(int fd, const char *want)
{
	char buf[4200];
	pid_t sender;

	CHECKF(recv_wait(fd, buf, sizeof buf, 2000, &sender) >= 0,
	    "no datagram, expected \"%s\"", want);
	CHECKF(strcmp(buf, want) == 0, "got \"%s\", expected \"%s\"", buf,
	    want);
#ifdef SCM_CREDENTIALS
	CHECK_EQ(sender, getpid());
#endif
}

/* Send one datagram to a path, optionally with a descriptor; 0 or -1. */
static int
send_to(const char *path, const void *buf, size_t len, int pass_fd)
{
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct sockaddr_un sun;
	struct msghdr mh;
	struct iovec iov = { (void *)(uintptr_t)buf, len };
	struct cmsghdr *cm;
	ssize_t r;
	int fd;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&mh, 0, sizeof mh);
	mh.msg_name = &sun;
	mh.msg_namelen = make_addr(&sun, path);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (pass_fd != -1) {
		memset(&cbuf, 0, sizeof cbuf);
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof cbuf.buf;
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof pass_fd);
	}
	r = sendmsg(fd, &mh, 0);
	close(fd);
	return r == (ssize_t)len ? 0 : -1;
}

static int
send_str(const char *path, const char *s)
{
	return send_to(path, s, strlen(s), -1);
}

/* Reap pid and check that it exited with status 0. */
static void
reap_ok(pid_t pid)
{
	int st;

	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "child %ld: status 0x%x", (long)pid, st);
}

/* Block until the parent writes a byte or closes fd. */
static void
await(int fd)
{
	char c;

	while (read(fd, &c, 1) == -1 && errno == EINTR)
		;
}

/* ---- client of systemd --------------------------------------------- */

/* Messages arrive whole and in order at a path socket, from our pid. */
static void
t_client_path(void)
{
	char path[128];
	int fd;

	setup();
	snprintf(path, sizeof path, "%s/systemd", tmpdir);
	fd = fake_systemd(path);
	CHECK_OK(setenv("NOTIFY_SOCKET", path, 1));
	notify_init();
	CHECK(getenv("NOTIFY_SOCKET") == NULL);
	CHECK_EQ(nevents(), 0);		/* no watchdog: no timer at all */

	CHECK_EQ(notify_systemd("READY=1"), 0);
	CHECK_EQ(notify_systemd("STATUS=%d services running", 3), 0);
	CHECK_EQ(notify_systemd("RELOADING=1\nMONOTONIC_USEC=%d", 42), 0);
	CHECK_EQ(notify_systemd("STOPPING=1"), 0);
	expect_msg(fd, "READY=1");
	expect_msg(fd, "STATUS=3 services running");
	expect_msg(fd, "RELOADING=1\nMONOTONIC_USEC=42");
	expect_msg(fd, "STOPPING=1");
	close(fd);
	CHECK_OK(unlink(path));
	teardown();
}

/* "@name" is a Linux abstract socket: no file, no trailing NUL. */
static void
t_client_abstract(void)
{
#ifdef __linux__
	char name[64];
	int fd;

	setup();
	snprintf(name, sizeof name, "@vigil-test-%ld-%lld", (long)getpid(),
	    tap_now_ms());
	fd = fake_systemd(name);
	CHECK_OK(setenv("NOTIFY_SOCKET", name, 1));
	notify_init();
	CHECK(getenv("NOTIFY_SOCKET") == NULL);
	CHECK_EQ(notify_systemd("READY=1"), 0);
	CHECK_EQ(notify_systemd("STOPPING=1"), 0);
	expect_msg(fd, "READY=1");
	expect_msg(fd, "STOPPING=1");
	close(fd);
	teardown();
#else
	tap_skip("abstract sockets are Linux only");
#endif
}

/*
 * The variables are gone after notify_init() whatever they say; an
 * unreachable socket is an error for the caller only; unset or unusable
 * NOTIFY_SOCKET makes every send a successful no-op.
 */
static void
t_client_env(void)
{
	static const char *const bad[] = { "relative/path", "vsock:2:1234",
	    "@", "" };
	char longpath[300];
	size_t i;

	setup();
	CHECK_OK(setenv("NOTIFY_SOCKET", "/nonexistent/vigil/notify", 1));
	CHECK_OK(setenv("WATCHDOG_USEC", "200000", 1));
	CHECK_OK(setenv("WATCHDOG_PID", "1", 1));
	notify_init();
	CHECK(getenv("NOTIFY_SOCKET") == NULL);
	CHECK(getenv("WATCHDOG_USEC") == NULL);
	CHECK(getenv("WATCHDOG_PID") == NULL);
	CHECK_EQ(nevents(), 0);		/* WATCHDOG_PID is not ours */
	CHECK_EQ(notify_systemd("READY=1"), -1);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_OK(setenv("NOTIFY_SOCKET", bad[i], 1));
		notify_init();
		CHECK(getenv("NOTIFY_SOCKET") == NULL);
		CHECKF(notify_systemd("READY=1") == 0, "NOTIFY_SOCKET=%s",
		    bad[i]);
	}
	memset(longpath, 'a', sizeof longpath - 1);
	longpath[0] = '/';
	longpath[sizeof longpath - 1] = '\0';
	CHECK_OK(setenv("NOTIFY_SOCKET", longpath, 1));
	notify_init();
	CHECK_EQ(notify_systemd("READY=1"), 0);

	/* Unset: nothing to send, nothing to ping. */
	CHECK_OK(setenv("WATCHDOG_USEC", "200000", 1));
	notify_init();
	CHECK_EQ(notify_systemd("READY=1"), 0);
	CHECK_EQ(nevents(), 0);
	CHECK(getenv("WATCHDOG_USEC") == NULL);
	teardown();
}

static int	wd_pings, wd_other;
static long long wd_first, wd_last;	/* when the first and last came */

/* The fake systemd's side of the watchdog: count what comes. */
static void
wd_recv_cb(int fd, short events, void *arg)
{
	char buf[256];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT)) >= 0) {
		buf[n] = '\0';
		if (strcmp(buf, "WATCHDOG=1") == 0) {
			wd_last = tap_now_ms();
			if (wd_pings++ == 0)
				wd_first = wd_last;
		} else
			wd_other++;
	}
}

/* Run the loop for ms of loop time, receiving on fd meanwhile. */
static void
run_watchdog_loop(int fd, int ms)
{
	struct event *ev;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	CHECK((ev = event_new(vd.base, fd, EV_READ | EV_PERSIST, wd_recv_cb,
	    NULL)) != NULL);
	CHECK_OK(event_add(ev, NULL));
	CHECK_OK(event_base_loopexit(vd.base, &tv));
	CHECK_OK(event_base_dispatch(vd.base));
	event_free(ev);
}

/* WATCHDOG_USEC=200000 for our pid: a ping every 100 ms. */
static void
t_client_watchdog(void)
{
	char path[128], pid[32];
	long long avg;
	int fd;

	setup();
	snprintf(path, sizeof path, "%s/systemd", tmpdir);
	fd = fake_systemd(path);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	CHECK_OK(setenv("NOTIFY_SOCKET", path, 1));
	CHECK_OK(setenv("WATCHDOG_USEC", "200000", 1));
	CHECK_OK(setenv("WATCHDOG_PID", pid, 1));
	notify_init();
	CHECK(getenv("WATCHDOG_USEC") == NULL);
	CHECK(getenv("WATCHDOG_PID") == NULL);
	CHECK_EQ(nevents(), 1);		/* the timer, and only it */

	run_watchdog_loop(fd, 1000);
	tap_diag("%d pings in 1 s", wd_pings);
	CHECKF(wd_pings >= 3 && wd_pings <= 12, "%d pings in 1 s", wd_pings);
	/* The timer does not drift: on average 100 ms apart, even if late. */
	avg = (wd_last - wd_first) / (wd_pings - 1);
	CHECKF(avg >= 70 && avg <= 130, "pings %lld ms apart", avg);
	CHECK_EQ(wd_other, 0);
	close(fd);
	CHECK_OK(unlink(path));
	teardown();
}

/* WATCHDOG_PID of another process: no timer, no ping. */
static void
t_client_watchdog_other(void)
{
	char path[128], pid[32];
	int fd;

	setup();
	snprintf(path, sizeof path, "%s/systemd", tmpdir);
	fd = fake_systemd(path);
	snprintf(pid, sizeof pid, "%ld", (long)getppid());
	CHECK_OK(setenv("NOTIFY_SOCKET", path, 1));
	CHECK_OK(setenv("WATCHDOG_USEC", "200000", 1));
	CHECK_OK(setenv("WATCHDOG_PID", pid, 1));
	notify_init();
	CHECK_EQ(nevents(), 0);
	run_watchdog_loop(fd, 300);
	CHECK_EQ(wd_pings, 0);
	CHECK_EQ(wd_other, 0);
	close(fd);
	CHECK_OK(unlink(path));
	teardown();
}

/* ---- server: notify ------------------------------------------------ */

/* The path in "NOTIFY_SOCKET=PATH", checked to be where it belongs. */
static const char *
env_path(const char *env)
{
	const char *path;
	struct stat st;

	CHECK(env != NULL);
	CHECK(strncmp(env, ENV_PREFIX, strlen(ENV_PREFIX)) == 0);
	path = env + strlen(ENV_PREFIX);
	CHECK(strncmp(path, tmpdir, strlen(tmpdir)) == 0);
	CHECK(path[strlen(tmpdir)] == '/');
	CHECK(strlen(path) < sizeof(((struct sockaddr_un *)0)->sun_path));
	CHECK_OK(lstat(path, &st));
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0600);
	return path;
}

/*
 * A child of its own session sends STATUS then READY=1: ready once, with
 * "notify", the status kept; a second READY=1 changes only the status.
 */
static void
t_notify_ready(void)
{
	struct service_conf c;
	struct svc s;
	struct notify_listener *l;
	struct stat st;
	const char *path;
	char *env;
	int cfd, go[2];
	pid_t pid;

	setup();
	make_svc(&s, &c, READY_NOTIFY);
	CHECK((l = notify_listen(&s, &env, &cfd)) != NULL);
	CHECK_EQ(cfd, -1);
	path = env_path(env);
	CHECK_EQ(nevents(), 1);

	CHECK_OK(pipe(go));
	CHECK_OK(pid = fork());
	if (pid == 0) {
		close(go[1]);
		if (setsid() == -1 ||
		    send_str(path, "STATUS=warming\nREADY=1\n") == -1)
			_exit(1);
		await(go[0]);
		if (send_str(path, "READY=1\nSTATUS=serving") == -1)
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	s.pid = pid;
	CHECK(WAIT_FOR((pump(), ready_calls == 1), 5000));
	CHECK(strcmp(ready_how, "notify") == 0);
	CHECKF(strstr(s.reason, "warming") != NULL, "reason \"%s\"",
	    s.reason);
	close(go[1]);
	CHECK(WAIT_FOR((pump(), strcmp(s.reason, "serving") == 0), 5000));
	CHECK_EQ(ready_calls, 1);
	reap_ok(pid);

	notify_close(l);
	CHECK(lstat(path, &st) == -1 && errno == ENOENT);
	CHECK_EQ(nevents(), 0);
	free(env);
	teardown();
}

/* The sender is gone (exited and reaped) before its message is read. */
static void
t_notify_reaped(void)
{
	struct service_conf c;
	struct svc s;
	struct notify_listener *l;
	char *env;
	int cfd;
	pid_t pid;

	setup();
	make_svc(&s, &c, READY_NOTIFY);
	CHECK((l = notify_listen(&s, &env, &cfd)) != NULL);
	CHECK_OK(pid = fork());
	if (pid == 0)
		_exit(setsid() == -1 ||
		    send_str(env_path(env), "READY=1") == -1);
	s.pid = pid;
	reap_ok(pid);
	CHECK(WAIT_FOR((pump(), ready_calls == 1), 5000));
	notify_close(l);
	free(env);
	teardown();
}

/* A process of the service's session (not its main one) may notify. */
static void
t_notify_session(void)
{
	struct service_conf c;
	struct svc s;
	struct notify_listener *l;
	char *env;
	int cfd, go[2];
	pid_t pid, gc;

	setup();
	make_svc(&s, &c, READY_NOTIFY);
	CHECK((l = notify_listen(&s, &env, &cfd)) != NULL);
	CHECK_OK(pipe(go));
	CHECK_OK(pid = fork());
	if (pid == 0) {
		close(go[1]);
		if (setsid() == -1 || (gc = fork()) == -1)
			_exit(1);
		if (gc == 0) {
			/* Alive while its message is read: getsid() says. */
			if (send_str(env_path(env), "READY=1") == -1)
				_exit(1);
			await(go[0]);
			_exit(0);
		}
		_exit(waitpid(gc, NULL, 0) != gc);
	}
	close(go[0]);
	s.pid = pid;
	CHECK(WAIT_FOR((pump(), ready_calls == 1), 5000));
	close(go[1]);
	reap_ok(pid);
	notify_close(l);
	free(env);
	teardown();
}

/*
 * Dropped: messages from outside the session (Linux), garbage, READY
 * other than 1, an embedded NUL, an oversize datagram even though it
 * starts with READY=1. A STATUS sent after them proves they were read.
 */
static void
t_notify_filter(void)
{
	static const char *const junk[] = { "\x01\x02\xff junk", "READY=0",
	    "READY", "=1", "ready=1", "READY=11", " READY=1", "READY=1 " };
	struct service_conf c;
	struct svc s;
	struct notify_listener *l;
	const char *path;
	char *env, *big;
	int cfd, go[2];
	size_t i;
	pid_t pid;

	setup();
	make_svc(&s, &c, READY_NOTIFY);
	CHECK((l = notify_listen(&s, &env, &cfd)) != NULL);
	path = env_path(env);
#ifdef __linux__
	/* From us: alive, not the service, not in its session. */
	CHECK_OK(send_str(path, "STATUS=evil\nREADY=1"));
#endif
	CHECK_OK(pipe(go));
	CHECK_OK(pid = fork());
	if (pid == 0) {
		close(go[1]);
		if (setsid() == -1)
			_exit(1);
		for (i = 0; i < sizeof junk / sizeof junk[0]; i++)
			if (send_str(path, junk[i]) == -1)
				_exit(1);
		if (send_to(path, "READY=1\0", 8, -1) == -1)
			_exit(1);
		if ((big = malloc(8192)) == NULL)
			_exit(1);
		memset(big, 'x', 8192);
		memcpy(big, "READY=1\n", 8);
		if (send_to(path, big, 8192, -1) == -1 ||
		    send_str(path, "STATUS=checked") == -1)
			_exit(1);
		await(go[0]);
		_exit(send_str(path, "READY=1") == -1);
	}
	close(go[0]);
	s.pid = pid;
	CHECK(WAIT_FOR((pump(), strcmp(s.reason, "checked") == 0), 5000));
	CHECK_EQ(ready_calls, 0);
	close(go[1]);
	CHECK(WAIT_FOR((pump(), ready_calls == 1), 5000));
	reap_ok(pid);
	notify_close(l);
	free(env);
	teardown();
}

/*
 * A descriptor passed with a message (BARRIER=1, as systemd-notify does)
 * is closed at once: the sender sees POLLHUP on its pipe.
 */
static void
t_notify_barrier(void)
{
	struct service_conf c;
	struct svc s;
	struct notify_listener *l;
	char *env;
	int cfd, p[2], st, before, after;
	pid_t pid;

	setup();
	make_svc(&s, &c, READY_NOTIFY);
	CHECK((l = notify_listen(&s, &env, &cfd)) != NULL);
	CHECK_OK(before = dup(0));
	close(before);
	CHECK_OK(pid = fork());
	if (pid == 0) {
		struct pollfd pfd;

		if (setsid() == -1 || pipe(p) == -1)
			_exit(1);
		if (send_str(env_path(env), "READY=1") == -1 ||
		    send_to(env_path(env), "BARRIER=1", 9, p[1]) == -1)
			_exit(1);
		close(p[1]);
		pfd.fd = p[0];
		pfd.events = POLLIN;
		_exit(poll(&pfd, 1, 5000) != 1 || !(pfd.revents & POLLHUP));
	}
	s.pid = pid;
	CHECK(WAIT_FOR((pump(), waitpid(pid, &st, WNOHANG) == pid), 8000));
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "no POLLHUP: 0x%x", st);
	CHECK_EQ(ready_calls, 1);
	CHECK_OK(after = dup(0));
	close(after);
	CHECK_EQ(after, before);	/* nothing kept open */
	notify_close(l);
	free(env);
	teardown();
}

/* Become nobody, as a service with user = "nobody" would run. */
static int
become_nobody(void)
{
	return setgroups(0, NULL) == -1 || setgid(NOBODY) == -1 ||
	    setuid(NOBODY) == -1 ? -1 : 0;
}

/*
 * A service with a user (root only): the socket is that user's, reachable
 * once the runtime directory is searchable (0711), not before. A gone
 * sender counts if it ran as that user: not root.
 */
static void
t_notify_user(void)
{
	struct service_conf c;
	struct svc s;
	struct notify_listener *l;
	struct stat st;
	const char *path;
	char *env;
	int cfd;
	pid_t pid, gc;

	if (geteuid() != 0)
		tap_skip("needs root");
	setup();
	make_svc(&s, &c, READY_NOTIFY);
	c.has_user = 1;
	c.uid = NOBODY;
	c.gid = NOBODY;
	CHECK((l = notify_listen(&s, &env, &cfd)) != NULL);
	path = env_path(env);
	CHECK_OK(lstat(path, &st));
	CHECK_EQ(st.st_uid, NOBODY);
	CHECK_EQ(st.st_gid, NOBODY);

	/* 0700 keeps the service out. */
	CHECK_OK(pid = fork());
	if (pid == 0)
		_exit(become_nobody() == -1 || send_str(path, "READY=1") !=
		    -1 || errno != EACCES);
	reap_ok(pid);

	CHECK_OK(chmod(tmpdir, 0711));
	/* Gone, root, not of the session: dropped. */
	CHECK_OK(pid = fork());
	if (pid == 0)
		_exit(send_str(path, "STATUS=root\nREADY=1") == -1);
	reap_ok(pid);
	/* Gone, the service's user, of the session: taken. */
	CHECK_OK(pid = fork());
	if (pid == 0) {
		if (setsid() == -1 || become_nobody() == -1 ||
		    (gc = fork()) == -1)
			_exit(1);
		if (gc == 0)
			_exit(send_str(path, "STATUS=gone") == -1);
		_exit(waitpid(gc, NULL, 0) != gc);
	}
	s.pid = pid;
	reap_ok(pid);
	CHECK(WAIT_FOR((pump(), strcmp(s.reason, "gone") == 0), 5000));
	CHECK_EQ(ready_calls, 0);

	CHECK_OK(pid = fork());
	if (pid == 0)
		_exit(setsid() == -1 || become_nobody() == -1 ||
		    send_str(path, "READY=1") == -1);
	s.pid = pid;
	CHECK(WAIT_FOR((pump(), ready_calls == 1), 5000));
	reap_ok(pid);
	notify_close(l);
	free(env);
	teardown();
}

/*
 * Socket paths are short, distinct, and skip a name already taken (by a
 * run of the image before a re-exec) without removing it.
 */
static void
t_notify_paths(void)
{
	struct service_conf c;
	struct svc s;
	struct notify_listener *l1, *l2;
	char *env1, *env2, taken[128];
	const char *p1, *p2;
	unsigned int n;
	int cfd, fd;

	setup();
	make_svc(&s, &c, READY_NOTIFY);
	CHECK((l1 = notify_listen(&s, &env1, &cfd)) != NULL);
	p1 = env_path(env1);
	CHECK(sscanf(p1 + strlen(tmpdir), "/n%u", &n) == 1);
	snprintf(taken, sizeof taken, "%s/n%u", tmpdir, n + 1);
	CHECK_OK(fd = open(taken, O_WRONLY | O_CREAT | O_EXCL, 0600));
	close(fd);
	CHECK((l2 = notify_listen(&s, &env2, &cfd)) != NULL);
	p2 = env_path(env2);
	CHECK(strcmp(p1, p2) != 0);
	CHECK(strcmp(p2, taken) != 0);
	notify_close(l1);
	notify_close(l2);
	CHECK_OK(access(taken, F_OK));
	CHECK_OK(unlink(taken));
	free(env1);
	free(env2);
	teardown();
}

/* none, tcp, exec: no listener; a runtime dir too long: an error. */
static void
t_listen_other(void)
{
	static const enum ready_type types[] = { READY_NONE, READY_TCP,
	    READY_EXEC };
	struct service_conf c;
	struct svc s;
	char *env, longdir[200];
	size_t i;
	int cfd;

	setup();
	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		make_svc(&s, &c, types[i]);
		env = sentinel;
		cfd = 42;
		errno = EINVAL;
		CHECK(notify_listen(&s, &env, &cfd) == NULL);
		CHECK_EQ(errno, 0);
		CHECK(env == NULL);
		CHECK_EQ(cfd, -1);
	}
	make_svc(&s, &c, READY_NOTIFY);
	memset(longdir, 'd', sizeof longdir - 1);
	longdir[0] = '/';
	longdir[sizeof longdir - 1] = '\0';
	vd.runtime_dir = longdir;
	CHECK(notify_listen(&s, &env, &cfd) == NULL);
	CHECK_EQ(errno, ENAMETOOLONG);
	CHECK(env == NULL);
	CHECK_EQ(nevents(), 0);
	notify_close(NULL);
	vd.runtime_dir = tmpdir;
	teardown();
}

/* ---- server: fd ---------------------------------------------------- */

/* Anything up to a newline, in pieces: ready with "fd", pipe closed. */
static void
t_fd_ready(void)
{
	struct service_conf c;
	struct svc s;
	struct notify_listener *l;
	char *env;
	int cfd, go[2];
	pid_t pid;

	setup();
	make_svc(&s, &c, READY_FD);
	CHECK((l = notify_listen(&s, &env, &cfd)) != NULL);
	CHECK(env == NULL);
	CHECK(cfd > 2);
	CHECK(fcntl(cfd, F_GETFD) & FD_CLOEXEC);
	CHECK(!(fcntl(cfd, F_GETFL) & O_NONBLOCK));
	CHECK_EQ(nevents(), 1);
	CHECK_OK(pipe(go));
	CHECK_OK(pid = fork());
	if (pid == 0) {
		close(go[1]);
		if (write(cfd, "rea", 3) != 3)
			_exit(1);
		await(go[0]);
		_exit(write(cfd, "dy\nmore", 7) != 7);
	}
	close(go[0]);
	close(cfd);		/* as the caller does after the spawn */
	s.pid = pid;
	CHECK(WAIT_FOR((pump(), 0), 50) == 0);
	CHECK_EQ(ready_calls, 0);
	close(go[1]);
	CHECK(WAIT_FOR((pump(), ready_calls == 1), 5000));
	CHECK(strcmp(ready_how, "fd") == 0);
	CHECK_EQ(nevents(), 0);		/* done with the pipe */
	reap_ok(pid);
	notify_close(l);
	teardown();
}

/* EOF before a newline: not ready, and the pipe is no longer watched. */
static void
t_fd_eof(void)
{
	struct service_conf c;
	struct svc s;
	struct notify_listener *l;
	char *env;
	int cfd;
	pid_t pid;

	setup();
	make_svc(&s, &c, READY_FD);
	CHECK((l = notify_listen(&s, &env, &cfd)) != NULL);
	CHECK_OK(pid = fork());
	if (pid == 0)
		_exit(write(cfd, "partial", 7) != 7);
	close(cfd);
	s.pid = pid;
	reap_ok(pid);
	CHECK(WAIT_FOR((pump(), nevents() == 0), 5000));
	CHECK_EQ(ready_calls, 0);
	notify_close(l);
	teardown();
}

/* notify_close() closes the read end: the child's writes fail. */
static void
t_fd_close(void)
{
	struct service_conf c;
	struct svc s;
	struct notify_listener *l;
	char *env;
	int cfd;

	setup();
	make_svc(&s, &c, READY_FD);
	CHECK((l = notify_listen(&s, &env, &cfd)) != NULL);
	notify_close(l);
	CHECK_EQ(nevents(), 0);
	CHECK(write(cfd, "\n", 1) == -1 && errno == EPIPE);
	close(cfd);
	CHECK_EQ(ready_calls, 0);
	teardown();
}

/*
 * svc_ready() may call notify_close() on the listener that called it,
 * with more messages queued behind (ASan checks nothing is touched after).
 */
static void
t_close_in_ready(void)
{
	struct service_conf c;
	struct svc s;
	char *env;
	const char *path;
	int cfd;
	pid_t pid;

	setup();
	close_on_ready = 1;
	make_svc(&s, &c, READY_NOTIFY);
	CHECK((s.notify = notify_listen(&s, &env, &cfd)) != NULL);
	path = env_path(env);
	CHECK_OK(pid = fork());
	if (pid == 0)
		_exit(setsid() == -1 ||
		    send_str(path, "READY=1\nSTATUS=up") == -1 ||
		    send_str(path, "READY=1") == -1);
	s.pid = pid;
	reap_ok(pid);
	CHECK(WAIT_FOR((pump(), ready_calls == 1), 5000));
	CHECK(s.notify == NULL);
	CHECK(strcmp(s.reason, "up") == 0);
	CHECK_EQ(nevents(), 0);
	free(env);

	make_svc(&s, &c, READY_FD);
	CHECK((s.notify = notify_listen(&s, &env, &cfd)) != NULL);
	CHECK_EQ(write(cfd, "\n\n", 2), 2);
	close(cfd);
	CHECK(WAIT_FOR((pump(), ready_calls == 2), 5000));
	CHECK(s.notify == NULL);
	CHECK_EQ(nevents(), 0);
	teardown();
}

/* ---- pidfile ------------------------------------------------------- */

/* The file's content, NUL-terminated. */
static void
read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	CHECK_OK(fd = open(path, O_RDONLY));
	CHECK_OK(n = read(fd, buf, len - 1));
	buf[n] = '\0';
	close(fd);
}

/*
 * A second process is refused with the holder's pid; once the holder is
 * gone (its file left behind), the stale file is taken over.
 */
static void
t_pidfile_lock(void)
{
	char path[128], buf[256], want[256], err[256];
	int ready[2], release[2], msg[2];
	pid_t holder, second;
	ssize_t n;
	struct stat st;

	setup();
	snprintf(path, sizeof path, "%s/vigild.pid", tmpdir);
	CHECK_OK(pipe(ready));
	CHECK_OK(pipe(release));
	CHECK_OK(holder = fork());
	if (holder == 0) {
		close(ready[0]);
		close(release[1]);
		if (pidfile_open(path, err, sizeof err) == -1)
			_exit(1);
		if (write(ready[1], "y", 1) != 1)
			_exit(1);
		await(release[0]);
		_exit(0);	/* no pidfile_remove(): a stale file */
	}
	close(ready[1]);
	close(release[0]);
	CHECK_EQ(read(ready[0], buf, 1), 1);
	read_file(path, buf, sizeof buf);
	snprintf(want, sizeof want, "%ld\n", (long)holder);
	CHECK(strcmp(buf, want) == 0);

	CHECK_OK(pipe(msg));
	CHECK_OK(second = fork());
	if (second == 0) {
		close(msg[0]);
		if (pidfile_open(path, err, sizeof err) == 0)
			_exit(1);
		_exit(write(msg[1], err, strlen(err)) <= 0);
	}
	close(msg[1]);
	CHECK_OK(n = read(msg[0], buf, sizeof buf - 1));
	buf[n] = '\0';
	reap_ok(second);
	snprintf(want, sizeof want, "vigild is already running (pid %ld, "
	    "pid file %s)", (long)holder, path);
	CHECKF(strcmp(buf, want) == 0, "got \"%s\"", buf);

	close(release[1]);
	reap_ok(holder);
	CHECK_OK(stat(path, &st));	/* left behind */
	CHECKF(pidfile_open(path, err, sizeof err) == 0, "%s", err);
	read_file(path, buf, sizeof buf);
	snprintf(want, sizeof want, "%ld\n", (long)getpid());
	CHECK(strcmp(buf, want) == 0);
	pidfile_remove();
	CHECK(stat(path, &st) == -1 && errno == ENOENT);
	teardown();
}

/*
 * Errors name the file; a second open in one process is refused; a forked
 * child's pidfile_remove() leaves its parent's file alone; mode 0644
 * less the umask.
 */
static void
t_pidfile_misc(void)
{
	char path[128], err[256];
	struct stat st;
	mode_t mask;
	pid_t pid;

	setup();
	mask = umask(022);
	umask(mask);
	CHECK(pidfile_open("/nonexistent-vigil/x.pid", err, sizeof err) ==
	    -1);
	CHECKF(strncmp(err, "cannot open pid file /nonexistent-vigil/x.pid: ",
	    47) == 0, "got \"%s\"", err);

	snprintf(path, sizeof path, "%s/vigild.pid", tmpdir);
	CHECKF(pidfile_open(path, err, sizeof err) == 0, "%s", err);
	CHECK(pidfile_open(path, err, sizeof err) == -1);
	CHECK_OK(pid = fork());
	if (pid == 0) {
		pidfile_remove();
		_exit(0);
	}
	reap_ok(pid);
	CHECK_OK(stat(path, &st));
	CHECK_EQ(st.st_mode & 0777, 0644 & ~mask);
	pidfile_remove();
	CHECK(stat(path, &st) == -1 && errno == ENOENT);
	pidfile_remove();	/* twice: harmless */
	teardown();
}

static const struct tap_case cases[] = {
	TAP_CASE(t_client_path, 10),
	TAP_CASE(t_client_abstract, 10),
	TAP_CASE(t_client_env, 10),
	TAP_CASE(t_client_watchdog, 10),
	TAP_CASE(t_client_watchdog_other, 10),
	TAP_CASE(t_notify_ready, 15),
	TAP_CASE(t_notify_reaped, 15),
	TAP_CASE(t_notify_session, 15),
	TAP_CASE(t_notify_filter, 15),
	TAP_CASE(t_notify_barrier, 15),
	TAP_CASE(t_notify_user, 15),
	TAP_CASE(t_notify_paths, 10),
	TAP_CASE(t_listen_other, 10),
	TAP_CASE(t_fd_ready, 15),
	TAP_CASE(t_fd_eof, 15),
	TAP_CASE(t_fd_close, 10),
	TAP_CASE(t_close_in_ready, 15),
	TAP_CASE(t_pidfile_lock, 15),
	TAP_CASE(t_pidfile_misc, 10),
};

int
main(void)
{
	return tap_run(cases, sizeof cases / sizeof cases[0]);
}
