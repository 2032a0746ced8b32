/*
 * The commands of the control socket (vigilctl(8)), on connections that
 * control.c has checked and framed; each gets a well-formed request
 * (proto.c) and answers with items and one final reply. Main thread only.
 *
 * start, stop and restart wait for their targets: the state machine has
 * no hook, so a timer looks at the waited-for services every
 * CTL_WAIT_POLL_MS, and only while someone waits. Targets are kept by
 * name, never by pointer, as reload may remove a service meanwhile.
 */
#include "config.h"

#include <sys/types.h>

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "control.h"
#include "log.h"
#include "reexec.h"
#include "xmalloc.h"

#define CTL_FOLLOW_MAX		(256 * 1024)	/* then lines are dropped */
#define CTL_LOG_MAX		(512 * 1024)	/* a log snapshot */
#define CTL_WAIT_POLL_MS	10
#define CTL_WAIT_SLACK_MS	5000

typedef void ctl_cmd(struct ctl_conn *, const struct proto_request *);

static struct event	*wait_ev;

/* Wall-clock milliseconds. */
static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- selecting services --------------------------------------------- */

static int
selector_matches(const char *sel, const struct svc *s)
{
	if (strcmp(sel, "all") == 0)
		return 1;
	if (strncmp(sel, "group:", 6) == 0)
		return config_service_in_group(s->conf, sel + 6);
	if (strchr(sel, ':') != NULL)
		return strcmp(s->name, sel) == 0;
	return strcmp(s->conf->name, sel) == 0;
}

/*
 * The services req selects (every one without arguments), in list order,
 * each once. NULL with an error reply if a selector matches nothing.
 * live: leave out services that reload is removing.
 */
static struct svc **
select_svcs(struct ctl_conn *c, const struct proto_request *req,
    size_t *np, int live)
{
	struct svc *s, **v = NULL;
	size_t n = 0, cap = 0, i;
	char *matched;
	int take;

	matched = xcalloc(req->nargs + 1, 1);
	TAILQ_FOREACH(s, &svcs, entry) {
		if (live && s->remove_after_stop)
			continue;
		take = req->nargs == 0;
		for (i = 0; i < req->nargs; i++)
			if (selector_matches(req->args[i], s))
				take = matched[i] = 1;
		if (!take)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			v = xreallocarray(v, cap, sizeof *v);
		}
		v[n++] = s;
	}
	for (i = 0; i < req->nargs; i++) {
		if (matched[i] || strcmp(req->args[i], "all") == 0)
			continue;
		if (strncmp(req->args[i], "group:", 6) == 0)
			ctl_reply_err(c, "no such group: %s", req->args[i] + 6);
		else
			ctl_reply_err(c, "no such service: %s", req->args[i]);
		free(matched);
		free(v);
		return NULL;
	}
	free(matched);
	*np = n;
	if (v == NULL)
		v = xcalloc(1, sizeof *v);
	return v;
}

/* ---- status --------------------------------------------------------- */

/*
 * Status items are written here directly rather than built as jansson
 * objects: with 1,000 services that was most of the cost of a status.
 * Every free-form string goes through proto_string() and jansson's
 * encoder; the rest are numbers and fixed words.
 */
#define STATUS_FLUSH	(32 * 1024)	/* send when this much is queued */

struct jbuf {
	char		 buf[4096];	/* > every item: a reason is 160 bytes */
	size_t		 len;
	int		 full;
};

static void	jb_add(struct jbuf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
jb_add(struct jbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, sizeof b->buf - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof b->buf - b->len)
		b->full = 1;
	else
		b->len += (size_t)n;
}

/* A JSON string of any bytes. */
static void
jb_str(struct jbuf *b, const char *s, size_t len)
{
	json_t *j = proto_string(s, len);
	size_t room = sizeof b->buf - b->len, n;

	n = json_dumpb(j, b->buf + b->len, room, JSON_ENCODE_ANY);
	json_decref(j);
	if (n == 0 || n >= room)
		b->full = 1;
	else
		b->len += n;
}

/* RFC 3339 UTC with milliseconds, from wall-clock milliseconds. */
static void
jb_time(struct jbuf *b, int64_t ms)
{
	char buf[64];
	struct tm tm;
	time_t t = (time_t)(ms / 1000);

	if (gmtime_r(&t, &tm) == NULL) {
		jb_add(b, "null");
		return;
	}
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	jb_add(b, "\"%s.%03dZ\"", buf, (int)(ms % 1000));
}

