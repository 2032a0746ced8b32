/*
 * The control socket (SPEC 5; protocol in proto.h and vigilctl(8)), served
 * on the main loop like the control.c of OpenBSD's daemons: connections,
 * framing and limits here; the file and the peer check in control_sock.c;
 * the commands in control_cmd.c. Main thread only.
 *
 * Every connection is checked against the peer's credentials before
 * anything is read from it; a peer that may not control gets one refusal
 * message and is disconnected.
 *
 * Bounds: at most CTL_CONNS_MAX clients (then the listener pauses and new
 * ones wait in the backlog); a message is at most PROTO_MSG_MAX bytes; a
 * client must send its hello within CTL_HELLO_MS, finish a message within
 * CTL_MSG_MS of its first byte, send a request at least every CTL_IDLE_MS,
 * and take what it is sent (some progress every CTL_WRITE_MS), or it is
 * cut off. A malformed message gets an error reply and the connection is
 * closed. Replies of a client that does not read pile up only to
 * CTL_OUT_HIGH before its next requests wait; lines of a followed log
 * beyond a bound are dropped and counted (control_cmd.c). So vigild's
 * memory stays bounded whatever the clients do.
 *
 * A closed connection is not freed at once: it moves to a graveyard that
 * an event empties on the next loop iteration, so a pointer held by a
 * caller up the stack stays valid.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "control.h"
#include "log.h"
#include "reexec.h"
#include "xmalloc.h"

#define CTL_CONNS_MAX		256
#define CTL_REFUSED_MAX		64	/* refused peers lingering at once */
#define CTL_ACCEPT_BURST	32
#define CTL_HELLO_MS		5000
#define CTL_MSG_MS		5000
#define CTL_IDLE_MS		30000
#define CTL_WRITE_MS		10000
#define CTL_LINGER_MS		1000
#define CTL_RETRY_MS		1000	/* accept failed: EMFILE and such */
#define CTL_IN_MIN		4096
#define CTL_READ_MAX		(64 * 1024)	/* per read callback */
#define CTL_OUT_KEEP		(64 * 1024)	/* keep a buffer this big */
#define CTL_TRIM_BYTES		(256 * 1024)	/* trim the heap after */

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL	0
#endif

struct ctl_conns	 ctl_conns = TAILQ_HEAD_INITIALIZER(ctl_conns);
unsigned int		 ctl_nwaiters, ctl_nfollowers;
static struct ctl_conns	 graveyard = TAILQ_HEAD_INITIALIZER(graveyard);
static unsigned int	 nconns, nrefused;
static uint64_t		 next_id = 1;
static int		 paused;
static int		 exiting;	/* control_close(): no new request */
static struct event	*listen_ev, *gc_ev, *retry_ev;
static size_t		 freed_bytes;	/* buffers freed since a trim */

static void	conn_kill(struct ctl_conn *, const char *);
static void	conn_process(struct ctl_conn *);
static void	conn_arm(struct ctl_conn *);
static void	listener_update(void);

/* ---- output --------------------------------------------------------- */

static size_t
obuf_pending(const struct obuf *b)
{
	return b->len - b->off;
}

/* Room for n more bytes at data + len. */
static void
obuf_reserve(struct obuf *b, size_t n)
{
	size_t cap;

	if (b->off > 0 && (b->len + n > b->cap || b->off == b->len)) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->len + n <= b->cap)
		return;
	cap = b->cap == 0 ? 4096 : b->cap;
	while (cap < b->len + n)
		cap *= 2;
	b->data = xreallocarray(b->data, 1, cap);
	b->cap = cap;
}

/* Queue one message (taking the reference to msg). */
void
ctl_send(struct ctl_conn *c, json_t *msg)
{
	size_t n, room;

	if (c->dead || msg == NULL) {
		json_decref(msg);
		return;
	}
	if (obuf_pending(&c->out) == 0)
		c->wprog_ms = now_ms();
	obuf_reserve(&c->out, 1024);
	room = c->out.cap - c->out.len;
	n = json_dumpb(msg, c->out.data + c->out.len, room, JSON_COMPACT);
	if (n >= room) {
		obuf_reserve(&c->out, n + 1);
		n = json_dumpb(msg, c->out.data + c->out.len, n + 1,
		    JSON_COMPACT);
	}
	json_decref(msg);
	if (n == 0 || n + 1 > PROTO_MSG_MAX) {
		/* Cannot happen with the bounds on what we send. */
		log_warnx("control: dropping a reply of %zu bytes", n);
		return;
	}
	c->out.len += n;
	c->out.data[c->out.len++] = '\n';
}

