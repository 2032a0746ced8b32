/*
 * output.c: console capture of children's output, the ring of recent lines,
 * the writer jobs and their backpressure.
 *
 * Each case is a small daemon: signals blocked, vd.base with the pool's
 * descriptor on it, and descriptors 1 and 2 replaced by pipes the case
 * reads (so what vigild would print never reaches the TAP stream). OK()
 * puts 1 and 2 back before failing, so the message is seen.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "../../daemon/reexec.h"
#include "../../daemon/vigild.h"
#include "tap.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#define LINE_MAX_OUT	4096
#define QUEUE_BOUND	(1024 * 1024 + 100 * 1024)	/* "about 1.1 MiB" */

/* Bytes read from a pipe that stands for one of vigild's descriptors. */
struct capture {
	int	 rfd;
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

static struct capture	 cap1 = { -1, NULL, 0, 0 };
static struct capture	 cap2 = { -1, NULL, 0, 0 };
static int		 saved[3] = { -1, -1, -1 };
static int		 drain1 = 1;	/* read cap1 while the loop turns */
static size_t		 max_queued;
static pid_t		 writers[2];	/* killed if the case fails */

/* Put descriptors 1 and 2 back as the runner gave them. */
static void
restore_stdio(void)
{
	int fd;

	for (fd = 1; fd <= 2; fd++)
		if (saved[fd] != -1)
			dup2(saved[fd], fd);
}

/* Before failing: no writer left blocked on a pipe, messages seen. */
static void
fail_cleanup(void)
{
	size_t i;

	for (i = 0; i < sizeof writers / sizeof writers[0]; i++)
		if (writers[i] > 0)
			kill(writers[i], SIGKILL);
	restore_stdio();
}

#define OK(c) do {							\
	if (!(c)) {							\
		fail_cleanup();						\
		tap_fail_(__FILE__, __LINE__, "check failed: %s", #c);	\
	}								\
} while (0)
/*
 * End of a case: 1 and 2 back, and no leak (the runner's _exit() skips
 * LeakSanitizer, so ask it here).
 */
static void
finish(void)
{
	restore_stdio();
#ifdef HAVE_LSAN
	if (__lsan_do_recoverable_leak_check() != 0)
		tap_fail_(__FILE__, __LINE__, "memory leaked");
#endif
}

#define OK_EQ(a, b) do {						\
	long long a_ = (long long)(a), b_ = (long long)(b);		\
	if (a_ != b_) {							\
		fail_cleanup();						\
		tap_fail_(__FILE__, __LINE__, "%s == %lld, expected %lld", \
		    #a, a_, b_);					\
	}								\
} while (0)

static void
save_fd(int fd)
{
	if (saved[fd] == -1)
		OK((saved[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 10)) != -1);
}

/* Make fd the write end of a new pipe whose read end c drains. */
static void
capture(int fd, struct capture *c)
{
	int p[2];

	save_fd(fd);
	OK(pipe(p) == 0);
	OK(dup2(p[1], fd) == fd);
	close(p[1]);
	OK(fcntl(p[0], F_SETFD, FD_CLOEXEC) == 0);
	OK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
	c->rfd = p[0];
}

static void
cap_add(struct capture *c, const char *p, size_t n)
{
	if (c->len + n > c->cap) {
		c->cap = c->cap == 0 ? 65536 : c->cap;
		while (c->cap < c->len + n)
			c->cap *= 2;
		OK((c->buf = realloc(c->buf, c->cap)) != NULL);
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

/* Read what the pipe holds without waiting. */
static void
drain(struct capture *c)
{
	char buf[65536];
	ssize_t n;

	if (c->rfd == -1)
		return;
	while ((n = read(c->rfd, buf, sizeof buf)) > 0)
		cap_add(c, buf, (size_t)n);
}

static void
pool_cb(evutil_socket_t fd, short events, void *arg)
{
	vigil_pool_dispatch(vd.pool);
}

static void
tick_cb(evutil_socket_t fd, short events, void *arg)
{
}

/*
 * The daemon in miniature. With same set, descriptor 2 is the same pipe as
 * descriptor 1 (a terminal, one journal stream).
 */
static void
setup(int same)
{
	struct event *ev;
	struct timeval tv = { 0, 5000 };

	OK(vigil_block_signals(NULL) == 0);
	capture(1, &cap1);
	if (same) {
		save_fd(2);
		OK(dup2(1, 2) == 2);
	} else
		capture(2, &cap2);
	vd.foreground = 1;
	OK((vd.base = event_base_new()) != NULL);
	OK((vd.pool = vigil_pool_new(2)) != NULL);
	ev = event_new(vd.base, vigil_pool_fd(vd.pool), EV_READ | EV_PERSIST,
	    pool_cb, NULL);
	OK(ev != NULL && event_add(ev, NULL) == 0);
	/* Bounds every turn of the loop, so conditions are polled. */
	ev = event_new(vd.base, -1, EV_PERSIST, tick_cb, NULL);
	OK(ev != NULL && event_add(ev, &tv) == 0);
	output_init();
}

/* One turn of the loop; the captures are drained and the queue watched. */
static void
turn(void)
{
	size_t q;

	event_base_loop(vd.base, EVLOOP_ONCE);
	if (drain1)
		drain(&cap1);
	drain(&cap2);
	if ((q = output_queued_bytes()) > max_queued)
		max_queued = q;
}

/* Turn the loop until cond(arg) holds; 0 if ms pass first. */
static int
run_until(int (*cond)(const void *), const void *arg, long long ms)
{
	long long deadline = tap_now_ms() + ms;

	for (;;) {
		if (cond(arg))
			return 1;
		if (tap_now_ms() >= deadline)
			return 0;
		turn();
	}
}

/* Bytes in a pipe, from either end (Linux); 0 where it cannot tell. */
static int
pipe_pending(int fd)
{
	int n = 0;

	if (ioctl(fd, FIONREAD, &n) == -1)
		return 0;
	return n;
}

/* The pipe is empty and nothing waits for a writer. */
static int
idle_cond(const void *arg)
{
	const int *fd = arg;

	return (fd == NULL || pipe_pending(*fd) == 0) &&
	    output_queued_bytes() == 0;
}

static int
queued_above_cond(const void *arg)
{
	return output_queued_bytes() > *(const size_t *)arg;
}

static int
cap1_len_cond(const void *arg)
{
	return cap1.len >= *(const size_t *)arg;
}

/* Wait until cap1 holds exactly the string s. */
static void
expect_cap1(const char *s)
{
	size_t n = strlen(s), i;

	OK(run_until(cap1_len_cond, &n, 10000));
	OK(run_until(idle_cond, NULL, 10000));
	drain(&cap1);
	for (i = 0; i < n && i < cap1.len && cap1.buf[i] == s[i]; i++)
		;
	if (cap1.len != n || i != n) {
		fail_cleanup();
		tap_fail_(__FILE__, __LINE__, "got %zu bytes, expected %zu; "
		    "from byte %zu: \"%.40s\", expected \"%.40s\"", cap1.len,
		    n, i, i < cap1.len ? cap1.buf + i : "", s + i);
	}
}

static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(3);
		p += w;
		n -= (size_t)w;
	}
}

static void
put(int fd, const char *s)
{
	write_all(fd, s, strlen(s));
}

/* The ring's lines joined, each followed by a newline. */
static void
collect_cb(const char *line, size_t len, void *arg)
{
	struct capture *c = arg;

	cap_add(c, line, len);
	cap_add(c, "\n", 1);
}

static void
expect_ring(struct ring *r, size_t n, const char *s)
{
	struct capture c = { -1, NULL, 0, 0 };

	ring_foreach(r, n, collect_cb, &c);
	if (c.len != strlen(s) || (c.len > 0 && memcmp(c.buf, s, c.len) != 0)) {
		fail_cleanup();
		tap_fail_(__FILE__, __LINE__, "ring \"%.*s\", expected \"%s\"",
		    (int)c.len, c.buf, s);
	}
	free(c.buf);
}

/*
 * Line i of writer id, the same in the child that writes it and in the
 * check: a tag "<id>:<i>:" then letters; with longs, every 97th line is
 * longer than two pieces.
 */
static size_t
gen_line(int id, size_t i, int longs, char *buf)
{
	size_t len, k, n = 0;
	char digits[24];
	size_t v = i;

	buf[n++] = (char)('a' + id);
	buf[n++] = ':';
	k = 0;
	do {
		digits[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (k > 0)
		buf[n++] = digits[--k];
	buf[n++] = ':';
	len = (i * 7919 + (size_t)id * 131) % 3000;
	if (longs && i % 97 == 96)
		len = 9000 + i % 50;
	for (k = n; k < len; k++)
		buf[k] = (char)('a' + (i + k) % 26);
	return len > n ? len : n;
}

/* Append to c what vigild prints for line: pieces, each prefixed. */
static void
expect_add(struct capture *c, const char *name, const char *line, size_t len)
{
	size_t piece;

	do {
		piece = len > LINE_MAX_OUT ? LINE_MAX_OUT : len;
		cap_add(c, name, strlen(name));
		cap_add(c, " | ", 3);
		cap_add(c, line, piece);
		cap_add(c, "\n", 1);
		line += piece;
		len -= piece;
	} while (len > 0);
}

/*
 * A child that writes nlines lines of writer id to fd, then exits. It keeps
 * no other descriptor: not the read end of its pipe (it would never see
 * EPIPE if the case died), nor the runner's.
 */
static pid_t
spawn_writer(int fd, int id, size_t nlines, int longs)
{
	static char buf[16384];
	size_t i, len;
	pid_t pid;
	int n;

	OK((pid = fork()) != -1);
	if (pid != 0) {
		writers[id] = pid;
		return pid;
	}
	for (n = 3; n < 1024; n++)
		if (n != fd)
			close(n);
	for (i = 0; i < nlines; i++) {
		len = gen_line(id, i, longs, buf);
		buf[len] = '\n';
		write_all(fd, buf, len + 1);
	}
	_exit(0);
}

static void
reap(pid_t pid)
{
	int status, i;

	OK(waitpid(pid, &status, 0) == pid);
	for (i = 0; i < 2; i++)
		if (writers[i] == pid)
			writers[i] = 0;
	OK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Counts lines and bytes (with newlines) of a ring. */
static void
count_cb(const char *line, size_t len, void *arg)
{
	size_t *n = arg;

	n[0]++;
	n[1] += len + 1;
}

/* Lines are split, prefixed, kept in the ring; the child end is sane. */
static void
t_lines(void)
{
	struct output *o, *e;
	struct ring *r;
	int cfd, efd;

	setup(0);
	r = ring_new();
	OK((o = output_new("web", 1, r, &cfd)) != NULL);
	OK((e = output_new("web", 2, r, &efd)) != NULL);
	OK(cfd > 2 && efd > 2);
	/* Created CLOEXEC; blocking, since the child writes to it. */
	OK(fcntl(cfd, F_GETFD) & FD_CLOEXEC);
	OK((fcntl(cfd, F_GETFL) & O_NONBLOCK) == 0);
	put(cfd, "one\ntwo\n\nthree\n");
	expect_cap1("web | one\nweb | two\nweb | \nweb | three\n");
	put(efd, "oops\n");
	OK(run_until(idle_cond, &efd, 10000));
	drain(&cap2);
	OK(cap2.len == 11 && memcmp(cap2.buf, "web | oops\n", 11) == 0);
	expect_ring(r, 0, "one\ntwo\n\nthree\noops\n");
	close(cfd);
	close(efd);
	output_release(o);
	output_release(e);
	OK(run_until(idle_cond, NULL, 10000));
	OK_EQ(output_dropped_bytes(), 0);
	OK_EQ(output_new("web", 3, NULL, &cfd) == NULL && errno == EINVAL, 1);
	ring_free(r);
	finish();
}

/* A partial line waits for its end, across reads. */
static void
t_partial(void)
{
	struct output *o;
	struct ring *r;
	int cfd;

	setup(0);
	r = ring_new();
	OK((o = output_new("db", 1, r, &cfd)) != NULL);
	put(cfd, "hel");
	OK(run_until(idle_cond, &cfd, 10000));
	drain(&cap1);
	OK_EQ(cap1.len, 0);
	expect_ring(r, 0, "");
	put(cfd, "lo\nwor");
	expect_cap1("db | hello\n");
	put(cfd, "ld\n");
	expect_cap1("db | hello\ndb | world\n");
	expect_ring(r, 0, "hello\nworld\n");
	close(cfd);
	output_release(o);
	OK(run_until(idle_cond, NULL, 10000));
	ring_free(r);
	finish();
}

/* Long lines are cut in 4 KiB pieces, each prefixed; 4 KiB is not cut. */
static void
t_long_line(void)
{
	struct capture want = { -1, NULL, 0, 0 };
	static char big[10000];
	struct output *o;
	struct ring *r;
	size_t count[2] = { 0, 0 };
	int cfd;

	setup(0);
	r = ring_new();
	OK((o = output_new("x", 1, r, &cfd)) != NULL);
	memset(big, 'y', sizeof big);
	write_all(cfd, big, 10000);
	put(cfd, "\n");
	expect_add(&want, "x", big, 10000);
	write_all(cfd, big, 4096);
	put(cfd, "\n");
	expect_add(&want, "x", big, 4096);
	write_all(cfd, big, 8192);
	put(cfd, "\n");
	expect_add(&want, "x", big, 8192);
	/* A read that ends after 4096 bytes of a line: wait for the rest. */
	write_all(cfd, big, 4096);
	OK(run_until(idle_cond, &cfd, 10000));
	put(cfd, "\n");
	expect_add(&want, "x", big, 4096);
	/* Cut before EOF, the rest emitted at EOF. */
	write_all(cfd, big, 4097);
	expect_add(&want, "x", big, 4097);
	close(cfd);
	output_release(o);
	cap_add(&want, "", 1);
	expect_cap1(want.buf);
	/* 3 + 1 + 2 + 1 + 2 pieces, each a line of the ring. */
	ring_foreach(r, 0, count_cb, count);
	OK_EQ(count[0], 9);
	OK_EQ(count[1], 10000 + 4096 + 8192 + 4096 + 4097 + 9);
	free(want.buf);
	ring_free(r);
	finish();
}

/* At EOF a line without a newline still comes out, with one. */
static void
t_eof(void)
{
	struct output *o, *late;
	struct ring *r, *r2;
	int cfd, lfd;

	setup(0);
	r = ring_new();
	r2 = ring_new();
	OK((o = output_new("a", 1, r, &cfd)) != NULL);
	put(cfd, "no newline");
	close(cfd);
	expect_cap1("a | no newline\n");
	expect_ring(r, 0, "no newline\n");
	/* Released after EOF: freed at once. */
	output_release(o);

	/*
	 * Released before EOF (a grandchild keeps the pipe), and its service
	 * gone with its ring: reading goes on to EOF, the ring lives as long
	 * as the output.
	 */
	OK((late = output_new("b", 1, r2, &lfd)) != NULL);
	output_release(late);
	ring_free(r2);
	put(lfd, "late\nlater");
	close(lfd);
	expect_cap1("a | no newline\nb | late\nb | later\n");
	ring_free(r);
	finish();
}

/*
 * Two children write to two outputs at once: every line comes out whole,
 * prefixed, and in each writer's order.
 */
static void
interleave(int same)
{
	struct capture want = { -1, NULL, 0, 0 };
	static char buf[16384];
	const size_t nlines = 3000;
	struct output *o[2];
	size_t next[2] = { 0, 0 }, i, len, total = 0;
	char *p, *end, *nl;
	pid_t pid[2];
	int fd[2], id;

	setup(same);
	for (id = 0; id < 2; id++) {
		OK((o[id] = output_new(id == 0 ? "a" : "b",
		    same ? 1 + id : 1, NULL, &fd[id])) != NULL);
		for (i = 0; i < nlines; i++) {
			want.len = 0;
			len = gen_line(id, i, 0, buf);
			expect_add(&want, id == 0 ? "a" : "b", buf, len);
			total += want.len;
		}
	}
	for (id = 0; id < 2; id++)
		pid[id] = spawn_writer(fd[id], id, nlines, 0);
	for (id = 0; id < 2; id++) {
		close(fd[id]);
		output_release(o[id]);
	}
	OK(run_until(cap1_len_cond, &total, 30000));
	OK(run_until(idle_cond, NULL, 10000));
	drain(&cap1);
	OK_EQ(cap1.len, total);
	for (p = cap1.buf, end = p + cap1.len; p < end; p = nl + 1) {
		OK((nl = memchr(p, '\n', (size_t)(end - p))) != NULL);
		OK(nl - p >= 4 && (p[0] == 'a' || p[0] == 'b') &&
		    memcmp(p + 1, " | ", 3) == 0);
		id = p[0] - 'a';
		OK(next[id] < nlines);
		len = gen_line(id, next[id]++, 0, buf);
		OK((size_t)(nl - p - 4) == len && memcmp(p + 4, buf, len) == 0);
	}
	OK(next[0] == nlines && next[1] == nlines);
	reap(pid[0]);
	reap(pid[1]);
	free(want.buf);
	finish();
}

static void
t_interleave(void)
{
	interleave(0);
}

/* Descriptors 1 and 2 on one pipe: still whole lines. */
static void
t_interleave_same_file(void)
{
	interleave(1);
}

/* Line i of the ring tests. */
static size_t
ring_line(size_t i, size_t width, char *buf)
{
	int n;

	n = snprintf(buf, 64, "line %zu", i);
	if (width > (size_t)n) {
		memset(buf + n, '.', width - (size_t)n);
		n = (int)width;
	}
	return (size_t)n;
}

/* Check that the ring holds lines first..last (of ring_line), in order. */
struct seq {
	size_t	 next;
	size_t	 width;
	int	 bad;
};

static void
seq_cb(const char *line, size_t len, void *arg)
{
	struct seq *s = arg;
	char buf[2048];
	size_t n = ring_line(s->next++, s->width, buf);

	if (n != len || memcmp(buf, line, len) != 0)
		s->bad = 1;
}

static void
expect_seq(struct ring *r, size_t n, size_t first, size_t last, size_t width)
{
	struct seq s = { first, width, 0 };

	ring_foreach(r, n, seq_cb, &s);
	OK(!s.bad);
	OK_EQ(s.next, last + 1);
}

/* The ring keeps at least 1,000 lines and 64 KiB, oldest dropped first. */
static void
t_ring(void)
{
	struct ring *r;
	char buf[2048];
	size_t i, count[2];

	/* Short lines: 64 KiB is more than 1,000 lines. */
	r = ring_new();
	expect_ring(r, 0, "");
	for (i = 0; i < 5000; i++)
		ring_append(r, buf, ring_line(i, 0, buf));
	expect_seq(r, 0, 0, 4999, 0);
	for (; i < 100000; i++)
		ring_append(r, buf, ring_line(i, 0, buf));
	count[0] = count[1] = 0;
	ring_foreach(r, 0, count_cb, count);
	OK(count[0] >= 1000);
	OK(count[1] >= 64 * 1024 && count[1] <= 64 * 1024 + 16);
	expect_seq(r, 0, 100000 - count[0], 99999, 0);
	/* The last n, oldest first; n beyond the count means all. */
	expect_seq(r, 10, 99990, 99999, 0);
	expect_seq(r, 1, 99999, 99999, 0);
	expect_seq(r, 1000000, 100000 - count[0], 99999, 0);
	ring_free(r);

	/* Long lines: 1,000 lines are more than 64 KiB. */
	r = ring_new();
	for (i = 0; i < 1500; i++)
		ring_append(r, buf, ring_line(i, 1000, buf));
	expect_seq(r, 0, 500, 1499, 1000);
	ring_free(r);

	/* Empty lines count a byte each (their newline). */
	r = ring_new();
	for (i = 0; i < 200000; i++)
		ring_append(r, "", 0);
	count[0] = count[1] = 0;
	ring_foreach(r, 0, count_cb, count);
	OK_EQ(count[0], 64 * 1024);
	/* Then a long line: whole, and last. */
	memset(buf, 'z', sizeof buf - 2);
	ring_append(r, buf, sizeof buf - 2);
	buf[sizeof buf - 2] = '\n';
	buf[sizeof buf - 1] = '\0';
	expect_ring(r, 1, buf);
	ring_free(r);
	finish();
}

/*
 * A destination nobody reads: vigild's queue stays bounded and the child
 * blocks; once it is read, every byte arrives, in order, prefixed. An
 * output started while reading is paused gets its turn afterwards.
 */
static void
t_backpressure(void)
{
	struct capture want = { -1, NULL, 0, 0 };
	static char buf[16384];
	const char *late_line = "late | hello\n";
	size_t nlines, len, total = 0, n, highwater = 1024 * 1024;
	struct output *o, *late;
	struct ring *r;
	char *p;
	pid_t pid;
	int cfd, lfd, status, k;

	setup(0);
	for (nlines = 0; total < 5 * 1024 * 1024; nlines++) {
		len = gen_line(0, nlines, 1, buf);
		expect_add(&want, "a", buf, len);
		total += len + 1;
	}
	r = ring_new();
	OK((o = output_new("a", 1, r, &cfd)) != NULL);
	pid = spawn_writer(cfd, 0, nlines, 1);
	close(cfd);
	output_release(o);

	/* Nobody reads descriptor 1: the queue fills up to its limit. */
	drain1 = 0;
	OK(run_until(queued_above_cond, &highwater, 30000));
	OK(max_queued <= QUEUE_BOUND);
	OK(waitpid(pid, &status, WNOHANG) == 0);
	OK((late = output_new("late", 1, NULL, &lfd)) != NULL);
	put(lfd, "hello\n");
	close(lfd);
	output_release(late);
	for (k = 0; k < 100; k++) {
		turn();
		OK(max_queued <= QUEUE_BOUND);
	}
	OK(output_queued_bytes() > highwater);
	OK(waitpid(pid, &status, WNOHANG) == 0);

	/* Read it: everything comes, the bound holds all along. */
	drain1 = 1;
	n = want.len + strlen(late_line);
	OK(run_until(cap1_len_cond, &n, 60000));
	OK(run_until(idle_cond, NULL, 10000));
	drain(&cap1);
	reap(pid);
	OK(max_queued <= QUEUE_BOUND);
	OK(max_queued > highwater);
	OK_EQ(cap1.len, n);
	/* The late line is whole, between two lines of a. */
	OK((p = memmem(cap1.buf, cap1.len, late_line, strlen(late_line)))
	    != NULL);
	OK(p == cap1.buf || p[-1] == '\n');
	memmove(p, p + strlen(late_line),
	    cap1.len - (size_t)(p - cap1.buf) - strlen(late_line));
	cap1.len -= strlen(late_line);
	OK(memcmp(cap1.buf, want.buf, want.len) == 0);
	OK_EQ(output_dropped_bytes(), 0);
	free(want.buf);
	ring_free(r);
	finish();
}

/* Reads descriptor 1's pipe to its end on a thread of its own. */
static void *
drainer(void *arg)
{
	struct capture *c = arg;
	char buf[65536];
	ssize_t n;

	while ((n = read(c->rfd, buf, sizeof buf)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		cap_add(c, buf, (size_t)n);
	}
	return NULL;
}

/*
 * At exit, output_flush_all() writes out what the pipes still hold, what
 * is queued behind a job in flight and a last partial line.
 */
static void
t_flush_all(void)
{
	struct capture want = { -1, NULL, 0, 0 };
	struct capture got = { -1, NULL, 0, 0 };
	static char buf[16384];
	struct output *o;
	struct ring *r;
	pthread_t t;
	size_t i, len, count[2] = { 0, 0 };
	int cfd;

	setup(0);
	got.rfd = cap1.rfd;
	cap1.rfd = -1;
	OK(fcntl(got.rfd, F_SETFL, 0) == 0);
#ifdef F_SETPIPE_SZ
	/* A small pipe, so the first job blocks until the drainer runs. */
	(void)fcntl(1, F_SETPIPE_SZ, 4096);
#endif
	r = ring_new();
	OK((o = output_new("web", 1, r, &cfd)) != NULL);
	/*
	 * Ten lines read and in flight, ten read and queued behind them, ten
	 * not read at all (each ten well under a pipe's 64 KiB).
	 */
	for (i = 0; i < 30; i++) {
		len = gen_line(0, i, 0, buf);
		expect_add(&want, "web", buf, len);
		buf[len] = '\n';
		write_all(cfd, buf, len + 1);
		if (i == 9 || i == 19)
			turn();
	}
	OK(pipe_pending(cfd) > 0);
	put(cfd, "partial");
	expect_add(&want, "web", "partial", 7);
	OK(pthread_create(&t, NULL, drainer, &got) == 0);

	output_flush_all();
	OK_EQ(output_queued_bytes(), 0);
	OK_EQ(pipe_pending(cfd), 0);

	/* And the loop goes on: a job done before the flush is dispatched. */
	put(cfd, "after\n");
	expect_add(&want, "web", "after", 5);
	OK(run_until(idle_cond, &cfd, 10000));
	close(cfd);
	output_release(o);
	OK(run_until(idle_cond, NULL, 10000));
	vigil_pool_wait(vd.pool);
	restore_stdio();	/* the pipe's last writer goes */
	OK(pthread_join(t, NULL) == 0);
	OK_EQ(got.len, want.len);
	OK(memcmp(got.buf, want.buf, want.len) == 0);
	ring_foreach(r, 0, count_cb, count);
	OK_EQ(count[0], 32);
	ring_free(r);
	free(want.buf);
	free(got.buf);
	finish();
}

/* A destination that is gone (EPIPE) or closed (EBADF): lines dropped. */
static void
t_broken_dest(void)
{
	struct output *o, *e;
	struct ring *r;
	size_t dropped;
	int cfd, efd, i;

	setup(0);
	r = ring_new();
	OK((o = output_new("web", 1, r, &cfd)) != NULL);
	OK((e = output_new("web", 2, r, &efd)) != NULL);
	close(cap1.rfd);
	cap1.rfd = -1;
	for (i = 0; i < 2000; i++)
		put(cfd, "a line that goes nowhere\n");
	OK(run_until(idle_cond, &cfd, 10000));
	OK_EQ(output_dropped_bytes(), 2000 * 31);
	dropped = output_dropped_bytes();

	close(2);	/* no descriptor is opened from here on */
	put(efd, "to a closed descriptor\n");
	OK(run_until(idle_cond, &efd, 10000));
	OK_EQ(output_dropped_bytes() - dropped, 29);
	restore_stdio();

	/* The ring has them all. */
	{
		size_t count[2] = { 0, 0 };

		ring_foreach(r, 0, count_cb, count);
		OK_EQ(count[0], 2001);
	}
	close(cfd);
	close(efd);
	output_release(o);
	output_release(e);
	OK(run_until(idle_cond, NULL, 10000));
	ring_free(r);
	finish();
}

/* Detached: lines go to syslog, not to descriptor 1. */
static void
t_detached(void)
{
	struct output *o;
	struct ring *r;
	int cfd;

	setup(0);
	vd.foreground = 0;
	r = ring_new();
	OK((o = output_new("web", 1, r, &cfd)) != NULL);
	put(cfd, "to syslog\nand again\n");
	OK(run_until(idle_cond, &cfd, 10000));
	vigil_pool_wait(vd.pool);
	drain(&cap1);
	OK_EQ(cap1.len, 0);
	OK_EQ(output_dropped_bytes(), 0);
	expect_ring(r, 0, "to syslog\nand again\n");
	close(cfd);
	output_release(o);
	OK(run_until(idle_cond, NULL, 10000));
	ring_free(r);
	finish();
}

/* Hex, as a re-exec's state has bytes. */
static void
rx_hex(const char *s, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s != '\0'; s++) {
		*out++ = hex[(unsigned char)*s >> 4];
		*out++ = hex[(unsigned char)*s & 15];
	}
	*out = '\0';
}

static int
rx_gone_cond(const void *arg)
{
	return output_by_fd(*(const int *)arg) == NULL;
}

/*
 * Re-exec: a capture restored with complete lines in its buffer (read
 * before the exec while the queue was over its bound) writes them out
 * although its pipe stays empty; the partial line waits for its end.
 */
static void
t_rx_restore_buffered(void)
{
	char type[] = "out", k_dest[] = "dest", v_dest[] = "1", k_fd[] = "fd",
	    v_fd[16], k_pre[] = "prefix", v_pre[64], k_buf[] = "buf",
	    v_buf[128];
	struct rx_rec r;
	struct output *o;
	int p[2];

	setup(0);
	OK(pipe(p) == 0);
	OK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
	snprintf(v_fd, sizeof v_fd, "%d", p[0]);
	rx_hex("rx | ", v_pre);
	rx_hex("one\ntwo\npart", v_buf);
	memset(&r, 0, sizeof r);
	r.type = type;
	r.key[0] = k_dest, r.val[0] = v_dest;
	r.key[1] = k_fd, r.val[1] = v_fd;
	r.key[2] = k_pre, r.val[2] = v_pre;
	r.key[3] = k_buf, r.val[3] = v_buf;
	r.n = 4;
	output_restore(&r);
	OK((o = output_by_fd(p[0])) != NULL);
	expect_cap1("rx | one\nrx | two\n");
	put(p[1], "ial\n");
	expect_cap1("rx | one\nrx | two\nrx | partial\n");
	close(p[1]);
	OK(run_until(rx_gone_cond, &p[0], 10000));
	output_release(o);
	OK(run_until(idle_cond, NULL, 10000));
	finish();
}

static const struct tap_case cases[] = {
	TAP_CASE(t_lines, 10),
	TAP_CASE(t_partial, 10),
	TAP_CASE(t_long_line, 10),
	TAP_CASE(t_eof, 10),
	TAP_CASE(t_interleave, 60),
	TAP_CASE(t_interleave_same_file, 60),
	TAP_CASE(t_ring, 30),
	TAP_CASE(t_backpressure, 120),
	TAP_CASE(t_flush_all, 30),
	TAP_CASE(t_broken_dest, 30),
	TAP_CASE(t_detached, 10),
	TAP_CASE(t_rx_restore_buffered, 30),
};

int
main(void)
{
	return tap_run(cases, sizeof cases / sizeof cases[0]);
}
