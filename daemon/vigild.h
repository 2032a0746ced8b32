/*
 * vigild: daemon-wide types and the prototypes of each file, grouped by
 * file. Only the main thread touches anything here unless a comment says
 * otherwise; workers get copies of what they need and report back through
 * the pool's completion descriptor.
 */
#ifndef VIGILD_H
#define VIGILD_H

#include <sys/types.h>
#include <sys/queue.h>

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "vigil/vigil.h"
#include "conf.h"

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

struct svc;

/*
 * What the control socket's commands do to services (control_cmd.c): the
 * state machine's functions in configuration mode (svc_config_ops), single.c's
 * in single-command mode, where the services are its one command.
 */
struct svc_ops {
	int	(*start)(struct svc *, const char *why);
	int	(*stop)(struct svc *, const char *why);
	int	(*restart)(struct svc *, const char *why);
	void	(*shutdown)(void);
	/* NULL: no configuration file to reload. */
	void	(*reload)(void (*done)(int ok, void *arg), void *arg);
};

/* The daemon's global state (one per process, like tmux's globals). */
struct vigild {
	struct event_base	*base;
	struct vigil_pool	*pool;
	struct vigil_sigsrc	*sigsrc;	/* the loop's signal source */
	struct config		*conf;		/* current; replaced on reload */
	const struct svc_ops	*ops;		/* for the control socket */
	const char		*conf_path;
	int			 foreground;	/* else detached: syslog */
	int			 pid1;
	int			 shutting_down;
	int			 exit_code;
	char			*self_path;	/* for re-exec */
	char			**argv;		/* as main() got it, for re-exec */
	char			*runtime_dir;	/* private dir: notify sockets */
};
extern struct vigild	 vd;

/* Monotonic milliseconds. */
int64_t	now_ms(void);
void	ms_to_tv(int64_t ms, struct timeval *tv);

/* ---- service.c: the service state machine -------------------------- */
enum svc_state {
	SVC_STOPPED,	/* not running, not wanted (initial, operator stop) */
	SVC_STARTING,	/* running, not ready yet */
	SVC_RUNNING,	/* running and ready */
	SVC_STOPPING,	/* stop signal sent, waiting for the group to go */
	SVC_BACKOFF,	/* ended, waiting to restart */
	SVC_EXITED,	/* ended and not restarted */
	SVC_FATAL	/* start limit hit, or cannot be executed */
};
#define SVC_NSTATES	7

struct ring;
struct output;

/* One running instance of a configured service. */
struct svc {
	const struct service_conf *conf;	/* in vd.conf */
	char		 name[CONFIG_NAME_MAX + 16];	/* "web" or "web:2" */
	unsigned int	 instance;
	enum svc_state	 state;
	pid_t		 pid;		/* also the pgid and sid; 0 if none */
	int		 pidfd;
	int64_t		 started_ms;	/* when the current run began */
	int64_t		 state_ms;	/* when the state last changed */
	int		 ready;
	unsigned int	 restarts;	/* starts after the first */
	unsigned int	 quick_failures;
	int64_t		 next_delay_ms;
	int64_t		*start_times;	/* ring of start_burst starts */
	unsigned int	 nstarts;
	int		 last_code;	/* -1 if none */
	int		 last_signal;	/* 0 if none */
	char		 reason[160];	/* why the last state change */
	int		 want_start;	/* start once dependencies allow */
	int		 want_stop;	/* operator or shutdown asked */
	int		 failed_start;	/* stopping after a readiness timeout */
	char		 unhealthy[64];	/* stopping after failed health
					   checks: why the last one failed */
	int		 restart_after_stop;	/* reload: restart when stopped */
	int		 remove_after_stop;	/* reload: forget when stopped */
	int		 killed;	/* SIGKILL was sent to the group */
	struct event	*timer;		/* backoff, stop, ready, min_uptime */
	int64_t		 timer_due_ms;	/* when it fires; 0 if not armed */
	struct output	*out;		/* capture of the current run */
	struct output	*err;
	struct ring	*log;		/* recent lines, kept across runs */
	struct notify_listener *notify;	/* readiness: notify / fd */
	struct check	*check;		/* readiness tcp / exec, or health */
	TAILQ_ENTRY(svc) entry;
};
TAILQ_HEAD(svc_list, svc);
extern struct svc_list	 svcs;

