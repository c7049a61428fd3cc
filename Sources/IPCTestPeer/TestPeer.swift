import Glibc
import IPCTransport
import IPCWire

/// A peer process for IPCTransport's cross-process tests. Started with `SOCKET_TAKEOVER=<name>:<fd>` like a
/// Ladybird helper; the first argument picks the behaviour:
///
///     echo               send every message back with its fds (re-sending the received fds)
///     close-after N      echo N messages, then close the transport deliberately
///     fd-sink N          receive N messages, close their fds, reply "messages=N fds=M"
///     pipe-writer        write each message's payload into each of its fds, reply "wrote K"
///     transfer           echo; on "release" hand the socket to a new transport and reply "continued" on it
///     hostile KIND       write raw frames breaking one rule of docs/protocol.md §2 (KIND = Violation.Kind raw value)
///     hostile-pair KIND [SCHEMA]
///                        the same on a socketpair of its own (no takeover), drained by a thread: for
///                        `ipcscope record -- IPCTestPeer hostile-pair KIND` (SCHEMA for decoded-size-too-large)
///     fd-flood N         (no takeover) N messages with one fd each over a socketpair of its own, then print
///                        the parent recorder's and its own fd counts before and after (ResourceModes)
///     channel-churn N    (no takeover) N socketpair channels opened, used and closed; the same figures
///     soak SECONDS       (no takeover) channels and fds through the recorder for SECONDS, its memory sampled
///     fds-without-frame | fd-burst SENDS | stop-reading | flood FRAMES PAYLOAD | byte-writes | half-close
///                        (no takeover) hostile or unusual traffic on a socketpair of its own, checked end to
///                        end, for ProxyHostileTests (ProxyHostileModes)
///     list-fds           print this process's open fds (no takeover), for spawn tests
///     print-env NAME     print an environment variable (no takeover)
///     exit CODE          exit with CODE (no takeover)
///
/// Exit status: 0 after a clean peer EOF, 2 for bad usage, 3 for an unexpected transport outcome.
@main
struct TestPeerMain {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let mode = arguments.first else { usage() }
        func number() -> Int {
            guard arguments.count > 1, let value = Int(arguments[1]) else { usage() }
            return value
        }
        switch mode {
        case "echo": PeerModes.echo(limit: nil)
        case "close-after": PeerModes.echo(limit: number())
        case "fd-sink": PeerModes.fdSink(expected: number())
        case "pipe-writer": PeerModes.pipeWriter()
        case "transfer": PeerModes.transfer()
        case "hostile":
            guard arguments.count > 1, let kind = Violation.Kind(rawValue: arguments[1]) else { usage() }
            HostilePeer.run(kind)
        case "hostile-pair":
            guard arguments.count > 1, let kind = Violation.Kind(rawValue: arguments[1]) else { usage() }
            HostilePeer.runPair(kind, schemaPath: arguments.count > 2 ? arguments[2] : nil)
        case "fd-flood": ResourceModes.fdFlood(count: number())
        case "channel-churn": ResourceModes.channelChurn(count: number())
        case "soak": ResourceModes.soak(seconds: number())
        case "fds-without-frame": ProxyHostileModes.fdsWithoutFrame()
        case "fd-burst": ProxyHostileModes.fdBurst(sends: number())
        case "stop-reading": ProxyHostileModes.stopReading()
        case "flood":
            guard arguments.count > 2, let payload = Int(arguments[2]) else { usage() }
            ProxyHostileModes.flood(frames: number(), payload: payload)
        case "byte-writes": ProxyHostileModes.byteWrites()
        case "half-close": ProxyHostileModes.halfClose()
        case "list-fds":
            let fds = Descriptor.openDescriptors().keys.sorted().map(String.init).joined(separator: " ")
            print(fds)
        case "print-env":
            guard arguments.count > 1 else { usage() }
            print(getenv(arguments[1]).map { String(cString: $0) } ?? "<unset>")
        case "exit":
            exit(Int32(number()))
        default:
            usage()
        }
        exit(0)
    }

    static func usage() -> Never {
        fail("usage: IPCTestPeer echo | close-after N | fd-sink N | pipe-writer | transfer | hostile KIND | hostile-pair KIND [SCHEMA] | fd-flood N | channel-churn N | soak SECONDS | fds-without-frame | fd-burst SENDS | stop-reading | flood FRAMES PAYLOAD | byte-writes | half-close | list-fds | print-env NAME | exit CODE", code: 2)
    }
}

func fail(_ message: String, code: Int32 = 3) -> Never {
    var line = "IPCTestPeer: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(code)
}

/// Takes over the socket from SOCKET_TAKEOVER, as every helper mode starts.
func takeOverSocket() -> Int32 {
    do {
        return try SocketTakeover.takeOver()
    } catch {
        fail("take over: \(error)")
    }
}
