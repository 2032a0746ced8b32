/*
 * Signal source, self-pipe backend (portable; --with-signal-source=selfpipe).
 *
 * vigil_sigsrc_new() makes a non-blocking, close-on-exec pipe, installs a
 * handler for every signal of the set and unblocks the set in the calling
 * thread only, which must be the thread that reads the source: every other
 * thread keeps the signals blocked (rule 1), so the kernel can run the
 * handler nowhere else. The handler does one thing: write a fixed-size
 * record (signo, si_code, si_pid, si_uid) to the pipe. It makes only
 * async-signal-safe calls, keeps errno, and never blocks.
 *
 * A full pipe cannot block the handler; the record is dropped and the
 * signal marked in a per-signal overflow flag instead. vigil_sigsrc_read()
 * reports flagged signals (without siginfo) once the pipe is drained, so a
 * pipe filled with other signals never loses the fact that a signal came:
 * what the kernel does for a pending standard signal, no more.
 *
 * Only one self-pipe source exists at a time in a process (EBUSY): the
 * handler and the saved dispositions are process-wide. vigil_sigsrc_free()
 * re-blocks the set in the calling thread and gives every signal of the set
 * back the disposition it had before vigil_sigsrc_new().
 *
 * Fork: the child inherits the handler, the pipe and the object. A handler
 * running in the child must not write into the pipe, which the parent reads
 * (crystal-lang PR #6426, libevent #307). The handler compares getpid() with
 * the pid of the owner process; in any other process it gives the signal its
 * previous disposition and sends it again to the process, so the child acts
 * as if the source had never been made (SIGTERM kills it, an old handler
 * runs, an ignored signal is ignored). The same happens in a vfork or
 * posix_spawn child, which shares the parent's memory: that path writes no
 * memory of the owner's but an in-handler counter it leaves as it found it.
 * In the child, vigil_sigsrc_read() fails with EBADF; vigil_sigsrc_free()
 * closes only the child's copies and restores the child's dispositions,
 * after which the child may make its own source.
 *
 * Thread safety: one thread reads a source, and it is the thread that calls
 * vigil_sigsrc_new() and vigil_sigsrc_free(), since the mask they change is
 * that thread's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* The handler may only touch lock-free atomics. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && sizeof(pid_t) == sizeof(int),
    "the signal handler needs lock-free int atomics");

/* One record per signal; far below PIPE_BUF, so a write is atomic. */
struct sp_record {
	int	signo;
	int	code;
	pid_t	pid;
	uid_t	uid;
};

struct vigil_sigsrc {
	int		rfd;
	int		wfd;
	pid_t		owner;
	sigset_t	set;
};

/*
 * What the handler reads. Global because there is one source at a time.
 * sp_owner is set last by _new() and cleared first by _free(): a handler
 * that saw its own pid there has raised sp_active beforehand, and _free()
 * waits for sp_active to drop before the pipe is closed, so the handler
 * never writes to a closed (or reused) descriptor.
 */
static _Atomic int	sp_busy;	/* a source exists */
static _Atomic pid_t	sp_owner;	/* its process; 0 while none */
static _Atomic int	sp_wfd = -1;
static _Atomic int	sp_active;	/* handlers running */
/* Signals whose record a full pipe dropped, and "one of them is set". */
static _Atomic int	sp_overflow[SIGSRC_NSIG];
static _Atomic int	sp_overflow_any;
/* The dispositions before vigil_sigsrc_new(). */
static struct sigaction	sp_old[SIGSRC_NSIG];

/* Append the signal to the pipe; on a full pipe, flag it instead. */
static void
sp_record(int signo, const siginfo_t *info)
{
	struct sp_record r;
	int fd = atomic_load(&sp_wfd);

	r.signo = signo;
	r.code = info != NULL ? info->si_code : 0;
	r.pid = info != NULL ? info->si_pid : 0;
	r.uid = info != NULL ? info->si_uid : 0;
	if (write(fd, &r, sizeof r) == (ssize_t)sizeof r)
		return;
	/*
	 * The flag is set before the second write: either that write lands
	 * (the reader wakes up and may report the signal twice, which a hint
	 * allows), or the pipe is still full, so the reader has records to
	 * drain and finds the flag when the pipe runs empty.
	 */
	atomic_store(&sp_overflow[signo], 1);
	atomic_store(&sp_overflow_any, 1);
	if (write(fd, &r, sizeof r) == -1) {
		/* Still full: the reader finds the flag once it drains. */
	}
}

/*
 * The handler runs in a process that does not own the source (a child, see
 * the top of the file), or in the owner while _free() is taking the source
 * down. Give the signal the disposition it had before the source and send
 * it again; it is blocked while this handler runs, so the new instance is
 * delivered to the old disposition once the handler returns.
 */
static void
sp_forward(int signo)
{
	(void)sigaction(signo, &sp_old[signo], NULL);
	(void)kill(getpid(), signo);
}

static void
sp_handler(int signo, siginfo_t *info, void *ctx)
{
	int saved = errno;

	/* Raised before sp_owner is read: see the comment on sp_owner. */
	atomic_fetch_add(&sp_active, 1);
	if (getpid() == atomic_load(&sp_owner))
		sp_record(signo, info);
	else
		sp_forward(signo);
	atomic_fetch_sub(&sp_active, 1);
	errno = saved;
}

