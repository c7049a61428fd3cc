#define _GNU_SOURCE
// An unmodified C program that talks LibIPC over a socketpair shared with a forked child, for
// `ipcscope record -- LibIPCForkFixture` (it must work the same with and without the interposer).
//   LibIPCForkFixture [N] [--manifest]
// Parent and child each send N (default 50) payload frames with a real envelope (endpoint magic,
// message id, parameters); some carry 1–3 fds (pipes and sealed memfds, each holding a marker).
// Each side checks every frame byte for byte against what the other must have sent, reads the marker
// through every received fd, acknowledges fds after each read pass, and checks that the peer's acks
// bring its own retained fds back to 0. --manifest prints one line per frame sent:
//   frame <parent|child> <index> size=<payload bytes> fds=<kind,kind|-> fnv=<FNV-1a 64 of the payload>
// Prints "fork fixture ok: sent S frames, F fds" (both directions) and exits 0 only if every check
// passed in both processes; otherwise "fixture failed [...]: why" on stderr and exit 1.
#include "libipc_lite.h"

#define MAX_PLANNED_FDS 3

static const char *side_name(int side) { return side == 0 ? "parent" : "child"; }

typedef struct {
    int kinds[MAX_PLANNED_FDS];
    uint32_t count;
} fd_plan;

// Which fds frame `index` of `side` carries.
static fd_plan plan_fds(int side, int index) {
    int j = index + side * 2;
    fd_plan plan = { { 0 }, 0 };
    if (j % 11 == 7) {
        plan.kinds[0] = LL_FD_MEMFD;
        plan.kinds[1] = LL_FD_PIPE;
        plan.kinds[2] = LL_FD_PIPE;
        plan.count = 3;
    } else if (j % 5 == 1) {
        plan.kinds[0] = LL_FD_PIPE;
        plan.count = 1;
    } else if (j % 5 == 3) {
        plan.kinds[0] = LL_FD_PIPE;
        plan.kinds[1] = LL_FD_MEMFD;
        plan.count = 2;
    }
    return plan;
}

static uint32_t blob_length(int side, int index) {
    // Every tenth frame is larger than TransportSocket's 4096-byte chunks.
    return index % 10 == 9 ? 6000u + 37u * (uint32_t)index : (uint32_t)(index * 13 + side * 5) % 200u;
}

// The payload of frame `index` from `side`. The parent sends requests to the child's endpoint, the
// child async messages to the parent's (docs/protocol.md §3.1).
static void build_payload(ll_buffer *payload, int side, int index) {
    payload->count = 0;
    uint32_t magic = ll_endpoint_magic(side == 0 ? "ForkFixtureServer" : "ForkFixtureClient");
    ll_encode_envelope(payload, magic, 1 + index % 6);
    ll_encode_u32(payload, (uint32_t)index);
    char text[64];
    snprintf(text, sizeof text, "frame %d from the %s", index, side_name(side));
    ll_encode_string(payload, text);
    ll_encode_u32(payload, plan_fds(side, index).count);
    uint32_t length = blob_length(side, index);
    ll_encode_u32(payload, length);
    for (uint32_t k = 0; k < length; k++) ll_encode_u8(payload, (uint8_t)(index * 7 + side + k));
    ll_encode_u8(payload, (uint8_t)(index & 1));
}

static void marker(char *out, size_t size, int side, int index, uint32_t k) {
    snprintf(out, size, "fd %u of frame %d from the %s", k, index, side_name(side));
}

typedef struct {
    int peer;        // the side whose frames we receive
    int next;        // index of the next frame expected from it
    int count;       // how many it sends
    ll_buffer expected;
} receiver_state;

static void check_frame(ll_connection *connection, ll_message *message, void *context) {
    receiver_state *state = context;
    if (state->next >= state->count)
        ll_fail("%s: frame %d from the %s, only %d expected", connection->name, state->next, side_name(state->peer), state->count);
    build_payload(&state->expected, state->peer, state->next);
    if (message->size != state->expected.count || memcmp(message->payload, state->expected.bytes, message->size) != 0)
        ll_fail("frame %d from the %s: %u bytes that differ from the %zu sent", state->next, side_name(state->peer),
                message->size, state->expected.count);
    fd_plan plan = plan_fds(state->peer, state->next);
    if (message->fd_count != plan.count)
        ll_fail("frame %d from the %s came with %u fds, %u sent", state->next, side_name(state->peer), message->fd_count, plan.count);
    for (uint32_t k = 0; k < plan.count; k++) {
        char expected[96];
        marker(expected, sizeof expected, state->peer, state->next, k);
        ll_expect_marker_fd(message->fds[k], plan.kinds[k], expected);
    }
    state->next++;
}