const char	*svc_state_name(enum svc_state);
void		 svc_create_all(const struct config *);
void		 svc_add_conf(const struct service_conf *);
struct svc	*svc_add_conf_instance(const struct service_conf *,
		    unsigned int);
void		 svc_remove(struct svc *);
void		 svc_groups_check(void);
struct svc	*svc_find(const char *name);
struct svc	*svc_by_pid(pid_t);
void		 svc_start_autostart(void);
int		 svc_start(struct svc *, const char *why);
int		 svc_stop(struct svc *, const char *why);
int		 svc_restart(struct svc *, const char *why);
void		 svc_exited(struct svc *, int status);	/* from reap.c */
void		 svc_ready(struct svc *, const char *how);	/* notify, check */
void		 svc_unhealthy(struct svc *, const char *why);	/* check.c */
void		 svc_signal(struct svc *, int signo);	/* to its group */
void		 svc_shutdown_all(void);
int		 svc_all_stopped(void);
int		 svc_all_ready(void);
/* Services a reload removed are still stopping. */
int		 svc_removal_pending(void);
extern const struct svc_ops svc_config_ops;
/*
 * A spawn attribute for argv run like the service: environment env,
 * directory, credentials, umask, limits; out_fd, err_fd and ready_fd (-1:
 * none) placed at 1, 2 and ready.fd. NULL with errno on failure.
 */
struct vigil_spawnattr *svc_spawn_attr(struct svc *, char *const argv[],
		    char **env, int out_fd, int err_fd, int ready_fd);

/*
 * ---- check.c: readiness by tcp or exec, health checks ---------------
 */
/* Start, switch or end the check of s to follow its state (set_state). */
void	check_update(struct svc *);
/* reap.c: 1 if pid was a check's process (and is handled), else 0. */
int	check_reaped(pid_t pid, int status);
/* A shutdown begins: end every check, kill every check in flight. */
void	check_stop_all(void);
/* At exit, once the loop is over: kill and reap what is left. */
void	check_exit(void);

/* ---- reap.c: the one waitpid() loop -------------------------------- */
void	reap_children(void);

/* ---- route.c: what a received signal does -------------------------- */
void	route_signal(const struct vigil_siginfo *);

/* ---- reload.c: parse off the loop, then apply a diff --------------- */
void	reload_start(void (*done)(int ok, void *arg), void *arg);
/* Soon, on the loop: forget removed services once they are stopped. */
void	reload_sweep_soon(void);
int	reload_busy(void);
/* A reload's file is being parsed (its result not applied yet). */
int	reload_parsing(void);
/*
 * Only inside a done callback that got ok == 0: the errors of the new file
 * ("FILE:LINE: message"), or why the reload did not run; *n of them.
 */
const char *const *reload_errors(size_t *n);

/*
 * ---- output.c: capture of a child's stdout/stderr ------------------
 *
 * Console capture: vigild makes a pipe per stream of a run; the main loop
 * reads it without blocking, splits it into lines (a partial line waits
 * for its end; a line longer than 4 KiB is cut into pieces and every piece
 * prefixed), prefixes each with "name | ", keeps it in the service's ring
 * and queues it for a pool job that writes to vigild's own descriptor (1
 * or 2; syslog when detached). No blocking write ever runs on the loop; if
 * more than a bounded amount waits, the loop stops reading children's
 * pipes until the writer catches up, so nothing is lost and memory stays
 * bounded.
 */
