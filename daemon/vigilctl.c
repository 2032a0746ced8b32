/*
 * vigilctl: the control client of vigild (vigilctl(8), SPEC 5). One
 * connection per run: the hello with our protocol version, one request,
 * its items and its final reply (proto.h). A { name, usage, fn } table of
 * commands, as in OpenBSD's ctl programs.
 *
 * Exit status: 0 success, 1 the request failed (refused, unknown name,
 * a service that did not reach its state...), 2 usage, 3 vigild cannot be
 * reached (no socket, nobody listening, or the connection broke before the
 * answer).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "conf.h"
#include "proto.h"

#define EXIT_FAIL	1
#define EXIT_USAGE	2
#define EXIT_UNREACHABLE 3

#define HELLO_TIMEOUT_MS	10000
#define REPLY_TIMEOUT_MS	60000

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL	0
#endif

struct cmd;
typedef int cmd_fn(const struct cmd *, int, char **);

struct cmd {
	const char	*name;
	const char	*usage;		/* what follows the command's name */
	cmd_fn		*fn;
};

/* Options a command accepts (besides --json and --help). */
#define O_WAIT		0x01	/* --no-wait */
#define O_TIMEOUT	0x02	/* --timeout SECONDS */
#define O_LINES		0x04	/* -n LINES */
#define O_FOLLOW	0x08	/* -f */

struct opts {
	int		 no_wait;
	double		 timeout;	/* 0: vigild's default */
	long		 lines;
	int		 follow;
	char		**args;		/* operands */
	int		 nargs;
};

static const char	*sock_path;
static int		 json_mode;
static int		 ctl_fd = -1;
static char		 rbuf[PROTO_MSG_MAX];
static size_t		 roff;		/* rbuf[roff, rlen) is unread */
static size_t		 rlen;
static const struct cmd	*cur_cmd;
static int		 hello_pending;

static int	cmd_status(const struct cmd *, int, char **);
static int	cmd_startstop(const struct cmd *, int, char **);
static int	cmd_signal(const struct cmd *, int, char **);
static int	cmd_reload(const struct cmd *, int, char **);
static int	cmd_log(const struct cmd *, int, char **);
static int	cmd_shutdown(const struct cmd *, int, char **);
static int	cmd_reexec(const struct cmd *, int, char **);
static int	cmd_version(const struct cmd *, int, char **);
static int	cmd_help(const struct cmd *, int, char **);

static const struct cmd cmds[] = {
	{ "status",	"[NAME|group:G ...]",			cmd_status },
	{ "start",	"[--no-wait] [--timeout SECONDS] NAME...", cmd_startstop },
	{ "stop",	"[--no-wait] [--timeout SECONDS] NAME...", cmd_startstop },
	{ "restart",	"[--no-wait] [--timeout SECONDS] NAME...", cmd_startstop },
	{ "signal",	"SIG NAME...",				cmd_signal },
	{ "reload",	"",					cmd_reload },
	{ "log",	"[-f] [-n LINES] NAME",			cmd_log },
	{ "shutdown",	"[--no-wait]",				cmd_shutdown },
	{ "reexec",	"",					cmd_reexec },
	{ "version",	"",					cmd_version },
	{ "help",	"",					cmd_help },
};
#define NCMDS	(sizeof cmds / sizeof cmds[0])

/* ---- what a command keeps until it returns ------------------------- */

/* Replies and buffers of the command, freed by main() when it returns. */
static json_t	*held[8];
static void	*held_mem[4];
static size_t	 nheld, nheld_mem;

static json_t *
hold(json_t *j)
{
	if (j != NULL && nheld < sizeof held / sizeof held[0])
		held[nheld++] = j;
	return j;
}

static void
hold_mem(void *p)
{
	if (p != NULL && nheld_mem < sizeof held_mem / sizeof held_mem[0])
		held_mem[nheld_mem++] = p;
}

