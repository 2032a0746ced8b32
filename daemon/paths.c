/*
 * Where vigild and vigilctl meet: the default control socket (SPEC 6).
 * Apart from config.c so that vigilctl links neither libconfig nor the
 * daemon.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"

#ifdef __FreeBSD__
#define ROOT_SOCKET	"/var/run/vigild.sock"
#else
#define ROOT_SOCKET	"/run/vigild.sock"
#endif

const char *
config_default_socket(char *buf, size_t len)
{
	const char *xdg;
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, len, "%s", ROOT_SOCKET);
	else if ((xdg = getenv("XDG_RUNTIME_DIR")) != NULL && xdg[0] == '/')
		n = snprintf(buf, len, "%s/vigild.sock", xdg);
	else
		n = snprintf(buf, len, "/tmp/vigild-%lu.sock",
		    (unsigned long)geteuid());
	return n >= 0 && (size_t)n < len ? buf : NULL;
}
