import IPCWire

/// The scalable part of the demo (`--messages N`): the UI streams input events to WebContent, which
/// repaints now and then and talks to RequestServer over its WebSocket. Every value is derived from the
/// input's index, so each side checks what it receives without remembering anything per message.
///
/// Per `window` of input events: the inputs, one did_invalidate per 4, one did_paint per 32, one
/// websocket_send per 8 and one websocket_received per 32, a sync ping (2 messages) and WebContent's sync
/// get_cache_size to RequestServer (2).
enum BulkTraffic {
    /// Inputs between two sync pings: the flow control that keeps every queue short (a window is about
    /// 30 KiB of messages), and long enough that the processes work in parallel within it.
    static let window = 512
    static let messagesPerWindow = window + window / 4 + window / 32 + window / 8 + window / 32 + 2 + 2

    /// Input events to send so that the bulk adds about `budget` messages in all.
    static func inputCount(budget: Int) -> Int {
        guard budget > 0 else { return 0 }
        return max(1, Int((Double(budget) * Double(window) / Double(messagesPerWindow)).rounded()))
    }

    static func invalidates(after input: Int) -> Bool { input % 4 == 3 }
    static func paints(after input: Int) -> Bool { input % 32 == 31 }
    static func sendsWebSocketFrame(after input: Int) -> Bool { input % 8 == 7 }
    static func echoes(frame: UInt64) -> Bool { frame % 4 == 3 }
    static func endsWindow(_ input: Int, of total: Int) -> Bool { (input + 1) % window == 0 || input == total - 1 }

    /// How many of the first `inputs` events trigger `rule`.
    static func count(of inputs: Int, where rule: (Int) -> Bool) -> Int {
        // The rules are periodic; count whole periods and the rest.
        let period = 32
        let perPeriod = (0..<period).filter(rule).count
        return (inputs / period) * perPeriod + (0..<(inputs % period)).filter(rule).count
    }

    /// Even inputs are mouse events, odd ones key events.
    static func isMouse(_ input: Int) -> Bool { input % 2 == 0 }

    struct MouseInput {
        var x: Int32
        var y: Int32
        /// A `Demo::MouseButton` case name.
        var button: String
        var modifiers: UInt32
    }

    struct KeyInput {
        var codePoint: UInt32
        var repeatCount: Int8
        var text: String
    }

    static let mouseButtons = ["None", "Primary", "Secondary", "Middle"]

    static func mouse(_ input: Int, seed: UInt64) -> MouseInput {
        let word = DemoContent.mix(seed ^ 0x3005E, UInt64(input))
        return MouseInput(
            x: Int32(word % 1280), y: Int32((word >> 16) % 720), button: mouseButtons[Int((word >> 32) % 4)],
            modifiers: UInt32(truncatingIfNeeded: input))
    }

    /// Code points cycle through ASCII, Latin-1, the BMP and beyond it (a surrogate pair in UTF-16).
    static func key(_ input: Int, seed: UInt64) -> KeyInput {
        let word = DemoContent.mix(seed ^ 0x4E7, UInt64(input))
        let samples: [Unicode.Scalar] = ["a", "Z", "7", "é", "ß", "€", "✓", "𝄞"]
        let scalar = samples[Int(word % UInt64(samples.count))]
        return KeyInput(
            codePoint: scalar.value, repeatCount: Int8(truncatingIfNeeded: Int64(bitPattern: word >> 8) % 5),
            text: String(Character(scalar)))
    }

    /// mouse_event's arguments for the schema-driven encoder.
    static func mouseArguments(_ input: Int, seed: UInt64) -> [IPCValue] {
        let mouse = mouse(input, seed: seed)
        return [.u(DemoContent.pageID), .intPoint(x: mouse.x, y: mouse.y), .enumeration(mouse.button), .u(mouse.modifiers)]
    }

    static func keyArguments(_ input: Int, seed: UInt64) -> [IPCValue] {
        let key = key(input, seed: seed)
        return [.u(DemoContent.pageID), .u(key.codePoint), .s(key.repeatCount), .string(key.text)]
    }

    static func invalidatedRect(_ input: Int) -> (x: Int32, y: Int32, width: Int32, height: Int32) {
        (Int32(input % 1280), Int32(input % 720), 32, 32)
    }

    static func invalidateArguments(_ input: Int) -> [IPCValue] {
        let rect = invalidatedRect(input)
        return [.u(DemoContent.pageID), .list([.intRect(x: rect.x, y: rect.y, width: rect.width, height: rect.height)])]
    }

    static func websocketSendArguments(_ frame: UInt64, seed: UInt64) -> [IPCValue] {
        [.s(DemoContent.websocketID), .flag(frame % 2 == 0), .bytes(DemoContent.websocketPayload(frame, seed: seed))]
    }
}
