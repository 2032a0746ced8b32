/*
 * The pid file (SPEC 4 -p): created, locked and kept open for the life of
 * the process, so a second vigild on the same file refuses to start. A
 * stale file (its process gone, so its lock too) is simply reused.
 *
 * The lock is an fcntl() write lock on the whole file. Such locks belong
 * to the process: they are not inherited by fork(), so -d must detach
 * (double fork) BEFORE pidfile_open(), and the pid written is the final
 * one. They are released when the process closes ANY descriptor of the
 * file, so nothing else in vigild may open the pid file. They survive
 * execve() only if the descriptor does; ours is close-on-exec, so a
 * re-exec'd image must call pidfile_open() again (taking a lock the
 * process already holds succeeds).
 *
 * Main thread only.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reexec.h"
#include "vigild.h"
#include "xmalloc.h"

#define PIDFILE_TRIES	8

static int	 pidfile_fd = -1;
static char	*pidfile_path;
static pid_t	 pidfile_pid;	/* who opened it; not a forked child */

/* Lock the whole file without waiting; the holder's pid in *holder. */
static int
pidfile_lock(int fd, pid_t *holder)
{
	struct flock fl;

	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	*holder = 0;
	if (fcntl(fd, F_SETLK, &fl) == 0)
		return 0;
	if (errno != EAGAIN && errno != EACCES)
		return -1;
	/* The lock's owner, in case the file says nothing useful yet. */
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
		*holder = fl.l_pid;
	errno = EWOULDBLOCK;
	return -1;
}

/* The pid written in the file, or fallback if it holds none. */
static pid_t
pidfile_read(int fd, pid_t fallback)
{
	char buf[32], *end;
	ssize_t n;
	long v;

	if ((n = pread(fd, buf, sizeof buf - 1, 0)) <= 0)
		return fallback;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || v <= 0 || (*end != '\n' &&
	    *end != '\0'))
		return fallback;
	return (pid_t)v;
}

/* Replace the file's content with our pid and flush it to disk. */
static int
pidfile_write(int fd)
{
	char buf[32];
	int n;

	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1)
		return -1;
	if (pwrite(fd, buf, (size_t)n, 0) != n) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return fsync(fd);
}

/*
 * Open and lock path. Returns the locked descriptor, or -1 with errno
 * (EWOULDBLOCK: held by *holder) and what failed in *what. The lock is
 * retried on a fresh open when the file was replaced under us (unlinked by
 * its exiting owner between our open() and our lock), so we never lock a
 * file nobody can see.
 */
static int
pidfile_acquire(const char *path, pid_t *holder, const char **what)
{
	struct stat fst, pst;
	int fd, i, saved;

	for (i = 0; i < PIDFILE_TRIES; i++) {
		*what = "open";
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd == -1)
			return -1;
		*what = "lock";
		if (pidfile_lock(fd, holder) == -1) {
			saved = errno;
			if (saved == EWOULDBLOCK)
				*holder = pidfile_read(fd, *holder);
			close(fd);
			errno = saved;
			return -1;
		}
		if (fstat(fd, &fst) == 0 && stat(path, &pst) == 0 &&
		    fst.st_dev == pst.st_dev && fst.st_ino == pst.st_ino)
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	return -1;
}

/*
 * Create (or reuse) the pid file at path, lock it and write our pid.
 * Returns 0; or -1 with a message in err, "vigild is already running (pid
 * N, pid file PATH)" when another process holds it. Call once per process.
 */
int
pidfile_open(const char *path, char *err, size_t errlen)
{
	const char *what;
	pid_t holder;
	int fd;

	if (pidfile_fd != -1 && pidfile_pid == getpid()) {
		snprintf(err, errlen, "pid file %s: already open", path);
		return -1;
	}
	if (pidfile_fd != -1) {
		/* Our parent's, inherited by fork(): not ours to keep. */
		close(pidfile_fd);
		pidfile_fd = -1;
	}
	if ((fd = pidfile_acquire(path, &holder, &what)) == -1) {
		if (errno == EWOULDBLOCK && holder > 0)
			snprintf(err, errlen, "vigild is already running "
			    "(pid %ld, pid file %s)", (long)holder, path);
		else if (errno == EWOULDBLOCK)
			snprintf(err, errlen, "vigild is already running "
			    "(pid file %s is locked)", path);
		else
			snprintf(err, errlen, "cannot %s pid file %s: %s",
			    what, path, strerror(errno));
		return -1;
	}
	errno = 0;
	if (pidfile_write(fd) == -1) {
		snprintf(err, errlen, "cannot write pid file %s: %s", path,
		    strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	free(pidfile_path);
	pidfile_path = xstrdup(path);
	pidfile_fd = fd;
	pidfile_pid = getpid();
	return 0;
}

/*
 * Remove the pid file at a clean exit. Unlink while the lock is still
 * held, then close: a vigild starting meanwhile either fails on our lock
 * or creates a new file. A forked child that never exec'd does nothing.
 */
void
pidfile_remove(void)
{
	if (pidfile_fd == -1 || pidfile_pid != getpid())
		return;
	unlink(pidfile_path);
	close(pidfile_fd);
	pidfile_fd = -1;
	free(pidfile_path);
	pidfile_path = NULL;
}

/* ---- re-exec ------------------------------------------------------- */

/* The descriptor, and its lock, cross the exec: execve() keeps both. */
void
pidfile_save(FILE *f)
{
	if (pidfile_fd == -1 || pidfile_pid != getpid())
		return;
	rx_begin(f, "pid");
	rx_int(f, "fd", pidfile_fd);
	rx_str(f, "path", pidfile_path);
	rx_finish(f);
	rx_keep_fd(pidfile_fd);
}

void
pidfile_restore(struct rx_rec *r)
{
	const char *path;
	int fd = (int)rx_getint(r, "fd", -1);

	if (fd < 0 || (path = rx_get(r, "path", NULL)) == NULL)
		return;
	rx_cloexec(fd);
	pidfile_fd = fd;
	pidfile_path = xstrdup(path);
	pidfile_pid = getpid();
}
