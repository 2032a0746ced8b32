/*
 * Console capture of children's stdout and stderr: see the output.c section
 * of vigild.h.
 *
 * Threads: everything here runs on the main thread except batch_job(),
 * which runs on a pool worker and touches nothing but the batch it was
 * handed. A batch belongs to the main thread while it waits in its
 * destination's queue, to the worker from vigil_pool_submit() until its job
 * returns, and to the main thread again in batch_done_cb() (or in
 * output_flush_all() once vigil_pool_wait() has returned). At most one
 * batch per destination is in flight, so lines reach a destination in the
 * order they were queued.
 *
 * Memory is bounded: the main loop stops reading every pipe once more than
 * QUEUE_HIGH bytes wait for a writer and starts again below QUEUE_LOW. The
 * children then block on their full pipes; nothing is dropped.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "reexec.h"
#include "vigild.h"
#include "xmalloc.h"

#define OUT_LINE_MAX	4096		/* longer lines are cut */
#define OUT_BUF_SIZE	(16 * 1024)	/* per output; > OUT_LINE_MAX + 1 */
#define OUT_READ_MAX	(64 * 1024)	/* per read callback, for fairness */
#define OUT_FLUSH_MAX	(1024 * 1024)	/* per output in output_flush_all */
#define QUEUE_HIGH	(1024 * 1024)	/* stop reading above this */
#define QUEUE_LOW	(256 * 1024)	/* start reading again below this */
#define BATCH_MIN	1024
#define BATCH_MAX	(64 * 1024)	/* a batch is cut above this */
#define RETRY_MS	100		/* after a failed vigil_pool_submit */

#define RING_LINES	1000		/* keep at least this many lines */
#define RING_BYTES	(64 * 1024)	/* and at least this much text */
#define RING_CHUNK	(16 * 1024)
#define RING_HDR	sizeof(uint32_t)

/*
 * The ring keeps lines in chunks; each line is a 32-bit length (unaligned,
 * read with memcpy) followed by its bytes. Lines are dropped from the head
 * of the first chunk, which is freed once empty.
 */
struct ring_chunk {
	TAILQ_ENTRY(ring_chunk)	 entry;
	size_t			 size;		/* bytes in data[] */
	size_t			 head;		/* oldest line kept */
	size_t			 tail;		/* where the next line goes */
	char			 data[];
};
TAILQ_HEAD(ring_chunks, ring_chunk);

struct ring {
	struct ring_chunks	 chunks;
	size_t			 nlines;
	size_t			 bytes;		/* sum of len + 1 (newline) */
	unsigned int		 refs;		/* outputs appending to it */
	int			 orphan;	/* ring_free()d while in use */
};

struct dest;

/* Prefixed lines, each ending in a newline, for one destination. */
struct batch {
	TAILQ_ENTRY(batch)	 entry;
	struct dest		*dest;		/* main thread only */
	/* Set by the main thread before the job starts. */
	int			 fd;
	int			 use_syslog;
	int			 priority;
	char			*buf;
	size_t			 len;
	size_t			 cap;
	/* Set by the job. */
	size_t			 dropped;
	int			 error;
	/* Main thread: already taken off the queued count. */
	int			 settled;
};
TAILQ_HEAD(batch_list, batch);

/* One of vigild's own descriptors (1 or 2) and the lines waiting for it. */
struct dest {
	int			 fd;
	int			 priority;	/* when detached: syslog */
	struct batch_list	 queue;		/* waiting, not in flight */
	struct batch		*inflight;	/* owned by a job, or settled */
	size_t			 dropped;
	int			 warned;
};

/* The read side of one captured stream of one run. */
struct output {
	TAILQ_ENTRY(output)	 entry;
	char			*prefix;	/* "name | " */
	size_t			 prefixlen;
	struct dest		*dest;
	struct ring		*ring;
	int			 fd;		/* -1 after EOF */
	struct event		*ev;		/* NULL after EOF */
	int			 released;
	size_t			 len;		/* bytes waiting in buf */
	char			*buf;		/* OUT_BUF_SIZE; NULL if empty */
};
TAILQ_HEAD(output_list, output);