/* {"code": N|null, "signal": "SIGX"|N|null}, or null before any exit. */
static void
jb_last_exit(struct jbuf *b, const struct svc *s)
{
	const char *sig;

	if (s->last_signal != 0) {
		if ((sig = config_signal_name(s->last_signal)) != NULL)
			jb_add(b, "{\"code\":null,\"signal\":\"%s\"}", sig);
		else
			jb_add(b, "{\"code\":null,\"signal\":%d}",
			    s->last_signal);
	} else if (s->last_code != -1)
		jb_add(b, "{\"code\":%d,\"signal\":null}", s->last_code);
	else
		jb_add(b, "null");
}

/* Send the status item of one service (SPEC 6 Control), times included. */
static void
send_status(struct ctl_conn *c, const struct svc *s, int64_t mono,
    int64_t wall)
{
	struct jbuf b;

	b.len = 0;
	b.full = 0;
	jb_add(&b, "{\"service\":{\"name\":");
	jb_str(&b, s->name, strlen(s->name));
	jb_add(&b, ",\"service\":");
	jb_str(&b, s->conf->name, strlen(s->conf->name));
	jb_add(&b, ",\"instance\":%u,\"state\":\"%s\",", s->instance,
	    svc_state_name(s->state));
	if (s->pid > 0)
		jb_add(&b, "\"pid\":%ld,\"uptime\":%.3f", (long)s->pid,
		    (double)(mono - s->started_ms) / 1000.0);
	else
		jb_add(&b, "\"pid\":null,\"uptime\":null");
	jb_add(&b, ",\"restarts\":%u,\"ready\":%s,\"last_exit\":",
	    s->restarts, s->ready && s->state == SVC_RUNNING ? "true" :
	    "false");
	jb_last_exit(&b, s);
	jb_add(&b, ",\"reason\":");
	jb_str(&b, s->reason, strnlen(s->reason, sizeof s->reason));
	jb_add(&b, ",\"started_at\":");
	if (s->pid > 0)
		jb_time(&b, wall - (mono - s->started_ms));
	else
		jb_add(&b, "null");
	jb_add(&b, ",\"state_since\":");
	jb_time(&b, wall - (mono - s->state_ms));
	jb_add(&b, "}}");
	if (b.full)
		log_warnx("control: status of %s does not fit", s->name);
	else
		ctl_send_text(c, b.buf, b.len);
}

static void
cmd_status(struct ctl_conn *c, const struct proto_request *req)
{
	struct svc **v;
	size_t i, n;
	int64_t mono = now_ms(), wall = wall_ms();

	if ((v = select_svcs(c, req, &n, 0)) == NULL)
		return;
	for (i = 0; i < n && !c->dead; i++) {
		send_status(c, v[i], mono, wall);
		/*
		 * Hand the socket what it takes as we go: the buffer stays
		 * small and warm instead of growing (and faulting in) the
		 * whole reply, 350 KiB with 1,000 services.
		 */
		if (ctl_pending(c) >= STATUS_FLUSH)
			ctl_flush(c);
	}
	free(v);
	ctl_reply_ok(c);
}

/* ---- start, stop, restart ------------------------------------------- */

/* How long to wait for s by default: its own time limits, and some. */
static int64_t
wait_default_ms(enum proto_cmd cmd, const struct service_conf *sc)
{
	int64_t up, down = sc->stop_timeout_ms;

	up = sc->ready.type == READY_NONE ? sc->min_uptime_ms :
	    sc->ready.timeout_ms;
	switch (cmd) {
	case PROTO_STOP:
		return down + CTL_WAIT_SLACK_MS;
	case PROTO_START:
		return up + CTL_WAIT_SLACK_MS;
	default:
		return down + up + CTL_WAIT_SLACK_MS;
	}
}

static const char *
cmd_verb(enum proto_cmd cmd)
{
	switch (cmd) {
	case PROTO_START:
		return "start";
	case PROTO_STOP:
		return "stop";
	default:
		return "restart";
	}
}

/* A start or restart that cannot succeed any more. */
static int
start_failed(const struct svc *s)
{
	return s->state == SVC_FATAL || s->state == SVC_EXITED ||
	    (s->state == SVC_STOPPED && !s->want_start &&
	    !s->restart_after_stop);
}

