/*
 * Reload (SPEC 4.3): the new file is parsed and checked on a pool worker
 * (config_load is thread-safe), so the main loop never blocks on the disk;
 * its done callback, on the main loop, applies the diff: services removed
 * are stopped and forgotten, new ones started, changed ones restarted,
 * unchanged ones keep their process. A file with any error changes
 * nothing; every FILE:LINE error is logged.
 *
 * A removed service may still be stopping, and it points into the old
 * configuration, so old configurations are kept on a list and freed once
 * no service refers to them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "reexec.h"
#include "vigild.h"
#include "xmalloc.h"

struct reload_job {
	char			*path;
	struct config		*cf;
	struct config_diag	 diag;
	void			(*done)(int, void *);
	void			*arg;
};

struct retired {
	struct config		*cf;
	TAILQ_ENTRY(retired)	 entry;
};
static TAILQ_HEAD(, retired) retired = TAILQ_HEAD_INITIALIZER(retired);
static struct event	*sweep_ev;
static int		 in_progress;
/* What reload_errors() returns, set only while a done callback runs. */
static const char *const *done_errors;
static size_t		 done_nerrors;

/* On a worker: parse and check. Touches nothing shared. */
static void
reload_parse(void *arg)
{
	struct reload_job *j = arg;

	j->cf = config_load(j->path, &j->diag);
}

static int
conf_in_use(const struct config *cf)
{
	struct svc *s;

	TAILQ_FOREACH(s, &svcs, entry)
		if (s->conf >= cf->services &&
		    s->conf < cf->services + cf->nservices)
			return 1;
	return 0;
}

/* Forget stopped removed services; free configurations nobody uses. */
static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct svc *s, *st;
	struct retired *r, *rt;

	(void)fd;
	(void)what;
	(void)arg;
	TAILQ_FOREACH_SAFE(s, &svcs, entry, st)
		if (s->remove_after_stop && (s->state == SVC_STOPPED ||
		    s->state == SVC_EXITED || s->state == SVC_FATAL)) {
			log_svc(LOG_LEVEL_INFO, s->name, "removed");
			svc_remove(s);
		}
	TAILQ_FOREACH_SAFE(r, &retired, entry, rt)
		if (!conf_in_use(r->cf)) {
			TAILQ_REMOVE(&retired, r, entry);
			config_free(r->cf);
			free(r);
		}
}

/* Do services still run under a configuration a reload replaced? */
int
reload_busy(void)
{
	return !TAILQ_EMPTY(&retired);
}

int
reload_parsing(void)
{
	return in_progress;
}

void
reload_sweep_soon(void)
{
	if (sweep_ev == NULL)
		sweep_ev = event_new(vd.base, -1, 0, sweep_cb, NULL);
	event_active(sweep_ev, 0, 0);
}

/* Keys that cannot change live keep their old value, with a warning. */
static void
keep_fixed_keys(struct config *ncf, const struct config *ocf)
{
	int same;

#define SAME(a, b) ((a) == NULL ? (b) == NULL : (b) != NULL && strcmp(a, b) == 0)
	same = SAME(ncf->socket, ocf->socket);
	if (!same) {
		log_warnx("reload: socket cannot change while running; "
		    "keeping %s", ocf->socket ? ocf->socket : "the default");
		free(ncf->socket);
		ncf->socket = ocf->socket ? xstrdup(ocf->socket) : NULL;
	}
	same = SAME(ncf->pidfile, ocf->pidfile);
	if (!same) {
		log_warnx("reload: pidfile cannot change while running; "
		    "keeping %s", ocf->pidfile ? ocf->pidfile : "none");
		free(ncf->pidfile);
		ncf->pidfile = ocf->pidfile ? xstrdup(ocf->pidfile) : NULL;
	}
#undef SAME
}

/* Point s at its new configuration, resizing what depends on it. */
static void
switch_conf(struct svc *s, const struct service_conf *nsc)
{
	char name[sizeof s->name];

	if (nsc->start_burst != s->conf->start_burst) {
		free(s->start_times);
		s->start_times = xcalloc(nsc->start_burst + 1,
		    sizeof *s->start_times);
		s->nstarts = 0;
	}
	/*
	 * From one instance to several or back, instance 0 changes its
	 * name ("web" <-> "web:0"): keep it as the new file names it, or it
	 * would run (VIGIL_SERVICE, logs, targets) under a name that no
	 * longer exists. Its instances changed, so it restarts anyway.
	 */
	config_instance_name(nsc, s->instance, name, sizeof name);
	if (strcmp(name, s->name) != 0) {
		log_svc(LOG_LEVEL_INFO, s->name, "renamed %s", name);
		snprintf(s->name, sizeof s->name, "%s", name);
	}
	s->conf = nsc;
}

