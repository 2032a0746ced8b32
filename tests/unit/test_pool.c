/* The worker pool: jobs, completions through a descriptor, shutdown. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "vigil/vigil.h"
#include "tap.h"

static int ran, done_ran;
static pthread_t dispatcher;
static int done_on_dispatcher = 1;

static void
job_count(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&ran, 1, __ATOMIC_RELAXED);
}

static void
done_count(void *arg)
{
	(void)arg;
	done_ran++;
	if (!pthread_equal(pthread_self(), dispatcher))
		done_on_dispatcher = 0;
}

static int
readable(int fd, int ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };

	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

/* Workers start lazily; every job runs; done callbacks run on dispatch. */
static void
t_submit_wait_dispatch(void)
{
	struct vigil_pool *p = vigil_pool_new(4);
	int i, n = 0;

	dispatcher = pthread_self();
	CHECK(p != NULL);
	CHECK_EQ(vigil_pool_live_workers(p), 0);
	CHECK(!readable(vigil_pool_fd(p), 0));
	for (i = 0; i < 1000; i++)
		CHECK_OK(vigil_pool_submit(p, job_count, done_count, NULL));
	CHECK_EQ(vigil_pool_live_workers(p), 4);
	CHECK_OK(vigil_pool_wait(p));
	CHECK_EQ(ran, 1000);
	CHECK(readable(vigil_pool_fd(p), 1000));
	while (n < 1000 && readable(vigil_pool_fd(p), 1000))
		n += vigil_pool_dispatch(p);
	CHECK_EQ(n, 1000);
	CHECK_EQ(done_ran, 1000);
	CHECK(done_on_dispatcher);
	CHECK(!readable(vigil_pool_fd(p), 0));
	vigil_pool_free(p, VIGIL_POOL_DRAIN);
	CHECK(WAIT_FOR(vigil_thread_count() == 1, 2000));
}

static void
t_bad_args(void)
{
	errno = 0;
	CHECK(vigil_pool_new(0) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(vigil_pool_new(257) == NULL && errno == EINVAL);
}

static struct vigil_pool *pool;
static int nested_ok, wait_refused;

static void
job_nested(void *arg)
{
	(void)arg;
	if (vigil_pool_submit(pool, job_count, NULL, NULL) == 0)
		__atomic_store_n(&nested_ok, 1, __ATOMIC_RELAXED);
	if (vigil_pool_wait(pool) == -1 && errno == EDEADLK)
		__atomic_store_n(&wait_refused, 1, __ATOMIC_RELAXED);
}

/* A job may submit; a job may not wait for its own pool. */
static void
t_nested(void)
{
	pool = vigil_pool_new(2);
	CHECK_OK(vigil_pool_submit(pool, job_nested, NULL, NULL));
	CHECK(WAIT_FOR(__atomic_load_n(&ran, __ATOMIC_RELAXED) == 1, 5000));
	CHECK_OK(vigil_pool_wait(pool));
	CHECK(nested_ok);
	CHECK(wait_refused);
	vigil_pool_free(pool, VIGIL_POOL_DRAIN);
}

static int hold[2];

static void
job_block(void *arg)
{
	char c;

	(void)arg;
	if (read(hold[0], &c, 1) != 1)
		abort();
}

static void *
free_discard(void *arg)
{
	vigil_pool_free(arg, VIGIL_POOL_DISCARD);
	return NULL;
}

/* DRAIN runs queued jobs before freeing; DISCARD drops them. */
static void
t_free_drain_discard(void)
{
	struct vigil_pool *p;
	struct vigil_thread *t;
	int i;

	CHECK_OK(pipe(hold));
	p = vigil_pool_new(1);
	CHECK_OK(vigil_pool_submit(p, job_block, NULL, NULL));
	for (i = 0; i < 10; i++)
		CHECK_OK(vigil_pool_submit(p, job_count, done_count, NULL));
	CHECK(WAIT_FOR(vigil_pool_pending(p) == 10, 2000));
	CHECK_EQ(write(hold[1], "x", 1), 1);
	vigil_pool_free(p, VIGIL_POOL_DRAIN);
	CHECK_EQ(ran, 10);
	CHECK_EQ(done_ran, 0);	/* completions are not dispatched by free */

	/* DISCARD: free runs on another thread while a job still blocks. */
	p = vigil_pool_new(1);
	CHECK_OK(vigil_pool_submit(p, job_block, NULL, NULL));
	for (i = 0; i < 10; i++)
		CHECK_OK(vigil_pool_submit(p, job_count, done_count, NULL));
	CHECK(WAIT_FOR(vigil_pool_pending(p) == 10, 2000));
	CHECK_OK(vigil_thread_create(&t, free_discard, p));
	CHECK(WAIT_FOR(vigil_pool_pending(p) == 0, 2000));
	CHECK_EQ(write(hold[1], "x", 1), 1);
	CHECK_OK(vigil_thread_join(t, NULL));
	CHECK_EQ(ran, 10);
	CHECK_EQ(done_ran, 0);
}

static struct event_base *base;
static int loop_dispatched;

static void
pool_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	loop_dispatched += vigil_pool_dispatch(arg);
	if (loop_dispatched == 100)
		event_base_loopbreak(base);
}

/* A libevent loop watches the pool's descriptor and never blocks on it. */
static void
t_libevent(void)
{
	struct vigil_pool *p = vigil_pool_new(3);
	struct event *ev;
	struct timeval tv = { 10, 0 };
	int i;

	dispatcher = pthread_self();
	base = event_base_new();
	ev = event_new(base, vigil_pool_fd(p), EV_READ | EV_PERSIST,
	    pool_ready_cb, p);
	event_add(ev, NULL);
	for (i = 0; i < 100; i++)
		CHECK_OK(vigil_pool_submit(p, job_count, done_count, NULL));
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	CHECK_EQ(loop_dispatched, 100);
	CHECK_EQ(done_ran, 100);
	event_free(ev);
	event_base_free(base);
	vigil_pool_free(p, VIGIL_POOL_DRAIN);
}

static const struct tap_case cases[] = {
	TAP_CASE(t_submit_wait_dispatch, 20),
	TAP_CASE(t_bad_args, 5),
	TAP_CASE(t_nested, 10),
	TAP_CASE(t_free_drain_discard, 10),
	TAP_CASE(t_libevent, 15),
};

int
main(void)
{
	return tap_run(cases, sizeof cases / sizeof cases[0]);
}