void
ctl_send_text(struct ctl_conn *c, const char *msg, size_t len)
{
	if (c->dead)
		return;
	if (len + 1 > PROTO_MSG_MAX) {
		log_warnx("control: dropping a reply of %zu bytes", len);
		return;
	}
	if (obuf_pending(&c->out) == 0)
		c->wprog_ms = now_ms();
	obuf_reserve(&c->out, len + 1);
	memcpy(c->out.data + c->out.len, msg, len);
	c->out.len += len;
	c->out.data[c->out.len++] = '\n';
}

/* Write what the socket takes now. Kills the connection on an error. */
void
ctl_flush(struct ctl_conn *c)
{
	struct obuf *b = &c->out;
	ssize_t n;
	int progress = 0;

	while (!c->dead && obuf_pending(b) > 0) {
		n = send(c->fd, b->data + b->off, obuf_pending(b),
		    MSG_NOSIGNAL);
		if (n > 0) {
			b->off += (size_t)n;
			progress = 1;
		} else if (n == -1 && errno == EINTR)
			continue;
		else if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		else {
			conn_kill(c, "write error");
			return;
		}
	}
	if (progress)
		c->wprog_ms = now_ms();
	if (obuf_pending(b) > 0) {
		event_add(c->wev, NULL);
		return;
	}
	event_del(c->wev);
	b->off = b->len = 0;
	if (b->cap > CTL_OUT_KEEP) {
		freed_bytes += b->cap;
		free(b->data);
		b->data = NULL;
		b->cap = 0;
	}
}

void
ctl_reply_ok(struct ctl_conn *c)
{
	ctl_send(c, json_pack("{s:b}", "ok", 1));
}

/* A final reply with ok false and the message. */
void
ctl_reply_err(struct ctl_conn *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ctl_send(c, json_pack("{s:b,s:o}", "ok", 0, "error",
	    proto_string(msg, strlen(msg))));
}

/* ---- connection life ------------------------------------------------ */

/*
 * Once clients have freed enough, give it back to the system: glibc keeps
 * freed memory in the middle of the heap, so a burst of clients would
 * otherwise leave vigild bigger for good.
 */
static void
heap_trim(void)
{
#ifdef __GLIBC__
	if (freed_bytes >= CTL_TRIM_BYTES) {
		malloc_trim(0);
		freed_bytes = 0;
	}
#endif
}

/* Free the closed connections (on the loop, after their callbacks). */
static void
gc_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_conn *c;

	while ((c = TAILQ_FIRST(&graveyard)) != NULL) {
		TAILQ_REMOVE(&graveyard, c, entry);
		event_free(c->rev);
		event_free(c->wev);
		event_free(c->tev);
		if (c->wait != NULL)
			free(c->wait->t);
		free(c->wait);
		free(c->in);
		free(c->out.data);
		freed_bytes += c->incap + c->out.cap;
		free(c);
	}
	heap_trim();
}

/*
 * Close the connection now and free it on the next loop iteration. Safe
 * to call more than once and from anywhere.
 */
static void
conn_kill(struct ctl_conn *c, const char *why)
{
	if (c->dead)
		return;
	if (why != NULL && !c->refused)
		log_debug("control: closing connection of uid %lu pid %ld: %s",
		    (unsigned long)c->uid, (long)c->pid, why);
	c->dead = 1;
	event_del(c->rev);
	event_del(c->wev);
	event_del(c->tev);
	close(c->fd);
	c->fd = -1;
	if (c->wait != NULL)
		ctl_nwaiters--;
	if (c->state == CONN_FOLLOW)
		ctl_nfollowers--;
	if (c->refused)
		nrefused--;
	else
		nconns--;
	TAILQ_REMOVE(&ctl_conns, c, entry);
	TAILQ_INSERT_TAIL(&graveyard, c, entry);
	event_active(gc_ev, 0, 0);
	listener_update();
}

/* The last reply is queued: send it, then half-close and linger. */
static void
conn_closing(struct ctl_conn *c)
{
	if (c->dead)
		return;
	c->state = CONN_CLOSING;
	c->closing_ms = now_ms();
	ctl_flush(c);
	if (c->dead)
		return;
	if (obuf_pending(&c->out) == 0)
		shutdown(c->fd, SHUT_WR);
	if (c->eof && obuf_pending(&c->out) == 0) {
		conn_kill(c, NULL);
		return;
	}
	if (!c->eof)
		event_add(c->rev, NULL);
	conn_arm(c);
}

