/*
 * vigil_spawn(): the child's state (SPEC §2 rule 3), errors, descriptors,
 * credentials, the controlling tty, and thread-safety. Most cases run twice,
 * on the posix_spawn path (*_spawn) and on the vfork path (*_vfork, forced
 * with VIGIL_SPAWN_FORCE_FORK), and check which one vigil_spawn_last_path()
 * says it took. The child is tests/helpers/probe, which reports its state.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "vigil/vigil.h"

#define FORCE		VIGIL_SPAWN_FORCE_FORK
/* glibc's posix_spawn leaves its internal signals 32 and 33 ignored. */
#define GLIBC_INTERNAL	0x180000000ULL
#define SHORT_MS	5000
#define SPAWN_FD_LIMIT	1024	/* child descriptors are below this */

/*
 * Spawns in the descriptor race: sanitized probes start some 20 times
 * slower, so fewer there; and on a loaded machine the case stops after
 * RACE_MS (having made at least RACE_MIN), well within its timeout.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RACE_ROUNDS	50
#else
#define RACE_ROUNDS	200
#endif
#define RACE_MIN	20
#define RACE_MS		8000

#if defined(HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP) && \
    HAVE_DECL_POSIX_SPAWN_SETSID
#define DEFAULT_PATH	"posix_spawn"
#else
#define DEFAULT_PATH	"vfork"
#endif

#define CHECK_STR(got, want) do {					\
	const char *g_ = (got), *w_ = (want);				\
	if (g_ == NULL || strcmp(g_, w_) != 0)				\
		tap_fail_(__FILE__, __LINE__, "%s is \"%s\", expected \"%s\"", \
		    #got, g_ != NULL ? g_ : "(none)", w_);		\
} while (0)

/* A string for an argv or envp vector (which are not const in C). */
static char *
arg(const char *s)
{
	union {
		const char	*c;
		char		*p;
	} u;

	u.c = s;
	return u.p;
}

/* The path vigil_spawn() should take with these flags. */
static const char *
path_for(int flags)
{
	return (flags & FORCE) ? "vfork" : DEFAULT_PATH;
}

/* The probe binary: $top_builddir/tests/helpers/probe, or next to us. */
static const char *
probe_path(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX], *s;
	const char *b;
	ssize_t n;

	if ((b = getenv("top_builddir")) != NULL) {
		snprintf(path, sizeof path, "%s/tests/helpers/probe", b);
		if (access(path, X_OK) == 0)
			return path;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
		exe[n] = '\0';
		if ((s = strstr(exe, "/tests/unit/")) != NULL) {
			*s = '\0';
			if (snprintf(path, sizeof path,
			    "%s/tests/helpers/probe", exe) < (int)sizeof path &&
			    access(path, X_OK) == 0)
				return path;
		}
	}
	tap_fail_(__FILE__, __LINE__, "tests/helpers/probe not found");
}