static struct dest	 dests[2] = {
	{ .fd = 1, .priority = LOG_INFO,
	  .queue = TAILQ_HEAD_INITIALIZER(dests[0].queue) },
	{ .fd = 2, .priority = LOG_NOTICE,
	  .queue = TAILQ_HEAD_INITIALIZER(dests[1].queue) },
};
static struct dest	*err_dest = &dests[1];
static struct output_list outputs = TAILQ_HEAD_INITIALIZER(outputs);
static size_t		 queued;	/* bytes queued or in flight */
static int		 paused;	/* pipes not being read */
static int		 flushing;	/* in output_flush_all: no limit */
static int		 submit_warned;
static int		 frozen;	/* re-exec: no new job */
static void		(*idle_hook)(void);
static struct event	*retry_ev;
static void		(*ring_hook)(struct ring *, const char *, size_t);

static void	output_resume(void);

/* ---- ring ------------------------------------------------------------ */

struct ring *
ring_new(void)
{
	struct ring *r;

	r = xcalloc(1, sizeof *r);
	TAILQ_INIT(&r->chunks);
	return r;
}

static void
ring_destroy(struct ring *r)
{
	struct ring_chunk *c;

	while ((c = TAILQ_FIRST(&r->chunks)) != NULL) {
		TAILQ_REMOVE(&r->chunks, c, entry);
		free(c);
	}
	free(r);
}

/*
 * Free the ring, or, if an output released by a finished run still appends
 * to it, let the last such output free it.
 */
void
ring_free(struct ring *r)
{
	if (r == NULL)
		return;
	if (r->refs > 0)
		r->orphan = 1;
	else
		ring_destroy(r);
}

static uint32_t
ring_len_at(const struct ring_chunk *c, size_t off)
{
	uint32_t len;

	memcpy(&len, c->data + off, sizeof len);
	return len;
}

/* Drop the oldest line; a chunk left empty is freed. */
static void
ring_drop(struct ring *r)
{
	struct ring_chunk *c = TAILQ_FIRST(&r->chunks);
	uint32_t len = ring_len_at(c, c->head);

	c->head += RING_HDR + len;
	r->nlines--;
	r->bytes -= (size_t)len + 1;
	if (c->head == c->tail) {
		TAILQ_REMOVE(&r->chunks, c, entry);
		free(c);
	}
}

/*
 * Append a line (no newline). Old lines go while dropping one still leaves
 * more than RING_LINES lines and at least RING_BYTES: whichever of the two
 * keeps more is kept.
 */
void
ring_append(struct ring *r, const char *line, size_t len)
{
	struct ring_chunk *c;
	uint32_t len32;
	size_t need, size;

	if (len > UINT32_MAX)
		len = UINT32_MAX;
	need = RING_HDR + len;
	c = TAILQ_LAST(&r->chunks, ring_chunks);
	if (c == NULL || c->size - c->tail < need) {
		size = need > RING_CHUNK ? need : RING_CHUNK;
		c = xmalloc(sizeof *c + size);
		c->size = size;
		c->head = c->tail = 0;
		TAILQ_INSERT_TAIL(&r->chunks, c, entry);
	}
	len32 = (uint32_t)len;
	memcpy(c->data + c->tail, &len32, RING_HDR);
	if (len > 0)
		memcpy(c->data + c->tail + RING_HDR, line, len);
	c->tail += need;
	r->nlines++;
	r->bytes += len + 1;

	for (;;) {
		c = TAILQ_FIRST(&r->chunks);
		len32 = ring_len_at(c, c->head);
		if (r->nlines <= RING_LINES ||
		    r->bytes - ((size_t)len32 + 1) < RING_BYTES)
			break;
		ring_drop(r);
	}
	if (ring_hook != NULL)
		ring_hook(r, line, len);
}

void
ring_set_hook(void (*fn)(struct ring *, const char *, size_t))
{
	ring_hook = fn;
}

/*
 * Call fn for each of the last n lines (all if n is 0), oldest first. The
 * line points into the ring: fn must not append to it.
 */
void
ring_foreach(struct ring *r, size_t n,
    void (*fn)(const char *line, size_t len, void *), void *arg)
{
	struct ring_chunk *c;
	size_t skip, off;
	uint32_t len;

	if (n == 0 || n > r->nlines)
		n = r->nlines;
	skip = r->nlines - n;
	TAILQ_FOREACH(c, &r->chunks, entry) {
		for (off = c->head; off < c->tail; off += RING_HDR + len) {
			len = ring_len_at(c, off);
			if (skip > 0)
				skip--;
			else
				fn(c->data + off + RING_HDR, len, arg);
		}
	}
}

/* ---- writer: batches and pool jobs ----------------------------------- */

