/*
 * Seed 003: "signals delivered to the wrong thread and children born with
 * signals blocked". The three signal rules of SPEC §2, end to end through
 * the pool, the signal source and spawn:
 *
 * - a storm of process-directed signals is taken by the source on the main
 *   thread only: no handler runs on a worker, no worker sees EINTR, every
 *   worker blocks every asynchronous signal and no fault signal;
 * - a child spawned from a worker starts with an empty mask and default
 *   dispositions, and dies of SIGTERM;
 * - a fault signal raised on a worker kills the process instead of hanging;
 * - vigil_block_signals() leaves exactly the asynchronous signals blocked.
 *
 * Workers' masks are checked as each worker sees its own, and as the kernel
 * shows them in /proc/self/task/TID/status where there is one (Linux).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#ifdef __FreeBSD__
#include <pthread_np.h>
#endif
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vigil/vigil.h"
#include "tap.h"

#define WAIT_MS		5000	/* for something that must happen */
#define MAXSIG		129	/* above any signo (FreeBSD: 128) */
#define NWORKERS	4
/* glibc posix_spawn leaves 32 and 33 ignored (research/forksafety.md). */
#define GLIBC_SPAWN_IGN	0x180000000ULL

static const int fault_sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP,
    SIGSYS, SIGABRT };
#define NFAULT	(sizeof fault_sigs / sizeof fault_sigs[0])

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
is_fault(int signo)
{
	size_t i;

	for (i = 0; i < NFAULT; i++)
		if (fault_sigs[i] == signo)
			return 1;
	return 0;
}

/*
 * Signals whose blocked bit means nothing: the kernel never blocks SIGKILL
 * and SIGSTOP, and glibc keeps its internal signals (32, 33) out of every
 * mask it is given.
 */
static int
mask_ignores(int signo)
{
	return signo == SIGKILL || signo == SIGSTOP ||
	    (signo >= 32 && signo < SIGRTMIN);
}

/* Fail unless mask blocks every asynchronous signal and no fault signal. */
static void
check_async_mask(const char *who, const sigset_t *mask)
{
	int signo;

	for (signo = 1; signo < MAXSIG && signo <= SIGRTMAX; signo++) {
		if (is_fault(signo))
			CHECKF(sigismember(mask, signo) != 1,
			    "%s blocks fault signal %d", who, signo);
		else if (!mask_ignores(signo))
			CHECKF(sigismember(mask, signo) == 1,
			    "%s leaves signal %d unblocked", who, signo);
	}
}

/* The SigBlk line of a thread of ours, as a sigset (Linux). */
static sigset_t
task_sigblk(long tid)
{
	char path[64], line[256];
	unsigned long long blk = 0;
	sigset_t set;
	FILE *f;
	int found = 0, signo;

	snprintf(path, sizeof path, "/proc/self/task/%ld/status", tid);
	CHECKF((f = fopen(path, "r")) != NULL, "%s", path);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "SigBlk: %llx", &blk) == 1)
			found = 1;
	fclose(f);
	CHECKF(found, "no SigBlk in %s", path);
	sigemptyset(&set);
	for (signo = 1; signo <= 64 && signo < MAXSIG; signo++)
		if (blk & (1ULL << (signo - 1)))
			sigaddset(&set, signo);
	return set;
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

/* Wait up to ms for fd to be readable; a handler's EINTR is retried. */
static int
wait_readable(int fd, int ms)
{
	struct pollfd pfd;
	long long deadline = tap_now_ms() + ms, left;
	int n;

	do {
		left = deadline - tap_now_ms();
		pfd.fd = fd;
		pfd.events = POLLIN;
		n = poll(&pfd, 1, left > 0 ? (int)left : 0);
	} while (n == -1 && errno == EINTR);
	CHECK_OK(n);
	return n;
}

/* --------------------------------------------------------------------- */

/*
 * Spy on handlers: chain_install() puts spy_handler in front of the action
 * a signal has (the self-pipe's handler, or none), so a handler run on any
 * thread but main is seen.
 */
static struct sigaction	chained[MAXSIG];
static long		main_tid;
static _Atomic long	wrong_tid;
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

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = spy_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	CHECK_OK(sigaction(signo, &sa, &chained[signo]));
}

/*
 * A busy worker: spins, then sleeps a little, until told to stop. nanosleep
 * and poll are never restarted after a handler, so a signal taken on this
 * thread would show as EINTR.
 */
static _Atomic int	stop_workers, worker_slot, workers_up, worker_eintr;
static _Atomic long	worker_tid[NWORKERS];
/* Each worker's mask as it saw it, published by workers_up. */
static sigset_t		worker_mask[NWORKERS];

