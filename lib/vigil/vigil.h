/*
 * libvigil: a fork-safe thread core.
 *
 * Threads, ranked locks, a worker pool, a child-spawning call and a signal
 * source that all stay correct across fork() from any thread, at any moment.
 * See libvigil(3) for the full contract.
 *
 * Conventions: functions return 0 (or a non-negative value) on success and
 * -1 with errno set on failure; constructors return NULL with errno set.
 * The library never exits, never prints and never installs a signal handler
 * except where a function says so (the self-pipe signal source).
 */

#ifndef VIGIL_VIGIL_H
#define VIGIL_VIGIL_H

#include <sys/types.h>
#include <sys/resource.h>

#include <signal.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VIGIL_VERSION_MAJOR	0
#define VIGIL_VERSION_MINOR	1
#define VIGIL_VERSION_PATCH	0

/* The library's version as "MAJOR.MINOR.PATCH". Thread-safe. */
const char	*vigil_version(void);

/*
 * Optional log callback for diagnostics the library cannot return (a foreign
 * thread registering with asynchronous signals unblocked, a failure inside an
 * atfork child handler). level is one of VIGIL_LOG_*. The callback may run on
 * any thread and must not call back into libvigil. NULL turns logging off.
 */
#define VIGIL_LOG_ERR	0
#define VIGIL_LOG_WARN	1
#define VIGIL_LOG_DEBUG	2
typedef void	 vigil_log_fn(int level, const char *msg, void *arg);
void		 vigil_set_log(vigil_log_fn *fn, void *arg);

/* ---------------------------------------------------------------------
 * Signal masks (rule 1 of the project)
 *
 * The asynchronous signals are every signal except the synchronous fault
 * signals SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS and SIGABRT.
 * Those are never blocked by libvigil, so a crash is a crash.
 */

/* Fill set with every asynchronous signal. Async-signal-safe. */
void	vigil_sigset_async(sigset_t *set);

/*
 * Block every asynchronous signal in the calling thread and unblock the
 * fault signals (the mask is set, not added to); the previous mask is
 * stored in old if it is not NULL. Call it first thing in main(), before any
 * thread exists. Async-signal-safe.
 */
int	vigil_block_signals(sigset_t *old);

/* ---------------------------------------------------------------------
 * Threads
 *
 * vigil_thread_create() returns only once the new thread runs and is in the
 * registry, so a fork() right after it always sees the thread as fully
 * started. Created threads are born with every asynchronous signal blocked;
 * the mask is set by the creator, never by the new thread.
 *
 * A thread not created by libvigil (a "foreign" thread) gets a record on its
 * call to vigil_thread_self() (which any libvigil function that needs to
 * know the calling thread makes); the record goes away when it exits.
 *
 * After fork(), in the child, only the forking thread is alive: it becomes
 * the registry's main thread (even if it was foreign), vigil_thread_count()
 * returns 1, and vigil_thread_alive() is false for every other handle.
 */
struct vigil_thread;

/*
 * Start fn(arg) on a new thread and store its handle in *tp. Returns 0, or -1
 * with errno: EAGAIN (no resources), ENOMEM. The handle must be released with
 * vigil_thread_join() or vigil_thread_detach().
 */
int	vigil_thread_create(struct vigil_thread **tp, void *(*fn)(void *),
	    void *arg);

/*
 * Wait for the thread to end, store its return value in *retp (if not NULL)
 * and free the handle. Returns 0; -1 with errno ESRCH if the thread did not
 * survive a fork() into this process (the handle is freed all the same,
 * *retp is NULL), EDEADLK if it is the calling thread (the handle is kept).
 */
int	vigil_thread_join(struct vigil_thread *t, void **retp);

/* Let the thread free its own handle when it ends. */
int	vigil_thread_detach(struct vigil_thread *t);

/*
 * The calling thread's record; a foreign thread is registered here. NULL with
 * ENOMEM if a foreign thread cannot be registered.
 */
struct vigil_thread *vigil_thread_self(void);

/* 1 if the thread is alive in this process, 0 otherwise. */
int	vigil_thread_alive(const struct vigil_thread *t);

/* 1 if the calling thread is the registry's main thread. */
int	vigil_thread_is_main(void);

