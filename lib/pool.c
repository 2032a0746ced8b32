/*
 * The worker pool. Jobs run on libvigil threads (every asynchronous signal
 * blocked); finished jobs' done callbacks are queued and announced on a
 * descriptor the main loop watches, and run by vigil_pool_dispatch() on the
 * caller's thread, so the loop never blocks on a worker (memcached's
 * pattern).
 *
 * Thread-safe; fork-safe: after fork() a child's pools have no workers,
 * keep their queued jobs and undispatched completions, drop the jobs that
 * were running on the parent's workers, get a new notification descriptor
 * at the same number, and start workers again on the next submission. The
 * restart happens once: the first submitter sets `starting' under the pool
 * lock, and the others only queue. (If a worker forks from its job, that
 * worker is the child's one thread and counts as its pool's one live
 * worker, still running the job.)
 */
#include "config.h"

#include <sys/queue.h>
#ifdef HAVE_SYS_EVENTFD_H
#include <sys/eventfd.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

#define POOL_MAX_WORKERS	256

struct job {
	vigil_job_fn		*fn;
	vigil_job_fn		*done;
	void			*arg;
	STAILQ_ENTRY(job)	 entry;
};
STAILQ_HEAD(job_list, job);

struct vigil_pool {
	struct vigil_mutex	*mu;
	struct vigil_cond	*work_cv;	/* a job is queued, or stop */
	struct vigil_cond	*idle_cv;	/* queue empty and none running */
	struct vigil_cond	*start_cv;	/* a start of workers ended */
	struct job_list		 queue;
	struct job_list		 done;
	unsigned int		 nworkers;
	struct vigil_thread	**workers;
	int			 live;		/* workers alive */
	int			 starting;	/* a submitter is starting them */
	int			 running;	/* jobs being run */
	int			 npending;
	int			 stop;		/* 1 drain, 2 discard */
	int			 rfd, wfd;	/* notification; equal if eventfd */
	int			 notified;
	LIST_ENTRY(vigil_pool)	 entry;
};

static struct vigil_mutex	*pools_mu;
static pthread_once_t		 pools_once = PTHREAD_ONCE_INIT;
static LIST_HEAD(, vigil_pool)	 pools = LIST_HEAD_INITIALIZER(pools);
static __thread struct vigil_pool *current_pool;	/* worker's pool */

static void
pools_init(void)
{
	if ((pools_mu = mutex_new_(RANK_POOLS)) == NULL)
		abort();
}

