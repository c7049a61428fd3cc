#ifndef IPCSCOPE_PRELOAD_INTERNAL_H
#define IPCSCOPE_PRELOAD_INTERNAL_H
// Helpers shared by the interposer's files. Everything declared here is hidden: the only symbols the
// library exports are the interposed libc functions.
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "ipcscope_preload.h"

#pragma GCC visibility push(hidden)

// The next definitions of the interposed calls (libc's), looked up once with dlsym(RTLD_NEXT).
// They fall back to the raw system call if the lookup fails, so they never call back into us.
int ipcs_real_socketpair(int domain, int type, int protocol, int sv[2]);
int ipcs_real_connect(int fd, const struct sockaddr *address, socklen_t length);

// The control socket path from IPCSCOPE_CONTROL, or NULL when unset or empty.
const char *ipcs_control_path(void);
// True when IPCSCOPE_INTERPOSE_CONNECT is "1".
int ipcs_connect_interposition_enabled(void);

// One request on a fresh control connection: sends the header, `name` and `fds` (borrowed), waits up to
// IPCSCOPE_CONTROL_TIMEOUT_MS for the reply. Returns 0 and sets *status when the recorder answered,
// -1 when it could not be reached, timed out or answered garbage. Preserves nothing about errno.
int ipcs_control_request(const char *control_path, uint16_t kind, int32_t flags,
                         const char *name, uint32_t name_length,
                         const int *fds, int fd_count, int32_t *status);

// One line to stderr ("ipcscope-preload[pid]: ...") when IPCSCOPE_DEBUG=1. Keeps errno.
void ipcs_debug(const char *format, ...) __attribute__((format(printf, 1, 2)));

#pragma GCC visibility pop

#define IPCS_EXPORT __attribute__((visibility("default")))

#endif