static void
release(void)
{
	while (nheld > 0)
		json_decref(held[--nheld]);
	while (nheld_mem > 0)
		free(held_mem[--nheld_mem]);
}

/* ---- messages and exits --------------------------------------------- */

static void	die(int, const char *, ...)
		    __attribute__((format(printf, 2, 3), noreturn));
static void	warnmsg(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

static void
warnmsg(const char *fmt, ...)
{
	va_list ap;

	fputs("vigilctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Print a JSON document on stdout. */
static void
print_json(json_t *doc, size_t flags)
{
	json_dumpf(doc, stdout, flags);
	fputc('\n', stdout);
	fflush(stdout);
}

/* Fail with a message: in --json mode as {"ok": false, "error": ...}. */
static void
die(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *doc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (json_mode && code != EXIT_USAGE) {
		doc = json_pack("{s:b,s:o}", "ok", 0, "error",
		    proto_string(msg, strlen(msg)));
		print_json(doc, JSON_INDENT(2));
		json_decref(doc);
	} else
		warnmsg("%s", msg);
	exit(code);
}

static void
print_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: vigilctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
	    "commands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %s%s%s\n", cmds[i].name,
		    cmds[i].usage[0] != '\0' ? " " : "", cmds[i].usage);
}

/* A usage error: the usage line of the command, or all of them. */
static void __attribute__((noreturn))
usage(void)
{
	if (cur_cmd != NULL)
		fprintf(stderr, "usage: vigilctl [-s SOCKET] [--json] %s%s%s\n",
		    cur_cmd->name, cur_cmd->usage[0] != '\0' ? " " : "",
		    cur_cmd->usage);
	else
		print_usage(stderr);
	exit(EXIT_USAGE);
}

/* The error of a final reply, or a fallback. */
static const char *
reply_error(json_t *final)
{
	const char *e = json_string_value(json_object_get(final, "error"));

	return e != NULL ? e : "request failed";
}

static int
reply_ok(json_t *final)
{
	return json_is_true(json_object_get(final, "ok"));
}

/* ---- the connection ------------------------------------------------- */

static void __attribute__((noreturn))
lost(void)
{
	die(EXIT_UNREACHABLE, "lost the connection to vigild");
}

static void
ctl_write(const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(ctl_fd, buf, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			lost();
		buf += n;
		len -= (size_t)n;
	}
}

/* Send one message (taking the reference). */
static void
ctl_send(json_t *msg)
{
	char *s;
	size_t len;

	if ((s = json_dumps(msg, JSON_COMPACT)) == NULL)
		die(EXIT_FAIL, "cannot encode the request");
	json_decref(msg);
	len = strlen(s);
	if (len + 1 > PROTO_MSG_MAX)
		die(EXIT_USAGE, "request longer than %d bytes: too many names",
		    PROTO_MSG_MAX);
	s[len] = '\n';
	ctl_write(s, len + 1);
	free(s);
}

/*
 * The next message from vigild, waiting at most timeout_ms (-1: for ever);
 * NULL at the end of the connection.
 */
static json_t *
ctl_recv(int timeout_ms)
{
	struct pollfd pfd;
	json_error_t je;
	json_t *msg;
	char *nl;
	size_t len;
	ssize_t n;
	int r;

	while ((nl = memchr(rbuf + roff, '\n', rlen - roff)) == NULL) {
		/* Move what is left to the front only when more must come. */
		if (roff > 0) {
			rlen -= roff;
			memmove(rbuf, rbuf + roff, rlen);
			roff = 0;
		}
		if (rlen == sizeof rbuf)
			die(EXIT_FAIL, "reply longer than %d bytes",
			    PROTO_MSG_MAX);
		pfd.fd = ctl_fd;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, timeout_ms)) == -1 && errno == EINTR)
			continue;
		if (r == 0)
			die(EXIT_UNREACHABLE, "no answer from vigild after "
			    "%d s", timeout_ms / 1000);
		n = read(ctl_fd, rbuf + rlen, sizeof rbuf - rlen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0 || (n == -1 && errno == ECONNRESET)) {
			if (rlen > roff)
				lost();
			return NULL;
		}
		if (n == -1)
			die(EXIT_UNREACHABLE, "reading from vigild: %s",
			    strerror(errno));
		rlen += (size_t)n;
	}
	len = (size_t)(nl - (rbuf + roff));
	msg = json_loadb(rbuf + roff, len, 0, &je);
	roff += len + 1;
	if (roff == rlen)
		roff = rlen = 0;
	if (msg == NULL || !json_is_object(msg))
		die(EXIT_FAIL, "malformed reply from vigild: %s",
		    msg == NULL ? je.text : "not an object");
	return msg;
}

