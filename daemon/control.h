/*
 * The control socket, private to control.c (connections and the protocol's
 * framing), control_sock.c (creating the socket, peer credentials) and
 * control_cmd.c (the commands). Main thread only.
 */
#ifndef VIGILD_CONTROL_H
#define VIGILD_CONTROL_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>

#include <event2/event.h>

#include "proto.h"
#include "vigild.h"

#define CTL_OUT_HIGH		(256 * 1024)	/* then requests wait */

enum conn_state {
	CONN_HELLO,	/* waiting for the client's version */
	CONN_READY,	/* waiting for a request */
	CONN_BUSY,	/* a request in progress: wait, reload, shutdown */
	CONN_FOLLOW,	/* log -f: lines as they come */
	CONN_CLOSING	/* last reply queued; then half-close and linger */
};

/* Pending output: bytes data[off..len). */
struct obuf {
	char		*data;
	size_t		 off;
	size_t		 len;
	size_t		 cap;
};

/* One service a start, stop or restart waits for. */
struct ctl_target {
	char		 name[CONFIG_NAME_MAX + 16];
	pid_t		 pid0;		/* its pid when asked */
	int		 result;	/* 0 waiting, 1 done, -1 failed */
	char		 why[256];
};

struct ctl_wait {
	enum proto_cmd	  cmd;
	struct ctl_target *t;
	size_t		  n;
	int64_t		  t0;
	int64_t		  deadline;
};

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn) entry;
	uint64_t	 id;
	int		 fd;
	uid_t		 uid;
	pid_t		 pid;
	int		 refused;
	int		 dead;
	int		 eof;		/* the client half-closed */
	enum conn_state	 state;
	struct event	*rev;
	struct event	*wev;
	struct event	*tev;
	char		*in;
	size_t		 inlen;
	size_t		 incap;
	int64_t		 accept_ms;
	int64_t		 in_since;	/* first byte of a partial message */
	int64_t		 active_ms;	/* last request done */
	int64_t		 wprog_ms;	/* last write progress */
	int64_t		 closing_ms;
	struct obuf	 out;
	struct ctl_wait	*wait;		/* start, stop, restart */
	int		 reloading;
	int		 processing;	/* inside conn_process() */
	char		 follow[CONFIG_NAME_MAX + 16];	/* log -f */
	struct ring	*follow_ring;	/* compared, never followed */
	const struct config *follow_conf;	/* when follow_ring was checked */
	uint64_t	 dropped;	/* followed lines not sent */
};
TAILQ_HEAD(ctl_conns, ctl_conn);

/* control.c */
extern struct ctl_conns	 ctl_conns;	/* open, not the closed ones */
extern unsigned int	 ctl_nwaiters;	/* connections with a wait */
extern unsigned int	 ctl_nfollowers;	/* in CONN_FOLLOW */
/* Queue one message, taking the reference. */
void	ctl_send(struct ctl_conn *, json_t *);
/* Queue one message already encoded: len bytes of JSON, no newline. */
void	ctl_send_text(struct ctl_conn *, const char *, size_t);
void	ctl_reply_ok(struct ctl_conn *);
/* A final reply with ok false and the message. */
void	ctl_reply_err(struct ctl_conn *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Bytes queued for the client. */
size_t	ctl_pending(const struct ctl_conn *);
/* Write what can be written now (the connection may die). */
void	ctl_flush(struct ctl_conn *);
/* Write when the socket can take it (a followed line). */
void	ctl_want_write(struct ctl_conn *);
/* A request in progress is answered: take the next one. */
void	ctl_request_done(struct ctl_conn *);

/* control_sock.c */
extern int	 ctl_listen_fd;
/* Re-exec: the socket, its lock and their paths. */
void	control_save_sock(FILE *);
/* May the peer on fd control vigild? Its uid and pid (-1 unknown) too. */
int	ctl_peer_allowed(int fd, uid_t *uid, pid_t *pid);

/* control_cmd.c */
/* Carry out a well-formed request. */
void	ctl_command(struct ctl_conn *, const struct proto_request *);
/* At exit: answer the waits that are over, then free. */
void	ctl_command_settle(void);
void	ctl_command_close(void);

#endif