/* The earliest deadline of c, or 0 if it has none. */
static int64_t
conn_deadline(const struct ctl_conn *c)
{
	int64_t d = 0, w;

	switch (c->state) {
	case CONN_HELLO:
		d = c->accept_ms + CTL_HELLO_MS;
		break;
	case CONN_READY:
		if (c->inlen > 0)
			d = c->in_since + CTL_MSG_MS;
		else if (obuf_pending(&c->out) == 0)
			d = c->active_ms + CTL_IDLE_MS;
		break;
	case CONN_CLOSING:
		d = c->closing_ms + CTL_LINGER_MS;
		break;
	default:
		break;
	}
	if (obuf_pending(&c->out) > 0) {
		w = c->wprog_ms + CTL_WRITE_MS;
		if (d == 0 || w < d)
			d = w;
	}
	return d;
}

static void
conn_arm(struct ctl_conn *c)
{
	struct timeval tv;
	int64_t d;

	if (c->dead)
		return;
	if ((d = conn_deadline(c)) == 0) {
		event_del(c->tev);
		return;
	}
	ms_to_tv(d - now_ms(), &tv);
	event_add(c->tev, &tv);
}

/* A deadline passed: the client is too slow at something. */
static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_conn *c = arg;
	const char *why;

	if (now_ms() < conn_deadline(c)) {
		conn_arm(c);
		return;
	}
	if (obuf_pending(&c->out) > 0 &&
	    now_ms() >= c->wprog_ms + CTL_WRITE_MS)
		why = "not reading its replies";
	else if (c->state == CONN_HELLO)
		why = "no hello in time";
	else if (c->state == CONN_READY && c->inlen > 0)
		why = "message not finished in time";
	else if (c->state == CONN_READY)
		why = "idle";
	else
		why = NULL;
	conn_kill(c, why);
}

/* Read and forget input (a closing connection), until EOF. */
static void
conn_drain(struct ctl_conn *c)
{
	char buf[4096];
	ssize_t n;
	int i;

	for (i = 0; i < 16; i++) {
		n = read(c->fd, buf, sizeof buf);
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		conn_kill(c, NULL);
		return;
	}
}

/* Read what has come, at most CTL_READ_MAX. 0, or -1 if killed. */
static int
conn_read(struct ctl_conn *c)
{
	size_t total = 0;
	ssize_t n;

	while (total < CTL_READ_MAX) {
		if (c->inlen == c->incap) {
			if (c->incap == PROTO_MSG_MAX)
				break;
			c->incap = c->incap == 0 ? CTL_IN_MIN : c->incap * 2;
			if (c->incap > PROTO_MSG_MAX)
				c->incap = PROTO_MSG_MAX;
			c->in = xreallocarray(c->in, 1, c->incap);
		}
		n = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
		if (n > 0) {
			if (c->inlen == 0)
				c->in_since = now_ms();
			c->inlen += (size_t)n;
			total += (size_t)n;
		} else if (n == 0) {
			c->eof = 1;
			event_del(c->rev);
			break;
		} else if (errno == EINTR)
			continue;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		else {
			conn_kill(c, "read error");
			return -1;
		}
	}
	return 0;
}

/* Nothing more will come and nothing is left to send: done. */
static void
conn_check_done(struct ctl_conn *c)
{
	if (c->dead || !c->eof || obuf_pending(&c->out) > 0)
		return;
	if (c->state == CONN_READY || c->state == CONN_HELLO ||
	    c->state == CONN_CLOSING)
		conn_kill(c, c->inlen > 0 ? "incomplete message" : NULL);
}

size_t
ctl_pending(const struct ctl_conn *c)
{
	return obuf_pending(&c->out);
}

void
ctl_want_write(struct ctl_conn *c)
{
	if (c->dead)
		return;
	event_add(c->wev, NULL);
	conn_arm(c);
}

