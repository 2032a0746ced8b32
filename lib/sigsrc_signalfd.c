/* Stub: signalfd backend. */
#include "config.h"
#include <errno.h>
#include <stddef.h>
#include "internal.h"
struct vigil_sigsrc *vigil_sigsrc_new(const sigset_t *set) { errno = ENOSYS; return NULL; }
int vigil_sigsrc_fd(const struct vigil_sigsrc *s) { return -1; }
int vigil_sigsrc_read(struct vigil_sigsrc *s, struct vigil_siginfo *si) { errno = ENOSYS; return -1; }
void vigil_sigsrc_free(struct vigil_sigsrc *s) { }
const char *vigil_sigsrc_backend(void) { return "signalfd"; }
