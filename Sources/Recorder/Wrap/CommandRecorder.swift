import Glibc
import IPCTransport
import IPCWire
import TraceFormat

/// Runs a command under recording, the way `strace -f` runs one under tracing: every LibIPC channel the
/// process tree creates is relayed through the session.
///
/// Two mechanisms find channels:
/// - helper takeover: when this process was launched as a LibIPC helper (SOCKET_TAKEOVER in its
///   environment), each inherited socket is relayed and the command gets the proxy's end under the same
///   fd number, so the variable stays valid;
/// - the preload library (LD_PRELOAD, inherited by children) hands the far ends of every AF_UNIX stream
///   socketpair — and with `interposeConnect`, of connect() to socket paths — to the control server.
/// Under an outer `ipcscope record` (IPCSCOPE_CONTROL set) there is no session here: taken-over sockets
/// are handed to the outer recorder, so one session writes one trace.
public struct CommandRecorder {
    public struct Options: Sendable {
        public var preload = true
        public var interposeConnect = false
        public init() {}
    }

    public let command: [String]
    public let options: Options

    public init(command: [String], options: Options) {
        self.command = command
        self.options = options
    }

    /// Starts the command. `session` is nil when an outer recorder owns the recording; then
    /// `outerControlPath` is its control socket.
    public func start(session: RecordingSession?, outerControlPath: String? = nil) throws(SystemError) -> RunningCommand {
        var environment: [String: String] = [:]
        if let outerControlPath {
            // Our own environment no longer names it (see `detachFromOuterRecorder`); the command's must.
            environment[ControlEnvironment.controlVariable] = outerControlPath
        }
        var passing: [(childFD: Int32, parentFD: Int32)] = []
        // The command's ends of the takeover pairs: the child gets copies; ours close when this returns.
        var programEnds = OwnedFDs()

        for entry in try takeoverEntries() {
            let pair = try SocketPair.make()
            let programSide = pair.first
            do {
                try relayTakeover(name: entry.name, realSocket: entry.fd, proxyEnd: pair.second,
                                  programSide: programSide.rawValue, session: session, outerControlPath: outerControlPath)
                passing.append((childFD: entry.fd, parentFD: programSide.rawValue))
                programEnds.append(programSide)
            } catch {
                // Never break the program: it gets its real socket, unrecorded. (`programSide` is dropped,
                // so closed; relayTakeover has closed the proxy end.)
                printError("ipcscope record: not recording the \(entry.name) socket: \(error)")
                passing.append((childFD: entry.fd, parentFD: entry.fd))
            }
        }

        var control: ControlServer?
        if let session {
            let server = try ControlServer(handler: ChannelRequestHandler(session: session).handle)
            control = server
            environment.merge(server.environment) { $1 }
        }
        if options.preload, control != nil {
            if let library = PreloadLibrary.locate() {
                environment[PreloadLibrary.environmentVariable] = PreloadLibrary.preloadValue(
                    library: library, existing: ProcessEnvironment.get(PreloadLibrary.environmentVariable))
                if options.interposeConnect { environment["IPCSCOPE_INTERPOSE_CONNECT"] = "1" }
            } else {
                printError("ipcscope record: \(PreloadLibrary.fileName) not found next to ipcscope; recording only taken-over sockets")
            }
        }
        let child: ChildProcess
        do {
            child = try ProcessSpawner.spawn(
                executable: command[0], arguments: Array(command.dropFirst()), environment: environment,
                passing: passing)
        } catch {
            control?.stop()
            throw error
        }
        return RunningCommand(child: child, control: control)
    }

    private func takeoverEntries() throws(SystemError) -> [SocketTakeover.Entry] {
        guard let value = ProcessEnvironment.get(SocketTakeover.environmentVariable) else { return [] }
        do {
            let entries = try SocketTakeover.parse(value)
            for entry in entries where (try? Descriptor.info(entry.fd))?.kind != .socket {
                throw SystemError(errno: ENOTSOCK, operation: "SOCKET_TAKEOVER entry \(entry.name):\(entry.fd)")
            }
            return entries
        } catch let error as SystemError {
            throw error
        } catch {
            throw SystemError(errno: EINVAL, operation: "SOCKET_TAKEOVER=\(value): \(error)")
        }
    }