static void
busy_job(void *arg)
{
	struct timespec ts = { 0, 100000 };
	struct pollfd pfd = { -1, POLLIN, 0 };
	volatile unsigned long spin;
	int i = atomic_fetch_add(&worker_slot, 1);

	if (i < NWORKERS) {
		(void)pthread_sigmask(SIG_BLOCK, NULL, &worker_mask[i]);
		atomic_store(&worker_tid[i], tid_self());
	}
	/* Counted last: main reads the slot once it sees the count. */
	atomic_fetch_add(&workers_up, 1);
	while (!atomic_load(&stop_workers)) {
		for (spin = 0; spin < 20000; spin++)
			;
		if (nanosleep(&ts, NULL) == -1 && errno == EINTR)
			atomic_fetch_add(&worker_eintr, 1);
		if (poll(&pfd, 1, 0) == -1 && errno == EINTR)
			atomic_fetch_add(&worker_eintr, 1);
	}
}

/*
 * Each worker's mask as it saw it at the start of its job and, where /proc
 * shows it, as the kernel has it now.
 */
static void
check_worker_masks(void)
{
	sigset_t blk;
	char who[64];
	int i, proc = access("/proc/self/task", R_OK) == 0;

	for (i = 0; i < NWORKERS; i++) {
		snprintf(who, sizeof who, "worker %ld",
		    atomic_load(&worker_tid[i]));
		check_async_mask(who, &worker_mask[i]);
		if (proc) {
			blk = task_sigblk(atomic_load(&worker_tid[i]));
			check_async_mask(who, &blk);
		}
	}
}

static struct vigil_pool *
start_busy_pool(void)
{
	struct vigil_pool *p;
	int i;

	CHECK((p = vigil_pool_new(NWORKERS)) != NULL);
	for (i = 0; i < NWORKERS; i++)
		CHECK_OK(vigil_pool_submit(p, busy_job, NULL, NULL));
	CHECKF(WAIT_FOR(atomic_load(&workers_up) == NWORKERS, WAIT_MS),
	    "%d of %d workers running", atomic_load(&workers_up), NWORKERS);
	return p;
}

static void
stop_busy_pool(struct vigil_pool *p)
{
	atomic_store(&stop_workers, 1);
	CHECK_OK(vigil_pool_wait(p));
	vigil_pool_free(p, VIGIL_POOL_DRAIN);
}

static const int storm_sigs[] = { SIGUSR1, SIGUSR2, SIGHUP, SIGTERM, SIGINT,
    SIGWINCH };
#define NSTORM	(sizeof storm_sigs / sizeof storm_sigs[0])
#define STORM	5000

static void
storm_sender(pid_t ppid)
{
	int i;

	for (i = 0; i < STORM; i++)
		if (kill(ppid, storm_sigs[i % NSTORM]) == -1)
			_exit(1);
	_exit(0);
}

