/*
 * vigild.conf parser (daemon/config.c): every error class with its exact
 * "FILE:LINE: message", defaults, every key, paths, env_file and the
 * child's environment, reload comparison, StrictModes. The files are in
 * tests/conf; cases chdir there so messages name them as "x.conf".
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../daemon/conf.h"
#include "tap.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#define TEST_FILE	"tests/unit/test_config.c"

/* The runner ends each case with _exit(), which skips LeakSanitizer. */
static void
no_leaks(void)
{
#ifdef HAVE_LSAN
	CHECKF(__lsan_do_recoverable_leak_check() == 0, "memory leaked");
#endif
}

/* Change to tests/conf: $top_srcdir, else where this file was compiled. */
static void
in_conf_dir(void)
{
	const char *top = getenv("top_srcdir");
	char path[PATH_MAX];
	size_t len = strlen(__FILE__) - strlen(TEST_FILE);

	if (top != NULL)
		snprintf(path, sizeof path, "%s/tests/conf", top);
	else
		snprintf(path, sizeof path, "%.*stests/conf", (int)len,
		    __FILE__);
	CHECKF(chdir(path) == 0, "chdir %s", path);
}

/* Load tests/conf/name; the caller checks the result. */
static struct config *
load(const char *name, struct config_diag *d)
{
	memset(d, 0, sizeof *d);
	in_conf_dir();
	return config_load(name, d);
}

static void
dump(const struct config_diag *d)
{
	size_t i;

	for (i = 0; i < d->nerrors; i++)
		tap_diag("error: %s", d->errors[i]);
	for (i = 0; i < d->nwarnings; i++)
		tap_diag("warning: %s", d->warnings[i]);
}

/* Fail unless v holds exactly want. */
static void
expect_(int line, const struct config_diag *d, char **v, size_t n,
    const char *want)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], want) == 0)
			return;
	dump(d);
	tap_fail_(__FILE__, line, "no message: %s", want);
}
#define EXPECT_ERROR(d, s)	expect_(__LINE__, &(d), (d).errors, \
				    (d).nerrors, (s))
#define EXPECT_WARNING(d, s)	expect_(__LINE__, &(d), (d).warnings, \
				    (d).nwarnings, (s))

/* Load a file that must be refused with exactly n errors. */
static void
load_bad(const char *name, struct config_diag *d, size_t n)
{
	struct config *cf = load(name, d);

	if (cf != NULL || d->nerrors != n)
		dump(d);
	CHECKF(cf == NULL, "%s was accepted", name);
	CHECKF(d->nerrors == n, "%s: %zu errors, expected %zu", name,
	    d->nerrors, n);
}

/* Load a file that must be accepted. */
static struct config *
load_good(const char *name, struct config_diag *d)
{
	struct config *cf = load(name, d);

	if (cf == NULL)
		dump(d);
	CHECKF(cf != NULL && d->nerrors == 0, "%s was refused", name);
	return cf;
}

static const char *
env_get(char **env, const char *key)
{
	size_t len = strlen(key);

	for (; *env != NULL; env++)
		if (strncmp(*env, key, len) == 0 && (*env)[len] == '=')
			return *env + len + 1;
	return NULL;
}

static size_t
env_count(char **env, const char *key)
{
	size_t n = 0, len = strlen(key);

	for (; *env != NULL; env++)
		n += strncmp(*env, key, len) == 0 && (*env)[len] == '=';
	return n;
}

/* A private directory under TMPDIR; *dir is its path. */
static void
tmpdir_make(char *dir, size_t len)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, len, "%s/vigil-config.XXXXXX", t ? t : "/tmp");
	CHECKF(mkdtemp(dir) != NULL, "mkdtemp");
}

/* Write text to dir/name, with mode; the path is left in path. */
static void
tmpfile_write(const char *dir, const char *name, const char *text,
    mode_t mode, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	CHECKF((f = fopen(path, "w")) != NULL, "fopen %s", path);
	fputs(text, f);
	CHECK(fclose(f) == 0);
	CHECK_OK(chmod(path, mode));
}

/* ------------------------------------------------------------------ */

/* A minimal file gets every default of SPEC 6. */
static void
t_defaults(void)
{
	struct config_diag d;
	struct config *cf = load_good("minimal.conf", &d);
	const struct service_conf *s = &cf->services[0];

	CHECK_EQ(d.nwarnings, 0);
	CHECK_EQ(cf->nservices, 1);
	CHECK(strcmp(s->name, "app") == 0);
	CHECK(strcmp(s->argv[0], "/bin/sh") == 0 && s->argv[1] == NULL);
	CHECK(s->directory == NULL && !s->has_user && !s->has_group);
	CHECK(!s->has_umask && s->env[0] == NULL && s->nlimits == 0);
	CHECK_EQ(s->instances, 1);
	CHECK(s->autostart == 1 && s->groups[0] == NULL);
	CHECK(s->after[0] == NULL && s->requires[0] == NULL);
	CHECK_EQ(s->restart, RESTART_ALWAYS);
	CHECK(config_success_exit(s, 0) && !config_success_exit(s, 1));
	CHECK_EQ(s->restart_delay_ms, 100);
	CHECK_EQ(s->restart_delay_max_ms, 30000);
	CHECK_EQ(s->start_burst, 5);
	CHECK_EQ(s->start_interval_ms, 10000);
	CHECK_EQ(s->min_uptime_ms, 1000);
	CHECK_EQ(s->ready.type, READY_NONE);
	CHECK_EQ(s->stop_signal, SIGTERM);
	CHECK_EQ(s->stop_timeout_ms, 10000);
	CHECK_EQ(s->reload_signal, SIGHUP);
	CHECK_EQ(s->nrewrites, 0);
	CHECK_EQ(s->out.kind, OUTPUT_CONSOLE);
	CHECK_EQ(s->err.kind, OUTPUT_CONSOLE);
	CHECK(s->health.argv == NULL);
	CHECK(cf->socket == NULL && cf->pidfile == NULL);
	CHECK(cf->socket_group == NULL);
	CHECK_EQ(cf->socket_mode, 0600);
	CHECK_EQ(cf->workers, 4);
	CHECK_EQ(cf->shutdown_timeout_ms, 30000);
	CHECK_EQ(cf->nroutes, 4);
	CHECK_EQ(config_route_find(cf, SIGTERM)->action, ROUTE_SHUTDOWN);
	CHECK_EQ(config_route_find(cf, SIGINT)->action, ROUTE_SHUTDOWN);
	CHECK_EQ(config_route_find(cf, SIGHUP)->action, ROUTE_RELOAD);
	CHECK_EQ(config_route_find(cf, SIGUSR1)->action, ROUTE_REOPEN_LOGS);
	CHECK(config_route_find(cf, SIGUSR2) == NULL);
	config_free(cf);
	config_diag_clear(&d);
	no_leaks();
}

