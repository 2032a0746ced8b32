/*
 * The signal source (lib/sigsrc*.c). The same cases run against whichever
 * backend configure chose; vigil_sigsrc_backend() is consulted only where a
 * backend documents a difference (kqueue has no siginfo; the self-pipe
 * installs a handler and allows one source at a time).
 *
 * Every case starts as rule 1 asks: every asynchronous signal blocked in the
 * case's only thread before anything else.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#ifdef __FreeBSD__
#include <pthread_np.h>
#endif
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "vigil/vigil.h"
#include "tap.h"

#define WAIT_MS		5000	/* for something that must happen */
#define MAXSIG		129	/* above any signo (FreeBSD: 128) */

static _Atomic int	poll_eintr;	/* polls a handler interrupted */

/* The kernel's id of the calling thread. */
static long
tid_self(void)
{
#if defined(__linux__)
	return (long)syscall(SYS_gettid);
#elif defined(__FreeBSD__)
	return (long)pthread_getthreadid_np();
#else
	return 0;
#endif
}

static int
backend_is(const char *name)
{
	return strcmp(vigil_sigsrc_backend(), name) == 0;
}

/* kqueue tells only the signal number. */
static int
has_siginfo(void)
{
	return !backend_is("kqueue");
}

/* A set of the signals given, ending with 0. */
static sigset_t
mkset(int signo, ...)
{
	sigset_t set;
	va_list ap;

	sigemptyset(&set);
	va_start(ap, signo);
	for (; signo != 0; signo = va_arg(ap, int))
		sigaddset(&set, signo);
	va_end(ap);
	return set;
}

static void
block_async(void)
{
	CHECK_OK(vigil_block_signals(NULL));
}

static struct vigil_sigsrc *
src_new(int signo, ...)
{
	struct vigil_sigsrc *s;
	sigset_t set;
	va_list ap;

	sigemptyset(&set);
	va_start(ap, signo);
	for (; signo != 0; signo = va_arg(ap, int))
		sigaddset(&set, signo);
	va_end(ap);
	s = vigil_sigsrc_new(&set);
	CHECKF(s != NULL, "vigil_sigsrc_new");
	return s;
}

/*
 * Wait up to ms for fd to be readable: 1 if it is, 0 on timeout. poll() is
 * not restarted after a handler (SA_RESTART or not), so with the self-pipe
 * it may return EINTR on the reading thread; that is counted, not failed.
 */
static int
wait_readable(int fd, int ms)
{
	struct pollfd pfd;
	long long deadline = tap_now_ms() + ms, left;
	int n;

	for (;;) {
		left = deadline - tap_now_ms();
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > 0 ? (int)left : 0);
		if (n == -1 && errno == EINTR) {
			atomic_fetch_add(&poll_eintr, 1);
			continue;
		}
		CHECK_OK(n);
		return n;
	}
}

/* Read the next signal, waiting up to WAIT_MS for one. */
static struct vigil_siginfo
read_one(struct vigil_sigsrc *s)
{
	struct vigil_siginfo si;
	long long deadline = tap_now_ms() + WAIT_MS;
	int n;

	for (;;) {
		CHECKF(wait_readable(vigil_sigsrc_fd(s), WAIT_MS) == 1,
		    "no signal within %d ms", WAIT_MS);
		n = vigil_sigsrc_read(s, &si);
		CHECK_OK(n);
		if (n == 1)
			return si;
		CHECKF(tap_now_ms() < deadline, "readable but nothing read");
	}
}

/* Read until signo comes; other signals are skipped. */
static struct vigil_siginfo
read_signo(struct vigil_sigsrc *s, int signo)
{
	struct vigil_siginfo si;
	long long deadline = tap_now_ms() + WAIT_MS;

	do {
		si = read_one(s);
		if (si.signo == signo)
			return si;
	} while (tap_now_ms() < deadline);
	tap_fail_(__FILE__, __LINE__, "signal %d never read", signo);
}

/* Read everything pending now; count[signo] is incremented per record. */
static int
drain(struct vigil_sigsrc *s, int *count, int nsig)
{
	struct vigil_siginfo si;
	int n, total = 0;

	while ((n = vigil_sigsrc_read(s, &si)) == 1) {
		CHECK(si.signo > 0 && si.signo < nsig);
		count[si.signo]++;
		total++;
	}
	CHECKF(n == 0, "vigil_sigsrc_read returned %d", n);
	return total;
}

