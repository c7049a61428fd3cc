// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "ipcscope",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ipcscope", targets: ["ipcscope"]),
        .library(name: "IPCWire", targets: ["IPCWire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The LibIPC protocol as data. Standard library only: no sockets, files or Foundation.
        .target(name: "IPCWire"),
        // What Swift cannot import from glibc: CMSG_* macros, _GNU_SOURCE calls, epoll, ioctls.
        .target(name: "CSystemShims"),
        // A real LibIPC-compatible endpoint over AF_UNIX stream sockets.
        .target(name: "IPCTransport", dependencies: ["IPCWire", "CSystemShims"]),
        .executableTarget(
            name: "ipcscope",
            dependencies: [
                "IPCWire", "IPCTransport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The interposing proxy: relays bytes and fds unchanged, parses both directions, records.
        .target(name: "Recorder", dependencies: ["IPCWire", "IPCTransport", "CSystemShims"]),
        // libFuzzer harness; see docs/fuzzing.md. Built normally it replays inputs given as files.
        .executableTarget(name: "IPCScopeFuzz", dependencies: ["IPCWire", "CSystemShims"]),
        // Peer process for IPCTransport's cross-process tests (echo, fd sink, hostile frames, transfer).
        .executableTarget(name: "IPCTestPeer", dependencies: ["IPCTransport", "IPCWire", "CSystemShims"]),
        .testTarget(name: "IPCWireTests", dependencies: ["IPCWire"], resources: [.copy("Fixtures")]),
        .testTarget(name: "IPCTransportTests", dependencies: ["IPCTransport", "IPCWire", "CSystemShims", "IPCTestPeer"]),
        .testTarget(name: "RecorderTests", dependencies: ["Recorder", "IPCTransport", "IPCWire", "CSystemShims"]),
        .testTarget(name: "IPCScopeCLITests", dependencies: ["IPCWire", "CSystemShims"]),
    ]
)