    /// Relays the parent's socket `realSocket` and our `proxyEnd` (whose peer the command gets). On success
    /// both are handed over (closed here or owned by the session); on failure `proxyEnd` is closed and
    /// `realSocket` left as it was. (`realSocket` is an inherited number named by SOCKET_TAKEOVER: it stays
    /// raw, and is closed here only once something else relays it.)
    private func relayTakeover(
        name: String, realSocket: Int32, proxyEnd: consuming OwnedFD, programSide: Int32, session: RecordingSession?,
        outerControlPath: String?
    ) throws(SystemError) {
        guard let session else {
            // The outer recorder gets its own copies; ours of `proxyEnd` is dropped, so closed, on return.
            let reply = try ControlClient.hand(takeoverName: name, programSide: proxyEnd.rawValue, realSocket: realSocket,
                                               controlPath: outerControlPath)
            guard reply == .accepted else {
                throw SystemError(errno: reply.status, operation: "the outer recorder refused the \(name) socket")
            }
            Descriptor.close(realSocket)  // the outer recorder holds its own copy now
            return
        }
        // A failure here drops `proxyEnd`, so closes it.
        let programInode = try Descriptor.info(programSide).inode
        let realCopy = try Descriptor.duplicate(realSocket, minimum: 3)
        let parent = getppid()
        // openChannel owns (and on failure closes) the copy; the original is closed only once it relays.
        try session.openChannel(
            endA: realCopy, endB: proxyEnd,
            endpointA: ChannelEndpoint(name: "parent of \(name)", pid: parent, command: ProcessLookup.command(of: parent)),
            endpointB: ChannelEndpoint(name: name, pid: -1, command: command.joined(separator: " ")),
            discovery: .takeover, programSideInodes: [programInode], programSideInodesBySide: [.b: programInode])
        Descriptor.close(realSocket)
    }
}

extension CommandRecorder {
    /// Under an outer `ipcscope record`, this process inherited the preload library: it re-reads
    /// IPCSCOPE_CONTROL on every call, so removing the variable keeps our own sockets (the takeover pairs)
    /// out of the outer recording. Returns the outer control socket, nil when there is none.
    public static func detachFromOuterRecorder() -> String? {
        guard let path = ControlClient.controlPathFromEnvironment else { return nil }
        ProcessEnvironment.unset(ControlEnvironment.controlVariable)
        return path
    }
}

/// A command started by ``CommandRecorder``.
public struct RunningCommand: Sendable {
    public let child: ChildProcess
    let control: ControlServer?

    /// Waits for the command, forwarding SIGINT and SIGTERM to it (they must be blocked in every thread,
    /// see ``SignalWaiter``). Returns its exit status.
    public func wait() -> ExitStatus {
        while true {
            if let status = child.wait(timeout: .milliseconds(20)) { return status }
            if let signal = SignalWaiter.poll() { child.kill(signal) }
        }
    }

    /// No more channels are accepted from the preload library.
    public func stopAcceptingChannels() {
        control?.stop(drainTimeout: .seconds(1))
    }
}

/// Opens a channel for each request of the preload library or of a nested `ipcscope record`.
struct ChannelRequestHandler: Sendable {
    let session: RecordingSession

    func handle(_ request: ControlRequest) -> ControlReply {
        let pid = request.pid
        let process = ChannelEndpoint(name: "pid \(pid)", pid: pid, command: ProcessLookup.command(of: pid))
        do {
            switch request {
            case .socketPair(_, _, let rawA, let rawB, let programSideInodes):
                // The request's fds are ours (ControlRequest): owned from here, so any failure closes them.
                let fdA = OwnedFD(adopting: rawA)
                let fdB = OwnedFD(adopting: rawB)
                // The interposer gave the program x0 and y0; our fdA/fdB are their peers x1 and y1.
                let bySide = programSideInodes.count == 2
                    ? [ChannelSide.a: programSideInodes[0], ChannelSide.b: programSideInodes[1]] : [:]
                try session.openChannel(endA: fdA, endB: fdB, endpointA: process, endpointB: process, discovery: .preload,
                                        programSideInodes: programSideInodes, programSideInodesBySide: bySide)
            case .connect(_, let path, let raw):
                let fd = OwnedFD(adopting: raw)
                let upstream: OwnedFD
                do {
                    upstream = try StreamSocketPath.connect(to: path)
                } catch {
                    // `fd` is dropped, so closed. A path too long for sun_path once made absolute: let the program connect by itself.
                    // Any other failure is what the program would have got: pass its errno on.
                    return error.errno == ENAMETOOLONG ? .declined : .refused(error.errno)
                }
                let server = ProcessLookup.peerPID(of: upstream.rawValue)
                try session.openChannel(
                    endA: fd, endB: upstream, endpointA: process,
                    endpointB: ChannelEndpoint(name: path, pid: server, command: ProcessLookup.command(of: server)),
                    discovery: .preload)
            case .takeover(_, let name, let rawProgramSide, let rawRealSocket):
                let programSide = OwnedFD(adopting: rawProgramSide)
                let realSocket = OwnedFD(adopting: rawRealSocket)
                try session.openChannel(
                    endA: realSocket, endB: programSide,
                    endpointA: ChannelEndpoint(name: "parent of \(name)", pid: -1),
                    endpointB: ChannelEndpoint(name: name, pid: pid, command: process.command),
                    discovery: .takeover)
            }
            return .accepted
        } catch {
            return .refused(error.errno)
        }
    }
}
