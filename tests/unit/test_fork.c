/*
 * fork() from any thread at any moment: seeds 000 (a thread started just
 * before fork is a zombie in the child), 001 (locks held across fork; the
 * 50-thread fork stress) and 002 (foreign threads and fork), plus the
 * pool's documented behaviour in a child.
 *
 * Every child is watched: it must exit 0 within a bounded time, or the
 * parent kills it and the case fails (a hang is a failure, not a stuck CI).
 * Set VIGIL_STRESS=N to divide the iteration counts by N (sanitizer builds).
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vigil/vigil.h"
#include "tap.h"

#define CHILD_TIMEOUT_MS	10000

static int
scaled(int n)
{
	const char *s = getenv("VIGIL_STRESS");
	int d = s != NULL ? atoi(s) : 1;

	return d > 1 ? (n / d > 0 ? n / d : 1) : n;
}

/*
 * The sanitizer runtime of GCC 12 (libasan) takes its allocator's locks
 * without fork handlers, so a child forked while another thread is inside
 * malloc() can inherit them held and hang in its first allocation: the
 * runtime's bug, not ours. The two stress cases, whose threads allocate
 * all the time, run in the default build only.
 */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static int
asan_skip(void)
{
#ifdef UNDER_ASAN
	tap_skip("libasan's allocator is not fork-safe with allocating "
	    "threads (GCC 12); run in the default build");
#endif
	return 0;
}

/*
 * Wait for pid within a deadline; kill it if it hangs. Returns its status
 * or -1 on a hang. No signal is needed: the wait polls with a short nap,
 * because the test's own threads keep SIGCHLD blocked.
 */
static int
wait_child(pid_t pid)
{
	long long deadline = tap_now_ms() + CHILD_TIMEOUT_MS;
	int status;
	pid_t w;

	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			return status;
		if (w == -1 && errno != EINTR)
			return -2;
		if (tap_now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		tap_msleep(1);
	}
}