// One side of the exchange; returns the fds it sent.
static unsigned run_side(int socket, int side, int count, int manifest) {
    ll_role = side_name(side);
    ll_connection connection;
    ll_connection_init(&connection, socket, side_name(side));
    receiver_state state = { .peer = 1 - side, .next = 0, .count = count };
    ll_buffer payload = { 0 };
    double deadline = ll_now() + LL_DEADLINE_SECONDS;
    int sent = 0;
    while (sent < count || state.next < count) {
        if (ll_now() > deadline) ll_fail("timed out: sent %d, received %d of %d", sent, state.next, count);
        // Keep a few frames in flight so the two directions and the acks interleave.
        if (sent < count && connection.queue_count < 4) {
            build_payload(&payload, side, sent);
            fd_plan plan = plan_fds(side, sent);
            int fds[MAX_PLANNED_FDS];
            char kinds[64] = "-";
            size_t used = 0;
            for (uint32_t k = 0; k < plan.count; k++) {
                char text[96];
                marker(text, sizeof text, side, sent, k);
                fds[k] = ll_make_marker_fd(plan.kinds[k], text);
                used += (size_t)snprintf(kinds + used, sizeof kinds - used, "%s%s", k ? "," : "", ll_fd_kind_name(plan.kinds[k]));
            }
            if (manifest)
                ll_say("frame %s %d size=%zu fds=%s fnv=%016llx\n", side_name(side), sent, payload.count, kinds,
                       (unsigned long long)ll_fnv1a64(payload.bytes, payload.count));
            ll_post(&connection, &payload, fds, plan.count);
            sent++;
            if (sent % 3 != 0) continue; // post in small bursts
        }
        ll_pump(&connection, 100, check_frame, &state);
        if (connection.peer_eof && state.next < count)
            ll_fail("EOF after %d of %d frames from the %s", state.next, count, side_name(state.peer));
    }
    unsigned fds_sent = connection.fds_sent;
    unsigned fds_received = connection.fds_received;
    ll_finish(&connection);
    if (connection.frames_sent != (unsigned)count || connection.frames_received != (unsigned)count)
        ll_fail("sent %u and received %u frames, expected %d each", connection.frames_sent, connection.frames_received, count);
    if (connection.fds_acknowledged_by_peer != fds_sent)
        ll_fail("the %s acknowledged %u of our %u fds", side_name(state.peer), connection.fds_acknowledged_by_peer, fds_sent);
    if (connection.fds_acknowledged_by_us != fds_received)
        ll_fail("we acknowledged %u of %u received fds", connection.fds_acknowledged_by_us, fds_received);
    free(payload.bytes);
    free(state.expected.bytes);
    return fds_sent;
}

int main(int argc, char **argv) {
    int count = 50;
    int manifest = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--manifest") == 0) {
            manifest = 1;
        } else {
            char *end = NULL;
            long value = strtol(argv[i], &end, 10);
            if (end == argv[i] || *end != '\0' || value < 1 || value > 100000) ll_fail("bad frame count \"%s\"", argv[i]);
            count = (int)value;
        }
    }
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) ll_fail("socketpair: %s", strerror(errno));
    pid_t child = fork();
    if (child < 0) ll_fail("fork: %s", strerror(errno));
    if (child == 0) {
        close(pair[0]);
        run_side(pair[1], 1, count, manifest);
        _exit(0);
    }
    close(pair[1]);
    unsigned parent_fds = run_side(pair[0], 0, count, manifest);
    ll_role = "parent";
    ll_expect_child_ok(child, "the child");
    unsigned child_fds = 0;
    for (int index = 0; index < count; index++) child_fds += plan_fds(1, index).count;
    ll_say("fork fixture ok: sent %d frames, %u fds\n", 2 * count, parent_fds + child_fds);
    return 0;
}