void
ctl_request_done(struct ctl_conn *c)
{
	if (c->dead)
		return;
	c->state = CONN_READY;
	c->active_ms = now_ms();
	if (!c->eof)
		event_add(c->rev, NULL);
	/*
	 * A request answered at once from inside conn_process(): its loop
	 * consumes the line and takes the next one. Going round again from
	 * here would handle the same line a second time.
	 */
	if (c->processing)
		return;
	ctl_flush(c);
	conn_process(c);
	conn_check_done(c);
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_conn *c = arg;

	if (c->state == CONN_CLOSING) {
		conn_drain(c);
		return;
	}
	if (conn_read(c) == -1)
		return;
	if (c->state == CONN_FOLLOW && c->inlen > 0) {
		c->inlen = 0;
		ctl_nfollowers--;
		ctl_reply_err(c, "no request may come while following a log");
		conn_closing(c);
		return;
	}
	conn_process(c);
	if (!c->dead && c->inlen == c->incap && c->incap == PROTO_MSG_MAX)
		event_del(c->rev);	/* full: wait for the request to end */
	conn_check_done(c);
}

static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_conn *c = arg;

	ctl_flush(c);
	if (c->dead)
		return;
	if (obuf_pending(&c->out) == 0 && c->state == CONN_CLOSING) {
		shutdown(c->fd, SHUT_WR);
		if (c->eof)
			conn_kill(c, NULL);
		return;
	}
	if (obuf_pending(&c->out) < CTL_OUT_HIGH)
		conn_process(c);
	conn_check_done(c);
	conn_arm(c);
}

/* ---- accepting ------------------------------------------------------ */

/* Stop accepting at the limit (clients wait in the backlog), resume below. */
static void
listener_update(void)
{
	if (listen_ev == NULL)
		return;
	if (!paused && nconns >= CTL_CONNS_MAX) {
		paused = 1;
		event_del(listen_ev);
	} else if (paused && nconns < CTL_CONNS_MAX &&
	    (retry_ev == NULL || !evtimer_pending(retry_ev, NULL))) {
		paused = 0;
		event_add(listen_ev, NULL);
	}
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	listener_update();
}

/* accept() failed for want of descriptors: pause a while, do not spin. */
static void
accept_backoff(void)
{
	struct timeval tv;

	log_warn("control: accept");
	if (retry_ev == NULL)
		retry_ev = evtimer_new(vd.base, retry_cb, NULL);
	ms_to_tv(CTL_RETRY_MS, &tv);
	evtimer_add(retry_ev, &tv);
	paused = 1;
	event_del(listen_ev);
}

