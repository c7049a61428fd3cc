// Reader benchmark (docs/benchmarks.md, "Reading traces"): generates traces of 1 M and 10 M events and
// prints, side by side, time to the first events, full index time, reopen time with the stored index,
// a full time-ordered iteration, and memory; then the times, rates and memory of the real `ipcscope
// stats`, `show` and `export --format jsonl` on the same traces, and of `jq -c .` over the JSONL; then the
// targets of issue 11. Each measurement runs in a fresh child process (this binary again, or the
// command), so its peak memory is its own.
//
//   TraceIndexBench [--dir DIR] [--events 1000000,10000000] [--keep] [--ipcscope PATH | --no-commands] [--jq-events N]
//   TraceIndexBench measure first|full|reopen|iterate TRACE STORE-DIR    (one measurement; used by the above)
import Glibc
import TraceFormat

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    if arguments.first == "measure", arguments.count == 4 {
        try Measurement.run(arguments[1], trace: arguments[2], storeDirectory: arguments[3])
    } else {
        try BenchRun(arguments: arguments).run()
    }
} catch {
    print("TraceIndexBench: \(error)")
    exit(1)
}
