/*
 * Logging: a line per event, with its level, to stderr in the foreground or
 * to syslog when detached. Thread-safe (one write(2) or syslog(3) per line);
 * never called between fork and exec.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static int	log_foreground = 1;
static int	log_level = LOG_LEVEL_INFO;
static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int level_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void
log_init(int foreground, int level, const char *ident)
{
	log_foreground = foreground;
	log_level = level;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

int
log_level_parse(const char *s)
{
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

/* Format one line and write it out whole. */
static void
vlog(int level, const char *name, const char *errstr, const char *fmt,
    va_list ap)
{
	char msg[2048], line[2304];
	int n;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (log_foreground) {
		n = snprintf(line, sizeof line, "vigild: %s: %s%s%s%s%s\n",
		    level_names[level], name ? name : "", name ? ": " : "",
		    msg, errstr ? ": " : "", errstr ? errstr : "");
		if (n < 0)
			return;
		if ((size_t)n >= sizeof line) {
			n = sizeof line - 1;
			line[n - 1] = '\n';
		}
		(void)write(STDERR_FILENO, line, (size_t)n);
	} else
		syslog(level_prio[level], "%s%s%s%s%s", name ? name : "",
		    name ? ": " : "", msg, errstr ? ": " : "",
		    errstr ? errstr : "");
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, NULL, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, NULL, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, NULL, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_DEBUG, NULL, NULL, fmt, ap);
	va_end(ap);
}

void
log_svc(int level, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, name, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, NULL, saved ? strerror(saved) : NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, NULL, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
