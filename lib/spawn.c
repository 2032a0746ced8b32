/*
 * Spawning children with a clean state (SPEC §2 rule 3, §3 Spawn).
 *
 * Thread-safe: any thread may spawn, whatever its signal mask; an attribute
 * object may be used by several vigil_spawn() calls at once as long as no
 * setter runs meanwhile. Fork-safe: nothing here takes a lock, and neither
 * path runs the atfork handlers (posix_spawn and vfork do not).
 *
 * The child starts with an empty signal mask, every signal at SIG_DFL (glibc's
 * posix_spawn leaves its internal signals 32 and 33 ignored), in a new
 * session unless asked otherwise, with 0, 1, 2 and the placed descriptors
 * open and nothing else, even while other threads open descriptors without
 * O_CLOEXEC.
 *
 * Two paths, both free of page-table copies (the cost does not grow with the
 * parent's memory):
 *
 * - posix_spawn, whenever the request can be said with its attributes and
 *   file actions (glibc runs the child with CLONE_VM|CLONE_VFORK);
 * - vfork otherwise (user, umask, rlimits, controlling tty, LISTEN_PID, or a
 *   posix_spawn feature this system lacks). Everything the child needs is
 *   built in the parent first; between vfork and execve the child makes only
 *   async-signal-safe system calls, and reports a failure as an errno
 *   written to a close-on-exec pipe.
 *
 * Descriptor placement is collision-safe on both paths: every source is first
 * duplicated in the parent to a close-on-exec descriptor above the highest
 * target, so no dup2() into a target can clobber a source not yet placed
 * (parent's 4 to child's 5 and parent's 5 to child's 4 just works).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#if defined(__linux__) || defined(__FreeBSD__)
#include <sys/syscall.h>
#endif
#ifdef HAVE_SYS_PIDFD_H
#include <sys/pidfd.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "internal.h"

extern char **environ;

/* Highest child descriptor number plus one (vigil.h promises < 1024). */
#define SPAWN_FD_MAX	1024

#ifndef RLIM_NLIMITS
#define RLIM_NLIMITS	64
#endif

/* One past the highest signal number. */
#if defined(_NSIG)
#define SPAWN_NSIG	_NSIG
#elif defined(_SIG_MAXSIG)
#define SPAWN_NSIG	(_SIG_MAXSIG + 1)
#else
#define SPAWN_NSIG	NSIG
#endif

/* The posix_spawn path needs closefrom and setsid among its actions. */
#if defined(HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP) && \
    HAVE_DECL_POSIX_SPAWN_SETSID
#define SPAWN_HAVE_POSIX	1
#endif

#define SPAWN_FLAGS_ALL	(VIGIL_SPAWN_NOSETSID | VIGIL_SPAWN_SETPGROUP | \
	VIGIL_SPAWN_SEARCH | VIGIL_SPAWN_CTTY | VIGIL_SPAWN_FORCE_FORK | \
	VIGIL_SPAWN_LISTEN_PID)

#define LISTEN_PID_KEY	"LISTEN_PID="

struct spawn_rlimit {
	int		 resource;
	struct rlimit	 lim;
};

struct vigil_spawnattr {
	char			**argv;
	char			**envp;		/* NULL: the caller's environ */
	char			 *dir;
	int			  flags;

	int			  set_user;
	uid_t			  uid;
	gid_t			  gid;
	gid_t			 *groups;
	size_t			  ngroups;

	int			  set_umask;
	mode_t			  umask;

	struct spawn_rlimit	  rlimits[RLIM_NLIMITS];
	size_t			  nrlimits;

	int			  fds[SPAWN_FD_MAX];	/* child -> parent */
	int			  maxfd;	/* highest placed, or -1 */
};

/*
 * What one vigil_spawn() call prepared in the parent. The vfork child reads
 * it in place (it shares the parent's memory) and never writes to it, except
 * for the shared flag and the digits of listen_pid. Both belong to this one
 * call, and the parent reads neither until the child has exec'd or exited.
 */
struct spawn_plan {
	const struct vigil_spawnattr *a;
	char *const	*envp;
	int		 src[SPAWN_FD_MAX];	/* child fd -> temporary */
	int		 maxfd;		/* highest target, >= 2 */
	int		 devnull;	/* temporary on /dev/null, or -1 */

