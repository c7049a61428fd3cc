#define _GNU_SOURCE
// socketpair(AF_UNIX, SOCK_STREAM, 0): the program gets {x0, y0} from two real pairs X and Y; the
// recorder gets x1 and y1 and relays between them, so every byte and fd between x0 and y0 passes it.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "preload_internal.h"

static const int caller_flag_bits = SOCK_CLOEXEC | SOCK_NONBLOCK;

static int is_unix_stream_request(int domain, int type, int protocol) {
    return domain == AF_UNIX && (type & ~caller_flag_bits) == SOCK_STREAM && protocol == 0;
}

static void close_pair(const int pair[2]) {
    close(pair[0]);
    close(pair[1]);
}

// Gives `fd` the flags the caller asked for. Our ends start close-on-exec so they cannot leak into a
// program another thread execs while we wait for the recorder.
static int apply_caller_flags(int fd, int type) {
    if (!(type & SOCK_CLOEXEC) && fcntl(fd, F_SETFD, 0) != 0) return -1;
    if (type & SOCK_NONBLOCK) {
        int status_flags = fcntl(fd, F_GETFL);
        if (status_flags < 0 || fcntl(fd, F_SETFL, status_flags | O_NONBLOCK) != 0) return -1;
    }
    return 0;
}

// 0 with sv filled when the recorder took the far ends; -1 after closing everything otherwise.
static int route_through_recorder(const char *control_path, int type, int sv[2]) {
    int x[2], y[2];
    if (ipcs_real_socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, x) != 0) return -1;
    if (ipcs_real_socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, y) != 0) {
        close_pair(x);
        return -1;
    }
    const int far_ends[2] = { x[1], y[1] };
    // The program's ends' inodes let the recorder recognise them when they travel as attachments.
    char inodes[48] = "";
    struct stat x_info, y_info;
    int named = 0;
    if (fstat(x[0], &x_info) == 0 && fstat(y[0], &y_info) == 0) {
        named = snprintf(inodes, sizeof inodes, "%llu %llu",
                         (unsigned long long)x_info.st_ino, (unsigned long long)y_info.st_ino);
        if (named < 0 || (size_t)named >= sizeof inodes) named = 0;
    }
    int32_t status = 0;
    int answered = ipcs_control_request(control_path, IPCSCOPE_KIND_SOCKETPAIR, type & caller_flag_bits,
                                        named > 0 ? inodes : NULL, (uint32_t)named, far_ends, 2, &status);
    // The recorder holds its own copies now (or never will): ours are no longer needed either way.
    close(x[1]);
    close(y[1]);
    if (answered != 0 || status != IPCSCOPE_STATUS_ACCEPTED) {
        if (answered == 0) ipcs_debug("socketpair: recorder answered %d, using a direct pair", (int)status);
        close(x[0]);
        close(y[0]);
        return -1;
    }
    if (apply_caller_flags(x[0], type) != 0 || apply_caller_flags(y[0], type) != 0) {
        close(x[0]);
        close(y[0]);
        return -1;
    }
    sv[0] = x[0];
    sv[1] = y[0];
    ipcs_debug("socketpair: {%d, %d} relayed by the recorder", sv[0], sv[1]);
    return 0;
}

IPCS_EXPORT int socketpair(int domain, int type, int protocol, int sv[2]) {
    int saved_errno = errno;
    const char *control_path = ipcs_control_path();
    if (control_path != NULL && sv != NULL && is_unix_stream_request(domain, type, protocol)) {
        if (route_through_recorder(control_path, type, sv) == 0) {
            errno = saved_errno;
            return 0;
        }
        ipcs_debug("socketpair: not recorded, falling back to the real call");
        errno = saved_errno;
    }
    return ipcs_real_socketpair(domain, type, protocol, sv);
}
