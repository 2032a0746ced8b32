/*
 * Signal source: the part shared by the three backends.
 *
 * Exactly one backend is compiled, chosen by configure: sigsrc_signalfd.c
 * (Linux), sigsrc_kqueue.c (the BSDs, macOS) or sigsrc_selfpipe.c (anywhere).
 * Each provides vigil_sigsrc_new(), _fd(), _read() and _free(); this file
 * holds what they have in common: the check of the caller's set, and the
 * save/restore of dispositions used by the backends that change them.
 *
 * Everything here is thread-safe and touches no shared state; the helpers
 * that change dispositions change process-wide state, as sigaction() does.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>

#include "internal.h"

/*
 * Signals a source may never take: SIGKILL and SIGSTOP cannot be caught,
 * and the synchronous fault signals must stay unblocked and at their
 * default action everywhere (rule 3: a crash is a crash, not a hang).
 */
static const int sigsrc_refused[] = {
	SIGKILL, SIGSTOP,
	SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT
};

/*
 * 0 if set may be given to a source, -1 with EINVAL otherwise: a refused
 * signal, or one at or above SIGSRC_NSIG, which the backends never reach
 * (FreeBSD's NSIG stops at 32 while its sigset_t holds 128 signals; such a
 * signal would be unblocked by the self-pipe with no handler behind it).
 */
int
sigsrc_check_set_(const sigset_t *set)
{
	size_t i;
	int signo;

	if (set == NULL)
		goto bad;
	for (i = 0; i < sizeof sigsrc_refused / sizeof sigsrc_refused[0];
	    i++)
		if (sigismember(set, sigsrc_refused[i]) == 1)
			goto bad;
	for (signo = SIGSRC_NSIG; signo < (int)(sizeof *set * CHAR_BIT);
	    signo++)
		if (sigismember(set, signo) == 1)
			goto bad;
	return 0;

bad:
	errno = EINVAL;
	return -1;
}

/*
 * Install act for every signal in set, saving the previous action of signal
 * n in old[n] (old has SIGSRC_NSIG entries). On failure the signals already
 * changed get their old action back and errno is that of the failure.
 */
int
sigsrc_install_(const sigset_t *set, const struct sigaction *act,
    struct sigaction *old)
{
	int signo, failed, saved;

	for (signo = 1; signo < SIGSRC_NSIG; signo++) {
		if (sigismember(set, signo) != 1)
			continue;
		if (sigaction(signo, act, &old[signo]) == -1)
			goto fail;
	}
	return 0;

fail:
	saved = errno;
	failed = signo;
	for (signo = 1; signo < failed; signo++)
		if (sigismember(set, signo) == 1)
			(void)sigaction(signo, &old[signo], NULL);
	errno = saved;
	return -1;
}

/* Give every signal in set its action saved by sigsrc_install_(). */
void
sigsrc_restore_(const sigset_t *set, const struct sigaction *old)
{
	int signo, saved = errno;

	for (signo = 1; signo < SIGSRC_NSIG; signo++)
		if (sigismember(set, signo) == 1)
			(void)sigaction(signo, &old[signo], NULL);
	errno = saved;
}

const char *
vigil_sigsrc_backend(void)
{
#if defined(VIGIL_SIGSRC_SIGNALFD)
	return "signalfd";
#elif defined(VIGIL_SIGSRC_KQUEUE)
	return "kqueue";
#else
	return "selfpipe";
#endif
}
