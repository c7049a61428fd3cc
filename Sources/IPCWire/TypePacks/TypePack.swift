/// Declarations shipped with ipcscope for the custom types of a known code base (the Ladybird pack). A
/// ``SchemaSet`` loads a pack by itself when its files refer to a type the pack declares and they do not:
/// the user's own declarations always win, without a warning.
///
/// The text is compiled in (a Swift string generated from the pack's `.ipc` file by
/// `Scripts/generate-type-pack.sh`) because IPCWire stays free of Foundation and of bundle look-ups, and
/// so that every consumer — recorder, viewer, exporters, fuzzer — has the same pack with no file to find.
public struct TypePack: Sendable {
    /// A short name for listings (`ladybird`).
    public let name: String
    /// What the pack was written from, e.g. the Ladybird commit(s).
    public let describes: String
    /// The parsed pack; nil only if the compiled-in text does not parse (a test makes sure it does).
    public let file: SchemaFile?
    public let parseError: SchemaError?

    public init(name: String, describes: String, text: String, path: String) {
        self.name = name
        self.describes = describes
        do {
            file = try SchemaParser.parse(text, path: path)
            parseError = nil
        } catch {
            file = nil
            parseError = error
        }
    }

    public var declarations: [TypeDeclaration] { file?.typeDeclarations ?? [] }

    /// The Ladybird pack (Sources/IPCWire/TypePacks/Ladybird.ipc).
    public static let ladybird = TypePack(
        name: "ladybird", describes: LadybirdTypePackText.describes, text: LadybirdTypePackText.text,
        path: "<type pack ladybird>")

    /// The packs a ``SchemaSet`` considers unless told otherwise.
    public static let defaults: [TypePack] = [.ladybird]
}

extension TypeReference {
    /// Every declared-name candidate in this type: its base name (without `::` in front) and, recursively,
    /// those of its arguments.
    func forEachBaseName(_ body: (String) -> Void) {
        if !isLiteral { body(TypeTable.declaredName(self)) }
        for argument in arguments { argument.forEachBaseName(body) }
    }
}
