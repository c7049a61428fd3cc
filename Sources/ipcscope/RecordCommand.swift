import ArgumentParser
import Foundation
import IPCTransport
import IPCWire
import Recorder
import TraceAnalysis
import TraceFormat

struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record LibIPC traffic through a transparent proxy into a trace file.",
        usage: """
            ipcscope record -o FILE [options] -- COMMAND [ARG…]
            ipcscope record -o FILE [options] --listen PATH --upstream PATH
            """,
        discussion: """
            Command mode runs COMMAND and records every LibIPC channel it and its children create, like \
            `strace -f`: sockets taken over through SOCKET_TAKEOVER (when ipcscope is launched as a LibIPC \
            helper) and, through a preloaded library, every AF_UNIX stream socketpair. It exits with \
            COMMAND's status, or dies of the same signal (exceptions below). Under another `ipcscope record`, channels go to \
            that recording's trace.

            Socket-path mode listens on --listen PATH and relays every client to --upstream PATH, one \
            channel per client, until SIGINT or SIGTERM.

            Every byte and fd is forwarded unchanged, with the writer's SCM_CREDENTIALS where the kernel \
            allows (as root); the trace (mode 0600) holds frames, attachments, \
            acks, EOFs, queue depths and limit violations. It is written under a temporary name \
            (FILE's stem + .RANDOM.ipctrace.tmp) and renamed to FILE once the command runs or the socket \
            listens: a failed start leaves FILE untouched. An existing FILE is replaced only when it is an \
            ipcscope trace or empty (--force: any regular file); a symlink is never followed.

            Options of the other mode are refused: --no-preload and --interpose-connect with --listen, \
            --interpose-connect with --no-preload, --view with --listen.

            Examples:
              ipcscope record -o t.ipctrace -- ./Build/release/bin/Ladybird
              ipcscope record --view -o t.ipctrace --schema Services/ -- ladybird.sh
              ipcscope record -o t.ipctrace --listen /tmp/proxy.sock --upstream /tmp/server.sock

            Exit status: COMMAND's when it is not 0 (or its signal). Otherwise 74 (EX_IOERR) when the \
            trace is incomplete because writing it failed (a full disk, an I/O error, the file size limit: \
            reported on stderr at once, the traffic keeps flowing unrecorded, the trace ends with an end \
            record saying why), else 0. Socket-path mode: 74 or 0 likewise. When recording cannot start: \
            64 for a usage error (a --schema that cannot be used too), 73 when the trace cannot be created \
            (or must not be replaced), 1 otherwise (COMMAND cannot be run, the socket cannot listen).
            """
    )

    @Option(name: .shortAndLong, help: ArgumentHelp("Trace file to write (created with mode 0600).", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Socket path to listen on (created with mode 0600).", valueName: "path"))
    var listen: String?

    @Option(help: ArgumentHelp("Socket path of the real server each client is relayed to.", valueName: "path"))
    var upstream: String?

    @Flag(help: "Command mode: do not preload the interposer (record only SOCKET_TAKEOVER sockets).")
    var noPreload = false

    @Flag(help: "Command mode: also interpose connect() to AF_UNIX socket paths.")
    var interposeConnect = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command to run and record.", valueName: "command"))
    var command: [String] = []

    @Option(parsing: .unconditional, help: ArgumentHelp("Payload bytes captured per frame (at least the 8-byte envelope); the true length is always recorded.", valueName: "bytes"))
    var snaplen: Int = 4096

    @Option(name: .customLong("schema"), help: ArgumentHelp("An .ipc file used to pair sync requests with their responses; embedded in the trace. Repeatable.", valueName: "file"))
    var schemas: [String] = []

    @Flag(help: "Never drop payload capture when the disk falls behind: slow the traffic down instead.")
    var lossless = false

    @Flag(help: "Replace an existing output file even when it is not an ipcscope trace.")
    var force = false

    @Flag(help: "Open the viewer on the trace while it is recorded (following it). COMMAND's input is /dev/null and its output goes to a log file next to the trace (named on stderr).")
    var view = false

    func validate() throws {
        if view {
            guard !command.isEmpty else { throw ValidationError("--view needs a command after -- (socket-path mode runs until stopped: view its trace with `ipcscope view --follow FILE`)") }
            guard let output, !output.isEmpty, output != "-" else { throw ValidationError("--view needs -o FILE") }
        }
        guard (0...(16 << 20)).contains(snaplen) else {
            throw ValidationError("--snaplen must be between 0 and 16777216, not \(snaplen)")
        }
        if command.isEmpty {
            switch (listen, upstream) {
            case (nil, nil): throw ValidationError("give a command after --, or --listen PATH and --upstream PATH")
            case (_?, nil): throw ValidationError("--listen needs --upstream PATH (the server each client is relayed to)")
            case (nil, _?): throw ValidationError("--upstream needs --listen PATH (the socket clients connect to)")
            case let (listen?, upstream?):
                guard listen != upstream else { throw ValidationError("--listen and --upstream must differ") }
            }
            // Command-mode options do nothing in socket-path mode: refused rather than ignored.
            if noPreload { throw ValidationError("--no-preload applies to a command after --; it does nothing with --listen") }
            if interposeConnect { throw ValidationError("--interpose-connect applies to a command after --; it does nothing with --listen") }
        } else if listen != nil || upstream != nil {
            throw ValidationError("\(listen != nil ? "--listen" : "--upstream") and a command after -- exclude each other")
        }
        if noPreload && interposeConnect {
            throw ValidationError("--interpose-connect needs the preloaded interposer; it does nothing with --no-preload")
        }
        if ControlClient.controlPathFromEnvironment == nil || command.isEmpty {
            guard let output, !output.isEmpty else { throw ValidationError("missing -o FILE (the trace to write)") }
            guard output != "-" else { throw ValidationError("-o needs a file: a trace is not written to standard output") }
        }
    }

    func run() throws {
        if view {
            throw ExitCode(try RecordViewer.run(arguments: Array(CommandLine.arguments.dropFirst()), tracePath: output ?? ""))
        }
        do {
            try record()
        } catch let failure as CommandFailure {
            ErrorLine.write("record", failure.description)
            throw ExitCode(failure.status)
        }
    }

    private func record() throws {
        SignalWaiter.blockTerminationSignals()
        // A file size limit (ulimit -f) must not kill the proxy, and the traffic with it: writing past it
        // fails with EFBIG instead, which the writer reports. Children get default dispositions.
        signal(SIGXFSZ, SIG_IGN)
        let outerControl = CommandRecorder.detachFromOuterRecorder()
        if !command.isEmpty, let outerControl {
            // Nested under another `ipcscope record`: its session records; we only hand sockets over.
            let running = try startCommand(session: nil, outerControlPath: outerControl)
            SignalWaiter.exit(like: running.wait())
        }
        let tracePath = output ?? ""
        let session = try makeSession(tracePath: tracePath)
        if command.isEmpty {
            let traceComplete = try proxySocketPath(session: session, tracePath: tracePath)
            throw ExitCode(traceComplete ? 0 : RecordExitStatus.traceIncomplete)
        }
        let running: RunningCommand
        do {
            running = try startCommand(session: session)
        } catch {
            // Never published: stopping removes the temporary file, and tracePath stays as it was.
            session.stop(cleanStop: false)
            throw error
        }
        let published = publish(session)
        let status = running.wait()
        // Helpers the command started may still be talking; give their channels time to end on their own
        // (on a loaded machine the relays may lag behind the exit), then stop the rest.
        let deadline = ContinuousClock.now + .seconds(5)
        while session.openChannelCount > 0, ContinuousClock.now < deadline { usleep(10_000) }
        running.stopAcceptingChannels()
        let summary = session.stop()
        standardError(RecordingSummary.line(summary, session: session) + " (\(command[0]) \(status))")
        SignalWaiter.exit(like: RecordExitStatus.combine(command: status, traceComplete: published && session.traceError == nil))
    }

    /// Puts the trace at its path now that the recording runs. On failure the recording goes on into the
    /// temporary file (said so at once); returns false then.
    private func publish(_ session: RecordingSession) -> Bool {
        do {
            try session.publishTrace()
            return true
        } catch {
            standardError("ipcscope record: cannot put the trace in place, recording into \(session.currentTracePath) instead: \(error)")
            return false
        }
    }

    private func makeSession(tracePath: String) throws -> RecordingSession {
        let loaded = try SchemaFiles.load(schemas)
        var options = RecordingSession.Options()
        options.lossless = lossless
        options.schemas = loaded.set
        options.writerOptions.existingOutput = force ? .replaceAnyFile : .replaceOnlyTraces
        options.writerOptions.publishesAtOnce = false
        options.writerOptions.onWriteFailure = { failure in
            standardError("ipcscope record: cannot write the trace any more, stopped at offset \(failure.offset) "
                          + "(the traffic goes on, unrecorded): \(failure.path): \(failure.reason)")
        }
        let header = TraceHeader.startingNow(
            ipcscopeVersion: IPCScopeVersion.string, commandLine: CommandLine.arguments,
            snapLength: UInt32(snaplen), schemas: loaded.embedded)
        do {
            return try RecordingSession(tracePath: tracePath, header: header, options: options)
        } catch {
            var reason = error.description
            if case .existingOutput(_, let problem) = error, problem.replacedWhenForced { reason += " (--force replaces it)" }
            throw CommandFailure("cannot create the trace: \(reason)", status: CLIStatus.cannotCreate)
        }
    }

    private func startCommand(session: RecordingSession?, outerControlPath: String? = nil) throws -> RunningCommand {
        var options = CommandRecorder.Options()
        options.preload = !noPreload
        options.interposeConnect = interposeConnect
        do {
            return try CommandRecorder(command: command, options: options)
                .start(session: session, outerControlPath: outerControlPath)
        } catch {
            throw CommandFailure("cannot run \(command[0]): \(error)")
        }
    }

    /// Relays clients of the socket path until SIGINT or SIGTERM; returns whether the trace is complete.
    private func proxySocketPath(session: RecordingSession, tracePath: String) throws -> Bool {
        let proxy: SocketPathProxy
        do {
            proxy = try SocketPathProxy(listenPath: listen ?? "", upstreamPath: upstream ?? "", session: session)
        } catch {
            session.stop(cleanStop: false)  // never published: tracePath stays as it was
            throw CommandFailure("cannot listen on \(listen ?? ""): \(error)")
        }
        let published = publish(session)
        standardError("ipcscope: recording to \(session.currentTracePath); proxying \(proxy.listenPath) → \(proxy.upstreamPath) (Ctrl-C to stop)")
        _ = SignalWaiter.wait()
        proxy.stop()
        let summary = session.stop()
        standardError(RecordingSummary.line(summary, session: session))
        return published && session.traceError == nil
    }
}

/// `.ipc` files named on the command line, parsed, and kept as text for embedding in a trace.
struct SchemaFiles {
    var set: SchemaSet?
    var embedded: [TraceHeader.EmbeddedSchema]

    static func load(_ paths: [String]) throws -> SchemaFiles {
        guard !paths.isEmpty else { return SchemaFiles(set: nil, embedded: []) }
        var files: [SchemaFile] = []
        var embedded: [TraceHeader.EmbeddedSchema] = []
        for path in paths {
            let bytes: [UInt8]
            switch SchemaFileReader.read(path) {
            case .success(let read): bytes = read
            case .failure(let failure): throw CommandFailure("--schema \(failure)", status: CLIStatus.usage)
            }
            do {
                files.append(try SchemaParser.parse(bytes: bytes, path: path))
            } catch {
                throw CommandFailure("--schema \(error)", status: CLIStatus.usage)
            }
            embedded.append(.init(path: path, text: String(decoding: bytes, as: UTF8.self)))
        }
        return SchemaFiles(set: SchemaSet(files: files), embedded: embedded)
    }
}

enum RecordingSummary {
    static func line(_ summary: TraceSummary, session: RecordingSession) -> String {
        line(summary, tracePath: session.currentTracePath, lostCapture: session.lostCapture,
             traceError: session.traceError, credentials: session.credentialsNotPreserved,
             notLibIPC: session.notLibIPCChannelCount)
    }

    /// What crossed, what capture was lost to a slow disk, and — when writing failed — that the trace is
    /// incomplete and why.
    static func line(
        _ summary: TraceSummary, tracePath: String, lostCapture: LostCapture, traceError: TraceFileError?,
        credentials: (refused: UInt64, exitedWriters: UInt64) = (0, 0), notLibIPC: UInt64 = 0
    ) -> String {
        var line = "ipcscope: \(summary.channels) channel\(summary.channels == 1 ? "" : "s")"
        if notLibIPC > 0 { line += " (\(notLibIPC) not LibIPC: relayed, not parsed)" }
        line += ", " + TotalsWording.recorded(summary)
        if lostCapture.payloadsCut > 0 || lostCapture.recordsDropped > 0 {
            line += ", writer behind: \(lostCapture.payloadsCut) payloads cut to their envelope, "
                + "\(lostCapture.recordsDropped) frame records dropped"
        }
        // Receivers with SO_PASSCRED saw ipcscope's credentials there (docs/recording.md).
        if credentials.refused > 0 {
            line += ", senders' SCM_CREDENTIALS not preserved in \(directions(credentials.refused)) (needs root)"
        }
        if credentials.exitedWriters > 0 {
            line += ", SCM_CREDENTIALS of exited senders not preserved in \(directions(credentials.exitedWriters))"
        }
        line += " → \(tracePath)"
        switch traceError {
        case nil: break
        case .writeStopped(let failure)?:
            line += "; TRACE INCOMPLETE: it ends at offset \(failure.offset), where \(failure.reason)"
        case let error?:
            line += "; TRACE INCOMPLETE: \(error)"
        }
        return line
    }

    private static func directions(_ count: UInt64) -> String {
        "\(count) direction\(count == 1 ? "" : "s")"
    }
}

/// How `record` ends: like the recorded command when it failed, else with EX_IOERR when the trace is
/// incomplete because writing it failed.
enum RecordExitStatus {
    /// EX_IOERR (sysexits.h).
    static let traceIncomplete: Int32 = 74

    static func combine(command: ExitStatus, traceComplete: Bool) -> ExitStatus {
        if case .exited(0) = command, !traceComplete { return .exited(traceIncomplete) }
        return command
    }
}

func standardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