/* A new private directory under /tmp. */
static void
tmpdir_new(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/vigil-spawn-XXXXXX");
	CHECK(mkdtemp(buf) != NULL);
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static void
tmpdir_rm(const char *dir)
{
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

/* The whole of a file, NUL-terminated (malloc'd). */
static char *
slurp_fd(int fd)
{
	size_t len = 0, size = 4096;
	char *buf = malloc(size);
	ssize_t n;

	CHECK(buf != NULL);
	for (;;) {
		if (len + 1 >= size)
			CHECK((buf = realloc(buf, size *= 2)) != NULL);
		if ((n = read(fd, buf + len, size - len - 1)) == 0)
			break;
		if (n == -1 && errno == EINTR)
			continue;
		CHECK(n > 0);
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

static char *
slurp(const char *path)
{
	char *s;
	int fd;

	CHECKF((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1, "open %s", path);
	s = slurp_fd(fd);
	close(fd);
	return s;
}

/* The value of key in a report (thread-local copy), or NULL. */
static const char *
rget(const char *rep, const char *key)
{
	static __thread char val[4096];
	size_t klen = strlen(key), vlen;
	const char *s = rep, *e;

	while (strncmp(s, key, klen) != 0 || s[klen] != '=') {
		if ((s = strchr(s, '\n')) == NULL)
			return NULL;
		s++;
	}
	s += klen + 1;
	e = strchrnul(s, '\n');
	vlen = (size_t)(e - s) < sizeof val - 1 ? (size_t)(e - s) :
	    sizeof val - 1;
	memcpy(val, s, vlen);
	val[vlen] = '\0';
	return val;
}

static long long
rnum(const char *rep, const char *key)
{
	const char *v = rget(rep, key);

	CHECKF(v != NULL, "no %s in the report", key);
	return strtoll(v, NULL, 10);
}

static unsigned long long
rhex(const char *rep, const char *key)
{
	const char *v = rget(rep, key);

	CHECKF(v != NULL, "no %s in the report", key);
	return strtoull(v, NULL, 16);
}

/* dev:ino of a descriptor or a path, as the probe prints it. */
static const char *
fd_id(int fd, char *buf, size_t len)
{
	struct stat st;

	CHECK_OK(fstat(fd, &st));
	snprintf(buf, len, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	return buf;
}

/* Wait for pid, return its status. */
static int
wait_pid(pid_t pid)
{
	int st;
	pid_t w;

	while ((w = waitpid(pid, &st, 0)) == -1 && errno == EINTR)
		;
	CHECK_EQ(w, pid);
	return st;
}

static void
check_exit(pid_t pid, int code)
{
	int st = wait_pid(pid);

	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == code,
	    "child status %#x, expected exit %d", st, code);
}

/* Number of processes whose parent is us, from /proc (zombies included). */
static int
count_children(void)
{
	char path[300], buf[512], *p;
	struct dirent *de;
	long ppid;
	DIR *d;
	FILE *f;
	int n = 0;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof buf, f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 2, "%*c %ld", &ppid) == 1 && ppid == getpid())
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

/* No child at all, not even a zombie. */
static void
check_no_child(void)
{
	errno = 0;
	CHECKF(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD,
	    "a child (or zombie) is left");
	errno = 0;
	CHECK_EQ(count_children(), 0);
}

/* An attribute running the probe: probe CMD [-e NAME]... [FILE]. */
static struct vigil_spawnattr *
probe_attr(int flags, const char *cmd, const char *file)
{
	struct vigil_spawnattr *a;
	char *argv[] = { arg(probe_path()), arg(cmd), arg("-e"),
	    arg("FOO"), arg("-e"), arg("PARENTONLY"), arg(file),
	    NULL };

	CHECK((a = vigil_spawnattr_new()) != NULL);
	CHECK_OK(vigil_spawnattr_set_argv(a, argv));
	CHECK_OK(vigil_spawnattr_set_flags(a, flags));
	return a;
}

/* Spawn a (which runs "probe report FILE"), check it exits 0, read FILE. */
static char *
report_file(const struct vigil_spawnattr *a, const char *file, pid_t *pidp)
{
	pid_t pid;

	CHECK_OK(vigil_spawn(a, &pid, NULL));
	check_exit(pid, 0);
	if (pidp != NULL)
		*pidp = pid;
	return slurp(file);
}

/* Spawn a (which runs "probe report" to stdout) with a pipe as fd 1. */
static char *
report_pipe(struct vigil_spawnattr *a, pid_t *pidp)
{
	int p[2];
	pid_t pid;
	char *rep;

	CHECK_OK(pipe2(p, O_CLOEXEC));
	CHECK_OK(vigil_spawnattr_set_fd(a, 1, p[1]));
	CHECK_OK(vigil_spawn(a, &pid, NULL));
	close(p[1]);
	rep = slurp_fd(p[0]);
	close(p[0]);
	check_exit(pid, 0);
	if (pidp != NULL)
		*pidp = pid;
	return rep;
}

#define BOTH(name)							\
static void t_##name##_spawn(void) { name(0); }				\
static void t_##name##_vfork(void) { name(FORCE); }

/* Setters refuse bad arguments with the documented errno. */
static void
t_attr_errors(void)
{
	struct vigil_spawnattr *a;
	char *none[] = { NULL };
	char *tru[] = { arg("/bin/true"), NULL };
	int fd, pidfd = 7;
	pid_t pid;

	CHECK((a = vigil_spawnattr_new()) != NULL);
	errno = 0;
	CHECK(vigil_spawn(a, &pid, &pidfd) == -1 && errno == EINVAL);
	CHECK_EQ(pidfd, -1);
	CHECK(vigil_spawnattr_set_argv(a, NULL) == -1 && errno == EINVAL);
	CHECK(vigil_spawnattr_set_argv(a, none) == -1 && errno == EINVAL);
	CHECK(vigil_spawnattr_set_fd(a, SPAWN_FD_LIMIT, 1) == -1 &&
	    errno == EINVAL);
	CHECK(vigil_spawnattr_set_fd(a, -1, 1) == -1 && errno == EINVAL);
	CHECK(vigil_spawnattr_set_fd(a, 3, -1) == -1 && errno == EBADF);
	CHECK(vigil_spawnattr_set_flags(a, 0x1000) == -1 && errno == EINVAL);
	CHECK(vigil_spawnattr_set_rlimit(a, -1, 1, 1) == -1 &&
	    errno == EINVAL);
	CHECK(vigil_spawnattr_set_rlimit(a, RLIMIT_CORE, 2, 1) == -1 &&
	    errno == EINVAL);
	CHECK(vigil_spawnattr_set_umask(a, 01000) == -1 && errno == EINVAL);
	CHECK(vigil_spawnattr_set_user(a, 0, 0, NULL, 1) == -1 &&
	    errno == EINVAL);
	/*
	 * A placed descriptor closed before the spawn: EBADF and no child,
	 * even when its number is the lowest free one above the targets,
	 * which the spawn's own /dev/null would take if opened first.
	 */
	CHECK_OK(vigil_spawnattr_set_argv(a, tru));
	while ((fd = dup(0)) < 4)
		CHECK(fd != -1);
	CHECK_OK(vigil_spawnattr_set_fd(a, 3, fd));
	close(fd);
	errno = 0;
	CHECK(vigil_spawn(a, &pid, NULL) == -1 && errno == EBADF);
	check_no_child();
	vigil_spawnattr_free(a);
	vigil_spawnattr_free(NULL);
}

/*
 * argv, envp, directory, session: with an explicit environment the child
 * sees only it; without, it sees ours.
 */
static void
basic(int flags)
{
	struct vigil_spawnattr *a;
	char dir[64], file[128], *rep;
	char *env[] = { arg("FOO=bar baz"), arg("PATH=/bin"), NULL };
	pid_t pid;

	tmpdir_new(dir, sizeof dir);
	snprintf(file, sizeof file, "%s/report", dir);
	CHECK_OK(setenv("PARENTONLY", "1", 1));
	a = probe_attr(flags, "report", file);
	CHECK_OK(vigil_spawnattr_set_env(a, env));
	CHECK_OK(vigil_spawnattr_set_dir(a, dir));
	rep = report_file(a, file, &pid);
	CHECK_STR(vigil_spawn_last_path(), path_for(flags));
	CHECK_EQ(rnum(rep, "argc"), 7);
	CHECK_STR(rget(rep, "argv_1"), "report");
	CHECK_STR(rget(rep, "argv_6"), file);
	CHECK_STR(rget(rep, "env_FOO"), "bar baz");
	CHECK(rget(rep, "env_PARENTONLY") == NULL);
	CHECK_STR(rget(rep, "cwd"), dir);
	CHECK_EQ(rnum(rep, "pid"), pid);
	CHECK_EQ(rnum(rep, "ppid"), getpid());
	CHECK_EQ(rnum(rep, "sid"), pid);
	CHECK_EQ(rnum(rep, "pgid"), pid);
	free(rep);
	/* Back to our own environment. */
	CHECK_OK(vigil_spawnattr_set_env(a, NULL));
	rep = report_file(a, file, NULL);
	CHECK_STR(rget(rep, "env_PARENTONLY"), "1");
	free(rep);
	vigil_spawnattr_free(a);
	tmpdir_rm(dir);
}
BOTH(basic)

/* umask and rlimits reach the child; they always take the vfork path. */
static void
limits(int flags)
{
	struct vigil_spawnattr *a;
	char dir[64], file[128], *rep;

	tmpdir_new(dir, sizeof dir);
	snprintf(file, sizeof file, "%s/report", dir);
	umask(022);
	a = probe_attr(flags, "report", file);
	CHECK_OK(vigil_spawnattr_set_dir(a, dir));
	CHECK_OK(vigil_spawnattr_set_umask(a, 027));
	CHECK_OK(vigil_spawnattr_set_rlimit(a, RLIMIT_NOFILE, 256, 512));
	CHECK_OK(vigil_spawnattr_set_rlimit(a, RLIMIT_CORE, 4096, 8192));
	rep = report_file(a, file, NULL);
	CHECK_STR(vigil_spawn_last_path(), "vfork");
	CHECK_STR(rget(rep, "umask"), "027");
	CHECK_STR(rget(rep, "nofile"), "256:512");
	CHECK_STR(rget(rep, "core"), "4096:8192");
	CHECK_STR(rget(rep, "cwd"), dir);
	free(rep);
	vigil_spawnattr_free(a);
	tmpdir_rm(dir);
}
BOTH(limits)

static void
usr_handler(int sig)
{
	(void)sig;
}

/*
 * Ignore glibc's internal signals 32 and 33, as a process started by glibc's
 * posix_spawn (make, for one) has them. sigaction() refuses them, so use the
 * system call, on the architectures whose kernel sigaction we know.
 */
static void
ignore_internal(void)
{
#if defined(__linux__) && defined(SYS_rt_sigaction) && \
    (defined(__x86_64__) || defined(__aarch64__) || defined(__riscv))
	struct {
		uintptr_t	handler;
		unsigned long	flags;
		uintptr_t	restorer;
		unsigned long	mask;
	} ksa;
	int sig;

	memset(&ksa, 0, sizeof ksa);
	ksa.handler = (uintptr_t)SIG_IGN;
	for (sig = 32; sig <= 33; sig++)
		CHECK(syscall(SYS_rt_sigaction, sig, &ksa, NULL,
		    sizeof ksa.mask) == 0);
#endif
}

/* Ignore and catch a few signals, as a daemon would. */
static void
dirty_dispositions(void)
{
	struct sigaction sa;

	ignore_internal();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	CHECK_OK(sigaction(SIGPIPE, &sa, NULL));
	CHECK_OK(sigaction(SIGHUP, &sa, NULL));
	CHECK_OK(sigaction(SIGTERM, &sa, NULL));
	sa.sa_handler = usr_handler;
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
	CHECK_OK(sigaction(SIGRTMIN + 2, &sa, NULL));
}

/* The child's signal state: nothing blocked, ignored or caught. */
static void
check_clean_signals(const char *rep, int flags)
{
	unsigned long long ign = rhex(rep, "sigign");

	if (strcmp(path_for(flags), "posix_spawn") == 0)
		ign &= ~GLIBC_INTERNAL;
	CHECK_EQ(rhex(rep, "sigblk"), 0);
	CHECKF(ign == 0, "child ignores %llx", ign);
	CHECK_EQ(rhex(rep, "sigcgt"), 0);
}

static void *
signals_thread(void *arg)
{
	int flags = *(int *)arg;
	struct vigil_spawnattr *a;
	char *rep;
	pid_t pid;

	a = probe_attr(flags, "report", NULL);
	rep = report_pipe(a, &pid);
	CHECK_STR(vigil_spawn_last_path(), path_for(flags));
	check_clean_signals(rep, flags);
	CHECK_EQ(rnum(rep, "sid"), pid);
	free(rep);
	vigil_spawnattr_free(a);
	return NULL;
}

/*
 * A clean signal state in the child whatever ours: every signal blocked in
 * the spawning thread (the main one, then another), SIGPIPE/HUP/TERM
 * ignored, handlers on USR1/USR2/RTMIN+2.
 */
static void
signals(int flags)
{
	pthread_t t;
	sigset_t all;

	dirty_dispositions();
	sigfillset(&all);
	CHECK_EQ(pthread_sigmask(SIG_SETMASK, &all, NULL), 0);
	signals_thread(&flags);
	CHECK_EQ(pthread_create(&t, NULL, signals_thread, &flags), 0);
	CHECK_EQ(pthread_join(t, NULL), 0);
}
BOTH(signals)

/* The child dies of SIGTERM although we ignore and block it. */
static void
sigterm(int flags)
{
	struct vigil_spawnattr *a;
	char dir[64], file[128];
	sigset_t set;
	pid_t pid;
	int st;

	dirty_dispositions();
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	CHECK_EQ(pthread_sigmask(SIG_BLOCK, &set, NULL), 0);
	tmpdir_new(dir, sizeof dir);
	snprintf(file, sizeof file, "%s/report", dir);
	a = probe_attr(flags, "wait", file);
	CHECK_OK(vigil_spawn(a, &pid, NULL));
	CHECK_STR(vigil_spawn_last_path(), path_for(flags));
	CHECKF(WAIT_FOR(access(file, F_OK) == 0, SHORT_MS),
	    "probe did not report");
	CHECK_OK(kill(pid, SIGTERM));
	st = wait_pid(pid);
	CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
	    "child status %#x", st);
	vigil_spawnattr_free(a);
	tmpdir_rm(dir);
}
BOTH(sigterm)

/* Spawning argv (with dir, if not NULL) fails with want; nothing is left. */
static void
expect_errno(int flags, char *const argv[], const char *dir, int want)
{
	struct vigil_spawnattr *a;
	pid_t pid = 0;
	int r;

	CHECK((a = vigil_spawnattr_new()) != NULL);
	CHECK_OK(vigil_spawnattr_set_argv(a, argv));
	CHECK_OK(vigil_spawnattr_set_flags(a, flags));
	CHECK_OK(vigil_spawnattr_set_dir(a, dir));
	errno = 0;
	r = vigil_spawn(a, &pid, NULL);
	CHECKF(r == -1 && errno == want, "%s: spawn returned %d, errno %d, "
	    "expected %d", argv[0], r, errno, want);
	CHECK_STR(vigil_spawn_last_path(), path_for(flags));
	check_no_child();
	vigil_spawnattr_free(a);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd;

	CHECK((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) != -1);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	CHECK_OK(fchmod(fd, mode));
	close(fd);
}

/*
 * Exec and setup failures come back as errno, the child already reaped:
 * missing program, file without exec permission, file in no known format,
 * missing directory (from chdir).
 */
static void
errors(int flags)
{
	char dir[64], noexec[128], junk[128];
	char *missing[] = { arg("/nonexistent/vigil-prog"), NULL };
	char *argv1[] = { noexec, NULL };
	char *argv2[] = { junk, NULL };
	char *tru[] = { arg("/bin/true"), NULL };

	tmpdir_new(dir, sizeof dir);
	snprintf(noexec, sizeof noexec, "%s/noexec", dir);
	snprintf(junk, sizeof junk, "%s/junk", dir);
	write_file(noexec, "#!/bin/sh\nexit 0\n", 0644);
	write_file(junk, "\x01\x02\x03\x04 not a program\n", 0755);
	expect_errno(flags, missing, NULL, ENOENT);
	expect_errno(flags, argv1, NULL, EACCES);
	expect_errno(flags, argv2, NULL, ENOEXEC);
	expect_errno(flags, tru, "/nonexistent/vigil-dir", ENOENT);
	tmpdir_rm(dir);
}
BOTH(errors)

/* A failing setrlimit in the vfork child comes back as its errno. */
static void
t_setup_error(void)
{
	struct vigil_spawnattr *a;
	char *tru[] = { arg("/bin/true"), NULL };
	pid_t pid;

	CHECK((a = vigil_spawnattr_new()) != NULL);
	CHECK_OK(vigil_spawnattr_set_argv(a, tru));
	/* Above fs.nr_open (at most 2^30 on Linux): EPERM, even for root. */
	CHECK_OK(vigil_spawnattr_set_rlimit(a, RLIMIT_NOFILE, 16,
	    (rlim_t)1 << 31));
	errno = 0;
	CHECK(vigil_spawn(a, &pid, NULL) == -1 && errno == EPERM);
	CHECK_STR(vigil_spawn_last_path(), "vfork");
	check_no_child();
	vigil_spawnattr_free(a);
}

/* Two free consecutive descriptor numbers from min up. */
static int
free_fd_pair(int min)
{
	int fd;

	for (fd = min; fd < 1000; fd++)
		if (fcntl(fd, F_GETFD) == -1 && fcntl(fd + 1, F_GETFD) == -1)
			return fd;
	tap_fail_(__FILE__, __LINE__, "no free descriptors");
}

/* A fresh object (a pipe's read end; each has its own inode). */
static int
new_obj(void)
{
	int p[2];

	CHECK_OK(pipe(p));
	close(p[1]);
	return p[0];
}

/*
 * Placement: ours at 0, 1, 2, 3 and 7, and a swap (our x at the child's y,
 * our y at the child's x) that a naive dup2 sequence gets wrong. Only those
 * are open in the child, though we hold other descriptors without CLOEXEC.
 * Then with only 3 placed: 0, 1, 2 are /dev/null.
 */
static void
fds(int flags)
{
	struct vigil_spawnattr *a;
	char dir[64], file[128], key[32], id[64], exp[128], *rep;
	int obj[5], x, y, i, nul;
	const int at[5] = { 0, 1, 2, 3, 7 };

	tmpdir_new(dir, sizeof dir);
	snprintf(file, sizeof file, "%s/report", dir);
	a = probe_attr(flags, "report", file);
	for (i = 0; i < 5; i++) {
		obj[i] = new_obj();
		CHECK_OK(vigil_spawnattr_set_fd(a, at[i], obj[i]));
	}
	x = free_fd_pair(8);
	y = x + 1;
	CHECK_EQ(dup2(new_obj(), x), x);
	CHECK_EQ(dup2(new_obj(), y), y);
	CHECK_OK(vigil_spawnattr_set_fd(a, y, x));
	CHECK_OK(vigil_spawnattr_set_fd(a, x, y));
	/* Strays: not CLOEXEC, not placed. */
	CHECK_EQ(dup2(new_obj(), 100), 100);
	new_obj();
	rep = report_file(a, file, NULL);
	CHECK_STR(vigil_spawn_last_path(), path_for(flags));
	snprintf(exp, sizeof exp, "0,1,2,3,7,%d,%d", x, y);
	CHECK_STR(rget(rep, "fds"), exp);
	for (i = 0; i < 5; i++) {
		snprintf(key, sizeof key, "fdid_%d", at[i]);
		CHECK_STR(rget(rep, key), fd_id(obj[i], id, sizeof id));
	}
	snprintf(key, sizeof key, "fdid_%d", y);
	CHECK_STR(rget(rep, key), fd_id(x, id, sizeof id));
	snprintf(key, sizeof key, "fdid_%d", x);
	CHECK_STR(rget(rep, key), fd_id(y, id, sizeof id));
	free(rep);
	vigil_spawnattr_free(a);

	/* Unplaced 0, 1, 2 are /dev/null. */
	a = probe_attr(flags, "report", file);
	CHECK_OK(vigil_spawnattr_set_fd(a, 3, obj[3]));
	rep = report_file(a, file, NULL);
	CHECK_STR(rget(rep, "fds"), "0,1,2,3");
	CHECK((nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) != -1);
	fd_id(nul, id, sizeof id);
	CHECK_STR(rget(rep, "fdid_0"), id);
	CHECK_STR(rget(rep, "fdid_1"), id);
	CHECK_STR(rget(rep, "fdid_2"), id);
	free(rep);
	vigil_spawnattr_free(a);
	tmpdir_rm(dir);
}
BOTH(fds)

static volatile int race_stop;

/*
 * Open and close descriptors without CLOEXEC, holding each pair open for a
 * moment: strays are open nearly all the time without the four threads
 * starving the spawning one on a small machine.
 */
static void *
fd_opener(void *arg)
{
	struct timespec ts = { 0, 100000 };
	int p[2];

	(void)arg;
	while (!__atomic_load_n(&race_stop, __ATOMIC_RELAXED)) {
		if (pipe(p) == -1)
			continue;
		nanosleep(&ts, NULL);
		close(p[0]);
		close(p[1]);
	}
	return NULL;
}

/*
 * While 4 threads open descriptors without CLOEXEC, no spawned child ever
 * has one: up to RACE_ROUNDS spawns, each child reporting exactly 0, 1, 2.
 */
static void
fdrace(int flags)
{
	struct vigil_spawnattr *a;
	pthread_t t[4];
	long long deadline;
	const char *v;
	char *rep;
	int i;

	for (i = 0; i < 4; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, fd_opener, NULL), 0);
	a = probe_attr(flags, "report", NULL);
	deadline = tap_now_ms() + RACE_MS;
	for (i = 0; i < RACE_ROUNDS; i++) {
		if (i >= RACE_MIN && tap_now_ms() > deadline) {
			tap_diag("busy machine: stopped after %d spawns", i);
			break;
		}
		rep = report_pipe(a, NULL);
		v = rget(rep, "fds");
		CHECKF(v != NULL && strcmp(v, "0,1,2") == 0,
		    "spawn %d: child has fds %s", i, v != NULL ? v : "?");
		free(rep);
	}
	CHECK_STR(vigil_spawn_last_path(), path_for(flags));
	__atomic_store_n(&race_stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 4; i++)
		CHECK_EQ(pthread_join(t[i], NULL), 0);
	vigil_spawnattr_free(a);
}
BOTH(fdrace)

static int
gid_cmp(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return (x > y) - (x < y);
}

/* The groups line of a report, sorted, as "a,b,c". */
static void
sorted_groups(const char *rep, char *out, size_t len)
{
	unsigned long g[64];
	const char *s = rget(rep, "groups");
	char *e;
	size_t n = 0, i;

	CHECK(s != NULL);
	for (; *s != '\0' && n < 64; s = e + (*e == ',')) {
		g[n++] = strtoul(s, &e, 10);
		CHECK(e != s);
	}
	qsort(g, n, sizeof g[0], gid_cmp);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%lu",
		    i ? "," : "", g[i]);
}

/*
 * A copy of the probe in a new directory anyone may enter: the build tree
 * may lie under a private one (a checkout in a 0700 mktemp directory),
 * where nobody could not execute it. Its path in path; rmdir dir after.
 */
static void
probe_copy(char *dir, char *path, size_t len)
{
	char buf[65536];
	ssize_t n;
	int in, out;

	CHECK(mkdtemp(dir) != NULL);
	CHECK_OK(chmod(dir, 0755));
	snprintf(path, len, "%s/probe", dir);
	CHECK((in = open(probe_path(), O_RDONLY | O_CLOEXEC)) != -1);
	CHECK((out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0755)) != -1);
	while ((n = read(in, buf, sizeof buf)) > 0)
		CHECK(write(out, buf, (size_t)n) == n);
	CHECK(n == 0);
	close(in);
	CHECK_OK(close(out));
}