/*
 * The answer to our hello, read before the first reply to a request: the
 * request goes out right after the hello, without waiting, to save a
 * round trip. A refusal or another protocol version exits 1.
 */
static void
ctl_hello_reply(void)
{
	json_t *reply;

	if (!hello_pending)
		return;
	hello_pending = 0;
	if ((reply = ctl_recv(HELLO_TIMEOUT_MS)) == NULL)
		lost();
	if (!reply_ok(reply))
		die(EXIT_FAIL, "%s", reply_error(reply));
	json_decref(reply);
}

/* Connect and say hello; exits 3 if vigild cannot be reached. */
static void
ctl_connect(void)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof sun.sun_path, "%s",
	    sock_path) >= sizeof sun.sun_path)
		die(EXIT_USAGE, "socket path too long: %s", sock_path);
	if ((ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die(EXIT_UNREACHABLE, "socket: %s", strerror(errno));
	if (connect(ctl_fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		die(EXIT_UNREACHABLE, "cannot connect to %s: %s%s", sock_path,
		    strerror(errno), errno == ENOENT || errno == ECONNREFUSED ?
		    " (is vigild running?)" : "");
	ctl_send(json_pack("{s:i,s:s}", "protocol", PROTO_VERSION, "client",
	    "vigilctl " PACKAGE_VERSION));
	hello_pending = 1;
}

/*
 * Send a request and give each item to fn; return the final reply. The
 * connection ending first exits 3.
 */
static json_t *
ctl_request(json_t *req, int timeout_ms, void (*fn)(json_t *, void *),
    void *arg)
{
	json_t *msg;

	ctl_send(req);
	ctl_hello_reply();
	for (;;) {
		if ((msg = ctl_recv(timeout_ms)) == NULL)
			lost();
		if (json_object_get(msg, "ok") != NULL)
			return hold(msg);
		if (fn != NULL)
			fn(msg, arg);
		json_decref(msg);
	}
}

static json_t *
new_request(const char *cmd, char **args, int nargs)
{
	json_t *req, *a;
	int i;

	req = json_pack("{s:s}", "command", cmd);
	if (args != NULL) {
		a = json_array();
		for (i = 0; i < nargs; i++)
			json_array_append_new(a, json_string(args[i]));
		json_object_set_new(req, "args", a);
	}
	return req;
}

/* Collect the value of one kind of item into an array. */
struct collect {
	const char	*key;
	json_t		*items;
};

static void
collect_cb(json_t *msg, void *arg)
{
	struct collect *c = arg;
	json_t *v;

	if ((v = json_object_get(msg, c->key)) != NULL)
		json_array_append(c->items, v);
}

/* A failed reply: JSON on stdout, or the error on stderr. Returns 1. */
static int
report_failure(json_t *final, const char *key, json_t *items)
{
	if (json_mode) {
		if (items != NULL)
			json_object_set(final, key, items);
		print_json(final, JSON_INDENT(2));
	} else
		warnmsg("%s", reply_error(final));
	return EXIT_FAIL;
}

/* ---- options -------------------------------------------------------- */

static double
parse_seconds(const char *s)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(d > 0) ||
	    d > PROTO_TIMEOUT_MAX) {
		warnmsg("bad number of seconds: %s", s);
		usage();
	}
	return d;
}

static long
parse_lines(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 ||
	    v > PROTO_LINES_MAX) {
		warnmsg("bad number of lines: %s", s);
		usage();
	}
	return v;
}