/* A ring of the last lines of a service (at least 1,000 lines or 64 KiB). */
struct ring	*ring_new(void);
void		 ring_free(struct ring *);
void		 ring_append(struct ring *, const char *line, size_t len);
/* Call fn for each of the last n lines (all if n == 0), oldest first. */
void		 ring_foreach(struct ring *, size_t n,
		    void (*fn)(const char *line, size_t len, void *), void *);
/* Call fn after each line appended to any ring (NULL: none): log -f. */
void		 ring_set_hook(void (*fn)(struct ring *, const char *line,
		    size_t len));
/*
 * Start capturing one stream of a run of service name into dest_fd (1 or
 * 2); lines also go to ring (may be NULL). Returns the output and stores
 * in *child_fd the pipe's write end to give the child (the caller closes
 * it after the spawn). NULL with errno on failure.
 */
struct output	*output_new(const char *name, int dest_fd, struct ring *,
		    int *child_fd);
/*
 * The run is over for the service: keep reading until EOF (grandchildren
 * may still hold the pipe), then free. The pointer must not be used after.
 */
void		 output_release(struct output *);
/* Write everything still queued, synchronously (at exit). */
void		 output_flush_all(void);
/* Bytes queued or being written; bytes dropped by a refusing destination. */
size_t		 output_queued_bytes(void);
size_t		 output_dropped_bytes(void);
void		 output_init(void);

/*
 * ---- notify.c: sd_notify, as a client of systemd and as a server ----
 */
/* Send a message to systemd if NOTIFY_SOCKET is set; 0 otherwise too. */
int	notify_systemd(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Read NOTIFY_SOCKET/WATCHDOG_* and unset them; start WATCHDOG=1 pings. */
void	notify_init(void);
/*
 * Readiness listener for one run of s (READY_NOTIFY: a datagram socket
 * whose path goes into the child's NOTIFY_SOCKET; READY_FD: a pipe whose
 * write end goes to the child at conf->ready.fd). Calls svc_ready(s, ...)
 * on READY=1 or a newline; STATUS= is kept in s->reason. *env_out gets
 * "NOTIFY_SOCKET=..." (or NULL), *child_fd the descriptor to place (or -1).
 */
struct notify_listener *notify_listen(struct svc *s, char **env_out,
	    int *child_fd);
void	notify_close(struct notify_listener *);

/* ---- control.c: the control socket, for vigilctl ------------------ */
/*
 * Create the socket at path (NULL: the configuration's, else the default)
 * with the configured mode and group, refusing if another vigild owns it.
 * Before the loop runs. -1 with a message in err.
 */
int	control_listen(const char *path, char *err, size_t errlen);
/* Serve it on vd.base. */
void	control_start(void);
/*
 * At exit: answer the waits that are over by now, last words to the
 * other clients, close them all, remove the socket.
 */
void	control_close(void);
/* Remove the socket and its lock file (if ours), e.g. on a failed start. */
void	control_remove(void);
/* Reload: give the socket the new file's socket_mode and socket_group. */
void	control_set_perms(const struct config *old, const struct config *new);
/* Answer a re-exec request of connection id (control_cmd.c). */
void	ctl_reexec_done(unsigned long long id, int ok, const char *err);
/* The ring hook: feeds vigilctl log -f. */
void	control_ring_line(struct ring *, const char *line, size_t len);

/* ---- pidfile.c ----------------------------------------------------- */
/* Create and lock path with our pid; -1 with a message if held. */
int	pidfile_open(const char *path, char *err, size_t errlen);
void	pidfile_remove(void);

/* ---- single.c: vigild [options] -- COMMAND [ARG...] ----------------- */
struct single_opts {
	int		 restart;	/* enum restart_policy, or -1: never */
	int64_t		 grace_ms;	/* default 10 s */
	int		 log_level;
	const char	*pidfile;	/* -p, or NULL: none */
	const char	*socket;	/* -s, or NULL: no control socket */
};
int	single_main(char **argv, const struct single_opts *);

#endif