static int
sp_pipe(int fds[2])
{
#ifdef HAVE_PIPE2
	return pipe2(fds, O_NONBLOCK | O_CLOEXEC);
#else
	int i, saved;

	/* Without pipe2 a fork+exec racing with this call may inherit fds. */
	if (pipe(fds) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) == -1 ||
		    fcntl(fds[i], F_SETFL, O_NONBLOCK) == -1) {
			saved = errno;
			(void)close(fds[0]);
			(void)close(fds[1]);
			errno = saved;
			return -1;
		}
	}
	return 0;
#endif
}

static void
sp_clear_overflow(void)
{
	int signo;

	for (signo = 0; signo < SIGSRC_NSIG; signo++)
		atomic_store(&sp_overflow[signo], 0);
	atomic_store(&sp_overflow_any, 0);
}

struct vigil_sigsrc *
vigil_sigsrc_new(const sigset_t *set)
{
	struct vigil_sigsrc *s;
	struct sigaction act;
	int fds[2], busy = 0, error;

	if (sigsrc_check_set_(set) == -1)
		return NULL;
	if (!atomic_compare_exchange_strong(&sp_busy, &busy, 1)) {
		errno = EBUSY;
		return NULL;
	}
	if ((s = calloc(1, sizeof *s)) == NULL)
		goto fail;
	s->rfd = s->wfd = -1;
	if (sp_pipe(fds) == -1)
		goto fail;
	s->rfd = fds[0];
	s->wfd = fds[1];
	s->owner = getpid();
	s->set = *set;

	/* Everything the handler reads is in place before it is installed. */
	sp_clear_overflow();
	atomic_store(&sp_wfd, s->wfd);
	atomic_store(&sp_owner, s->owner);
	memset(&act, 0, sizeof act);
	act.sa_sigaction = sp_handler;
	act.sa_flags = SA_SIGINFO | SA_RESTART;
	act.sa_mask = *set;	/* no nesting of our own signals */
	if (sigsrc_install_(set, &act, sp_old) == -1)
		goto fail;

	/*
	 * Unblock last: signals that were pending while blocked are taken
	 * now, by the handler, on this thread.
	 */
	if ((error = pthread_sigmask(SIG_UNBLOCK, set, NULL)) != 0) {
		sigsrc_restore_(set, sp_old);
		errno = error;
		goto fail;
	}
	return s;

fail:
	error = errno;
	atomic_store(&sp_owner, 0);
	atomic_store(&sp_wfd, -1);
	if (s != NULL && s->rfd != -1) {
		(void)close(s->rfd);
		(void)close(s->wfd);
	}
	free(s);
	atomic_store(&sp_busy, 0);
	errno = error;
	return NULL;
}

int
vigil_sigsrc_fd(const struct vigil_sigsrc *s)
{
	return s->rfd;
}

/*
 * The pipe is empty: report one signal whose record a full pipe dropped.
 * It comes after every record written before it, and without siginfo.
 */
static int
sp_read_overflow(struct vigil_siginfo *si)
{
	int signo;

	if (atomic_exchange(&sp_overflow_any, 0) == 0)
		return 0;
	for (signo = 1; signo < SIGSRC_NSIG; signo++) {
		if (atomic_exchange(&sp_overflow[signo], 0) == 0)
			continue;
		/* More may be flagged: look again on the next call. */
		atomic_store(&sp_overflow_any, 1);
		memset(si, 0, sizeof *si);
		si->signo = signo;
		return 1;
	}
	return 0;
}

int
vigil_sigsrc_read(struct vigil_sigsrc *s, struct vigil_siginfo *si)
{
	struct sp_record r;
	ssize_t n;

	if (vigil_self_pid_ != s->owner) {
		/* A forked child: the pipe's records are the parent's. */
		errno = EBADF;
		return -1;
	}
	do
		n = read(s->rfd, &r, sizeof r);
	while (n == -1 && errno == EINTR);
	if (n == (ssize_t)sizeof r) {
		memset(si, 0, sizeof *si);
		si->signo = r.signo;
		si->code = r.code;
		si->pid = r.pid;
		si->uid = r.uid;
		return 1;
	}
	if (n == -1 && errno != EAGAIN)
		return -1;
	if (n != -1) {
		/* Writes are whole records and we hold the write end. */
		errno = EIO;
		return -1;
	}
	return sp_read_overflow(si);
}

void
vigil_sigsrc_free(struct vigil_sigsrc *s)
{
	int saved = errno;

	if (s == NULL)
		return;
	/*
	 * Block first, so the handler cannot run on this thread any more;
	 * then divert handlers elsewhere to the old dispositions (sp_owner)
	 * and wait for those already writing; only then restore and close.
	 */
	(void)pthread_sigmask(SIG_BLOCK, &s->set, NULL);
	atomic_store(&sp_owner, 0);
	if (getpid() == s->owner) {
		while (atomic_load(&sp_active) != 0)
			sched_yield();
	}
	sigsrc_restore_(&s->set, sp_old);
	if (getpid() != s->owner) {
		/*
		 * A child: counts raised by the parent's threads at the moment
		 * of the fork were copied, and those threads are gone here.
		 */
		atomic_store(&sp_active, 0);
	}
	atomic_store(&sp_wfd, -1);
	(void)close(s->rfd);
	(void)close(s->wfd);
	free(s);
	atomic_store(&sp_busy, 0);
	errno = saved;
}
