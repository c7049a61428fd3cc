import Foundation
import Glibc
import IPCWire
import Recorder
import TestSupport
import Testing
import TraceFormat

/// `ipcscope record -- python3 -c …` around programs whose socketpairs are not LibIPC (the preload library
/// hands every one to the recorder): the program behaves exactly as without ipcscope, and the trace holds
/// those channels as "not LibIPC" — relayed and counted, with no frames and no violations.
@Suite(.serialized, .timeLimit(.minutes(10))) struct NotLibIPCProgramTests {
    /// multiprocessing over a duplex Pipe (a socketpair): pickles of every size (large ones go as a
    /// separate length and body), an fd passed with send_handle (one byte carrying it, read with recvmsg
    /// right after a pickle read with plain reads), and an exit status of its own.
    static let multiprocessingScript = """
        import multiprocessing as mp, os, sys
        from multiprocessing import reduction

        def worker(conn):
            while True:
                item = conn.recv()
                if item is None:
                    break
                conn.send({"n": item, "square": item * item, "text": "x" * (item * 997)})
            fd = reduction.recv_handle(conn)
            conn.send(os.read(fd, 100).decode())
            conn.close()

        if __name__ == "__main__":
            mp.set_start_method("fork")
            parent, child = mp.Pipe()
            process = mp.Process(target=worker, args=(child,))
            process.start()
            total = 0
            for i in range(60):
                parent.send(i)
                reply = parent.recv()
                total += reply["square"] + len(reply["text"])
            parent.send(None)
            r, w = os.pipe()
            os.write(w, b"through an fd")
            reduction.send_handle(parent, r, process.pid)
            print("worker read:", parent.recv())
            process.join()
            print("total", total, "worker exit", process.exitcode, flush=True)
            sys.exit(3)
        """

    /// asyncio's self-pipe (a socketpair) gets one zero byte per wake-up from other threads.
    static let asyncioScript = """
        import asyncio, threading

        async def main():
            loop = asyncio.get_running_loop()
            results = []
            for i in range(40):
                results.append(await loop.run_in_executor(None, pow, i, 2))
            done = loop.create_future()
            def poke():
                for i in range(30):
                    loop.call_soon_threadsafe(results.append, i)
                loop.call_soon_threadsafe(done.set_result, "done")
            threading.Thread(target=poke).start()
            print(await done, sum(results), flush=True)

        asyncio.run(main())
        """

    @Test(arguments: [("multiprocessing", multiprocessingScript, Int32(3)), ("asyncio", asyncioScript, Int32(0))])
    func pythonRunsUnchangedAndItsChannelsAreNotParsed(_ name: String, _ script: String, _ status: Int32) throws {
        let direct = try runUnrecorded(["python3", "-c", script])
        try #require(direct.status == status, "\(name) without ipcscope: \(direct)")
        #expect(!direct.stdout.isEmpty)

        let directory = try TemporaryDirectory()
        let trace = directory.file("\(name).ipctrace")
        let recorded = try runUnrecorded([try ipcscopeExecutable(), "record", "-o", trace, "--", "python3", "-c", script])
        #expect(recorded.status == direct.status, "\(name): \(recorded)")
        #expect(recorded.stdout == direct.stdout, "\(name): \(recorded)")

        let channels = try ChannelsOfTrace(path: trace)
        #expect(channels.report.isIntact && channels.report.end?.cleanStop == true, "\(name)")
        let notLibIPC = channels.classified(.notLibIPC)
        #expect(!notLibIPC.isEmpty, "\(name): \(channels.protocols)")
        for channel in notLibIPC {
            #expect(channels.frames[channel, default: 0] == 0, "\(name) channel \(channel)")
            #expect(channels.violations[channel, default: 0] == 0, "\(name) channel \(channel)")
            #expect(channels.traffic[channel].map { $0.bytes > 0 } == true, "\(name) channel \(channel): relayed bytes")
        }
        // Nothing in these programs is LibIPC.
        #expect(channels.classified(.libIPC).isEmpty, "\(name): \(channels.protocols)")
        #expect(channels.report.frameCount == 0 && channels.report.violationCount == 0, "\(name)")
        #expect(channels.report.notLibIPCChannelCount == notLibIPC.count)
        #expect(channels.report.notLibIPCBytes == notLibIPC.reduce(0) { $0 + (channels.traffic[$1]?.bytes ?? 0) })
        #expect(recorded.stderr.contains("(\(notLibIPC.count) not LibIPC: relayed, not parsed), 0 payload frames"), "\(recorded.stderr)")
        #expect(recorded.stderr.contains(", 0 violations"), "\(recorded.stderr)")
    }

    /// `ipcscope check` reports the not-LibIPC channels in text and JSON.
    @Test func checkReportsNotLibIPCChannels() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("asyncio.ipctrace")
        let recorded = try runUnrecorded([try ipcscopeExecutable(), "record", "-o", trace, "--", "python3", "-c", Self.asyncioScript])
        try #require(recorded.status == 0, "\(recorded)")
        let report = try TraceReader(path: trace).validate()
        try #require(report.notLibIPCChannelCount > 0)

        let text = try runUnrecorded([try ipcscopeExecutable(), "check", trace])
        #expect(text.status == 0)
        #expect(text.stdout.contains(
            "channels     \(report.channelCount) (\(report.notLibIPCChannelCount) not LibIPC: \(report.notLibIPCBytes) bytes, 0 fds relayed unparsed)"),
            "\(text.stdout)")
        #expect(text.stdout.contains("channel-classified \(report.channelCount)"), "\(text.stdout)")

        let json = try runUnrecorded([try ipcscopeExecutable(), "check", "--json", trace])
        #expect(json.status == 0)
        let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        let first = try #require(decoded?.first)
        #expect(first["notLibIPCChannels"] as? Int == report.notLibIPCChannelCount)
        #expect(first["notLibIPCBytes"] as? Int == Int(report.notLibIPCBytes))
        #expect(first["undeterminedChannels"] as? Int == report.undeterminedChannelCount)
    }
}

/// Runs `arguments` (through /usr/bin/env, so PATH finds python3) outside any recording, whatever this
/// test's environment says.
private func runUnrecorded(_ arguments: [String]) throws -> CommandResult {
    try CommandRunner.run("/usr/bin/env", [
        "\(ControlEnvironment.controlVariable)=", "\(PreloadLibrary.environmentVariable)=",
    ] + arguments, timeoutSeconds: 240)
}

/// Per channel: protocol, frames, violations and relayed traffic of a finished trace.
private struct ChannelsOfTrace {
    let report: CheckReport
    var protocols: [UInt32: ChannelProtocol] = [:]
    var frames: [UInt32: Int] = [:]
    var violations: [UInt32: Int] = [:]
    var traffic: [UInt32: ChannelTraffic] = [:]

    init(path: String) throws {
        let reader = try TraceReader(path: path)
        report = reader.validate()
        for (_, record) in reader.records() {
            switch record {
            case .channelClassified(let r): protocols[r.channel] = r.channelProtocol
            case .payloadFrame(let r): frames[r.channel, default: 0] += 1
            case .acknowledgement(let r): frames[r.channel, default: 0] += 1
            case .violation(let r): violations[r.channel, default: 0] += 1
            case .channelClosed(let r): traffic[r.channel] = r.traffic
            default: break
            }
        }
    }

    func classified(_ channelProtocol: ChannelProtocol) -> [UInt32] {
        protocols.filter { $0.value == channelProtocol }.map(\.key).sorted()
    }
}
