#define _GNU_SOURCE
// connect(fd, "/path") on an AF_UNIX stream socket (only with IPCSCOPE_INTERPOSE_CONNECT=1): the recorder
// connects to the path itself and relays between that connection and p1 of a fresh pair; p0 replaces fd.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "preload_internal.h"

enum route_result { ROUTED, FAILED_WITH_ERRNO, NOT_ROUTED };

// The largest errno value the kernel uses is far below this; anything above is not an errno.
#define LARGEST_PLAUSIBLE_ERRNO 4095

// Copies the named path of a sockaddr_un into `path` (NUL-terminated), made absolute against our cwd
// because the recorder resolves it from its own. 0 on success; -1 for abstract, unnamed or oversize names.
static int absolute_socket_path(const struct sockaddr *address, socklen_t length, char *path, size_t capacity) {
    const size_t path_offset = offsetof(struct sockaddr_un, sun_path);
    if (address == NULL || length <= path_offset || length > sizeof(struct sockaddr_un)) return -1;
    const struct sockaddr_un *unix_address = (const struct sockaddr_un *)address;
    if (unix_address->sun_family != AF_UNIX || unix_address->sun_path[0] == '\0') return -1;
    size_t name_length = strnlen(unix_address->sun_path, length - path_offset);

    size_t prefix_length = 0;
    if (unix_address->sun_path[0] != '/') {
        if (getcwd(path, capacity) == NULL) return -1;
        prefix_length = strlen(path);
        if (prefix_length == 0 || path[prefix_length - 1] != '/') {
            if (prefix_length + 1 >= capacity) return -1;
            path[prefix_length++] = '/';
        }
    }
    if (prefix_length + name_length >= capacity) return -1;
    memcpy(path + prefix_length, unix_address->sun_path, name_length);
    path[prefix_length + name_length] = '\0';
    return 0;
}

static int socket_option(int fd, int option) {
    int value = -1;
    socklen_t length = sizeof value;
    return getsockopt(fd, SOL_SOCKET, option, &value, &length) == 0 ? value : -1;
}

// An AF_UNIX stream socket that is neither listening, connected nor bound: replacing it with another
// socket loses nothing the program set up.
static int is_fresh_unix_stream_socket(int fd) {
    if (socket_option(fd, SO_DOMAIN) != AF_UNIX || socket_option(fd, SO_TYPE) != SOCK_STREAM) return 0;
    if (socket_option(fd, SO_ACCEPTCONN) != 0) return 0;
    struct sockaddr_un address;
    socklen_t length = sizeof address;
    if (getpeername(fd, (struct sockaddr *)&address, &length) == 0 || errno != ENOTCONN) return 0;
    length = sizeof address;
    if (getsockname(fd, (struct sockaddr *)&address, &length) != 0) return 0;
    return length <= sizeof(sa_family_t);
}

// Options a program may have set before connecting: carry them over to the socket that replaces fd.
static void copy_socket_options(int from, int to) {
    static const int int_options[] = { SO_SNDBUF, SO_RCVBUF, SO_PASSCRED };
    for (size_t i = 0; i < sizeof int_options / sizeof int_options[0]; i++) {
        int wanted = socket_option(from, int_options[i]);
        int current = socket_option(to, int_options[i]);
        if (wanted < 0 || wanted == current) continue;
        // The kernel doubles buffer sizes on set and reports the doubled value.
        int value = int_options[i] == SO_PASSCRED ? wanted : wanted / 2;
        setsockopt(to, SOL_SOCKET, int_options[i], &value, sizeof value);
    }
    static const int time_options[] = { SO_RCVTIMEO, SO_SNDTIMEO };
    for (size_t i = 0; i < sizeof time_options / sizeof time_options[0]; i++) {
        struct timeval value;
        socklen_t length = sizeof value;
        if (getsockopt(from, SOL_SOCKET, time_options[i], &value, &length) != 0) continue;
        if (value.tv_sec == 0 && value.tv_usec == 0) continue;
        setsockopt(to, SOL_SOCKET, time_options[i], &value, sizeof value);
    }
}

static enum route_result route_through_recorder(const char *control_path, int fd, const char *path,
                                                int *error) {
    int descriptor_flags = fcntl(fd, F_GETFD);
    int status_flags = fcntl(fd, F_GETFL);
    if (descriptor_flags < 0 || status_flags < 0) return NOT_ROUTED;

    int p[2];
    if (ipcs_real_socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0) return NOT_ROUTED;
    // Prepared before asking, so nothing can fail once the recorder has connected upstream.
    if (status_flags & O_NONBLOCK) {
        int own_flags = fcntl(p[0], F_GETFL);
        if (own_flags < 0 || fcntl(p[0], F_SETFL, own_flags | O_NONBLOCK) != 0) {
            close(p[0]);
            close(p[1]);
            return NOT_ROUTED;
        }
    }
    copy_socket_options(fd, p[0]);

    int32_t status = 0;
    int answered = ipcs_control_request(control_path, IPCSCOPE_KIND_CONNECT, 0, path, (uint32_t)strlen(path),
                                        &p[1], 1, &status);
    close(p[1]);
    // EINVAL is what the recorder says to a request it could not parse: do the call ourselves then.
    if (answered != 0 || status < 0 || status == EINVAL || status > LARGEST_PLAUSIBLE_ERRNO) {
        if (answered == 0) ipcs_debug("connect %s: recorder answered %d, connecting directly", path, (int)status);
        close(p[0]);
        return NOT_ROUTED;
    }
    if (status > 0) {
        close(p[0]);
        *error = status;
        return FAILED_WITH_ERRNO;
    }
    int dup_flags = (descriptor_flags & FD_CLOEXEC) ? O_CLOEXEC : 0;
    int attempts = 0;
    while (dup3(p[0], fd, dup_flags) < 0) {
        if ((errno == EINTR || errno == EBUSY) && ++attempts < 100) continue;
        close(p[0]);
        return NOT_ROUTED;
    }
    close(p[0]);
    return ROUTED;
}

IPCS_EXPORT int connect(int fd, const struct sockaddr *address, socklen_t length) {
    int saved_errno = errno;
    const char *control_path = ipcs_control_path();
    char path[IPCSCOPE_CONTROL_MAX_NAME + 1];
    if (control_path != NULL && ipcs_connect_interposition_enabled()
        && absolute_socket_path(address, length, path, sizeof path) == 0 && is_fresh_unix_stream_socket(fd)) {
        int error = 0;
        switch (route_through_recorder(control_path, fd, path, &error)) {
        case ROUTED:
            ipcs_debug("connect %s: fd %d relayed by the recorder", path, fd);
            errno = saved_errno;
            return 0;
        case FAILED_WITH_ERRNO:
            ipcs_debug("connect %s: %s (from the recorder)", path, strerror(error));
            errno = error;
            return -1;
        case NOT_ROUTED:
            break;
        }
    }
    errno = saved_errno;
    return ipcs_real_connect(fd, address, length);
}
