/*
 * The records of a re-exec's state (reexec.h): writing and reading them,
 * and the descriptors they name. No other dependency, so that any file
 * can save and restore its part.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reexec.h"
#include "xmalloc.h"

static int		*kept;
static size_t		 nkept, capkept;

void
rx_kept_reset(void)
{
	nkept = 0;
}

/* ---- writing ----------------------------------------------------------- */

void
rx_begin(FILE *f, const char *type)
{
	fputs(type, f);
}

void
rx_int(FILE *f, const char *key, long long v)
{
	fprintf(f, " %s=%lld", key, v);
}

void
rx_bytes(FILE *f, const char *key, const char *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	fprintf(f, " %s=", key);
	for (i = 0; i < len; i++) {
		putc(hex[(unsigned char)p[i] >> 4], f);
		putc(hex[(unsigned char)p[i] & 15], f);
	}
}

void
rx_str(FILE *f, const char *key, const char *s)
{
	if (s != NULL)
		rx_bytes(f, key, s, strlen(s));
}

void
rx_finish(FILE *f)
{
	putc('\n', f);
}

/* A descriptor the state names: it must cross the exec. */
void
rx_keep_fd(int fd)
{
	if (fd < 0)
		return;
	if (nkept == capkept) {
		capkept = capkept == 0 ? 64 : capkept * 2;
		kept = xreallocarray(kept, capkept, sizeof *kept);
	}
	kept[nkept++] = fd;
}

void
rx_cloexec(int fd)
{
	int fl;

	if (fd >= 0 && (fl = fcntl(fd, F_GETFD)) != -1)
		(void)fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

void
rx_kept_cloexec(int on)
{
	size_t i;
	int fl;

	for (i = 0; i < nkept; i++)
		if ((fl = fcntl(kept[i], F_GETFD)) != -1)
			(void)fcntl(kept[i], F_SETFD, on ? fl | FD_CLOEXEC :
			    fl & ~FD_CLOEXEC);
}

/* ---- reading ----------------------------------------------------------- */

long long
rx_getint(struct rx_rec *r, const char *key, long long def)
{
	char *end;
	long long v;
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (strcmp(r->key[i], key) != 0)
			continue;
		errno = 0;
		v = strtoll(r->val[i], &end, 10);
		if (errno != 0 || end == r->val[i] || *end != '\0')
			return def;
		return v;
	}
	return def;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *
rx_get(struct rx_rec *r, const char *key, size_t *lenp)
{
	size_t i, j, n;
	char *v;
	int hi, lo;

	for (i = 0; i < r->n; i++) {
		if (strcmp(r->key[i], key) != 0)
			continue;
		v = r->val[i];
		if (!r->decoded[i]) {
			n = strlen(v);
			for (j = 0; j + 1 < n; j += 2) {
				if ((hi = hexval(v[j])) < 0 ||
				    (lo = hexval(v[j + 1])) < 0)
					break;
				v[j / 2] = (char)(hi << 4 | lo);
			}
			v[j / 2] = '\0';
			r->len[i] = j / 2;
			r->decoded[i] = 1;
		}
		if (lenp != NULL)
			*lenp = r->len[i];
		return v;
	}
	if (lenp != NULL)
		*lenp = 0;
	return NULL;
}