static int
accept_fd(void)
{
	int fd;

#ifdef HAVE_ACCEPT4
	fd = accept4(ctl_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
	if ((fd = accept(ctl_listen_fd, NULL, NULL)) != -1 &&
	    (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)) {
		close(fd);
		fd = -1;
	}
#endif
	return fd;
}

/* A connection on fd, in state hello, its events made but not added. */
static struct ctl_conn *
conn_alloc(int fd)
{
	struct ctl_conn *c;

	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->id = next_id++;
	c->uid = (uid_t)-1;
	c->pid = -1;
	c->accept_ms = c->active_ms = now_ms();
	c->state = CONN_HELLO;
	c->rev = event_new(vd.base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->wev = event_new(vd.base, fd, EV_WRITE | EV_PERSIST, conn_write_cb,
	    c);
	c->tev = evtimer_new(vd.base, conn_timer_cb, c);
	if (c->rev == NULL || c->wev == NULL || c->tev == NULL)
		fatalx("control: event_new");
	TAILQ_INSERT_TAIL(&ctl_conns, c, entry);
	return c;
}

/* Set up a connection; check its peer; refuse it or wait for its hello. */
static void
conn_new(int fd)
{
	struct ctl_conn *c = conn_alloc(fd);

	if (!ctl_peer_allowed(fd, &c->uid, &c->pid)) {
		c->refused = 1;
		nrefused++;
		log_info("control: refused uid %lu (pid %ld)",
		    (unsigned long)c->uid, (long)c->pid);
		ctl_reply_err(c, "permission denied: uid %lu may not control "
		    "vigild", (unsigned long)c->uid);
		conn_closing(c);
		if (!c->dead && nrefused > CTL_REFUSED_MAX)
			conn_kill(c, NULL);
		return;
	}
	nconns++;
	log_debug("control: connection of uid %lu pid %ld",
	    (unsigned long)c->uid, (long)c->pid);
	event_add(c->rev, NULL);
	conn_arm(c);
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	int fd, i;

	for (i = 0; i < CTL_ACCEPT_BURST && !paused; i++) {
		if ((fd = accept_fd()) == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				accept_backoff();
			return;
		}
		conn_new(fd);
		listener_update();
	}
}

void
control_start(void)
{
	if (ctl_listen_fd == -1)
		return;
	gc_ev = event_new(vd.base, -1, 0, gc_cb, NULL);
	listen_ev = event_new(vd.base, ctl_listen_fd, EV_READ | EV_PERSIST,
	    accept_cb, NULL);
	if (gc_ev == NULL || listen_ev == NULL)
		fatalx("control: event_new");
	event_add(listen_ev, NULL);
	ring_set_hook(control_ring_line);
}

/* ---- requests ------------------------------------------------------- */


/* The client's first message: its protocol version. */
static void
handle_hello(struct ctl_conn *c, const char *msg, size_t len)
{
	char err[256];
	long version;

	if (proto_hello_parse(msg, len, &version, err, sizeof err) == -1) {
		ctl_reply_err(c, "%s", err);
		conn_closing(c);
		return;
	}
	if (version != PROTO_VERSION) {
		snprintf(err, sizeof err, "protocol version %ld is not "
		    "supported: vigild %s speaks version %d", version,
		    PACKAGE_VERSION, PROTO_VERSION);
		ctl_send(c, json_pack("{s:b,s:i,s:o}", "ok", 0, "protocol",
		    PROTO_VERSION, "error", proto_string(err, strlen(err))));
		conn_closing(c);
		return;
	}
	ctl_send(c, json_pack("{s:b,s:i,s:s}", "ok", 1, "protocol",
	    PROTO_VERSION, "server", "vigild " PACKAGE_VERSION));
	c->state = CONN_READY;
}

/* One complete message from the client. */
static void
handle_line(struct ctl_conn *c, const char *msg, size_t len)
{
	struct proto_request req;
	char err[256];

	if (c->state == CONN_HELLO) {
		handle_hello(c, msg, len);
		return;
	}
	if (proto_request_parse(msg, len, &req, err, sizeof err) == -1) {
		ctl_reply_err(c, "%s", err);
		conn_closing(c);
		return;
	}
	log_debug("control: uid %lu: %s", (unsigned long)c->uid,
	    proto_cmd_name(req.cmd));
	ctl_command(c, &req);
	proto_request_clear(&req);
}

/*
 * Handle the complete messages waiting, one request at a time: not while
 * one is in progress, nor while too much output waits for the client.
 */
static void
conn_process(struct ctl_conn *c)
{
	char *nl;
	size_t len;

	if (c->processing || exiting)
		return;
	c->processing = 1;
	while (!c->dead && (c->state == CONN_HELLO ||
	    c->state == CONN_READY) && c->inlen > 0 &&
	    obuf_pending(&c->out) < CTL_OUT_HIGH) {
		if ((nl = memchr(c->in, '\n', c->inlen)) == NULL) {
			if (c->inlen < PROTO_MSG_MAX)
				break;
			ctl_reply_err(c, "message longer than %d bytes",
			    PROTO_MSG_MAX);
			c->inlen = 0;
			conn_closing(c);
			break;
		}
		len = (size_t)(nl - c->in);
		handle_line(c, c->in, len);
		if (c->dead)
			break;
		c->inlen -= len + 1;
		memmove(c->in, nl + 1, c->inlen);
		c->in_since = c->active_ms = now_ms();
		if (c->state == CONN_CLOSING)
			c->inlen = 0;
	}
	c->processing = 0;
	if (c->dead)
		return;
	if (c->inlen == 0 && c->incap > CTL_IN_MIN) {
		freed_bytes += c->incap;
		free(c->in);
		c->in = NULL;
		c->incap = 0;
	}
	/* Read again if a full buffer had stopped it. */
	if (!c->eof && c->state != CONN_CLOSING && c->inlen < PROTO_MSG_MAX)
		event_add(c->rev, NULL);
	ctl_flush(c);
	conn_arm(c);
}

/* ---- exit ----------------------------------------------------------- */

void
control_close(void)
{
	struct ctl_conn *c;

	if (ctl_listen_fd == -1)
		return;
	ring_set_hook(NULL);
	exiting = 1;
	ctl_command_settle();
	while ((c = TAILQ_FIRST(&ctl_conns)) != NULL) {
		if (c->state == CONN_FOLLOW)
			ctl_send(c, json_pack("{s:b,s:s}", "ok", 1, "end",
			    "vigild is exiting"));
		else if (c->wait != NULL || c->reloading)
			ctl_reply_err(c, "vigild is exiting");
		ctl_flush(c);
		conn_kill(c, NULL);
	}
	gc_cb(-1, 0, NULL);
	event_free(listen_ev);
	event_free(gc_ev);
	ctl_command_close();
	if (retry_ev != NULL)
		event_free(retry_ev);
	listen_ev = gc_ev = retry_ev = NULL;
	close(ctl_listen_fd);
	ctl_listen_fd = -1;
	control_remove();
}

/* ---- re-exec --------------------------------------------------------- */

/*
 * The socket, the connection that asked (keep) and the followers of a log
 * (with what they have not been sent yet) cross the exec.
 */
void
control_save(FILE *f, unsigned long long keep)
{
	struct ctl_conn *c;

	if (ctl_listen_fd == -1)
		return;
	control_save_sock(f);
	TAILQ_FOREACH(c, &ctl_conns, entry) {
		if (c->dead || (c->id != keep && c->state != CONN_FOLLOW))
			continue;
		rx_begin(f, c->id == keep ? "conn" : "follow");
		rx_int(f, "fd", c->fd);
		rx_int(f, "uid", (long long)c->uid);
		rx_int(f, "pid", (long long)c->pid);
		if (c->id != keep) {
			rx_str(f, "name", c->follow);
			rx_int(f, "dropped", (long long)c->dropped);
			rx_bytes(f, "out", c->out.data + c->out.off,
			    obuf_pending(&c->out));
		}
		rx_finish(f);
		rx_keep_fd(c->fd);
	}
}

/*
 * Just before the exec: the other connections are told and closed (their
 * descriptors would close at the exec anyway): a follower's stream ends, a
 * request in progress fails.
 */
void
control_part(unsigned long long keep)
{
	struct ctl_conn *c, *c1;

	TAILQ_FOREACH_SAFE(c, &ctl_conns, entry, c1) {
		if (c->id == keep || c->state == CONN_FOLLOW)
			continue;
		if (c->state == CONN_FOLLOW)
			ctl_send(c, json_pack("{s:b,s:s}", "ok", 1, "end",
			    "vigild is re-executing"));
		else if (c->state == CONN_BUSY)
			ctl_reply_err(c, "vigild is re-executing");
		ctl_flush(c);
		conn_kill(c, "re-exec");
	}
}

/* The new image: answer the client that asked for the re-exec. */
void
control_restore_conn(struct rx_rec *r, int ok, const char *err)
{
	struct ctl_conn *c;
	int fd = (int)rx_getint(r, "fd", -1);

	if (fd < 0 || ctl_listen_fd == -1)
		return;
	rx_cloexec(fd);
	c = conn_alloc(fd);
	c->uid = (uid_t)rx_getint(r, "uid", -1);
	c->pid = (pid_t)rx_getint(r, "pid", -1);
	c->state = CONN_BUSY;
	nconns++;
	if (ok)
		ctl_reply_ok(c);
	else
		ctl_reply_err(c, "%s", err);
	ctl_request_done(c);
}

/* The new image: a follower of a log goes on where it was. */
void
control_restore_follow(struct rx_rec *r)
{
	struct ctl_conn *c;
	const char *v;
	size_t len;
	int fd = (int)rx_getint(r, "fd", -1);

	if (fd < 0 || ctl_listen_fd == -1 || (v = rx_get(r, "name", NULL)) ==
	    NULL)
		return;
	rx_cloexec(fd);
	c = conn_alloc(fd);
	c->uid = (uid_t)rx_getint(r, "uid", -1);
	c->pid = (pid_t)rx_getint(r, "pid", -1);
	nconns++;
	snprintf(c->follow, sizeof c->follow, "%s", v);
	c->follow_conf = NULL;		/* look it up at the first line */
	c->dropped = (uint64_t)rx_getint(r, "dropped", 0);
	c->state = CONN_FOLLOW;
	ctl_nfollowers++;
	if ((v = rx_get(r, "out", &len)) != NULL && len > 0) {
		obuf_reserve(&c->out, len);
		memcpy(c->out.data + c->out.len, v, len);
		c->out.len += len;
		c->wprog_ms = now_ms();
	}
	event_add(c->rev, NULL);
	ctl_flush(c);
	if (!c->dead && obuf_pending(&c->out) > 0)
		ctl_want_write(c);
	else if (!c->dead)
		conn_arm(c);
}
