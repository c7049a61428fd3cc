// Reader benchmark (docs/benchmarks.md, "Reading traces"): generates traces of 1 M and 10 M events and
// prints, side by side, time to the first events, full index time, reopen time with the stored index,
// a full time-ordered iteration, and memory; then the times, rates and memory of the real `ipcscope
// stats`, `show` and `export --format jsonl` on the same traces, and of `jq -c .` over the JSONL; then the
// targets of issue 11. Each measurement runs in a fresh child process (this binary again, or the
// command), so its peak memory is its own.
//
//   TraceIndexBench [--dir DIR] [--events 1000000,10000000] [--keep] [--ipcscope PATH | --no-commands] [--jq-events N]
//   TraceIndexBench measure first|full|reopen|iterate TRACE STORE-DIR    (one measurement; used by the above)
//   TraceIndexBench viewer [--dir DIR] [--events 10000,1000000,10000000] [--keep]   (ViewerBench.swift)
import Glibc
import TraceFormat

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    if arguments.first == "measure", arguments.count == 4 {
        try Measurement.run(arguments[1], trace: arguments[2], storeDirectory: arguments[3])
    } else if arguments.first == "viewer" {
        try ViewerBench(arguments: Array(arguments.dropFirst())).run()
    } else if arguments.first == "viewer-measure", arguments.count == 4 {
        try ViewerMeasurement.run(trace: arguments[1], store: arguments[2], open: arguments[3])
    } else {
        try BenchRun(arguments: arguments).run()
    }
} catch {
    print("TraceIndexBench: \(error)")
    exit(1)
}
