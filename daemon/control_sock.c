/*
 * The control socket's file and its peers (see control.c for the rest).
 *
 * Creation is race-free: a lock file next to the socket (PATH.lock, an
 * flock held for vigild's life) says whether a vigild owns the path. With
 * the lock held, a socket left at the path is stale and is replaced; a
 * live one (another program that does not take our lock) or a file that
 * is not a socket is refused.
 *
 * Peers: root, vigild's own uid and members of socket_group (primary or
 * supplementary group, where the OS reports them) may control.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#ifdef __FreeBSD__
#include <sys/ucred.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "reexec.h"
#include "xmalloc.h"

#define CTL_BACKLOG		128
#define CTL_LOCK_TRIES		8

int			 ctl_listen_fd = -1;
static int		 lock_fd = -1;
static char		*sock_path, *lock_path;
static dev_t		 sock_dev;
static ino_t		 sock_ino;
static int		 has_group;
static gid_t		 sock_gid;

/* ---- the socket ----------------------------------------------------- */

/*
 * Take PATH.lock for the life of the process. Retried when the file was
 * replaced between our open and our lock (its owner removing it at exit).
 */
static int
control_lock(const char *path, char *err, size_t errlen)
{
	struct stat fst, pst;
	int fd, i;

	for (i = 0; i < CTL_LOCK_TRIES; i++) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
		if (fd == -1) {
			snprintf(err, errlen, "cannot open %s: %s", path,
			    strerror(errno));
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			close(fd);
			if (errno == EWOULDBLOCK)
				return -2;
			snprintf(err, errlen, "cannot lock %s: %s", path,
			    strerror(errno));
			return -1;
		}
		if (fstat(fd, &fst) == 0 && stat(path, &pst) == 0 &&
		    fst.st_dev == pst.st_dev && fst.st_ino == pst.st_ino)
			return fd;
		close(fd);
	}
	snprintf(err, errlen, "cannot lock %s: it keeps being replaced",
	    path);
	return -1;
}

/* Who listens on the socket at sun, if anyone: its pid, 0 if unknown. */
static int
control_probe(const struct sockaddr_un *sun, pid_t *pid)
{
	int fd, live;
#ifdef SO_PEERCRED
	struct ucred uc;
	socklen_t len = sizeof uc;
#endif

	*pid = 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return 0;
	live = connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0;
#ifdef SO_PEERCRED
	if (live && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0)
		*pid = uc.pid;
#endif
	close(fd);
	return live;
}

/* A new listening socket, close-on-exec and non-blocking. */
static int
control_socket(void)
{
	int fd;

#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
#else
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1 &&
	    (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)) {
		close(fd);
		fd = -1;
	}
#endif
	return fd;
}

/*
 * Bind and listen at sun with the configured mode and group. The umask
 * keeps the socket private between bind() and chmod(); nothing else runs
 * yet to be affected by it.
 */
