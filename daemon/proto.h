/*
 * The control protocol between vigild and vigilctl (vigilctl(8), PROTOCOL).
 *
 * A UNIX stream socket carries messages both ways. A message is one JSON
 * object on one line: UTF-8, no raw newline inside (JSON escapes them),
 * ended by "\n", at most PROTO_MSG_MAX bytes with its newline.
 *
 *   client: {"protocol": 1, "client": "vigilctl 0.1.0"}	hello, first
 *   server: {"ok": true, "protocol": 1, "server": "vigild 0.1.0"}
 *   client: {"command": "status", "args": ["web", "group:db"]}
 *   server: {"service": {...}}			zero or more items
 *   server: {"ok": true}				then one final reply
 *
 * A reply is any number of item messages (an object without "ok") and one
 * final message with "ok" (and "error" when ok is false). A peer that is
 * not allowed, or speaks another protocol version, gets one final message
 * with ok false and is disconnected. The client may send the next request
 * once the final reply has come.
 *
 * proto.c parses what the server receives. It has no state and links
 * with nothing of the daemon but xmalloc, so the fuzzer can drive it.
 */
#ifndef VIGIL_PROTO_H
#define VIGIL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PROTO_VERSION		1
#define PROTO_MSG_MAX		(64 * 1024)	/* newline included */
#define PROTO_ARGS_MAX		1024		/* selectors in a request */
#define PROTO_SELECTOR_MAX	80		/* "group:" + a 64-byte name */
#define PROTO_SIGNAME_MAX	32
#define PROTO_LINES_MAX		1000000		/* log -n */
#define PROTO_TIMEOUT_MAX	86400.0		/* seconds */

enum proto_cmd {
	PROTO_STATUS,
	PROTO_START,
	PROTO_STOP,
	PROTO_RESTART,
	PROTO_SIGNAL,
	PROTO_RELOAD,
	PROTO_SHUTDOWN,
	PROTO_VERSION_CMD,
	PROTO_LOG,
	PROTO_REEXEC,
	PROTO_NCMDS
};

/*
 * A parsed request. args point into root, which the request owns until
 * proto_request_clear().
 */
struct proto_request {
	enum proto_cmd	  cmd;
	json_t		 *root;
	const char	**args;		/* nargs selectors */
	size_t		  nargs;
	int		  wait;		/* start, stop, restart, shutdown; 1 */
	int64_t		  timeout_ms;	/* start, stop, restart; 0: default */
	char		  signame[PROTO_SIGNAME_MAX];	/* signal */
	long		  lines;	/* log; default PROTO_LOG_DEFAULT */
	int		  follow;	/* log */
};
#define PROTO_LOG_DEFAULT	10

/* "status" for PROTO_STATUS; NULL if out of range. */
const char	*proto_cmd_name(enum proto_cmd);

/*
 * Parse a hello (the message without its newline). Returns 0 with the
 * client's protocol version in *version, or -1 with a message in err.
 */
int		 proto_hello_parse(const char *msg, size_t len, long *version,
		    char *err, size_t errlen);

/*
 * Parse and check a request (without its newline): a known command, the
 * keys it takes with the right types and ranges, well-formed selectors.
 * Returns 0, or -1 with a message in err (req is then clear).
 */
int		 proto_request_parse(const char *msg, size_t len,
		    struct proto_request *req, char *err, size_t errlen);
void		 proto_request_clear(struct proto_request *req);

/*
 * A selector: NAME, NAME:N, group:NAME or all, where NAME is
 * [A-Za-z0-9_.-]{1,64}. 1 if s is one.
 */
int		 proto_selector_valid(const char *s);

/*
 * A JSON string of len bytes of s, which may hold anything: each byte
 * that is not part of valid UTF-8 becomes U+FFFD. Never NULL.
 */
json_t		*proto_string(const char *s, size_t len);

#endif