/* full.conf sets every key; each lands where it should. */
static void
t_full(void)
{
	struct config_diag d;
	struct config *cf = load_good("full.conf", &d);
	const struct service_conf *w = &cf->services[0];

	CHECK_EQ(d.nwarnings, 0);
	CHECK_EQ(cf->nservices, 5);
	CHECK(strcmp(cf->socket + strlen(cf->dir), "/run/vigild.sock") == 0);
	CHECK(strcmp(cf->pidfile + strlen(cf->dir), "/run/vigild.pid") == 0);
	CHECK_EQ(cf->socket_mode, 0660);
	CHECK(strcmp(cf->socket_group, "daemon") == 0);
	CHECK_EQ(cf->workers, 8);
	CHECK_EQ(cf->shutdown_timeout_ms, 45500);
	CHECK_EQ(cf->log_level, 3);
	CHECK(strcmp(w->argv[2], "exec sleep 100") == 0);
	CHECK(strcmp(w->directory, cf->dir) == 0);
	CHECK(w->has_user && w->uid == 0 && w->has_group && w->nsgids >= 1);
	CHECK(w->has_umask && w->umask == 027);
	CHECK(strcmp(env_get(w->env, "PORT"), "8080") == 0);
	CHECK(strcmp(env_get(w->env, "MODE"), "from-environment") == 0);
	CHECK(strcmp(env_get(w->env, "PLAIN"), "plain value") == 0);
	CHECK_EQ(w->nlimits, 9);
	CHECK_EQ(w->limits[2].resource, RLIMIT_STACK);
	CHECK_EQ(w->limits[2].value, 8 << 20);
	CHECK(w->limits[3].value == RLIM_INFINITY);
	CHECK_EQ(w->limits[4].value, 1 << 30);
	CHECK_EQ(w->limits[6].value, 64 << 10);
	CHECK(strcmp(w->groups[1], "http") == 0 && w->groups[2] == NULL);
	CHECK(!w->autostart);
	CHECK(strcmp(w->after[0], "db") == 0);
	CHECK(strcmp(w->after[1], "cache") == 0 && w->after[2] == NULL);
	CHECK(strcmp(w->requires[0], "cache") == 0);
	CHECK_EQ(w->restart, RESTART_ON_FAILURE);
	CHECK(config_success_exit(w, 0) && config_success_exit(w, 2));
	CHECK(config_success_exit(w, 255) && !config_success_exit(w, 1));
	CHECK_EQ(w->restart_delay_ms, 250);
	CHECK_EQ(w->restart_delay_max_ms, 60000);
	CHECK_EQ(w->start_burst, 3);
	CHECK_EQ(w->start_interval_ms, 20000);
	CHECK_EQ(w->min_uptime_ms, 2500);
	CHECK_EQ(w->ready.type, READY_NOTIFY);
	CHECK_EQ(w->ready.timeout_ms, 15000);
	CHECK_EQ(w->stop_signal, SIGQUIT);
	CHECK_EQ(w->stop_timeout_ms, 5000);
	CHECK_EQ(w->reload_signal, SIGUSR2);
	CHECK_EQ(config_service_rewrite(w, SIGUSR2), SIGUSR1);
	CHECK_EQ(config_service_rewrite(w, SIGWINCH), SIGHUP);
	CHECK_EQ(config_service_rewrite(w, SIGTERM), SIGTERM);
	CHECK_EQ(w->out.kind, OUTPUT_NULL);
	CHECK_EQ(w->err.kind, OUTPUT_STDOUT);
	CHECK(strcmp(w->health.argv[0], "/bin/true") == 0);
	CHECK_EQ(w->health.interval_ms, 30000);
	CHECK_EQ(w->health.timeout_ms, 1500);
	CHECK_EQ(w->health.retries, 5);
	config_free(cf);
	config_diag_clear(&d);
	no_leaks();
}

/* The other services and the routes of full.conf. */
static void
t_full_routes(void)
{
	struct config_diag d;
	struct config *cf = load_good("full.conf", &d);
	const struct service_conf *db = config_service_find(cf, "db");
	const struct service_conf *c = config_service_find(cf, "cache");
	const struct service_conf *pr = config_service_find(cf, "probe");
	const struct route *r;

	CHECK(db != NULL && c != NULL && pr != NULL);
	CHECK(strcmp(db->argv[0], "/bin/sh") == 0);
	CHECK(strcmp(db->argv[1], "-c") == 0);
	CHECK_EQ(db->ready.type, READY_TCP);
	CHECK(strcmp(db->ready.host, "127.0.0.1") == 0);
	CHECK(strcmp(db->ready.port, "5432") == 0);
	CHECK_EQ(db->ready.interval_ms, 500);
	CHECK_EQ(db->out.kind, OUTPUT_INHERIT);
	CHECK_EQ(c->ready.type, READY_FD);
	CHECK_EQ(c->ready.fd, 3);
	CHECK(strcmp(c->argv[0], "sleep") == 0);
	CHECK_EQ(pr->ready.type, READY_EXEC);
	CHECK(strcmp(pr->ready.argv[0], "/bin/true") == 0);
	CHECK_EQ(config_route_find(cf, SIGINT)->action, ROUTE_IGNORE);
	CHECK_EQ(config_route_find(cf, SIGHUP)->action, ROUTE_SHUTDOWN);
	CHECK_EQ(config_route_find(cf, SIGUSR1)->action, ROUTE_RELOAD);
	CHECK_EQ(config_route_find(cf, SIGQUIT)->action, ROUTE_REOPEN_LOGS);
	r = config_route_find(cf, SIGUSR2);
	CHECK(r != NULL && r->action == ROUTE_FORWARD && r->as == SIGHUP);
	CHECK_EQ(r->ntargets, 3);
	CHECK(r->targets[0].kind == TARGET_SERVICE &&
	    strcmp(r->targets[0].name, "web") == 0);
	CHECK(r->targets[1].kind == TARGET_GROUP &&
	    strcmp(r->targets[1].name, "workers") == 0);
	CHECK(r->targets[2].kind == TARGET_INSTANCE &&
	    strcmp(r->targets[2].name, "queue") == 0 &&
	    r->targets[2].instance == 1);
	r = config_route_find(cf, SIGWINCH);
	CHECK(r->ntargets == 1 && r->targets[0].kind == TARGET_ALL);
	CHECK_EQ(r->as, SIGWINCH);
	CHECK(config_service_in_group(config_service_find(cf, "queue"),
	    "workers"));
	config_free(cf);
	config_diag_clear(&d);
	no_leaks();
}