	/* vfork path only. */
	char		**cand;		/* PATH candidates, or NULL: argv[0] */
	const gid_t	 *groups;
	size_t		  ngroups;
	gid_t		 *groupbuf;	/* allocated copy of groups, if any */
	int		  errfd;	/* write end of the errno pipe */
	unsigned int	  fdlimit;	/* bound of the close loop fallback */
	struct sigaction  dfl;		/* SIG_DFL, empty mask, no flags */
	sigset_t	  empty;
	volatile int	  shared;	/* set by a child sharing our memory */

	/* VIGIL_SPAWN_LISTEN_PID only. */
	char		**envbuf;	/* envp's pointers, with the slot */
	char		  listen_pid[sizeof LISTEN_PID_KEY + 20];
};

static __thread const char *last_path = "none";
static char *const empty_env[] = { NULL };

static void	 strv_free(char **);
static char	**strv_dup(char *const *);

/* Free a NULL-terminated vector made by strv_dup(). */
static void
strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Deep copy of a NULL-terminated string vector; NULL with ENOMEM. */
static char **
strv_dup(char *const *v)
{
	size_t i, n;
	char **c;

	for (n = 0; v[n] != NULL; n++)
		;
	if ((c = calloc(n + 1, sizeof *c)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((c[i] = strdup(v[i])) == NULL) {
			strv_free(c);
			return NULL;
		}
	}
	return c;
}

struct vigil_spawnattr *
vigil_spawnattr_new(void)
{
	struct vigil_spawnattr *a;
	size_t i;

	vigil_init_();
	if ((a = calloc(1, sizeof *a)) == NULL)
		return NULL;
	for (i = 0; i < SPAWN_FD_MAX; i++)
		a->fds[i] = -1;
	a->maxfd = -1;
	return a;
}

void
vigil_spawnattr_free(struct vigil_spawnattr *a)
{
	if (a == NULL)
		return;
	strv_free(a->argv);
	strv_free(a->envp);
	free(a->dir);
	free(a->groups);
	free(a);
}

int
vigil_spawnattr_set_argv(struct vigil_spawnattr *a, char *const argv[])
{
	char **c;

	if (a == NULL || argv == NULL || argv[0] == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((c = strv_dup(argv)) == NULL)
		return -1;
	strv_free(a->argv);
	a->argv = c;
	return 0;
}

/* envp == NULL goes back to the caller's environ at spawn time. */
int
vigil_spawnattr_set_env(struct vigil_spawnattr *a, char *const envp[])
{
	char **c = NULL;

	if (a == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (envp != NULL && (c = strv_dup(envp)) == NULL)
		return -1;
	strv_free(a->envp);
	a->envp = c;
	return 0;
}

/* dir == NULL keeps the caller's working directory. */
int
vigil_spawnattr_set_dir(struct vigil_spawnattr *a, const char *dir)
{
	char *c = NULL;

	if (a == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (dir != NULL && (c = strdup(dir)) == NULL)
		return -1;
	free(a->dir);
	a->dir = c;
	return 0;
}

int
vigil_spawnattr_set_user(struct vigil_spawnattr *a, uid_t uid, gid_t gid,
    const gid_t *groups, size_t ngroups)
{
	gid_t *c;

	if (a == NULL || (groups == NULL && ngroups > 0) ||
	    ngroups > NGROUPS_MAX) {
		errno = EINVAL;
		return -1;
	}
	if ((c = calloc(ngroups + 1, sizeof *c)) == NULL)
		return -1;
	if (ngroups > 0)
		memcpy(c, groups, ngroups * sizeof *c);
	free(a->groups);
	a->groups = c;
	a->ngroups = ngroups;
	a->uid = uid;
	a->gid = gid;
	a->set_user = 1;
	return 0;
}

int
vigil_spawnattr_set_umask(struct vigil_spawnattr *a, mode_t mask)
{
	if (a == NULL || (mask & ~(mode_t)0777) != 0) {
		errno = EINVAL;
		return -1;
	}
	a->umask = mask;
	a->set_umask = 1;
	return 0;
}

/* A second call for the same resource replaces the first. */
int
vigil_spawnattr_set_rlimit(struct vigil_spawnattr *a, int resource,
    rlim_t soft, rlim_t hard)
{
	size_t i;

	if (a == NULL || resource < 0 || resource >= RLIM_NLIMITS ||
	    soft > hard) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < a->nrlimits; i++)
		if (a->rlimits[i].resource == resource)
			break;
	if (i == a->nrlimits)
		a->nrlimits++;
	a->rlimits[i].resource = resource;
	a->rlimits[i].lim.rlim_cur = soft;
	a->rlimits[i].lim.rlim_max = hard;
	return 0;
}

/* A second call for the same child_fd replaces the first. */
int
vigil_spawnattr_set_fd(struct vigil_spawnattr *a, int child_fd,
    int parent_fd)
{
	if (a == NULL || child_fd < 0 || child_fd >= SPAWN_FD_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (parent_fd < 0 || fcntl(parent_fd, F_GETFD) == -1) {
		errno = EBADF;
		return -1;
	}
	a->fds[child_fd] = parent_fd;
	if (child_fd > a->maxfd)
		a->maxfd = child_fd;
	return 0;
}

int
vigil_spawnattr_set_flags(struct vigil_spawnattr *a, int flags)
{
	if (a == NULL || (flags & ~SPAWN_FLAGS_ALL) != 0) {
		errno = EINVAL;
		return -1;
	}
	a->flags = flags;
	return 0;
}

const char *
vigil_spawn_last_path(void)
{
	return last_path;
}

/*
 * A close-on-exec duplicate of fd numbered at least min, or -1. Used for
 * every descriptor the child gets, so that they all sit above the targets.
 */
static int
dup_above(int fd, int min)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, min);
}

/* Move fd to a number at least min (closing the old one); -1 on error. */
static int
move_above(int fd, int min)
{
	int nfd, saved;

	if (fd >= min)
		return fd;
	nfd = dup_above(fd, min);
	saved = errno;
	close(fd);
	errno = saved;
	return nfd;
}

/* Close the parent-side temporaries of a plan; keeps errno. */
static void
plan_free(struct spawn_plan *p)
{
	int fd, saved = errno;

	for (fd = 0; fd <= p->maxfd; fd++)
		if (p->src[fd] != -1 && p->src[fd] != p->devnull)
			close(p->src[fd]);
	if (p->devnull != -1)
		close(p->devnull);
	free(p->cand);
	free(p->groupbuf);
	free(p->envbuf);
	errno = saved;
}

/*
 * Fill the descriptor part of the plan: a temporary above every target for
 * each placed descriptor, and /dev/null for 0, 1, 2 when they are not placed.
 * The temporaries are close-on-exec, so a concurrent spawn elsewhere in the
 * process cannot keep them.
 */
static int
plan_fds(struct spawn_plan *p)
{
	const struct vigil_spawnattr *a = p->a;
	int fd, min;

	p->maxfd = a->maxfd > 2 ? a->maxfd : 2;
	min = p->maxfd + 1;
	for (fd = 0; fd <= p->maxfd; fd++)
		p->src[fd] = -1;
	/* Sources first: /dev/null could take the number of a stale one. */
	for (fd = 0; fd <= p->maxfd; fd++)
		if (a->fds[fd] != -1 &&
		    (p->src[fd] = dup_above(a->fds[fd], min)) == -1)
			return -1;
	if (a->fds[0] != -1 && a->fds[1] != -1 && a->fds[2] != -1)
		return 0;
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    (p->devnull = move_above(fd, min)) == -1)
		return -1;
	for (fd = 0; fd <= 2; fd++)
		if (p->src[fd] == -1)
			p->src[fd] = p->devnull;
	return 0;
}

/*
 * Build the list of paths to try for a name searched in PATH, the way
 * execvp() and posix_spawnp() do: the caller's PATH (default /bin:/usr/bin),
 * an empty element meaning the current directory. A name with a slash is not
 * searched (cand stays NULL). One allocation: the pointers, then the strings.
 */
static int
plan_search(struct spawn_plan *p, const char *name)
{
	const char *path, *s, *e;
	size_t n, nlen, size;
	char *buf;

	if (strchr(name, '/') != NULL)
		return 0;
	if ((path = getenv("PATH")) == NULL)
		path = "/bin:/usr/bin";
	nlen = strlen(name);
	for (n = 1, s = path; *s != '\0'; s++)
		n += *s == ':';
	size = (n + 1) * sizeof *p->cand + strlen(path) + n * (nlen + 2);
	if ((p->cand = malloc(size)) == NULL)
		return -1;
	buf = (char *)(p->cand + n + 1);
	for (n = 0, s = path; *name != '\0'; s = e + 1) {
		if ((e = strchr(s, ':')) == NULL)
			e = s + strlen(s);
		p->cand[n++] = buf;
		if (e > s) {
			memcpy(buf, s, (size_t)(e - s));
			buf += e - s;
			*buf++ = '/';
		}
		memcpy(buf, name, nlen + 1);
		buf += nlen + 1;
		if (*e == '\0')
			break;
	}
	p->cand[n] = NULL;
	return 0;
}

/*
 * The groups to give setgroups(). The BSDs (before FreeBSD 15) take the
 * effective gid as the first element, so the gid goes first there.
 */
static int
plan_groups(struct spawn_plan *p)
{
	const struct vigil_spawnattr *a = p->a;

#if defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
	if ((p->groupbuf = calloc(a->ngroups + 1, sizeof *p->groupbuf)) == NULL)
		return -1;
	p->groupbuf[0] = a->gid;
	memcpy(p->groupbuf + 1, a->groups, a->ngroups * sizeof *a->groups);
	p->groups = p->groupbuf;
	p->ngroups = a->ngroups + 1;
#else
	p->groups = a->groups;
	p->ngroups = a->ngroups;
#endif
	return 0;
}

/* The bound of the close loop used where close_range() is missing. */
static unsigned int
plan_fdlimit(void)
{
	long n = sysconf(_SC_OPEN_MAX);

	if (n <= 0)
		return SPAWN_FD_MAX;
	if (n > INT_MAX)
		return INT_MAX;
	return (unsigned int)n;
}

/*
 * VIGIL_SPAWN_LISTEN_PID: the child's pid is known only in the child, so
 * reserve its environment entry here. envbuf holds the pointers of the
 * environment (the strings are not copied), every LISTEN_PID entry left
 * out, and one slot pointing to listen_pid, "LISTEN_PID=" followed by the
 * digits child_listen_pid() writes.
 */
static int
plan_listen_pid(struct spawn_plan *p)
{
	size_t i, n;

	for (n = 0; p->envp[n] != NULL; n++)
		;
	if ((p->envbuf = calloc(n + 2, sizeof *p->envbuf)) == NULL)
		return -1;
	for (i = n = 0; p->envp[i] != NULL; i++)
		if (strncmp(p->envp[i], LISTEN_PID_KEY,
		    sizeof LISTEN_PID_KEY - 1) != 0)
			p->envbuf[n++] = p->envp[i];
	memcpy(p->listen_pid, LISTEN_PID_KEY, sizeof LISTEN_PID_KEY);
	p->envbuf[n++] = p->listen_pid;
	p->envbuf[n] = NULL;
	p->envp = p->envbuf;
	return 0;
}

/* Prepare everything the vfork child will use, so that it allocates nothing. */
static int
plan_vfork(struct spawn_plan *p)
{
	const struct vigil_spawnattr *a = p->a;

	if ((a->flags & VIGIL_SPAWN_SEARCH) &&
	    plan_search(p, a->argv[0]) == -1)
		return -1;
	if ((a->flags & VIGIL_SPAWN_LISTEN_PID) && plan_listen_pid(p) == -1)
		return -1;
	if (a->set_user && plan_groups(p) == -1)
		return -1;
	p->fdlimit = plan_fdlimit();
	memset(&p->dfl, 0, sizeof p->dfl);
	p->dfl.sa_handler = SIG_DFL;
	sigemptyset(&p->dfl.sa_mask);
	sigemptyset(&p->empty);
	return 0;
}

#ifdef SPAWN_HAVE_POSIX
/* True if posix_spawn can express everything the attributes ask for. */
static int
want_posix_spawn(const struct vigil_spawnattr *a)
{
	if (a->flags & (VIGIL_SPAWN_FORCE_FORK | VIGIL_SPAWN_CTTY |
	    VIGIL_SPAWN_LISTEN_PID))
		return 0;
	if (a->set_user || a->set_umask || a->nrlimits > 0)
		return 0;
#ifndef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR_NP
	if (a->dir != NULL)
		return 0;
#endif
	return 1;
}

/*
 * The attributes: every signal but KILL and STOP (which cannot be caught, and
 * which FreeBSD's posix_spawn would fail on) to SIG_DFL, an empty mask set
 * last by the C library, a new session or group.
 */
static int
posix_attr(const struct vigil_spawnattr *a, posix_spawnattr_t *sa)
{
	sigset_t set;
	short fl = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	int e;

	if (!(a->flags & VIGIL_SPAWN_NOSETSID))
		fl |= POSIX_SPAWN_SETSID;
	else if (a->flags & VIGIL_SPAWN_SETPGROUP) {
		fl |= POSIX_SPAWN_SETPGROUP;
		if ((e = posix_spawnattr_setpgroup(sa, 0)) != 0)
			return e;
	}
	sigfillset(&set);
	sigdelset(&set, SIGKILL);
	sigdelset(&set, SIGSTOP);
	if ((e = posix_spawnattr_setsigdefault(sa, &set)) != 0)
		return e;
	sigemptyset(&set);
	if ((e = posix_spawnattr_setsigmask(sa, &set)) != 0)
		return e;
	return posix_spawnattr_setflags(sa, fl);
}

/*
 * The file actions: dup2 each temporary onto its target, close the targets'
 * gaps, chdir, then close everything above the highest target (the
 * temporaries and whatever another thread opened meanwhile). A close of a
 * descriptor that is not open is not an error for glibc or FreeBSD.
 */
static int
posix_actions(const struct spawn_plan *p, posix_spawn_file_actions_t *fa)
{
	int fd, e;

	for (fd = 0; fd <= p->maxfd; fd++) {
		if (p->src[fd] != -1)
			e = posix_spawn_file_actions_adddup2(fa, p->src[fd],
			    fd);
		else
			e = posix_spawn_file_actions_addclose(fa, fd);
		if (e != 0)
			return e;
	}
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR_NP
	if (p->a->dir != NULL &&
	    (e = posix_spawn_file_actions_addchdir_np(fa, p->a->dir)) != 0)
		return e;
#endif
	return posix_spawn_file_actions_addclosefrom_np(fa, p->maxfd + 1);
}

/*
 * Spawn with posix_spawn(p). The C library blocks every signal around its
 * clone and restores the caller's mask, and reaps a child whose exec failed.
 */
static int
spawn_posix(const struct spawn_plan *p, pid_t *pidp)
{
	const struct vigil_spawnattr *a = p->a;
	posix_spawnattr_t sa;
	posix_spawn_file_actions_t fa;
	int e;

	last_path = "posix_spawn";
	if ((e = posix_spawnattr_init(&sa)) != 0)
		goto out;
	if ((e = posix_spawn_file_actions_init(&fa)) != 0) {
		posix_spawnattr_destroy(&sa);
		goto out;
	}
	if ((e = posix_attr(a, &sa)) == 0 && (e = posix_actions(p, &fa)) == 0) {
		if (a->flags & VIGIL_SPAWN_SEARCH)
			e = posix_spawnp(pidp, a->argv[0], &fa, &sa, a->argv,
			    p->envp);
		else
			e = posix_spawn(pidp, a->argv[0], &fa, &sa, a->argv,
			    p->envp);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
out:
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}
#endif /* SPAWN_HAVE_POSIX */

/*
 * Block every signal in the calling thread, glibc's internal ones included
 * (pthread_sigmask() refuses to block those, so use the system call on
 * Linux): no handler of the parent may run in a vfork child, which shares
 * the parent's memory, before the child has reset the dispositions.
 */
static int
mask_all(sigset_t *old)
{
	sigset_t all;

#ifdef __linux__
	memset(&all, 0xff, sizeof all);
	sigemptyset(old);
	return syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, old,
	    SPAWN_NSIG / 8) == -1 ? -1 : 0;
#else
	sigfillset(&all);
	return sigprocmask(SIG_SETMASK, &all, old);
#endif
}

/* Set the calling thread's mask to set, exactly; async-signal-safe. */
static void
mask_set(const sigset_t *set)
{
#ifdef __linux__
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, set, NULL, SPAWN_NSIG / 8);
#else
	sigprocmask(SIG_SETMASK, set, NULL);
#endif
}

