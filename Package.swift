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
        // Latency percentiles for `stats` (bounded memory whatever the number of calls).
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // Theme files for the viewer (TOML).
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
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
        // Reading traces: the incremental analysis (Analysis/), the filter language (Filter/), `show`'s lines
        // and `stats`' report. Pure: no I/O beyond the reader, no terminal.
        .target(
            name: "TraceAnalysis",
            dependencies: ["TraceFormat", "IPCWire", "SystemSupport", .product(name: "Histogram", package: "hdrhistogram-swift")]
        ),
        // `export`: JSON, JSON Lines and Chrome Trace Event Format from an indexed trace (docs/export.md).
        .target(name: "TraceExport", dependencies: ["TraceAnalysis", "TraceFormat", "IPCWire", "SystemSupport"]),
        // The viewer's model: state, key table, layout and views rendering into a CellGrid. No terminal in it.
        .target(name: "ViewerModel", dependencies: ["TraceAnalysis", "TraceFormat", "IPCWire"]),
        // The shipped theme files (Themes/*.toml), as resources; the folder holds one Swift file that finds them.
        .target(
            name: "ShippedThemes", path: "Themes", exclude: ["README.md"],
            resources: [.copy("default.toml"), .copy("light.toml"), .copy("high-contrast.toml"), .copy("mono.toml")]
        ),
        // Themes as data: TOML loading (hostile input: bounded, errors name key and line), colour down-mapping.
        // Pure: no terminal, so it is tested without one.
        .target(
            name: "TerminalTheme",
            dependencies: ["ViewerModel", "ShippedThemes", "SystemSupport", .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        // ncursesw for Swift: the module map and a shim for macros and C globals (docs/architecture.md).
        .systemLibrary(name: "CNCurses", pkgConfig: "ncursesw", providers: [.apt(["libncurses-dev"])]),
        // Async-signal-safe terminal restoration and signal plumbing for TerminalUI, in C.
        .target(name: "CTerminalSignals"),
        // The only code that calls ncurses: draws a CellGrid, reads keys and mouse, restores the terminal.
        .target(name: "TerminalUI", dependencies: ["ViewerModel", "TerminalTheme", "CNCurses", "CTerminalSignals"]),
        // The built-in demo: UI, WebContent and RequestServer peers that talk LibIPC like Ladybird (docs/demo.md).
        .target(
            name: "DemoPeers", dependencies: ["IPCTransport", "IPCWire", "SystemSupport", "CSystemShims"], resources: [.copy("Schemas")]
        ),
        .executableTarget(
            name: "ipcscope",
            dependencies: [
                "IPCWire", "IPCTransport", "TraceFormat", "TraceAnalysis", "TraceExport", "DemoPeers", "Recorder", "ViewerModel", "TerminalUI", "TerminalTheme",
                "SystemSupport",
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
        .executableTarget(name: "IPCScopeFuzz", dependencies: ["IPCWire", "TraceFormat", "TraceAnalysis", "TerminalTheme", "CSystemShims"]),
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
        // `TraceIndexBench viewer`: the viewer's model on the same generated traces (10 k, 1 M, 10 M events).
        .executableTarget(name: "TraceIndexBench", dependencies: ["TraceFormat", "IPCWire", "ViewerModel"]),
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
        .target(name: "TestSupport", dependencies: ["CSystemShims", "IPCTransport", "IPCWire"], path: "Tests/TestSupport"),
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
        // A tiny ViewerProgram under the real TerminalSession, driven in tmux by TerminalUITests.
        .executableTarget(
            name: "TerminalUIFixture", dependencies: ["TerminalUI", "TerminalTheme", "ViewerModel"],
            path: "Tests/Fixtures/TerminalUIFixture"
        ),
        .testTarget(
            name: "TerminalUITests",
            dependencies: ["ipcscope", "IPCTestPeer", "TerminalUI", "TerminalTheme", "ViewerModel", "CNCurses", "TestSupport", "TerminalUIFixture"]
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
