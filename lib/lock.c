/*
 * Ranked locks, condition variables, the fork gate and the atfork handlers.
 *
 * Thread-safe; fork-safe by construction:
 *
 * - Every lock has a rank and a thread may only take a lock of a rank
 *   strictly greater than all it holds (a per-thread witness checks it).
 *   So "take every lock in rank order", which is what the prepare handler
 *   does, can never deadlock against a thread that follows the rule.
 * - The fork gate is a rwlock ranked between the user's locks and the
 *   library's own. Multi-step library operations (creating a thread and
 *   waiting for its handshake, starting a pool's workers) hold it shared, so
 *   a fork() happens either before or after such an operation, never in the
 *   middle of one.
 * - The prepare handler takes user locks, the gate (exclusive), then the
 *   library's locks, all in rank order; the parent handler releases them;
 *   the child handler re-initialises every lock and condition variable (it
 *   never unlocks: the owner may not exist in the child), then lets the
 *   thread registry and the pools repair themselves.
 * - A lock the forking thread itself holds is skipped by prepare and stays
 *   held by that thread in the child (re-initialised, then re-taken).
 */
#include "config.h"

#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/*
 * ThreadSanitizer keeps its own record of each lock, copied into the child
 * with the rest of memory; re-initialising a lock there does not reset
 * it. Under TSan only, say the old lock is gone before making a new one.
 */
#if defined(__SANITIZE_THREAD__)
#define VIGIL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VIGIL_TSAN 1
#endif
#endif
#ifdef VIGIL_TSAN
#include <sanitizer/tsan_interface.h>
#define TSAN_FORGET(addr)	__tsan_mutex_destroy((void *)(addr), 0)
#else
#define TSAN_FORGET(addr)	do { } while (0)
#endif

#define MAXHELD	32

struct vigil_mutex {
	pthread_mutex_t		 mu;
	unsigned int		 rank;
	const void		*owner;		/* atomic: owner's tag or NULL */
	int			 taken;		/* by the prepare handler */
	int			 dead;		/* freed while a fork ran */
	TAILQ_ENTRY(vigil_mutex) entry;
};

struct vigil_cond {
	pthread_cond_t		 cv;
	int			 dead;
	TAILQ_ENTRY(vigil_cond)	 entry;
};

TAILQ_HEAD(mutex_list, vigil_mutex);
TAILQ_HEAD(cond_list, vigil_cond);

/*
 * list_mu protects the lists; it is never held while waiting for a ranked
 * lock, so creating or freeing a lock while holding others cannot deadlock
 * with prepare. fork_mu serialises concurrent forks' prepare handlers.
 */
static pthread_mutex_t	 list_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t	 fork_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mutex_list mutexes = TAILQ_HEAD_INITIALIZER(mutexes);
static struct cond_list	 conds = TAILQ_HEAD_INITIALIZER(conds);
static unsigned long	 list_gen;	/* bumped when a mutex is added */
static int		 forking;	/* frees are deferred while set */
static struct vigil_mutex **snap;	/* prepare's copy of the list */
static size_t		 snap_cap, nmutexes;
static pthread_condattr_t cond_attr;

static pthread_rwlock_t	 gate = PTHREAD_RWLOCK_INITIALIZER;
static int		 gate_taken;

/* Per-thread witness: ranks held, in increasing order, and the locks. */
static __thread unsigned int	 held_rank[MAXHELD];
static __thread const void	*held_lock[MAXHELD];
static __thread int		 nheld;
static __thread int		 gate_depth;
static __thread char		 owner_tag;	/* its address names the thread */

/* Can the calling thread take a lock of this rank now? */
static int
witness_check(unsigned int rank)
{
	if (nheld == MAXHELD)
		return ENOLCK;
	if (nheld > 0 && held_rank[nheld - 1] >= rank)
		return EDEADLK;
	return 0;
}

