/*
 * Signal source, signalfd backend (Linux).
 *
 * The caller keeps the signals blocked in every thread (rule 1); a signal
 * then stays pending for the process until read(2) on the signalfd dequeues
 * it with its siginfo. No handler is installed and no disposition changed,
 * so nothing runs on any thread when a signal arrives and no thread ever
 * sees EINTR because of the source.
 *
 * Thread safety: one thread reads a given source. Fork: the descriptor is
 * inherited, but epoll does not report an inherited signalfd as readable,
 * and a read in the child would take the child's own signals through the
 * parent's object; so vigil_sigsrc_read() refuses (EBADF) in any process
 * but the one that made the source, as the other backends do (comparing
 * the pid libvigil keeps, which costs no system call on the hot path). The child
 * frees the inherited source (which only closes its copy of the descriptor)
 * and makes its own. Never call signalfd() on an inherited descriptor: that
 * would change the set of the parent's source too.
 */
#include "config.h"

#include <sys/signalfd.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct vigil_sigsrc {
	int	fd;
	pid_t	owner;		/* the process that made it */
};

struct vigil_sigsrc *
vigil_sigsrc_new(const sigset_t *set)
{
	struct vigil_sigsrc *s;

	if (sigsrc_check_set_(set) == -1)
		return NULL;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	if ((s->fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		free(s);
		return NULL;
	}
	s->owner = getpid();
	return s;
}

int
vigil_sigsrc_fd(const struct vigil_sigsrc *s)
{
	return s->fd;
}

/* Dequeue one pending signal of the set; 0 when none is pending. */
int
vigil_sigsrc_read(struct vigil_sigsrc *s, struct vigil_siginfo *si)
{
	struct signalfd_siginfo ssi;
	ssize_t n;

	if (vigil_self_pid_ != s->owner) {
		errno = EBADF;
		return -1;
	}
	do
		n = read(s->fd, &ssi, sizeof ssi);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN ? 0 : -1;
	if ((size_t)n != sizeof ssi) {
		/* The kernel only returns whole records. */
		errno = EIO;
		return -1;
	}
	memset(si, 0, sizeof *si);
	si->signo = (int)ssi.ssi_signo;
	si->code = ssi.ssi_code;
	si->pid = (pid_t)ssi.ssi_pid;
	si->uid = (uid_t)ssi.ssi_uid;
	return 1;
}

/* Close the descriptor; signals of the set stay blocked and pending. */
void
vigil_sigsrc_free(struct vigil_sigsrc *s)
{
	int saved = errno;

	if (s == NULL)
		return;
	(void)close(s->fd);
	free(s);
	errno = saved;
}