/* Read the source until the sender is reaped, then drain it. */
static void
storm_read(struct vigil_sigsrc *s, pid_t pid, int *count)
{
	struct vigil_siginfo si;
	long long deadline = tap_now_ms() + 20000;
	int n, status = 0, reaped = 0, more = 1;

	while (more) {
		CHECKF(tap_now_ms() < deadline, "storm did not end");
		if (!reaped)
			(void)wait_readable(vigil_sigsrc_fd(s), 20);
		while ((n = vigil_sigsrc_read(s, &si)) == 1) {
			CHECK(si.signo > 0 && si.signo < MAXSIG);
			count[si.signo]++;
		}
		CHECKF(n == 0, "vigil_sigsrc_read: %d", n);
		/* One more drain after the reap: every kill() has returned. */
		more = !reaped;
		if (!reaped && waitpid(pid, &status, WNOHANG) == pid)
			reaped = 1;
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/*
 * Four busy workers and a storm of process-directed signals from another
 * process: the source on the main thread takes them all.
 */
static void
t_storm_pool(void)
{
	struct vigil_sigsrc *s;
	struct vigil_pool *p;
	sigset_t set;
	int count[MAXSIG] = { 0 };
	size_t i;
	pid_t pid;

	CHECK_OK(vigil_block_signals(NULL));
	main_tid = tid_self();
	sigemptyset(&set);
	for (i = 0; i < NSTORM; i++)
		sigaddset(&set, storm_sigs[i]);
	CHECK((s = vigil_sigsrc_new(&set)) != NULL);
	for (i = 0; i < NSTORM; i++)
		chain_install(storm_sigs[i]);
	p = start_busy_pool();
	check_worker_masks();

	CHECK_OK(pid = fork());
	if (pid == 0)
		storm_sender(getppid());
	storm_read(s, pid, count);

	for (i = 0; i < NSTORM; i++)
		CHECKF(count[storm_sigs[i]] >= 1, "signal %d never read",
		    storm_sigs[i]);
	CHECKF(atomic_load(&wrong_tid) == 0, "a handler ran on thread %ld",
	    atomic_load(&wrong_tid));
	if (strcmp(vigil_sigsrc_backend(), "selfpipe") == 0)
		CHECK(atomic_load(&spy_runs) >= 1);
	else
		CHECK_EQ(atomic_load(&spy_runs), 0);
	check_worker_masks();
	stop_busy_pool(p);
	CHECK_EQ(atomic_load(&worker_eintr), 0);
	vigil_sigsrc_free(s);
}

/*
 * Workers block the asynchronous signals even when the thread that starts
 * them has none blocked: the mask is set by the creator at creation.
 */
static void
t_worker_mask_unblocked_creator(void)
{
	struct vigil_pool *p;
	sigset_t none;

	sigemptyset(&none);
	CHECK(pthread_sigmask(SIG_SETMASK, &none, NULL) == 0);
	p = start_busy_pool();
	check_worker_masks();
	stop_busy_pool(p);
	CHECK_EQ(atomic_load(&worker_eintr), 0);
}

/* --------------------------------------------------------------------- */

struct spawn_job {
	char		*argv[4];
	int		 flags;
	pid_t		 pid;
	int		 error;
	long		 tid;
	char		 path[32];	/* vigil_spawn_last_path() */
};

static void
spawn_job(void *arg)
{
	struct spawn_job *j = arg;
	struct vigil_spawnattr *a;

	j->tid = tid_self();
	j->error = 0;
	if ((a = vigil_spawnattr_new()) == NULL ||
	    vigil_spawnattr_set_argv(a, j->argv) == -1 ||
	    vigil_spawnattr_set_flags(a, j->flags) == -1 ||
	    vigil_spawn(a, &j->pid, NULL) == -1)
		j->error = errno;
	snprintf(j->path, sizeof j->path, "%s", vigil_spawn_last_path());
	vigil_spawnattr_free(a);
}

/* The hex value of key in a probe report, or fail. */
static unsigned long long
report_hex(const char *file, const char *key)
{
	char line[512];
	unsigned long long v = 0;
	size_t len = strlen(key);
	FILE *f;
	int found = 0;

	CHECKF((f = fopen(file, "r")) != NULL, "%s", file);
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, key, len) == 0 && line[len] == '=' &&
		    sscanf(line + len + 1, "%llx", &v) == 1)
			found = 1;
	fclose(f);
	CHECKF(found, "no %s= in %s", key, file);
	return v;
}

static void
probe_path(char *buf, size_t len)
{
	const char *top = getenv("top_builddir");

	snprintf(buf, len, "%s/tests/helpers/probe", top != NULL ? top : ".");
	CHECKF(access(buf, X_OK) == 0, "%s", buf);
}

static void
ignore(int signo)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	CHECK_OK(sigaction(signo, &sa, NULL));
}

/* Spawn the probe from a worker with flags; check what it was born with. */
static void
spawn_from_worker(struct vigil_sigsrc *s, int flags, const char *dir)
{
	struct spawn_job j;
	struct vigil_pool *p;
	struct vigil_siginfo si;
	char probe[PATH_MAX], file[PATH_MAX], cmd[] = "wait";
	unsigned long long blk, ign, cgt, allowed;
	int status, n;

	probe_path(probe, sizeof probe);
	snprintf(file, sizeof file, "%s/report-%d", dir, flags);
	memset(&j, 0, sizeof j);
	j.argv[0] = probe;
	j.argv[1] = cmd;
	j.argv[2] = file;
	j.flags = flags;
	CHECK((p = vigil_pool_new(2)) != NULL);
	CHECK_OK(vigil_pool_submit(p, spawn_job, NULL, &j));
	CHECK_OK(vigil_pool_wait(p));
	vigil_pool_free(p, VIGIL_POOL_DRAIN);
	errno = j.error;
	CHECKF(j.error == 0, "vigil_spawn from a worker (flags %#x)", flags);
	CHECK(j.tid != 0 && j.tid != main_tid);

	/* The probe writes FILE.tmp and renames it: FILE is whole. */
	CHECKF(WAIT_FOR(access(file, R_OK) == 0, WAIT_MS), "no report %s",
	    file);
	blk = report_hex(file, "sigblk");
	ign = report_hex(file, "sigign");
	cgt = report_hex(file, "sigcgt");
	allowed = strcmp(j.path, "posix_spawn") == 0 ? GLIBC_SPAWN_IGN : 0;
	tap_diag("%s: sigblk=%llx sigign=%llx sigcgt=%llx", j.path, blk, ign,
	    cgt);
	if (blk != 0 || (ign & ~allowed) != 0 || cgt != 0) {
		/* It may not die of SIGTERM: do not leave it behind. */
		(void)kill(j.pid, SIGKILL);
		(void)wait_child(j.pid);
		CHECKF(0, "%s child born with sigblk=%llx sigign=%llx "
		    "sigcgt=%llx", j.path, blk, ign, cgt);
	}

	/* SIGTERM ends it, and the main loop hears of it as SIGCHLD. */
	CHECK_OK(kill(j.pid, SIGTERM));
	do {
		CHECKF(wait_readable(vigil_sigsrc_fd(s), WAIT_MS) == 1,
		    "no SIGCHLD after SIGTERM to %s child", j.path);
		CHECK((n = vigil_sigsrc_read(s, &si)) != -1);
	} while (n == 0 || si.signo != SIGCHLD);
	status = wait_child(j.pid);
	CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
	    "%s child: status %#x", j.path, status);
	CHECK_OK(unlink(file));
}