/*
 * Credentials as raw system calls on Linux: glibc's setgroups/setgid/setuid
 * broadcast the change to every thread of the process with a signal and wait
 * for them, which must never happen from a vfork child (it would change the
 * parent's threads, and could wait forever). The *32 calls are the 32-bit-id
 * versions on the architectures that still have 16-bit legacy ones.
 */
#ifdef __linux__
#ifdef SYS_setgroups32
#define SPAWN_SYS_SETGROUPS	SYS_setgroups32
#define SPAWN_SYS_SETGID	SYS_setgid32
#define SPAWN_SYS_SETUID	SYS_setuid32
#else
#define SPAWN_SYS_SETGROUPS	SYS_setgroups
#define SPAWN_SYS_SETGID	SYS_setgid
#define SPAWN_SYS_SETUID	SYS_setuid
#endif
#endif

/*
 * Every signal to SIG_DFL (KILL and STOP give EINVAL, which is fine), through
 * the system call where we can. On Linux, glibc's sigaction() refuses its
 * internal signals 32 and 33, and a process started by glibc's posix_spawn
 * (make, for one) has them ignored, which execve would pass on to the child;
 * an all-zero kernel sigaction is SIG_DFL with no flags and an empty mask in
 * every architecture's layout (sparc and alpha take other arguments). On
 * FreeBSD, libthr's sigaction() refuses SIGTHR and takes a lock shared with
 * the parent's threads; the kernel's struct is libc's there.
 */