static int
child_ok(pid_t pid)
{
	int st = wait_child(pid);

	if (st == -1)
		tap_fail_(__FILE__, __LINE__, "child %d hung", (int)pid);
	return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int job_flag;

static void
set_flag(void *arg)
{
	(void)arg;
	__atomic_store_n(&job_flag, 1, __ATOMIC_RELEASE);
}

/* In a child: the pool must run a job (workers restart on demand). */
static int
pool_runs_job(struct vigil_pool *p)
{
	__atomic_store_n(&job_flag, 0, __ATOMIC_RELEASE);
	if (vigil_pool_submit(p, set_flag, NULL, NULL) == -1 ||
	    vigil_pool_wait(p) == -1)
		return 0;
	return __atomic_load_n(&job_flag, __ATOMIC_ACQUIRE) == 1;
}

static void *
noop_thread(void *arg)
{
	return arg;
}

/*
 * Seed 000: create a thread and fork at once, 10,000 times. In every child
 * exactly one thread is alive, the new thread's handle says it is not, and
 * the pool runs a submission. With the registration done after the
 * "started" signal, or create returning before it, a child could count the
 * new thread alive.
 */
static void
t_start_then_fork(void)
{
	struct vigil_pool *p;
	struct vigil_thread *t;
	int i, n = scaled(10000);
	pid_t pid;

	asan_skip();
	p = vigil_pool_new(2);
	CHECK(p != NULL);
	CHECK(pool_runs_job(p));
	for (i = 0; i < n; i++) {
		CHECK_OK(vigil_thread_create(&t, noop_thread, NULL));
		if ((pid = fork()) == -1)
			tap_fail_(__FILE__, __LINE__, "fork");
		if (pid == 0) {
			int ok = vigil_thread_count() == 1 &&
			    !vigil_thread_alive(t) && vigil_thread_is_main() &&
			    vigil_pool_live_workers(p) == 0 &&
			    pool_runs_job(p) &&
			    vigil_pool_live_workers(p) == 2 &&
			    vigil_thread_join(t, NULL) == -1 && errno == ESRCH;
			_exit(ok ? 0 : 1);
		}
		CHECKF(child_ok(pid), "iteration %d: child saw a wrong state", i);
		CHECK_OK(vigil_thread_join(t, NULL));
	}
	vigil_pool_free(p, VIGIL_POOL_DRAIN);
}

/* Seed 001: locks churned by threads while others fork. */
#define NLOCKS	4
static struct vigil_mutex *locks[NLOCKS];
static struct vigil_cond *churn_cv;
static struct vigil_pool *churn_pool;
static int stop_churn;

static void
churn_job(void *arg)
{
	(void)arg;
}

static void *
churn_locks(void *arg)
{
	int i, k = 0;

	(void)arg;
	while (!__atomic_load_n(&stop_churn, __ATOMIC_ACQUIRE)) {
		/* Every lock, in rank order, sometimes through a cond wait. */
		for (i = 0; i < NLOCKS; i++)
			if (vigil_mutex_lock(locks[i]) == -1)
				abort();
		if (++k % 64 == 0)
			vigil_cond_timedwait(churn_cv, locks[NLOCKS - 1], 0);
		for (i = NLOCKS - 1; i >= 0; i--)
			vigil_mutex_unlock(locks[i]);
		if (k % 16 == 0 && vigil_pool_submit(churn_pool, churn_job,
		    churn_job, NULL) == 0 && k % 256 == 0)
			vigil_pool_dispatch(churn_pool);
	}
	return NULL;
}

/* In a child: every lock can be taken, and the pool works. */
static int
child_takes_everything(void)
{
	int i;

	for (i = 0; i < NLOCKS; i++)
		if (vigil_mutex_lock(locks[i]) == -1)
			return 0;
	vigil_cond_broadcast(churn_cv);
	for (i = NLOCKS - 1; i >= 0; i--)
		if (vigil_mutex_unlock(locks[i]) == -1)
			return 0;
	return pool_runs_job(churn_pool);
}

static int fork_failures;

static void *
fork_loop(void *arg)
{
	int i, n = *(int *)arg;
	pid_t pid;

	for (i = 0; i < n; i++) {
		if ((pid = fork()) == -1) {
			__atomic_add_fetch(&fork_failures, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (pid == 0)
			_exit(child_takes_everything() ? 0 : 1);
		if (!child_ok(pid))
			__atomic_add_fetch(&fork_failures, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void
t_locks_across_fork(void)
{
	struct vigil_thread *churn[3], *forker[2];
	int i, per = scaled(5000) / 2;

	asan_skip();
	for (i = 0; i < NLOCKS; i++)
		CHECK((locks[i] = vigil_mutex_new(10 + i)) != NULL);
	CHECK((churn_cv = vigil_cond_new()) != NULL);
	CHECK((churn_pool = vigil_pool_new(2)) != NULL);
	for (i = 0; i < 3; i++)
		CHECK_OK(vigil_thread_create(&churn[i], churn_locks, NULL));
	for (i = 0; i < 2; i++)
		CHECK_OK(vigil_thread_create(&forker[i], fork_loop, &per));
	for (i = 0; i < 2; i++)
		CHECK_OK(vigil_thread_join(forker[i], NULL));
	__atomic_store_n(&stop_churn, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 3; i++)
		CHECK_OK(vigil_thread_join(churn[i], NULL));
	CHECK_EQ(fork_failures, 0);
	vigil_pool_free(churn_pool, VIGIL_POOL_DRAIN);
}

static void *
fork_fast(void *arg)
{
	int i, n = *(int *)arg, st;
	pid_t pid;

	for (i = 0; i < n; i++) {
		if ((pid = fork()) == -1) {
			__atomic_add_fetch(&fork_failures, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (pid == 0)
			_exit(vigil_thread_count() == 1 ? 0 : 1);
		st = wait_child(pid);
		if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			__atomic_add_fetch(&fork_failures, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* The stress of seed 001: 50 threads, each forking in a loop. */
static void
t_fifty_forkers(void)
{
	struct vigil_thread *t[50];
	int i, per = scaled(40);

	for (i = 0; i < 50; i++)
		CHECK_OK(vigil_thread_create(&t[i], fork_fast, &per));
	for (i = 0; i < 50; i++)
		CHECK_OK(vigil_thread_join(t[i], NULL));
	CHECK_EQ(fork_failures, 0);
}

/* Seed 002: a plain pthread uses the API, then forks. */
static struct vigil_pool *fpool;
static int foreign_child_status = -1;

static void *
foreign_forker(void *arg)
{
	pid_t pid;
	int st;

	(void)arg;
	if (!pool_runs_job(fpool))
		return NULL;
	if ((pid = fork()) == -1)
		return NULL;
	if (pid == 0) {
		struct vigil_thread *me = vigil_thread_self();
		int ok = vigil_thread_is_main() &&
		    vigil_thread_count() == 1 && me != NULL &&
		    vigil_thread_alive(me) && pool_runs_job(fpool);

		vigil_pool_free(fpool, VIGIL_POOL_DRAIN);
		_exit(ok ? 0 : 1);
	}
	st = wait_child(pid);
	foreign_child_status = st;
	return NULL;
}

static void
t_foreign_forks(void)
{
	pthread_t pt;
	int st;

	CHECK((fpool = vigil_pool_new(2)) != NULL);
	CHECK_EQ(pthread_create(&pt, NULL, foreign_forker, NULL), 0);
	CHECK_EQ(pthread_join(pt, NULL), 0);
	st = foreign_child_status;
	CHECKF(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "child of a foreign thread failed (status %d)", st);
	vigil_pool_free(fpool, VIGIL_POOL_DRAIN);
}

static int fgate[2], fready[2];

static void *
foreign_idle(void *arg)
{
	char c;

	(void)arg;
	vigil_thread_self();
	if (write(fready[1], "r", 1) != 1 || read(fgate[0], &c, 1) != 1)
		return NULL;
	return NULL;
}

/* A foreign thread registered in the parent does not confuse the child. */
static void
t_foreign_in_parent(void)
{
	pthread_t pt;
	struct vigil_pool *p = vigil_pool_new(2);
	pid_t pid;
	char c;
	int i;

	CHECK_OK(pipe(fgate));
	CHECK_OK(pipe(fready));
	CHECK_EQ(pthread_create(&pt, NULL, foreign_idle, NULL), 0);
	CHECK_EQ(read(fready[0], &c, 1), 1);
	CHECK_EQ(vigil_thread_count(), 2);
	CHECK(pool_runs_job(p));
	for (i = 0; i < 50; i++) {
		if ((pid = fork()) == 0) {
			int ok = vigil_thread_count() == 1 &&
			    vigil_thread_is_main() && pool_runs_job(p);
			vigil_pool_free(p, VIGIL_POOL_DRAIN);
			ok = ok && vigil_thread_count() == 1;
			_exit(ok ? 0 : 1);
		}
		CHECK(pid > 0);
		CHECK(child_ok(pid));
	}
	CHECK_EQ(write(fgate[1], "x", 1), 1);
	CHECK_EQ(pthread_join(pt, NULL), 0);
	vigil_pool_free(p, VIGIL_POOL_DRAIN);
}

/*
 * A pool job forks. The child's only thread is that worker, now the main
 * thread: its own pool counts it as the one live worker (it is inside a
 * job, and goes back to serving the pool when the job returns), it cannot
 * wait for that pool, and any other pool starts workers on demand.
 */
static int job_child_status = -1;
static struct vigil_pool *jpool, *jpool2;

static void
forking_job(void *arg)
{
	pid_t pid;

	(void)arg;
	if ((pid = fork()) == 0) {
		int ok = vigil_thread_count() == 1 && vigil_thread_is_main() &&
		    vigil_pool_live_workers(jpool) == 1 &&
		    vigil_pool_wait(jpool) == -1 && errno == EDEADLK &&
		    vigil_pool_live_workers(jpool2) == 0 &&
		    pool_runs_job(jpool2) &&
		    vigil_pool_live_workers(jpool2) == 2;
		_exit(ok ? 0 : 1);
	}
	job_child_status = pid > 0 ? wait_child(pid) : -3;
}

static void
t_fork_from_job(void)
{
	int st;

	CHECK((jpool = vigil_pool_new(3)) != NULL);
	CHECK((jpool2 = vigil_pool_new(2)) != NULL);
	CHECK(pool_runs_job(jpool2));
	CHECK_OK(vigil_pool_submit(jpool, forking_job, NULL, NULL));
	CHECK_OK(vigil_pool_wait(jpool));
	st = job_child_status;
	CHECKF(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "child of a worker failed (status %d)", st);
	vigil_pool_free(jpool, VIGIL_POOL_DRAIN);
	vigil_pool_free(jpool2, VIGIL_POOL_DRAIN);
}

static int hold[2], counted, dropped_done;

static void
block_job(void *arg)
{
	char c;

	(void)arg;
	if (read(hold[0], &c, 1) != 1)
		return;
}

static void
count_job(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&counted, 1, __ATOMIC_RELAXED);
}

static void
block_done(void *arg)
{
	(void)arg;
	dropped_done++;
}

static void *
submit_one(void *arg)
{
	return (void *)(long)vigil_pool_submit(arg, count_job, NULL, NULL);
}

/*
 * The documented pool state in a child: no workers, queued jobs kept and
 * run on the next submission (workers started once, even with two threads
 * submitting at the same moment), running jobs dropped, undispatched
 * completions kept, and a notification descriptor of its own.
 */
static void
t_pool_in_child(void)
{
	struct vigil_pool *p = vigil_pool_new(2);
	pid_t pid;
	int i, st;

	CHECK_OK(pipe(hold));
	CHECK_OK(vigil_pool_submit(p, count_job, count_job, NULL));
	CHECK_OK(vigil_pool_wait(p));		/* one completion waiting */
	CHECK_OK(vigil_pool_submit(p, block_job, block_done, NULL));
	CHECK_OK(vigil_pool_submit(p, block_job, block_done, NULL));
	for (i = 0; i < 5; i++)
		CHECK_OK(vigil_pool_submit(p, count_job, NULL, NULL));
	CHECK(WAIT_FOR(vigil_pool_pending(p) == 5, 2000));
	if ((pid = fork()) == 0) {
		struct vigil_thread *a, *b;
		struct pollfd pfd = { vigil_pool_fd(p), POLLIN, 0 };

		counted = 0;
		if (vigil_pool_live_workers(p) != 0)
			_exit(2);
		if (vigil_pool_pending(p) != 5)
			_exit(3);
		/* The kept completion is announced on the child's own fd. */
		if (poll(&pfd, 1, 1000) != 1 || vigil_pool_dispatch(p) != 1)
			_exit(4);
		/* Two threads submit at once: workers start exactly once. */
		if (vigil_thread_create(&a, submit_one, p) != 0 ||
		    vigil_thread_create(&b, submit_one, p) != 0 ||
		    vigil_thread_join(a, NULL) != 0 ||
		    vigil_thread_join(b, NULL) != 0)
			_exit(5);
		if (vigil_pool_wait(p) != 0 || vigil_pool_live_workers(p) != 2)
			_exit(6);
		/* 5 kept + 2 new + the kept completion's done (count_job). */
		if (__atomic_load_n(&counted, __ATOMIC_RELAXED) != 8)
			_exit(7);
		/* The jobs running in the parent at fork time are dropped. */
		if (vigil_pool_dispatch(p) != 0 || dropped_done != 0)
			_exit(8);
		vigil_pool_free(p, VIGIL_POOL_DRAIN);
		_exit(0);
	}
	CHECK(pid > 0);
	st = wait_child(pid);
	CHECKF(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "pool state in the child is not as documented (status %d)", st);
	/* The parent is untouched: its completion is still there. */
	CHECK_EQ(write(hold[1], "xx", 2), 2);
	CHECK_OK(vigil_pool_wait(p));
	CHECK(WAIT_FOR(vigil_pool_dispatch(p) > 0 || dropped_done > 0, 2000));
	vigil_pool_free(p, VIGIL_POOL_DRAIN);
}

static struct vigil_mutex *held_lock;

static void *
hold_briefly(void *arg)
{
	(void)arg;
	vigil_mutex_lock(held_lock);
	if (write(fready[1], "r", 1) != 1)
		abort();
	tap_msleep(50);
	vigil_mutex_unlock(held_lock);
	return NULL;
}

/*
 * A lock another thread holds at the moment of fork() is waited for by
 * prepare and free in the child; a lock the forking thread holds is still
 * its own there (prepare skips it rather than deadlock on itself). fork()
 * waits for every libvigil lock to be free, as libc's own fork waits for
 * malloc's: libvigil(3) says not to hold one across a blocking wait.
 */
static void
t_held_locks(void)
{
	struct vigil_thread *t;
	struct vigil_mutex *mine = vigil_mutex_new(20);
	pid_t pid;
	char c;
	int i;

	held_lock = vigil_mutex_new(10);
	CHECK_OK(pipe(fready));
	for (i = 0; i < 20; i++) {
		CHECK_OK(vigil_mutex_lock(mine));
		CHECK_OK(vigil_thread_create(&t, hold_briefly, NULL));
		CHECK_EQ(read(fready[0], &c, 1), 1);
		if ((pid = fork()) == 0) {
			int ok = vigil_mutex_trylock(mine) == -1 &&
			    vigil_mutex_unlock(mine) == 0 &&
			    vigil_mutex_lock(held_lock) == 0 &&
			    vigil_mutex_lock(mine) == 0 &&
			    vigil_mutex_unlock(mine) == 0 &&
			    vigil_mutex_unlock(held_lock) == 0;
			_exit(ok ? 0 : 1);
		}
		CHECK(pid > 0);
		CHECK(child_ok(pid));
		CHECK_OK(vigil_mutex_unlock(mine));
		CHECK_OK(vigil_thread_join(t, NULL));
	}
}

static const struct tap_case cases[] = {
	TAP_CASE(t_start_then_fork, 240),
	TAP_CASE(t_locks_across_fork, 240),
	TAP_CASE(t_fifty_forkers, 120),
	TAP_CASE(t_foreign_forks, 30),
	TAP_CASE(t_foreign_in_parent, 30),
	TAP_CASE(t_fork_from_job, 30),
	TAP_CASE(t_pool_in_child, 30),
	TAP_CASE(t_held_locks, 30),
};

/*
 * ThreadSanitizer cannot follow threads started in the child of a
 * multi-threaded fork ("dup thread with used id", die_after_fork), which is
 * what every case here does; the default and ASan runs cover them.
 */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif

#ifdef UNDER_TSAN
static void
t_tsan_skip(void)
{
	tap_skip("ThreadSanitizer does not support threads in the child of a "
	    "multi-threaded fork; covered by the default and ASan runs");
}
#endif

int
main(void)
{
#ifdef UNDER_TSAN
	static const struct tap_case skip[] = { TAP_CASE(t_tsan_skip, 5) };

	(void)cases;
	return tap_run(skip, 1);
#else
	return tap_run(cases, sizeof cases / sizeof cases[0]);
#endif
}
