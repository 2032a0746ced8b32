/*
 * The thread registry: the start handshake, foreign threads, and the
 * registry's repair in a child after fork().
 *
 * Thread-safe; fork-safe (see lock.c). The registry lock is a library lock,
 * so prepare holds it across fork(): a fork sees each thread either fully
 * registered or not at all. vigil_thread_create() also holds the fork gate
 * shared until the new thread has completed its handshake, so no fork can
 * fall between pthread_create() and the registration (seed 000, CPython's
 * "Night of the Living Thread").
 */
#include "config.h"

#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum thread_state {
	T_STARTING,	/* created, handshake not done */
	T_RUNNING,	/* registered and running */
	T_FAILED,	/* start-up failed; the creator reports it */
	T_EXITED,	/* returned; waiting to be joined */
	T_DEAD		/* did not survive a fork into this process */
};

struct vigil_thread {
	pthread_t		 tid;
	enum thread_state	 state;
	int			 foreign;
	int			 has_handle;	/* not yet joined or detached */
	int			 live;		/* the thread has not ended */
	int			 err;	/* start-up failure */
	void			*(*fn)(void *);
	void			*arg;
	int			 listed;
	TAILQ_ENTRY(vigil_thread) entry;
};

TAILQ_HEAD(thread_list, vigil_thread);

static struct vigil_mutex	*reg_mu;
static struct vigil_cond	*reg_cv;
static struct thread_list	 registry = TAILQ_HEAD_INITIALIZER(registry);
static struct thread_list	 graveyard = TAILQ_HEAD_INITIALIZER(graveyard);
static pthread_key_t		 foreign_key;
static pthread_t		 main_tid;
static unsigned int		 fork_gen;	/* atomic */
static int			 fail_next_start;	/* test hook */

static __thread struct vigil_thread *self_rec;

static void
unlist(struct vigil_thread *t)
{
	if (t->listed) {
		TAILQ_REMOVE(&registry, t, entry);
		t->listed = 0;
	}
}

/* Free records orphaned by a fork. Called with reg_mu held. */
static void
sweep_graveyard(void)
{
	struct vigil_thread *t;

	while ((t = TAILQ_FIRST(&graveyard)) != NULL) {
		TAILQ_REMOVE(&graveyard, t, entry);
		free(t);
	}
}

/* Free the record once neither the handle nor the thread needs it. */
static void
maybe_free(struct vigil_thread *t)
{
	if (!t->has_handle && !t->live) {
		unlist(t);
		free(t);
	}
}

/* TLS destructor of a foreign thread's record. */
static void
foreign_exit(void *p)
{
	struct vigil_thread *t = p;

	mutex_lock_(reg_mu);
	unlist(t);
	free(t);
	mutex_unlock_(reg_mu);
	self_rec = NULL;
}

void
thread_init_(void)
{
	/* Nothing can fail here in practice; if it does, abort loudly. */
	if ((reg_mu = mutex_new_(RANK_REGISTRY)) == NULL ||
	    (reg_cv = cond_new_()) == NULL ||
	    pthread_key_create(&foreign_key, foreign_exit) != 0)
		abort();
	main_tid = pthread_self();
}

void
vigil_debug_fail_next_start_(int err)
{
	__atomic_store_n(&fail_next_start, err, __ATOMIC_RELAXED);
}

/* The exit half of the thread's life; also runs on pthread_exit(). */
static void
thread_exit_cb(void *p)
{
	struct vigil_thread *t = p;

	mutex_lock_(reg_mu);
	if (t->state == T_RUNNING)
		t->state = T_EXITED;
	t->live = 0;
	maybe_free(t);
	mutex_unlock_(reg_mu);
	self_rec = NULL;
}

/*
 * The new thread: register, complete the handshake (also on failure), then
 * run the user's function. Registration happens before "started" is seen.
 */
static void *
trampoline(void *p)
{
	struct vigil_thread *t = p;
	void *ret;
	int err;

	err = __atomic_exchange_n(&fail_next_start, 0, __ATOMIC_RELAXED);
	mutex_lock_(reg_mu);
	if (err != 0) {
		t->err = err;
		t->state = T_FAILED;
		unlist(t);
		vigil_cond_broadcast(reg_cv);
		mutex_unlock_(reg_mu);
		return NULL;
	}
	self_rec = t;
	t->state = T_RUNNING;
	vigil_cond_broadcast(reg_cv);
	mutex_unlock_(reg_mu);

	pthread_cleanup_push(thread_exit_cb, t);
	ret = t->fn(t->arg);
	pthread_cleanup_pop(1);
	/* t may be gone now (detached); pthread_join() gets ret. */
	return ret;
}

/*
 * pthread_create with every asynchronous signal blocked in the new thread,
 * set by the creator (never by the new thread, which could take a signal
 * before it got to it).
 */
