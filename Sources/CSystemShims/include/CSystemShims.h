#ifndef CSYSTEMSHIMS_H
#define CSYSTEMSHIMS_H
// What Swift cannot import from glibc: CMSG_* macros, _GNU_SOURCE-only calls, epoll and socket ioctls.
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <spawn.h>
#include <signal.h>

static inline struct cmsghdr *ipcs_CMSG_FIRSTHDR(struct msghdr *m) { return CMSG_FIRSTHDR(m); }
static inline struct cmsghdr *ipcs_CMSG_NXTHDR(struct msghdr *m, struct cmsghdr *c) { return CMSG_NXTHDR(m, c); }
static inline unsigned char *ipcs_CMSG_DATA(struct cmsghdr *c) { return CMSG_DATA(c); }
static inline size_t ipcs_CMSG_SPACE(size_t n) { return CMSG_SPACE(n); }
static inline size_t ipcs_CMSG_LEN(size_t n) { return CMSG_LEN(n); }

/// struct ucred, a _GNU_SOURCE type: the process and ids an SCM_CREDENTIALS message carries.
struct ipcs_ucred { int32_t pid; uint32_t uid; uint32_t gid; };
/// SCM_CREDENTIALS and SO_PASSCRED (the former is _GNU_SOURCE only).
#define IPCS_SCM_CREDENTIALS 2
#define IPCS_SO_PASSCRED 16
/// Control room for one SCM_CREDENTIALS message followed by one SCM_RIGHTS message of `fds` fds.
size_t ipcs_control_space(int credentials, size_t fds);
/// Writes into `control` an SCM_CREDENTIALS message (when `credentials` is not NULL) followed by an
/// SCM_RIGHTS message (when `count` > 0). Returns the msg_controllen to send, or 0 when `capacity` is too
/// small. No allocation: the relay builds one for every chunk it forwards.
size_t ipcs_build_control(void *control, size_t capacity, const struct ipcs_ucred *credentials,
                          const int *fds, size_t count);

/// Bytes queued in the socket's send queue (SIOCOUTQ: kernel skb memory, not payload bytes), or -1.
int ipcs_siocoutq(int fd);
/// Bytes readable without blocking (FIONREAD), or -1.
int ipcs_fionread(int fd);
/// memfd seals, or -1 when fd is not a memfd (used to tell a memfd from a regular file).
int ipcs_get_seals(int fd);
int ipcs_memfd_create(const char *name, unsigned int flags);
int ipcs_peercred(int fd, pid_t *pid, uid_t *uid, gid_t *gid);
int ipcs_pipe2(int fds[2], int flags);
int ipcs_accept4(int fd, int flags);
int ipcs_spawn_addclosefrom(posix_spawn_file_actions_t *fa, int from);
/// Empty signal mask and default dispositions for the child (Swift Testing threads block most signals).
int ipcs_spawnattr_reset_signals(posix_spawnattr_t *attr);
int ipcs_pthread_setname(unsigned long thread, const char *name);
/// WIFEXITED/WEXITSTATUS/WIFSIGNALED/WTERMSIG are macros.
int ipcs_wifexited(int status);
int ipcs_wexitstatus(int status);
int ipcs_wifsignaled(int status);
int ipcs_wtermsig(int status);

/// poll's POLLRDHUP (the peer stopped sending), which needs _GNU_SOURCE.
#define IPCS_POLLRDHUP 0x2000

#define IPCS_MFD_CLOEXEC 1U
#define IPCS_MFD_ALLOW_SEALING 2U

/// libFuzzer's driver entry point; defined only when linked with -sanitize=fuzzer (see docs/fuzzing.md).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

/// CRC-32C with the SSE4.2 `crc32` instruction (TraceFormat's record checksum). Raw register update:
/// no pre/post inversion. Call only when ipcs_crc32c_hardware_available() returned 1.
uint32_t ipcs_crc32c_update(uint32_t crc, const void *data, size_t count);
/// 1 when the CPU has SSE4.2 (x86_64 only), else 0.
int ipcs_crc32c_hardware_available(void);

/// Guards a read-only file mapping against the file shrinking under it: a SIGBUS inside it maps zero pages
/// over the lost part instead of killing the process (see guarded_mappings.c). Returns a slot for the calls
/// below, or -1 when the mapping could not be guarded (it still works, unguarded).
int ipcs_guard_mapping(const void *start, size_t length);
/// Stops guarding; call before munmap.
void ipcs_unguard_mapping(int slot);
/// Faults answered with zero pages inside the slot's mapping: non-zero means the file shrank while mapped.
unsigned long ipcs_guarded_faults(int slot);

/// Trace files (TraceFormat's writer). fallocate(FALLOC_FL_KEEP_SIZE): reserves disk blocks past the end
/// without changing the size readers see. Returns 0 or -1 with errno.
int ipcs_fallocate_keep_size(int fd, int64_t offset, int64_t length);
/// The soft RLIMIT_FSIZE in bytes, or -1 when there is none (RLIM_INFINITY) or it cannot be read.
int64_t ipcs_file_size_limit(void);
/// The symbolic name of an errno value ("ENOSPC"), or NULL when glibc does not know it.
const char *ipcs_errno_name(int error);

/// Endpoint identity (Recorder): the inode of the peer of the AF_UNIX socket with inode `inode`, through
/// NETLINK_SOCK_DIAG as `ss -x` finds it; 0 when unknown.
uint64_t ipcs_unix_peer_inode(uint64_t inode);

#endif
