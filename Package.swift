// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "ipcscope",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ipcscope", targets: ["ipcscope"]),
        .library(name: "IPCWire", targets: ["IPCWire"]),
        .library(name: "IPCScopePreload", type: .dynamic, targets: ["IPCScopePreload"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The LibIPC protocol as data. Standard library only: no sockets, files or Foundation.
        // TypePacks/Ladybird.ipc is compiled in as LadybirdTypePackText.swift (Scripts/generate-type-pack.sh).
        .target(name: "IPCWire", exclude: ["TypePacks/Ladybird.ipc"]),
        // What Swift cannot import from glibc: CMSG_* macros, _GNU_SOURCE calls, epoll, ioctls.
        .target(name: "CSystemShims"),
        // The system layer under IPCTransport and TraceFormat: errors with errno, the EINTR funnel and
        // write-all, an owned (non-copyable) fd, a named thread.
        .target(name: "SystemSupport", dependencies: ["CSystemShims"]),
        // A real LibIPC-compatible endpoint over AF_UNIX stream sockets.
        .target(name: "IPCTransport", dependencies: ["IPCWire", "SystemSupport", "CSystemShims"]),
        // The trace file: record model, writer (append-only, checksummed records), reader (mmap, index).
        .target(name: "TraceFormat", dependencies: ["IPCWire", "SystemSupport", "CSystemShims"]),
        // Reading traces: the filter language (Filter/); analysis comes next. Pure: no I/O, no terminal.
        .target(name: "TraceAnalysis", dependencies: ["TraceFormat", "IPCWire"]),
        // `export`: JSON, JSON Lines and Chrome Trace Event Format from an indexed trace (docs/export.md).
        .target(name: "TraceExport", dependencies: ["TraceAnalysis", "TraceFormat", "IPCWire"]),
        // The viewer's model: state, key table, layout and views rendering into a CellGrid. No terminal in it.
        .target(name: "ViewerModel", dependencies: ["TraceAnalysis", "TraceFormat", "IPCWire"]),
        // The built-in demo: UI, WebContent and RequestServer peers that talk LibIPC like Ladybird (docs/demo.md).
        .target(
            name: "DemoPeers", dependencies: ["IPCTransport", "IPCWire", "SystemSupport", "CSystemShims"], resources: [.copy("Schemas")]
        ),
        .executableTarget(
            name: "ipcscope",
            dependencies: [
                "IPCWire", "IPCTransport", "TraceFormat", "TraceAnalysis", "TraceExport", "DemoPeers", "Recorder",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The interposing proxy: relays bytes and fds unchanged, parses both directions, records.
        .target(name: "Recorder", dependencies: ["IPCWire", "IPCTransport", "TraceFormat", "SystemSupport", "CSystemShims"]),
        // LD_PRELOAD interposer: hands the far ends of socketpair()/connect() sockets to the recorder.
        // Never a dependency of another target (its socketpair/connect would interpose that binary).
        // -nostartfiles drops swiftrt.o and -static-stdlib the libswiftCore.so dependency: the .so loads
        // into every program of the recorded tree and needs only libc (plus libstdc++/libm, unused).
        .target(
            name: "IPCScopePreload", path: "Sources/IPCScopePreload",
            linkerSettings: [.unsafeFlags(["-nostartfiles", "-static-stdlib"], .when(platforms: [.linux]))]
        ),
        // libFuzzer harness; see docs/fuzzing.md. Built normally it replays inputs given as files.
        .executableTarget(name: "IPCScopeFuzz", dependencies: ["IPCWire", "TraceFormat", "TraceAnalysis", "CSystemShims"]),
        // Filter evaluation throughput over synthetic events (docs/filters.md, "Speed").
        // Counts mallocs for FilterBench only (it replaces the process's allocation functions).
        .target(name: "CAllocationCounter"),
        .executableTarget(name: "FilterBench", dependencies: ["TraceAnalysis", "TraceFormat", "IPCWire", "CAllocationCounter"]),
        // Peer process for IPCTransport's cross-process tests (echo, fd sink, hostile frames, transfer).
        .executableTarget(name: "IPCTestPeer", dependencies: ["IPCTransport", "IPCWire", "CSystemShims"]),
        // Synthetic-traffic check: random values for every message of a directory of .ipc files, encoded,
        // sent through `ipcscope record`, decoded back from the trace (docs/schemas.md).
        .executableTarget(name: "IPCSyntheticTraffic", dependencies: ["IPCWire", "IPCTransport", "TraceFormat"]),
        // Writes trace records until killed; TraceFormatTests SIGKILLs it to test durability.
        .executableTarget(name: "TraceWriterStress", dependencies: ["TraceFormat", "IPCWire"]),
        // Reader benchmark: generated 1 M / 10 M event traces, first events, full index, reopen (docs/benchmarks.md).
        .executableTarget(name: "TraceIndexBench", dependencies: ["TraceFormat", "IPCWire"]),
        // Proxy benchmark: direct socketpair vs `ipcscope record` vs socat (docs/benchmarks.md).
        .executableTarget(
            name: "IPCBench",
            dependencies: [
                "IPCTransport", "IPCWire", "CSystemShims",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SystemSupportTests", dependencies: ["SystemSupport"]),
        .testTarget(name: "IPCWireTests", dependencies: ["IPCWire", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "IPCTransportTests", dependencies: ["IPCTransport", "IPCWire", "CSystemShims", "IPCTestPeer", "TestSupport"]),
        // Helpers shared by the test targets that run ipcscope as a user would.
        .target(name: "TestSupport", dependencies: ["CSystemShims", "IPCTransport"], path: "Tests/TestSupport"),
        .testTarget(name: "IPCScopeCLITests", dependencies: ["IPCWire", "CSystemShims", "TestSupport", "IPCSyntheticTraffic"]),
        // Unmodified C program run under the interposer by RecorderTests (socketpair+fork, connect, threads).
        .executableTarget(name: "PreloadFixture", path: "Tests/Fixtures/PreloadFixture"),
        // Unmodified C programs that talk LibIPC framing (fds, acks, a transport handoff) for `record -- CMD`.
        .executableTarget(name: "LibIPCForkFixture", path: "Tests/Fixtures/LibIPCForkFixture"),
        .executableTarget(name: "LibIPCHandoffFixture", path: "Tests/Fixtures/LibIPCHandoffFixture"),
        .testTarget(
            name: "RecorderTests",
            dependencies: ["Recorder", "IPCTransport", "IPCWire", "TraceFormat", "CSystemShims", "TestSupport", "PreloadFixture", "ipcscope",
                           "LibIPCForkFixture", "LibIPCHandoffFixture", "IPCTestPeer"]
        ),
        .testTarget(
            name: "TraceAnalysisTests",
            dependencies: ["TraceAnalysis", "TraceFormat", "IPCWire", "TestSupport", "ipcscope", "FilterBench"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "ViewerModelTests", dependencies: ["ViewerModel", "TraceAnalysis", "TraceFormat", "IPCWire", "TestSupport"]),
        .testTarget(name: "TraceExportTests", dependencies: ["TraceExport", "TraceAnalysis", "TraceFormat", "TestSupport", "ipcscope"]),
        .testTarget(
            name: "TraceFormatTests", dependencies: ["TraceFormat", "IPCWire", "TestSupport", "TraceWriterStress"],
            // Traces of older format versions, read by path (SampleTraceTests).
            exclude: ["Fixtures"]),
        .testTarget(name: "DemoTests", dependencies: ["DemoPeers", "IPCWire", "IPCTransport", "TraceFormat", "CSystemShims", "TestSupport", "ipcscope"]),
    ]
)