static void
witness_push(unsigned int rank, const void *lock)
{
	int i = nheld;

	/* Kept sorted; a cond wait may re-add a lock below the top. */
	while (i > 0 && held_rank[i - 1] > rank) {
		held_rank[i] = held_rank[i - 1];
		held_lock[i] = held_lock[i - 1];
		i--;
	}
	held_rank[i] = rank;
	held_lock[i] = lock;
	nheld++;
}

static void
witness_pop(const void *lock)
{
	int i;

	for (i = nheld - 1; i >= 0; i--)
		if (held_lock[i] == lock)
			break;
	if (i < 0)
		return;
	for (; i < nheld - 1; i++) {
		held_rank[i] = held_rank[i + 1];
		held_lock[i] = held_lock[i + 1];
	}
	nheld--;
}

void
gate_enter_(void)
{
	if (gate_depth++ > 0)
		return;
	if (witness_check(RANK_GATE) != 0)
		abort();	/* a library bug: the gate comes first */
	pthread_rwlock_rdlock(&gate);
	witness_push(RANK_GATE, &gate);
}

void
gate_leave_(void)
{
	if (--gate_depth > 0)
		return;
	witness_pop(&gate);
	pthread_rwlock_unlock(&gate);
}

/* Free locks whose free was deferred by a fork. Called with list_mu held. */
static void
sweep_dead(void)
{
	struct vigil_mutex *m, *mt;
	struct vigil_cond *c, *ct;

	TAILQ_FOREACH_SAFE(m, &mutexes, entry, mt) {
		if (!m->dead)
			continue;
		TAILQ_REMOVE(&mutexes, m, entry);
		nmutexes--;
		pthread_mutex_destroy(&m->mu);
		free(m);
	}
	TAILQ_FOREACH_SAFE(c, &conds, entry, ct) {
		if (!c->dead)
			continue;
		TAILQ_REMOVE(&conds, c, entry);
		pthread_cond_destroy(&c->cv);
		free(c);
	}
}

struct vigil_mutex *
mutex_new_(unsigned int rank)
{
	struct vigil_mutex *m, *at;
	struct vigil_mutex **ns;

	if ((m = calloc(1, sizeof *m)) == NULL)
		return NULL;
	pthread_mutex_init(&m->mu, NULL);
	m->rank = rank;
	pthread_mutex_lock(&list_mu);
	if (nmutexes + 1 > snap_cap) {
		ns = realloc(snap, (snap_cap + 64) * sizeof *snap);
		if (ns == NULL) {
			pthread_mutex_unlock(&list_mu);
			free(m);
			return NULL;
		}
		snap = ns;
		snap_cap += 64;
	}
	/* Sorted by rank; equal ranks in creation order. */
	TAILQ_FOREACH_REVERSE(at, &mutexes, mutex_list, entry)
		if (at->rank <= rank)
			break;
	if (at == NULL)
		TAILQ_INSERT_HEAD(&mutexes, m, entry);
	else
		TAILQ_INSERT_AFTER(&mutexes, at, m, entry);
	nmutexes++;
	list_gen++;
	pthread_mutex_unlock(&list_mu);
	return m;
}

struct vigil_mutex *
vigil_mutex_new(unsigned int rank)
{
	vigil_init_();
	if (rank == 0 || rank > VIGIL_RANK_USER_MAX) {
		errno = EINVAL;
		return NULL;
	}
	return mutex_new_(rank);
}

void
vigil_mutex_free(struct vigil_mutex *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&list_mu);
	m->dead = 1;
	if (!forking)
		sweep_dead();
	pthread_mutex_unlock(&list_mu);
}

int
vigil_mutex_lock(struct vigil_mutex *m)
{
	int rc;

	if ((rc = witness_check(m->rank)) != 0) {
		errno = rc;
		return -1;
	}
	pthread_mutex_lock(&m->mu);
	__atomic_store_n(&m->owner, &owner_tag, __ATOMIC_RELEASE);
	witness_push(m->rank, m);
	return 0;
}