/* libconfig's own errors keep its file and line. */
static void
t_syntax_error(void)
{
	struct config_diag d;

	load_bad("syntax.conf", &d, 1);
	EXPECT_ERROR(d, "syntax.conf:3: syntax error");
	config_diag_clear(&d);
	load_bad("no-such-file.conf", &d, 1);
	EXPECT_ERROR(d, "no-such-file.conf: cannot read: "
	    "No such file or directory");
	config_diag_clear(&d);
	no_leaks();
}

/* An @include is relative to the file; its errors name it. */
static void
t_include(void)
{
	struct config_diag d;
	char dir[PATH_MAX], want[PATH_MAX + 128];

	load_bad("include.conf", &d, 1);
	CHECK(getcwd(dir, sizeof dir) != NULL);
	snprintf(want, sizeof want, "%s/included.inc:2: service \"inc\": "
	    "autostart: expected a boolean (true or false), got an integer",
	    dir);
	EXPECT_ERROR(d, want);
	config_diag_clear(&d);
	no_leaks();
}

/* Types are strict: autostart = 1 is not a boolean. */
static void
t_type_errors(void)
{
	struct config_diag d;

	load_bad("types.conf", &d, 3);
	EXPECT_ERROR(d, "types.conf:3: service \"web\": autostart: "
	    "expected a boolean (true or false), got an integer");
	EXPECT_ERROR(d, "types.conf:4: service \"web\": stop_timeout: "
	    "expected a duration in seconds, got a string");
	EXPECT_ERROR(d, "types.conf:5: service \"web\": environment.PORT: "
	    "expected a string, got an integer");
	config_diag_clear(&d);
	no_leaks();
}

/* Unknown keys are errors at every level. */
static void
t_unknown_keys(void)
{
	struct config_diag d;

	load_bad("unknown.conf", &d, 4);
	EXPECT_ERROR(d, "unknown.conf:1: vigild.sockets: unknown key");
	EXPECT_ERROR(d, "unknown.conf:2: colour: unknown key");
	EXPECT_ERROR(d, "unknown.conf:5: service \"web\": autostrat: "
	    "unknown key");
	EXPECT_ERROR(d, "unknown.conf:6: service \"web\": ready.timout: "
	    "unknown key");
	config_diag_clear(&d);
	no_leaks();
}

/* Every error is reported, in line order, not only the first. */
static void
t_all_errors(void)
{
	struct config_diag d;

	load_bad("three.conf", &d, 3);
	CHECK(strcmp(d.errors[0], "three.conf:3: service \"web\": restart: "
	    "expected one of always, on-failure, never, got \"sometimes\"") ==
	    0);
	CHECK(strcmp(d.errors[1], "three.conf:4: service \"web\": instances: "
	    "expected an integer from 1 to 1024, got 0") == 0);
	CHECK(strcmp(d.errors[2], "three.conf:5: service \"web\": "
	    "stop_signal: unknown signal \"SIGFOO\"") == 0);
	config_diag_clear(&d);
	no_leaks();
}

/* Ranges of integers, durations, modes, exit codes, descriptors. */
static void
t_ranges(void)
{
	struct config_diag d;

	load_bad("ranges.conf", &d, 7);
	EXPECT_ERROR(d, "ranges.conf:1: vigild.workers: "
	    "expected an integer from 1 to 256, got 300");
	EXPECT_ERROR(d, "ranges.conf:1: vigild.socket_mode: "
	    "expected an octal mode from 0000 to 0777, got \"0999\"");
	EXPECT_ERROR(d, "ranges.conf:1: vigild.shutdown_timeout: "
	    "expected a duration from 0 to 1000000000 seconds, got -1");
	EXPECT_ERROR(d, "ranges.conf:4: service \"web\": success_exit[1]: "
	    "expected an integer from 0 to 255, got 256");
	EXPECT_ERROR(d, "ranges.conf:5: service \"web\": ready.fd: "
	    "expected an integer from 3 to 1023, got 2");
	EXPECT_ERROR(d, "ranges.conf:6: service \"web\": limits.nofile: "
	    "expected a non-negative integer or \"unlimited\"");
	EXPECT_ERROR(d, "ranges.conf:7: service \"web\": restart_delay_max: "
	    "less than restart_delay");
	config_diag_clear(&d);
	no_leaks();
}

/*
 * Names: charset, reserved words, duplicates, missing. "web:0" is not a
 * valid name, which is why instance names can never collide.
 */
static void
t_names(void)
{
	struct config_diag d;

	load_bad("names.conf", &d, 7);
	EXPECT_ERROR(d, "names.conf:3: service \"web\": name: "
	    "duplicate name, first used at line 2");
	EXPECT_ERROR(d, "names.conf:4: service #3: name: "
	    "\"all\" is not a valid name: the name is reserved");
	EXPECT_ERROR(d, "names.conf:5: service #4: name: "
	    "\"group\" is not a valid name: the name is reserved");
	EXPECT_ERROR(d, "names.conf:6: service #5: name: \"web:0\" is not a "
	    "valid name: use 1 to 64 of A-Z a-z 0-9 _ . -");
	EXPECT_ERROR(d, "names.conf:7: service #6: name: \"has space\" is not "
	    "a valid name: use 1 to 64 of A-Z a-z 0-9 _ . -");
	EXPECT_ERROR(d, "names.conf:8: service #7: missing name");
	EXPECT_ERROR(d, "names.conf:9: service \"x\": missing command");
	config_diag_clear(&d);
	no_leaks();
}

