/*
 * A small TAP harness. Each case runs in a forked child of a single-threaded
 * runner, in its own process group, under a timeout kept by the runner: a
 * hang is a failure, not a stuck CI.
 * On Linux the runner is a subreaper and fails any case that
 * leaves a process behind (and kills it).
 *
 * TAP_ONLY=name runs one case; TAP_TIMEOUT=N multiplies every timeout by N.
 */
#ifndef VIGIL_TAP_H
#define VIGIL_TAP_H

#include <stddef.h>

struct tap_case {
	const char	*name;
	void		(*fn)(void);
	unsigned int	 timeout;	/* seconds; 0 means 30 */
};

#define TAP_CASE(fn, t)	{ #fn, fn, t }

/* Run the cases, print TAP, return the exit status for main(). */
int	tap_run(const struct tap_case *cases, size_t n);

/* Inside a case: fail with a message (and errno if set) and end the case. */
void	tap_fail_(const char *file, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4), noreturn));
/* Inside a case: skip it with a reason. */
void	tap_skip(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
/* Print a diagnostic line ("# ...") from a case. */
void	tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic milliseconds. */
long long	tap_now_ms(void);

#define CHECK(c) do {							\
	if (!(c))							\
		tap_fail_(__FILE__, __LINE__, "check failed: %s", #c);	\
} while (0)
#define CHECKF(c, ...) do {						\
	if (!(c))							\
		tap_fail_(__FILE__, __LINE__, __VA_ARGS__);		\
} while (0)
#define CHECK_EQ(a, b) do {						\
	long long a_ = (long long)(a), b_ = (long long)(b);		\
	if (a_ != b_)							\
		tap_fail_(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", \
		    #a, a_, #b, b_);					\
} while (0)
#define CHECK_OK(e) do {						\
	if ((e) == -1)							\
		tap_fail_(__FILE__, __LINE__, "%s failed", #e);		\
} while (0)

/*
 * Wait up to ms for cond to become true, checking every millisecond; evaluates
 * to the final value of cond. A wait on a condition, never a bare sleep.
 */
#define WAIT_FOR(cond, ms) ({						\
	long long dl_ = tap_now_ms() + (ms);				\
	int ok_;							\
	while (!(ok_ = !!(cond)) && tap_now_ms() < dl_)			\
		tap_msleep(1);						\
	ok_;								\
})
void	tap_msleep(unsigned int ms);

#endif