static int
control_bind(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	const struct config *cf = vd.conf;
	struct stat st;
	mode_t old;
	int fd;

	if ((fd = control_socket()) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	if (bind(fd, (const struct sockaddr *)sun, sizeof *sun) == -1) {
		umask(old);
		snprintf(err, errlen, "cannot bind %s: %s", sun->sun_path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(sun->sun_path, cf->socket_mode) == -1 ||
	    (has_group && chown(sun->sun_path, (uid_t)-1, sock_gid) == -1) ||
	    listen(fd, CTL_BACKLOG) == -1 || lstat(sun->sun_path, &st) == -1) {
		snprintf(err, errlen, "control socket %s: %s%s%s",
		    sun->sun_path, strerror(errno),
		    has_group ? "; group " : "",
		    has_group ? cf->socket_group : "");
		unlink(sun->sun_path);
		close(fd);
		return -1;
	}
	sock_dev = st.st_dev;
	sock_ino = st.st_ino;
	return fd;
}

/*
 * Remove what is at the path before binding (the lock is ours): a stale
 * socket goes; a file that is not a socket, or a socket something still
 * answers on, stays and we refuse.
 */
static int
control_clear(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;
	pid_t pid;

	if (lstat(sun->sun_path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "control socket %s: %s", sun->sun_path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "control socket %s: exists and is not a "
		    "socket; not replacing it", sun->sun_path);
		return -1;
	}
	if (control_probe(sun, &pid)) {
		snprintf(err, errlen, "control socket %s is in use by another "
		    "process (pid %ld)", sun->sun_path, (long)pid);
		return -1;
	}
	log_info("control: replacing stale socket %s", sun->sun_path);
	if (unlink(sun->sun_path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale socket %s: %s",
		    sun->sun_path, strerror(errno));
		return -1;
	}
	return 0;
}

int
control_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	char buf[sizeof sun.sun_path];
	pid_t pid;
	int fd;

	if (path == NULL && (path = vd.conf->socket) == NULL &&
	    (path = config_default_socket(buf, sizeof buf)) == NULL) {
		snprintf(err, errlen, "the default control socket path is "
		    "too long");
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path) >=
	    sizeof sun.sun_path) {
		snprintf(err, errlen, "control socket path too long: %s",
		    path);
		return -1;
	}
	has_group = vd.conf->socket_group != NULL;
	sock_gid = vd.conf->socket_gid;
	xasprintf(&lock_path, "%s.lock", path);
	if ((lock_fd = control_lock(lock_path, err, errlen)) < 0) {
		if (lock_fd == -2) {
			control_probe(&sun, &pid);
			snprintf(err, errlen, "vigild is already running "
			    "(pid %ld, control socket %s)", (long)pid, path);
		}
		goto fail;
	}
	if (control_clear(&sun, err, errlen) == -1 ||
	    (fd = control_bind(&sun, err, errlen)) == -1) {
		unlink(lock_path);
		close(lock_fd);
		goto fail;
	}
	ctl_listen_fd = fd;
	sock_path = xstrdup(path);
	log_debug("control: listening on %s", path);
	return 0;
fail:
	lock_fd = -1;
	free(lock_path);
	lock_path = NULL;
	return -1;
}

/* ---- peer credentials ----------------------------------------------- */

/* The peer's uid, gid and pid (-1 if unknown); -1 if the OS cannot say. */
static int
peer_cred(int fd, uid_t *uid, gid_t *gid, pid_t *pid)
{
#if defined(SO_PEERCRED)
	struct ucred uc;
	socklen_t len = sizeof uc;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		return -1;
	*uid = uc.uid;
	*gid = uc.gid;
	*pid = uc.pid;
	return 0;
#elif defined(HAVE_GETPEEREID)
	*pid = -1;
	return getpeereid(fd, uid, gid);
#else
	errno = ENOTSUP;
	return -1;
#endif
}

/* Is gid among the peer's supplementary groups, where the OS says? */
static int
peer_in_group(int fd, gid_t gid)
{
#if defined(SO_PEERGROUPS)
	gid_t small[64], *g = small;
	socklen_t len = sizeof small;
	size_t i, n;
	int found = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == -1) {
		if (errno != ERANGE || len > 65536 * sizeof(gid_t))
			return 0;
		g = xmalloc(len);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == -1)
			len = 0;
	}
	n = len / sizeof(gid_t);
	for (i = 0; i < n && !found; i++)
		found = g[i] == gid;
	if (g != small)
		free(g);
	return found;
#elif defined(LOCAL_PEERCRED)
	struct xucred xu;
	socklen_t len = sizeof xu;
	int i;

	if (getsockopt(fd, 0, LOCAL_PEERCRED, &xu, &len) == -1 ||
	    xu.cr_version != XUCRED_VERSION)
		return 0;
	for (i = 0; i < xu.cr_ngroups; i++)
		if (xu.cr_groups[i] == gid)
			return 1;
	return 0;
#else
	(void)fd;
	(void)gid;
	return 0;
#endif
}