/*
 * Write a batch out: blocking write(2) loops, or a syslog(3) call per line
 * when detached. Runs on a worker (or on the main thread at exit); touches
 * nothing but b. A destination that refuses (EPIPE, EBADF, ...) drops the
 * rest of the batch: b->dropped and b->error say how much and why.
 */
static void
batch_write(struct batch *b)
{
	char *p = b->buf, *end = b->buf + b->len, *nl;
	struct pollfd pfd;
	ssize_t n;

	if (b->use_syslog) {
		while (p < end &&
		    (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			*nl = '\0';
			syslog(b->priority, "%s", p);
			p = nl + 1;
		}
		return;
	}
	while (p < end) {
		if ((n = write(b->fd, p, (size_t)(end - p))) > 0) {
			p += n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Someone made our descriptor non-blocking. */
			pfd.fd = b->fd;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, -1);
			continue;
		}
		b->error = n == 0 ? EIO : errno;
		b->dropped = (size_t)(end - p);
		break;
	}
}

static void
batch_job(void *arg)
{
	batch_write(arg);
}

static void
batch_free(struct batch *b)
{
	free(b->buf);
	free(b);
}

/* Fill in what the writer needs to know about b's destination. */
static void
batch_prepare(struct dest *d, struct batch *b)
{
	b->fd = d->fd;
	b->priority = d->priority;
	b->use_syslog = !vd.foreground;
}

/*
 * Account for a batch whose job has returned: its bytes no longer count as
 * queued. Done once per batch.
 */
static void
batch_settle(struct batch *b)
{
	struct dest *d = b->dest;

	if (b->settled)
		return;
	b->settled = 1;
	queued -= b->len;
	d->dropped += b->dropped;
	if (b->error != 0 && b->error != EPIPE && b->error != EBADF &&
	    !d->warned) {
		d->warned = 1;
		errno = b->error;
		log_warn("output: writing to descriptor %d", d->fd);
	}
}

static void	dest_kick(struct dest *);
static void	batch_done_cb(void *);

/* Retry the submissions that failed. */
static void
output_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	dest_kick(&dests[0]);
	dest_kick(&dests[1]);
}

/* A submission failed: try again in a moment; the batch stays queued. */
static void
dest_retry(void)
{
	struct timeval tv;

	if (!submit_warned) {
		submit_warned = 1;
		log_warn("output: cannot start a writer");
	}
	if (retry_ev == NULL &&
	    (retry_ev = evtimer_new(vd.base, output_retry_cb, NULL)) == NULL)
		fatalx("output: evtimer_new");
	if (!evtimer_pending(retry_ev, NULL)) {
		ms_to_tv(RETRY_MS, &tv);
		evtimer_add(retry_ev, &tv);
	}
}

/* Hand the destination's oldest batch to a job unless one is in flight. */
static void
dest_kick(struct dest *d)
{
	struct batch *b;

	if (d->inflight != NULL || frozen ||
	    (b = TAILQ_FIRST(&d->queue)) == NULL)
		return;
	TAILQ_REMOVE(&d->queue, b, entry);
	batch_prepare(d, b);
	d->inflight = b;
	if (vd.pool == NULL)
		errno = EINVAL;
	else if (vigil_pool_submit(vd.pool, batch_job, batch_done_cb, b) == 0) {
		submit_warned = 0;
		return;
	}
	d->inflight = NULL;
	TAILQ_INSERT_HEAD(&d->queue, b, entry);
	dest_retry();
}

/*
 * A job has written its batch (main thread, from vigil_pool_dispatch):
 * free it, start the next one, and read the pipes again if the queue has
 * shrunk enough.
 */
static void
batch_done_cb(void *arg)
{
	struct batch *b = arg;
	struct dest *d = b->dest;

	batch_settle(b);
	d->inflight = NULL;
	batch_free(b);
	dest_kick(d);
	output_resume();
	if (frozen && !output_busy() && idle_hook != NULL)
		idle_hook();
}

/* ---- reader: pipes, lines, backpressure ------------------------------ */

/* Stop reading every pipe: the writers are behind. */
static void
output_pause(void)
{
	struct output *o;

	if (paused)
		return;
	paused = 1;
	TAILQ_FOREACH(o, &outputs, entry)
		if (o->ev != NULL)
			event_del(o->ev);
}

/* 1 if no more lines may be queued now (pausing if just over the limit). */
static int
output_full(void)
{
	if (flushing)
		return 0;
	if (queued > QUEUE_HIGH)
		output_pause();
	return paused;
}

