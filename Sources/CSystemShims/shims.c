#define _GNU_SOURCE
#include "CSystemShims.h"
#include <fcntl.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/sockios.h>
#include <unistd.h>

int ipcs_siocoutq(int fd) { int v = 0; return ioctl(fd, SIOCOUTQ, &v) == 0 ? v : -1; }
int ipcs_fionread(int fd) { int v = 0; return ioctl(fd, FIONREAD, &v) == 0 ? v : -1; }
int ipcs_get_seals(int fd) { return fcntl(fd, F_GET_SEALS); }
int ipcs_memfd_create(const char *name, unsigned int flags) { return memfd_create(name, flags); }
int ipcs_peercred(int fd, pid_t *pid, uid_t *uid, gid_t *gid) {
    struct ucred cred; socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    *pid = cred.pid; *uid = cred.uid; *gid = cred.gid;
    return 0;
}
int ipcs_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
int ipcs_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }
int ipcs_spawn_addclosefrom(posix_spawn_file_actions_t *fa, int from) {
    return posix_spawn_file_actions_addclosefrom_np(fa, from);
}
int ipcs_spawnattr_reset_signals(posix_spawnattr_t *attr) {
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    int rc = posix_spawnattr_setsigmask(attr, &empty);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(attr, &all);
    if (rc == 0) rc = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    return rc;
}
int ipcs_pthread_setname(unsigned long thread, const char *name) { return pthread_setname_np((pthread_t)thread, name); }
int ipcs_wifexited(int status) { return WIFEXITED(status); }
int ipcs_wexitstatus(int status) { return WEXITSTATUS(status); }
int ipcs_wifsignaled(int status) { return WIFSIGNALED(status); }
int ipcs_wtermsig(int status) { return WTERMSIG(status); }