#if defined(__linux__) && defined(SYS_rt_sigaction) && \
    !defined(__sparc__) && !defined(__alpha__)
#define SPAWN_RAW_SIGACTION	1
#endif

static void
child_signals(const struct spawn_plan *p)
{
#ifdef SPAWN_RAW_SIGACTION
	static const unsigned long ksa_dfl[8];
#endif
	int sig;

	for (sig = 1; sig < SPAWN_NSIG; sig++) {
#if defined(SPAWN_RAW_SIGACTION)
		syscall(SYS_rt_sigaction, sig, ksa_dfl, NULL, SPAWN_NSIG / 8);
#elif defined(__FreeBSD__) && defined(SYS_sigaction)
		syscall(SYS_sigaction, sig, &p->dfl, NULL);
#else
		sigaction(sig, &p->dfl, NULL);
#endif
	}
}

/* Switch to the attributes' user, groups first; 0 or an errno. */
static int
child_creds(const struct spawn_plan *p)
{
	const struct vigil_spawnattr *a = p->a;

#ifdef __linux__
	if (syscall(SPAWN_SYS_SETGROUPS, p->ngroups, p->groups) == -1 ||
	    syscall(SPAWN_SYS_SETGID, a->gid) == -1 ||
	    syscall(SPAWN_SYS_SETUID, a->uid) == -1)
		return errno;
#else
	if (setgroups((int)p->ngroups, p->groups) == -1 ||
	    setgid(a->gid) == -1 || setuid(a->uid) == -1)
		return errno;
#endif
	return 0;
}