/*
 * May the peer control vigild? Root, our own uid, and socket_group by its
 * primary or a supplementary group. Where the OS cannot tell who the peer
 * is, the socket's mode is the only check.
 */
int
ctl_peer_allowed(int fd, uid_t *uid, pid_t *pid)
{
	gid_t gid;

	if (peer_cred(fd, uid, &gid, pid) == -1) {
		if (errno == ENOTSUP)
			return 1;
		log_warn("control: cannot get the peer's credentials");
		return 0;
	}
	if (*uid == 0 || *uid == geteuid())
		return 1;
	if (has_group && (gid == sock_gid || peer_in_group(fd, sock_gid)))
		return 1;
	return 0;
}

/*
 * A reload changed socket_mode or socket_group: apply them to the socket
 * (if it is still ours) and to the peer check, at once. On failure the
 * old ones stay, with a warning.
 */
void
control_set_perms(const struct config *ocf, const struct config *ncf)
{
	struct stat st;
	int ngroup = ncf->socket_group != NULL;
	gid_t gid = ngroup ? ncf->socket_gid : getegid();

	if (sock_path == NULL || (ocf->socket_mode == ncf->socket_mode &&
	    has_group == ngroup && (!ngroup || sock_gid == gid)))
		return;
	if (lstat(sock_path, &st) == -1 || st.st_dev != sock_dev ||
	    st.st_ino != sock_ino) {
		log_warnx("reload: control socket %s is not ours any more; "
		    "socket_mode and socket_group unchanged", sock_path);
		return;
	}
	if (chown(sock_path, (uid_t)-1, gid) == -1 ||
	    chmod(sock_path, ncf->socket_mode) == -1) {
		log_warn("reload: control socket %s: mode %04o, group %s",
		    sock_path, (unsigned int)ncf->socket_mode,
		    ngroup ? ncf->socket_group : "(none)");
		return;
	}
	has_group = ngroup;
	sock_gid = gid;
	log_info("control socket %s: mode %04o, group %s", sock_path,
	    (unsigned int)ncf->socket_mode,
	    ngroup ? ncf->socket_group : "(none)");
}

/* Remove the socket (if it is still ours) and the lock file. */
void
control_remove(void)
{
	struct stat st;

	if (sock_path != NULL && lstat(sock_path, &st) == 0 &&
	    st.st_dev == sock_dev && st.st_ino == sock_ino)
		unlink(sock_path);
	if (lock_path != NULL)
		unlink(lock_path);
	if (lock_fd != -1)
		close(lock_fd);
	lock_fd = -1;
	free(sock_path);
	free(lock_path);
	sock_path = lock_path = NULL;
}

/* ---- re-exec --------------------------------------------------------- */

/* The listening socket and the lock cross the exec, with their paths. */
void
control_save_sock(FILE *f)
{
	rx_begin(f, "ctl");
	rx_int(f, "listen", ctl_listen_fd);
	rx_int(f, "lock", lock_fd);
	rx_str(f, "path", sock_path);
	rx_str(f, "lock_path", lock_path);
	rx_finish(f);
	rx_keep_fd(ctl_listen_fd);
	rx_keep_fd(lock_fd);
}

void
control_restore(struct rx_rec *r)
{
	const char *v;
	struct stat st;

	ctl_listen_fd = (int)rx_getint(r, "listen", -1);
	lock_fd = (int)rx_getint(r, "lock", -1);
	rx_cloexec(ctl_listen_fd);
	rx_cloexec(lock_fd);
	if ((v = rx_get(r, "path", NULL)) != NULL)
		sock_path = xstrdup(v);
	if ((v = rx_get(r, "lock_path", NULL)) != NULL)
		lock_path = xstrdup(v);
	has_group = vd.conf->socket_group != NULL;
	sock_gid = vd.conf->socket_gid;
	if (sock_path != NULL && lstat(sock_path, &st) == 0) {
		sock_dev = st.st_dev;
		sock_ino = st.st_ino;
	}
}