static int
is_blocked(int signo)
{
	sigset_t cur;

	CHECK(pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0);
	return sigismember(&cur, signo) == 1;
}

static int
is_pending(int signo)
{
	sigset_t pend;

	CHECK_OK(sigpending(&pend));
	return sigismember(&pend, signo) == 1;
}

/* Wait for pid to end (bounded); its status. */
static int
wait_child(pid_t pid)
{
	int status;
	pid_t w;

	CHECKF(WAIT_FOR((w = waitpid(pid, &status, WNOHANG)) != 0, WAIT_MS),
	    "child %ld did not end", (long)pid);
	CHECK_EQ(w, pid);
	return status;
}

/* --------------------------------------------------------------------- */

static void
t_backend_name(void)
{
#if defined(VIGIL_SIGSRC_SIGNALFD)
	CHECK(backend_is("signalfd"));
#elif defined(VIGIL_SIGSRC_KQUEUE)
	CHECK(backend_is("kqueue"));
#elif defined(VIGIL_SIGSRC_SELFPIPE)
	CHECK(backend_is("selfpipe"));
#else
	CHECKF(0, "configure chose no backend");
#endif
}

/* Sets with uncatchable or fault signals are refused and change nothing. */
static void
t_invalid_sets(void)
{
	static const int bad[] = { SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE,
	    SIGILL, SIGTRAP, SIGSYS, SIGABRT };
	struct vigil_sigsrc *s;
	struct sigaction sa;
	sigset_t set;
	size_t i;

	block_async();
	errno = 0;
	CHECK(vigil_sigsrc_new(NULL) == NULL && errno == EINVAL);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		set = mkset(SIGUSR1, bad[i], 0);
		errno = 0;
		s = vigil_sigsrc_new(&set);
		CHECKF(s == NULL && errno == EINVAL, "signal %d accepted",
		    bad[i]);
	}
	/* Nothing was installed, unblocked or left busy. */
	CHECK_OK(sigaction(SIGUSR1, NULL, &sa));
	CHECK(sa.sa_handler == SIG_DFL);
	CHECK(is_blocked(SIGUSR1));
	s = src_new(SIGUSR1, 0);
	vigil_sigsrc_free(s);
	vigil_sigsrc_free(NULL);
}

static void
t_fd_flags(void)
{
	struct vigil_sigsrc *s;
	int fd, fl;

	block_async();
	s = src_new(SIGUSR1, 0);
	fd = vigil_sigsrc_fd(s);
	CHECK(fd >= 0);
	CHECK((fl = fcntl(fd, F_GETFD)) != -1 && (fl & FD_CLOEXEC));
	/* A kqueue is never read(2); kevent() is called with no wait. */
	if (!backend_is("kqueue"))
		CHECK((fl = fcntl(fd, F_GETFL)) != -1 && (fl & O_NONBLOCK));
	vigil_sigsrc_free(s);
}

static void
t_kill_self(void)
{
	struct vigil_sigsrc *s;
	struct vigil_siginfo si;

	block_async();
	s = src_new(SIGUSR1, 0);
	CHECK_EQ(vigil_sigsrc_read(s, &si), 0);
	CHECK_OK(kill(getpid(), SIGUSR1));
	si = read_one(s);
	CHECK_EQ(si.signo, SIGUSR1);
	if (has_siginfo()) {
		CHECK_EQ(si.pid, getpid());
		CHECK_EQ(si.uid, getuid());
		CHECK_EQ(si.code, SI_USER);
	}
	CHECK_EQ(vigil_sigsrc_read(s, &si), 0);
	vigil_sigsrc_free(s);
}

/* Different signals pending at once are all read, real-time ones too. */
static void
t_several(void)
{
	static const int sigs[] = { SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH,
	    SIGTERM };
	struct vigil_sigsrc *s;
	int count[MAXSIG] = { 0 }, rt = SIGRTMIN + 2;
	size_t i;

	block_async();
	s = src_new(SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, SIGTERM, rt, 0);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		CHECK_OK(kill(getpid(), sigs[i]));
	CHECK_OK(kill(getpid(), rt));
	CHECK(wait_readable(vigil_sigsrc_fd(s), WAIT_MS));
	/* kill() to ourselves: generated, so pending or taken, on return. */
	drain(s, count, MAXSIG);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		CHECKF(count[sigs[i]] == 1, "signal %d read %d times", sigs[i],
		    count[sigs[i]]);
	CHECK_EQ(count[rt], 1);
	vigil_sigsrc_free(s);
}