/* Close [lo, hi] in the child, with close_range() where it exists. */
static void
child_close_range(const struct spawn_plan *p, unsigned int lo,
    unsigned int hi)
{
	unsigned int fd;

	if (lo > hi)
		return;
#if defined(HAVE_CLOSE_RANGE)
	if (close_range(lo, hi, 0) == 0)
		return;
#elif HAVE_DECL_SYS_CLOSE_RANGE
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
#endif
	/* No close_range (old kernel): a plain loop, no allocation. */
	for (fd = lo; fd <= hi && fd < p->fdlimit; fd++)
		close((int)fd);
}

/*
 * Place the descriptors and close every other one but the errno pipe (which
 * is above every target and goes at exec). Whatever another thread opened
 * before the vfork is in our table and is closed here.
 */
static int
child_fds(const struct spawn_plan *p)
{
	int fd;

	for (fd = 0; fd <= p->maxfd; fd++) {
		if (p->src[fd] == -1)
			close(fd);
		else if (dup2(p->src[fd], fd) == -1)
			return errno;
	}
	child_close_range(p, (unsigned int)p->maxfd + 1,
	    (unsigned int)p->errfd - 1);
	child_close_range(p, (unsigned int)p->errfd + 1, ~0U);
	return 0;
}

/*
 * fd 0 becomes the controlling terminal (only a session leader can take
 * one) and the child's group its foreground group. Every signal is still
 * blocked here, so tcsetpgrp() cannot stop us with SIGTTOU.
 */
