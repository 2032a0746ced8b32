/* Thread registry: start handshake, masks, foreign threads, failures. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "tap.h"

static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP,
    SIGSYS, SIGABRT };

static void *
ret_arg(void *arg)
{
	return arg;
}

/* create returns with the thread alive and registered; join gives its value. */
static void
t_create_join(void)
{
	struct vigil_thread *t;
	void *ret;
	int pipefd[2];

	CHECK_OK(pipe(pipefd));
	CHECK_EQ(vigil_thread_count(), 1);
	CHECK(vigil_thread_is_main());
	CHECK_OK(vigil_thread_create(&t, ret_arg, (void *)0x1234));
	CHECK(!vigil_thread_is_foreign(t));
	CHECK_OK(vigil_thread_join(t, &ret));
	CHECK(ret == (void *)0x1234);
	CHECK_EQ(vigil_thread_count(), 1);
}

static int gate_fd[2];

static void *
block_on_pipe(void *arg)
{
	char c;

	(void)arg;
	if (read(gate_fd[0], &c, 1) != 1)
		return (void *)1;
	return NULL;
}

/* The moment create returns, the registry counts the thread as alive. */
static void
t_alive_on_return(void)
{
	struct vigil_thread *t[8];
	int i;

	CHECK_OK(pipe(gate_fd));
	for (i = 0; i < 8; i++) {
		CHECK_OK(vigil_thread_create(&t[i], block_on_pipe, NULL));
		CHECK(vigil_thread_alive(t[i]));
		CHECK_EQ(vigil_thread_count(), i + 2);
	}
	CHECK_EQ(write(gate_fd[1], "xxxxxxxx", 8), 8);
	for (i = 0; i < 8; i++)
		CHECK_OK(vigil_thread_join(t[i], NULL));
	CHECK_EQ(vigil_thread_count(), 1);
}

static void *
report_mask(void *arg)
{
	sigset_t *m = arg;

	pthread_sigmask(SIG_BLOCK, NULL, m);
	return NULL;
}

/*
 * A created thread has every asynchronous signal blocked and no fault
 * signal blocked, whatever its creator's mask; the creator's mask is left
 * as it was.
 */
static void
t_born_blocked(void)
{
	struct vigil_thread *t;
	sigset_t empty, m, after, async;
	int sig;
	size_t i;

	sigemptyset(&empty);
	pthread_sigmask(SIG_SETMASK, &empty, NULL);
	CHECK_OK(vigil_thread_create(&t, report_mask, &m));
	CHECK_OK(vigil_thread_join(t, NULL));
	vigil_sigset_async(&async);
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&async, sig) == 1 && sig != SIGKILL &&
		    sig != SIGSTOP)
			CHECKF(sigismember(&m, sig) == 1,
			    "signal %d not blocked in new thread", sig);
	for (i = 0; i < sizeof faults / sizeof faults[0]; i++)
		CHECKF(sigismember(&m, faults[i]) == 0,
		    "fault signal %d blocked in new thread", faults[i]);
	pthread_sigmask(SIG_BLOCK, NULL, &after);
	for (sig = 1; sig < NSIG; sig++)
		CHECKF(sigismember(&after, sig) != 1,
		    "creator's mask changed (signal %d)", sig);
}