/* after/requires: unknown services, and a service after itself. */
static void
t_dependencies(void)
{
	struct config_diag d;

	load_bad("deps.conf", &d, 4);
	EXPECT_ERROR(d, "deps.conf:2: service \"a\": after: "
	    "a service cannot come after itself");
	EXPECT_ERROR(d, "deps.conf:3: service \"b\": after[0]: "
	    "unknown service \"ghost\"");
	EXPECT_ERROR(d, "deps.conf:4: service \"c\": requires[1]: "
	    "unknown service \"phantom\"");
	EXPECT_ERROR(d, "deps.conf:5: service \"d\": requires: "
	    "a service cannot require itself");
	config_diag_clear(&d);
	no_leaks();
}

/* A cycle through after and requires is reported once, with its path. */
static void
t_cycle(void)
{
	struct config_diag d;

	load_bad("cycle.conf", &d, 1);
	EXPECT_ERROR(d, "cycle.conf:2: service \"a\": "
	    "dependency cycle: a -> b -> c -> a");
	config_diag_clear(&d);
	no_leaks();
}

/* Signals that cannot be routed or forwarded; bad targets and actions. */
static void
t_signal_errors(void)
{
	struct config_diag d;

	load_bad("signals.conf", &d, 14);
	EXPECT_ERROR(d, "signals.conf:2: signals.SIGKILL: "
	    "SIGKILL cannot be routed: it cannot be caught");
	EXPECT_ERROR(d, "signals.conf:3: signals.SIGCHLD: "
	    "SIGCHLD cannot be routed: vigild reaps children with it");
	EXPECT_ERROR(d, "signals.conf:4: signals.SIGSEGV: "
	    "SIGSEGV cannot be routed: it is a fault signal");
	EXPECT_ERROR(d, "signals.conf:5: signals.SIGNOPE: unknown signal");
	EXPECT_ERROR(d, "signals.conf:6: signals.SIGUSR2.forward[0]: "
	    "unknown group \"nogroup\"");
	EXPECT_ERROR(d, "signals.conf:7: signals.SIGWINCH.forward[0]: "
	    "unknown service \"ghost\"");
	EXPECT_ERROR(d, "signals.conf:7: signals.SIGWINCH.forward[1]: "
	    "unknown instance \"q:4\"");
	EXPECT_ERROR(d, "signals.conf:7: signals.SIGWINCH.as: "
	    "SIGSTOP cannot be forwarded: it cannot be caught");
	EXPECT_ERROR(d, "signals.conf:8: signals.SIGTERM: expected one of "
	    "ignore, shutdown, reload, reopen-logs, reexec, got \"restart\"");
	EXPECT_ERROR(d, "signals.conf:9: signals.TERM: "
	    "SIGTERM is routed twice");
	EXPECT_ERROR(d, "signals.conf:10: signals.SIGPIPE: missing forward");
	EXPECT_ERROR(d, "signals.conf:14: service \"q\": signals.SIGCHLD: "
	    "SIGCHLD cannot be forwarded: vigild reaps children with it");
	EXPECT_ERROR(d, "signals.conf:14: service \"q\": signals.SIGUSR1: "
	    "SIGKILL cannot be forwarded: it cannot be caught");
	EXPECT_ERROR(d, "signals.conf:15: service \"q\": signals.SIGUSR2: "
	    "SIGUSR2 is rewritten twice");
	config_diag_clear(&d);
	no_leaks();
}

/* Files and syslog are checked, then refused as not supported yet. */
static void
t_output(void)
{
	struct config_diag d;

	load_bad("output.conf", &d, 3);
	EXPECT_ERROR(d, "output.conf:3: service \"web\": stdout: "
	    "output to files is not supported yet");
	EXPECT_ERROR(d, "output.conf:4: service \"web\": stderr: "
	    "syslog is not supported yet");
	EXPECT_ERROR(d, "output.conf:6: service \"db\": stdout: "
	    "\"stdout\" is only valid for stderr");
	config_diag_clear(&d);
	no_leaks();
}

/* A missing program or directory is a warning, a check's program too. */
static void
t_warnings(void)
{
	struct config_diag d;
	struct config *cf = load_good("warnings.conf", &d);

	CHECK_EQ(d.nwarnings, 5);
	EXPECT_WARNING(d, "warnings.conf:2: service \"web\": command: "
	    "\"/nonexistent/vigil-test\" not found");
	EXPECT_WARNING(d, "warnings.conf:3: service \"web\": directory: "
	    "\"/nonexistent-dir\" does not exist");
	EXPECT_WARNING(d, "warnings.conf:4: service \"db\": command: "
	    "\"no-such-program-vigil\" not found in PATH");
	EXPECT_WARNING(d, "warnings.conf:6: service \"chk\": "
	    "health.command: \"/nonexistent/vigil-health\" not found");
	EXPECT_WARNING(d, "warnings.conf:7: service \"chk\": "
	    "ready.command: \"no-such-check-vigil\" not found in PATH");
	config_free(cf);
	config_diag_clear(&d);
	no_leaks();
}

/* Readiness tcp and exec, health checks: every error, with its line. */
static void
t_ready_errors(void)
{
	struct config_diag d;

	load_bad("ready.conf", &d, 18);
	EXPECT_ERROR(d, "ready.conf:3: service \"a\": ready.address: "
	    "expected \"host:port\", got \"127.0.0.1\"");
	EXPECT_ERROR(d, "ready.conf:5: service \"b\": ready.address: "
	    "\"127.0.0.1:0\": the port must be from 1 to 65535");
	EXPECT_ERROR(d, "ready.conf:7: service \"c\": ready.address: "
	    "\"::1:80\": an IPv6 address goes in brackets, as in "
	    "\"[::1]:80\"");
	EXPECT_ERROR(d, "ready.conf:9: service \"d\": ready.address: "
	    "\"[::g]:80\": not an IPv6 address");
	EXPECT_ERROR(d, "ready.conf:11: service \"e\": ready.address: "
	    "\"db:no-such-port-vigil\": unknown port name");
	EXPECT_ERROR(d, "ready.conf:13: service \"f\": ready.address: "
	    "\":80\": missing host");
	EXPECT_ERROR(d, "ready.conf:15: service \"g\": ready.address: "
	    "expected \"[IPv6]:port\", got \"[::1]80\"");
	EXPECT_ERROR(d, "ready.conf:15: service \"g\": ready.interval: "
	    "expected a duration of at least 0.001 seconds");
	EXPECT_ERROR(d, "ready.conf:16: service \"g\": ready.timeout: "
	    "expected a duration of at least 0.001 seconds");
	EXPECT_ERROR(d, "ready.conf:18: service \"h\": ready.command: "
	    "expected a command, got an empty one");
	EXPECT_ERROR(d, "ready.conf:20: service \"i\": ready: "
	    "type \"exec\" needs command");
	EXPECT_ERROR(d, "ready.conf:22: service \"j\": health: "
	    "missing command");
	EXPECT_ERROR(d, "ready.conf:24: service \"k\": health.interval: "
	    "expected a duration of at least 0.001 seconds");
	EXPECT_ERROR(d, "ready.conf:24: service \"k\": health.timeout: "
	    "expected a duration of at least 0.001 seconds");
	EXPECT_ERROR(d, "ready.conf:25: service \"k\": health.retries: "
	    "expected an integer from 1 to 100, got 0");
	EXPECT_ERROR(d, "ready.conf:27: service \"l\": health.command: "
	    "expected a program, got an empty string");
	EXPECT_ERROR(d, "ready.conf:29: service \"m\": ready.address: "
	    "expected a string \"host:port\", got an integer");
	EXPECT_ERROR(d, "ready.conf:31: service \"n\": ready.address: "
	    "\"web server:80\": not an IPv4 address or a host name");
	config_diag_clear(&d);
	no_leaks();
}