/* The value of an option: "--opt=V", "-nV", or the next argument. */
static const char *
opt_value(const char *arg, size_t namelen, int argc, char **argv, int *i)
{
	if (arg[namelen] == '=')
		return arg + namelen + 1;
	if (arg[namelen] != '\0' && arg[1] != '-')
		return arg + namelen;
	if (*i + 1 >= argc)
		usage();
	return argv[++*i];
}

/*
 * Parse a command's arguments (argv[0] is its name): the options in
 * allowed, --json and --help anywhere, operands in order; "--" ends the
 * options.
 */
static void
parse_opts(int argc, char **argv, unsigned int allowed, struct opts *o)
{
	const char *a;
	int i, dashdash = 0;

	memset(o, 0, sizeof *o);
	o->lines = PROTO_LOG_DEFAULT;
	o->args = calloc((size_t)argc + 1, sizeof *o->args);
	if (o->args == NULL)
		die(EXIT_FAIL, "out of memory");
	hold_mem(o->args);
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (dashdash || a[0] != '-' || a[1] == '\0')
			o->args[o->nargs++] = argv[i];
		else if (strcmp(a, "--") == 0)
			dashdash = 1;
		else if (strcmp(a, "--json") == 0 || strcmp(a, "-j") == 0)
			json_mode = 1;
		else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf("usage: vigilctl [-s SOCKET] [--json] %s%s%s\n",
			    cur_cmd->name, cur_cmd->usage[0] != '\0' ? " " : "",
			    cur_cmd->usage);
			exit(0);
		} else if ((allowed & O_WAIT) && strcmp(a, "--no-wait") == 0)
			o->no_wait = 1;
		else if ((allowed & O_TIMEOUT) && (strncmp(a, "--timeout",
		    9) == 0 && (a[9] == '\0' || a[9] == '=')))
			o->timeout = parse_seconds(opt_value(a, 9, argc, argv,
			    &i));
		else if ((allowed & O_LINES) && strncmp(a, "-n", 2) == 0)
			o->lines = parse_lines(opt_value(a, 2, argc, argv, &i));
		else if ((allowed & O_LINES) && strncmp(a, "--lines", 7) == 0 &&
		    (a[7] == '\0' || a[7] == '='))
			o->lines = parse_lines(opt_value(a, 7, argc, argv, &i));
		else if ((allowed & O_FOLLOW) && (strcmp(a, "-f") == 0 ||
		    strcmp(a, "--follow") == 0))
			o->follow = 1;
		else {
			warnmsg("%s: unknown option %s", cur_cmd->name, a);
			usage();
		}
	}
}

/* ---- status --------------------------------------------------------- */

/* 12s, 3m12s, 2h03m, 4d02h; "-" for none. */
static void
fmt_duration(char *buf, size_t len, json_t *v)
{
	long s;

	if (!json_is_number(v)) {
		snprintf(buf, len, "-");
		return;
	}
	s = (long)json_number_value(v);
	if (s < 60)
		snprintf(buf, len, "%lds", s);
	else if (s < 3600)
		snprintf(buf, len, "%ldm%02lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%ldh%02ldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%ldd%02ldh", s / 86400, s % 86400 / 3600);
}

static void
fmt_last_exit(char *buf, size_t len, json_t *le)
{
	json_t *code = json_object_get(le, "code");
	json_t *sig = json_object_get(le, "signal");

	if (json_is_string(sig))
		snprintf(buf, len, "%s", json_string_value(sig));
	else if (json_is_integer(sig))
		snprintf(buf, len, "signal %lld",
		    (long long)json_integer_value(sig));
	else if (json_is_integer(code))
		snprintf(buf, len, "%lld", (long long)json_integer_value(code));
	else
		snprintf(buf, len, "-");
}

