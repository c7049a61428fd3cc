#define _GNU_SOURCE
// Opt-in diagnostics (IPCSCOPE_DEBUG=1): one write(2) per line, no stdio streams, errno kept.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "preload_internal.h"

void ipcs_debug(const char *format, ...) {
    int saved_errno = errno;
    const char *enabled = getenv(IPCSCOPE_ENV_DEBUG);
    if (enabled == NULL || strcmp(enabled, "1") != 0) {
        errno = saved_errno;
        return;
    }
    char line[512];
    int length = snprintf(line, sizeof line, "ipcscope-preload[%d]: ", (int)getpid());
    if (length < 0) length = 0;
    va_list arguments;
    va_start(arguments, format);
    int body = vsnprintf(line + length, sizeof line - (size_t)length - 1, format, arguments);
    va_end(arguments);
    if (body > 0) length += body;
    if (length > (int)sizeof line - 2) length = (int)sizeof line - 2;
    line[length++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, (size_t)length);
    (void)ignored;
    errno = saved_errno;
}