/* A standard signal sent 100 times: at least once, at most 100 times. */
static void
t_coalesce(void)
{
	struct vigil_sigsrc *s;
	int count[MAXSIG] = { 0 }, i;

	block_async();
	s = src_new(SIGUSR1, 0);
	for (i = 0; i < 100; i++)
		CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK(wait_readable(vigil_sigsrc_fd(s), WAIT_MS));
	drain(s, count, MAXSIG);
	CHECKF(count[SIGUSR1] >= 1 && count[SIGUSR1] <= 100,
	    "SIGUSR1 read %d times", count[SIGUSR1]);
	vigil_sigsrc_free(s);
}

/* A signal outside the set is not reported and stays blocked, pending. */
static void
t_not_in_set(void)
{
	struct vigil_sigsrc *s;
	struct vigil_siginfo si;

	block_async();
	s = src_new(SIGUSR1, 0);
	CHECK_OK(kill(getpid(), SIGUSR2));
	CHECK_OK(kill(getpid(), SIGUSR1));
	si = read_one(s);
	CHECK_EQ(si.signo, SIGUSR1);
	CHECK_EQ(vigil_sigsrc_read(s, &si), 0);
	CHECK(is_blocked(SIGUSR2));
	CHECK(is_pending(SIGUSR2));
	vigil_sigsrc_free(s);
}

/* A signal that came before the source existed is reported by it. */
static void
t_pending_before_new(void)
{
	struct vigil_sigsrc *s;
	struct vigil_siginfo si;

	block_async();
	CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK(is_pending(SIGUSR1));
	s = src_new(SIGUSR1, 0);
	si = read_one(s);
	CHECK_EQ(si.signo, SIGUSR1);
	if (has_siginfo())
		CHECK_EQ(si.pid, getpid());
	vigil_sigsrc_free(s);
}

/* The self-pipe source is one per process; the others are not limited. */
static void
t_one_selfpipe(void)
{
	struct vigil_sigsrc *a, *b;
	sigset_t set = mkset(SIGUSR2, 0);

	block_async();
	a = src_new(SIGUSR1, 0);
	errno = 0;
	b = vigil_sigsrc_new(&set);
	if (backend_is("selfpipe")) {
		CHECK(b == NULL && errno == EBUSY);
		vigil_sigsrc_free(a);
		a = NULL;
		b = src_new(SIGUSR2, 0);
	} else
		CHECK(b != NULL);
	CHECK_OK(kill(getpid(), SIGUSR2));
	CHECK_EQ(read_one(b).signo, SIGUSR2);
	vigil_sigsrc_free(b);
	vigil_sigsrc_free(a);
}

/* --------------------------------------------------------------------- */

static int	old_runs;	/* runs of the handler from before _new() */

static void
old_handler(int signo)
{
	old_runs++;
}

/*
 * free gives back what new took: the old handler and flags, the blocked
 * mask, the descriptor; a later signal stays pending for the next source.
 */
static void
t_free_restores(void)
{
	struct vigil_sigsrc *s;
	struct sigaction sa, cur;
	int fd;

	block_async();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = old_handler;
	sa.sa_flags = SA_RESTART | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	s = src_new(SIGUSR1, SIGUSR2, 0);
	fd = vigil_sigsrc_fd(s);
	CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK_EQ(read_one(s).signo, SIGUSR1);
	vigil_sigsrc_free(s);

	CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
	CHECK_OK(sigaction(SIGUSR1, NULL, &cur));
	CHECK(cur.sa_handler == old_handler);
	CHECK((cur.sa_flags & (SA_RESTART | SA_NODEFER | SA_SIGINFO)) ==
	    (SA_RESTART | SA_NODEFER));
	CHECK_OK(sigaction(SIGUSR2, NULL, &cur));
	CHECK(cur.sa_handler == SIG_DFL);
	CHECK(is_blocked(SIGUSR1));
	CHECK(is_blocked(SIGUSR2));
	CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK(is_pending(SIGUSR1));
	CHECK_EQ(old_runs, 0);

	s = src_new(SIGUSR1, 0);
	CHECK_EQ(read_one(s).signo, SIGUSR1);
	vigil_sigsrc_free(s);
	CHECK_EQ(old_runs, 0);
}

