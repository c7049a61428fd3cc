#define _GNU_SOURCE
// An unmodified C program that hands a LibIPC transport from one process to another, the way Ladybird
// passes a TransportHandle inside a message, for `ipcscope record -- LibIPCHandoffFixture`.
//   LibIPCHandoffFixture [M] [--manifest]
// The parent creates socketpairs A and B, forks child 2 holding B[1] and child 1 holding A[1], then
// sends B[0] to child 1 over A in a LibIPC frame (1 fd, payload = envelope + a name) and closes its
// copy once child 1 acknowledges it. Child 1 checks it got a socket and makes M (default 20) sync-style
// requests to child 2 directly over B; child 2 answers each (request id + 1, the server's magic); some
// requests carry a pipe, some responses a memfd. Child 1 then reports to the parent over A. Every
// process checks every frame and fd it receives. --manifest prints one line per frame sent:
//   frame <A|B> <parent|child1|child2> <index> size=<payload bytes> fds=<kind,kind|-> fnv=<FNV-1a 64>
// Prints "handoff fixture ok" and exits 0 only when all three processes passed their checks.
#include "../LibIPCForkFixture/libipc_lite.h"

#define HANDOFF_MESSAGE_ID 7
#define REPORT_MESSAGE_ID 8

static int manifest = 0;
static int request_count = 20;