/* Has target t reached what w waits for (1), failed (-1), or neither? */
static int
wait_eval(const struct ctl_wait *w, struct ctl_target *t)
{
	struct svc *s;

	if ((s = svc_find(t->name)) == NULL) {
		snprintf(t->why, sizeof t->why, "removed from the "
		    "configuration");
		return -1;
	}
	switch (w->cmd) {
	case PROTO_STOP:
		if (s->state == SVC_STOPPED || s->state == SVC_EXITED ||
		    s->state == SVC_FATAL)
			return 1;
		return 0;
	case PROTO_RESTART:
		if (s->state == SVC_RUNNING &&
		    (s->pid != t->pid0 || s->started_ms > w->t0))
			return 1;
		break;
	default:
		if (s->state == SVC_RUNNING)
			return 1;
		break;
	}
	if (start_failed(s)) {
		snprintf(t->why, sizeof t->why, "%s: %s",
		    svc_state_name(s->state), s->reason);
		return -1;
	}
	return 0;
}

/* Send one result item for a target. */
static void
send_result(struct ctl_conn *c, const struct ctl_target *t)
{
	struct svc *s = svc_find(t->name);
	json_t *o;

	o = json_pack("{s:o,s:b}", "name", proto_string(t->name,
	    strlen(t->name)), "ok", t->result == 1);
	if (s != NULL) {
		json_object_set_new(o, "state",
		    json_string(svc_state_name(s->state)));
		json_object_set_new(o, "reason", proto_string(s->reason,
		    strnlen(s->reason, sizeof s->reason)));
	}
	if (t->result != 1)
		json_object_set_new(o, "error", proto_string(t->why,
		    strnlen(t->why, sizeof t->why)));
	ctl_send(c, json_pack("{s:o}", "result", o));
}

/* Every target is settled (or the time is up): answer, take requests. */
static void
wait_finish(struct ctl_conn *c)
{
	struct ctl_wait *w = c->wait;
	struct svc *s;
	size_t i, failed = 0;

	for (i = 0; i < w->n; i++) {
		if (w->t[i].result == 0) {
			w->t[i].result = -1;
			s = svc_find(w->t[i].name);
			snprintf(w->t[i].why, sizeof w->t[i].why,
			    "still %s after %.1f s: %s",
			    s != NULL ? svc_state_name(s->state) : "there",
			    (double)(w->deadline - w->t0) / 1000.0,
			    s != NULL ? s->reason : "");
		}
		if (w->t[i].result != 1)
			failed++;
		send_result(c, &w->t[i]);
	}
	if (failed == 0)
		ctl_reply_ok(c);
	else
		ctl_reply_err(c, "%zu of %zu service(s) did not %s", failed, w->n,
		    cmd_verb(w->cmd));
	free(w->t);
	free(w);
	c->wait = NULL;
	ctl_nwaiters--;
	ctl_request_done(c);
}

/* Look at c's targets; answer if they are all settled or time is up. */
static void
wait_check(struct ctl_conn *c, int64_t now)
{
	struct ctl_wait *w = c->wait;
	size_t i, left = 0;

	for (i = 0; i < w->n; i++) {
		if (w->t[i].result == 0)
			w->t[i].result = wait_eval(w, &w->t[i]);
		if (w->t[i].result == 0)
			left++;
	}
	if (left == 0 || now >= w->deadline)
		wait_finish(c);
}

static void	wait_arm(void);

/*
 * While someone waits, look at the services every CTL_WAIT_POLL_MS (the
 * state machine has no hook; this timer runs only while a client waits).
 */
static void
wait_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_conn *c, *ct;
	int64_t now = now_ms();

	TAILQ_FOREACH_SAFE(c, &ctl_conns, entry, ct)
		if (c->wait != NULL)
			wait_check(c, now);
	wait_arm();
}

static void
wait_arm(void)
{
	struct timeval tv;

	if (ctl_nwaiters == 0)
		return;
	if (wait_ev == NULL)
		wait_ev = evtimer_new(vd.base, wait_cb, NULL);
	if (!evtimer_pending(wait_ev, NULL)) {
		ms_to_tv(CTL_WAIT_POLL_MS, &tv);
		evtimer_add(wait_ev, &tv);
	}
}