/* As root: the child runs as nobody/nogroup with the groups given. */
static void
user(int flags)
{
	struct vigil_spawnattr *a;
	struct passwd *pw;
	struct group *gr;
	gid_t groups[2];
	char want[64], got[256], *rep;
	char dir[] = "/tmp/vigil-probe-XXXXXX", path[PATH_MAX];
	char *argv[] = { path, arg("report"), NULL };
	char **env;
	size_t n = 0, i, j = 0;

	if (geteuid() != 0)
		tap_skip("needs root to switch users");
	if ((pw = getpwnam("nobody")) == NULL)
		tap_skip("no user nobody");
	if ((gr = getgrnam("nogroup")) == NULL &&
	    (gr = getgrnam("nobody")) == NULL)
		tap_skip("no group nogroup");
	groups[0] = gr->gr_gid;
	groups[1] = 4242;
	probe_copy(dir, path, sizeof path);
	/*
	 * Without TSAN_OPTIONS: its suppressions file may lie where nobody
	 * cannot read it, and ThreadSanitizer then exits 66 at start.
	 */
	while (environ[n] != NULL)
		n++;
	CHECK((env = calloc(n + 1, sizeof *env)) != NULL);
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "TSAN_OPTIONS=", 13) != 0)
			env[j++] = environ[i];
	a = probe_attr(flags, "report", NULL);
	CHECK_OK(vigil_spawnattr_set_argv(a, argv));
	CHECK_OK(vigil_spawnattr_set_env(a, env));
	free(env);
	CHECK_OK(vigil_spawnattr_set_user(a, pw->pw_uid, gr->gr_gid, groups,
	    2));
	rep = report_pipe(a, NULL);
	CHECK_STR(vigil_spawn_last_path(), "vfork");
	CHECK_EQ(rnum(rep, "uid"), pw->pw_uid);
	CHECK_EQ(rnum(rep, "euid"), pw->pw_uid);
	CHECK_EQ(rnum(rep, "gid"), gr->gr_gid);
	CHECK_EQ(rnum(rep, "egid"), gr->gr_gid);
	sorted_groups(rep, got, sizeof got);
	snprintf(want, sizeof want, "%lu,%lu",
	    (unsigned long)(gr->gr_gid < 4242 ? gr->gr_gid : 4242),
	    (unsigned long)(gr->gr_gid < 4242 ? 4242 : gr->gr_gid));
	CHECK_STR(got, want);
	free(rep);
	/* No supplementary groups at all. */
	CHECK_OK(vigil_spawnattr_set_user(a, pw->pw_uid, gr->gr_gid, NULL,
	    0));
	rep = report_pipe(a, NULL);
	CHECK_STR(rget(rep, "groups"), "");
	free(rep);
	vigil_spawnattr_free(a);
	CHECK_OK(unlink(path));
	CHECK_OK(rmdir(dir));
}
BOTH(user)

