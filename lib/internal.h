/*
 * Private to lib/. Internal, non-static names end in '_'.
 *
 * Lock order (lowest rank first, the order the atfork prepare handler takes
 * them in): user locks (1..VIGIL_RANK_USER_MAX), the fork gate, then the
 * library's own locks below.
 */
#ifndef VIGIL_INTERNAL_H
#define VIGIL_INTERNAL_H

#include <sys/types.h>
#include <sys/queue.h>

#include <pthread.h>
#include <signal.h>

#include "vigil/vigil.h"

#define RANK_GATE	(VIGIL_RANK_USER_MAX + 1)
#define RANK_POOL	(VIGIL_RANK_USER_MAX + 10)	/* one per pool */
#define RANK_POOLS	(VIGIL_RANK_USER_MAX + 20)	/* the list of pools */
#define RANK_REGISTRY	(VIGIL_RANK_USER_MAX + 30)	/* thread registry */

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

/* init.c */
void	vigil_init_(void);
/*
 * The pid of this process, without a system call (getpid() is one on
 * glibc): set at initialisation and by the atfork child handler, so it is
 * right after fork(). Not after _Fork() or a raw clone, which libvigil
 * does not support anyway (its locks would not be renewed either).
 */
extern pid_t vigil_self_pid_;
void	vigil_log_(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* lock.c */
/* Like the public constructors, without initialising the library. */
struct vigil_mutex *mutex_new_(unsigned int rank);
struct vigil_cond *cond_new_(void);
void	mutex_lock_(struct vigil_mutex *m);	/* aborts on a rank error */
void	mutex_unlock_(struct vigil_mutex *m);
/* Enter and leave the fork gate (shared side); calls nest per thread. */
void	gate_enter_(void);
void	gate_leave_(void);
void	lock_atfork_init_(void);

/* thread.c: called by lock.c's child handler, after every lock is new. */
void	thread_atfork_child_(void);
void	thread_init_(void);
/* Test hook: the next thread to start fails its start-up with err. */
void	vigil_debug_fail_next_start_(int err);

/* pool.c: called by lock.c's child handler, after thread_atfork_child_. */
void	pool_atfork_child_(void);

/* sigsrc.c: shared by the signal source backends. */
/* One past the highest signal number (FreeBSD's NSIG stops at 32). */
#ifdef _SIG_MAXSIG
#define SIGSRC_NSIG	(_SIG_MAXSIG + 1)
#else
#define SIGSRC_NSIG	NSIG
#endif
int	sigsrc_check_set_(const sigset_t *set);
int	sigsrc_install_(const sigset_t *set, const struct sigaction *act,
	    struct sigaction *old);
void	sigsrc_restore_(const sigset_t *set, const struct sigaction *old);

/* Monotonic time in milliseconds. */
long long	now_ms_(void);

#endif
