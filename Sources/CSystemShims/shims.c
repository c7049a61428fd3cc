#define _GNU_SOURCE
#include "CSystemShims.h"
#include <fcntl.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <linux/sockios.h>
#include <string.h>
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
_Static_assert(sizeof(struct ipcs_ucred) == sizeof(struct ucred), "struct ucred layout");
_Static_assert(IPCS_SCM_CREDENTIALS == SCM_CREDENTIALS, "SCM_CREDENTIALS");
_Static_assert(IPCS_SO_PASSCRED == SO_PASSCRED, "SO_PASSCRED");

size_t ipcs_control_space(int credentials, size_t fds) {
    return (credentials ? CMSG_SPACE(sizeof(struct ucred)) : 0) + (fds > 0 ? CMSG_SPACE(sizeof(int) * fds) : 0);
}

size_t ipcs_build_control(void *control, size_t capacity, const struct ipcs_ucred *credentials,
                          const int *fds, size_t count) {
    size_t needed = ipcs_control_space(credentials != NULL, count);
    if (needed == 0 || needed > capacity) return 0;
    memset(control, 0, needed);
    unsigned char *cursor = control;
    size_t length = 0;
    if (credentials != NULL) {
        struct cmsghdr *header = (struct cmsghdr *)cursor;
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_CREDENTIALS;
        header->cmsg_len = CMSG_LEN(sizeof(struct ucred));
        memcpy(CMSG_DATA(header), credentials, sizeof(struct ucred));
        // The last message ends at its CMSG_LEN, as a lone SCM_RIGHTS always has (LibCore does the same).
        length = count > 0 ? CMSG_SPACE(sizeof(struct ucred)) : CMSG_LEN(sizeof(struct ucred));
        cursor += CMSG_SPACE(sizeof(struct ucred));
    }
    if (count > 0) {
        struct cmsghdr *header = (struct cmsghdr *)cursor;
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * count);
        memcpy(CMSG_DATA(header), fds, sizeof(int) * count);
        length += CMSG_LEN(sizeof(int) * count);
    }
    return length;
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
#include <poll.h>
_Static_assert(IPCS_POLLRDHUP == POLLRDHUP, "poll flag");
int ipcs_wifexited(int status) { return WIFEXITED(status); }
int ipcs_wexitstatus(int status) { return WEXITSTATUS(status); }
int ipcs_wifsignaled(int status) { return WIFSIGNALED(status); }
int ipcs_wtermsig(int status) { return WTERMSIG(status); }

// CRC-32C for TraceFormat: the SSE4.2 crc32 instruction, 8 bytes per step, with a runtime CPU check.
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
// Long buffers (a stored index) run three streams at once: the instruction's latency is 3 cycles and its
// throughput 1 per cycle, so one stream uses a third of it. The streams' registers are joined by shifting
// (multiplying by x^(8*length) mod P, as zlib's crc32_combine does): the register update is linear.
#define CRC32C_POLY 0x82F63B78u
#define CRC32C_STREAM 4096
static uint32_t crc32c_multmodp(uint32_t a, uint32_t b) {
    uint32_t m = 1u << 31, p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0) break;
        }
        m >>= 1;
        b = b & 1 ? (b >> 1) ^ CRC32C_POLY : b >> 1;
    }
    return p;
}
// x^(8*bytes) mod P, by squaring (x^1 is 1 << 30 in the reflected form).
static uint32_t crc32c_shift_of(size_t bytes) {
    uint32_t result = 1u << 31, square = 1u << 30;
    uint64_t n = (uint64_t)bytes * 8;
    while (n) {
        if (n & 1) result = crc32c_multmodp(square, result);
        square = crc32c_multmodp(square, square);
        n >>= 1;
    }
    return result;
}
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const unsigned char *p, size_t n) {
    uint64_t c = crc;
    if (n >= 3 * CRC32C_STREAM) {
        uint32_t shift1 = crc32c_shift_of(CRC32C_STREAM), shift2 = crc32c_shift_of(2 * CRC32C_STREAM);
        while (n >= 3 * CRC32C_STREAM) {
            uint64_t c0 = c, c1 = 0, c2 = 0;
            for (size_t i = 0; i < CRC32C_STREAM; i += 8) {
                uint64_t w0, w1, w2;
                memcpy(&w0, p + i, 8);
                memcpy(&w1, p + CRC32C_STREAM + i, 8);
                memcpy(&w2, p + 2 * CRC32C_STREAM + i, 8);
                c0 = __builtin_ia32_crc32di(c0, w0);
                c1 = __builtin_ia32_crc32di(c1, w1);
                c2 = __builtin_ia32_crc32di(c2, w2);
            }
            c = crc32c_multmodp(shift2, (uint32_t)c0) ^ crc32c_multmodp(shift1, (uint32_t)c1) ^ (uint32_t)c2;
            p += 3 * CRC32C_STREAM;
            n -= 3 * CRC32C_STREAM;
        }
    }
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = __builtin_ia32_crc32di(c, word);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif
uint32_t ipcs_crc32c_update(uint32_t crc, const void *data, size_t count) {
#if defined(__x86_64__)
    return crc32c_sse42(crc, (const unsigned char *)data, count);
#else
    (void)data; (void)count;
    return crc;
#endif
}
int ipcs_crc32c_hardware_available(void) {
#if defined(__x86_64__)
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_SSE4_2) != 0;
#else
    return 0;
#endif
}

int ipcs_fallocate_keep_size(int fd, int64_t offset, int64_t length) {
    return fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length);
}
int64_t ipcs_file_size_limit(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_FSIZE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return -1;
    return limit.rlim_cur > INT64_MAX ? -1 : (int64_t)limit.rlim_cur;
}
const char *ipcs_errno_name(int error) { return strerrorname_np(error); }