/* --------------------------------------------------------------------- */

/*
 * Spy on handlers: chain_install() puts spy_handler in front of whatever
 * action a signal has (the self-pipe's own handler, or none at all), so a
 * handler run on the wrong thread is seen.
 */
static struct sigaction	chained[MAXSIG];
static long		main_tid;
static _Atomic long	wrong_tid;	/* not main, yet it ran the spy */
static _Atomic int	spy_runs;

static void
spy_handler(int signo, siginfo_t *info, void *ctx)
{
	int saved = errno;
	long tid = tid_self();

	atomic_fetch_add(&spy_runs, 1);
	if (tid != main_tid)
		atomic_store(&wrong_tid, tid);
	if (chained[signo].sa_flags & SA_SIGINFO)
		chained[signo].sa_sigaction(signo, info, ctx);
	else if (chained[signo].sa_handler != SIG_DFL &&
	    chained[signo].sa_handler != SIG_IGN)
		chained[signo].sa_handler(signo);
	errno = saved;
}

static void
chain_install(int signo)
{
	struct sigaction sa;

	main_tid = tid_self();
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = spy_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	CHECK_OK(sigaction(signo, &sa, &chained[signo]));
}

/* Send n signals, cycling through sigs, to ppid; exit 0 if all went. */
static void
sender(pid_t ppid, const int *sigs, int nsigs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (kill(ppid, sigs[i % nsigs]) == -1)
			_exit(1);
	_exit(0);
}

static _Atomic int	spin_stop, spinner_up, spinner_blocked;

static void *
spinner(void *arg)
{
	atomic_store(&spinner_blocked,
	    is_blocked(SIGUSR1) && is_blocked(SIGUSR2));
	atomic_store(&spinner_up, 1);
	while (!atomic_load(&spin_stop))
		;
	return NULL;
}

/*
 * Signals from another process, while a libvigil thread spins, are read
 * by the main thread; the spinning thread never takes one.
 */
static void
t_other_thread(void)
{
	static const int sigs[] = { SIGUSR1, SIGUSR2 };
	struct vigil_sigsrc *s;
	struct vigil_thread *t;
	int count[MAXSIG] = { 0 }, status = 0, reaped = 0;
	long long deadline;
	pid_t pid;

	block_async();
	s = src_new(SIGUSR1, SIGUSR2, 0);
	chain_install(SIGUSR1);
	chain_install(SIGUSR2);
	CHECK_OK(vigil_thread_create(&t, spinner, NULL));
	CHECK(WAIT_FOR(atomic_load(&spinner_up), WAIT_MS));
	CHECK(atomic_load(&spinner_blocked));

	CHECK_OK(pid = fork());
	if (pid == 0)
		sender(getppid(), sigs, 2, 2000);
	deadline = tap_now_ms() + 10000;
	while (!reaped) {
		CHECKF(tap_now_ms() < deadline, "sender did not end");
		(void)wait_readable(vigil_sigsrc_fd(s), 20);
		drain(s, count, MAXSIG);
		if (waitpid(pid, &status, WNOHANG) == pid)
			reaped = 1;
	}
	drain(s, count, MAXSIG);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(count[SIGUSR1] >= 1 && count[SIGUSR2] >= 1);
	CHECKF(atomic_load(&wrong_tid) == 0, "a handler ran on thread %ld",
	    atomic_load(&wrong_tid));
	/* Only the self-pipe runs a handler at all, and on main. */
	if (backend_is("selfpipe"))
		CHECK(atomic_load(&spy_runs) >= 1);
	else
		CHECK_EQ(atomic_load(&spy_runs), 0);
	atomic_store(&spin_stop, 1);
	CHECK_OK(vigil_thread_join(t, NULL));
	vigil_sigsrc_free(s);
}