#define NCOLS	8

/* The cells of one row of the status table. */
static void
status_row(json_t *s, char cells[NCOLS][256])
{
	json_t *pid = json_object_get(s, "pid");
	const char *str;

	str = json_string_value(json_object_get(s, "name"));
	snprintf(cells[0], 256, "%s", str != NULL ? str : "?");
	str = json_string_value(json_object_get(s, "state"));
	snprintf(cells[1], 256, "%s", str != NULL ? str : "?");
	if (json_is_integer(pid))
		snprintf(cells[2], 256, "%lld",
		    (long long)json_integer_value(pid));
	else
		snprintf(cells[2], 256, "-");
	fmt_duration(cells[3], 256, json_object_get(s, "uptime"));
	snprintf(cells[4], 256, "%lld", (long long)json_integer_value(
	    json_object_get(s, "restarts")));
	fmt_last_exit(cells[5], 256, json_object_get(s, "last_exit"));
	snprintf(cells[6], 256, "%s",
	    json_is_true(json_object_get(s, "ready")) ? "yes" : "no");
	str = json_string_value(json_object_get(s, "reason"));
	snprintf(cells[7], 256, "%s", str != NULL ? str : "");
}

/*
 * The table, built as the rows come (so no reply is kept): each row is
 * NCOLS strings one after the other in buf; columns as wide as their
 * widest cell.
 */
struct table {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	size_t		 nrows;
	size_t		 w[NCOLS];
};

static void
table_add(json_t *msg, void *arg)
{
	struct table *t = arg;
	char cells[NCOLS][256];
	json_t *s;
	size_t j, l;

	if ((s = json_object_get(msg, "service")) == NULL)
		return;
	status_row(s, cells);
	for (j = 0; j < NCOLS; j++) {
		l = strlen(cells[j]);
		if (l > t->w[j])
			t->w[j] = l;
		if (t->len + l + 1 > t->cap) {
			t->cap = t->cap == 0 ? 65536 : t->cap * 2;
			if ((t->buf = realloc(t->buf, t->cap)) == NULL)
				die(EXIT_FAIL, "out of memory");
		}
		memcpy(t->buf + t->len, cells[j], l + 1);
		t->len += l + 1;
	}
	t->nrows++;
}

static void
table_print(struct table *t)
{
	static const char *const heads[NCOLS] = { "NAME", "STATE", "PID",
	    "UPTIME", "RESTARTS", "LAST EXIT", "READY", "REASON" };
	const char *p = t->buf;
	size_t i, j;

	for (j = 0; j < NCOLS; j++)
		if (strlen(heads[j]) > t->w[j])
			t->w[j] = strlen(heads[j]);
	for (j = 0; j < NCOLS - 1; j++)
		printf("%-*s  ", (int)t->w[j], heads[j]);
	printf("%s\n", heads[NCOLS - 1]);
	for (i = 0; i < t->nrows; i++) {
		for (j = 0; j < NCOLS - 1; j++) {
			printf("%-*s  ", (int)t->w[j], p);
			p += strlen(p) + 1;
		}
		printf("%s\n", p);
		p += strlen(p) + 1;
	}
}

static int
cmd_status(const struct cmd *cmd, int argc, char **argv)
{
	struct collect col = { "service", NULL };
	struct table t;
	struct opts o;
	json_t *final, *doc;

	parse_opts(argc, argv, 0, &o);
	memset(&t, 0, sizeof t);
	ctl_connect();
	if (json_mode) {
		col.items = hold(json_array());
		final = ctl_request(new_request(cmd->name, o.args, o.nargs),
		    REPLY_TIMEOUT_MS, collect_cb, &col);
	} else {
		final = ctl_request(new_request(cmd->name, o.args, o.nargs),
		    REPLY_TIMEOUT_MS, table_add, &t);
		hold_mem(t.buf);
	}
	if (!reply_ok(final))
		return report_failure(final, NULL, NULL);
	if (json_mode) {
		doc = json_pack("{s:i,s:O}", "version", 1, "services",
		    col.items);
		print_json(doc, JSON_INDENT(2));
		json_decref(doc);
	} else
		table_print(&t);
	return 0;
}