/* Addresses as kept for check.c: host without brackets, port a number. */
static void
t_ready_ok(void)
{
	struct config_diag d;
	struct config *cf = load_good("ready_ok.conf", &d);
	const struct service_conf *v6 = &cf->services[0];
	const struct service_conf *nm = &cf->services[1];
	const struct service_conf *pn = &cf->services[2];
	const struct service_conf *hc = &cf->services[3];

	CHECK_EQ(d.nwarnings, 0);
	CHECK(strcmp(v6->ready.host, "::1") == 0);
	CHECK(strcmp(v6->ready.port, "8080") == 0);
	CHECK_EQ(v6->ready.interval_ms, 1000);
	CHECK_EQ(v6->ready.timeout_ms, 60000);
	CHECK(strcmp(nm->ready.host, "db.example.org") == 0);
	CHECK(strcmp(nm->ready.port, "5432") == 0);
	CHECK_EQ(nm->ready.interval_ms, 250);
	CHECK_EQ(nm->ready.timeout_ms, 3000);
	/* The services database names port 80 "http" (netbase). */
	CHECK(strcmp(pn->ready.host, "localhost") == 0);
	CHECK(strcmp(pn->ready.port, "80") == 0);
	CHECK(strcmp(hc->health.argv[2], "exit 0") == 0);
	CHECK_EQ(hc->health.interval_ms, 10000);
	CHECK_EQ(hc->health.timeout_ms, 5000);
	CHECK_EQ(hc->health.retries, 3);
	config_free(cf);
	config_diag_clear(&d);
	no_leaks();
}

/* Unknown users and groups are errors; root resolves. */
static void
t_users(void)
{
	struct config_diag d;

	load_bad("users.conf", &d, 3);
	EXPECT_ERROR(d, "users.conf:1: vigild.socket_group: "
	    "unknown group \"no-such-group-vigil\"");
	EXPECT_ERROR(d, "users.conf:3: service \"web\": user: "
	    "unknown user \"no-such-user-vigil\"");
	EXPECT_ERROR(d, "users.conf:4: service \"db\": group: "
	    "unknown group \"no-such-group-vigil\"");
	config_diag_clear(&d);
	no_leaks();
}

/* Paths are relative to the file's directory, wherever vigild runs. */
static void
t_relative_paths(void)
{
	struct config_diag d;
	struct config *cf;
	char dir[PATH_MAX], want[PATH_MAX + 32];
	const struct service_conf *w;

	in_conf_dir();
	CHECK(getcwd(dir, sizeof dir) != NULL);
	CHECK_OK(chdir("/"));
	snprintf(want, sizeof want, "%s/paths.conf", dir);
	memset(&d, 0, sizeof d);
	CHECK((cf = config_load(want, &d)) != NULL);
	CHECK(strcmp(cf->dir, dir) == 0);
	snprintf(want, sizeof want, "%s/vigild.sock", dir);
	CHECK(strcmp(cf->socket, want) == 0);
	snprintf(want, sizeof want, "%s/run/vigild.pid", dir);
	CHECK(strcmp(cf->pidfile, want) == 0);
	w = config_service_find(cf, "web");
	snprintf(want, sizeof want, "%s/bin/web", dir);
	CHECK(strcmp(w->argv[0], want) == 0);
	CHECK(strcmp(w->argv[2], "rel/arg") == 0);
	snprintf(want, sizeof want, "%s/www", dir);
	CHECK(strcmp(w->directory, want) == 0);
	snprintf(want, sizeof want, "%s/web.env", dir);
	CHECK(strcmp(w->env_file, want) == 0);
	CHECK(strcmp(config_service_find(cf, "abs")->directory, "/") == 0);
	CHECK(strcmp(config_service_find(cf, "bare")->argv[0], "sh") == 0);
	config_free(cf);
	config_diag_clear(&d);
	/* A relative file name: its directory is made absolute. */
	cf = load_good("paths.conf", &d);
	CHECK(strcmp(cf->dir, dir) == 0);
	config_free(cf);
	config_diag_clear(&d);
	no_leaks();
}

/* env_file: comments, export, quotes; environment wins over it. */
static void
t_env_file(void)
{
	struct config_diag d;
	struct config *cf = load_good("env.conf", &d);
	char **env = cf->services[0].env;

	CHECK(strcmp(env_get(env, "PLAIN"), "plain value") == 0);
	CHECK(strcmp(env_get(env, "EXPORTED"), "yes") == 0);
	CHECK(strcmp(env_get(env, "SINGLE"),
	    "single $quoted # not a comment") == 0);
	CHECK(strcmp(env_get(env, "DOUBLE"), "double \"quoted\" \\ value") ==
	    0);
	CHECK(strcmp(env_get(env, "INDENTED"), "ok") == 0);
	CHECK(strcmp(env_get(env, "EMPTY"), "") == 0);
	CHECK(strcmp(env_get(env, "MODE"), "from-environment") == 0);
	CHECK_EQ(env_count(env, "MODE"), 1);
	CHECK(strcmp(env_get(env, "EXTRA"), "1") == 0);
	CHECK(strcmp(env[0], "PLAIN=plain value") == 0);
	config_free(cf);
	config_diag_clear(&d);
	no_leaks();
}

