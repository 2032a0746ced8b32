/*
 * Library initialisation, version, the log callback and signal masks.
 * Thread-safe. Initialisation runs once, as a constructor when the library
 * is loaded (normally on the main thread, before any other thread exists),
 * and again lazily from any entry point if the constructor has not run.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static pthread_once_t	 init_once = PTHREAD_ONCE_INIT;
pid_t			 vigil_self_pid_;
static vigil_log_fn	*log_fn;
static void		*log_arg;

/* The synchronous fault signals: never blocked, so a crash is a crash. */
static const int fault_signals[] = {
	SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT
};

static void
init_once_cb(void)
{
	vigil_self_pid_ = getpid();
	lock_atfork_init_();
	thread_init_();
}

void
vigil_init_(void)
{
	pthread_once(&init_once, init_once_cb);
}

__attribute__((constructor)) static void
vigil_ctor(void)
{
	vigil_init_();
}

const char *
vigil_version(void)
{
	return PACKAGE_VERSION;
}

void
vigil_set_log(vigil_log_fn *fn, void *arg)
{
	__atomic_store_n(&log_arg, arg, __ATOMIC_RELAXED);
	__atomic_store_n(&log_fn, fn, __ATOMIC_RELEASE);
}

/* Format a diagnostic and hand it to the user's callback, if any. */
void
vigil_log_(int level, const char *fmt, ...)
{
	vigil_log_fn *fn = __atomic_load_n(&log_fn, __ATOMIC_ACQUIRE);
	char buf[512];
	va_list ap;

	if (fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fn(level, buf, __atomic_load_n(&log_arg, __ATOMIC_RELAXED));
}

void
vigil_sigset_async(sigset_t *set)
{
	size_t i;

	sigfillset(set);
	for (i = 0; i < sizeof fault_signals / sizeof fault_signals[0]; i++)
		sigdelset(set, fault_signals[i]);
}

/*
 * Every asynchronous signal blocked and, whatever the mask was before,
 * no fault signal: the mask is set outright, not added to.
 */
int
vigil_block_signals(sigset_t *old)
{
	sigset_t set;
	int rc;

	vigil_sigset_async(&set);
	if ((rc = pthread_sigmask(SIG_SETMASK, &set, old)) != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

long long
now_ms_(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
