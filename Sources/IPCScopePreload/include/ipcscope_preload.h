#ifndef IPCSCOPE_PRELOAD_H
#define IPCSCOPE_PRELOAD_H
// The LD_PRELOAD interposer behind `ipcscope record`. Load it ONLY through LD_PRELOAD: no target may
// depend on IPCScopePreload, or its socketpair()/connect() would be linked into (and interpose) that
// binary itself. The recorder side of the protocol lives in Sources/Recorder/Control (Swift);
// docs/control-protocol.md describes both.

// Environment variables the interposer reads.
#define IPCSCOPE_ENV_CONTROL "IPCSCOPE_CONTROL"                    // control socket path; unset = off
#define IPCSCOPE_ENV_INTERPOSE_CONNECT "IPCSCOPE_INTERPOSE_CONNECT" // "1" = also route connect()
#define IPCSCOPE_ENV_DEBUG "IPCSCOPE_DEBUG"                        // "1" = one stderr line per decision

// Control protocol, version 1 (little-endian on the wire).
#define IPCSCOPE_CONTROL_MAGIC 0x53435049u // "IPCS"
#define IPCSCOPE_CONTROL_VERSION 1
#define IPCSCOPE_CONTROL_HEADER_SIZE 20 // u32 magic, u16 version, u16 kind, i32 pid, i32 flags, u32 name length
#define IPCSCOPE_CONTROL_REPLY_SIZE 8   // u32 magic, i32 status
#define IPCSCOPE_CONTROL_MAX_NAME 4096
#define IPCSCOPE_CONTROL_TIMEOUT_MS 2000

enum ipcscope_control_kind {
    IPCSCOPE_KIND_SOCKETPAIR = 1, // fds: the two recorder-side ends; flags: SOCK_CLOEXEC|SOCK_NONBLOCK asked for
    IPCSCOPE_KIND_CONNECT = 2,    // fd: the recorder-side end; name: absolute socket path
    IPCSCOPE_KIND_TAKEOVER = 3,   // fds: program side, real socket; name: SOCKET_TAKEOVER endpoint name
    IPCSCOPE_KIND_ATTACH = 4,     // reserved
};

// Reply status: 0 = accepted (the recorder relays), > 0 = an errno value, -1 = declined (do the call yourself).
#define IPCSCOPE_STATUS_ACCEPTED 0
#define IPCSCOPE_STATUS_DECLINED (-1)

#endif
