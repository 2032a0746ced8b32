/* Daemon logging, after OpenBSD's log.c: stderr in the foreground, syslog detached. */
#ifndef VIGILD_LOG_H
#define VIGILD_LOG_H

#include <stdarg.h>

#define LOG_LEVEL_ERROR	0
#define LOG_LEVEL_WARN	1
#define LOG_LEVEL_INFO	2
#define LOG_LEVEL_DEBUG	3

/* Start logging: to stderr if foreground, else to syslog as ident. */
void	log_init(int foreground, int level, const char *ident);
void	log_setlevel(int level);
int	log_getlevel(void);
/* Parse "error|warn|info|debug"; -1 if unknown. */
int	log_level_parse(const char *s);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* A line about one service: "LEVEL name: message". */
void	log_svc(int level, const char *name, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