/* 1 if the thread record is foreign (not created by libvigil). */
int	vigil_thread_is_foreign(const struct vigil_thread *t);

/* Number of live threads the registry knows of in this process. */
int	vigil_thread_count(void);

/*
 * Number of fork() calls this process descends through since the library
 * was loaded (0 in the original process, 1 in a child, ...).
 */
unsigned int	vigil_fork_generation(void);

/* ---------------------------------------------------------------------
 * Locks
 *
 * Every libvigil lock has a rank. A thread may only take a lock whose rank is
 * strictly greater than the rank of every libvigil lock it already holds;
 * vigil_mutex_lock() refuses (EDEADLK) rather than risk a deadlock. The
 * pthread_atfork prepare handler takes every lock in rank order (user ranks,
 * then the library's fork gate, then the library's own locks), the parent
 * handler releases them, and the child handler re-initialises them: no
 * libvigil lock is ever held in a child, except one the forking thread itself
 * held, which stays held by it.
 *
 * User ranks are 1..VIGIL_RANK_USER_MAX; the library's own locks rank above.
 */
#define VIGIL_RANK_USER_MAX	1000

struct vigil_mutex;
struct vigil_cond;

/* A new unlocked mutex of the given rank; NULL with EINVAL or ENOMEM. */
struct vigil_mutex	*vigil_mutex_new(unsigned int rank);
/* Free an unlocked mutex. */
void			 vigil_mutex_free(struct vigil_mutex *m);
/*
 * Returns 0, or -1 with EDEADLK when the rank order would be broken (the
 * caller holds a lock of this rank or higher, this one included), ENOLCK
 * when the caller already holds 30 libvigil locks.
 */
int			 vigil_mutex_lock(struct vigil_mutex *m);
/* Returns 0, or -1 with EBUSY if the lock is held, or as vigil_mutex_lock. */
int			 vigil_mutex_trylock(struct vigil_mutex *m);
/* Returns 0, or -1 with EPERM if the calling thread does not hold it. */
int			 vigil_mutex_unlock(struct vigil_mutex *m);

struct vigil_cond	*vigil_cond_new(void);
void			 vigil_cond_free(struct vigil_cond *c);
/* Wait on c with m held (released during the wait). */
int			 vigil_cond_wait(struct vigil_cond *c,
			    struct vigil_mutex *m);
/*
 * As vigil_cond_wait() with a timeout in milliseconds (CLOCK_MONOTONIC).
 * Returns 0, or -1 with ETIMEDOUT.
 */
int			 vigil_cond_timedwait(struct vigil_cond *c,
			    struct vigil_mutex *m, long timeout_ms);
int			 vigil_cond_signal(struct vigil_cond *c);
int			 vigil_cond_broadcast(struct vigil_cond *c);

/* ---------------------------------------------------------------------
 * Worker pool
 *
 * A job runs fn(arg) on a worker; when it is done, its done(arg) callback (if
 * any) is queued for the thread that calls vigil_pool_dispatch(), typically
 * the main loop when vigil_pool_fd() is readable (memcached's pattern: the
 * main loop never blocks on a worker). Workers are libvigil threads: every
 * asynchronous signal blocked, never an EINTR from a signal.
 *
 * After fork(), in the child: the pool has zero live workers; jobs queued
 * and not yet started are kept, and run once workers start again, which
 * happens on the next vigil_pool_submit() or vigil_pool_wait() (exactly once,
 * even if several threads submit at the same moment). Jobs that were running
 * on a worker at the moment of the fork are the parent's: they are dropped
 * in the child and their done callbacks never run there. Completions not yet
 * dispatched are kept. vigil_pool_fd() keeps its number in the child but is a
 * new descriptor, not shared with the parent. If a job calls fork(), the
 * child's one thread is that worker: its own pool counts it as the one live
 * worker, still running that job (so it cannot vigil_pool_wait() on it), and
 * it goes back to serving the pool if the job returns.
 *
 * fork() waits until every libvigil lock is free (as the C library's fork
 * waits for malloc's locks): never hold a libvigil lock across a wait that
 * depends on another process or on an unbounded event.
 */
struct vigil_pool;
typedef void	vigil_job_fn(void *arg);

/*
 * A pool of nworkers threads (1..256), started lazily on first submission.
 * NULL with EINVAL, ENOMEM, EMFILE.
 */
