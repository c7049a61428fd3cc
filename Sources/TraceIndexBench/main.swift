// Reader benchmark (docs/benchmarks.md, "Reading traces"): generates traces of 1 M and 10 M events and
// prints, side by side, time to the first events, full index time, reopen time with the stored index,
// a full time-ordered iteration, and memory. Each measurement runs in a fresh child process (this
// binary again), so its peak memory is its own.
//
//   TraceIndexBench [--dir DIR] [--events 1000000,10000000] [--keep]
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