/* The pidfd is CLOEXEC, not readable while the child runs, then is. */
static void
pidfd(int flags)
{
	struct vigil_spawnattr *a;
	struct pollfd pfd;
	char dir[64], file[128];
	pid_t pid;
	int fd, st;

	tmpdir_new(dir, sizeof dir);
	snprintf(file, sizeof file, "%s/report", dir);
	a = probe_attr(flags, "wait", file);
	CHECK_OK(vigil_spawn(a, &pid, &fd));
	if (fd == -1) {
		kill(pid, SIGKILL);
		wait_pid(pid);
#ifdef SYS_pidfd_open
		CHECKF(syscall(SYS_pidfd_open, getpid(), 0) == -1 &&
		    errno == ENOSYS, "no pidfd although the kernel has them");
#endif
		tap_skip("no pidfd_open here");
	}
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECKF(WAIT_FOR(access(file, F_OK) == 0, SHORT_MS),
	    "probe did not report");
	pfd.fd = fd;
	pfd.events = POLLIN;
	CHECK_EQ(poll(&pfd, 1, 0), 0);
	CHECK_OK(kill(pid, SIGTERM));
	CHECK_EQ(poll(&pfd, 1, SHORT_MS), 1);
	CHECK(pfd.revents & POLLIN);
	st = wait_pid(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	close(fd);
	vigil_spawnattr_free(a);
	tmpdir_rm(dir);
}
BOTH(pidfd)

/* Spawn argv with SEARCH; return 0 and the exit code, or -1 and errno. */
static int
search_run(int flags, char *const argv[], int *code)
{
	struct vigil_spawnattr *a;
	pid_t pid;
	int r, st;

	CHECK((a = vigil_spawnattr_new()) != NULL);
	CHECK_OK(vigil_spawnattr_set_argv(a, argv));
	CHECK_OK(vigil_spawnattr_set_flags(a, flags | VIGIL_SPAWN_SEARCH));
	if ((r = vigil_spawn(a, &pid, NULL)) == 0) {
		st = wait_pid(pid);
		CHECKF(WIFEXITED(st), "status %#x", st);
		*code = WEXITSTATUS(st);
	}
	CHECK_STR(vigil_spawn_last_path(), path_for(flags));
	vigil_spawnattr_free(a);
	return r;
}

/*
 * SEARCH finds programs in PATH, and keeps execvp()'s priorities: a later
 * directory's executable wins over an earlier non-executable file; EACCES
 * is reported over ENOENT when nothing runs.
 */
static void
search(int flags)
{
	char dir[64], d1[96], d2[96], f[128], path[512];
	char *tru[] = { arg("true"), NULL };
	char *sh[] = { arg("sh"), arg("-c"), arg("exit 7"), NULL };
	char *none[] = { arg("vigil-no-such-program"), NULL };
	char *prog[] = { arg("vigilprog"), NULL };
	char *abs[] = { arg("/bin/sh"), arg("-c"), arg("exit 3"),
	    NULL };
	int code = -1;

	CHECK_OK(setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1));
	CHECK(search_run(flags, tru, &code) == 0 && code == 0);
	CHECK(search_run(flags, sh, &code) == 0 && code == 7);
	CHECK(search_run(flags, abs, &code) == 0 && code == 3);
	errno = 0;
	CHECK(search_run(flags, none, &code) == -1 && errno == ENOENT);
	check_no_child();

	tmpdir_new(dir, sizeof dir);
	snprintf(d1, sizeof d1, "%s/d1", dir);
	snprintf(d2, sizeof d2, "%s/d2", dir);
	CHECK_OK(mkdir(d1, 0755));
	CHECK_OK(mkdir(d2, 0755));
	snprintf(f, sizeof f, "%s/vigilprog", d1);
	write_file(f, "#!/bin/sh\nexit 8\n", 0644);
	snprintf(f, sizeof f, "%s/vigilprog", d2);
	write_file(f, "#!/bin/sh\nexit 9\n", 0755);
	snprintf(path, sizeof path, "/nonexistent:%s:%s", d1, d2);
	CHECK_OK(setenv("PATH", path, 1));
	CHECK(search_run(flags, prog, &code) == 0 && code == 9);
	snprintf(path, sizeof path, "%s:/nonexistent", d1);
	CHECK_OK(setenv("PATH", path, 1));
	errno = 0;
	CHECK(search_run(flags, prog, &code) == -1 && errno == EACCES);
	check_no_child();
	tmpdir_rm(dir);
}
BOTH(search)