/* Make the notification descriptor(s): eventfd where there is one. */
static int
notify_open(int *rfd, int *wfd)
{
	int fds[2];

#ifdef HAVE_SYS_EVENTFD_H
	if ((fds[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		return -1;
	*rfd = *wfd = fds[0];
	return 0;
#else
	if (pipe(fds) == -1)
		return -1;
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	*rfd = fds[0];
	*wfd = fds[1];
	return 0;
#endif
}

static void
notify_post(struct vigil_pool *p)
{
	uint64_t one = 1;

	if (p->notified || p->wfd == -1)
		return;
	p->notified = 1;
	if (p->rfd == p->wfd)
		(void)write(p->wfd, &one, sizeof one);
	else
		(void)write(p->wfd, "", 1);
}

static void
notify_clear(struct vigil_pool *p)
{
	char buf[64];

	p->notified = 0;
	while (read(p->rfd, buf, sizeof buf) > 0)
		;
}

struct vigil_pool *
vigil_pool_new(unsigned int nworkers)
{
	struct vigil_pool *p;

	vigil_init_();
	pthread_once(&pools_once, pools_init);
	if (nworkers == 0 || nworkers > POOL_MAX_WORKERS) {
		errno = EINVAL;
		return NULL;
	}
	if ((p = calloc(1, sizeof *p)) == NULL)
		return NULL;
	p->nworkers = nworkers;
	p->rfd = p->wfd = -1;
	STAILQ_INIT(&p->queue);
	STAILQ_INIT(&p->done);
	if ((p->workers = calloc(nworkers, sizeof *p->workers)) == NULL ||
	    (p->mu = mutex_new_(RANK_POOL)) == NULL ||
	    (p->work_cv = cond_new_()) == NULL ||
	    (p->idle_cv = cond_new_()) == NULL ||
	    (p->start_cv = cond_new_()) == NULL ||
	    notify_open(&p->rfd, &p->wfd) == -1) {
		int saved = errno;

		vigil_cond_free(p->start_cv);
		vigil_cond_free(p->idle_cv);
		vigil_cond_free(p->work_cv);
		vigil_mutex_free(p->mu);
		free(p->workers);
		free(p);
		errno = saved;
		return NULL;
	}
	mutex_lock_(pools_mu);
	LIST_INSERT_HEAD(&pools, p, entry);
	mutex_unlock_(pools_mu);
	return p;
}

/* Take the next job, or NULL when the worker should end. Locked. */
static struct job *
next_job(struct vigil_pool *p)
{
	struct job *j;

	for (;;) {
		if (p->stop == 2)
			return NULL;
		if ((j = STAILQ_FIRST(&p->queue)) != NULL) {
			STAILQ_REMOVE_HEAD(&p->queue, entry);
			p->npending--;
			return j;
		}
		if (p->stop)
			return NULL;
		vigil_cond_wait(p->work_cv, p->mu);
	}
}

static void *
worker_main(void *arg)
{
	struct vigil_pool *p = arg;
	struct job *j;

	current_pool = p;
	mutex_lock_(p->mu);
	while ((j = next_job(p)) != NULL) {
		p->running++;
		mutex_unlock_(p->mu);
		j->fn(j->arg);
		mutex_lock_(p->mu);
		p->running--;
		if (j->done != NULL) {
			STAILQ_INSERT_TAIL(&p->done, j, entry);
			notify_post(p);
		} else
			free(j);
		if (p->running == 0 && STAILQ_EMPTY(&p->queue))
			vigil_cond_broadcast(p->idle_cv);
	}
	p->live--;
	vigil_cond_broadcast(p->idle_cv);
	mutex_unlock_(p->mu);
	return NULL;
}

/*
 * Start the missing workers if no one else is doing it. Called with p->mu
 * held and the gate entered; drops the lock while creating threads (thread
 * creation takes the registry lock and waits for the handshake). Returns
 * the number of live workers afterwards.
 */
static int
start_workers(struct vigil_pool *p)
{
	unsigned int i;
	struct vigil_thread *t;

	while (p->starting)
		vigil_cond_wait(p->start_cv, p->mu);
	if (p->live > 0 || p->stop)
		return p->live;
	p->starting = 1;
	mutex_unlock_(p->mu);
	for (i = 0; i < p->nworkers; i++) {
		/* Handles of workers that did not survive a fork. */
		if (p->workers[i] != NULL && !vigil_thread_alive(p->workers[i])) {
			vigil_thread_join(p->workers[i], NULL);
			p->workers[i] = NULL;
		}
	}
	for (i = 0; i < p->nworkers; i++) {
		if (p->workers[i] != NULL)
			continue;
		if (vigil_thread_create(&t, worker_main, p) == -1)
			break;
		p->workers[i] = t;
		mutex_lock_(p->mu);
		p->live++;
		mutex_unlock_(p->mu);
	}
	mutex_lock_(p->mu);
	p->starting = 0;
	vigil_cond_broadcast(p->start_cv);
	return p->live;
}

int
vigil_pool_submit(struct vigil_pool *p, vigil_job_fn *fn, vigil_job_fn *done,
    void *arg)
{
	struct job *j;

	if ((j = malloc(sizeof *j)) == NULL)
		return -1;
	j->fn = fn;
	j->done = done;
	j->arg = arg;
	gate_enter_();
	mutex_lock_(p->mu);
	if (p->stop) {
		mutex_unlock_(p->mu);
		gate_leave_();
		free(j);
		errno = ESHUTDOWN;
		return -1;
	}
	if (p->live == 0 && start_workers(p) == 0) {
		mutex_unlock_(p->mu);
		gate_leave_();
		free(j);
		errno = EAGAIN;
		return -1;
	}
	STAILQ_INSERT_TAIL(&p->queue, j, entry);
	p->npending++;
	vigil_cond_signal(p->work_cv);
	mutex_unlock_(p->mu);
	gate_leave_();
	return 0;
}

int
vigil_pool_wait(struct vigil_pool *p)
{
	if (current_pool == p) {
		errno = EDEADLK;
		return -1;
	}
	gate_enter_();
	mutex_lock_(p->mu);
	if (p->live == 0 && !STAILQ_EMPTY(&p->queue) &&
	    start_workers(p) == 0) {
		mutex_unlock_(p->mu);
		gate_leave_();
		errno = EAGAIN;
		return -1;
	}
	mutex_unlock_(p->mu);
	gate_leave_();
	/*
	 * Wait outside the gate: a job may fork, and prepare must not wait
	 * for us while we wait for that job.
	 */
	mutex_lock_(p->mu);
	while (!STAILQ_EMPTY(&p->queue) || p->running > 0) {
		if (p->live == 0)
			break;	/* forked from under us; nothing will run */
		vigil_cond_wait(p->idle_cv, p->mu);
	}
	mutex_unlock_(p->mu);
	return 0;
}

int
vigil_pool_fd(const struct vigil_pool *p)
{
	return p->rfd;
}

int
vigil_pool_dispatch(struct vigil_pool *p)
{
	struct job_list done;
	struct job *j;
	int n = 0;

	STAILQ_INIT(&done);
	mutex_lock_(p->mu);
	notify_clear(p);
	STAILQ_CONCAT(&done, &p->done);
	mutex_unlock_(p->mu);
	while ((j = STAILQ_FIRST(&done)) != NULL) {
		STAILQ_REMOVE_HEAD(&done, entry);
		j->done(j->arg);
		free(j);
		n++;
	}
	return n;
}

int
vigil_pool_live_workers(const struct vigil_pool *p)
{
	struct vigil_pool *q = (struct vigil_pool *)(uintptr_t)p;
	int n;

	mutex_lock_(q->mu);
	n = q->live;
	mutex_unlock_(q->mu);
	return n;
}

int
vigil_pool_pending(const struct vigil_pool *p)
{
	struct vigil_pool *q = (struct vigil_pool *)(uintptr_t)p;
	int n;

	mutex_lock_(q->mu);
	n = q->npending;
	mutex_unlock_(q->mu);
	return n;
}

static void
free_jobs(struct job_list *l)
{
	struct job *j;

	while ((j = STAILQ_FIRST(l)) != NULL) {
		STAILQ_REMOVE_HEAD(l, entry);
		free(j);
	}
}

void
vigil_pool_free(struct vigil_pool *p, int how)
{
	struct job *j;
	unsigned int i;

	if (p == NULL)
		return;
	if (current_pool == p)
		abort();	/* freeing the pool from its own job */
	mutex_lock_(pools_mu);
	LIST_REMOVE(p, entry);
	mutex_unlock_(pools_mu);

	mutex_lock_(p->mu);
	while (p->starting)
		vigil_cond_wait(p->start_cv, p->mu);
	p->stop = how == VIGIL_POOL_DISCARD ? 2 : 1;
	if (how == VIGIL_POOL_DISCARD) {
		/* Dropped at once: no worker can take them any more. */
		free_jobs(&p->queue);
		p->npending = 0;
	}
	vigil_cond_broadcast(p->work_cv);
	mutex_unlock_(p->mu);
	for (i = 0; i < p->nworkers; i++)
		if (p->workers[i] != NULL)
			vigil_thread_join(p->workers[i], NULL);
	/* Draining with no worker alive (a child that never restarted). */
	while (how != VIGIL_POOL_DISCARD &&
	    (j = STAILQ_FIRST(&p->queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&p->queue, entry);
		j->fn(j->arg);
		free(j);
	}
	free_jobs(&p->queue);
	free_jobs(&p->done);
	if (p->wfd != p->rfd)
		close(p->wfd);
	close(p->rfd);
	vigil_cond_free(p->start_cv);
	vigil_cond_free(p->idle_cv);
	vigil_cond_free(p->work_cv);
	vigil_mutex_free(p->mu);
	free(p->workers);
	free(p);
}

/* Put a fresh descriptor at the number of an inherited one. */
static void
renew_fd(int old, int fresh)
{
	if (fresh == old)
		return;
#ifdef HAVE_DUP3
	dup3(fresh, old, O_CLOEXEC);
#else
	dup2(fresh, old);
	fcntl(old, F_SETFD, FD_CLOEXEC);
#endif
	close(fresh);
}

/*
 * In the child: no workers; the running jobs were the parent's. The
 * notification descriptor is shared with the parent, so a new one takes
 * its number. Only system calls here.
 */
void
pool_atfork_child_(void)
{
	struct vigil_pool *p;
	int rfd, wfd;

	LIST_FOREACH(p, &pools, entry) {
		/*
		 * A worker that forked from its job is that pool's one live
		 * worker in the child, busy with that job.
		 */
		p->live = p == current_pool;
		p->running = p == current_pool;
		p->starting = 0;
		p->notified = 0;
		if (notify_open(&rfd, &wfd) == -1) {
			vigil_log_(VIGIL_LOG_ERR, "pool: no notification "
			    "descriptor in the child after fork");
			continue;
		}
		renew_fd(p->rfd, rfd);
		if (p->wfd != p->rfd)
			renew_fd(p->wfd, wfd);
		if (!STAILQ_EMPTY(&p->done))
			notify_post(p);
	}
}