/* Queue one line (without its newline) and keep it in the ring. */
static void
output_emit(struct output *o, const char *line, size_t len)
{
	struct dest *d = o->dest;
	struct batch *b;
	size_t need = o->prefixlen + len + 1, cap;

	if (o->ring != NULL)
		ring_append(o->ring, line, len);
	b = TAILQ_LAST(&d->queue, batch_list);
	if (b == NULL || b->len + need > BATCH_MAX) {
		b = xcalloc(1, sizeof *b);
		b->dest = d;
		TAILQ_INSERT_TAIL(&d->queue, b, entry);
	}
	if (b->len + need > b->cap) {
		cap = b->cap == 0 ? BATCH_MIN : b->cap;
		while (cap < b->len + need)
			cap *= 2;
		b->buf = xreallocarray(b->buf, 1, cap);
		b->cap = cap;
	}
	memcpy(b->buf + b->len, o->prefix, o->prefixlen);
	memcpy(b->buf + b->len + o->prefixlen, line, len);
	b->buf[b->len + need - 1] = '\n';
	b->len += need;
	queued += need;
}

/*
 * Queue the complete lines waiting in o's buffer; a run of more than
 * OUT_LINE_MAX bytes without a newline goes out in OUT_LINE_MAX pieces. With
 * last set (EOF, exit) the partial line left is queued too and the queue
 * limit is ignored. Returns 0 if it stopped because the queue is full.
 */
static int
output_lines(struct output *o, int last)
{
	char *p, *end, *nl;
	size_t n;
	int more = 1;

	if (o->buf == NULL)
		return 1;	/* nothing waiting */
	p = o->buf;
	end = o->buf + o->len;
	while (p < end) {
		if (!last && output_full()) {
			more = 0;
			break;
		}
		n = (size_t)(end - p);
		nl = memchr(p, '\n', n > OUT_LINE_MAX ? OUT_LINE_MAX + 1 : n);
		if (nl != NULL) {
			output_emit(o, p, (size_t)(nl - p));
			p = nl + 1;
		} else if (n > OUT_LINE_MAX) {
			output_emit(o, p, OUT_LINE_MAX);
			p += OUT_LINE_MAX;
		} else if (last) {
			output_emit(o, p, n);
			p = end;
		} else
			break;
	}
	if (p != o->buf) {
		o->len = (size_t)(end - p);
		memmove(o->buf, p, o->len);
		dest_kick(o->dest);
	}
	return more;
}

static void
output_free(struct output *o)
{
	struct ring *r = o->ring;

	TAILQ_REMOVE(&outputs, o, entry);
	if (o->ev != NULL)
		event_free(o->ev);
	if (o->fd != -1)
		close(o->fd);
	if (r != NULL && --r->refs == 0 && r->orphan)
		ring_destroy(r);
	free(o->prefix);
	free(o->buf);
	free(o);
}

/*
 * The pipe is at its end (every writer closed it): queue what is left, stop
 * watching, and free the output if its run is over.
 */
static void
output_eof(struct output *o)
{
	output_lines(o, 1);
	event_free(o->ev);
	o->ev = NULL;
	close(o->fd);
	o->fd = -1;
	if (o->released)
		output_free(o);
}

/*
 * Read at most max bytes from o's pipe, queueing lines as they come. Stops
 * when the pipe is empty, when the queue is full, or at EOF. Returns -1 at
 * EOF, where o may have been freed, 0 otherwise.
 */
static int
output_read(struct output *o, size_t max)
{
	size_t total = 0;
	ssize_t n;

	/* A silent service costs no buffer: it exists only while it holds
	 * bytes. */
	if (o->buf == NULL)
		o->buf = xmalloc(OUT_BUF_SIZE);
	while (total < max) {
		if (!output_lines(o, 0))
			return 0;
		n = read(o->fd, o->buf + o->len, OUT_BUF_SIZE - o->len);
		if (n > 0) {
			o->len += (size_t)n;
			total += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n == -1)
			log_warn("%.*s: reading output",
			    (int)(o->prefixlen - 3), o->prefix);
		output_eof(o);
		return -1;
	}
	output_lines(o, 0);
	if (o->len == 0) {
		free(o->buf);
		o->buf = NULL;
	}
	return 0;
}

static void
output_read_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)output_read(arg, OUT_READ_MAX);
}

/*
 * The writers have caught up: queue what the buffers hold and watch the
 * pipes again, unless that fills the queue once more.
 */