/* Apply the new configuration to the running services. */
static void
apply(struct config *ncf)
{
	struct config *ocf = vd.conf;
	struct svc *s, *st;
	const struct service_conf *nsc;
	struct retired *r;
	unsigned int have, i;
	size_t k;
	int changed = 0, added = 0, removed = 0;

	keep_fixed_keys(ncf, ocf);
	TAILQ_FOREACH_SAFE(s, &svcs, entry, st) {
		if (s->remove_after_stop)
			continue;
		nsc = config_service_find(ncf, s->conf->name);
		if (nsc == NULL || s->instance >= nsc->instances) {
			removed++;
			s->remove_after_stop = 1;
			svc_stop(s, "removed from the configuration");
			continue;
		}
		if (config_service_equal(s->conf, nsc)) {
			switch_conf(s, nsc);
			continue;
		}
		changed++;
		switch_conf(s, nsc);
		if (s->state == SVC_STARTING || s->state == SVC_RUNNING)
			svc_restart(s, "configuration changed");
		else if (nsc->autostart)
			svc_start(s, "configuration changed");
	}
	vd.conf = ncf;
	control_set_perms(ocf, ncf);
	for (k = 0; k < ncf->nservices; k++) {
		nsc = &ncf->services[k];
		have = 0;
		TAILQ_FOREACH(s, &svcs, entry)
			if (!s->remove_after_stop && s->conf == nsc)
				have++;
		for (i = have; i < nsc->instances; i++) {
			s = svc_add_conf_instance(nsc, i);
			added++;
			if (nsc->autostart)
				svc_start(s, "added by reload");
		}
	}
	r = xcalloc(1, sizeof *r);
	r->cf = ocf;
	TAILQ_INSERT_TAIL(&retired, r, entry);
	reload_sweep_soon();
	log_info("reloaded %s: %d changed, %d added, %d removed",
	    vd.conf_path, changed, added, removed);
}

/* On the main loop: apply, or keep everything if the file is bad. */
static void
reload_apply(void *arg)
{
	struct reload_job *j = arg;
	size_t i;

	in_progress = 0;
	for (i = 0; i < j->diag.nwarnings; i++)
		log_warnx("%s", j->diag.warnings[i]);
	if (j->cf == NULL) {
		for (i = 0; i < j->diag.nerrors; i++)
			log_warnx("%s", j->diag.errors[i]);
		log_warnx("reload failed; the running configuration stays");
		notify_systemd("READY=1\nSTATUS=reload failed: %zu error(s); "
		    "the running configuration stays", j->diag.nerrors);
	} else {
		apply(j->cf);
		notify_systemd("READY=1\nSTATUS=reloaded");
	}
	if (j->done != NULL) {
		done_errors = (const char *const *)j->diag.errors;
		done_nerrors = j->diag.nerrors;
		j->done(j->cf != NULL, j->arg);
		done_errors = NULL;
		done_nerrors = 0;
	}
	config_diag_clear(&j->diag);
	free(j->path);
	free(j);
}

const char *const *
reload_errors(size_t *n)
{
	*n = done_nerrors;
	return done_errors;
}

/* The reload cannot run: tell done at once, with why. */
static void
reload_refuse(void (*done)(int, void *), void *arg, const char *why)
{
	const char *errs[1];

	if (done == NULL)
		return;
	errs[0] = why;
	done_errors = errs;
	done_nerrors = 1;
	done(0, arg);
	done_errors = NULL;
	done_nerrors = 0;
}

void
reload_start(void (*done)(int ok, void *arg), void *arg)
{
	struct reload_job *j;
	struct timespec ts;

	if (vd.shutting_down) {
		reload_refuse(done, arg, "vigild is shutting down");
		return;
	}
	if (reexec_busy()) {
		/* Its parse could still run when the image is replaced. */
		log_info("reload refused: a re-exec is in progress");
		reload_refuse(done, arg, "a re-exec is in progress");
		return;
	}
	if (in_progress) {
		log_info("reload already in progress");
		reload_refuse(done, arg, "a reload is already in progress");
		return;
	}
	j = xcalloc(1, sizeof *j);
	j->path = xstrdup(vd.conf_path);
	j->done = done;
	j->arg = arg;
	/* MONOTONIC_USEC lets systemd match this reload to its own. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_systemd("RELOADING=1\nMONOTONIC_USEC=%lld",
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	in_progress = 1;
	if (vigil_pool_submit(vd.pool, reload_parse, reload_apply, j) == -1) {
		log_warn("reload: cannot queue the parse");
		notify_systemd("READY=1");
		in_progress = 0;
		free(j->path);
		free(j);
		reload_refuse(done, arg, "cannot queue the parse");
	}
}
