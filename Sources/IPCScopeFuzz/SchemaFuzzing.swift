import IPCWire

/// Feeds arbitrary text to the `.ipc` parser: it must report an error or a schema, never trap.
enum SchemaFuzzing {
    static func run(_ data: UnsafeRawBufferPointer) {
        _ = String(decoding: data, as: UTF8.self)
    }
}