/* ---- start, stop, restart, signal ----------------------------------- */

/* Print each result: done on stdout, failed on stderr. */
static int
print_results(json_t *results, const char *done)
{
	json_t *r;
	size_t i;
	const char *name, *err;
	int failed = 0;

	json_array_foreach(results, i, r) {
		name = json_string_value(json_object_get(r, "name"));
		if (json_is_true(json_object_get(r, "ok")))
			printf("%s: %s\n", name, done);
		else {
			err = json_string_value(json_object_get(r, "error"));
			warnmsg("%s: %s", name, err != NULL ? err : "failed");
			failed = 1;
		}
	}
	return failed;
}

/* A command answered by results: the JSON document or the lines. */
static int
finish_results(json_t *final, json_t *results, const char *done)
{
	int ok = reply_ok(final), failed;

	if (json_mode) {
		json_object_set(final, "results", results);
		print_json(final, JSON_INDENT(2));
		return ok ? 0 : EXIT_FAIL;
	}
	failed = print_results(results, done);
	if (!ok && !failed)
		warnmsg("%s", reply_error(final));
	return ok ? 0 : EXIT_FAIL;
}

static int
cmd_startstop(const struct cmd *cmd, int argc, char **argv)
{
	struct collect col = { "result", hold(json_array()) };
	struct opts o;
	json_t *req, *final;
	const char *done;

	parse_opts(argc, argv, O_WAIT | O_TIMEOUT, &o);
	if (o.nargs == 0)
		usage();
	req = new_request(cmd->name, o.args, o.nargs);
	json_object_set_new(req, "wait", json_boolean(!o.no_wait));
	if (o.timeout > 0)
		json_object_set_new(req, "timeout", json_real(o.timeout));
	ctl_connect();
	/* vigild bounds the wait; so the answer comes. */
	final = ctl_request(req, -1, collect_cb, &col);
	if (o.no_wait)
		done = strcmp(cmd->name, "start") == 0 ? "start requested" :
		    strcmp(cmd->name, "stop") == 0 ? "stop requested" :
		    "restart requested";
	else
		done = strcmp(cmd->name, "start") == 0 ? "started" :
		    strcmp(cmd->name, "stop") == 0 ? "stopped" : "restarted";
	return finish_results(final, col.items, done);
}

static int
cmd_signal(const struct cmd *cmd, int argc, char **argv)
{
	struct collect col = { "result", hold(json_array()) };
	struct opts o;
	json_t *req, *final;

	parse_opts(argc, argv, 0, &o);
	if (o.nargs < 2)
		usage();
	req = new_request(cmd->name, o.args + 1, o.nargs - 1);
	json_object_set_new(req, "signal", json_string(o.args[0]));
	ctl_connect();
	final = ctl_request(req, REPLY_TIMEOUT_MS, collect_cb, &col);
	return finish_results(final, col.items, "signalled");
}

/* ---- reload, shutdown, reexec, version ------------------------------ */

static int
cmd_reload(const struct cmd *cmd, int argc, char **argv)
{
	struct collect col = { "diag", hold(json_array()) };
	struct opts o;
	json_t *final, *d;
	size_t i;

	parse_opts(argc, argv, 0, &o);
	if (o.nargs != 0)
		usage();
	ctl_connect();
	final = ctl_request(new_request(cmd->name, NULL, 0), REPLY_TIMEOUT_MS,
	    collect_cb, &col);
	if (json_mode) {
		if (!reply_ok(final))
			json_object_set(final, "errors", col.items);
		print_json(final, JSON_INDENT(2));
		return reply_ok(final) ? 0 : EXIT_FAIL;
	}
	if (reply_ok(final)) {
		printf("reloaded\n");
		return 0;
	}
	json_array_foreach(col.items, i, d)
		fprintf(stderr, "%s\n", json_string_value(d));
	warnmsg("%s", reply_error(final));
	return EXIT_FAIL;
}