/* start, stop, restart: act on every target, then wait or answer. */
static void
cmd_startstop(struct ctl_conn *c, const struct proto_request *req)
{
	struct ctl_wait *w;
	struct svc **v;
	size_t i, n;
	int64_t def = 0, d;

	if (vd.shutting_down && req->cmd != PROTO_STOP) {
		ctl_reply_err(c, "vigild is shutting down");
		return;
	}
	if ((v = select_svcs(c, req, &n, req->cmd != PROTO_STOP)) == NULL)
		return;
	w = xcalloc(1, sizeof *w);
	w->cmd = req->cmd;
	w->n = n;
	w->t = xcalloc(n + 1, sizeof *w->t);
	w->t0 = now_ms();
	for (i = 0; i < n; i++) {
		snprintf(w->t[i].name, sizeof w->t[i].name, "%s", v[i]->name);
		w->t[i].pid0 = v[i]->pid;
		if ((d = wait_default_ms(req->cmd, v[i]->conf)) > def)
			def = d;
	}
	log_info("control: %s of %zu service(s) asked by uid %lu",
	    cmd_verb(req->cmd), n, (unsigned long)c->uid);
	for (i = 0; i < n; i++) {
		if (req->cmd == PROTO_START)
			vd.ops->start(v[i], "operator request");
		else if (req->cmd == PROTO_STOP)
			vd.ops->stop(v[i], "operator request");
		else
			vd.ops->restart(v[i], "operator request");
	}
	free(v);
	w->deadline = w->t0 + (req->timeout_ms > 0 ? req->timeout_ms : def);
	if (!req->wait) {
		for (i = 0; i < n; i++) {
			w->t[i].result = 1;
			send_result(c, &w->t[i]);
		}
		free(w->t);
		free(w);
		ctl_reply_ok(c);
		return;
	}
	c->wait = w;
	c->state = CONN_BUSY;
	ctl_nwaiters++;
	wait_check(c, now_ms());
	wait_arm();
}

/* ---- signal, reload, shutdown, version, reexec ---------------------- */

/* "HUP", "SIGHUP", "sighup" or "1": the signal's number; -1 if none. */
static int
signal_number(const char *name)
{
	const char *n;
	char *end;
	long v;
	int i;

	if (name[0] >= '0' && name[0] <= '9') {
		v = strtol(name, &end, 10);
		return *end == '\0' && v > 0 && v < NSIG ? (int)v : -1;
	}
	for (i = 1; i < NSIG; i++) {
		if ((n = config_signal_name(i)) == NULL)
			continue;
		if (strcasecmp(n, name) == 0 ||
		    (strncmp(n, "SIG", 3) == 0 && strcasecmp(n + 3, name) == 0))
			return i;
	}
	return -1;
}