struct vigil_pool	*vigil_pool_new(unsigned int nworkers);

/*
 * Queue fn(arg); done(arg) is queued for vigil_pool_dispatch() once fn has
 * returned (done may be NULL). Thread-safe; may be called from a job.
 * Returns 0, or -1 with errno: ESHUTDOWN (pool being freed), EAGAIN (no
 * worker could be started and none is alive; the job is not queued), ENOMEM.
 */
int	vigil_pool_submit(struct vigil_pool *p, vigil_job_fn *fn,
	    vigil_job_fn *done, void *arg);

/*
 * Wait until the queue is empty and no job runs (done callbacks are not
 * dispatched by this call); jobs submitted meanwhile by other threads are
 * waited for too. -1 with EDEADLK from a job of this pool, EAGAIN if jobs
 * are queued and no worker could be started.
 */
int	vigil_pool_wait(struct vigil_pool *p);

/* A descriptor that is readable while completions wait for dispatch. */
int	vigil_pool_fd(const struct vigil_pool *p);

/*
 * Run the done callbacks of finished jobs in the calling thread and clear
 * the descriptor. Returns the number of jobs dispatched. Non-blocking.
 */
int	vigil_pool_dispatch(struct vigil_pool *p);

/* Live workers in this process (0 in a child until the next submission). */
int	vigil_pool_live_workers(const struct vigil_pool *p);

/* Jobs queued and not yet started. */
int	vigil_pool_pending(const struct vigil_pool *p);

/*
 * Stop the workers and free the pool. VIGIL_POOL_DRAIN runs every queued
 * job first; VIGIL_POOL_DISCARD drops queued jobs (their done callbacks are
 * not run). Completions not yet dispatched are dropped. Must not be called
 * from a job.
 */
#define VIGIL_POOL_DRAIN	0
#define VIGIL_POOL_DISCARD	1
void	vigil_pool_free(struct vigil_pool *p, int how);

/* ---------------------------------------------------------------------
 * Spawn
 *
 * Start a program in a new process with a clean state: an empty signal mask,
 * every signal at its default disposition (glibc's posix_spawn leaves its two
 * internal signals 32 and 33 ignored), a new session unless asked otherwise,
 * and no descriptor open but 0, 1, 2 and the ones the attributes place. The
 * call never copies the parent's page tables (posix_spawn where it can express
 * the request, vfork otherwise), so its cost does not grow with the parent's
 * memory. Between fork and exec the child makes only async-signal-safe calls.
 * An exec failure is returned to the caller as errno.
 *
 * Thread-safe: any thread may spawn, and the child is clean whatever the
 * spawning thread's signal mask.
 */
struct vigil_spawnattr;

/* Flags for vigil_spawnattr_set_flags(). */
#define VIGIL_SPAWN_NOSETSID	0x01	/* stay in the caller's session */
#define VIGIL_SPAWN_SETPGROUP	0x02	/* new process group (with NOSETSID) */
#define VIGIL_SPAWN_SEARCH	0x04	/* search PATH for argv[0] */
#define VIGIL_SPAWN_CTTY	0x08	/* fd 0 becomes the controlling tty and
					   the child's group its foreground */
#define VIGIL_SPAWN_FORCE_FORK	0x10	/* never use posix_spawn (for tests) */
#define VIGIL_SPAWN_LISTEN_PID	0x20	/* LISTEN_PID=<the child's own pid> */
/*
 * VIGIL_SPAWN_LISTEN_PID passes socket-activated descriptors on
 * (sd_listen_fds(3) takes them only if LISTEN_PID is the reader's pid):
 * every LISTEN_PID entry of the child's environment is replaced by one
 * naming the child, written in the child between fork and exec, so the
 * vfork path is taken. The rest of the child's environment (LISTEN_FDS,
 * LISTEN_FDNAMES) and the caller's are left as they are.
 */

struct vigil_spawnattr	*vigil_spawnattr_new(void);
void			 vigil_spawnattr_free(struct vigil_spawnattr *a);

/* argv is copied; argv[0] is the program (a path, or a name with SEARCH). */
int	vigil_spawnattr_set_argv(struct vigil_spawnattr *a,
	    char *const argv[]);