/* SIGCHLD from a real child, with its siginfo; the child is not reaped. */
static void
t_sigchld(void)
{
	struct vigil_sigsrc *s;
	struct vigil_siginfo si;
	pid_t pid;
	int status;

	block_async();
	s = src_new(SIGCHLD, 0);
	CHECK_OK(pid = fork());
	if (pid == 0)
		_exit(7);
	si = read_signo(s, SIGCHLD);
	if (has_siginfo()) {
		CHECK_EQ(si.pid, pid);
		CHECK_EQ(si.code, CLD_EXITED);
	}
	status = wait_child(pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
	vigil_sigsrc_free(s);
}

/* --------------------------------------------------------------------- */

/* The child's half of t_fork: 0 when all is well, else the failed step. */
static int
fork_child(struct vigil_sigsrc *s)
{
	struct vigil_siginfo si;
	sigset_t set = mkset(SIGUSR1, SIGUSR2, 0);
	int n;

	/*
	 * A signal to the child. The self-pipe's handler, inherited, must
	 * not put it in the parent's pipe: it hands it to the disposition
	 * in place before the source, old_handler. The other backends have
	 * it blocked and pending here.
	 */
	if (kill(getpid(), SIGUSR2) == -1)
		return 1;
	if (backend_is("selfpipe") && old_runs != 1)
		return 2;
	/* The source is the parent's: reading it here is refused. */
	if (vigil_sigsrc_read(s, &si) != -1 || errno != EBADF)
		return 3;
	vigil_sigsrc_free(s);
	if ((s = vigil_sigsrc_new(&set)) == NULL)
		return 4;
	if (kill(getpid(), SIGUSR1) == -1)
		return 5;
	for (;;) {
		if (wait_readable(vigil_sigsrc_fd(s), WAIT_MS) != 1)
			return 6;
		if ((n = vigil_sigsrc_read(s, &si)) == -1)
			return 7;
		if (n == 1 && si.signo == SIGUSR1)
			break;
	}
	if (has_siginfo() && si.pid != getpid())
		return 8;
	vigil_sigsrc_free(s);
	return 0;
}

/*
 * fork() after vigil_sigsrc_new(): the child's signals never reach the
 * parent's source, the child can make its own, and the parent's goes on.
 */
static void
t_fork(void)
{
	struct vigil_sigsrc *s;
	struct vigil_siginfo si;
	struct sigaction sa;
	struct pollfd pfd;
	pid_t pid;
	int status;

	block_async();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = old_handler;
	sigemptyset(&sa.sa_mask);
	CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
	s = src_new(SIGUSR1, SIGUSR2, 0);
	CHECK_OK(pid = fork());
	if (pid == 0)
		_exit(fork_child(s));
	status = wait_child(pid);
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child failed at step %d (status %#x)", WEXITSTATUS(status),
	    status);
	/*
	 * The child has ended, so whatever it wrote is in the pipe by now: a
	 * poll that does not wait is enough to see that nothing is there.
	 */
	pfd.fd = vigil_sigsrc_fd(s);
	pfd.events = POLLIN;
	CHECK_EQ(poll(&pfd, 1, 0), 0);
	CHECK_EQ(vigil_sigsrc_read(s, &si), 0);
	CHECK_EQ(old_runs, 0);

	CHECK_OK(kill(getpid(), SIGUSR1));
	si = read_one(s);
	CHECK_EQ(si.signo, SIGUSR1);
	if (has_siginfo())
		CHECK_EQ(si.pid, getpid());
	vigil_sigsrc_free(s);
}

/*
 * Many more signals than a pipe holds records, then one of another kind:
 * the last one must not be lost to a full pipe.
 */
static void
t_full_pipe(void)
{
	struct vigil_sigsrc *s;
	int count[MAXSIG] = { 0 }, i;

	block_async();
	s = src_new(SIGUSR1, SIGHUP, 0);
	for (i = 0; i < 10000; i++)
		CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK_OK(kill(getpid(), SIGHUP));
	CHECK(wait_readable(vigil_sigsrc_fd(s), WAIT_MS));
	drain(s, count, MAXSIG);
	CHECK(count[SIGUSR1] >= 1 && count[SIGUSR1] <= 10000);
	CHECKF(count[SIGHUP] >= 1, "SIGHUP lost behind %d SIGUSR1",
	    count[SIGUSR1]);
	vigil_sigsrc_free(s);
}

/* --------------------------------------------------------------------- */

#define STORM		10000
static const int storm_sigs[] = { SIGUSR1, SIGUSR2, SIGHUP };
#define NSTORM		3

/* Shared with the sender: how many of each kind it has sent so far. */
struct storm {
	_Atomic long	sent[NSTORM];
};

static int
storm_kind(int signo)
{
	int k;

	for (k = 0; k < NSTORM; k++)
		if (storm_sigs[k] == signo)
			return k;
	return -1;
}

static void
storm_sender(struct storm *sh, pid_t ppid)
{
	int i, k;

	for (i = 0; i < STORM; i++) {
		k = i % NSTORM;
		/* Counted before it is sent: a read after it sees the count. */
		atomic_fetch_add(&sh->sent[k], 1);
		if (kill(ppid, storm_sigs[k]) == -1)
			_exit(1);
	}
	_exit(0);
}

/* Read what is there; last[k] is the sender's count at the last read. */
static void
storm_drain(struct vigil_sigsrc *s, struct storm *sh, long *count,
    long *last, pid_t pid, int *status, int *reaped)
{
	struct vigil_siginfo si;
	int n, k;

	while ((n = vigil_sigsrc_read(s, &si)) == 1) {
		if ((k = storm_kind(si.signo)) != -1) {
			count[k]++;
			last[k] = atomic_load(&sh->sent[k]);
		} else
			CHECK_EQ(si.signo, SIGCHLD);
	}
	CHECKF(n == 0, "vigil_sigsrc_read: %d", n);
	if (!*reaped) {
		n = waitpid(pid, status, WNOHANG);
		CHECK_OK(n);
		*reaped = n == pid;
	}
}

/*
 * 10,000 signals from another process. Each kind's last signal is read
 * after it was sent (the read sees the sender's final count for it), which
 * is all coalescing allows and all a supervisor needs; nothing fails with
 * EINTR.
 */
static void
t_storm(void)
{
	struct vigil_sigsrc *s;
	struct storm *sh;
	long count[NSTORM] = { 0 }, last[NSTORM] = { 0 };
	long long deadline;
	int status = 0, reaped = 0, k;
	pid_t pid;

	block_async();
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	s = src_new(SIGUSR1, SIGUSR2, SIGHUP, SIGCHLD, 0);
	CHECK_OK(pid = fork());
	if (pid == 0)
		storm_sender(sh, getppid());
	deadline = tap_now_ms() + 20000;
	while (!reaped) {
		CHECKF(tap_now_ms() < deadline, "storm did not end");
		(void)wait_readable(vigil_sigsrc_fd(s), 50);
		storm_drain(s, sh, count, last, pid, &status, &reaped);
	}
	/*
	 * The sender is reaped, so every kill() it made has returned and its
	 * signal is pending, or in the pipe: one more drain takes the rest.
	 */
	storm_drain(s, sh, count, last, pid, &status, &reaped);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (k = 0; k < NSTORM; k++) {
		CHECKF(count[k] >= 1 && count[k] <= sh->sent[k],
		    "signal %d: %ld read, %ld sent", storm_sigs[k], count[k],
		    (long)sh->sent[k]);
		CHECKF(last[k] == sh->sent[k],
		    "signal %d: last read saw %ld of %ld sent", storm_sigs[k],
		    last[k], (long)sh->sent[k]);
	}
	tap_diag("%s: read %ld/%ld/%ld of %d; poll EINTR %d",
	    vigil_sigsrc_backend(), count[0], count[1], count[2], STORM,
	    atomic_load(&poll_eintr));
	/* Without a handler nothing can interrupt the loop's poll(). */
	if (!backend_is("selfpipe"))
		CHECK_EQ(atomic_load(&poll_eintr), 0);
	vigil_sigsrc_free(s);
	munmap(sh, sizeof *sh);
}

static const struct tap_case cases[] = {
	TAP_CASE(t_backend_name, 5),
	TAP_CASE(t_invalid_sets, 5),
	TAP_CASE(t_fd_flags, 5),
	TAP_CASE(t_kill_self, 10),
	TAP_CASE(t_several, 10),
	TAP_CASE(t_coalesce, 10),
	TAP_CASE(t_not_in_set, 10),
	TAP_CASE(t_pending_before_new, 10),
	TAP_CASE(t_one_selfpipe, 10),
	TAP_CASE(t_free_restores, 10),
	TAP_CASE(t_other_thread, 20),
	TAP_CASE(t_sigchld, 10),
	TAP_CASE(t_fork, 20),
	TAP_CASE(t_full_pipe, 20),
	TAP_CASE(t_storm, 30),
};

int
main(void)
{
	return tap_run(cases, sizeof cases / sizeof cases[0]);
}