static void
cmd_signal(struct ctl_conn *c, const struct proto_request *req)
{
	struct ctl_target t;
	struct svc **v;
	size_t i, n, failed = 0;
	int signo;

	if ((signo = signal_number(req->signame)) == -1) {
		ctl_reply_err(c, "unknown signal: %s", req->signame);
		return;
	}
	if ((v = select_svcs(c, req, &n, 0)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		memset(&t, 0, sizeof t);
		snprintf(t.name, sizeof t.name, "%s", v[i]->name);
		if (v[i]->pid > 0) {
			log_svc(LOG_LEVEL_INFO, v[i]->name, "sending signal %d "
			    "for uid %lu", signo, (unsigned long)c->uid);
			svc_signal(v[i], signo);
			t.result = 1;
		} else {
			t.result = -1;
			snprintf(t.why, sizeof t.why, "not running (%s)",
			    svc_state_name(v[i]->state));
			failed++;
		}
		send_result(c, &t);
	}
	free(v);
	if (failed == 0)
		ctl_reply_ok(c);
	else
		ctl_reply_err(c, "%zu of %zu service(s) not running", failed, n);
}

static struct ctl_conn *
conn_by_id(uint64_t id)
{
	struct ctl_conn *c;

	TAILQ_FOREACH(c, &ctl_conns, entry)
		if (c->id == id)
			return c;
	return NULL;
}

/* reload.c is done: pass its errors on, then take requests again. */
static void
reload_done_cb(int ok, void *arg)
{
	struct ctl_conn *c = conn_by_id((uint64_t)(uintptr_t)arg);
	const char *const *errs;
	size_t i, n;

	if (c == NULL || !c->reloading)
		return;
	c->reloading = 0;
	if (ok)
		ctl_reply_ok(c);
	else {
		errs = reload_errors(&n);
		for (i = 0; i < n; i++)
			ctl_send(c, json_pack("{s:o}", "diag",
			    proto_string(errs[i], strlen(errs[i]))));
		ctl_reply_err(c, "reload failed; the running configuration stays");
	}
	ctl_request_done(c);
}

static void
cmd_reload(struct ctl_conn *c, const struct proto_request *req)
{
	if (vd.ops->reload == NULL) {
		ctl_reply_err(c, "nothing to reload: vigild runs one command, "
		    "with no configuration file");
		return;
	}
	log_info("control: reload asked by uid %lu", (unsigned long)c->uid);
	c->state = CONN_BUSY;
	c->reloading = 1;
	/* done may run at once (a reload already running): state first. */
	vd.ops->reload(reload_done_cb, (void *)(uintptr_t)c->id);
}

static void
cmd_shutdown(struct ctl_conn *c, const struct proto_request *req)
{
	if (!vd.shutting_down)
		log_info("control: shutdown asked by uid %lu",
		    (unsigned long)c->uid);
	ctl_reply_ok(c);
	/* With wait, the connection stays until vigild exits. */
	if (req->wait)
		c->state = CONN_BUSY;
	vd.ops->shutdown();
}

static void
cmd_version(struct ctl_conn *c, const struct proto_request *req)
{
	ctl_send(c, json_pack("{s:b,s:s,s:i,s:s,s:s}", "ok", 1,
	    "server", "vigild " PACKAGE_VERSION, "protocol", PROTO_VERSION,
	    "libvigil", vigil_version(), "signal_source",
	    vigil_sigsrc_backend()));
}

static void
cmd_reexec(struct ctl_conn *c, const struct proto_request *req)
{
	log_info("control: re-exec asked by uid %lu", (unsigned long)c->uid);
	c->state = CONN_BUSY;
	/* May answer at once (a refusal): state first. */
	reexec_request(c->id);
}

/* reexec.c: the re-exec failed (a success is answered by the new image). */
void
ctl_reexec_done(unsigned long long id, int ok, const char *err)
{
	struct ctl_conn *c = conn_by_id(id);

	if (c == NULL || c->state != CONN_BUSY)
		return;
	if (ok)
		ctl_reply_ok(c);
	else
		ctl_reply_err(c, "%s", err);
	ctl_request_done(c);
}

/* ---- log ------------------------------------------------------------ */

static int
kind_captured(enum output_kind k)
{
	return k == OUTPUT_CONSOLE || k == OUTPUT_FILE || k == OUTPUT_SYSLOG;
}

/* Does vigild read any of the service's output (and so keep it)? */
static int
svc_captured(const struct service_conf *sc)
{
	return kind_captured(sc->out.kind) || kind_captured(sc->err.kind);
}

struct snap {
	struct ctl_conn	*c;
	size_t		*lens;
	size_t		 n;
	size_t		 cap;
};

static void
snap_count(const char *line, size_t len, void *arg)
{
	struct snap *sn = arg;

	if (sn->n == sn->cap) {
		sn->cap = sn->cap == 0 ? 256 : sn->cap * 2;
		sn->lens = xreallocarray(sn->lens, sn->cap, sizeof *sn->lens);
	}
	sn->lens[sn->n++] = len;
}

static json_t *
line_msg(const char *line, size_t len)
{
	return json_pack("{s:o}", "line", proto_string(line, len));
}

static void
snap_send(const char *line, size_t len, void *arg)
{
	struct snap *sn = arg;

	ctl_send(sn->c, line_msg(line, len));
}

/*
 * Send the last `lines' lines of the ring, at most CTL_LOG_MAX bytes of
 * them: the older ones beyond that are counted in a "skipped" item.
 */
static void
log_snapshot(struct ctl_conn *c, struct ring *r, long lines)
{
	struct snap sn = { c, NULL, 0, 0 };
	size_t k, total = 0;

	if (lines == 0)
		return;
	ring_foreach(r, (size_t)lines, snap_count, &sn);
	for (k = sn.n; k > 0; k--) {
		total += sn.lens[k - 1] + 16;
		if (total > CTL_LOG_MAX)
			break;
	}
	free(sn.lens);
	if (k > 0)
		ctl_send(c, json_pack("{s:I}", "skipped", (json_int_t)k));
	if (sn.n - k > 0)
		ring_foreach(r, sn.n - k, snap_send, &sn);
}

/* The one instance NAME or NAME:N names; NULL with an error reply. */
static struct svc *
log_target(struct ctl_conn *c, const char *sel)
{
	struct svc *s, *found = NULL;
	unsigned int n = 0;

	if (strcmp(sel, "all") == 0 || strncmp(sel, "group:", 6) == 0) {
		ctl_reply_err(c, "log takes one service, not %s", sel);
		return NULL;
	}
	if ((s = svc_find(sel)) != NULL)
		return s;
	TAILQ_FOREACH(s, &svcs, entry)
		if (strcmp(s->conf->name, sel) == 0 && n++ == 0)
			found = s;
	if (n == 0)
		ctl_reply_err(c, "no such service: %s", sel);
	else
		ctl_reply_err(c, "%s has %u instances: name one, as %s", sel, n,
		    found->name);
	return NULL;
}

static void
cmd_log(struct ctl_conn *c, const struct proto_request *req)
{
	struct svc *s;

	if ((s = log_target(c, req->args[0])) == NULL)
		return;
	if (!svc_captured(s->conf)) {
		ctl_reply_err(c, "output of %s is not captured", s->name);
		return;
	}
	log_snapshot(c, s->log, req->lines);
	if (!req->follow) {
		ctl_reply_ok(c);
		return;
	}
	snprintf(c->follow, sizeof c->follow, "%s", s->name);
	c->follow_conf = NULL;		/* look it up at the first line */
	c->state = CONN_FOLLOW;
	ctl_nfollowers++;
}

/*
 * Is r still the ring of the service c follows? The ring pointer is only
 * compared, never followed. Rings are freed only when a reload removes a
 * service, and every reload replaces vd.conf: so the pointer is checked
 * against the service list again only after a reload, and a service that
 * is being removed is not followed any more. No list walk per line.
 */
static int
follow_matches(struct ctl_conn *c, struct ring *r)
{
	struct svc *s;

	if (c->follow_conf != vd.conf) {
		c->follow_conf = vd.conf;
		s = svc_find(c->follow);
		c->follow_ring = s != NULL && !s->remove_after_stop ? s->log :
		    NULL;
	}
	return c->follow_ring == r;
}

/*
 * The ring hook (output.c): a line was appended to ring r. Queue it for
 * every client following the service that owns r; a follower that is
 * behind by more than CTL_FOLLOW_MAX loses lines, counted and reported.
 */
void
control_ring_line(struct ring *r, const char *line, size_t len)
{
	struct ctl_conn *c;

	if (ctl_nfollowers == 0)
		return;
	TAILQ_FOREACH(c, &ctl_conns, entry) {
		if (c->state != CONN_FOLLOW || !follow_matches(c, r))
			continue;
		if (ctl_pending(c) > CTL_FOLLOW_MAX) {
			c->dropped++;
			continue;
		}
		if (c->dropped > 0) {
			ctl_send(c, json_pack("{s:I}", "dropped",
			    (json_int_t)c->dropped));
			c->dropped = 0;
		}
		ctl_send(c, line_msg(line, len));
		ctl_want_write(c);
	}
}

/* ---- the table ------------------------------------------------------ */

static ctl_cmd *const commands[PROTO_NCMDS] = {
	[PROTO_STATUS] = cmd_status,
	[PROTO_START] = cmd_startstop,
	[PROTO_STOP] = cmd_startstop,
	[PROTO_RESTART] = cmd_startstop,
	[PROTO_SIGNAL] = cmd_signal,
	[PROTO_RELOAD] = cmd_reload,
	[PROTO_SHUTDOWN] = cmd_shutdown,
	[PROTO_VERSION_CMD] = cmd_version,
	[PROTO_LOG] = cmd_log,
	[PROTO_REEXEC] = cmd_reexec,
};

void
ctl_command(struct ctl_conn *c, const struct proto_request *req)
{
	commands[req->cmd](c, req);
}

/*
 * At exit, before the last words: answer the waits whose targets have
 * settled, a stop that ended with vigild's own end (single-command mode)
 * among them, rather than tell them that vigild is exiting.
 */
void
ctl_command_settle(void)
{
	struct ctl_conn *c, *ct;
	int64_t now = now_ms();

	TAILQ_FOREACH_SAFE(c, &ctl_conns, entry, ct)
		if (c->wait != NULL)
			wait_check(c, now);
}

void
ctl_command_close(void)
{
	if (wait_ev != NULL)
		event_free(wait_ev);
	wait_ev = NULL;
}
