#define _GNU_SOURCE
#include "CSystemShims.h"
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The inode of the peer of the AF_UNIX socket whose inode is `inode`, as `ss -x` finds it: one
 * NETLINK_SOCK_DIAG request for that socket with UDIAG_SHOW_PEER. 0 when not found (no peer, or the
 * kernel has no unix_diag). Bounded: one request, one reply of at most 8 KiB, a 1 s receive timeout. */
uint64_t ipcs_unix_peer_inode(uint64_t inode) {
    if (inode == 0 || inode > UINT32_MAX) return 0;
    int sock = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (sock < 0) return 0;
    struct timeval timeout = { .tv_sec = 1, .tv_usec = 0 };
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    struct {
        struct nlmsghdr header;
        struct unix_diag_req request;
    } message;
    memset(&message, 0, sizeof message);
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST;
    message.request.sdiag_family = AF_UNIX;
    message.request.udiag_states = (uint32_t)-1;
    message.request.udiag_ino = (uint32_t)inode;
    message.request.udiag_show = UDIAG_SHOW_PEER;
    message.request.udiag_cookie[0] = (uint32_t)-1;  /* INET_DIAG_NOCOOKIE: no cookie check */
    message.request.udiag_cookie[1] = (uint32_t)-1;
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    ssize_t sent;
    do {
        sent = sendto(sock, &message, sizeof message, 0, (struct sockaddr *)&kernel, sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    if (sent != (ssize_t)sizeof message) { close(sock); return 0; }
    _Alignas(struct nlmsghdr) char buffer[8192];
    ssize_t length;
    do {
        length = recv(sock, buffer, sizeof buffer, 0);
    } while (length < 0 && errno == EINTR);
    close(sock);
    uint64_t peer = 0;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buffer; length > 0 && NLMSG_OK(h, (size_t)length);
         h = NLMSG_NEXT(h, length)) {
        if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) break;  /* NLMSG_ERROR or NLMSG_DONE */
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg))) break;
        struct unix_diag_msg *reply = NLMSG_DATA(h);
        if (reply->udiag_ino != (uint32_t)inode) continue;
        int attributes = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *reply));
        for (struct rtattr *a = (struct rtattr *)(reply + 1); RTA_OK(a, attributes); a = RTA_NEXT(a, attributes)) {
            if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
                uint32_t value;
                memcpy(&value, RTA_DATA(a), sizeof value);
                peer = value;
            }
        }
        break;
    }
    return peer;
}