static int
child_ctty(const struct spawn_plan *p)
{
	if (!(p->a->flags & VIGIL_SPAWN_NOSETSID) &&
	    ioctl(0, TIOCSCTTY, 0) == -1)
		return errno;
	if (tcsetpgrp(0, getpgrp()) == -1)
		return errno;
	return 0;
}

/*
 * Everything but the exec, in the order glibc uses: dispositions first (the
 * mask inherited from the parent blocks everything meanwhile), then session,
 * descriptors, directory, limits, credentials. Limits come before the
 * credentials because raising a hard limit needs the privilege the switch
 * drops. Returns 0 or an errno.
 */
static int
child_setup(const struct spawn_plan *p)
{
	const struct vigil_spawnattr *a = p->a;
	size_t i;
	int e;

	child_signals(p);
	if (!(a->flags & VIGIL_SPAWN_NOSETSID)) {
		if (setsid() == -1)
			return errno;
	} else if ((a->flags & VIGIL_SPAWN_SETPGROUP) && setpgid(0, 0) == -1)
		return errno;
	if ((e = child_fds(p)) != 0)
		return e;
	if (a->dir != NULL && chdir(a->dir) == -1)
		return errno;
	for (i = 0; i < a->nrlimits; i++)
		if (setrlimit(a->rlimits[i].resource, &a->rlimits[i].lim) == -1)
			return errno;
	if (a->set_user && (e = child_creds(p)) != 0)
		return e;
	if (a->set_umask)
		umask(a->umask);
	if ((a->flags & VIGIL_SPAWN_CTTY) && (e = child_ctty(p)) != 0)
		return e;
	return 0;
}

