import Glibc
import TraceFormat

/// One measurement in this process; prints `key value` lines for the parent.
enum Measurement {
    static func run(_ what: String, trace: String, storeDirectory: String) throws {
        let store = IndexStore(directory: storeDirectory, minimumEvents: 0)
        switch what {
        case "first":
            let start = now(), startCPU = cpu()
            var opened = try IndexedTrace(path: trace, store: .disabled)
            opened.indexMore(untilEvents: 1000)
            let rows = opened.events(inTimeOrder: 0..<1000)
            let seconds = now() - start
            emit("seconds", seconds)
            emit("cpu", cpu() - startCPU)
            emit("events", rows.count)
            emit("indexedBytes", opened.progress.indexedBytes)
        case "full":
            let start = now(), startCPU = cpu()
            var opened = try IndexedTrace(path: trace, store: .disabled)
            opened.indexToEnd()
            emit("seconds", now() - start)
            emit("cpu", cpu() - startCPU)
            emit("events", opened.eventCount)
            emit("indexBytes", opened.index.memoryBytes)
            emit("corruptions", opened.index.corruptionCount)
            // How often a frame follows a record with a later time (file order is not time order).
            var latest: UInt64 = 0
            var frames = 0, behind = 0
            for number in 0..<opened.index.count {
                let time = opened.index.time(of: number)
                if opened.index.rawKind(of: number) == TraceRecordKind.payloadFrame.rawValue {
                    frames += 1
                    if time < latest { behind += 1 }
                }
                latest = max(latest, time)
            }
            emit("framesBehind", Double(behind) / Double(max(frames, 1)))
            emitMemory()
            // Store it where `reopen` will look (timed apart: it is paid once).
            var storing = try IndexedTrace(path: trace, store: store)
            storing.indexToEnd()
            let storeStart = now()
            try storing.storeIndex()
            emit("storeSeconds", now() - storeStart)
        case "reopen":
            let start = now(), startCPU = cpu()
            var opened = try IndexedTrace(path: trace, store: store)
            opened.indexToEnd()
            emit("seconds", now() - start)
            emit("cpu", cpu() - startCPU)
            guard case .stored = opened.source else {
                throw BenchError("reopen did not use the stored index: \(opened.storedIndexRejection?.description ?? "none found")")
            }
            emit("events", opened.eventCount)
            emitMemory()
        case "iterate":
            var opened = try IndexedTrace(path: trace, store: store)
            opened.indexToEnd()
            let index = opened.index
            let start = now()
            var previous: UInt64 = 0
            var sum: UInt64 = 0
            for position in 0..<index.count {
                let event = index.event(index.eventNumber(atTimePosition: position))
                guard event.time >= previous else { throw BenchError("time order broken at \(position)") }
                previous = event.time
                sum &+= UInt64(event.rawKind) &+ UInt64(event.channel ?? 0) &+ (event.frameIndex ?? 0)
                    &+ UInt64(event.envelope?.magic ?? 0) &+ UInt64(event.direction?.rawValue ?? 2)
            }
            let seconds = now() - start
            emit("seconds", seconds)
            emit("eventsPerSecond", Double(index.count) / seconds)
            emit("checksum", Int(sum & 0xFFFF))
        default:
            throw BenchError("unknown measurement \(what)")
        }
    }

    /// CPU time of this process (user + system), steadier than wall time on a shared machine.
    static func cpu() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func emit(_ key: String, _ value: Double) { print("\(key) \(value)") }
    static func emit(_ key: String, _ value: Int) { print("\(key) \(value)") }

    /// Peak resident memory (VmHWM) and the anonymous (not file-backed) part now, from /proc/self/status.
    static func emitMemory() {
        for line in readText("/proc/self/status").split(separator: "\n") {
            for key in ["VmHWM", "RssAnon", "RssFile"] where line.hasPrefix(key + ":") {
                let kib = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
                emit(key, kib * 1024)
            }
        }
    }

    static func readText(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Measurement {
    /// The target of a symbolic link ("" when it cannot be read).
    static func readLink(_ path: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length > 0 else { return "" }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Newlines in a file, read 1 MiB at a time.
    static func countLines(_ path: String) -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var lines = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            for byte in chunk[..<n] where byte == 0x0A { lines += 1 }
        }
        return lines
    }
}

extension Measurement {
    /// Copies the first `lines` lines of `source` to `destination`.
    static func copyLines(from source: String, to destination: String, lines: Int) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BenchError("open \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw BenchError("open \(destination): \(String(cString: strerror(errno)))") }
        var left = lines
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while left > 0 {
            let n = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            var end = 0
            while end < n, left > 0 {
                if chunk[end] == 0x0A { left -= 1 }
                end += 1
            }
            let written = chunk.withUnsafeBytes { write(output, $0.baseAddress, end) }
            guard written == end else { close(output); throw BenchError("write \(destination): short write") }
        }
        guard close(output) == 0 else { throw BenchError("close \(destination): \(String(cString: strerror(errno)))") }
    }
}
