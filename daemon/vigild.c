/*
 * vigild: the supervisor daemon. main() blocks every asynchronous signal
 * before anything else (rule 1: every thread created later is born with
 * them blocked), then reads its flags and configuration, and runs one
 * libevent loop that takes signals only through the libvigil signal source
 * (rule 2), watches the pool's completion descriptor, and drives the
 * service state machine.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif
#ifdef HAVE_SYS_PROCCTL_H
#include <sys/procctl.h>
#endif
#ifdef __FreeBSD__
#include <sys/sysctl.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <paths.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "log.h"
#include "reexec.h"
#include "vigild.h"
#include "xmalloc.h"

static struct vigil_sigsrc	*sigsrc;
static struct event		*sig_ev, *pool_ev;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: vigild [-c FILE] [-f | -d] [-p PIDFILE] [-s SOCKET] "
	    "[-l LEVEL] [-t] [-V]\n"
	    "       vigild [--restart POLICY] [--grace SECONDS] [-p PIDFILE] "
	    "[-s SOCKET]\n"
	    "              [-l LEVEL] -- COMMAND [ARG...]\n");
	exit(2);
}

/* Print every error and warning of a load as FILE:LINE: message. */
static void
print_diag(const struct config_diag *d)
{
	size_t i;

	for (i = 0; i < d->nwarnings; i++)
		fprintf(stderr, "%s (warning)\n", d->warnings[i]);
	for (i = 0; i < d->nerrors; i++)
		fprintf(stderr, "%s\n", d->errors[i]);
}

/* Load the configuration, refusing an unsafe file when we are root. */
static struct config *
load_config(const char *path, int *nerrors)
{
	struct config_diag diag = { 0 };
	struct config *cf;
	char err[512];

	*nerrors = 0;
	if (geteuid() == 0 && config_check_perms(path, err, sizeof err) == -1) {
		fprintf(stderr, "%s\n", err);
		*nerrors = 1;
		return NULL;
	}
	cf = config_load(path, &diag);
	print_diag(&diag);
	*nerrors = (int)diag.nerrors;
	config_diag_clear(&diag);
	return cf;
}

/*
 * With a configuration file, descriptors vigild inherited are not its own
 * (vigild(8)): a shell's pipe or a socket activation's sockets would stay
 * open for as long as vigild runs. Only single-command mode passes them on.
 */
static void
close_inherited(void)
{
#ifdef HAVE_CLOSEFROM
	closefrom(STDERR_FILENO + 1);
#else
	long fd, max = sysconf(_SC_OPEN_MAX);

	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = STDERR_FILENO + 1; fd < max; fd++)
		(void)close((int)fd);
#endif
}

/* Become the reaper of orphaned descendants where the system allows it. */
static void
become_subreaper(void)
{
	if (vd.pid1)
		return;
#if defined(PR_SET_CHILD_SUBREAPER)
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("cannot become a subreaper; orphans will not be reaped");
#elif defined(PROC_REAP_ACQUIRE)
	if (procctl(P_PID, getpid(), PROC_REAP_ACQUIRE, NULL) == -1)
		log_warn("cannot become a reaper; orphans will not be reaped");
#endif
}