/* Bad env_file lines name the env file's own lines; unreadable fails. */
static void
t_env_file_errors(void)
{
	struct config_diag d;
	char dir[PATH_MAX], want[PATH_MAX + 128];

	load_bad("envbad.conf", &d, 6);
	CHECK(getcwd(dir, sizeof dir) != NULL);
	snprintf(want, sizeof want, "%s/bad.env:2: service \"web\": "
	    "env_file: expected KEY=VALUE", dir);
	EXPECT_ERROR(d, want);
	snprintf(want, sizeof want, "%s/bad.env:3: service \"web\": "
	    "env_file: expected KEY=VALUE", dir);
	EXPECT_ERROR(d, want);
	snprintf(want, sizeof want, "%s/bad.env:4: service \"web\": "
	    "env_file: unterminated quote", dir);
	EXPECT_ERROR(d, want);
	snprintf(want, sizeof want, "%s/bad.env:5: service \"web\": "
	    "env_file: text after the closing quote", dir);
	EXPECT_ERROR(d, want);
	snprintf(want, sizeof want, "%s/bad.env:6: service \"web\": "
	    "env_file: expected KEY=VALUE", dir);
	EXPECT_ERROR(d, want);
	snprintf(want, sizeof want, "envbad.conf:3: service \"gone\": "
	    "env_file: cannot read \"%s/missing.env\": "
	    "No such file or directory", dir);
	EXPECT_ERROR(d, want);
	config_diag_clear(&d);
	no_leaks();
}

/* The child's environment: SPEC 6, in order. */
static void
t_env_compose(void)
{
	static const char *const lit[] = {
		"PATH=/bin", "NOTIFY_SOCKET=/run/x", "WATCHDOG_USEC=1",
		"WATCHDOG_PID=2", "LISTEN_FDS=1", "LISTEN_PID=3",
		"LISTEN_FDNAMES=a", "MODE=base", "PLAIN=base",
		"VIGIL_SERVICE=outer", "DUP=1", "DUP=2", "NOEQUALS", NULL
	};
	char *base[sizeof lit / sizeof lit[0]];
	struct config_diag d;
	struct config *cf = load_good("env.conf", &d);
	char **env;
	size_t i;

	for (i = 0; lit[i] != NULL; i++)	/* execve's type: not const */
		base[i] = strdup(lit[i]);
	base[i] = NULL;
	env = config_service_env(&cf->services[0], base, "web:1", 1);

	CHECK(strcmp(env_get(env, "PATH"), "/bin") == 0);
	CHECK(env_get(env, "NOTIFY_SOCKET") == NULL);
	CHECK(env_get(env, "WATCHDOG_USEC") == NULL);
	CHECK(env_get(env, "WATCHDOG_PID") == NULL);
	CHECK(env_get(env, "LISTEN_FDS") == NULL);
	CHECK(env_get(env, "LISTEN_PID") == NULL);
	CHECK(env_get(env, "LISTEN_FDNAMES") == NULL);
	CHECK(strcmp(env_get(env, "PLAIN"), "plain value") == 0);
	CHECK(strcmp(env_get(env, "MODE"), "from-environment") == 0);
	CHECK(strcmp(env_get(env, "VIGIL_SERVICE"), "web:1") == 0);
	CHECK(strcmp(env_get(env, "VIGIL_INSTANCE"), "1") == 0);
	CHECK_EQ(env_count(env, "VIGIL_SERVICE"), 1);
	CHECK_EQ(env_count(env, "DUP"), 1);
	CHECK(strcmp(env_get(env, "DUP"), "1") == 0);
	CHECK(strcmp(env[0], "PATH=/bin") == 0);
	config_env_free(env);
	env = config_service_env(&cf->services[0], NULL, NULL, 0);
	CHECK(strcmp(env_get(env, "VIGIL_SERVICE"), "web") == 0);
	CHECK(strcmp(env_get(env, "VIGIL_INSTANCE"), "0") == 0);
	config_env_free(env);
	for (i = 0; base[i] != NULL; i++)
		free(base[i]);
	config_free(cf);
	config_diag_clear(&d);
	no_leaks();
}

/* Instances: names, and forward targets to one of them. */
static void
t_instances(void)
{
	struct config_diag d;
	struct config *cf = load_good("full.conf", &d);
	const struct service_conf *q = config_service_find(cf, "queue");
	char buf[80];

	CHECK_EQ(q->instances, 4);
	CHECK_EQ(q->stop_signal, SIGRTMIN + 2);
	CHECK(strcmp(config_instance_name(q, 0, buf, sizeof buf), "queue:0") ==
	    0);
	CHECK(strcmp(config_instance_name(q, 3, buf, sizeof buf), "queue:3") ==
	    0);
	CHECK(strcmp(config_instance_name(&cf->services[0], 0, buf,
	    sizeof buf), "web") == 0);
	CHECK(config_service_find(cf, "queue:0") == NULL);
	config_free(cf);
	config_diag_clear(&d);
	no_leaks();
}

/*
 * One setting changed at a time, each from the same base: every change
 * makes config_service_equal() say "changed"; the base equals itself.
 */