/*
 * Write our pid after "LISTEN_PID=" in the slot plan_listen_pid()
 * reserved: getpid() and digits by hand, no allocation, no stdio. With a
 * real vfork this writes to the parent's memory, to this call's plan only.
 */
static void
child_listen_pid(struct spawn_plan *p)
{
	unsigned long long v = (unsigned long long)getpid();
	char digits[24], *d = p->listen_pid + sizeof LISTEN_PID_KEY - 1;
	size_t n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*d++ = digits[--n];
	*d = '\0';
}

/*
 * execve() each PATH candidate in turn, with execvp()'s priorities: keep
 * going on the errors that mean "not here", remember EACCES and report it
 * if nothing else worked, stop at any other error. Returns the errno.
 */
static int
child_exec(const struct spawn_plan *p)
{
	char *const *argv = p->a->argv;
	int eacces = 0, err = ENOENT;
	size_t i;

	if (p->cand == NULL) {
		execve(argv[0], argv, p->envp);
		return errno;
	}
	for (i = 0; p->cand[i] != NULL; i++) {
		execve(p->cand[i], argv, p->envp);
		switch (err = errno) {
		case EACCES:
			eacces = 1;
			/* FALLTHROUGH */
		case ENOENT:
		case ENOTDIR:
		case ENODEV:
		case ETIMEDOUT:
#ifdef ESTALE
		case ESTALE:
#endif
			continue;
		default:
			return err;
		}
	}
	return eacces ? EACCES : err;
}

/*
 * The vfork child. Kept out of line so that its frame lies below the
 * parent's and never overwrites what the parent returns to. Between vfork
 * and exec: no malloc, no lock, no stdio, only system calls. The empty mask
 * comes last, right before the exec, so no signal is taken before the
 * dispositions are reset and no handler of the parent ever runs here.
 */
static void __attribute__((noinline, noreturn))
child_run(struct spawn_plan *p)
{
	int err;

	p->shared = 1;
	if ((err = child_setup(p)) == 0) {
		if (p->a->flags & VIGIL_SPAWN_LISTEN_PID)
			child_listen_pid(p);
		mask_set(&p->empty);
		err = child_exec(p);
	}
	while (write(p->errfd, &err, sizeof err) == -1 && errno == EINTR)
		;
	_exit(127);
}

/* vfork() in a frame of its own; the child never returns from here. */
static pid_t __attribute__((noinline))
do_vfork(struct spawn_plan *p)
{
	pid_t pid;

	if ((pid = vfork()) == 0)
		child_run(p);
	return pid;
}

/*
 * Read the child's errno from the pipe: 0 if it exec'd. With a real vfork
 * (the child set p->shared in our memory) we only resume once the child has
 * exec'd or exited, so whatever it wrote is already there: an empty pipe
 * means success, even if a concurrent fork() elsewhere holds a copy of the
 * write end and no EOF comes. Where vfork is a plain fork (ThreadSanitizer
 * turns it into one) wait for the data or the EOF.
 */
