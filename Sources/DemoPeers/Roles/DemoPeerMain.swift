import Glibc
import IPCTransport
import IPCWire

/// `ipcscope demo-peer ROLE`: a helper process of the demo. It takes over its socket from
/// `SOCKET_TAKEOVER` (as Ladybird's helpers do), serves until the UI hangs up, and exits 0 only if every
/// step it took succeeded. Its last stderr line carries its statistics for the UI's summary.
public enum DemoPeerMain {
    public static func run(_ role: DemoRole) -> Int32 {
        // Pipes (log sink, response bodies) must fail with EPIPE, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        let pid = getpid()
        let label = "demo-peer \(role.rawValue) (pid \(pid))"

        let transport: IPCTransport
        let demoProtocol: DemoProtocol
        do {
            let fd = try SocketTakeover.takeOver(name: role.takeoverName)
            transport = try IPCTransport(adopting: fd)
        } catch {
            report("\(label): cannot take over the \(role.takeoverName) socket: \(error)")
            return 1
        }
        do {
            demoProtocol = try DemoProtocol.load()
        } catch {
            report("\(label): \(error)")
            transport.close()
            return 1
        }

        let runtime = PeerRuntime(demoProtocol: demoProtocol)
        // The peers outlive the final closeAll: its events still reach their handlers.
        let webContent = role == .webContent ? WebContentPeer(runtime: runtime) : nil
        let requestServer = role == .requestServer ? RequestServerPeer(runtime: runtime) : nil
        var failure: DemoFailure?
        do {
            if let webContent { try webContent.serve(transport) }
            if let requestServer { try requestServer.serve(transport) }
        } catch {
            failure = error
        }
        // Whatever happened, hang up everywhere so the peers see EOF, and account for every transport.
        do {
            try runtime.closeAll(step: "close all connections", immediately: failure != nil)
        } catch {
            failure = failure ?? error
        }
        webContent?.closeLogSink()
        withExtendedLifetime((webContent, requestServer)) {}
        let statistics = runtime.statistics
        if failure == nil, statistics.retainedFDs != 0 {
            failure = DemoFailure(step: "final checks", "\(statistics.retainedFDs) sent fds were never acknowledged")
        }
        if let failure { report("\(label): FAILED at step '\(failure.step)': \(failure.reason)") }
        report(statistics.line(pid: pid, ok: failure == nil))
        return failure == nil ? 0 : 1
    }

    private static func report(_ line: String) {
        StandardError.write(line + "\n")
    }
}
