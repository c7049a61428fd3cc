#define _GNU_SOURCE
// The environment variables that switch the interposer on. Read on every call (getenv does not
// allocate), so a program that edits its environment gets what it asked for.
#include <stdlib.h>
#include <string.h>
#include "preload_internal.h"

const char *ipcs_control_path(void) {
    const char *path = getenv(IPCSCOPE_ENV_CONTROL);
    return (path != NULL && path[0] != '\0') ? path : NULL;
}

int ipcs_connect_interposition_enabled(void) {
    const char *value = getenv(IPCSCOPE_ENV_INTERPOSE_CONNECT);
    return value != NULL && strcmp(value, "1") == 0;
}