static int
cmd_shutdown(const struct cmd *cmd, int argc, char **argv)
{
	struct opts o;
	json_t *req, *final, *msg;

	parse_opts(argc, argv, O_WAIT, &o);
	if (o.nargs != 0)
		usage();
	req = new_request(cmd->name, NULL, 0);
	json_object_set_new(req, "wait", json_boolean(!o.no_wait));
	ctl_connect();
	final = ctl_request(req, REPLY_TIMEOUT_MS, NULL, NULL);
	if (!reply_ok(final))
		return report_failure(final, NULL, NULL);
	/* Waiting: vigild closes the connection as it exits. */
	while (!o.no_wait && (msg = ctl_recv(-1)) != NULL)
		json_decref(msg);
	if (json_mode)
		print_json(final, JSON_INDENT(2));
	else
		printf(o.no_wait ? "shutting down\n" : "shut down\n");
	return 0;
}

static int
cmd_reexec(const struct cmd *cmd, int argc, char **argv)
{
	struct opts o;
	json_t *final;

	parse_opts(argc, argv, 0, &o);
	if (o.nargs != 0)
		usage();
	ctl_connect();
	final = ctl_request(new_request(cmd->name, NULL, 0), REPLY_TIMEOUT_MS,
	    NULL, NULL);
	if (!reply_ok(final))
		return report_failure(final, NULL, NULL);
	if (json_mode)
		print_json(final, JSON_INDENT(2));
	else
		printf("re-executed\n");
	return 0;
}

static int
cmd_version(const struct cmd *cmd, int argc, char **argv)
{
	struct opts o;
	json_t *final;
	const char *server, *lib, *src;

	parse_opts(argc, argv, 0, &o);
	if (o.nargs != 0)
		usage();
	if (!json_mode)
		printf("vigilctl %s (protocol %d)\n", PACKAGE_VERSION,
		    PROTO_VERSION);
	ctl_connect();
	final = ctl_request(new_request(cmd->name, NULL, 0), REPLY_TIMEOUT_MS,
	    NULL, NULL);
	if (!reply_ok(final))
		return report_failure(final, NULL, NULL);
	if (json_mode) {
		json_object_set_new(final, "client",
		    json_string("vigilctl " PACKAGE_VERSION));
		print_json(final, JSON_INDENT(2));
		return 0;
	}
	server = json_string_value(json_object_get(final, "server"));
	lib = json_string_value(json_object_get(final, "libvigil"));
	src = json_string_value(json_object_get(final, "signal_source"));
	printf("%s (protocol %lld, libvigil %s, signal source %s)\n",
	    server != NULL ? server : "vigild",
	    (long long)json_integer_value(json_object_get(final, "protocol")),
	    lib != NULL ? lib : "?", src != NULL ? src : "?");
	return 0;
}

static int
cmd_help(const struct cmd *cmd, int argc, char **argv)
{
	print_usage(stdout);
	return 0;
}

/* ---- log ------------------------------------------------------------ */

/* One item of a log reply, printed as it comes. */
static void
log_item(json_t *msg, void *arg)
{
	json_t *lines = arg, *v;

	if ((v = json_object_get(msg, "line")) != NULL) {
		if (lines != NULL)
			json_array_append(lines, v);
		else if (json_mode)
			print_json(msg, JSON_COMPACT);
		else {
			fwrite(json_string_value(v), 1, json_string_length(v),
			    stdout);
			fputc('\n', stdout);
		}
	} else if ((v = json_object_get(msg, "skipped")) != NULL) {
		if (!json_mode)
			warnmsg("%lld older line(s) not shown",
			    (long long)json_integer_value(v));
	} else if ((v = json_object_get(msg, "dropped")) != NULL) {
		if (json_mode && lines == NULL)
			print_json(msg, JSON_COMPACT);
		else if (!json_mode)
			warnmsg("%lld line(s) dropped: reading too slowly",
			    (long long)json_integer_value(v));
	}
}