static int
read_child_err(const struct spawn_plan *p, int fd)
{
	struct pollfd pfd;
	ssize_t n;
	int err;

	for (;;) {
		if ((n = read(fd, &err, sizeof err)) == (ssize_t)sizeof err)
			return err;
		if (n == 0 || (n == -1 && errno == EAGAIN && p->shared))
			return 0;
		if (n == -1 && errno == EAGAIN) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			poll(&pfd, 1, -1);
		} else if (n != -1 || errno != EINTR)
			return n == -1 ? errno : EIO;
	}
}

/* Wait for a child of ours that we own; no zombie is left behind. */
static void
reap(pid_t pid)
{
	int saved = errno;

	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	errno = saved;
}

/* A non-blocking close-on-exec pipe. */
static int
errpipe(int fds[2])
{
#ifdef HAVE_PIPE2
	return pipe2(fds, O_CLOEXEC | O_NONBLOCK);
#else
	if (pipe(fds) == -1)
		return -1;
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	return 0;
#endif
}

/*
 * Spawn with vfork. The calling thread's mask is all-blocked across the
 * vfork (the child inherits it) and restored after, on every path.
 */
static int
spawn_vfork(struct spawn_plan *p, pid_t *pidp)
{
	sigset_t old;
	pid_t pid;
	int pfd[2], err = 0;

	last_path = "vfork";
	if (errpipe(pfd) == -1)
		return -1;
	if ((p->errfd = move_above(pfd[1], p->maxfd + 1)) == -1 ||
	    mask_all(&old) == -1) {
		err = errno;
		if (p->errfd != -1)
			close(p->errfd);
		close(pfd[0]);
		errno = err;
		return -1;
	}
	p->shared = 0;
	if ((pid = do_vfork(p)) == -1)
		err = errno;
	mask_set(&old);
	close(p->errfd);
	if (pid != -1 && (err = read_child_err(p, pfd[0])) != 0)
		reap(pid);
	close(pfd[0]);
	if (err != 0) {
		errno = err;
		return -1;
	}
	*pidp = pid;
	return 0;
}

/*
 * A pidfd for the new child. ENOSYS and EPERM (a seccomp filter) mean the
 * kernel offers none: -1 and success. ESRCH means another thread's
 * waitpid(-1) already reaped the child: -1 as well. Other errors (EMFILE)
 * fail the spawn, so the child is killed and reaped: a caller who asked for
 * a pidfd never gets a child it cannot watch.
 */
static int
spawn_pidfd(pid_t pid, int *pidfdp)
{
	int fd, e;

#if defined(HAVE_PIDFD_OPEN)
	fd = pidfd_open(pid, 0);
#elif HAVE_DECL_SYS_PIDFD_OPEN
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
#else
	fd = -1;
	errno = ENOSYS;
#endif
	*pidfdp = fd;
	if (fd != -1 || errno == ENOSYS || errno == EPERM || errno == ESRCH)
		return 0;
	e = errno;
	kill(pid, SIGKILL);
	reap(pid);
	errno = e;
	return -1;
}

int
vigil_spawn(const struct vigil_spawnattr *a, pid_t *pidp, int *pidfdp)
{
	struct spawn_plan p;
	pid_t pid;
	int r;

	vigil_init_();
	if (pidfdp != NULL)
		*pidfdp = -1;
	if (a == NULL || a->argv == NULL || pidp == NULL) {
		errno = EINVAL;
		return -1;
	}
	memset(&p, 0, sizeof p);
	p.a = a;
	if ((p.envp = a->envp) == NULL)
		p.envp = environ != NULL ? environ : empty_env;
	p.maxfd = -1;
	p.devnull = p.errfd = -1;
	if (plan_fds(&p) == -1) {
		plan_free(&p);
		return -1;
	}
#ifdef SPAWN_HAVE_POSIX
	if (want_posix_spawn(a))
		r = spawn_posix(&p, &pid);
	else
#endif
		r = plan_vfork(&p) == -1 ? -1 : spawn_vfork(&p, &pid);
	plan_free(&p);
	if (r == -1)
		return -1;
	if (pidfdp != NULL && spawn_pidfd(pid, pidfdp) == -1)
		return -1;
	*pidp = pid;
	return 0;
}
