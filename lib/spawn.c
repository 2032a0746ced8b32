/* Stub: replaced by the spawn implementation. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include "internal.h"
struct vigil_spawnattr { int dummy; };
struct vigil_spawnattr *vigil_spawnattr_new(void) { errno = ENOSYS; return NULL; }
void vigil_spawnattr_free(struct vigil_spawnattr *a) { free(a); }
int vigil_spawnattr_set_argv(struct vigil_spawnattr *a, char *const argv[]) { errno = ENOSYS; return -1; }
int vigil_spawnattr_set_env(struct vigil_spawnattr *a, char *const envp[]) { errno = ENOSYS; return -1; }
int vigil_spawnattr_set_dir(struct vigil_spawnattr *a, const char *dir) { errno = ENOSYS; return -1; }
int vigil_spawnattr_set_user(struct vigil_spawnattr *a, uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups) { errno = ENOSYS; return -1; }
int vigil_spawnattr_set_umask(struct vigil_spawnattr *a, mode_t mask) { errno = ENOSYS; return -1; }
int vigil_spawnattr_set_rlimit(struct vigil_spawnattr *a, int resource, rlim_t soft, rlim_t hard) { errno = ENOSYS; return -1; }
int vigil_spawnattr_set_fd(struct vigil_spawnattr *a, int child_fd, int parent_fd) { errno = ENOSYS; return -1; }
int vigil_spawnattr_set_flags(struct vigil_spawnattr *a, int flags) { errno = ENOSYS; return -1; }
int vigil_spawn(const struct vigil_spawnattr *a, pid_t *pidp, int *pidfdp) { errno = ENOSYS; return -1; }
const char *vigil_spawn_last_path(void) { return "none"; }