int
vigil_mutex_trylock(struct vigil_mutex *m)
{
	int rc;

	if ((rc = witness_check(m->rank)) != 0) {
		errno = rc;
		return -1;
	}
	if (pthread_mutex_trylock(&m->mu) != 0) {
		errno = EBUSY;
		return -1;
	}
	__atomic_store_n(&m->owner, &owner_tag, __ATOMIC_RELEASE);
	witness_push(m->rank, m);
	return 0;
}

int
vigil_mutex_unlock(struct vigil_mutex *m)
{
	if (__atomic_load_n(&m->owner, __ATOMIC_ACQUIRE) != &owner_tag) {
		errno = EPERM;
		return -1;
	}
	witness_pop(m);
	__atomic_store_n(&m->owner, NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&m->mu);
	return 0;
}

/* Internal locks: a rank error is a library bug, so it aborts. */
void
mutex_lock_(struct vigil_mutex *m)
{
	if (vigil_mutex_lock(m) == -1)
		abort();
}

void
mutex_unlock_(struct vigil_mutex *m)
{
	if (vigil_mutex_unlock(m) == -1)
		abort();
}

struct vigil_cond *
vigil_cond_new(void)
{
	vigil_init_();
	return cond_new_();
}

struct vigil_cond *
cond_new_(void)
{
	struct vigil_cond *c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	pthread_cond_init(&c->cv, &cond_attr);
	pthread_mutex_lock(&list_mu);
	TAILQ_INSERT_TAIL(&conds, c, entry);
	pthread_mutex_unlock(&list_mu);
	return c;
}

void
vigil_cond_free(struct vigil_cond *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&list_mu);
	c->dead = 1;
	if (!forking)
		sweep_dead();
	pthread_mutex_unlock(&list_mu);
}

