/*
 * Re-exec (SPEC 4.5): the state that crosses execve(2), and the records it
 * is written in. Main thread only.
 *
 * The state is text in an anonymous file: one record a line, a type and
 * then KEY=VALUE fields separated by spaces. Numbers are decimal; strings
 * and bytes are hex, so that any byte can cross. A reader skips the keys
 * and records it does not know and takes a default for a missing key, so
 * that an upgrade can add fields; the first line names the format and a
 * reader refuses a major version it does not know.
 */
#ifndef VIGILD_REEXEC_H
#define VIGILD_REEXEC_H

#include <sys/types.h>

#include <stddef.h>
#include <stdio.h>

struct config;
struct output;
struct svc;

#define RX_ENV		"VIGIL_REEXEC_STATE"	/* its descriptor */
#define RX_CHECK_ENV	"VIGIL_REEXEC_CHECK"	/* the probe's, to check */
#define RX_MAXKEYS	48

/* Writing: rx_begin(), fields, rx_finish(). */
void	rx_begin(FILE *, const char *type);
void	rx_int(FILE *, const char *key, long long v);
void	rx_bytes(FILE *, const char *key, const char *p, size_t len);
/* A string; nothing is written for NULL. */
void	rx_str(FILE *, const char *key, const char *s);
void	rx_finish(FILE *);

/* One record read back. */
struct rx_rec {
	char		*type;
	size_t		 n;
	char		*key[RX_MAXKEYS];
	char		*val[RX_MAXKEYS];
	unsigned char	 decoded[RX_MAXKEYS];
	size_t		 len[RX_MAXKEYS];
};
long long	 rx_getint(struct rx_rec *, const char *key, long long def);
/* Decoded bytes, NUL-terminated, or NULL if the key is missing. */
char		*rx_get(struct rx_rec *, const char *key, size_t *len);

/* The parsed state of the image before, for the new image. */
struct rx_state;

/*
 * The new image: the state the old one left, if the environment names it
 * (and unset it); NULL if there is none. Exits if it is unreadable.
 */
struct rx_state	*rx_load(void);
/*
 * The probe before a re-exec, run in the new binary with RX_CHECK_ENV set
 * to env: can it take over (the state's format, the configuration text)?
 * 0, or 1 with the errors on stderr.
 */
int		 rx_check(const char *env);
/* Was the old image in the foreground (else detached, logging to syslog)? */
int		 rx_foreground(struct rx_state *);
/* The configuration text of the old image, parsed as conf_path. */
struct config	*rx_config(struct rx_state *, const char *conf_path);
/* Before the loop: pid file, control socket, runtime directory, env. */
void		 rx_adopt_files(struct rx_state *);
/* After svc_create_all(): services, capture, readiness, connections. */
void		 rx_restore(struct rx_state *);

/* The old image: re-execute for a control connection (id, 0: none). */
void		 reexec_request(unsigned long long conn_id);
int		 reexec_busy(void);
/* reap.c: 1 if pid was the re-exec's probe of the binary (handled). */
int		 reexec_reaped(pid_t pid, int status);

/* Savers and restorers of each file. */
void	svc_save(FILE *);
int	svc_restore(struct rx_rec *);		/* a "svc" record */
void	svc_restore_done(void);
void	svc_restore_ready_sent(int);
int	output_fd(const struct output *);
void	output_save(FILE *);
void	output_restore(struct rx_rec *);	/* "out" or "batch" */
struct output *output_by_fd(int fd);
void	output_freeze(void (*idle)(void));
void	output_thaw(void);
int	output_busy(void);
void	notify_save(FILE *);
/* WATCHDOG=1 now, if systemd asked for a watchdog. */
void	notify_watchdog_ping(void);
void	notify_save_listener(FILE *, const struct svc *);
void	notify_restore(struct rx_rec *);	/* "sd" */
void	notify_adopt(struct svc *, struct rx_rec *);	/* "ntf" */
void	control_save(FILE *, unsigned long long keep);
void	control_part(unsigned long long keep);
void	control_restore(struct rx_rec *);	/* "ctl" */
void	control_restore_conn(struct rx_rec *, int ok, const char *err);
void	control_restore_follow(struct rx_rec *);	/* "follow" */
void	pidfile_save(FILE *);
void	pidfile_restore(struct rx_rec *);	/* "pid" */
/* The old image: fd is named in the state and must cross the exec. */
void	rx_keep_fd(int fd);
/* Forget them; clear (0) or set (1) close-on-exec on them all. */
void	rx_kept_reset(void);
void	rx_kept_cloexec(int on);
/* The new image: an adopted descriptor is close-on-exec again. */
void	rx_cloexec(int fd);

#endif