static int
cmd_log(const struct cmd *cmd, int argc, char **argv)
{
	struct opts o;
	json_t *req, *final, *lines = NULL, *msg;

	parse_opts(argc, argv, O_LINES | O_FOLLOW, &o);
	if (o.nargs != 1)
		usage();
	req = new_request(cmd->name, o.args, 1);
	json_object_set_new(req, "lines", json_integer(o.lines));
	json_object_set_new(req, "follow", json_boolean(o.follow));
	if (json_mode && !o.follow)
		lines = hold(json_array());
	ctl_connect();
	ctl_send(req);
	ctl_hello_reply();
	/* Following, lines come until vigild exits: no time limit. */
	while ((msg = ctl_recv(o.follow ? -1 : REPLY_TIMEOUT_MS)) != NULL) {
		if (json_object_get(msg, "ok") != NULL)
			break;
		log_item(msg, lines);
		json_decref(msg);
		if (o.follow)
			fflush(stdout);
	}
	if ((final = hold(msg)) == NULL)
		lost();
	if (!reply_ok(final))
		return report_failure(final, NULL, NULL);
	if (lines != NULL) {
		json_object_set(final, "lines", lines);
		print_json(final, JSON_INDENT(2));
	} else if (json_mode)
		print_json(final, JSON_COMPACT);
	return 0;
}

/* ---- main ----------------------------------------------------------- */

static const char *
default_socket(void)
{
	static char buf[sizeof ((struct sockaddr_un *)0)->sun_path];
	const char *env = getenv("VIGIL_SOCKET");

	if (env != NULL && env[0] != '\0')
		return env;
	if (config_default_socket(buf, sizeof buf) == NULL)
		die(EXIT_USAGE, "the default socket path is too long; use -s");
	return buf;
}

int
main(int argc, char *argv[])
{
	const char *name;
	size_t i;
	int ai, rc;

	for (ai = 1; ai < argc && argv[ai][0] == '-'; ai++) {
		if (strcmp(argv[ai], "--json") == 0 ||
		    strcmp(argv[ai], "-j") == 0)
			json_mode = 1;
		else if (strcmp(argv[ai], "-s") == 0) {
			if (ai + 1 >= argc) {
				warnmsg("option -s needs a socket path");
				usage();
			}
			sock_path = argv[++ai];
		}
		else if (strncmp(argv[ai], "-s", 2) == 0 && argv[ai][2] != '\0')
			sock_path = argv[ai] + 2;
		else if (strcmp(argv[ai], "-h") == 0 ||
		    strcmp(argv[ai], "--help") == 0) {
			print_usage(stdout);
			return 0;
		} else if (strcmp(argv[ai], "-V") == 0 ||
		    strcmp(argv[ai], "--version") == 0) {
			printf("vigilctl %s (protocol %d)\n", PACKAGE_VERSION,
			    PROTO_VERSION);
			return 0;
		} else if (strcmp(argv[ai], "--") == 0) {
			ai++;
			break;
		} else {
			warnmsg("unknown option %s", argv[ai]);
			usage();
		}
	}
	if (ai >= argc)
		usage();
	name = argv[ai];
	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			break;
	if (i == NCMDS) {
		warnmsg("unknown command %s", name);
		usage();
	}
	cur_cmd = &cmds[i];
	if (sock_path == NULL)
		sock_path = default_socket();
	rc = cur_cmd->fn(cur_cmd, argc - ai, argv + ai);
	release();
	if (ctl_fd != -1)
		close(ctl_fd);
	return rc;
}