/*
 * A child spawned from a worker (all signals blocked there) while the
 * parent ignores some signals and its source takes others: empty mask,
 * default dispositions, killable by SIGTERM. Both spawn paths.
 */
static void
t_spawn_from_worker(void)
{
	struct vigil_sigsrc *s;
	sigset_t set;
	char dir[] = "/tmp/vigil-test-signals.XXXXXX";

	CHECK_OK(vigil_block_signals(NULL));
	main_tid = tid_self();
	ignore(SIGPIPE);
	ignore(SIGINT);
	ignore(SIGUSR2);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	CHECK((s = vigil_sigsrc_new(&set)) != NULL);
	CHECK(mkdtemp(dir) != NULL);
	spawn_from_worker(s, 0, dir);
	spawn_from_worker(s, VIGIL_SPAWN_FORCE_FORK, dir);
	CHECK_OK(rmdir(dir));
	vigil_sigsrc_free(s);
}

/* --------------------------------------------------------------------- */

static void
raise_job(void *arg)
{
	(void)raise(*(int *)arg);
}

/*
 * In a child of the test: a worker raises signo. Were it blocked there, it
 * would stay pending, the job would return and the child would exit 0.
 */
static void
fault_child(int signo)
{
	struct vigil_pool *p;
	struct sigaction sa;
	struct rlimit nocore = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &nocore);
	/* Default action, whatever a sanitizer runtime installed. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	if (sigaction(signo, &sa, NULL) == -1 ||
	    vigil_block_signals(NULL) == -1 ||
	    (p = vigil_pool_new(1)) == NULL ||
	    vigil_pool_submit(p, raise_job, NULL, &signo) == -1)
		_exit(2);
	(void)vigil_pool_wait(p);
	_exit(0);
}

/* A fault signal raised on a worker kills the process: a crash, no hang. */
static void
t_fault_signals(void)
{
	size_t i;
	pid_t pid;
	int status;

	for (i = 0; i < NFAULT; i++) {
		CHECK_OK(pid = fork());
		if (pid == 0)
			fault_child(fault_sigs[i]);
		status = wait_child(pid);
		CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == fault_sigs[i],
		    "signal %d raised on a worker: status %#x", fault_sigs[i],
		    status);
	}
}

/* --------------------------------------------------------------------- */

static void
t_block_signals(void)
{
	sigset_t start, old, cur;

	sigemptyset(&start);
	sigaddset(&start, SIGUSR1);
	CHECK(pthread_sigmask(SIG_SETMASK, &start, NULL) == 0);
	CHECK_OK(vigil_block_signals(&old));
	CHECK(sigismember(&old, SIGUSR1) == 1);
	CHECK(sigismember(&old, SIGUSR2) == 0);
	CHECK(pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0);
	check_async_mask("vigil_block_signals()", &cur);
	CHECK_OK(vigil_block_signals(NULL));
	CHECK(pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0);
	check_async_mask("vigil_block_signals() twice", &cur);
}

/* Fault signals the caller had blocked are unblocked: never blocked. */
static void
t_block_signals_faults(void)
{
	sigset_t start, cur;
	size_t i;

	sigemptyset(&start);
	for (i = 0; i < NFAULT; i++)
		sigaddset(&start, fault_sigs[i]);
	CHECK(pthread_sigmask(SIG_SETMASK, &start, NULL) == 0);
	CHECK_OK(vigil_block_signals(NULL));
	CHECK(pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0);
	check_async_mask("vigil_block_signals() over blocked faults", &cur);
}

static const struct tap_case cases[] = {
	TAP_CASE(t_storm_pool, 30),
	TAP_CASE(t_worker_mask_unblocked_creator, 10),
	TAP_CASE(t_spawn_from_worker, 20),
	TAP_CASE(t_fault_signals, 20),
	TAP_CASE(t_block_signals, 5),
	TAP_CASE(t_block_signals_faults, 5),
};

int
main(void)
{
	return tap_run(cases, sizeof cases / sizeof cases[0]);
}
