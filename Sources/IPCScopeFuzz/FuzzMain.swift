// Fuzz harness for the parsers of hostile input: LibIPC frames, .ipc schemas, trace files.
//
// Built with `-sanitize=fuzzer,address -DFUZZING` it hands control to libFuzzer; built normally it replays
// the files named on its command line, so a saved crash input can be rerun in a plain debug build.
// The target is chosen with IPCSCOPE_FUZZ_TARGET: `frames` (default), `schema`, `trace`, `filter`, `index`, `decode` or `theme`.
// See docs/fuzzing.md.
import CSystemShims
import IPCWire

#if canImport(Glibc)
import Glibc
#endif

enum FuzzTarget: String {
    case frames
    case schema
    case trace
    case filter
    case index
    case decode
    case theme

    static var selected: FuzzTarget {
        guard let name = getenv("IPCSCOPE_FUZZ_TARGET") else { return .frames }
        return FuzzTarget(rawValue: String(cString: name)) ?? .frames
    }

    func run(_ data: UnsafeRawBufferPointer) {
        switch self {
        case .frames: FrameFuzzing.run(data)
        case .schema: SchemaFuzzing.run(data)
        case .trace: TraceFuzzing.run(data)
        case .filter: FilterFuzzing.run(data)
        case .index: IndexFuzzing.run(data)
        case .decode: DecodeFuzzing.run(data)
        case .theme: ThemeFuzzing.run(data)
        }
    }
}

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzTarget.selected.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func libFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzOne(data, size)
}

#if !FUZZING_LIBFUZZER_MAIN
@main
struct FuzzMain {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) })
        #else
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "--write-decode-seeds", arguments.count == 2 { exit(DecodeFuzzing.writeSeeds(into: arguments.last!)) }
        exit(replay(arguments))
        #endif
    }

    /// Runs each file through the selected target; returns the exit status.
    static func replay(_ paths: ArraySlice<String>) -> Int32 {
        var failures: Int32 = 0
        for path in paths {
            guard let bytes = readWholeFile(path) else {
                print("cannot read \(path)")
                failures += 1
                continue
            }
            bytes.withUnsafeBytes { FuzzTarget.selected.run($0) }
            print("ok \(path) (\(bytes.count) bytes)")
        }
        return failures == 0 ? 0 : 1
    }
}
#endif