/* Double fork, setsid, chdir /, stdio to /dev/null: for rc.d scripts. */
static void
detach(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		fatal("setsid");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		fatal("chdir /");
	if ((fd = open(_PATH_DEVNULL, O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

/*
 * A private directory for the children's notify sockets: 0711, so nobody
 * can list it but a service running as another user can still reach its
 * own socket (each socket is protected by its owner and mode).
 */
static void
make_runtime_dir(void)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	char *tmpl;

	if (geteuid() == 0 && access("/run", W_OK) == 0)
		base = "/run";
	else if (base == NULL || access(base, W_OK) != 0)
		base = "/tmp";
	xasprintf(&tmpl, "%s/vigild.XXXXXX", base);
	if (mkdtemp(tmpl) == NULL)
		fatal("mkdtemp %s", tmpl);
	if (chmod(tmpl, 0711) == -1)
		fatal("chmod %s", tmpl);
	vd.runtime_dir = tmpl;
}

static void
remove_runtime_dir(void)
{
	if (vd.runtime_dir != NULL)
		rmdir(vd.runtime_dir);
}

static void
signal_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vigil_siginfo si;
	int n;

	(void)fd;
	(void)what;
	(void)arg;
	/* Bounded per wake-up so a storm cannot starve the rest. */
	for (n = 0; n < 256 && vigil_sigsrc_read(sigsrc, &si) == 1; n++)
		route_signal(&si);
}

static void
pool_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	vigil_pool_dispatch(vd.pool);
}

/* The signals the main loop takes: every one that can be caught. */
static void
loop_signals(sigset_t *set)
{
	vigil_sigset_async(set);
	sigdelset(set, SIGKILL);
	sigdelset(set, SIGSTOP);
}

static void
setup_loop(unsigned int workers)
{
	sigset_t set;

	evthread_use_pthreads();
	if ((vd.base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	if ((vd.pool = vigil_pool_new(workers)) == NULL)
		fatal("cannot create the worker pool");
	pool_ev = event_new(vd.base, vigil_pool_fd(vd.pool),
	    EV_READ | EV_PERSIST, pool_cb, NULL);
	event_add(pool_ev, NULL);
	loop_signals(&set);
	if ((sigsrc = vigil_sigsrc_new(&set)) == NULL)
		fatal("cannot create the signal source");
	vd.sigsrc = sigsrc;
	sig_ev = event_new(vd.base, vigil_sigsrc_fd(sigsrc),
	    EV_READ | EV_PERSIST, signal_cb, NULL);
	event_add(sig_ev, NULL);
}

static void
teardown_loop(void)
{
	output_flush_all();
	event_free(sig_ev);
	event_free(pool_ev);
	vigil_sigsrc_free(sigsrc);
	vigil_pool_free(vd.pool, VIGIL_POOL_DRAIN);
	event_base_free(vd.base);
}

/* The resolved path of our own binary, for re-exec. */
static char *
self_path(const char *argv0)
{
	char buf[PATH_MAX];
	ssize_t n;

	if ((n = readlink("/proc/self/exe", buf, sizeof buf - 1)) > 0) {
		buf[n] = '\0';
		return xstrdup(buf);
	}
#if defined(__FreeBSD__) && defined(KERN_PROC_PATHNAME)
	{
		int mib[4] = { CTL_KERN, KERN_PROC, KERN_PROC_PATHNAME, -1 };
		size_t len = sizeof buf;

		if (sysctl(mib, 4, buf, &len, NULL, 0) == 0 && len > 1)
			return xstrdup(buf);
	}
#endif
	if (realpath(argv0, buf) != NULL)
		return xstrdup(buf);
	return xstrdup(argv0);
}

static int
parse_level(const char *s)
{
	int l = log_level_parse(s);

	if (l == -1) {
		fprintf(stderr, "vigild: unknown log level: %s\n", s);
		usage();
	}
	return l;
}

static int
parse_policy(const char *s)
{
	if (strcmp(s, "always") == 0)
		return RESTART_ALWAYS;
	if (strcmp(s, "on-failure") == 0)
		return RESTART_ON_FAILURE;
	if (strcmp(s, "never") == 0)
		return RESTART_NEVER;
	fprintf(stderr, "vigild: unknown restart policy: %s\n", s);
	usage();
}

static int64_t
parse_seconds(const char *s)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || *s == '\0' || *end != '\0' || d < 0 || d > 1e6) {
		fprintf(stderr, "vigild: bad number of seconds: %s\n", s);
		usage();
	}
	return (int64_t)(d * 1000 + 0.5);
}

/*
 * rx: the state of the image before a re-exec (reexec.c), whose files and
 * services this image adopts instead of making and starting its own.
 */
static int
run_daemon(const char *conf_path, int detach_flag, const char *pidfile,
    const char *socket, int level, struct rx_state *rx)
{
	struct config *cf;
	char err[512];
	int nerrors;

	if (rx != NULL) {
		cf = rx_config(rx, conf_path);
		conf_path = cf->path;
		detach_flag = !vd.foreground;
	} else if ((cf = load_config(conf_path, &nerrors)) == NULL) {
		if (nerrors == 0)
			fprintf(stderr, "%s: cannot load\n", conf_path);
		return 1;
	}
	vd.conf = cf;
	vd.conf_path = conf_path;
	if (conf_path[0] != '/') {
		/* For reload and re-exec, also after -d's chdir("/"). */
		const char *base = strrchr(conf_path, '/');
		char *abs;

		xasprintf(&abs, "%s/%s", cf->dir, base != NULL ? base + 1 :
		    conf_path);
		vd.conf_path = abs;
	}
	vd.ops = &svc_config_ops;
	if (level == -1)
		level = cf->log_level;
	if (detach_flag && rx == NULL)
		detach();
	vd.foreground = !detach_flag;
	log_init(vd.foreground, level, "vigild");
	if (pidfile == NULL)
		pidfile = cf->pidfile;
	if (rx != NULL)
		rx_adopt_files(rx);
	else {
		if (pidfile != NULL &&
		    pidfile_open(pidfile, err, sizeof err) == -1)
			fatalx("%s", err);
		/* -s, else the file's socket, else the default. */
		if (control_listen(socket, err, sizeof err) == -1) {
			if (pidfile != NULL)
				pidfile_remove();
			fatalx("%s", err);
		}
	}
	vd.pid1 = getpid() == 1;
	become_subreaper();
	if (rx == NULL)
		make_runtime_dir();
	setup_loop(cf->workers);
	control_start();
	notify_init();
	output_init();
	svc_create_all(cf);
	if (rx != NULL)
		rx_restore(rx);
	else {
		log_info("vigild %s started with %zu service(s) from %s",
		    PACKAGE_VERSION, cf->nservices, conf_path);
		svc_start_autostart();
	}
	event_base_dispatch(vd.base);
	log_info("vigild exiting");
	check_exit();
	control_close();
	teardown_loop();
	remove_runtime_dir();
	if (pidfile != NULL)
		pidfile_remove();
	return vd.exit_code;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "restart", required_argument, NULL, 'R' },
		{ "grace", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct single_opts so = { -1, 10000, LOG_LEVEL_WARN, NULL, NULL };
	const char *conf_path = SYSCONFDIR "/vigil/vigild.conf";
	const char *pidfile = NULL, *socket = NULL;
	int ch, test = 0, detach_flag = 0, level = -1, single_flags = 0;
	int conf_flag = 0;
	struct rx_state *rx;
	struct config *cf;
	int nerrors;

	/* Rule 1: before anything else, before any thread can exist. */
	vigil_block_signals(NULL);
	/* The probe of a re-exec (reexec.c): check and exit. */
	if (getenv(RX_CHECK_ENV) != NULL)
		return rx_check(getenv(RX_CHECK_ENV));

	while ((ch = getopt_long(argc, argv, "+c:dfhl:p:s:tV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c': conf_path = optarg; conf_flag = 1; break;
		case 'd': detach_flag = 1; break;
		case 'f': detach_flag = 0; break;
		case 'l': level = parse_level(optarg); break;
		case 'p': pidfile = optarg; break;
		case 's': socket = optarg; break;
		case 't': test = 1; break;
		case 'R': so.restart = parse_policy(optarg); single_flags++; break;
		case 'G': so.grace_ms = parse_seconds(optarg); single_flags++;
			break;
		case 'V':
			printf("vigild %s (libvigil %s, signal source %s)\n",
			    PACKAGE_VERSION, vigil_version(),
			    vigil_sigsrc_backend());
			return 0;
		default:
			usage();
		}
	}
	if (optind < argc) {
		/* Single-command mode needs "--" before the command. */
		if (strcmp(argv[optind - 1], "--") != 0 || test)
			usage();
		if (conf_flag || detach_flag) {
			fprintf(stderr, "vigild: %s does not apply with -- "
			    "COMMAND\n", conf_flag ? "-c" : "-d");
			usage();
		}
		if (level != -1)
			so.log_level = level;
		so.pidfile = pidfile;
		so.socket = socket;
		log_init(1, so.log_level, "vigild");
		vd.foreground = 1;
		vd.pid1 = getpid() == 1;
		become_subreaper();
		return single_main(argv + optind, &so);
	}
	if (single_flags)
		usage();
	vd.argv = argv;
	vd.self_path = self_path(argv[0]);
	/* A re-exec: the descriptors the state names are ours. */
	if (!test && (rx = rx_load()) != NULL) {
		vd.foreground = rx_foreground(rx);
		return run_daemon(conf_path, 0, pidfile, socket, level, rx);
	}
	close_inherited();
	if (test) {
		cf = load_config(conf_path, &nerrors);
		if (cf == NULL) {
			if (nerrors == 0)
				fprintf(stderr, "%s: cannot load\n", conf_path);
			return 1;
		}
		printf("%s: configuration ok (%zu service(s))\n", conf_path,
		    cf->nservices);
		config_free(cf);
		return 0;
	}
	return run_daemon(conf_path, detach_flag, pidfile, socket, level,
	    NULL);
}
