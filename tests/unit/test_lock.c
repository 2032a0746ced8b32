/* Ranked locks and condition variables. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "vigil/vigil.h"
#include "tap.h"

static void
t_rank_order(void)
{
	struct vigil_mutex *a = vigil_mutex_new(5), *b = vigil_mutex_new(10),
	    *c = vigil_mutex_new(10);

	CHECK(a != NULL && b != NULL && c != NULL);
	CHECK_OK(vigil_mutex_lock(b));
	errno = 0;
	CHECK(vigil_mutex_lock(a) == -1 && errno == EDEADLK);
	CHECK(vigil_mutex_lock(c) == -1 && errno == EDEADLK);
	CHECK(vigil_mutex_trylock(a) == -1 && errno == EDEADLK);
	CHECK_OK(vigil_mutex_unlock(b));
	CHECK_OK(vigil_mutex_lock(a));
	CHECK_OK(vigil_mutex_lock(b));
	/* Out-of-order release is fine. */
	CHECK_OK(vigil_mutex_unlock(a));
	CHECK_OK(vigil_mutex_unlock(b));
	vigil_mutex_free(a);
	vigil_mutex_free(b);
	vigil_mutex_free(c);
}

static void
t_bad_rank(void)
{
	errno = 0;
	CHECK(vigil_mutex_new(0) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(vigil_mutex_new(VIGIL_RANK_USER_MAX + 1) == NULL &&
	    errno == EINVAL);
	errno = 0;
	CHECK(vigil_mutex_new(VIGIL_RANK_USER_MAX) != NULL);
}

static struct vigil_mutex *shared;

static void *
try_and_unlock(void *arg)
{
	int busy, perm;

	(void)arg;
	busy = vigil_mutex_trylock(shared) == -1 && errno == EBUSY;
	perm = vigil_mutex_unlock(shared) == -1 && errno == EPERM;
	return (void *)(long)(busy && perm);
}

/* Only the owner may unlock; trylock reports a held lock. */
static void
t_owner(void)
{
	struct vigil_thread *t;
	void *ret;

	shared = vigil_mutex_new(1);
	CHECK_OK(vigil_mutex_lock(shared));
	CHECK_OK(vigil_thread_create(&t, try_and_unlock, NULL));
	CHECK_OK(vigil_thread_join(t, &ret));
	CHECK(ret == (void *)1);
	CHECK_OK(vigil_mutex_unlock(shared));
	errno = 0;
	CHECK(vigil_mutex_unlock(shared) == -1 && errno == EPERM);
}

static long counter;

static void *
count_up(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 100000; i++) {
		if (vigil_mutex_lock(shared) == -1)
			return (void *)1;
		counter++;
		vigil_mutex_unlock(shared);
	}
	return NULL;
}

static void
t_exclusion(void)
{
	struct vigil_thread *t[4];
	void *ret;
	int i;

	shared = vigil_mutex_new(3);
	for (i = 0; i < 4; i++)
		CHECK_OK(vigil_thread_create(&t[i], count_up, NULL));
	for (i = 0; i < 4; i++) {
		CHECK_OK(vigil_thread_join(t[i], &ret));
		CHECK(ret == NULL);
	}
	CHECK_EQ(counter, 400000);
}

static struct vigil_cond *cv;
static int flag;

static void *
set_flag(void *arg)
{
	(void)arg;
	vigil_mutex_lock(shared);
	flag = 1;
	vigil_cond_signal(cv);
	vigil_mutex_unlock(shared);
	return NULL;
}

static void
t_cond(void)
{
	struct vigil_thread *t;
	struct vigil_mutex *low = vigil_mutex_new(1);
	long long t0;

	shared = vigil_mutex_new(7);
	cv = vigil_cond_new();
	CHECK(cv != NULL);
	CHECK_OK(vigil_mutex_lock(low));
	CHECK_OK(vigil_mutex_lock(shared));
	t0 = tap_now_ms();
	errno = 0;
	CHECK(vigil_cond_timedwait(cv, shared, 100) == -1 &&
	    errno == ETIMEDOUT);
	CHECK(tap_now_ms() - t0 >= 90);
	CHECK_OK(vigil_thread_create(&t, set_flag, NULL));
	while (!flag)
		CHECK_OK(vigil_cond_wait(cv, shared));
	/* Still holding both, in order: the witness was restored. */
	CHECK_OK(vigil_mutex_unlock(shared));
	CHECK_OK(vigil_mutex_unlock(low));
	CHECK_OK(vigil_thread_join(t, NULL));
	vigil_cond_free(cv);
}

static const struct tap_case cases[] = {
	TAP_CASE(t_rank_order, 10),
	TAP_CASE(t_bad_rank, 10),
	TAP_CASE(t_owner, 10),
	TAP_CASE(t_exclusion, 30),
	TAP_CASE(t_cond, 10),
};

int
main(void)
{
	return tap_run(cases, sizeof cases / sizeof cases[0]);
}