/* Wait with m held; abstime NULL waits for ever. */
static int
cond_wait(struct vigil_cond *c, struct vigil_mutex *m,
    const struct timespec *abstime)
{
	int rc;

	if (__atomic_load_n(&m->owner, __ATOMIC_ACQUIRE) != &owner_tag) {
		errno = EPERM;
		return -1;
	}
	witness_pop(m);
	__atomic_store_n(&m->owner, NULL, __ATOMIC_RELEASE);
	if (abstime == NULL)
		rc = pthread_cond_wait(&c->cv, &m->mu);
	else
		rc = pthread_cond_timedwait(&c->cv, &m->mu, abstime);
	__atomic_store_n(&m->owner, &owner_tag, __ATOMIC_RELEASE);
	witness_push(m->rank, m);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

int
vigil_cond_wait(struct vigil_cond *c, struct vigil_mutex *m)
{
	return cond_wait(c, m, NULL);
}

int
vigil_cond_timedwait(struct vigil_cond *c, struct vigil_mutex *m,
    long timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return cond_wait(c, m, &ts);
}

int
vigil_cond_signal(struct vigil_cond *c)
{
	pthread_cond_signal(&c->cv);
	return 0;
}

int
vigil_cond_broadcast(struct vigil_cond *c)
{
	pthread_cond_broadcast(&c->cv);
	return 0;
}

/* Release what prepare took, in reverse order. */
static void
release_taken(void)
{
	struct vigil_mutex *m;

	TAILQ_FOREACH_REVERSE(m, &mutexes, mutex_list, entry) {
		if (m->taken) {
			m->taken = 0;
			pthread_mutex_unlock(&m->mu);
		}
	}
	if (gate_taken) {
		gate_taken = 0;
		pthread_rwlock_unlock(&gate);
	}
}

/* Take m for prepare unless the forking thread already owns it. */
static void
prepare_take(struct vigil_mutex *m)
{
	if (m->dead || m->taken ||
	    __atomic_load_n(&m->owner, __ATOMIC_ACQUIRE) == &owner_tag)
		return;
	pthread_mutex_lock(&m->mu);
	m->taken = 1;
}

static void
prepare_gate(void)
{
	if (gate_taken || gate_depth > 0)
		return;
	pthread_rwlock_wrlock(&gate);
	gate_taken = 1;
}

/*
 * Take every lock in rank order. The list is copied under list_mu and the
 * locks taken without it, so a thread that creates or frees a lock while
 * holding another cannot deadlock against us; frees are deferred meanwhile.
 * Locks created after the copy are taken with trylock at the end, and if
 * one is busy everything is released and we start again.
 */
static void
atfork_prepare(void)
{
	struct vigil_mutex *m;
	unsigned long gen;
	size_t i, n;

	pthread_mutex_lock(&fork_mu);
again:
	pthread_mutex_lock(&list_mu);
	forking = 1;
	gen = list_gen;
	n = 0;
	TAILQ_FOREACH(m, &mutexes, entry)
		snap[n++] = m;
	pthread_mutex_unlock(&list_mu);
	for (i = 0; i < n; i++) {
		if (snap[i]->rank > VIGIL_RANK_USER_MAX)
			prepare_gate();
		prepare_take(snap[i]);
	}
	prepare_gate();
	pthread_mutex_lock(&list_mu);
	if (gen == list_gen)
		return;		/* list_mu and fork_mu stay held */
	TAILQ_FOREACH(m, &mutexes, entry) {
		if (m->dead || m->taken ||
		    __atomic_load_n(&m->owner, __ATOMIC_ACQUIRE) == &owner_tag)
			continue;
		if (pthread_mutex_trylock(&m->mu) != 0) {
			release_taken();
			pthread_mutex_unlock(&list_mu);
			goto again;
		}
		m->taken = 1;
	}
}

static void
atfork_parent(void)
{
	release_taken();
	forking = 0;
	sweep_dead();
	pthread_mutex_unlock(&list_mu);
	pthread_mutex_unlock(&fork_mu);
}

/*
 * In the child only the forking thread exists: every lock is made new.
 * A lock that thread held stays held by it; all others are free.
 */
static void
atfork_child(void)
{
	struct vigil_mutex *m;
	struct vigil_cond *c;
	int mine;

	TAILQ_FOREACH(m, &mutexes, entry) {
		mine = __atomic_load_n(&m->owner, __ATOMIC_ACQUIRE) ==
		    &owner_tag;
		m->taken = 0;
		TSAN_FORGET(&m->mu);
		pthread_mutex_init(&m->mu, NULL);
		if (mine)
			pthread_mutex_lock(&m->mu);
		else
			__atomic_store_n(&m->owner, NULL, __ATOMIC_RELEASE);
	}
	TAILQ_FOREACH(c, &conds, entry)
		pthread_cond_init(&c->cv, &cond_attr);
	gate_taken = 0;
	TSAN_FORGET(&gate);
	pthread_rwlock_init(&gate, NULL);
	if (gate_depth > 0)
		pthread_rwlock_rdlock(&gate);
	forking = 0;
	sweep_dead();
	TSAN_FORGET(&list_mu);
	TSAN_FORGET(&fork_mu);
	pthread_mutex_init(&list_mu, NULL);
	pthread_mutex_init(&fork_mu, NULL);
	vigil_self_pid_ = getpid();
	thread_atfork_child_();
	pool_atfork_child_();
}

/*
 * Register the handlers once, at load time, before any thread exists.
 * Prepare handlers run in reverse order of registration, so ours runs
 * before those of libraries loaded earlier (the C library's own locks are
 * taken after ours), and our child handler after theirs.
 */
void
lock_atfork_init_(void)
{
	pthread_condattr_init(&cond_attr);
	pthread_condattr_setclock(&cond_attr, CLOCK_MONOTONIC);
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}