static int
create_blocked(pthread_t *tid, struct vigil_thread *t)
{
	pthread_attr_t attr;
	sigset_t set, old;
	int rc;

	vigil_sigset_async(&set);
	pthread_attr_init(&attr);
#ifdef HAVE_PTHREAD_ATTR_SETSIGMASK_NP
	if ((rc = pthread_attr_setsigmask_np(&attr, &set)) == 0) {
		rc = pthread_create(tid, &attr, trampoline, t);
		pthread_attr_destroy(&attr);
		return rc;
	}
#endif
	pthread_sigmask(SIG_BLOCK, &set, &old);
	rc = pthread_create(tid, &attr, trampoline, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return rc;
}

int
vigil_thread_create(struct vigil_thread **tp, void *(*fn)(void *), void *arg)
{
	struct vigil_thread *t;
	pthread_t tid;
	int rc;

	vigil_init_();
	if ((t = calloc(1, sizeof *t)) == NULL)
		return -1;
	t->fn = fn;
	t->arg = arg;
	t->has_handle = 1;
	t->live = 1;
	t->state = T_STARTING;

	gate_enter_();
	mutex_lock_(reg_mu);
	sweep_graveyard();
	TAILQ_INSERT_TAIL(&registry, t, entry);
	t->listed = 1;
	mutex_unlock_(reg_mu);

	if ((rc = create_blocked(&tid, t)) != 0) {
		mutex_lock_(reg_mu);
		unlist(t);
		mutex_unlock_(reg_mu);
		gate_leave_();
		free(t);
		errno = rc;
		return -1;
	}
	mutex_lock_(reg_mu);
	t->tid = tid;
	while (t->state == T_STARTING)
		vigil_cond_wait(reg_cv, reg_mu);
	rc = t->state == T_FAILED ? t->err : 0;
	mutex_unlock_(reg_mu);
	gate_leave_();
	if (rc != 0) {
		pthread_join(tid, NULL);
		free(t);
		errno = rc;
		return -1;
	}
	*tp = t;
	return 0;
}

int
vigil_thread_join(struct vigil_thread *t, void **retp)
{
	void *ret = NULL;
	int dead;

	if (retp != NULL)
		*retp = NULL;
	if (t == self_rec) {
		errno = EDEADLK;
		return -1;
	}
	mutex_lock_(reg_mu);
	dead = t->state == T_DEAD;
	mutex_unlock_(reg_mu);
	/* pthread_join gives the value of a return or of pthread_exit(). */
	if (!dead)
		pthread_join(t->tid, &ret);
	mutex_lock_(reg_mu);
	if (!dead && retp != NULL)
		*retp = ret;
	t->has_handle = 0;
	maybe_free(t);
	mutex_unlock_(reg_mu);
	if (dead) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

int
vigil_thread_detach(struct vigil_thread *t)
{
	mutex_lock_(reg_mu);
	if (t->state != T_DEAD)
		pthread_detach(t->tid);
	t->has_handle = 0;
	maybe_free(t);
	mutex_unlock_(reg_mu);
	return 0;
}

/* Register the calling foreign thread; warn if it can take signals. */
static struct vigil_thread *
register_foreign(void)
{
	struct vigil_thread *t;
	sigset_t cur, async;
	int sig;

	if ((t = calloc(1, sizeof *t)) == NULL)
		return NULL;
	t->foreign = 1;
	t->state = T_RUNNING;
	t->live = 1;
	t->tid = pthread_self();
	if (pthread_setspecific(foreign_key, t) != 0) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	mutex_lock_(reg_mu);
	sweep_graveyard();
	TAILQ_INSERT_TAIL(&registry, t, entry);
	t->listed = 1;
	mutex_unlock_(reg_mu);
	self_rec = t;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	vigil_sigset_async(&async);
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&async, sig) == 1 &&
		    sigismember(&cur, sig) == 0 && sig != SIGKILL &&
		    sig != SIGSTOP) {
			vigil_log_(VIGIL_LOG_WARN, "foreign thread registered "
			    "with signal %d unblocked: it may take "
			    "process-directed signals", sig);
			break;
		}
	return t;
}

struct vigil_thread *
vigil_thread_self(void)
{
	vigil_init_();
	if (self_rec != NULL)
		return self_rec;
	return register_foreign();
}

int
vigil_thread_alive(const struct vigil_thread *t)
{
	int alive;

	mutex_lock_(reg_mu);
	alive = t->state == T_RUNNING;
	mutex_unlock_(reg_mu);
	return alive;
}

int
vigil_thread_is_main(void)
{
	vigil_init_();
	return pthread_equal(pthread_self(), main_tid) != 0;
}

int
vigil_thread_is_foreign(const struct vigil_thread *t)
{
	return t->foreign;
}

/* Live threads known to the registry, the main thread included. */
int
vigil_thread_count(void)
{
	struct vigil_thread *t;
	int n = 0, main_seen = 0;

	vigil_init_();
	mutex_lock_(reg_mu);
	TAILQ_FOREACH(t, &registry, entry) {
		if (t->state != T_RUNNING)
			continue;
		n++;
		if (pthread_equal(t->tid, main_tid))
			main_seen = 1;
	}
	mutex_unlock_(reg_mu);
	return n + !main_seen;
}

unsigned int
vigil_fork_generation(void)
{
	return __atomic_load_n(&fork_gen, __ATOMIC_ACQUIRE);
}

/*
 * In the child: only the forking thread survives. Every other record is
 * dead. A record with a handle stays for the handle's owner (join says
 * ESRCH and frees it); the others (foreign, detached) go to the graveyard,
 * freed on the next registry call rather than in this handler. The forking
 * thread becomes the main thread, foreign or not.
 */
void
thread_atfork_child_(void)
{
	struct vigil_thread *t, *tt;

	__atomic_add_fetch(&fork_gen, 1, __ATOMIC_RELEASE);
	TAILQ_FOREACH_SAFE(t, &registry, entry, tt) {
		if (t == self_rec)
			continue;
		t->state = T_DEAD;
		t->live = 0;
		if (t->has_handle && !t->foreign)
			continue;
		unlist(t);
		TAILQ_INSERT_TAIL(&graveyard, t, entry);
	}
	main_tid = pthread_self();
}