static void
output_resume(void)
{
	struct output *o;

	if (!paused || queued >= QUEUE_LOW)
		return;
	paused = 0;
	TAILQ_FOREACH(o, &outputs, entry) {
		if (o->ev == NULL)
			continue;
		if (!output_lines(o, 0))
			return;
		event_add(o->ev, NULL);
	}
}

/* A pipe for a child's stream: both ends CLOEXEC, ours non-blocking. */
static int
output_pipe(int fds[2])
{
	int flags;

#ifdef HAVE_PIPE2
	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
#else
	if (pipe(fds) == -1)
		return -1;
	if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fds[1], F_SETFD, FD_CLOEXEC) == -1)
		goto fail;
#endif
	if ((flags = fcntl(fds[0], F_GETFL)) == -1 ||
	    fcntl(fds[0], F_SETFL, flags | O_NONBLOCK) == -1)
		goto fail;
	return 0;
fail:
	flags = errno;
	close(fds[0]);
	close(fds[1]);
	errno = flags;
	return -1;
}

struct output *
output_new(const char *name, int dest_fd, struct ring *r, int *child_fd)
{
	struct output *o;
	int fds[2];

	if (dest_fd != 1 && dest_fd != 2) {
		errno = EINVAL;
		return NULL;
	}
	if (output_pipe(fds) == -1)
		return NULL;
	o = xcalloc(1, sizeof *o);
	o->prefixlen = (size_t)xasprintf(&o->prefix, "%s | ", name);
	o->dest = dest_fd == 1 ? &dests[0] : err_dest;
	o->fd = fds[0];
	o->ev = event_new(vd.base, o->fd, EV_READ | EV_PERSIST,
	    output_read_cb, o);
	if (o->ev == NULL || (!paused && event_add(o->ev, NULL) == -1)) {
		if (o->ev != NULL)
			event_free(o->ev);
		close(fds[0]);
		close(fds[1]);
		free(o->prefix);
		free(o);
		errno = ENOMEM;
		return NULL;
	}
	if ((o->ring = r) != NULL)
		r->refs++;
	TAILQ_INSERT_TAIL(&outputs, o, entry);
	*child_fd = fds[1];
	return o;
}

void
output_release(struct output *o)
{
	if (o == NULL)
		return;
	o->released = 1;
	if (o->fd == -1)
		output_free(o);
}

/*
 * At exit: read what every pipe still holds (without waiting for more),
 * queue partial lines too, let the jobs in flight finish, then write every
 * queued batch on the calling thread. A batch that was in flight is freed
 * by its done callback if the pool ever dispatches it; until then it stays
 * reachable from its destination.
 */
void
output_flush_all(void)
{
	struct output *o, *o1;
	struct dest *d;
	struct batch *b;
	size_t i;

	flushing = 1;
	TAILQ_FOREACH_SAFE(o, &outputs, entry, o1) {
		if (o->fd == -1)
			continue;
		if (output_read(o, OUT_FLUSH_MAX) == 0)
			output_lines(o, 1);
	}
	if (vd.pool != NULL)
		vigil_pool_wait(vd.pool);
	for (i = 0; i < 2; i++) {
		d = &dests[i];
		if (d->inflight != NULL)
			batch_settle(d->inflight);
		while ((b = TAILQ_FIRST(&d->queue)) != NULL) {
			TAILQ_REMOVE(&d->queue, b, entry);
			batch_prepare(d, b);
			batch_write(b);
			batch_settle(b);
			batch_free(b);
		}
	}
	flushing = 0;
	output_resume();
}

/*
 * Call once vd.base, vd.pool and vd.foreground are set and descriptors 1
 * and 2 are in place. When both are the same file (a terminal, one pipe,
 * one journal stream) their lines go through one queue, so concurrent
 * writers never interleave inside a line.
 */
void
output_init(void)
{
	struct stat st1, st2;

	err_dest = &dests[1];
	if (vd.foreground && fstat(1, &st1) == 0 && fstat(2, &st2) == 0 &&
	    st1.st_dev == st2.st_dev && st1.st_ino == st2.st_ino)
		err_dest = &dests[0];
}

size_t
output_queued_bytes(void)
{
	return queued;
}

size_t
output_dropped_bytes(void)
{
	return dests[0].dropped + dests[1].dropped;
}

/* ---- re-exec --------------------------------------------------------- */

/* A batch is being written by a job. */
int
output_busy(void)
{
	return dests[0].inflight != NULL || dests[1].inflight != NULL;
}