static const char *const variants[] = {
	"command = [ \"/bin/sh\", \"-x\" ];",
	"command = \"/bin/sh\";",
	"command = [ \"/bin/sh\" ]; directory = \"/\";",
	"command = [ \"/bin/sh\" ]; user = \"root\";",
	"command = [ \"/bin/sh\" ]; group = \"daemon\";",
	"command = [ \"/bin/sh\" ]; umask = \"077\";",
	"command = [ \"/bin/sh\" ]; environment = { A = \"1\"; };",
	"command = [ \"/bin/sh\" ]; env_file = \"e.env\";",
	"command = [ \"/bin/sh\" ]; limits = { nofile = 100; };",
	"command = [ \"/bin/sh\" ]; instances = 2;",
	"command = [ \"/bin/sh\" ]; groups = [ \"g\" ];",
	"command = [ \"/bin/sh\" ]; autostart = false;",
	"command = [ \"/bin/sh\" ]; after = [ \"o\" ];",
	"command = [ \"/bin/sh\" ]; requires = [ \"o\" ];",
	"command = [ \"/bin/sh\" ]; restart = \"never\";",
	"command = [ \"/bin/sh\" ]; success_exit = [ 0, 1 ];",
	"command = [ \"/bin/sh\" ]; restart_delay = 1;",
	"command = [ \"/bin/sh\" ]; restart_delay_max = 40;",
	"command = [ \"/bin/sh\" ]; start_limit = { burst = 1; };",
	"command = [ \"/bin/sh\" ]; start_limit = { interval = 1; };",
	"command = [ \"/bin/sh\" ]; min_uptime = 3;",
	"command = [ \"/bin/sh\" ]; ready = { type = \"notify\"; };",
	"command = [ \"/bin/sh\" ]; ready = { timeout = 1; };",
	"command = [ \"/bin/sh\" ]; ready = { type = \"fd\"; fd = 3; };",
	"command = [ \"/bin/sh\" ]; ready = { type = \"tcp\"; "
	    "address = \"[::1]:80\"; };",
	"command = [ \"/bin/sh\" ]; ready = { type = \"exec\"; "
	    "command = [ \"/bin/true\" ]; };",
	"command = [ \"/bin/sh\" ]; stop_signal = \"SIGINT\";",
	"command = [ \"/bin/sh\" ]; stop_timeout = 1;",
	"command = [ \"/bin/sh\" ]; reload_signal = \"USR1\";",
	"command = [ \"/bin/sh\" ]; signals = { USR1 = \"USR2\"; };",
	"command = [ \"/bin/sh\" ]; stdout = \"null\";",
	"command = [ \"/bin/sh\" ]; stderr = \"stdout\";",
	"command = [ \"/bin/sh\" ]; health = { command = [ \"/bin/true\" ]; };",
	"command = [ \"/bin/sh\" ]; ready = { type = \"tcp\"; "
	    "address = \"[::1]:81\"; };",
	"command = [ \"/bin/sh\" ]; ready = { type = \"tcp\"; "
	    "address = \"[::1]:80\"; interval = 2; };",
	"command = [ \"/bin/sh\" ]; ready = { type = \"exec\"; "
	    "command = [ \"/bin/false\" ]; };",
	"command = [ \"/bin/sh\" ]; health = { command = [ \"/bin/true\" ]; "
	    "interval = 11; };",
	"command = [ \"/bin/sh\" ]; health = { command = [ \"/bin/true\" ]; "
	    "timeout = 1; };",
	"command = [ \"/bin/sh\" ]; health = { command = [ \"/bin/true\" ]; "
	    "retries = 1; };",
};

/* Load the base service or a variant, from a file in dir. */
static struct config *
load_variant(const char *dir, const char *keys)
{
	char text[1024], path[PATH_MAX];
	struct config_diag d = { NULL, 0, NULL, 0 };
	struct config *cf;

	snprintf(text, sizeof text, "services = ( { name = \"s\"; %s },\n"
	    "  { name = \"o\"; command = [ \"/bin/sh\" ]; } );\n", keys);
	tmpfile_write(dir, "v.conf", text, 0600, path, sizeof path);
	if ((cf = config_load(path, &d)) == NULL) {
		dump(&d);
		tap_fail_(__FILE__, __LINE__, "refused: %s", keys);
	}
	config_diag_clear(&d);
	return cf;
}

static void
t_service_equal(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	struct config *a, *b, *v;
	size_t i;

	tmpdir_make(dir, sizeof dir);
	tmpfile_write(dir, "e.env", "E=1\n", 0600, path, sizeof path);
	a = load_variant(dir, "command = [ \"/bin/sh\" ];");
	b = load_variant(dir, "command = [ \"/bin/sh\" ];");
	CHECK(config_service_equal(&a->services[0], &b->services[0]));
	CHECK(config_service_equal(&a->services[1], &b->services[1]));
	for (i = 0; i < sizeof variants / sizeof variants[0]; i++) {
		v = load_variant(dir, variants[i]);
		CHECKF(!config_service_equal(&a->services[0], &v->services[0]),
		    "no change seen: %s", variants[i]);
		CHECK(config_service_equal(&a->services[1], &v->services[1]));
		config_free(v);
	}
	config_free(a);
	config_free(b);
	unlink(path);
	snprintf(path, sizeof path, "%s/v.conf", dir);
	unlink(path);
	CHECK_OK(rmdir(dir));
	no_leaks();
}

/* Reload sees the same file as unchanged, service by service. */
static void
t_service_equal_full(void)
{
	struct config_diag d;
	struct config *a = load_good("full.conf", &d), *b;
	size_t i;

	config_diag_clear(&d);
	b = load_good("full.conf", &d);
	for (i = 0; i < a->nservices; i++)
		CHECK(config_service_equal(&a->services[i], &b->services[i]));
	CHECK(!config_service_equal(&a->services[0], &a->services[1]));
	config_free(a);
	config_free(b);
	config_diag_clear(&d);
	no_leaks();
}

/* StrictModes: writable by others, or owned by someone else: refused. */
static void
t_perms(void)
{
	char dir[PATH_MAX], path[PATH_MAX], err[PATH_MAX + 128];
	char want[PATH_MAX + 128];

	tmpdir_make(dir, sizeof dir);
	tmpfile_write(dir, "v.conf", "services = ();\n", 0600, path,
	    sizeof path);
	CHECK(config_check_perms(path, err, sizeof err) == 0);
	CHECK_OK(chmod(path, 0666));
	CHECK(config_check_perms(path, err, sizeof err) == -1);
	snprintf(want, sizeof want, "%s: refusing a configuration file "
	    "writable by group or others (mode 0666): chmod go-w it", path);
	CHECKF(strcmp(err, want) == 0, "got: %s", err);
	CHECK_OK(chmod(path, 0620));
	CHECK(config_check_perms(path, err, sizeof err) == -1);
	CHECK_OK(chmod(path, 0644));
	CHECK_OK(chmod(dir, 0777));
	CHECK(config_check_perms(path, err, sizeof err) == -1);
	CHECKF(strstr(err, "refusing a configuration directory writable") !=
	    NULL, "got: %s", err);
	CHECK_OK(chmod(dir, 0755));
	CHECK(config_check_perms(path, err, sizeof err) == 0);
	if (geteuid() == 0) {
		CHECK_OK(chown(path, 65534, 65534));
		CHECK(config_check_perms(path, err, sizeof err) == -1);
		CHECKF(strstr(err, "owned by uid 65534") != NULL, "got: %s",
		    err);
	}
	CHECK_OK(unlink(path));
	CHECK_OK(rmdir(dir));
}