/* envp is copied; without this call the child gets the caller's environ. */
int	vigil_spawnattr_set_env(struct vigil_spawnattr *a, char *const envp[]);
/* Working directory of the child. */
int	vigil_spawnattr_set_dir(struct vigil_spawnattr *a, const char *dir);
/*
 * Run as uid/gid with the given supplementary groups (ngroups may be 0 to
 * drop them all). Needs privilege; the child fails with EPERM otherwise.
 */
int	vigil_spawnattr_set_user(struct vigil_spawnattr *a, uid_t uid,
	    gid_t gid, const gid_t *groups, size_t ngroups);
int	vigil_spawnattr_set_umask(struct vigil_spawnattr *a, mode_t mask);
/* Set both limits of resource (RLIMIT_*) in the child. */
int	vigil_spawnattr_set_rlimit(struct vigil_spawnattr *a, int resource,
	    rlim_t soft, rlim_t hard);
/*
 * Place the caller's descriptor parent_fd at child_fd in the child
 * (0 <= child_fd < 1024). Descriptors 0, 1 and 2 that are not placed are
 * opened on /dev/null. parent_fd is not closed in the caller.
 */
int	vigil_spawnattr_set_fd(struct vigil_spawnattr *a, int child_fd,
	    int parent_fd);
int	vigil_spawnattr_set_flags(struct vigil_spawnattr *a, int flags);

/*
 * Start the child. Returns 0 and stores its pid in *pidp; if pidfdp is not
 * NULL, stores a CLOEXEC pidfd there where the kernel has pidfd_open, else
 * -1. Returns -1 with errno on failure: the exec's errno (ENOENT, EACCES,
 * ENOEXEC, ...) or the errno of chdir, setuid etc. in the child, in which
 * case the child has already been reaped; or EINVAL (no argv), ENOMEM.
 */
int	vigil_spawn(const struct vigil_spawnattr *a, pid_t *pidp, int *pidfdp);

/*
 * "posix_spawn" or "vfork": the path the last call in this thread took;
 * "none" before its first spawn.
 */
const char	*vigil_spawn_last_path(void);

/* ---------------------------------------------------------------------
 * Signal source
 *
 * One pollable descriptor through which the main loop takes signals:
 * signalfd on Linux, kqueue EVFILT_SIGNAL on the BSDs, a self-pipe elsewhere
 * (chosen at build time; vigil_sigsrc_backend() says which). The caller must
 * have the signals blocked in every thread (vigil_block_signals() first thing
 * in main()). The self-pipe backend installs a handler that only writes the
 * signal to the pipe, and unblocks the set in the calling thread alone, which
 * must be the thread that reads. Standard signals coalesce, as the kernel
 * does: a signal is a hint (for SIGCHLD, "reap until empty"), not a count.
 */
struct vigil_sigsrc;

struct vigil_siginfo {
	int	signo;
	int	code;	/* si_code, 0 where the backend cannot tell */
	pid_t	pid;	/* sender, 0 where the backend cannot tell */
	uid_t	uid;	/* sender's real uid, 0 where unknown */
};

/*
 * A source for the signals in set. NULL with errno: EINVAL if set is NULL
 * or holds SIGKILL, SIGSTOP or a fault signal; EBUSY for a second
 * self-pipe source. The kqueue backend sets the signals of set (but
 * SIGCHLD) to SIG_IGN until the source is freed; the self-pipe backend's
 * _new, _read and _free must be called on the same thread.
 */
struct vigil_sigsrc	*vigil_sigsrc_new(const sigset_t *set);
/* The descriptor to poll for reading (CLOEXEC, non-blocking). */
int			 vigil_sigsrc_fd(const struct vigil_sigsrc *s);
/*
 * Read the next signal: 1 and *si filled, 0 if none is pending, -1 with
 * errno (never EINTR; EBADF in a child after fork(): a child frees the
 * inherited source, which is safe, and makes its own). One reading thread.
 */
int			 vigil_sigsrc_read(struct vigil_sigsrc *s,
			    struct vigil_siginfo *si);
/* Close the source; the self-pipe backend restores the previous handlers. */
void			 vigil_sigsrc_free(struct vigil_sigsrc *s);
/* "signalfd", "kqueue" or "selfpipe". */
const char		*vigil_sigsrc_backend(void);

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_VIGIL_H */