/*
 * Hand no more batches to the pool; call idle (from the loop, soon) once
 * none is in flight. Reading the pipes goes on: lines wait in the queues.
 */
void
output_freeze(void (*idle)(void))
{
	frozen = 1;
	idle_hook = idle;
	if (!output_busy())
		idle();
}

void
output_thaw(void)
{
	frozen = 0;
	idle_hook = NULL;
	dest_kick(&dests[0]);
	dest_kick(&dests[1]);
}

int
output_fd(const struct output *o)
{
	return o->fd;
}

struct output *
output_by_fd(int fd)
{
	struct output *o;

	if (fd < 0)
		return NULL;
	TAILQ_FOREACH(o, &outputs, entry)
		if (o->fd == fd && !o->released)
			return o;
	return NULL;
}

/*
 * Every capture with its pipe, its partial line and the service whose log
 * it feeds, then every queued batch, oldest first. The writers are frozen
 * and idle: nothing is in flight.
 */
void
output_save(FILE *f)
{
	struct output *o;
	struct batch *b;
	struct svc *s;
	size_t i;

	TAILQ_FOREACH(o, &outputs, entry) {
		/* At EOF: everything it read is queued; nothing is left. */
		if (o->fd == -1)
			continue;
		rx_begin(f, "out");
		rx_int(f, "dest", o->dest == &dests[0] ? 1 : 2);
		rx_int(f, "fd", o->fd);
		rx_int(f, "released", o->released);
		rx_bytes(f, "prefix", o->prefix, o->prefixlen);
		if (o->buf != NULL && o->len > 0)
			rx_bytes(f, "buf", o->buf, o->len);
		TAILQ_FOREACH(s, &svcs, entry)
			if (o->ring != NULL && s->log == o->ring) {
				rx_str(f, "ring", s->name);
				break;
			}
		rx_finish(f);
		rx_keep_fd(o->fd);
	}
	for (i = 0; i < 2; i++)
		TAILQ_FOREACH(b, &dests[i].queue, entry) {
			rx_begin(f, "batch");
			rx_int(f, "dest", (long long)i + 1);
			rx_bytes(f, "data", b->buf, b->len);
			rx_finish(f);
		}
}

void
output_restore(struct rx_rec *r)
{
	struct output *o;
	struct batch *b;
	struct svc *s;
	const char *v;
	size_t len;
	long long dest = rx_getint(r, "dest", 1);

	if (strcmp(r->type, "batch") == 0) {
		if ((v = rx_get(r, "data", &len)) == NULL || len == 0)
			return;
		b = xcalloc(1, sizeof *b);
		b->dest = dest == 2 ? err_dest : &dests[0];
		b->buf = xmalloc(len);
		memcpy(b->buf, v, len);
		b->len = b->cap = len;
		TAILQ_INSERT_TAIL(&b->dest->queue, b, entry);
		queued += len;
		dest_kick(b->dest);
		return;
	}
	o = xcalloc(1, sizeof *o);
	o->dest = dest == 2 ? err_dest : &dests[0];
	o->fd = (int)rx_getint(r, "fd", -1);
	o->released = (int)rx_getint(r, "released", 0);
	v = rx_get(r, "prefix", &len);
	o->prefix = xmalloc(len + 1);
	memcpy(o->prefix, v != NULL ? v : "", len + 1);
	o->prefixlen = len;
	if ((v = rx_get(r, "buf", &len)) != NULL && len > 0 &&
	    len <= OUT_BUF_SIZE) {
		o->buf = xmalloc(OUT_BUF_SIZE);
		memcpy(o->buf, v, len);
		o->len = len;
	}
	if ((v = rx_get(r, "ring", NULL)) != NULL && (s = svc_find(v)) != NULL)
		(o->ring = s->log)->refs++;
	TAILQ_INSERT_TAIL(&outputs, o, entry);
	if (o->fd == -1)
		return;
	rx_cloexec(o->fd);
	o->ev = event_new(vd.base, o->fd, EV_READ | EV_PERSIST,
	    output_read_cb, o);
	if (o->ev == NULL)
		fatalx("output: event_new");
	if (!output_full()) {
		event_add(o->ev, NULL);
		/*
		 * Complete lines the image before read while the queue was
		 * full wait in buf, and the pipe may stay empty: look at
		 * them on the first turn of the loop, as output_resume()
		 * would have.
		 */
		if (o->len > 0)
			event_active(o->ev, EV_READ, 0);
	}
}
