/// The `SOCKET_TAKEOVER` environment variable through which a Ladybird parent hands a helper process its
/// IPC socket (docs/protocol.md §7): entries `name:fd` separated by `;`, e.g. `WebContent:7`.
///
/// This is the pure text side. Reading the variable and checking the fd live in IPCTransport
/// (`SocketTakeover.takeOver(name:)`).
public enum SocketTakeover {
    public static let environmentVariable = "SOCKET_TAKEOVER"

    public struct Entry: Equatable, Hashable, Sendable, CustomStringConvertible {
        public var name: String
        public var fd: Int32

        public init(name: String, fd: Int32) {
            self.name = name
            self.fd = fd
        }

        public var description: String { "\(name):\(fd)" }
    }

    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The variable holds no entry at all.
        case empty
        /// An entry has no `:` or more than one.
        case malformedEntry(String)
        /// An entry's name part is empty.
        case emptyName(entry: String)
        /// An entry's fd part is not a non-negative decimal that fits in Int32.
        case invalidFD(entry: String)
        /// No name was asked for, but the variable does not hold exactly one entry.
        case ambiguous(names: [String])
        /// The name asked for is not in the variable.
        case noSuchName(String, available: [String])

        public var description: String {
            switch self {
            case .empty: return "\(SocketTakeover.environmentVariable) holds no entry"
            case .malformedEntry(let entry): return "entry '\(entry)' is not of the form name:fd"
            case .emptyName(let entry): return "entry '\(entry)' has an empty name"
            case .invalidFD(let entry): return "entry '\(entry)' has no valid fd number"
            case .ambiguous(let names):
                return "no socket name given, but \(names.count) entries are present: \(names.joined(separator: ", "))"
            case .noSuchName(let name, let available):
                return "no entry named '\(name)' (present: \(available.joined(separator: ", ")))"
            }
        }
    }

    /// Parses `name:fd;name:fd…`. Empty entries (`a:3;;` or a trailing `;`) are skipped, as
    /// Ladybird's `split_view(';')` does. Entries keep their order; duplicates are kept.
    public static func parse(_ value: String) throws(ParseError) -> [Entry] {
        var entries: [Entry] = []
        for part in value.split(separator: ";", omittingEmptySubsequences: true) {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 2 else { throw .malformedEntry(String(part)) }
            let name = String(fields[0])
            guard !name.isEmpty else { throw .emptyName(entry: String(part)) }
            guard let fd = parseFD(fields[1]) else { throw .invalidFD(entry: String(part)) }
            entries.append(Entry(name: name, fd: fd))
        }
        guard !entries.isEmpty else { throw .empty }
        return entries
    }

    /// The inverse of ``parse(_:)``.
    public static func format(_ entries: [Entry]) -> String {
        entries.map(\.description).joined(separator: ";")
    }

    public static func format(name: String, fd: Int32) -> String {
        format([Entry(name: name, fd: fd)])
    }

    /// Picks the entry a helper takes over. With a name, the last entry of that name wins (Ladybird stores
    /// the entries in a hash map). Without one, exactly one distinct name must be present.
    public static func select(name: String?, from entries: [Entry]) throws(ParseError) -> Entry {
        var distinct: [String] = []
        for entry in entries where !distinct.contains(entry.name) { distinct.append(entry.name) }
        if let name {
            guard let entry = entries.last(where: { $0.name == name }) else {
                throw .noSuchName(name, available: distinct)
            }
            return entry
        }
        guard distinct.count == 1, let entry = entries.last else { throw .ambiguous(names: distinct) }
        return entry
    }

    /// Decimal digits only: no sign, no whitespace, no overflow.
    private static func parseFD(_ text: Substring) -> Int32? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int32(text)
    }
}