/* SPEC 6: /run for root, else $XDG_RUNTIME_DIR, else /tmp with the uid. */
static void
t_default_socket(void)
{
	char buf[PATH_MAX], want[64];

	if (geteuid() == 0) {
		CHECK(config_default_socket(buf, sizeof buf) != NULL);
#ifndef __FreeBSD__
		CHECK(strcmp(buf, "/run/vigild.sock") == 0);
#endif
		CHECK_OK(seteuid(65534));
	}
	CHECK_OK(setenv("XDG_RUNTIME_DIR", "/run/user/x", 1));
	CHECK(strcmp(config_default_socket(buf, sizeof buf),
	    "/run/user/x/vigild.sock") == 0);
	CHECK_OK(unsetenv("XDG_RUNTIME_DIR"));
	snprintf(want, sizeof want, "/tmp/vigild-%lu.sock",
	    (unsigned long)geteuid());
	CHECK(strcmp(config_default_socket(buf, sizeof buf), want) == 0);
	CHECK(config_default_socket(buf, 8) == NULL);
}

/* Without a diag, config_load() still tells good from bad. */
static void
t_no_diag(void)
{
	struct config *cf;

	in_conf_dir();
	CHECK((cf = config_load("minimal.conf", NULL)) != NULL);
	config_free(cf);
	CHECK(config_load("three.conf", NULL) == NULL);
	no_leaks();
}

static void *
load_thread(void *arg)
{
	struct config_diag d;
	struct config *cf;
	int i, *ok = arg;

	for (i = 0; i < 20; i++) {
		memset(&d, 0, sizeof d);
		cf = config_load("full.conf", &d);
		*ok += cf != NULL && d.nerrors == 0;
		config_free(cf);
		config_diag_clear(&d);
	}
	return NULL;
}

/* config_load() runs on worker threads during reload: no shared state. */
static void
t_threads(void)
{
	pthread_t t[4];
	int ok[4] = { 0, 0, 0, 0 }, i;

	in_conf_dir();
	for (i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, load_thread, &ok[i]) == 0);
	for (i = 0; i < 4; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	for (i = 0; i < 4; i++)
		CHECK_EQ(ok[i], 20);
	no_leaks();
}

/* The name config_single() gives the command of argv. */
static void
check_single_name(const char *prog, const char *want)
{
	char *argv[] = { strdup(prog), NULL };
	struct config *cf;

	CHECK(argv[0] != NULL);
	cf = config_single(argv, RESTART_NEVER, 10000);
	CHECKF(strcmp(cf->services[0].name, want) == 0,
	    "%s: named %s, expected %s", prog, cf->services[0].name, want);
	config_free(cf);
	free(argv[0]);
}

/*
 * Single-command mode's one service: named after the command's basename,
 * "main" when that is not a valid name; its policy, grace and output.
 */
static void
t_single(void)
{
	char a0[] = "/usr/sbin/nginx", a1[] = "-g", a2[] = "daemon off;";
	char *argv[] = { a0, a1, a2, NULL };
	const struct service_conf *sc;
	struct config *cf;

	cf = config_single(argv, RESTART_ON_FAILURE, 2500);
	CHECK_EQ(cf->nservices, 1);
	sc = &cf->services[0];
	CHECK(strcmp(sc->name, "nginx") == 0);
	CHECK(strcmp(sc->argv[0], "/usr/sbin/nginx") == 0);
	CHECK(strcmp(sc->argv[2], "daemon off;") == 0 && sc->argv[3] == NULL);
	CHECK_EQ(sc->instances, 1);
	CHECK_EQ(sc->restart, RESTART_ON_FAILURE);
	CHECK_EQ(sc->stop_signal, SIGTERM);
	CHECK_EQ(sc->stop_timeout_ms, 2500);
	CHECK_EQ(sc->start_burst, 0);
	CHECK_EQ(sc->restart_delay_ms, 100);
	CHECK_EQ(sc->restart_delay_max_ms, 30000);
	CHECK_EQ(sc->min_uptime_ms, 1000);
	CHECK_EQ(sc->out.kind, OUTPUT_INHERIT);
	CHECK_EQ(sc->err.kind, OUTPUT_INHERIT);
	CHECK(cf->socket == NULL && cf->pidfile == NULL &&
	    cf->socket_group == NULL);
	CHECK_EQ(cf->socket_mode, 0600);
	config_free(cf);
	check_single_name("sleep", "sleep");
	check_single_name("./bin/my-app_2.1", "my-app_2.1");
	check_single_name("/opt/my app", "main");
	check_single_name("/opt/x+y", "main");
	check_single_name("all", "main");
	check_single_name("/bin/group", "main");
	check_single_name("/bin/", "main");
	check_single_name("/opt/"
	    "a123456789b123456789c123456789d123456789e123456789f123456789g1234",
	    "main");
	no_leaks();
}

static const struct tap_case cases[] = {
	TAP_CASE(t_defaults, 10),
	TAP_CASE(t_full, 10),
	TAP_CASE(t_full_routes, 10),
	TAP_CASE(t_syntax_error, 10),
	TAP_CASE(t_include, 10),
	TAP_CASE(t_type_errors, 10),
	TAP_CASE(t_unknown_keys, 10),
	TAP_CASE(t_all_errors, 10),
	TAP_CASE(t_ranges, 10),
	TAP_CASE(t_names, 10),
	TAP_CASE(t_dependencies, 10),
	TAP_CASE(t_cycle, 10),
	TAP_CASE(t_signal_errors, 10),
	TAP_CASE(t_output, 10),
	TAP_CASE(t_warnings, 10),
	TAP_CASE(t_ready_errors, 10),
	TAP_CASE(t_ready_ok, 10),
	TAP_CASE(t_users, 10),
	TAP_CASE(t_relative_paths, 10),
	TAP_CASE(t_env_file, 10),
	TAP_CASE(t_env_file_errors, 10),
	TAP_CASE(t_env_compose, 10),
	TAP_CASE(t_instances, 10),
	TAP_CASE(t_service_equal, 20),
	TAP_CASE(t_service_equal_full, 10),
	TAP_CASE(t_perms, 10),
	TAP_CASE(t_default_socket, 10),
	TAP_CASE(t_no_diag, 10),
	TAP_CASE(t_single, 10),
	TAP_CASE(t_threads, 30),
};

int
main(void)
{
	return tap_run(cases, sizeof cases / sizeof cases[0]);
}
