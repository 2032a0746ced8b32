/*
 * The configuration parser: vigild.conf(5), in libconfig syntax, to an
 * immutable struct config. The only file that includes <libconfig.h>.
 *
 * Thread-safe: no static mutable state, libconfig's objects live on this
 * call's stack (libconfig switches locales with uselocale(), per thread),
 * users and groups are looked up with the reentrant calls. Every error is
 * collected, none stops the parse, and all are reported in line order.
 *
 * Keys are parsed through tables of { key, getter, offset } per section:
 * a getter checks the type and range of one value and stores it at the
 * offset in the structure the section fills. Cross-key and cross-service
 * checks run after the keys, while libconfig's tree is still there to
 * give them a line.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/resource.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "conf.h"
#include "log.h"
#include "xmalloc.h"

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define ALNUM		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789"
#define DURATION_MAX_S	1000000000.0	/* about 31 years */


/* One message, kept until the end of the parse to be sorted by line. */
struct msg {
	int		 warn;
	int		 line;		/* in the main file, for sorting */
	size_t		 seq;
	char		*text;
};

/* The state of one config_load() call. */
struct parse {
	struct config		 *cf;
	const char		 *svc;		/* service being parsed */
	size_t			  svcno;	/* its position, from 1 */
	const config_setting_t	**svcset;	/* each service's group */
	const config_setting_t	 *signals;	/* parsed after services */
	struct msg		 *msgs;
	size_t			  nmsgs;
	size_t			  nerrors;
};

/* A growing NULL-terminated vector of allocated strings. */
struct strvec {
	char		**v;
	size_t		  n;
};

struct key;
typedef void	getter_fn(struct parse *, const config_setting_t *,
		    const struct key *, void *);

/* One key of a section: how to parse it and where to store it. */
struct key {
	const char		*name;
	getter_fn		*get;
	size_t			 off;
	long long		 min;
	long long		 max;
	const char *const	*names;		/* get_enum */
	const struct key	*sub;		/* get_group */
};

#define KEY(n, g, o)		{ .name = (n), .get = (g), .off = (o) }
#define KEY_RANGE(n, g, o, lo, hi) \
	{ .name = (n), .get = (g), .off = (o), .min = (lo), .max = (hi) }
#define KEY_ENUM(n, o, v)	{ .name = (n), .get = get_enum, .off = (o), \
				  .names = (v) }
#define KEY_GROUP(n, o, t)	{ .name = (n), .get = get_group, .off = (o), \
				  .sub = (t) }
#define KEY_END			{ .name = NULL }

static const struct signame {
	const char	*name;
	int		 signo;
} signames[] = {
	{ "SIGHUP", SIGHUP }, { "SIGINT", SIGINT }, { "SIGQUIT", SIGQUIT },
	{ "SIGILL", SIGILL }, { "SIGTRAP", SIGTRAP }, { "SIGABRT", SIGABRT },
	{ "SIGBUS", SIGBUS }, { "SIGFPE", SIGFPE }, { "SIGKILL", SIGKILL },
	{ "SIGUSR1", SIGUSR1 }, { "SIGSEGV", SIGSEGV }, { "SIGUSR2", SIGUSR2 },
	{ "SIGPIPE", SIGPIPE }, { "SIGALRM", SIGALRM }, { "SIGTERM", SIGTERM },
	{ "SIGCHLD", SIGCHLD }, { "SIGCONT", SIGCONT }, { "SIGSTOP", SIGSTOP },
	{ "SIGTSTP", SIGTSTP }, { "SIGTTIN", SIGTTIN }, { "SIGTTOU", SIGTTOU },
	{ "SIGURG", SIGURG }, { "SIGXCPU", SIGXCPU }, { "SIGXFSZ", SIGXFSZ },
	{ "SIGVTALRM", SIGVTALRM }, { "SIGPROF", SIGPROF },
	{ "SIGWINCH", SIGWINCH }, { "SIGIO", SIGIO }, { "SIGSYS", SIGSYS },
#ifdef SIGSTKFLT
	{ "SIGSTKFLT", SIGSTKFLT },
#endif
#ifdef SIGPWR
	{ "SIGPWR", SIGPWR },
#endif
#ifdef SIGEMT
	{ "SIGEMT", SIGEMT },
#endif
#ifdef SIGINFO
	{ "SIGINFO", SIGINFO },
#endif
};

/* Resource limits; bytes: the value may be a size string. */
static const struct limitname {
	const char	*name;
	int		 resource;
	int		 bytes;
} limitnames[] = {
	{ "as", RLIMIT_AS, 1 }, { "core", RLIMIT_CORE, 1 },
	{ "cpu", RLIMIT_CPU, 0 }, { "data", RLIMIT_DATA, 1 },
	{ "fsize", RLIMIT_FSIZE, 1 }, { "memlock", RLIMIT_MEMLOCK, 1 },
	{ "nofile", RLIMIT_NOFILE, 0 }, { "nproc", RLIMIT_NPROC, 0 },
	{ "stack", RLIMIT_STACK, 1 },
#ifdef RLIMIT_RSS
	{ "rss", RLIMIT_RSS, 1 },
#endif
#ifdef RLIMIT_MSGQUEUE
	{ "msgqueue", RLIMIT_MSGQUEUE, 1 },
#endif
#ifdef RLIMIT_NICE
	{ "nice", RLIMIT_NICE, 0 },
#endif
#ifdef RLIMIT_RTPRIO
	{ "rtprio", RLIMIT_RTPRIO, 0 },
#endif
#ifdef RLIMIT_RTTIME
	{ "rttime", RLIMIT_RTTIME, 0 },
#endif
#ifdef RLIMIT_SIGPENDING
	{ "sigpending", RLIMIT_SIGPENDING, 0 },
#endif
#ifdef RLIMIT_SBSIZE
	{ "sbsize", RLIMIT_SBSIZE, 1 },
#endif
#ifdef RLIMIT_SWAP
	{ "swap", RLIMIT_SWAP, 1 },
#endif
#ifdef RLIMIT_NPTS
	{ "npts", RLIMIT_NPTS, 0 },
#endif
#ifdef RLIMIT_KQUEUES
	{ "kqueues", RLIMIT_KQUEUES, 0 },
#endif
};

static const char *const level_names[] = {
	"error", "warn", "info", "debug", NULL
};
static const char *const restart_names[] = {
	"always", "on-failure", "never", NULL
};
static const char *const ready_names[] = {
	"none", "notify", "fd", "tcp", "exec", NULL
};
static const char *const output_names[] = {
	"console", "inherit", "null", "stdout", "syslog", NULL
};
static const char *const action_names[] = {
	"ignore", "shutdown", "reload", "reopen-logs", "reexec", NULL
};

/* ------------------------------------------------------------------ */
/* Small helpers.                                                      */

/* strerror_r in whichever flavour the C library has. */
static const char *
errstr(int err, char *buf, size_t len)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	return strerror_r(err, buf, len);
#else
	if (strerror_r(err, buf, len) != 0)
		snprintf(buf, len, "error %d", err);
	return buf;
#endif
}

/* strlcat without its return value: glibc before 2.38 has none. */
static void
str_append(char *buf, const char *s, size_t len)
{
	size_t n = strlen(buf);

	if (n < len)
		snprintf(buf + n, len - n, "%s", s);
}

/* Append s (taken over) to v, keeping v NULL-terminated. */
static void
strvec_push(struct strvec *v, char *s)
{
	v->v = xreallocarray(v->v, v->n + 2, sizeof *v->v);
	v->v[v->n++] = s;
	v->v[v->n] = NULL;
}

/* The vector as a NULL-terminated array, never NULL. */
static char **
strvec_done(struct strvec *v)
{
	if (v->v == NULL)
		return xcalloc(1, sizeof *v->v);
	return v->v;
}