/* With a pty as 0/1/2 and CTTY, the child's group is the foreground. */
static void
ctty(int flags)
{
	struct vigil_spawnattr *a;
	char dir[64], file[128], *rep;
	int m, s;
	pid_t pid;

	if ((m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		tap_skip("no pty: %s", strerror(errno));
	CHECK_OK(grantpt(m));
	CHECK_OK(unlockpt(m));
	CHECK((s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC)) != -1);
	tmpdir_new(dir, sizeof dir);
	snprintf(file, sizeof file, "%s/report", dir);
	a = probe_attr(flags | VIGIL_SPAWN_CTTY, "report", file);
	CHECK_OK(vigil_spawnattr_set_fd(a, 0, s));
	CHECK_OK(vigil_spawnattr_set_fd(a, 1, s));
	CHECK_OK(vigil_spawnattr_set_fd(a, 2, s));
	rep = report_file(a, file, &pid);
	CHECK_STR(vigil_spawn_last_path(), "vfork");
	CHECK_EQ(rnum(rep, "sid"), pid);
	CHECK_EQ(rnum(rep, "tty_fg"), pid);
	free(rep);
	vigil_spawnattr_free(a);
	close(s);
	close(m);
	tmpdir_rm(dir);
}
BOTH(ctty)

/* In a new session whose controlling tty is s: spawn into a new group. */
static void
ctty_group_in_session(int s, int flags)
{
	struct vigil_spawnattr *a;
	char *rep;
	pid_t pid;

	CHECK(setsid() != -1);
	CHECK_OK(ioctl(s, TIOCSCTTY, 0));
	a = probe_attr(flags | VIGIL_SPAWN_CTTY | VIGIL_SPAWN_NOSETSID |
	    VIGIL_SPAWN_SETPGROUP, "report", NULL);
	CHECK_OK(vigil_spawnattr_set_fd(a, 0, s));
	CHECK_OK(vigil_spawnattr_set_fd(a, 2, s));
	rep = report_pipe(a, &pid);
	CHECK_STR(vigil_spawn_last_path(), "vfork");
	CHECK_EQ(rnum(rep, "sid"), getpid());
	CHECK_EQ(rnum(rep, "pgid"), pid);
	CHECK_EQ(rnum(rep, "tty_fg"), pid);
	free(rep);
	vigil_spawnattr_free(a);
}

/*
 * CTTY with NOSETSID|SETPGROUP, from a session that owns the pty: the
 * child's new group becomes the foreground group. A case is a group leader
 * and cannot setsid(), so a forked child of ours plays the session.
 */
static void
ctty_group(int flags)
{
	int m, s;
	pid_t pid;

	if ((m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		tap_skip("no pty: %s", strerror(errno));
	CHECK_OK(grantpt(m));
	CHECK_OK(unlockpt(m));
	CHECK((s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC)) != -1);
	CHECK((pid = fork()) != -1);
	if (pid == 0) {
		ctty_group_in_session(s, flags);
		_exit(0);
	}
	check_exit(pid, 0);
	close(s);
	close(m);
}
BOTH(ctty_group)

/* NOSETSID keeps our session and group; with SETPGROUP, a new group. */
static void
nosetsid(int flags)
{
	struct vigil_spawnattr *a;
	char *rep;
	pid_t pid;

	a = probe_attr(flags | VIGIL_SPAWN_NOSETSID, "report", NULL);
	rep = report_pipe(a, &pid);
	CHECK_STR(vigil_spawn_last_path(), path_for(flags));
	CHECK_EQ(rnum(rep, "sid"), getsid(0));
	CHECK_EQ(rnum(rep, "pgid"), getpgrp());
	free(rep);
	CHECK_OK(vigil_spawnattr_set_flags(a, flags | VIGIL_SPAWN_NOSETSID |
	    VIGIL_SPAWN_SETPGROUP));
	rep = report_pipe(a, &pid);
	CHECK_EQ(rnum(rep, "sid"), getsid(0));
	CHECK_EQ(rnum(rep, "pgid"), pid);
	free(rep);
	vigil_spawnattr_free(a);
}
BOTH(nosetsid)

/* Every signal's membership in two masks is the same. */
static void
check_same_mask(const sigset_t *a, const sigset_t *b, const char *when)
{
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		CHECKF(sigismember(a, sig) == sigismember(b, sig),
		    "%s: signal %d changed in the caller's mask", when, sig);
}

/* The caller's mask is the same after a spawn, successful or not. */
static void
mask(int flags)
{
	struct vigil_spawnattr *a;
	char *tru[] = { arg("/bin/true"), NULL };
	char *bad[] = { arg("/nonexistent/prog"), NULL };
	sigset_t set, after;
	pid_t pid;
	int round;

	CHECK((a = vigil_spawnattr_new()) != NULL);
	CHECK_OK(vigil_spawnattr_set_flags(a, flags));
	for (round = 0; round < 3; round++) {
		sigemptyset(&set);
		if (round == 1) {
			sigaddset(&set, SIGUSR2);
			sigaddset(&set, SIGWINCH);
			sigaddset(&set, SIGRTMIN + 3);
		} else if (round == 2)
			sigfillset(&set);
		CHECK_EQ(pthread_sigmask(SIG_SETMASK, &set, NULL), 0);
		CHECK_EQ(pthread_sigmask(SIG_SETMASK, NULL, &set), 0);
		CHECK_OK(vigil_spawnattr_set_argv(a, tru));
		CHECK_OK(vigil_spawn(a, &pid, NULL));
		CHECK_EQ(pthread_sigmask(SIG_SETMASK, NULL, &after), 0);
		check_same_mask(&set, &after, "success");
		check_exit(pid, 0);
		CHECK_OK(vigil_spawnattr_set_argv(a, bad));
		CHECK(vigil_spawn(a, &pid, NULL) == -1);
		CHECK_EQ(pthread_sigmask(SIG_SETMASK, NULL, &after), 0);
		check_same_mask(&set, &after, "failure");
		CHECK_STR(vigil_spawn_last_path(), path_for(flags));
	}
	vigil_spawnattr_free(a);
}
BOTH(mask)

/* Which path each kind of request takes. */
static void
t_path_choice(void)
{
	struct vigil_spawnattr *a;
	char *tru[] = { arg("/bin/true"), NULL };
	pid_t pid;

	CHECK_STR(vigil_spawn_last_path(), "none");
	CHECK((a = vigil_spawnattr_new()) != NULL);
	CHECK_OK(vigil_spawnattr_set_argv(a, tru));
	CHECK_OK(vigil_spawn(a, &pid, NULL));
	check_exit(pid, 0);
	CHECK_STR(vigil_spawn_last_path(), DEFAULT_PATH);
	CHECK_OK(vigil_spawnattr_set_umask(a, 077));
	CHECK_OK(vigil_spawn(a, &pid, NULL));
	check_exit(pid, 0);
	CHECK_STR(vigil_spawn_last_path(), "vfork");
	vigil_spawnattr_free(a);
	if (geteuid() != 0)
		return;
	/* A user switch, even to ourselves, needs the vfork path. */
	CHECK((a = vigil_spawnattr_new()) != NULL);
	CHECK_OK(vigil_spawnattr_set_argv(a, tru));
	CHECK_OK(vigil_spawnattr_set_user(a, 0, 0, NULL, 0));
	CHECK_OK(vigil_spawn(a, &pid, NULL));
	check_exit(pid, 0);
	CHECK_STR(vigil_spawn_last_path(), "vfork");
	vigil_spawnattr_free(a);
}

#define THREADS		4
#define PER_THREAD	100

/*
 * One spawner thread: PER_THREAD children of sh -c "exit N", each reaped by
 * pid; even threads take the default path, odd ones the vfork path, and
 * vigil_spawn_last_path() is per thread.
 */
static void *
spawner(void *p)
{
	int n = (int)(long)p, flags = (n & 1) ? FORCE : 0, i;
	char code[32];
	char *argv[] = { arg("/bin/sh"), arg("-c"), code, NULL };
	struct vigil_spawnattr *a;
	pid_t pid;

	snprintf(code, sizeof code, "exit %d", 10 + n);
	CHECK((a = vigil_spawnattr_new()) != NULL);
	CHECK_OK(vigil_spawnattr_set_argv(a, argv));
	CHECK_OK(vigil_spawnattr_set_flags(a, flags));
	for (i = 0; i < PER_THREAD; i++) {
		CHECK_OK(vigil_spawn(a, &pid, NULL));
		CHECK_STR(vigil_spawn_last_path(), path_for(flags));
		check_exit(pid, 10 + n);
	}
	vigil_spawnattr_free(a);
	return NULL;
}

static void
t_threads(void)
{
	pthread_t t[THREADS];
	long i;

	for (i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, spawner, (void *)i), 0);
	for (i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_join(t[i], NULL), 0);
	check_no_child();
}

/* A listening Unix socket at dir/sock; its path in sun. */
static int
listener(const char *dir, struct sockaddr_un *sun)
{
	int fd;

	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof sun->sun_path, "%s/sock", dir);
	CHECK((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1);
	CHECK_OK(bind(fd, (struct sockaddr *)sun, sizeof *sun));
	CHECK_OK(listen(fd, 4));
	return fd;
}

/* Connect to sun and read what the probe answers, to EOF. */
static char *
ask(const struct sockaddr_un *sun)
{
	char *s;
	int fd;

	CHECK((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1);
	CHECK_OK(connect(fd, (const struct sockaddr *)sun, sizeof *sun));
	s = slurp_fd(fd);
	close(fd);
	return s;
}

/*
 * Run "probe listen" with a listening socket at fd 3, env (NULL: ours),
 * and VIGIL_SPAWN_LISTEN_PID: the child sees LISTEN_PID as its own pid,
 * once, whatever envp held, and can accept on fd 3 as sd_listen_fds(3)
 * would let it; the vfork path is taken. The report in *repp.
 */
static pid_t
listen_run(int flags, char *const env[], char **repp)
{
	struct vigil_spawnattr *a;
	struct sockaddr_un sun;
	char dir[64], file[128], want[64], *answer;
	pid_t pid;
	int lfd;

	tmpdir_new(dir, sizeof dir);
	snprintf(file, sizeof file, "%s/report", dir);
	lfd = listener(dir, &sun);
	a = probe_attr(flags | VIGIL_SPAWN_LISTEN_PID, "listen", file);
	CHECK_OK(vigil_spawnattr_set_env(a, env));
	CHECK_OK(vigil_spawnattr_set_fd(a, 3, lfd));
	CHECK_OK(vigil_spawn(a, &pid, NULL));
	CHECK_STR(vigil_spawn_last_path(), "vfork");
	/* Only the child's copy listens: a child that never accepts fails. */
	close(lfd);
	answer = ask(&sun);
	check_exit(pid, 0);
	snprintf(want, sizeof want, "pid=%ld\n", (long)pid);
	CHECK_STR(answer, want);
	free(answer);
	*repp = slurp(file);
	CHECK_EQ(rnum(*repp, "env_LISTEN_PID"), pid);
	CHECK_EQ(rnum(*repp, "listen_pids"), 1);
	CHECK_STR(rget(*repp, "fds"), "0,1,2,3");
	vigil_spawnattr_free(a);
	tmpdir_rm(dir);
	return pid;
}

/*
 * VIGIL_SPAWN_LISTEN_PID with an explicit environment holding stale
 * LISTEN_PID entries, then with ours: only LISTEN_PID changes, in the
 * child alone.
 */
static void
listen_pid(int flags)
{
	char *env[] = { arg("LISTEN_PID=1"), arg("FOO=bar baz"),
	    arg("LISTEN_FDS=1"), arg("LISTEN_FDNAMES=web"),
	    arg("LISTEN_PID=2"), arg("PATH=/bin"), NULL };
	char *rep;

	CHECK_OK(setenv("PARENTONLY", "1", 1));
	listen_run(flags, env, &rep);
	CHECK_STR(rget(rep, "env_FOO"), "bar baz");
	CHECK_STR(rget(rep, "env_LISTEN_FDS"), "1");
	CHECK_STR(rget(rep, "env_LISTEN_FDNAMES"), "web");
	CHECK(rget(rep, "env_PARENTONLY") == NULL);
	CHECK_STR(env[0], "LISTEN_PID=1");
	CHECK_STR(env[4], "LISTEN_PID=2");
	free(rep);

	CHECK_OK(setenv("LISTEN_PID", "99999", 1));
	CHECK_OK(setenv("LISTEN_FDS", "1", 1));
	CHECK_OK(setenv("FOO", "ours", 1));
	listen_run(flags, NULL, &rep);
	CHECK_STR(rget(rep, "env_PARENTONLY"), "1");
	CHECK_STR(rget(rep, "env_FOO"), "ours");
	CHECK_STR(getenv("LISTEN_PID"), "99999");
	free(rep);
}
BOTH(listen_pid)

static void *
listen_pid_thread(void *arg)
{
	listen_pid(*(int *)arg);
	return NULL;
}

/* The same from a thread that is not the main one, all signals blocked. */
static void
t_listen_pid_thread(void)
{
	pthread_t t;
	sigset_t all;
	int flags = 0;

	sigfillset(&all);
	CHECK_EQ(pthread_sigmask(SIG_SETMASK, &all, NULL), 0);
	CHECK_EQ(pthread_create(&t, NULL, listen_pid_thread, &flags), 0);
	CHECK_EQ(pthread_join(t, NULL), 0);
	check_no_child();
}

#define BOTH_CASES(name, t)						\
	TAP_CASE(t_##name##_spawn, t), TAP_CASE(t_##name##_vfork, t)

static const struct tap_case cases[] = {
	TAP_CASE(t_attr_errors, 10),
	TAP_CASE(t_path_choice, 10),
	BOTH_CASES(basic, 10),
	BOTH_CASES(limits, 10),
	BOTH_CASES(signals, 10),
	BOTH_CASES(sigterm, 10),
	BOTH_CASES(errors, 10),
	TAP_CASE(t_setup_error, 10),
	BOTH_CASES(fds, 10),
	BOTH_CASES(fdrace, 30),
	BOTH_CASES(user, 10),
	BOTH_CASES(pidfd, 10),
	BOTH_CASES(search, 10),
	BOTH_CASES(ctty, 10),
	BOTH_CASES(ctty_group, 10),
	BOTH_CASES(nosetsid, 10),
	BOTH_CASES(mask, 10),
	BOTH_CASES(listen_pid, 10),
	TAP_CASE(t_listen_pid_thread, 10),
	TAP_CASE(t_threads, 30),
};

int
main(void)
{
	return tap_run(cases, sizeof cases / sizeof cases[0]);
}
