import IPCWire

/// Decodes arbitrary payloads against a fixed schema that uses every built-in type, nesting, variants,
/// structs with fds, and the Ladybird type pack's declarations (loaded because the schema names them).
/// Input: `u8 message · u8 attachments · payload body`. What must hold: no trap; the same input decodes to
/// the same message twice; no more attachments consumed than the frame carries.
enum DecodeFuzzing {
    static let schemaText = """
        // @ipcscope enum Fuzz::Mode : u8 { Off, On, Auto = 7 }
        // @ipcscope enum Fuzz::Wide : i64 { Low = -9, High = 9000000000 }
        // @ipcscope type Fuzz::Handle = u64
        // @ipcscope struct Fuzz::Pair { String name; Optional<Fuzz::Pair> next }
        // @ipcscope struct Fuzz::WithFile { IPC::File file; Vector<u8> bytes }
        // @ipcscope variant Fuzz::Reply : u8 { 0 = String value, 3 = Vector<Fuzz::Mode> error }
        endpoint Fuzz
        {
            scalars(bool a, u8 b, i16 c, u32 d, i64 e, float f, double g, size_t h) =|
            strings(ByteString a, String b, Utf16String c, FlyString d, ByteBuffer e) =|
            containers(Vector<i32> a, HashMap<String, Vector<Optional<u8>>> b, Array<u16, 3> c, OrderedHashMap<u32, ByteString> d) =|
            variants(Variant<Empty, i32, String, Vector<String>> a, Optional<Optional<u64>> b) =|
            declared(Fuzz::Mode a, Fuzz::Wide b, Fuzz::Handle c, Fuzz::Pair d, Fuzz::Reply e) =|
            files(IPC::File a, Vector<IPC::File> b, Fuzz::WithFile c, Optional<IPC::File> d) =|
            web(URL::URL a, Vector<Web::HTML::CrossProcessId> b, Web::UniqueNodeID c) =|
            nested(Vector<Vector<Vector<Fuzz::Pair>>> a) => (Vector<HashMap<u8, Fuzz::Reply>> b)
        }
        """

    static let decoder: PayloadDecoder? = {
        guard let file = try? SchemaParser.parse(schemaText, path: "fuzz-decode.ipc") else { return nil }
        return PayloadDecoder(files: [file])
    }()

    static let descriptors: [MessageDescriptor] = {
        (try? SchemaParser.parse(schemaText, path: "fuzz-decode.ipc"))?.messageDescriptors ?? []
    }()

    static func run(_ data: UnsafeRawBufferPointer) {
        guard let decoder, !descriptors.isEmpty, data.count >= 2 else {
            if decoder == nil { fatalError("the decode target's own schema does not parse") }
            return
        }
        let descriptor = descriptors[Int(data[0]) % descriptors.count]
        let attachments = Int(data[1] % 9)
        var payload: [UInt8] = []
        MessageEnvelope(magic: descriptor.magic, messageID: descriptor.id).append(to: &payload)
        payload.append(contentsOf: data.dropFirst(2))
        let first = decoder.decode(payload: payload, attachmentCount: attachments)
        let second = decoder.decode(payload: payload, attachmentCount: attachments)
        // Compared as text: a decoded float may be NaN, which is never == itself.
        precondition(first == second || "\(first)" == "\(second)", "decoding is not deterministic")
        precondition(first.attachmentsConsumed <= attachments, "consumed \(first.attachmentsConsumed) of \(attachments) attachments")
    }
}

extension DecodeFuzzing {
    /// Valid inputs for every message (random values from IPCValueGenerator, encoded by IPCEncoder), so
    /// fuzzing starts deep in the decoder: `IPCScopeFuzz --write-decode-seeds DIR`.
    static func writeSeeds(into directory: String) -> Int32 {
        guard let decoder else { return 1 }
        var generator = IPCValueGenerator(types: decoder.schemas.types, random: SplitMix64(seed: 0x1D5C))
        var written = 0
        for (index, descriptor) in descriptors.enumerated() {
            for round in 0..<4 {
                guard let arguments = try? generator.arguments(for: descriptor) else { continue }
                var encoder = IPCEncoder()
                do { try encoder.encode(message: descriptor, arguments: arguments, types: decoder.schemas.types) } catch { continue }
                let input = [UInt8(index), UInt8(min(encoder.attachments.count, 8))] + encoder.bytes.dropFirst(8)
                guard writeWholeFile("\(directory)/\(descriptor.name)-\(round)", input) else { return 1 }
                written += 1
            }
        }
        print("wrote \(written) seeds to \(directory)")
        return written > 0 ? 0 : 1
    }
}