/* A thread that fails in start-up completes the handshake with an error. */
static void
t_startup_failure(void)
{
	struct vigil_thread *t = NULL;

	vigil_debug_fail_next_start_(EAGAIN);
	errno = 0;
	CHECK(vigil_thread_create(&t, ret_arg, NULL) == -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK(t == NULL);
	CHECK_EQ(vigil_thread_count(), 1);
	errno = 0;
	CHECK_OK(vigil_thread_create(&t, ret_arg, NULL));
	CHECK_OK(vigil_thread_join(t, NULL));
}

static struct vigil_thread *foreign_rec;
static int foreign_done[2];

static void *
foreign_main(void *arg)
{
	char c;

	(void)arg;
	foreign_rec = vigil_thread_self();
	if (write(foreign_done[1], "r", 1) != 1 ||
	    read(gate_fd[0], &c, 1) != 1)
		return (void *)1;
	return NULL;
}

/* A plain pthread is registered on first use and forgotten at its exit. */
static void
t_foreign(void)
{
	pthread_t pt;
	char c;

	CHECK_OK(pipe(gate_fd));
	CHECK_OK(pipe(foreign_done));
	CHECK_EQ(pthread_create(&pt, NULL, foreign_main, NULL), 0);
	CHECK_EQ(read(foreign_done[0], &c, 1), 1);
	CHECK(foreign_rec != NULL);
	CHECK(vigil_thread_is_foreign(foreign_rec));
	CHECK(vigil_thread_alive(foreign_rec));
	CHECK_EQ(vigil_thread_count(), 2);
	CHECK_EQ(write(gate_fd[1], "x", 1), 1);
	CHECK_EQ(pthread_join(pt, NULL), 0);
	CHECK(WAIT_FOR(vigil_thread_count() == 1, 2000));
}

static char logged[512];

static void
log_cb(int level, const char *msg, void *arg)
{
	(void)arg;
	if (level == VIGIL_LOG_WARN)
		snprintf(logged, sizeof logged, "%s", msg);
}

static void *
foreign_unblocked(void *arg)
{
	sigset_t empty;

	(void)arg;
	sigemptyset(&empty);
	pthread_sigmask(SIG_SETMASK, &empty, NULL);
	vigil_thread_self();
	return NULL;
}

/* A foreign thread that can take signals is reported through the log. */
static void
t_foreign_mask_warning(void)
{
	pthread_t pt;

	vigil_set_log(log_cb, NULL);
	CHECK_EQ(pthread_create(&pt, NULL, foreign_unblocked, NULL), 0);
	CHECK_EQ(pthread_join(pt, NULL), 0);
	vigil_set_log(NULL, NULL);
	CHECKF(strstr(logged, "unblocked") != NULL, "no warning: '%s'", logged);
}

static void *
join_self(void *arg)
{
	struct vigil_thread **t = arg;

	while (__atomic_load_n(t, __ATOMIC_ACQUIRE) == NULL)
		;
	return (void *)(long)(vigil_thread_join(*t, NULL) == -1 &&
	    errno == EDEADLK);
}

static void
t_join_self(void)
{
	struct vigil_thread *t = NULL, *tmp;
	void *ret;

	CHECK_OK(vigil_thread_create(&tmp, join_self, &t));
	__atomic_store_n(&t, tmp, __ATOMIC_RELEASE);
	CHECK_OK(vigil_thread_join(tmp, &ret));
	CHECK(ret == (void *)1);
}

static void *
exit_early(void *arg)
{
	(void)arg;
	pthread_exit((void *)7);
}

/* Detached threads and pthread_exit() leave the registry clean. */
static void
t_detach_and_exit(void)
{
	struct vigil_thread *t;
	void *ret;
	int i;

	for (i = 0; i < 20; i++) {
		CHECK_OK(vigil_thread_create(&t, ret_arg, NULL));
		CHECK_OK(vigil_thread_detach(t));
	}
	CHECK_OK(vigil_thread_create(&t, exit_early, NULL));
	CHECK_OK(vigil_thread_join(t, &ret));
	CHECK(ret == (void *)7);
	CHECK(WAIT_FOR(vigil_thread_count() == 1, 5000));
}

static void *
is_main_in_thread(void *arg)
{
	(void)arg;
	return (void *)(long)vigil_thread_is_main();
}

static void
t_is_main(void)
{
	struct vigil_thread *t;
	void *ret;

	CHECK(vigil_thread_is_main());
	CHECK_OK(vigil_thread_create(&t, is_main_in_thread, NULL));
	CHECK_OK(vigil_thread_join(t, &ret));
	CHECK(ret == NULL);
}

static const struct tap_case cases[] = {
	TAP_CASE(t_create_join, 10),
	TAP_CASE(t_alive_on_return, 10),
	TAP_CASE(t_born_blocked, 10),
	TAP_CASE(t_startup_failure, 10),
	TAP_CASE(t_foreign, 10),
	TAP_CASE(t_foreign_mask_warning, 10),
	TAP_CASE(t_join_self, 10),
	TAP_CASE(t_detach_and_exit, 10),
	TAP_CASE(t_is_main, 10),
};

int
main(void)
{
	return tap_run(cases, sizeof cases / sizeof cases[0]);
}
