/*
 * vigild's configuration: the parser of vigild.conf(5) and the immutable
 * structure it returns.
 *
 * config_load() builds a new struct config from a file; nothing in it
 * changes afterwards, so any thread may read it without a lock, and the
 * daemon replaces it as a whole on reload. config_load() is thread-safe:
 * it keeps no static state and uses only the reentrant user and group
 * lookups, so a reload may parse on a worker thread while the main loop
 * runs on the old structure.
 *
 * Units: every duration is in milliseconds (int64_t, the file's seconds
 * rounded to the nearest millisecond), every size in bytes (uint64_t),
 * every signal a number (SIGTERM), every mode a mode_t.
 */
#ifndef VIGILD_CONF_H
#define VIGILD_CONF_H

#include <sys/types.h>
#include <sys/resource.h>

#include <stddef.h>
#include <stdint.h>

#define CONFIG_NAME_MAX		64	/* service and group names */
#define CONFIG_INSTANCES_MAX	1024
#define CONFIG_WORKERS_MAX	256

/* Errors and warnings, each "FILE:LINE: message" (or "FILE: message"). */
struct config_diag {
	char	**errors;
	size_t	  nerrors;
	char	**warnings;
	size_t	  nwarnings;
};

enum restart_policy {
	RESTART_ALWAYS,
	RESTART_ON_FAILURE,
	RESTART_NEVER
};

enum ready_type {
	READY_NONE,		/* ready once it has run min_uptime */
	READY_NOTIFY,		/* READY=1 on NOTIFY_SOCKET */
	READY_FD,		/* a newline on descriptor fd */
	READY_TCP,		/* host:port accepts a connection */
	READY_EXEC		/* argv exits 0 */
};

struct ready_conf {
	enum ready_type	  type;
	int64_t		  timeout_ms;	/* > 0; default 60 s */
	int64_t		  interval_ms;	/* tcp, exec: between tries, and the
					   bound of one; > 0; default 1 s */
	int		  fd;		/* fd: 3..1023 */
	char		 *host;		/* tcp: "127.0.0.1", "::1" (no []) or
					   a host name, resolved at each try */
	char		 *port;		/* tcp: "1".."65535" (a service name
					   is resolved by config_load()) */
	char		**argv;		/* exec: NULL-terminated */
};

/*
 * Output targets. Only CONSOLE, INHERIT, NULL and (stderr) STDOUT are
 * accepted by config_load() for now; SYSLOG and FILE are parsed and
 * checked, then refused as not supported yet.
 */
enum output_kind {
	OUTPUT_CONSOLE,		/* vigild's stdout/stderr, "name | " prefix */
	OUTPUT_INHERIT,		/* vigild's own descriptor */
	OUTPUT_NULL,		/* /dev/null */
	OUTPUT_STDOUT,		/* stderr only: merged into stdout */
	OUTPUT_SYSLOG,
	OUTPUT_FILE
};

struct output_conf {
	enum output_kind  kind;
	char		 *file;		/* FILE: absolute path */
	uint64_t	  max_size;	/* FILE: rotate at; 0: never */
	unsigned int	  keep;		/* FILE: old files kept */
	int		  timestamps;	/* FILE: prefix lines with a time */
};

/* A health check, run while the service is running (see check.c). */
struct health_conf {
	char		**argv;		/* NULL: no health check */
	int64_t		  interval_ms;	/* > 0; default 10 s */
	int64_t		  timeout_ms;	/* of one try; > 0; default 5 s */
	unsigned int	  retries;	/* failures in a row; 1..100; 3 */
};

/* One resource limit, set as both the soft and the hard limit. */
struct limit_conf {
	int		  resource;	/* RLIMIT_* */
	rlim_t		  value;	/* RLIM_INFINITY for "unlimited" */
};

/* A per-service rewrite of a forwarded signal. */
struct rewrite_conf {
	int		  from;
	int		  to;
};

/*
 * One service of the file, in file order. A service with instances > 1
 * is one entry here; the daemon runs it as NAME:0 ... NAME:N-1 (see
 * config_instance_name()). Names cannot contain ':', so an instance name
 * can never collide with a service name.
 */
struct service_conf {
	char		 *name;
	char		 *file;		/* where it was defined, for messages */
	int		  line;

	/*
	 * argv: a string command is { "/bin/sh", "-c", STRING }. argv[0] is
	 * absolute if it contained a '/' (relative ones are resolved against
	 * the file's directory), else a bare name to search in PATH at spawn.
	 */
	char		**argv;
	char		 *directory;	/* absolute; NULL: vigild's own */

	/*
	 * Credentials, resolved when the file is loaded. has_user: run as
	 * uid with gid (group, else the user's primary group) and the user's
	 * supplementary groups (sgids). has_group alone: change only the gid
	 * and drop supplementary groups.
	 */
	char		 *user;
	char		 *group;
	int		  has_user;
	int		  has_group;
	uid_t		  uid;
	gid_t		  gid;
	gid_t		 *sgids;
	size_t		  nsgids;

	int		  has_umask;	/* 0: vigild's umask */
	mode_t		  umask;

	/*
	 * env: "KEY=VALUE" strings, NULL-terminated, env_file's then
	 * environment's, one per key (environment wins). The child's
	 * environment comes from config_service_env().
	 */
	char		**env;
	char		 *env_file;	/* absolute; NULL: none */

	struct limit_conf *limits;
	size_t		  nlimits;

	unsigned int	  instances;	/* 1..CONFIG_INSTANCES_MAX */
	char		**groups;	/* NULL-terminated group names */
	int		  autostart;

