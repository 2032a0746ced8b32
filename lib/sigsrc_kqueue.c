/*
 * Signal source, kqueue backend (FreeBSD and the other BSDs, macOS).
 *
 * One EVFILT_SIGNAL filter per signal of the set on a close-on-exec kqueue.
 * The filter counts a signal when it is generated, whatever its disposition
 * and mask, so the caller keeps the set blocked (rule 1) and the signals get
 * SIG_IGN while the source exists, so that none piles up as pending behind
 * the mask. SIGCHLD is the exception and keeps its disposition: SIG_IGN
 * would turn on automatic reaping and lose every exit status. Dispositions
 * are restored by vigil_sigsrc_free(). A signal comes with no siginfo: code,
 * pid and uid are 0, and repeated signals are counted, not queued, so one
 * read stands for any number of them.
 *
 * The filters see only signals generated after they were added; one that
 * was already pending (blocked since the start of main(), say) would then
 * be discarded by SIG_IGN. vigil_sigsrc_new() notes those pending signals
 * first and reports them on the first reads, waking the poller with a user
 * event (EVFILT_USER, where the system has it).
 *
 * Fork: a kqueue is not inherited by a child. In the child,
 * vigil_sigsrc_read() fails with EBADF, and vigil_sigsrc_free() restores the
 * child's dispositions without closing the descriptor number (it may have
 * been reused there); the child then makes its own source.
 *
 * Thread safety: one thread reads a source. This file is compiled only on
 * systems with <sys/event.h>; the whole of it is guarded so that a Linux
 * tree never needs it.
 */
#include "config.h"

#if defined(VIGIL_SIGSRC_KQUEUE) && defined(HAVE_SYS_EVENT_H)

#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define KQ_EARLY_IDENT	1	/* EVFILT_USER ident: early signals */

struct vigil_sigsrc {
	int		 kq;
	pid_t		 owner;
	sigset_t	 set;	/* the signals reported */
	sigset_t	 ign;	/* those given SIG_IGN: all but SIGCHLD */
	sigset_t	 early;	/* pending at creation, not yet read */
	struct sigaction old[SIGSRC_NSIG];
};

static int
kq_open(void)
{
#ifdef KQUEUE_CLOEXEC
	return kqueuex(KQUEUE_CLOEXEC);
#else
	int kq, saved;

	/* A kqueue is not inherited by fork, so no fork can race this. */
	if ((kq = kqueue()) == -1)
		return -1;
	if (fcntl(kq, F_SETFD, FD_CLOEXEC) == -1) {
		saved = errno;
		(void)close(kq);
		errno = saved;
		return -1;
	}
	return kq;
#endif
}

static int
kq_add_signals(const struct vigil_sigsrc *s)
{
	struct kevent kev;
	int signo;

	for (signo = 1; signo < SIGSRC_NSIG; signo++) {
		if (sigismember(&s->set, signo) != 1)
			continue;
		EV_SET(&kev, signo, EVFILT_SIGNAL, EV_ADD | EV_CLEAR, 0, 0, 0);
		if (kevent(s->kq, &kev, 1, NULL, 0, NULL) == -1)
			return -1;
	}
	return 0;
}

/*
 * Note the signals of the set already pending. Called after the filters
 * are added and before SIG_IGN is set: a signal in between is reported
 * twice, never lost.
 */
static int
kq_take_pending(struct vigil_sigsrc *s)
{
	sigset_t pend;
	int signo, any = 0;
#ifdef EVFILT_USER
	struct kevent kev[2];
#endif

	if (sigpending(&pend) == -1)
		return -1;
	for (signo = 1; signo < SIGSRC_NSIG; signo++) {
		if (sigismember(&s->set, signo) == 1 &&
		    sigismember(&pend, signo) == 1) {
			(void)sigaddset(&s->early, signo);
			any = 1;
		}
	}
	if (!any)
		return 0;
#ifdef EVFILT_USER
	EV_SET(&kev[0], KQ_EARLY_IDENT, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0,
	    0);
	EV_SET(&kev[1], KQ_EARLY_IDENT, EVFILT_USER, 0, NOTE_TRIGGER, 0, 0);
	return kevent(s->kq, kev, 2, NULL, 0, NULL);
#else
	/* No user event: they are read with the next signal. */
	return 0;
#endif
}

struct vigil_sigsrc *
vigil_sigsrc_new(const sigset_t *set)
{
	struct vigil_sigsrc *s;
	struct sigaction ign;
	int saved;

	if (sigsrc_check_set_(set) == -1)
		return NULL;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->owner = getpid();
	s->set = *set;
	s->ign = *set;
	(void)sigdelset(&s->ign, SIGCHLD);
	(void)sigemptyset(&s->early);
	if ((s->kq = kq_open()) == -1)
		goto fail;
	if (kq_add_signals(s) == -1 || kq_take_pending(s) == -1)
		goto fail;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	(void)sigemptyset(&ign.sa_mask);
	if (sigsrc_install_(&s->ign, &ign, s->old) == -1)
		goto fail;
	return s;

fail:
	saved = errno;
	if (s->kq != -1)
		(void)close(s->kq);
	free(s);
	errno = saved;
	return NULL;
}

int
vigil_sigsrc_fd(const struct vigil_sigsrc *s)
{
	return s->kq;
}

/* The lowest signal noted at creation and not yet read, or 0. */
static int
kq_take_early(struct vigil_sigsrc *s)
{
	int signo;

	for (signo = 1; signo < SIGSRC_NSIG; signo++) {
		if (sigismember(&s->early, signo) == 1) {
			(void)sigdelset(&s->early, signo);
			return signo;
		}
	}
	return 0;
}

int
vigil_sigsrc_read(struct vigil_sigsrc *s, struct vigil_siginfo *si)
{
	struct kevent kev;
	struct timespec zero = { 0, 0 };
	int n, signo;

	if (getpid() != s->owner) {
		errno = EBADF;
		return -1;
	}
	memset(si, 0, sizeof *si);
	if ((signo = kq_take_early(s)) != 0) {
		si->signo = signo;
		return 1;
	}
	for (;;) {
		n = kevent(s->kq, NULL, 0, &kev, 1, &zero);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n;
		/* Skip the user event: its signals were taken above. */
		if (kev.filter != EVFILT_SIGNAL)
			continue;
		si->signo = (int)kev.ident;
		return 1;
	}
}

void
vigil_sigsrc_free(struct vigil_sigsrc *s)
{
	int saved = errno;

	if (s == NULL)
		return;
	/* In a child the number is not our kqueue (see the top). */
	if (getpid() == s->owner)
		(void)close(s->kq);
	sigsrc_restore_(&s->ign, s->old);
	free(s);
	errno = saved;
}

#endif /* VIGIL_SIGSRC_KQUEUE && HAVE_SYS_EVENT_H */