static void note_sent(const char *channel, const char *sender, int index, const ll_buffer *payload,
                      const int *kinds, uint32_t fd_count) {
    if (!manifest) return;
    char names[64] = "-";
    size_t used = 0;
    for (uint32_t k = 0; k < fd_count; k++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", k ? "," : "", ll_fd_kind_name(kinds[k]));
    ll_say("frame %s %s %d size=%zu fds=%s fnv=%016llx\n", channel, sender, index, payload->count, names,
           (unsigned long long)ll_fnv1a64(payload->bytes, payload->count));
}

static void expect_payload(const ll_message *message, const ll_buffer *expected, const char *what) {
    if (message->size != expected->count || memcmp(message->payload, expected->bytes, message->size) != 0)
        ll_fail("%s: %u bytes that differ from the %zu expected", what, message->size, expected->count);
}

// MARK: messages

static void build_handoff(ll_buffer *payload) {
    payload->count = 0;
    ll_encode_envelope(payload, ll_endpoint_magic("HandoffClient"), HANDOFF_MESSAGE_ID);
    ll_encode_string(payload, "transport to child 2");
}

static void build_report(ll_buffer *payload, uint32_t responses, uint32_t fds_received) {
    payload->count = 0;
    ll_encode_envelope(payload, ll_endpoint_magic("HandoffServer"), REPORT_MESSAGE_ID);
    ll_encode_u32(payload, responses);
    ll_encode_u32(payload, fds_received);
}

static uint32_t request_fds(int index) { return index % 4 == 1 ? 1 : 0; }
static uint32_t response_fds(int index) { return index % 6 == 2 ? 1 : 0; }

// Request `index` (child 1 → child 2) or its response (id + 1, the same endpoint magic).
static void build_exchange(ll_buffer *payload, int index, int response) {
    payload->count = 0;
    int32_t request_id = 1 + 2 * (index % 3);
    ll_encode_envelope(payload, ll_endpoint_magic("HandoffPeerServer"), request_id + (response ? 1 : 0));
    ll_encode_u32(payload, (uint32_t)index);
    char text[64];
    snprintf(text, sizeof text, "%s %d over the handed-off transport", response ? "response" : "request", index);
    ll_encode_string(payload, text);
    uint32_t extra = (uint32_t)(index * 29) % 300 + (response ? 100 : 0);
    ll_encode_u32(payload, extra);
    for (uint32_t k = 0; k < extra; k++) ll_encode_u8(payload, (uint8_t)(k ^ (uint32_t)index));
}

static void exchange_marker(char *out, size_t size, int index, int response) {
    snprintf(out, size, "%s %d attachment", response ? "response" : "request", index);
}

// MARK: child 2 — answers requests on B[1]

typedef struct {
    int next;
    ll_buffer expected;
    ll_buffer reply;
} server_state;

static void serve_request(ll_connection *connection, ll_message *message, void *context) {
    server_state *state = context;
    if (state->next >= request_count) ll_fail("request %d, only %d expected", state->next, request_count);
    build_exchange(&state->expected, state->next, 0);
    expect_payload(message, &state->expected, "request");
    if (message->fd_count != request_fds(state->next))
        ll_fail("request %d came with %u fds, %u sent", state->next, message->fd_count, request_fds(state->next));
    char marker[64];
    exchange_marker(marker, sizeof marker, state->next, 0);
    for (uint32_t k = 0; k < message->fd_count; k++) ll_expect_marker_fd(message->fds[k], LL_FD_PIPE, marker);

    build_exchange(&state->reply, state->next, 1);
    int fds[1];
    int kinds[1] = { LL_FD_MEMFD };
    uint32_t fd_count = response_fds(state->next);
    exchange_marker(marker, sizeof marker, state->next, 1);
    if (fd_count) fds[0] = ll_make_marker_memfd(marker);
    note_sent("B", "child2", state->next, &state->reply, kinds, fd_count);
    ll_post(connection, &state->reply, fds, fd_count);
    state->next++;
}

static void run_child2(int socket) {
    ll_role = "child 2";
    ll_connection connection;
    ll_connection_init(&connection, socket, "child 2 on B");
    server_state state = { 0 };
    double deadline = ll_now() + LL_DEADLINE_SECONDS;
    while (state.next < request_count) {
        if (ll_now() > deadline) ll_fail("timed out after %d requests", state.next);
        if (connection.peer_eof) ll_fail("EOF after %d of %d requests", state.next, request_count);
        ll_pump(&connection, 200, serve_request, &state);
    }
    ll_finish(&connection);
    if (connection.fds_acknowledged_by_peer != connection.fds_sent)
        ll_fail("child 1 acknowledged %u of %u fds", connection.fds_acknowledged_by_peer, connection.fds_sent);
}

// MARK: child 1 — receives B[0] over A[1], then talks to child 2 over it

typedef struct {
    int transport; // the received socket, -1 until then
    int responses;
    uint32_t fds_received;
    ll_buffer expected;
} client_state;

static void receive_handoff(ll_connection *connection, ll_message *message, void *context) {
    (void)connection;
    client_state *state = context;
    if (state->transport >= 0) ll_fail("a second frame on A before the report");
    ll_buffer expected = { 0 };
    build_handoff(&expected);
    expect_payload(message, &expected, "handoff frame");
    free(expected.bytes);
    if (message->fd_count != 1) ll_fail("the handoff frame came with %u fds", message->fd_count);
    int kind = ll_fd_kind_of(message->fds[0]);
    if (kind != LL_FD_SOCKET) ll_fail("the handed-off fd is a %s, not a socket", ll_fd_kind_name(kind));
    int type = 0;
    socklen_t length = sizeof type;
    if (getsockopt(message->fds[0], SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM)
        ll_fail("the handed-off socket is not SOCK_STREAM");
    state->transport = message->fds[0];
}

static void receive_response(ll_connection *connection, ll_message *message, void *context) {
    (void)connection;
    client_state *state = context;
    int index = state->responses;
    if (index >= request_count) ll_fail("response %d, only %d expected", index, request_count);
    build_exchange(&state->expected, index, 1);
    expect_payload(message, &state->expected, "response");
    if (message->fd_count != response_fds(index))
        ll_fail("response %d came with %u fds, %u sent", index, message->fd_count, response_fds(index));
    char marker[64];
    exchange_marker(marker, sizeof marker, index, 1);
    for (uint32_t k = 0; k < message->fd_count; k++) ll_expect_marker_fd(message->fds[k], LL_FD_MEMFD, marker);
    state->fds_received += message->fd_count;
    state->responses++;
}

static void run_child1(int socket) {
    ll_role = "child 1";
    ll_connection parent;
    ll_connection_init(&parent, socket, "child 1 on A");
    client_state state = { .transport = -1 };
    double deadline = ll_now() + LL_DEADLINE_SECONDS;
    while (state.transport < 0) {
        if (ll_now() > deadline) ll_fail("timed out waiting for the transport");
        if (parent.peer_eof) ll_fail("EOF on A before the transport");
        ll_pump(&parent, 200, receive_handoff, &state);
    }
    // The ack for the socket is queued; send it before anything else happens.
    while (parent.queue_count > 0) {
        if (ll_now() > deadline) ll_fail("timed out acknowledging the transport");
        ll_pump(&parent, 200, receive_handoff, &state);
    }
    if (parent.fds_acknowledged_by_us != 1) ll_fail("acknowledged %u fds on A, expected 1", parent.fds_acknowledged_by_us);

    ll_connection peer;
    ll_connection_init(&peer, state.transport, "child 1 on B");
    ll_buffer request = { 0 };
    for (int index = 0; index < request_count; index++) {
        build_exchange(&request, index, 0);
        int fds[1];
        int kinds[1] = { LL_FD_PIPE };
        uint32_t fd_count = request_fds(index);
        char marker[64];
        exchange_marker(marker, sizeof marker, index, 0);
        if (fd_count) fds[0] = ll_make_marker_pipe(marker);
        note_sent("B", "child1", index, &request, kinds, fd_count);
        ll_post(&peer, &request, fds, fd_count);
        // Sync-style: wait for the response before the next request.
        while (state.responses <= index) {
            if (ll_now() > deadline) ll_fail("timed out waiting for response %d", index);
            if (peer.peer_eof) ll_fail("EOF on B before response %d", index);
            ll_pump(&peer, 200, receive_response, &state);
        }
    }
    ll_finish(&peer);
    if (peer.fds_acknowledged_by_peer != peer.fds_sent)
        ll_fail("child 2 acknowledged %u of %u fds", peer.fds_acknowledged_by_peer, peer.fds_sent);

    build_report(&request, (uint32_t)state.responses, state.fds_received);
    note_sent("A", "child1", 0, &request, NULL, 0);
    ll_post(&parent, &request, NULL, 0);
    ll_finish(&parent);
    free(request.bytes);
    free(state.expected.bytes);
}

// MARK: parent

typedef struct {
    int reports;
} parent_state;

static void receive_report(ll_connection *connection, ll_message *message, void *context) {
    (void)connection;
    parent_state *state = context;
    if (state->reports++ > 0) ll_fail("a second report");
    uint32_t expected_fds = 0;
    for (int index = 0; index < request_count; index++) expected_fds += response_fds(index);
    ll_buffer expected = { 0 };
    build_report(&expected, (uint32_t)request_count, expected_fds);
    expect_payload(message, &expected, "child 1's report");
    free(expected.bytes);
    if (message->fd_count != 0) ll_fail("the report came with %u fds", message->fd_count);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--manifest") == 0) {
            manifest = 1;
        } else {
            char *end = NULL;
            long value = strtol(argv[i], &end, 10);
            if (end == argv[i] || *end != '\0' || value < 1 || value > 100000) ll_fail("bad request count \"%s\"", argv[i]);
            request_count = (int)value;
        }
    }
    ll_role = "parent";
    int a[2], b[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) != 0) ll_fail("socketpair A: %s", strerror(errno));
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b) != 0) ll_fail("socketpair B: %s", strerror(errno));

    pid_t child2 = fork();
    if (child2 < 0) ll_fail("fork: %s", strerror(errno));
    if (child2 == 0) {
        close(a[0]);
        close(a[1]);
        close(b[0]);
        run_child2(b[1]);
        _exit(0);
    }
    pid_t child1 = fork();
    if (child1 < 0) ll_fail("fork: %s", strerror(errno));
    if (child1 == 0) {
        close(a[0]);
        close(b[0]);
        close(b[1]);
        run_child1(a[1]);
        _exit(0);
    }
    close(a[1]);
    close(b[1]);

    ll_connection connection;
    ll_connection_init(&connection, a[0], "parent on A");
    ll_buffer payload = { 0 };
    build_handoff(&payload);
    int kinds[1] = { LL_FD_SOCKET };
    note_sent("A", "parent", 0, &payload, kinds, 1);
    // B[0] is retained until child 1 acknowledges it, then closed (TransportHandle semantics).
    ll_post(&connection, &payload, &b[0], 1);
    parent_state state = { 0 };
    double deadline = ll_now() + LL_DEADLINE_SECONDS;
    while (state.reports == 0) {
        if (ll_now() > deadline) ll_fail("timed out waiting for child 1's report");
        if (connection.peer_eof) ll_fail("EOF on A before child 1's report");
        ll_pump(&connection, 200, receive_report, &state);
    }
    ll_finish(&connection);
    if (connection.fds_acknowledged_by_peer != 1) ll_fail("child 1 acknowledged %u fds, expected 1", connection.fds_acknowledged_by_peer);
    free(payload.bytes);
    ll_expect_child_ok(child1, "child 1");
    ll_expect_child_ok(child2, "child 2");
    ll_say("handoff fixture ok\n");
    return 0;
}
