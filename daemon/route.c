/*
 * Signal routing: what vigild does with a signal it took from the signal
 * source. SIGCHLD means "reap"; everything else follows the `signals'
 * table of the configuration (defaults: TERM, INT -> shutdown; HUP ->
 * reload; USR1 -> reopen-logs). A signal with no rule is ignored and
 * logged at debug: vigild never dies of PIPE, ALRM, USR2 and the like.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "log.h"
#include "reexec.h"
#include "vigild.h"

static const char *
signame(int signo)
{
	const char *n = config_signal_name(signo);

	return n != NULL ? n : "a signal";
}

/* Does target t select service instance s? */
static int
target_matches(const struct route_target *t, const struct svc *s)
{
	switch (t->kind) {
	case TARGET_ALL:
		return 1;
	case TARGET_SERVICE:
		return strcmp(t->name, s->conf->name) == 0;
	case TARGET_INSTANCE:
		return strcmp(t->name, s->conf->name) == 0 &&
		    t->instance == s->instance;
	case TARGET_GROUP:
		return config_service_in_group(s->conf, t->name);
	}
	return 0;
}

/* Forward: `as' first, then each service's own rewrite map. */
static void
forward(const struct route *r)
{
	struct svc *s;
	size_t i;
	int sig;

	TAILQ_FOREACH(s, &svcs, entry) {
		if (s->pid <= 0)
			continue;
		for (i = 0; i < r->ntargets; i++)
			if (target_matches(&r->targets[i], s))
				break;
		if (i == r->ntargets)
			continue;
		sig = config_service_rewrite(s->conf, r->as);
		log_svc(LOG_LEVEL_DEBUG, s->name, "forwarding %s as %s",
		    signame(r->signo), signame(sig));
		svc_signal(s, sig);
	}
}

static void
reload_done(int ok, void *arg)
{
	(void)arg;
	(void)ok;
}

void
route_signal(const struct vigil_siginfo *si)
{
	const struct route *r;

	if (si->signo == SIGCHLD) {
		reap_children();
		return;
	}
	if ((r = config_route_find(vd.conf, si->signo)) == NULL) {
		log_debug("ignoring %s from pid %d", signame(si->signo),
		    (int)si->pid);
		return;
	}
	log_debug("%s from pid %d", signame(si->signo), (int)si->pid);
	switch (r->action) {
	case ROUTE_IGNORE:
		break;
	case ROUTE_SHUTDOWN:
		log_debug("%s: shutting down", signame(si->signo));
		svc_shutdown_all();
		break;
	case ROUTE_RELOAD:
		log_info("%s: reloading %s", signame(si->signo), vd.conf_path);
		reload_start(reload_done, NULL);
		break;
	case ROUTE_REOPEN_LOGS:
		log_info("%s: no log files to reopen", signame(si->signo));
		break;
	case ROUTE_REEXEC:
		log_info("%s: re-executing", signame(si->signo));
		reexec_request(0);
		break;
	case ROUTE_FORWARD:
		forward(r);
		break;
	}
}
