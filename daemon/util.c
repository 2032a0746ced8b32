/* Daemon-wide globals and small helpers. */
#include "config.h"

#include <time.h>

#include "vigild.h"

struct vigild	 vd;
struct svc_list	 svcs = TAILQ_HEAD_INITIALIZER(svcs);

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ms_to_tv(int64_t ms, struct timeval *tv)
{
	if (ms < 0)
		ms = 0;
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}