	/* Service names, NULL-terminated; after includes every requires. */
	char		**after;
	char		**requires;

	enum restart_policy restart;
	uint8_t		  success_exit[256 / 8];	/* bitmap of codes */
	int64_t		  restart_delay_ms;
	int64_t		  restart_delay_max_ms;
	unsigned int	  start_burst;
	int64_t		  start_interval_ms;
	int64_t		  min_uptime_ms;

	struct ready_conf ready;

	int		  stop_signal;
	int64_t		  stop_timeout_ms;
	int		  reload_signal;
	struct rewrite_conf *rewrites;	/* sorted by from */
	size_t		  nrewrites;

	struct output_conf out;
	struct output_conf err;
	struct health_conf health;
};

/* What vigild does with a signal it receives. */
enum route_action {
	ROUTE_IGNORE,
	ROUTE_SHUTDOWN,
	ROUTE_RELOAD,
	ROUTE_REOPEN_LOGS,
	ROUTE_REEXEC,
	ROUTE_FORWARD
};

enum target_kind {
	TARGET_ALL,
	TARGET_SERVICE,		/* a service, all of its instances */
	TARGET_INSTANCE,	/* one instance: name "web", instance 2 */
	TARGET_GROUP		/* every service with this group */
};

struct route_target {
	enum target_kind  kind;
	char		 *name;		/* NULL for TARGET_ALL */
	unsigned int	  instance;	/* TARGET_INSTANCE */
};

/* One rule of the signal routing table. */
struct route {
	int		  signo;
	enum route_action action;
	struct route_target *targets;	/* ROUTE_FORWARD */
	size_t		  ntargets;
	int		  as;		/* forward as this signal; = signo */
};

struct config {
	char		 *path;		/* the file, as given */
	char		 *dir;		/* its directory, absolute */
	char		 *source;	/* its text as parsed (NULL: none) */

	/* The vigild section. socket and pidfile are absolute or NULL. */
	char		 *socket;	/* NULL: config_default_socket() */
	mode_t		  socket_mode;	/* default 0600 */
	char		 *socket_group;	/* NULL: none */
	gid_t		  socket_gid;
	char		 *pidfile;	/* NULL: no pid file */
	unsigned int	  workers;	/* default 4 */
	int64_t		  shutdown_timeout_ms;	/* default 30 s */
	int		  log_level;	/* LOG_LEVEL_*, default info */

	/* Every routed signal, sorted by signo, defaults included. */
	struct route	 *routes;
	size_t		  nroutes;

	struct service_conf *services;
	size_t		  nservices;
	int		  has_deps;	/* some service has after (or requires) */
};

/*
 * Parse and check the file at path. Returns the configuration, or NULL if
 * there was any error. Every error and warning is appended to diag (which
 * may be NULL; zero it before first use, clear it with
 * config_diag_clear()). Checks what -t checks: users and groups exist,
 * env_file is readable; a missing command or directory is a warning.
 */
struct config	*config_load(const char *path, struct config_diag *diag);
/* The same, from text already read (re-exec); path names it. */
struct config	*config_load_text(const char *path, const char *text,
		    struct config_diag *diag);
void		 config_free(struct config *cf);

/*
 * The configuration of single-command mode: the defaults and one service
 * describing argv as vigild -- COMMAND runs it (see config.c). Path "(command
 * line)", no file behind it.
 */
struct config	*config_single(char *const argv[], enum restart_policy restart,
		    int64_t stop_ms);
void		 config_diag_clear(struct config_diag *diag);

/*
 * Refuse a file, or its directory, that is writable by group or others or
 * owned by neither root nor the running uid (vigild does this when it
 * runs as root). Returns 0, or -1 with a message in err.
 */
int		 config_check_perms(const char *path, char *err, size_t errlen);

/* The default control socket path (SPEC 6); NULL if len is too small. */
const char	*config_default_socket(char *buf, size_t len);

/* Lookups; NULL if there is no such thing. */
const struct service_conf *config_service_find(const struct config *cf,
		    const char *name);
const struct route *config_route_find(const struct config *cf, int signo);

/* "web" for a single instance, "web:2" for instance 2 of several. */
const char	*config_instance_name(const struct service_conf *svc,
		    unsigned int instance, char *buf, size_t len);

/* 1 if the service counts exit code as a success. */
int		 config_success_exit(const struct service_conf *svc, int code);

/* 1 if svc is in group. */
int		 config_service_in_group(const struct service_conf *svc,
		    const char *group);

/* The signal a service receives for a forwarded signo (its rewrite map). */
int		 config_service_rewrite(const struct service_conf *svc,
		    int signo);

/*
 * 1 if every effective setting of a and b is the same, the name included:
 * on reload, an unequal service is restarted. Effective: the resolved ids
 * and the variables read from env_file count, where the service was
 * defined and the env_file's path do not.
 */
int		 config_service_equal(const struct service_conf *a,
		    const struct service_conf *b);

/*
 * The environment of a child: base_environ minus NOTIFY_SOCKET,
 * WATCHDOG_* and LISTEN_*, then the service's env (env_file, then
 * environment), then VIGIL_SERVICE=instance_name (svc->name if NULL) and
 * VIGIL_INSTANCE=instance. NULL-terminated, allocated; free it with
 * config_env_free().
 */
char		**config_service_env(const struct service_conf *svc,
		    char *const base_environ[], const char *instance_name,
		    unsigned int instance);
void		 config_env_free(char **env);

/* "SIGTERM" for SIGTERM, NULL if the number has no name here. */
const char	*config_signal_name(int signo);

#endif