static void
strv_free(char **v)
{
	char **p;

	if (v == NULL)
		return;
	for (p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

static size_t
strv_len(char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

static int
strv_has(char *const *v, const char *s)
{
	for (; v != NULL && *v != NULL; v++)
		if (strcmp(*v, s) == 0)
			return 1;
	return 0;
}

/* Length of the variable name at the start of s: [A-Za-z_][A-Za-z0-9_]*. */
static size_t
env_namelen(const char *s)
{
	return isdigit((unsigned char)*s) ? 0 : strspn(s, ALNUM "_");
}

/* Length of the key of "KEY=VALUE". */
static size_t
env_keylen(const char *kv)
{
	return strcspn(kv, "=");
}

/* Index of the entry of v with the key of kv, or -1. */
static ssize_t
env_find(const struct strvec *v, const char *kv)
{
	size_t i, len = env_keylen(kv);

	for (i = 0; i < v->n; i++)
		if (env_keylen(v->v[i]) == len &&
		    strncmp(v->v[i], kv, len) == 0)
			return (ssize_t)i;
	return -1;
}

/* Add "KEY=VALUE" (taken over) to v, replacing an entry with its key. */
static void
env_put(struct strvec *v, char *kv)
{
	ssize_t i;

	if ((i = env_find(v, kv)) == -1) {
		strvec_push(v, kv);
		return;
	}
	free(v->v[i]);
	v->v[i] = kv;
}

/* The directory part of path: "." if it has none. */
static char *
path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* The directory of the file at path, made absolute; NULL on error. */
static char *
config_dir(const char *path)
{
	char *dir = path_dirname(path), *abs, cwd[PATH_MAX];

	if (dir[0] == '/')
		return dir;
	if (getcwd(cwd, sizeof cwd) == NULL) {
		free(dir);
		return NULL;
	}
	if (strcmp(dir, ".") == 0)
		abs = xstrdup(cwd);
	else
		xasprintf(&abs, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "",
		    dir);
	free(dir);
	return abs;
}

/* path made absolute against the configuration file's directory. */
static char *
path_resolve(const struct config *cf, const char *path)
{
	char *abs;

	if (path[0] == '/')
		return xstrdup(path);
	while (strncmp(path, "./", 2) == 0)
		path += 2;
	if (strcmp(path, ".") == 0)
		return xstrdup(cf->dir);
	xasprintf(&abs, "%s%s%s", cf->dir, strcmp(cf->dir, "/") ? "/" : "",
	    path);
	return abs;
}

/* NULL if name is a valid service or group name, else why not. */
static const char *
name_invalid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > CONFIG_NAME_MAX ||
	    strspn(name, ALNUM "_.-") != len)
		return "use 1 to 64 of A-Z a-z 0-9 _ . -";
	if (strcmp(name, "all") == 0 || strcmp(name, "group") == 0)
		return "the name is reserved";
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Signals.                                                            */

/* "RTMIN", "RTMIN+N", "RTMAX", "RTMAX-N" to a number; -1 if none. */
static int
signal_parse_rt(const char *n)
{
#ifdef SIGRTMIN
	int base, sign;
	char *end;
	long off = 0;

	if (strncmp(n, "RTMIN", 5) == 0) {
		base = SIGRTMIN;
		sign = 1;
	} else if (strncmp(n, "RTMAX", 5) == 0) {
		base = SIGRTMAX;
		sign = -1;
	} else
		return -1;
	if (n[5] != '\0') {
		if (n[5] != (sign > 0 ? '+' : '-') ||
		    !isdigit((unsigned char)n[6]))
			return -1;
		off = strtol(n + 6, &end, 10);
		if (*end != '\0' || off > SIGRTMAX - SIGRTMIN)
			return -1;
	}
	return base + sign * (int)off;
#else
	(void)n;
	return -1;
#endif
}

/* "SIGTERM" or "TERM" to SIGTERM; -1 if unknown. */
static int
signal_parse(const char *s)
{
	const char *n = strncmp(s, "SIG", 3) == 0 ? s + 3 : s;
	size_t i;

	for (i = 0; i < nitems(signames); i++)
		if (strcmp(signames[i].name + 3, n) == 0)
			return signames[i].signo;
	return signal_parse_rt(n);
}

const char *
config_signal_name(int signo)
{
	size_t i;

	for (i = 0; i < nitems(signames); i++)
		if (signames[i].signo == signo)
			return signames[i].name;
	return NULL;
}

/*
 * Why vigild can neither route nor forward signo (SPEC 6), or NULL if it
 * can. The C library's internal signals have no name, so never get here.
 */
static const char *
signal_refusal(int signo)
{
	switch (signo) {
	case SIGKILL:
	case SIGSTOP:
		return "it cannot be caught";
	case SIGCHLD:
		return "vigild reaps children with it";
	case SIGSEGV:
	case SIGBUS:
	case SIGFPE:
	case SIGILL:
	case SIGTRAP:
	case SIGSYS:
	case SIGABRT:
		return "it is a fault signal";
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Diagnostics.                                                        */

/*
 * The path of a setting below its section or service: "ready.timeout",
 * "command[0]"; empty for a service's group or the root.
 */
static void
setting_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *chain[16], *up;
	size_t n = 0, off = 0;
	int r;

	for (; s != NULL && n < nitems(chain); s = up) {
		up = config_setting_parent(s);
		if (up == NULL || (config_setting_name(s) == NULL &&
		    config_setting_parent(up) != NULL &&
		    config_setting_is_root(config_setting_parent(up)) &&
		    strcmp(config_setting_name(up), "services") == 0))
			break;
		chain[n++] = s;
	}
	buf[0] = '\0';
	while (n-- > 0 && off < len) {
		if (config_setting_name(chain[n]) != NULL)
			r = snprintf(buf + off, len - off, "%s%s",
			    off > 0 ? "." : "", config_setting_name(chain[n]));
		else
			r = snprintf(buf + off, len - off, "[%d]",
			    config_setting_index(chain[n]));
		off += r > 0 ? (size_t)r : 0;
	}
}

/* Record a message: "FILE:LINE: service "x": PATH: text". */
static void
vdiag(struct parse *p, int warn, const char *file, int line, int sortline,
    const char *path, const char *fmt, va_list ap)
{
	char text[1024], who[CONFIG_NAME_MAX + 32], loc[PATH_MAX + 32];
	struct msg *m;

	vsnprintf(text, sizeof text, fmt, ap);
	who[0] = '\0';
	if (p->svc != NULL)
		snprintf(who, sizeof who, "service \"%s\": ", p->svc);
	else if (p->svcno > 0)
		snprintf(who, sizeof who, "service #%zu: ", p->svcno);
	if (line > 0)
		snprintf(loc, sizeof loc, "%s:%d: ", file, line);
	else
		snprintf(loc, sizeof loc, "%s: ", file);
	p->msgs = xreallocarray(p->msgs, p->nmsgs + 1, sizeof *p->msgs);
	m = &p->msgs[p->nmsgs];
	m->warn = warn;
	m->line = sortline;
	m->seq = p->nmsgs++;
	xasprintf(&m->text, "%s%s%s%s%s", loc, who, path != NULL ? path : "",
	    path != NULL && *path != '\0' ? ": " : "", text);
	if (!warn)
		p->nerrors++;
}

/*
 * The name of file for a message: libconfig names an @include as it was
 * written, relative to the directory of the main file.
 */
static const char *
diag_file(const struct parse *p, const char *file, char *buf, size_t len)
{
	if (file == NULL)
		return p->cf->path;
	if (file[0] == '/' || strcmp(file, p->cf->path) == 0)
		return file;
	snprintf(buf, len, "%s/%s", p->cf->dir, file);
	return buf;
}

/*
 * A message about setting s, at its line; with_path: after the name of
 * the setting ("ready.timeout: "). perr() and pwarn() are the usual ones.
 */
static void __attribute__((format(printf, 5, 6)))
pdiag(struct parse *p, int warn, int with_path, const config_setting_t *s,
    const char *fmt, ...)
{
	char path[256] = "", buf[PATH_MAX];
	const char *file = diag_file(p, config_setting_source_file(s), buf,
	    sizeof buf);
	int line = (int)config_setting_source_line(s);
	va_list ap;

	if (with_path)
		setting_path(s, path, sizeof path);
	va_start(ap, fmt);
	vdiag(p, warn, file, line, line, path, fmt, ap);
	va_end(ap);
}

#define perr(p, s, ...)		pdiag(p, 0, 1, s, __VA_ARGS__)
#define pwarn(p, s, ...)	pdiag(p, 1, 1, s, __VA_ARGS__)

/* A message about the whole file (line 0) or a line of another file. */
static void __attribute__((format(printf, 6, 7)))
pmsg(struct parse *p, int warn, const char *file, int line, int sortline,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(p, warn, file, line, sortline, NULL, fmt, ap);
	va_end(ap);
}

/* Line order, then the order of discovery. */
static int
msg_cmp(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hand the messages over to diag, sorted; the number of errors. */
static size_t
diag_finish(struct parse *p, struct config_diag *diag)
{
	size_t i;
	char ***v;
	size_t *n;

	if (p->nmsgs > 0)
		qsort(p->msgs, p->nmsgs, sizeof *p->msgs, msg_cmp);
	for (i = 0; i < p->nmsgs; i++) {
		if (diag == NULL) {
			free(p->msgs[i].text);
			continue;
		}
		v = p->msgs[i].warn ? &diag->warnings : &diag->errors;
		n = p->msgs[i].warn ? &diag->nwarnings : &diag->nerrors;
		*v = xreallocarray(*v, *n + 1, sizeof **v);
		(*v)[(*n)++] = p->msgs[i].text;
	}
	free(p->msgs);
	return p->nerrors;
}

void
config_diag_clear(struct config_diag *diag)
{
	size_t i;

	for (i = 0; i < diag->nerrors; i++)
		free(diag->errors[i]);
	for (i = 0; i < diag->nwarnings; i++)
		free(diag->warnings[i]);
	free(diag->errors);
	free(diag->warnings);
	memset(diag, 0, sizeof *diag);
}

/* ------------------------------------------------------------------ */
/* Values: each getter checks one setting and stores it at dst.         */

static const char *
type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "nothing";
}

static int
is_int(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64;
}

static int
is_string(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_STRING;
}

static int
is_seq(const config_setting_t *s)
{
	return config_setting_is_array(s) || config_setting_is_list(s);
}

/* Report a type error unless ok; returns ok. */
static int
want(struct parse *p, const config_setting_t *s, int ok, const char *what)
{
	if (!ok)
		perr(p, s, "expected %s, got %s", what, type_name(s));
	return ok;
}

static void
get_skip(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
}

static void
get_string(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	if (want(p, s, is_string(s), "a string"))
		*(char **)dst = xstrdup(config_setting_get_string(s));
}

static void
get_path(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	const char *v;

	if (!want(p, s, is_string(s), "a path"))
		return;
	if (*(v = config_setting_get_string(s)) == '\0')
		perr(p, s, "expected a path, got an empty string");
	else
		*(char **)dst = path_resolve(p->cf, v);
}

static void
get_bool(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	if (want(p, s, config_setting_type(s) == CONFIG_TYPE_BOOL,
	    "a boolean (true or false)"))
		*(int *)dst = config_setting_get_bool(s);
}

/* An integer in [k->min, k->max]; -1 if it is not. */
static int
int_value(struct parse *p, const config_setting_t *s, const struct key *k,
    long long *v)
{
	if (!want(p, s, is_int(s), "an integer"))
		return -1;
	*v = config_setting_get_int64(s);
	if (*v < k->min || *v > k->max) {
		perr(p, s, "expected an integer from %lld to %lld, got %lld",
		    k->min, k->max, *v);
		return -1;
	}
	return 0;
}

static void
get_int(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	long long v;

	if (int_value(p, s, k, &v) == 0)
		*(int *)dst = (int)v;
}

static void
get_uint(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	long long v;

	if (int_value(p, s, k, &v) == 0)
		*(unsigned int *)dst = (unsigned int)v;
}

/* Seconds, an integer or a float, to milliseconds. */
static void
get_duration(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	double v;

	if (!want(p, s, is_int(s) ||
	    config_setting_type(s) == CONFIG_TYPE_FLOAT,
	    "a duration in seconds"))
		return;
	if (is_int(s))
		v = (double)config_setting_get_int64(s);
	else
		v = config_setting_get_float(s);
	if (!(v >= 0 && v <= DURATION_MAX_S)) {	/* NaN too */
		perr(p, s, "expected a duration from 0 to %.0f seconds, "
		    "got %g", DURATION_MAX_S, v);
		return;
	}
	*(int64_t *)dst = (int64_t)(v * 1000.0 + 0.5);
}

/* A duration that cannot be 0: an interval, a timeout of a try. */
static void
get_positive(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	int64_t v = -1;

	get_duration(p, s, k, &v);
	if (v == 0)
		perr(p, s, "expected a duration of at least 0.001 seconds");
	else if (v > 0)
		*(int64_t *)dst = v;
}

/* "123", "10K", "10M", "1G" (powers of 1024) to bytes; -1 if invalid. */
static int
size_parse(const char *str, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (!isdigit((unsigned char)*str))
		return -1;
	errno = 0;
	v = strtoull(str, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0' && strchr("KkMmGg", *end) != NULL) {
		shift = *end == 'K' || *end == 'k' ? 10 :
		    *end == 'M' || *end == 'm' ? 20 : 30;
		end++;
	}
	if (*end != '\0' || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Bytes: an integer, or a string with K, M or G. */
static void
get_size(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	if (is_int(s)) {
		if (config_setting_get_int64(s) < 0)
			perr(p, s, "expected a size, got %lld",
			    config_setting_get_int64(s));
		else
			*(uint64_t *)dst =
			    (uint64_t)config_setting_get_int64(s);
		return;
	}
	if (!want(p, s, is_string(s),
	    "a size (bytes, or a string such as \"10M\")"))
		return;
	if (size_parse(config_setting_get_string(s), dst) == -1)
		perr(p, s, "expected a size such as 4096, \"64K\", \"10M\" or "
		    "\"1G\", got \"%s\"", config_setting_get_string(s));
}

/* A mode as an octal string ("0022"), at most k->max. */
static void
get_octal(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	const char *v;
	char *end;
	unsigned long m;

	if (!want(p, s, is_string(s), "an octal string such as \"0022\""))
		return;
	v = config_setting_get_string(s);
	m = strtoul(v, &end, 8);
	if (*v == '\0' || *end != '\0' || strspn(v, "01234567") !=
	    strlen(v) || m > (unsigned long)k->max)
		perr(p, s, "expected an octal mode from 0000 to %04llo, "
		    "got \"%s\"", (unsigned long long)k->max, v);
	else
		*(mode_t *)dst = (mode_t)m;
}

/* One of k->names, stored as its index. */
static void
get_enum(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	char list[256] = "", got[128];
	size_t i;

	for (i = 0; is_string(s) && k->names[i] != NULL; i++)
		if (strcmp(k->names[i], config_setting_get_string(s)) == 0) {
			*(int *)dst = (int)i;
			return;
		}
	for (i = 0; k->names[i] != NULL; i++) {
		str_append(list, i > 0 ? ", " : "", sizeof list);
		str_append(list, k->names[i], sizeof list);
	}
	if (is_string(s))
		snprintf(got, sizeof got, "\"%s\"",
		    config_setting_get_string(s));
	else
		snprintf(got, sizeof got, "%s", type_name(s));
	perr(p, s, "expected one of %s, got %s", list, got);
}

/* A signal by name, "SIGTERM" or "TERM". */
static void
get_signal(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	int signo;

	if (!want(p, s, is_string(s), "a signal name such as \"SIGTERM\""))
		return;
	if ((signo = signal_parse(config_setting_get_string(s))) == -1)
		perr(p, s, "unknown signal \"%s\"",
		    config_setting_get_string(s));
	else
		*(int *)dst = signo;
}

/* An array or list of strings; -1 (and nothing stored) if it is not. */
static int
strv_value(struct parse *p, const config_setting_t *s, char ***dst)
{
	struct strvec v = { NULL, 0 };
	const config_setting_t *e;
	int i, bad = 0;

	if (!want(p, s, is_seq(s), "an array of strings"))
		return -1;
	for (i = 0; (e = config_setting_get_elem(s, (unsigned)i)) != NULL;
	    i++)
		if (want(p, e, is_string(e), "a string"))
			strvec_push(&v, xstrdup(config_setting_get_string(e)));
		else
			bad = 1;
	if (bad) {
		strv_free(v.v);
		return -1;
	}
	*dst = strvec_done(&v);
	return 0;
}

/* Service or group names. */
static void
get_names(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	char ***names = dst;
	const char *why;
	size_t i;

	if (strv_value(p, s, names) == -1)
		return;
	for (i = 0; (*names)[i] != NULL; i++)
		if ((why = name_invalid((*names)[i])) != NULL)
			perr(p, config_setting_get_elem(s, (unsigned)i),
			    "\"%s\" is not a valid name: %s", (*names)[i], why);
}

/*
 * A command: an array of strings, or a string run by /bin/sh -c. A
 * program named with a '/' is relative to the file's directory.
 */
static void
get_argv(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	char ***argv = dst, *abs;
	struct strvec v = { NULL, 0 };

	if (is_string(s) && *config_setting_get_string(s) != '\0') {
		strvec_push(&v, xstrdup("/bin/sh"));
		strvec_push(&v, xstrdup("-c"));
		strvec_push(&v, xstrdup(config_setting_get_string(s)));
		*argv = v.v;
		return;
	}
	if (is_string(s) || (is_seq(s) && config_setting_length(s) == 0)) {
		perr(p, s, "expected a command, got an empty one");
		return;
	}
	if (!is_seq(s)) {
		want(p, s, 0, "an array of strings or a string");
		return;
	}
	if (strv_value(p, s, argv) == -1)
		return;
	if ((*argv)[0][0] == '\0')
		perr(p, s, "expected a program, got an empty string");
	else if (strchr((*argv)[0], '/') != NULL && (*argv)[0][0] != '/') {
		abs = path_resolve(p->cf, (*argv)[0]);
		free((*argv)[0]);
		(*argv)[0] = abs;
	}
}

static void parse_keys(struct parse *, const config_setting_t *,
		    const struct key *, void *);

/* A group of keys, parsed through k->sub into dst. */
static void
get_group(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	if (want(p, s, config_setting_is_group(s), "a group"))
		parse_keys(p, s, k->sub, dst);
}

/*
 * Parse every setting of group grp through the NULL-terminated table tab,
 * storing at base + key offset. An unknown key is an error.
 */
static void
parse_keys(struct parse *p, const config_setting_t *grp, const struct key *tab,
    void *base)
{
	const config_setting_t *s;
	const struct key *k;
	unsigned int i;

	for (i = 0; (s = config_setting_get_elem(grp, i)) != NULL; i++) {
		for (k = tab; k->name != NULL; k++)
			if (strcmp(k->name, config_setting_name(s)) == 0)
				break;
		if (k->name == NULL)
			perr(p, s, "unknown key");
		else
			k->get(p, s, k, (char *)base + k->off);
	}
}

/* ------------------------------------------------------------------ */
/* Users and groups, with the reentrant lookups.                       */

/* Size for the buffer of getpwnam_r/getgrnam_r. */
static size_t
pw_bufsize(int which)
{
	long n = sysconf(which);

	return n > 0 ? (size_t)n : 16384;
}

/* Look up a user; 0 if found, else an errno (0 is never "not found"). */
static int
user_lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	size_t len = pw_bufsize(_SC_GETPW_R_SIZE_MAX);
	char *buf = xmalloc(len);
	int e;

	while ((e = getpwnam_r(name, &pw, buf, len, &res)) == ERANGE &&
	    len < 1024 * 1024)
		buf = xreallocarray(buf, len *= 2, 1);
	if (e == 0 && res != NULL) {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
	}
	free(buf);
	return e != 0 ? e : res == NULL ? ENOENT : 0;
}

/* Look up a group, as user_lookup(). */
static int
group_lookup(const char *name, gid_t *gid)
{
	struct group gr, *res = NULL;
	size_t len = pw_bufsize(_SC_GETGR_R_SIZE_MAX);
	char *buf = xmalloc(len);
	int e;

	while ((e = getgrnam_r(name, &gr, buf, len, &res)) == ERANGE &&
	    len < 1024 * 1024)
		buf = xreallocarray(buf, len *= 2, 1);
	if (e == 0 && res != NULL)
		*gid = gr.gr_gid;
	free(buf);
	return e != 0 ? e : res == NULL ? ENOENT : 0;
}

/* The supplementary groups of user, base gid included. */
static void
groups_lookup(const char *user, gid_t base, gid_t **gids, size_t *n)
{
	int cap = 32, got;

	for (;;) {
		*gids = xreallocarray(*gids, (size_t)cap, sizeof **gids);
		got = cap;
		if (getgrouplist(user, base, *gids, &got) != -1)
			break;
		if (cap >= 65536) {
			got = cap;
			break;
		}
		cap = got > cap ? got : cap * 2;
	}
	*n = (size_t)got;
}

/* ------------------------------------------------------------------ */
/* The vigild section.                                                 */

static void
get_socket_group(struct parse *p, const config_setting_t *s,
    const struct key *k, void *dst)
{
	struct config *cf = dst;
	char eb[128];
	int e;

	get_string(p, s, k, &cf->socket_group);
	if (cf->socket_group == NULL)
		return;
	if ((e = group_lookup(cf->socket_group, &cf->socket_gid)) == ENOENT)
		perr(p, s, "unknown group \"%s\"", cf->socket_group);
	else if (e != 0)
		perr(p, s, "cannot look up group \"%s\": %s", cf->socket_group,
		    errstr(e, eb, sizeof eb));
}

#define CF(f)	offsetof(struct config, f)
static const struct key vigild_keys[] = {
	KEY("socket", get_path, CF(socket)),
	KEY_RANGE("socket_mode", get_octal, CF(socket_mode), 0, 0777),
	KEY("socket_group", get_socket_group, 0),
	KEY("pidfile", get_path, CF(pidfile)),
	KEY_RANGE("workers", get_uint, CF(workers), 1, CONFIG_WORKERS_MAX),
	KEY("shutdown_timeout", get_duration, CF(shutdown_timeout_ms)),
	KEY_ENUM("log_level", CF(log_level), level_names),
	KEY_END
};
#undef CF

/* ------------------------------------------------------------------ */
/* Services: the keys that need more than a getter.                    */

/* environment = { KEY = "value"; ... } */
static void
get_environment(struct parse *p, const config_setting_t *s,
    const struct key *k, void *dst)
{
	struct strvec *env = dst;
	const config_setting_t *e;
	const char *key;
	char *kv;
	unsigned int i;

	if (!want(p, s, config_setting_is_group(s), "a group of strings"))
		return;
	for (i = 0; (e = config_setting_get_elem(s, i)) != NULL; i++) {
		key = config_setting_name(e);
		if (*key == '\0' || env_namelen(key) != strlen(key))
			perr(p, e, "not a valid variable name");
		else if (want(p, e, is_string(e), "a string")) {
			xasprintf(&kv, "%s=%s", key,
			    config_setting_get_string(e));
			env_put(env, kv);
		}
	}
}

/* success_exit = [ 0, 2 ]: exit codes 0..255. */
static void
get_success_exit(struct parse *p, const config_setting_t *s,
    const struct key *k, void *dst)
{
	static const struct key code = KEY_RANGE("", NULL, 0, 0, 255);
	uint8_t *bits = dst;
	const config_setting_t *e;
	long long v;
	unsigned int i;

	if (!want(p, s, is_seq(s), "an array of exit codes"))
		return;
	memset(bits, 0, 256 / 8);
	for (i = 0; (e = config_setting_get_elem(s, i)) != NULL; i++)
		if (int_value(p, e, &code, &v) == 0)
			bits[v / 8] |= (uint8_t)(1 << (v % 8));
}

/* One limit's value: an integer, "unlimited", or a size for bytes. */
static int
limit_value(struct parse *p, const config_setting_t *s,
    const struct limitname *ln, rlim_t *v)
{
	uint64_t n;

	if (is_int(s) && config_setting_get_int64(s) >= 0) {
		*v = (rlim_t)config_setting_get_int64(s);
		return 0;
	}
	if (is_string(s) && strcmp(config_setting_get_string(s),
	    "unlimited") == 0) {
		*v = RLIM_INFINITY;
		return 0;
	}
	if (ln->bytes && is_string(s) &&
	    size_parse(config_setting_get_string(s), &n) == 0) {
		*v = (rlim_t)n;
		return 0;
	}
	perr(p, s, "expected %s or \"unlimited\"", ln->bytes ?
	    "a size (bytes, or a string such as \"10M\")" :
	    "a non-negative integer");
	return -1;
}

/* limits = { nofile = 1024; core = 0; ... } */
static void
get_limits(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	struct service_conf *svc = dst;
	const config_setting_t *e;
	rlim_t v;
	unsigned int i;
	size_t j;

	if (!want(p, s, config_setting_is_group(s), "a group"))
		return;
	svc->limits = xcalloc(nitems(limitnames), sizeof *svc->limits);
	for (i = 0; (e = config_setting_get_elem(s, i)) != NULL; i++) {
		for (j = 0; j < nitems(limitnames); j++)
			if (strcmp(limitnames[j].name,
			    config_setting_name(e)) == 0)
				break;
		if (j == nitems(limitnames))
			perr(p, e, "unknown limit");
		else if (limit_value(p, e, &limitnames[j], &v) == 0) {
			svc->limits[svc->nlimits].resource =
			    limitnames[j].resource;
			svc->limits[svc->nlimits++].value = v;
		}
	}
}

/* A signal that vigild may forward, into *signo; -1 if it may not. */
static int
forwardable(struct parse *p, const config_setting_t *s, const char *name,
    int *signo)
{
	const char *why;

	if ((*signo = signal_parse(name)) == -1) {
		perr(p, s, "unknown signal \"%s\"", name);
		return -1;
	}
	if ((why = signal_refusal(*signo)) != NULL) {
		perr(p, s, "%s cannot be forwarded: %s",
		    config_signal_name(*signo), why);
		return -1;
	}
	return 0;
}

static int
rewrite_cmp(const void *a, const void *b)
{
	const struct rewrite_conf *x = a, *y = b;

	return (x->from > y->from) - (x->from < y->from);
}

/* signals = { SIGUSR2 = "SIGUSR1"; }: rewrite a signal forwarded to us. */
static void
get_rewrites(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	struct service_conf *svc = dst;
	const config_setting_t *e;
	int from, to;
	unsigned int i;
	size_t j;

	if (!want(p, s, config_setting_is_group(s), "a group of signals"))
		return;
	svc->rewrites = xcalloc((size_t)config_setting_length(s) + 1,
	    sizeof *svc->rewrites);
	for (i = 0; (e = config_setting_get_elem(s, i)) != NULL; i++) {
		if (forwardable(p, e, config_setting_name(e), &from) == -1 ||
		    !want(p, e, is_string(e), "a signal name") ||
		    forwardable(p, e, config_setting_get_string(e), &to) == -1)
			continue;
		for (j = 0; j < svc->nrewrites; j++)
			if (svc->rewrites[j].from == from)
				break;
		if (j < svc->nrewrites) {
			perr(p, e, "%s is rewritten twice",
			    config_signal_name(from));
			continue;
		}
		svc->rewrites[svc->nrewrites].from = from;
		svc->rewrites[svc->nrewrites++].to = to;
	}
	qsort(svc->rewrites, svc->nrewrites, sizeof *svc->rewrites,
	    rewrite_cmp);
}

/* Why host (unbracketed: IPv4 or a host name) is not valid, or NULL. */
static const char *
host_invalid(const char *host, int bracketed)
{
	struct addrinfo hints, *res;

	if (*host == '\0')
		return "missing host";
	if (bracketed) {
		memset(&hints, 0, sizeof hints);
		hints.ai_family = AF_INET6;
		hints.ai_flags = AI_NUMERICHOST;
		if (getaddrinfo(host, NULL, &hints, &res) != 0)
			return "not an IPv6 address";
		freeaddrinfo(res);
		return NULL;
	}
	if (strchr(host, ':') != NULL)
		return "an IPv6 address goes in brackets, as in \"[::1]:80\"";
	if (strlen(host) > 253 || strspn(host, ALNUM ".-_") != strlen(host))
		return "not an IPv4 address or a host name";
	return NULL;
}

/*
 * A port, 1 to 65535 or a name of the services database (resolved here,
 * once: the file names a port, not a lookup), to its number in *out.
 */
static const char *
port_parse(const char *port, char **out)
{
	struct addrinfo hints, *res;
	long n;
	char *end;

	if (*port == '\0')
		return "missing port";
	if (isdigit((unsigned char)*port)) {
		errno = 0;
		n = strtol(port, &end, 10);
		if (*end != '\0' || errno != 0 || n < 1 || n > 65535)
			return "the port must be from 1 to 65535";
		xasprintf(out, "%ld", n);
		return NULL;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;	/* no host: no name lookup */
	if (getaddrinfo(NULL, port, &hints, &res) != 0)
		return "unknown port name";
	n = res->ai_family == AF_INET6 ?
	    ntohs(((struct sockaddr_in6 *)(void *)res->ai_addr)->sin6_port) :
	    ntohs(((struct sockaddr_in *)(void *)res->ai_addr)->sin_port);
	freeaddrinfo(res);
	xasprintf(out, "%ld", n);
	return NULL;
}

/*
 * ready.address = "HOST:PORT" or "[IPV6]:PORT". The host is kept as
 * written (a name is resolved at each try, see check.c), the port as its
 * number.
 */
static void
get_address(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	struct ready_conf *r = dst;
	const char *v, *port, *why = NULL, *end;
	char *host;
	int bracketed;

	if (!want(p, s, is_string(s), "a string \"host:port\""))
		return;
	v = config_setting_get_string(s);
	if ((bracketed = v[0] == '[')) {
		if ((end = strchr(v, ']')) == NULL || end[1] != ':') {
			perr(p, s, "expected \"[IPv6]:port\", got \"%s\"", v);
			return;
		}
		host = xstrndup(v + 1, (size_t)(end - v - 1));
		port = end + 2;
	} else {
		if ((end = strrchr(v, ':')) == NULL) {
			perr(p, s, "expected \"host:port\", got \"%s\"", v);
			return;
		}
		host = xstrndup(v, (size_t)(end - v));
		port = end + 1;
	}
	if ((why = host_invalid(host, bracketed)) != NULL ||
	    (why = port_parse(port, &r->port)) != NULL) {
		perr(p, s, "\"%s\": %s", v, why);
		free(host);
		return;
	}
	r->host = host;
}

#define FO(f)	offsetof(struct output_conf, f)
static const struct key output_file_keys[] = {
	KEY("file", get_path, FO(file)),
	KEY("max_size", get_size, FO(max_size)),
	KEY_RANGE("keep", get_uint, FO(keep), 0, 1000),
	KEY("timestamps", get_bool, FO(timestamps)),
	KEY_END
};
#undef FO

/*
 * stdout/stderr: a target name, or a file group. Files and syslog are
 * checked, then refused: the capture is not written yet.
 */
static void
get_output(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	static const struct key kind = KEY_ENUM("", 0, output_names);
	struct output_conf *o = dst;
	int is_stdout = strcmp(config_setting_name(s), "stdout") == 0;

	if (config_setting_is_group(s)) {
		parse_keys(p, s, output_file_keys, o);
		o->kind = OUTPUT_FILE;
		if (config_setting_get_member(s, "file") == NULL)
			perr(p, s, "missing file");
		perr(p, s, "output to files is not supported yet");
		return;
	}
	get_enum(p, s, &kind, &o->kind);
	if (o->kind == OUTPUT_STDOUT && is_stdout)
		perr(p, s, "\"stdout\" is only valid for stderr");
	else if (o->kind == OUTPUT_SYSLOG)
		perr(p, s, "syslog is not supported yet");
}

#define RC(f)	offsetof(struct ready_conf, f)
static const struct key ready_keys[] = {
	KEY_ENUM("type", RC(type), ready_names),
	KEY("timeout", get_positive, RC(timeout_ms)),
	KEY("interval", get_positive, RC(interval_ms)),
	KEY_RANGE("fd", get_int, RC(fd), 3, 1023),
	KEY("address", get_address, 0),
	KEY("command", get_argv, RC(argv)),
	KEY_END
};
#undef RC

#define HC(f)	offsetof(struct health_conf, f)
static const struct key health_keys[] = {
	KEY("command", get_argv, HC(argv)),
	KEY("interval", get_positive, HC(interval_ms)),
	KEY("timeout", get_positive, HC(timeout_ms)),
	KEY_RANGE("retries", get_uint, HC(retries), 1, 100),
	KEY_END
};
#undef HC

#define SVC(f)	offsetof(struct service_conf, f)
static const struct key start_limit_keys[] = {
	KEY_RANGE("burst", get_uint, SVC(start_burst), 0, 1000000),
	KEY("interval", get_duration, SVC(start_interval_ms)),
	KEY_END
};

static const struct key service_keys[] = {
	KEY("name", get_skip, 0),
	KEY("command", get_argv, SVC(argv)),
	KEY("directory", get_path, SVC(directory)),
	KEY("user", get_string, SVC(user)),
	KEY("group", get_string, SVC(group)),
	KEY_RANGE("umask", get_octal, SVC(umask), 0, 0777),
	KEY("environment", get_skip, 0),		/* after env_file */
	KEY("env_file", get_path, SVC(env_file)),
	KEY("limits", get_limits, 0),
	KEY_RANGE("instances", get_uint, SVC(instances), 1,
	    CONFIG_INSTANCES_MAX),
	KEY("groups", get_names, SVC(groups)),
	KEY("autostart", get_bool, SVC(autostart)),
	KEY("after", get_names, SVC(after)),
	KEY("requires", get_names, SVC(requires)),
	KEY_ENUM("restart", SVC(restart), restart_names),
	KEY("success_exit", get_success_exit, SVC(success_exit)),
	KEY("restart_delay", get_duration, SVC(restart_delay_ms)),
	KEY("restart_delay_max", get_duration, SVC(restart_delay_max_ms)),
	KEY_GROUP("start_limit", 0, start_limit_keys),
	KEY("min_uptime", get_duration, SVC(min_uptime_ms)),
	KEY_GROUP("ready", SVC(ready), ready_keys),
	KEY("stop_signal", get_signal, SVC(stop_signal)),
	KEY("stop_timeout", get_duration, SVC(stop_timeout_ms)),
	KEY("reload_signal", get_signal, SVC(reload_signal)),
	KEY("signals", get_rewrites, 0),
	KEY("stdout", get_output, SVC(out)),
	KEY("stderr", get_output, SVC(err)),
	KEY_GROUP("health", SVC(health), health_keys),
	KEY_END
};
#undef SVC

/* ------------------------------------------------------------------ */
/* Services: checks once the keys are in.                              */

/* The defaults of SPEC 6. */
static void
service_defaults(struct service_conf *svc)
{
	svc->instances = 1;
	svc->autostart = 1;
	svc->restart = RESTART_ALWAYS;
	svc->success_exit[0] = 1;		/* exit code 0 */
	svc->restart_delay_ms = 100;
	svc->restart_delay_max_ms = 30000;
	svc->start_burst = 5;
	svc->start_interval_ms = 10000;
	svc->min_uptime_ms = 1000;
	svc->ready.type = READY_NONE;
	svc->ready.timeout_ms = 60000;
	svc->ready.interval_ms = 1000;
	svc->ready.fd = -1;
	svc->stop_signal = SIGTERM;
	svc->stop_timeout_ms = 10000;
	svc->reload_signal = SIGHUP;
	svc->out.kind = svc->err.kind = OUTPUT_CONSOLE;
	svc->out.max_size = svc->err.max_size = 10 * 1024 * 1024;
	svc->out.keep = svc->err.keep = 5;
	svc->health.interval_ms = 10000;
	svc->health.timeout_ms = 5000;
	svc->health.retries = 3;
}

/* Report a failed user or group lookup. */
static void
lookup_error(struct parse *p, const config_setting_t *s, const char *what,
    const char *name, int e)
{
	char eb[128];

	if (e == ENOENT)
		perr(p, s, "unknown %s \"%s\"", what, name);
	else
		perr(p, s, "cannot look up %s \"%s\": %s", what, name,
		    errstr(e, eb, sizeof eb));
}

/* Resolve user and group to ids, and the user's supplementary groups. */
static void
service_creds(struct parse *p, const config_setting_t *s,
    struct service_conf *svc)
{
	gid_t pgid = 0;
	int e;

	svc->has_user = svc->user != NULL;
	svc->has_group = svc->group != NULL;
	if (svc->has_group && (e = group_lookup(svc->group, &svc->gid)) != 0)
		lookup_error(p, config_setting_get_member(s, "group"),
		    "group", svc->group, e);
	if (svc->has_user) {
		if ((e = user_lookup(svc->user, &svc->uid, &pgid)) != 0) {
			lookup_error(p, config_setting_get_member(s, "user"),
			    "user", svc->user, e);
			return;
		}
		if (!svc->has_group)
			svc->gid = pgid;
		groups_lookup(svc->user, svc->gid, &svc->sgids, &svc->nsgids);
	}
	if ((svc->has_user && svc->uid != geteuid() && geteuid() != 0) ||
	    (svc->has_group && svc->gid != getegid() && geteuid() != 0))
		pwarn(p, config_setting_get_member(s, svc->has_user ? "user" :
		    "group"), "changing user or group needs root");
}

/*
 * Parse one env_file line in place. Returns 1 with *kv allocated for a
 * variable, 0 for a blank or comment line, -1 with *why for a bad line.
 */
static int
envfile_line(char *line, char **kv, const char **why)
{
	char *key, *val, *end, q;
	size_t klen;

	line[strcspn(line, "\r\n")] = '\0';
	key = line + strspn(line, " \t");
	if (*key == '\0' || *key == '#')
		return 0;
	if (strncmp(key, "export ", 7) == 0)
		key += 7 + strspn(key + 7, " \t");
	if ((klen = env_namelen(key)) == 0 || key[klen] != '=') {
		*why = "expected KEY=VALUE";
		return -1;
	}
	val = key + klen + 1;
	if ((q = *val) == '"' || q == '\'') {
		for (end = ++val; *end != '\0' && *end != q; end++)
			if (q == '"' && *end == '\\' && end[1] != '\0')
				memmove(end, end + 1, strlen(end));
		if (*end != q) {
			*why = "unterminated quote";
			return -1;
		}
		*end++ = '\0';
		if (end[strspn(end, " \t")] != '\0') {
			*why = "text after the closing quote";
			return -1;
		}
	} else {
		end = val + strlen(val);
		while (end > val && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
	}
	key[klen] = '\0';
	xasprintf(kv, "%s=%s", key, val);
	return 1;
}

/* Read env_file into env; its errors name its own lines. */
static void
envfile_read(struct parse *p, const config_setting_t *s, const char *path,
    struct strvec *env)
{
	FILE *f;
	char *line = NULL, *kv, eb[128];
	const char *why;
	size_t cap = 0;
	int n = 0, r, sortline = (int)config_setting_source_line(s);

	if ((f = fopen(path, "re")) == NULL) {
		perr(p, s, "cannot read \"%s\": %s", path,
		    errstr(errno, eb, sizeof eb));
		return;
	}
	while (getline(&line, &cap, f) != -1) {
		n++;
		if ((r = envfile_line(line, &kv, &why)) == 1)
			env_put(env, kv);
		else if (r == -1)
			pmsg(p, 0, path, n, sortline, "env_file: %s", why);
	}
	if (ferror(f))
		perr(p, s, "cannot read \"%s\": %s", path,
		    errstr(errno, eb, sizeof eb));
	free(line);
	fclose(f);
}

/* env: env_file's variables, then environment's, which win. */
static void
service_env(struct parse *p, const config_setting_t *s,
    struct service_conf *svc)
{
	struct strvec env = { NULL, 0 };
	const config_setting_t *e;

	if (svc->env_file != NULL)
		envfile_read(p, config_setting_get_member(s, "env_file"),
		    svc->env_file, &env);
	if ((e = config_setting_get_member(s, "environment")) != NULL)
		get_environment(p, e, NULL, &env);
	svc->env = strvec_done(&env);
}

/* requires implies after; neither may name the service itself. */
static void
service_deps(struct parse *p, const config_setting_t *s,
    struct service_conf *svc)
{
	struct strvec after = { NULL, 0 };
	char **v;

	for (v = svc->after; v != NULL && *v != NULL; v++)
		if (!strv_has(after.v, *v))
			strvec_push(&after, xstrdup(*v));
	for (v = svc->requires; v != NULL && *v != NULL; v++)
		if (!strv_has(after.v, *v))
			strvec_push(&after, xstrdup(*v));
	strv_free(svc->after);
	svc->after = strvec_done(&after);
	if (svc->requires == NULL)
		svc->requires = xcalloc(1, sizeof *svc->requires);
	if (svc->name == NULL)
		return;
	if (strv_has(svc->requires, svc->name))
		perr(p, config_setting_get_member(s, "requires"),
		    "a service cannot require itself");
	else if (strv_has(svc->after, svc->name))
		perr(p, config_setting_get_member(s, "after"),
		    "a service cannot come after itself");
}

/* Keys of ready that only some types take, and the ones they need. */
static void
service_ready(struct parse *p, const config_setting_t *s,
    struct service_conf *svc)
{
	static const struct {
		const char	*key;
		int		 type;
		int		 type2;
	} only[] = {
		{ "fd", READY_FD, READY_FD },
		{ "address", READY_TCP, READY_TCP },
		{ "command", READY_EXEC, READY_EXEC },
		{ "interval", READY_TCP, READY_EXEC },
	};
	const config_setting_t *r = config_setting_get_member(s, "ready"), *e;
	int t = (int)svc->ready.type;
	size_t i;

	if (r == NULL || !config_setting_is_group(r))
		return;
	for (i = 0; i < nitems(only); i++) {
		e = config_setting_get_member(r, only[i].key);
		if (e != NULL && t != only[i].type && t != only[i].type2)
			perr(p, e, "not used with type \"%s\"", ready_names[t]);
		else if (e == NULL && t == only[i].type &&
		    only[i].type == only[i].type2)
			perr(p, r, "type \"%s\" needs %s", ready_names[t],
			    only[i].key);
	}
}

/* Warn if a program cannot be found or run: fatal at start, not at -t. */
static void
check_program(struct parse *p, const config_setting_t *s,
    const char *prog, char *const env[])
{
	const char *path = getenv("PATH"), *dir, *end;
	char full[PATH_MAX];
	struct stat st;
	size_t i;

	if (strchr(prog, '/') != NULL) {
		if (stat(prog, &st) == -1)
			pwarn(p, s, "\"%s\" not found", prog);
		else if (!S_ISREG(st.st_mode) || access(prog, X_OK) == -1)
			pwarn(p, s, "\"%s\" is not executable", prog);
		return;
	}
	for (i = 0; env != NULL && env[i] != NULL; i++)
		if (strncmp(env[i], "PATH=", 5) == 0)
			path = env[i] + 5;
	for (dir = path != NULL ? path : "/usr/bin:/bin"; *dir; dir = end) {
		end = dir + strcspn(dir, ":");
		snprintf(full, sizeof full, "%.*s/%s", (int)(end - dir), dir,
		    prog);
		if (end > dir && stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(full, X_OK) == 0)
			return;
		end += *end == ':';
	}
	pwarn(p, s, "\"%s\" not found in PATH", prog);
}

/* What -t checks without starting anything: programs and directory. */
static void
service_paths(struct parse *p, const config_setting_t *s,
    struct service_conf *svc)
{
	const config_setting_t *e;
	struct stat st;

	if (svc->argv != NULL)
		check_program(p, config_setting_get_member(s, "command"),
		    svc->argv[0], svc->env);
	if (svc->ready.argv != NULL)
		check_program(p, config_setting_get_member(
		    config_setting_get_member(s, "ready"), "command"),
		    svc->ready.argv[0], svc->env);
	if (svc->health.argv != NULL)
		check_program(p, config_setting_get_member(
		    config_setting_get_member(s, "health"), "command"),
		    svc->health.argv[0], svc->env);
	if (svc->directory == NULL)
		return;
	e = config_setting_get_member(s, "directory");
	if (stat(svc->directory, &st) == -1)
		pwarn(p, e, "\"%s\" does not exist", svc->directory);
	else if (!S_ISDIR(st.st_mode))
		pwarn(p, e, "\"%s\" is not a directory", svc->directory);
}

/* Checks across the keys of one service. */
static void
service_check(struct parse *p, const config_setting_t *s,
    struct service_conf *svc)
{
	const config_setting_t *e;

	if (config_setting_get_member(s, "command") == NULL)
		perr(p, s, "missing command");
	svc->has_umask = config_setting_get_member(s, "umask") != NULL;
	service_creds(p, s, svc);
	service_env(p, s, svc);
	service_deps(p, s, svc);
	if (svc->groups == NULL)
		svc->groups = xcalloc(1, sizeof *svc->groups);
	e = config_setting_get_member(s, "restart_delay_max");
	if (e != NULL && svc->restart_delay_max_ms < svc->restart_delay_ms)
		perr(p, e, "less than restart_delay");
	else if (svc->restart_delay_max_ms < svc->restart_delay_ms)
		svc->restart_delay_max_ms = svc->restart_delay_ms;
	service_ready(p, s, svc);
	e = config_setting_get_member(s, "health");
	if (e != NULL && config_setting_is_group(e) &&
	    config_setting_get_member(e, "command") == NULL)
		perr(p, e, "missing command");
	service_paths(p, s, svc);
}

/* Parse one element of services into svc. */
static void
parse_service(struct parse *p, const config_setting_t *s,
    struct service_conf *svc)
{
	const config_setting_t *name;
	const char *why;

	service_defaults(svc);
	svc->file = xstrdup(config_setting_source_file(s) != NULL ?
	    config_setting_source_file(s) : p->cf->path);
	svc->line = (int)config_setting_source_line(s);
	if (!want(p, s, config_setting_is_group(s), "a group"))
		return;
	if ((name = config_setting_get_member(s, "name")) == NULL)
		perr(p, s, "missing name");
	else if (want(p, name, is_string(name), "a string")) {
		svc->name = xstrdup(config_setting_get_string(name));
		if ((why = name_invalid(svc->name)) != NULL)
			perr(p, name, "\"%s\" is not a valid name: %s",
			    svc->name, why);
		p->svc = svc->name;
	}
	parse_keys(p, s, service_keys, svc);
	service_check(p, s, svc);
}

/* services = ( { ... }, ... ) */
static void
get_services(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	struct config *cf = dst;
	size_t i, n;

	if (!want(p, s, config_setting_is_list(s), "a list of groups"))
		return;
	n = (size_t)config_setting_length(s);
	cf->services = xcalloc(n, sizeof *cf->services);
	p->svcset = xcalloc(n, sizeof *p->svcset);
	for (i = 0; i < n; i++) {
		p->svcno = i + 1;
		p->svc = NULL;
		p->svcset[i] = config_setting_get_elem(s, (unsigned)i);
		parse_service(p, p->svcset[i], &cf->services[i]);
		cf->nservices++;
	}
	p->svcno = 0;
	p->svc = NULL;
}

/* ------------------------------------------------------------------ */
/* Checks across services.                                             */

/* Index of the service called name, or -1. */
static ssize_t
service_index(const struct config *cf, const char *name)
{
	size_t i;

	for (i = 0; i < cf->nservices; i++)
		if (cf->services[i].name != NULL &&
		    strcmp(cf->services[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Report the second and later uses of a name. */
static void
check_duplicates(struct parse *p)
{
	struct config *cf = p->cf;
	ssize_t first;
	size_t i;

	for (i = 0; i < cf->nservices; i++) {
		if (cf->services[i].name == NULL)
			continue;
		first = service_index(cf, cf->services[i].name);
		if (first >= 0 && (size_t)first < i) {
			p->svc = cf->services[i].name;
			perr(p, config_setting_get_member(p->svcset[i], "name"),
			    "duplicate name, first used at line %d",
			    cf->services[first].line);
		}
	}
	p->svc = NULL;
}

/* Every name in after and requires must be a service. */
static void
check_references(struct parse *p)
{
	static const char *const keys[] = { "after", "requires" };
	const config_setting_t *s, *e;
	size_t i, j;
	unsigned int n;

	for (i = 0; i < p->cf->nservices; i++) {
		p->svc = p->cf->services[i].name;
		p->svcno = i + 1;
		for (j = 0; j < nitems(keys); j++) {
			if ((s = config_setting_get_member(p->svcset[i],
			    keys[j])) == NULL || !is_seq(s))
				continue;
			for (n = 0; (e = config_setting_get_elem(s, n)) !=
			    NULL; n++)
				if (is_string(e) && service_index(p->cf,
				    config_setting_get_string(e)) == -1)
					perr(p, e, "unknown service \"%s\"",
					    config_setting_get_string(e));
		}
	}
	p->svc = NULL;
	p->svcno = 0;
}

/* Depth-first search state for the cycle check. */
struct dfs {
	struct parse	*p;
	int		*color;		/* 0 new, 1 on the path, 2 done */
	size_t		*path;
	size_t		 depth;
};

/* Report the cycle path[from..depth-1] -> path[from]. */
static void
cycle_report(struct dfs *d, size_t from)
{
	const struct config *cf = d->p->cf;
	char text[1024] = "";
	size_t i, head = d->path[from];

	for (i = from; i < d->depth; i++) {
		str_append(text, cf->services[d->path[i]].name, sizeof text);
		str_append(text, " -> ", sizeof text);
	}
	str_append(text, cf->services[head].name, sizeof text);
	d->p->svc = cf->services[head].name;
	perr(d->p, d->p->svcset[head], "dependency cycle: %s", text);
	d->p->svc = NULL;
}

/* Visit service u and what it comes after. */
static void
dfs_visit(struct dfs *d, size_t u)
{
	const struct service_conf *svc = &d->p->cf->services[u];
	ssize_t v;
	size_t i;

	d->color[u] = 1;
	d->path[d->depth++] = u;
	for (i = 0; svc->after[i] != NULL; i++) {
		if ((v = service_index(d->p->cf, svc->after[i])) == -1 ||
		    (size_t)v == u)
			continue;
		if (d->color[v] == 0)
			dfs_visit(d, (size_t)v);
		else if (d->color[v] == 1) {
			size_t from = 0;

			while (d->path[from] != (size_t)v)
				from++;
			cycle_report(d, from);
		}
	}
	d->depth--;
	d->color[u] = 2;
}

/* Report every cycle of after (requires included), with its path. */
static void
check_cycles(struct parse *p)
{
	struct dfs d;
	size_t i, n = p->cf->nservices;

	d.p = p;
	d.color = xcalloc(n, sizeof *d.color);
	d.path = xcalloc(n, sizeof *d.path);
	d.depth = 0;
	for (i = 0; i < n; i++)
		if (d.color[i] == 0 && p->cf->services[i].name != NULL &&
		    p->cf->services[i].after != NULL)
			dfs_visit(&d, i);
	free(d.color);
	free(d.path);
}

/* ------------------------------------------------------------------ */
/* The signals section, read once the services are known.              */

/* 1 if some service is in group. */
static int
group_exists(const struct config *cf, const char *group)
{
	size_t i;

	for (i = 0; i < cf->nservices; i++)
		if (strv_has(cf->services[i].groups, group))
			return 1;
	return 0;
}

/* "all", "group:G", "NAME" or "NAME:I" to a target; -1 on error. */
static int
target_parse(struct parse *p, const config_setting_t *e,
    struct route_target *t)
{
	const char *v = config_setting_get_string(e), *colon;
	ssize_t i;
	char *end = NULL;

	if (strcmp(v, "all") == 0) {
		t->kind = TARGET_ALL;
		return 0;
	}
	if (strncmp(v, "group:", 6) == 0) {
		t->kind = TARGET_GROUP;
		t->name = xstrdup(v + 6);
		if (group_exists(p->cf, t->name))
			return 0;
		perr(p, e, "unknown group \"%s\"", t->name);
		return -1;
	}
	t->kind = TARGET_SERVICE;
	if ((colon = strchr(v, ':')) != NULL) {
		t->kind = TARGET_INSTANCE;
		t->instance = (unsigned int)strtoul(colon + 1, &end, 10);
	}
	t->name = colon != NULL ? xstrndup(v, (size_t)(colon - v)) :
	    xstrdup(v);
	if ((i = service_index(p->cf, t->name)) == -1)
		perr(p, e, "unknown service \"%s\"", t->name);
	else if (colon != NULL && (!isdigit((unsigned char)colon[1]) ||
	    *end != '\0' || t->instance >= p->cf->services[i].instances))
		perr(p, e, "unknown instance \"%s\"", v);
	else
		return 0;
	return -1;
}

/* forward = [ "web", "group:G", "all" ] */
static void
get_targets(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	struct route *r = dst;
	const config_setting_t *e;
	unsigned int i;

	if (!want(p, s, is_seq(s), "an array of targets"))
		return;
	if (config_setting_length(s) == 0)
		perr(p, s, "expected at least one target");
	r->targets = xcalloc((size_t)config_setting_length(s),
	    sizeof *r->targets);
	for (i = 0; (e = config_setting_get_elem(s, i)) != NULL; i++)
		if (want(p, e, is_string(e), "a string"))
			target_parse(p, e, &r->targets[r->ntargets++]);
}

static const struct key route_keys[] = {
	KEY("forward", get_targets, 0),
	KEY("as", get_signal, offsetof(struct route, as)),
	KEY_END
};

/* Append a route to the table. */
static struct route *
route_add(struct config *cf, int signo, enum route_action action)
{
	struct route *r;

	cf->routes = xreallocarray(cf->routes, cf->nroutes + 1,
	    sizeof *cf->routes);
	r = &cf->routes[cf->nroutes++];
	memset(r, 0, sizeof *r);
	r->signo = r->as = signo;
	r->action = action;
	return r;
}

/* A forward rule: { forward = [...]; as = "SIGX"; } */
static void
route_forward(struct parse *p, const config_setting_t *s, struct route *r)
{
	const config_setting_t *as;
	const char *why;

	parse_keys(p, s, route_keys, r);
	if (config_setting_get_member(s, "forward") == NULL)
		perr(p, s, "missing forward");
	as = config_setting_get_member(s, "as");
	if (as != NULL && (why = signal_refusal(r->as)) != NULL)
		perr(p, as, "%s cannot be forwarded: %s",
		    config_signal_name(r->as), why);
}

/* One rule: SIGX = "action" or SIGX = { forward = ... }. */
static void
route_parse(struct parse *p, const config_setting_t *s)
{
	static const struct key action = KEY_ENUM("", 0, action_names);
	const char *why;
	struct route *r;
	int signo;

	if ((signo = signal_parse(config_setting_name(s))) == -1) {
		perr(p, s, "unknown signal");
		return;
	}
	if ((why = signal_refusal(signo)) != NULL) {
		perr(p, s, "%s cannot be routed: %s", config_signal_name(signo),
		    why);
		return;
	}
	if (config_route_find(p->cf, signo) != NULL) {
		perr(p, s, "%s is routed twice", config_signal_name(signo));
		return;
	}
	r = route_add(p->cf, signo, ROUTE_IGNORE);
	if (config_setting_is_group(s)) {
		r->action = ROUTE_FORWARD;
		route_forward(p, s, r);
	} else {
		get_enum(p, s, &action, &r->action);
	}
}

static int
route_cmp(const void *a, const void *b)
{
	const struct route *x = a, *y = b;

	return (x->signo > y->signo) - (x->signo < y->signo);
}

/* The signals section, then the default rules it did not override. */
static void
parse_routes(struct parse *p)
{
	static const struct {
		int			signo;
		enum route_action	action;
	} defaults[] = {
		{ SIGTERM, ROUTE_SHUTDOWN }, { SIGINT, ROUTE_SHUTDOWN },
		{ SIGHUP, ROUTE_RELOAD }, { SIGUSR1, ROUTE_REOPEN_LOGS },
	};
	const config_setting_t *s;
	unsigned int i;

	if (p->signals != NULL && want(p, p->signals,
	    config_setting_is_group(p->signals), "a group"))
		for (i = 0; (s = config_setting_get_elem(p->signals, i)) !=
		    NULL; i++)
			route_parse(p, s);
	for (i = 0; i < nitems(defaults); i++)
		if (config_route_find(p->cf, defaults[i].signo) == NULL)
			route_add(p->cf, defaults[i].signo, defaults[i].action);
	qsort(p->cf->routes, p->cf->nroutes, sizeof *p->cf->routes,
	    route_cmp);
}

/* ------------------------------------------------------------------ */
/* The file.                                                           */

static void
get_vigild(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	if (want(p, s, config_setting_is_group(s), "a group"))
		parse_keys(p, s, vigild_keys, dst);
}

/* Kept for parse_routes(), which needs the services first. */
static void
get_signals(struct parse *p, const config_setting_t *s, const struct key *k,
    void *dst)
{
	p->signals = s;
}

static const struct key root_keys[] = {
	KEY("vigild", get_vigild, 0),
	KEY("signals", get_signals, 0),
	KEY("services", get_services, 0),
	KEY_END
};

#define CONFIG_TEXT_MAX	(16 * 1024 * 1024)

/*
 * The text of path, kept in p->cf->source (re-exec passes it on: SPEC 6);
 * -1 with the error reported.
 */
static int
slurp_file(struct parse *p, const char *path)
{
	char eb[128], *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, e = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		pmsg(p, 0, path, 0, 0, "cannot read: %s",
		    errstr(errno, eb, sizeof eb));
		return -1;
	}
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= CONFIG_TEXT_MAX) {
				e = EFBIG;
				break;
			}
			cap = cap == 0 ? 8192 : cap * 2;
			buf = xreallocarray(buf, 1, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (e != 0) {
		free(buf);
		pmsg(p, 0, path, 0, 0, "cannot read: %s",
		    errstr(e, eb, sizeof eb));
		return -1;
	}
	buf[len] = '\0';
	p->cf->source = buf;
	return 0;
}

/*
 * Parse the text of path (read here when text is NULL) into lc; a syntax
 * error is reported as libconfig has it.
 */
static int
read_file(struct parse *p, config_t *lc, const char *path, const char *text)
{
	struct stat st;
	char eb[128], buf[PATH_MAX];
	int e;

	if (text == NULL) {
		e = stat(path, &st) == -1 ? errno :
		    S_ISDIR(st.st_mode) ? EISDIR : 0;
		if (e != 0) {
			pmsg(p, 0, path, 0, 0, "cannot read: %s",
			    errstr(e, eb, sizeof eb));
			return -1;
		}
		if (slurp_file(p, path) == -1)
			return -1;
	} else
		p->cf->source = xstrdup(text);
	config_set_include_dir(lc, p->cf->dir);
	errno = 0;
	if (config_read_string(lc, p->cf->source) == CONFIG_TRUE)
		return 0;
	e = errno;
	if (config_error_type(lc) == CONFIG_ERR_FILE_IO)
		pmsg(p, 0, diag_file(p, config_error_file(lc), buf,
		    sizeof buf), config_error_line(lc), config_error_line(lc),
		    "cannot read: %s", errstr(e != 0 ? e : EIO, eb, sizeof eb));
	else
		pmsg(p, 0, diag_file(p, config_error_file(lc), buf, sizeof buf),
		    config_error_line(lc), config_error_line(lc), "%s",
		    config_error_text(lc));
	return -1;
}

/* A configuration with the defaults of SPEC 6 and nothing else. */
static struct config *
config_new(const char *path)
{
	struct config *cf = xcalloc(1, sizeof *cf);

	cf->path = xstrdup(path);
	cf->socket_mode = 0600;
	cf->workers = 4;
	cf->shutdown_timeout_ms = 30000;
	cf->log_level = LOG_LEVEL_INFO;
	return cf;
}

static struct config *
config_parse(const char *path, const char *text, struct config_diag *diag)
{
	struct parse p;
	config_t lc;
	size_t i;

	memset(&p, 0, sizeof p);
	p.cf = config_new(path);
	config_init(&lc);
	if ((p.cf->dir = config_dir(path)) == NULL)
		pmsg(&p, 0, path, 0, 0, "cannot find the current directory");
	else if (read_file(&p, &lc, path, text) == 0) {
		parse_keys(&p, config_root_setting(&lc), root_keys, p.cf);
		check_duplicates(&p);
		check_references(&p);
		check_cycles(&p);
		parse_routes(&p);
		for (i = 0; i < p.cf->nservices; i++)
			if (p.cf->services[i].after != NULL &&
			    p.cf->services[i].after[0] != NULL)
				p.cf->has_deps = 1;
		if (p.cf->nservices == 0)
			pmsg(&p, 1, path, 0, 0, "no services are defined");
	}
	config_destroy(&lc);
	free(p.svcset);
	if (diag_finish(&p, diag) > 0) {
		config_free(p.cf);
		return NULL;
	}
	return p.cf;
}

struct config *
config_load(const char *path, struct config_diag *diag)
{
	return config_parse(path, NULL, diag);
}

struct config *
config_load_text(const char *path, const char *text,
    struct config_diag *diag)
{
	return config_parse(path, text, diag);
}

/*
 * Single-command mode (vigild -- COMMAND) reads no file; this describes
 * its one command for the control socket, as single.c supervises it. The
 * name is the basename of argv[0] when that is a valid service name, else
 * "main". The defaults of SPEC 6 are single.c's delays too (100 ms
 * doubling to 30 s after runs shorter than min_uptime, 1 s); it has no
 * start limit, stops with SIGTERM then SIGKILL within stop_ms (what
 * vigilctl waits for a stop, at most), and does not capture output.
 */
struct config *
config_single(char *const argv[], enum restart_policy restart,
    int64_t stop_ms)
{
	struct config *cf = config_new("(command line)");
	struct strvec v = { NULL, 0 };
	struct service_conf *svc;
	const char *base;
	size_t i;

	cf->services = xcalloc(1, sizeof *cf->services);
	cf->nservices = 1;
	svc = &cf->services[0];
	service_defaults(svc);
	base = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 :
	    argv[0];
	svc->name = xstrdup(name_invalid(base) == NULL ? base : "main");
	svc->file = xstrdup(cf->path);
	for (i = 0; argv[i] != NULL; i++)
		strvec_push(&v, xstrdup(argv[i]));
	svc->argv = strvec_done(&v);
	svc->restart = restart;
	svc->start_burst = 0;
	svc->stop_timeout_ms = stop_ms;
	svc->out.kind = svc->err.kind = OUTPUT_INHERIT;
	return cf;
}

/* ------------------------------------------------------------------ */
/* Freeing.                                                            */

static void
service_free(struct service_conf *svc)
{
	free(svc->name);
	free(svc->file);
	strv_free(svc->argv);
	free(svc->directory);
	free(svc->user);
	free(svc->group);
	free(svc->sgids);
	strv_free(svc->env);
	free(svc->env_file);
	free(svc->limits);
	strv_free(svc->groups);
	strv_free(svc->after);
	strv_free(svc->requires);
	free(svc->ready.host);
	free(svc->ready.port);
	strv_free(svc->ready.argv);
	free(svc->rewrites);
	free(svc->out.file);
	free(svc->err.file);
	strv_free(svc->health.argv);
}

void
config_free(struct config *cf)
{
	size_t i, j;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->nservices; i++)
		service_free(&cf->services[i]);
	free(cf->services);
	free(cf->source);
	for (i = 0; i < cf->nroutes; i++) {
		for (j = 0; j < cf->routes[i].ntargets; j++)
			free(cf->routes[i].targets[j].name);
		free(cf->routes[i].targets);
	}
	free(cf->routes);
	free(cf->path);
	free(cf->dir);
	free(cf->socket);
	free(cf->socket_group);
	free(cf->pidfile);
	free(cf);
}

/* ------------------------------------------------------------------ */
/* Queries.                                                            */

const struct service_conf *
config_service_find(const struct config *cf, const char *name)
{
	ssize_t i = service_index(cf, name);

	return i == -1 ? NULL : &cf->services[i];
}

const struct route *
config_route_find(const struct config *cf, int signo)
{
	size_t i;

	for (i = 0; i < cf->nroutes; i++)
		if (cf->routes[i].signo == signo)
			return &cf->routes[i];
	return NULL;
}

const char *
config_instance_name(const struct service_conf *svc, unsigned int instance,
    char *buf, size_t len)
{
	if (svc->instances <= 1)
		snprintf(buf, len, "%s", svc->name);
	else
		snprintf(buf, len, "%s:%u", svc->name, instance);
	return buf;
}

int
config_success_exit(const struct service_conf *svc, int code)
{
	if (code < 0 || code > 255)
		return 0;
	return (svc->success_exit[code / 8] >> (code % 8)) & 1;
}

int
config_service_in_group(const struct service_conf *svc, const char *group)
{
	return strv_has(svc->groups, group);
}

int
config_service_rewrite(const struct service_conf *svc, int signo)
{
	size_t i;

	for (i = 0; i < svc->nrewrites; i++)
		if (svc->rewrites[i].from == signo)
			return svc->rewrites[i].to;
	return signo;
}

/* ------------------------------------------------------------------ */
/* Comparison for reload.                                              */

static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
strv_eq(char *const *a, char *const *b)
{
	if (a == NULL || b == NULL)
		return strv_len(a) == strv_len(b);
	for (; *a != NULL && *b != NULL; a++, b++)
		if (strcmp(*a, *b) != 0)
			return 0;
	return *a == *b;
}

static int
output_eq(const struct output_conf *a, const struct output_conf *b)
{
	if (a->kind != b->kind)
		return 0;
	return a->kind != OUTPUT_FILE || (str_eq(a->file, b->file) &&
	    a->max_size == b->max_size && a->keep == b->keep &&
	    a->timestamps == b->timestamps);
}

static int
ready_eq(const struct ready_conf *a, const struct ready_conf *b)
{
	return a->type == b->type && a->timeout_ms == b->timeout_ms &&
	    a->interval_ms == b->interval_ms && a->fd == b->fd &&
	    str_eq(a->host, b->host) && str_eq(a->port, b->port) &&
	    strv_eq(a->argv, b->argv);
}

static int
health_eq(const struct health_conf *a, const struct health_conf *b)
{
	return strv_eq(a->argv, b->argv) && a->interval_ms == b->interval_ms &&
	    a->timeout_ms == b->timeout_ms && a->retries == b->retries;
}

/* How the child is made: program, credentials, environment, limits. */
static int
exec_eq(const struct service_conf *a, const struct service_conf *b)
{
	size_t i;

	if (!strv_eq(a->argv, b->argv) || !str_eq(a->directory, b->directory) ||
	    !str_eq(a->user, b->user) || !str_eq(a->group, b->group) ||
	    a->uid != b->uid || a->gid != b->gid || a->nsgids != b->nsgids ||
	    a->has_umask != b->has_umask || a->umask != b->umask ||
	    !strv_eq(a->env, b->env) || a->nlimits != b->nlimits)
		return 0;
	for (i = 0; i < a->nsgids; i++)
		if (a->sgids[i] != b->sgids[i])
			return 0;
	for (i = 0; i < a->nlimits; i++)
		if (a->limits[i].resource != b->limits[i].resource ||
		    a->limits[i].value != b->limits[i].value)
			return 0;
	return 1;
}

/* How it is supervised: dependencies, restarts, stop, signals, output. */
static int
policy_eq(const struct service_conf *a, const struct service_conf *b)
{
	size_t i;

	if (a->instances != b->instances || !strv_eq(a->groups, b->groups) ||
	    a->autostart != b->autostart || !strv_eq(a->after, b->after) ||
	    !strv_eq(a->requires, b->requires) || a->restart != b->restart ||
	    memcmp(a->success_exit, b->success_exit, sizeof a->success_exit) ||
	    a->restart_delay_ms != b->restart_delay_ms ||
	    a->restart_delay_max_ms != b->restart_delay_max_ms ||
	    a->start_burst != b->start_burst ||
	    a->start_interval_ms != b->start_interval_ms ||
	    a->min_uptime_ms != b->min_uptime_ms ||
	    a->stop_signal != b->stop_signal ||
	    a->stop_timeout_ms != b->stop_timeout_ms ||
	    a->reload_signal != b->reload_signal ||
	    a->nrewrites != b->nrewrites)
		return 0;
	for (i = 0; i < a->nrewrites; i++)
		if (a->rewrites[i].from != b->rewrites[i].from ||
		    a->rewrites[i].to != b->rewrites[i].to)
			return 0;
	return 1;
}

int
config_service_equal(const struct service_conf *a,
    const struct service_conf *b)
{
	return str_eq(a->name, b->name) && exec_eq(a, b) && policy_eq(a, b) &&
	    ready_eq(&a->ready, &b->ready) && output_eq(&a->out, &b->out) &&
	    output_eq(&a->err, &b->err) && health_eq(&a->health, &b->health);
}

/* ------------------------------------------------------------------ */
/* The child's environment.                                            */

/* 1 for the variables of vigild's own supervisor, not passed on. */
static int
env_dropped(const char *kv)
{
	return strncmp(kv, "NOTIFY_SOCKET=", 14) == 0 ||
	    strncmp(kv, "WATCHDOG_", 9) == 0 || strncmp(kv, "LISTEN_", 7) == 0;
}

char **
config_service_env(const struct service_conf *svc, char *const base_environ[],
    const char *instance_name, unsigned int instance)
{
	struct strvec env = { NULL, 0 };
	char *kv;
	size_t i;

	for (i = 0; base_environ != NULL && base_environ[i] != NULL; i++)
		if (strchr(base_environ[i], '=') != NULL &&
		    !env_dropped(base_environ[i]) &&
		    env_find(&env, base_environ[i]) == -1)
			strvec_push(&env, xstrdup(base_environ[i]));
	for (i = 0; svc->env != NULL && svc->env[i] != NULL; i++)
		env_put(&env, xstrdup(svc->env[i]));
	xasprintf(&kv, "VIGIL_SERVICE=%s", instance_name != NULL ?
	    instance_name : svc->name);
	env_put(&env, kv);
	xasprintf(&kv, "VIGIL_INSTANCE=%u", instance);
	env_put(&env, kv);
	return strvec_done(&env);
}

void
config_env_free(char **env)
{
	strv_free(env);
}

/* ------------------------------------------------------------------ */
/* StrictModes.                                                        */

/* -1 with a message if st (of path, a what) is not safe to trust. */
static int
perms_refuse(const char *path, const char *what, const struct stat *st,
    char *err, size_t errlen)
{
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(err, errlen, "%s: refusing a configuration %s owned "
		    "by uid %lu, neither root nor uid %lu", path, what,
		    (unsigned long)st->st_uid, (unsigned long)geteuid());
		return -1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: refusing a configuration %s "
		    "writable by group or others (mode %04o): chmod go-w it",
		    path, what, (unsigned int)(st->st_mode & 07777));
		return -1;
	}
	return 0;
}

int
config_check_perms(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *dir, eb[128];
	int r;

	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path,
		    errstr(errno, eb, sizeof eb));
		return -1;
	}
	if (perms_refuse(path, "file", &st, err, errlen) == -1)
		return -1;
	dir = path_dirname(path);
	if ((r = stat(dir, &st)) == -1)
		snprintf(err, errlen, "%s: %s", dir,
		    errstr(errno, eb, sizeof eb));
	else
		r = perms_refuse(dir, "directory", &st, err, errlen);
	free(dir);
	return r;
}
