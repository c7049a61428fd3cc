#if canImport(Glibc)
import Glibc
#endif
import ShippedThemes
import Testing
import TestSupport
@testable import TerminalTheme
import ViewerModel

@Suite struct ShippedThemeTests {
    @Test(arguments: ShippedThemes.names)
    func loadsAndSetsEveryRole(name: String) throws {
        let theme = try Theme.shipped(name)
        #expect(theme.name == name)
        #expect(theme.missingRoles.isEmpty, "roles \(theme.missingRoles) not set in \(name).toml")
    }

    @Test func monoHasNoColourAndTheOthersDo() throws {
        #expect(try Theme.shipped("mono").usesColor == false)
        for name in ["default", "light", "high-contrast"] { #expect(try Theme.shipped(name).usesColor, "\(name)") }
    }

    @Test func monoStillTellsTheRolesThatMatterApart() throws {
        let mono = try Theme.shipped("mono")
        #expect(mono[.selection].attributes.contains(.reverse))
        #expect(mono[.violation] != mono[.normal])
        #expect(mono[.ack] != mono[.message])
    }
}

@Suite struct ThemeChoiceTests {
    @Test func explicitOptionBeatsNoColorWhichBeatsTheEnvironmentVariable() throws {
        #expect(try Theme.load(nameOrPath: nil, environment: [:]).name == "default")
        #expect(try Theme.load(nameOrPath: nil, environment: ["IPCSCOPE_THEME": "light"]).name == "light")
        #expect(try Theme.load(nameOrPath: nil, environment: ["NO_COLOR": "1", "IPCSCOPE_THEME": "light"]).name == "mono")
        #expect(try Theme.load(nameOrPath: nil, environment: ["NO_COLOR": ""]).name == "default") // empty: not set
        #expect(try Theme.load(nameOrPath: "high-contrast", environment: ["NO_COLOR": "1"]).name == "high-contrast")
    }

    @Test func unknownNameListsTheShippedThemes() {
        #expect {
            try Theme.load(nameOrPath: "solarised", environment: [:])
        } throws: { error in
            let text = "\(error)"
            return text.contains("solarised") && text.contains("high-contrast") && text.contains("path")
        }
    }

    @Test func aPathIsReadAsAFile() throws {
        let path = try TemporaryFile.write("[theme]\nname = \"mine\"\n[styles]\nviolation = { fg = \"red\" }\n")
        defer { TemporaryFile.remove(path) }
        let theme = try Theme.load(nameOrPath: path, environment: ["NO_COLOR": "1"])
        #expect(theme.name == "mine")
        #expect(theme[.violation].foreground == .ansi(1))
        #expect(theme.missingRoles.contains(.title))
        #expect(theme[.title] == theme[.normal])
    }

    @Test func fifosDevicesAndHugeFilesAreRefusedWithoutHanging() throws {
        #expect(throws: ThemeError.self) { try Theme.load(path: "/dev/zero") }
        let fifo = try TemporaryFile.fifo()
        defer { TemporaryFile.remove(fifo) }
        #expect { try Theme.load(path: fifo) } throws: { "\($0)".contains("not a regular file") }
        let big = try TemporaryFile.write("# " + String(repeating: "x", count: ThemeParser.maximumBytes) + "\n")
        defer { TemporaryFile.remove(big) }
        #expect { try Theme.load(path: big) } throws: { "\($0)".contains("larger than 64 KiB") }
        #expect { try Theme.load(path: "/nonexistent/theme.toml") } throws: { "\($0)".contains("cannot open") }
    }
}

@Suite struct ThemeErrorTests {
    func error(_ text: String) -> ThemeError? {
        do {
            _ = try ThemeParser.parse(bytes: Array(text.utf8), source: "t.toml")
            return nil
        } catch {
            return error
        }
    }

    @Test func unknownColourNamesKeyAndLine() throws {
        let e = try #require(error("[styles]\nnormal = {}\n\nviolation = { fg = \"redd\", bg = \"black\" }\n"))
        #expect(e.line == 4)
        #expect(e.key == "styles.violation.fg")
        #expect(e.description == "theme t.toml:4: styles.violation.fg: unknown colour \"redd\"; expected a colour name "
            + "(black, red, green, … bright-white), default, \"#rrggbb\", or 0-255") // as docs/themes.md shows it
    }

    @Test func unknownRoleNamesKeyAndLine() throws {
        let e = try #require(error("# comment\n[styles]\nnormal = {}\nviolations = { fg = \"red\" }\n"))
        #expect(e.line == 4)
        #expect(e.key == "styles.violations")
        #expect(e.message.contains("unknown style role"))
    }

    @Test func keysInTableFormAreFoundToo() throws {
        let e = try #require(error("[styles.violation]\nfg = \"red\"\nattributes = [\"bold\", \"blink\"]\n[styles.title]\nbogus = 1\n"))
        // Both are wrong; the first in the file is reported.
        #expect(e.line == 3)
        #expect(e.key == "styles.violation.attributes")
        #expect(e.message.contains("unknown attribute \"blink\""))
        let second = try #require(error("[styles.title]\nfg = 7\nbogus = 1\n"))
        #expect(second.line == 3)
        #expect(second.key == "styles.title.bogus")
    }

    @Test func unknownTopLevelAndMetadataKeys() throws {
        let e = try #require(error("[theme]\nname = \"x\"\nauthor = \"me\"\n[styles]\n"))
        #expect(e.line == 3)
        #expect(e.key == "theme.author")
        let top = try #require(error("colours = 1\n[styles]\n"))
        #expect(top.line == 1)
        #expect(top.key == "colours")
    }

    @Test func wrongTypesAndRanges() throws {
        let index = try #require(error("[styles]\nnormal = { fg = 300 }\n"))
        #expect(index.line == 2)
        #expect(index.message.contains("300 is not in 0-255"))
        let type = try #require(error("[styles]\nnormal = { fg = true }\n"))
        #expect(type.message.contains("found a boolean"))
        let notTable = try #require(error("[styles]\nnormal = \"red\"\n"))
        #expect(notTable.key == "styles.normal")
        #expect(notTable.message.contains("must be a table"))
    }

    @Test func syntaxErrorsCarryTOMLKitsLine() throws {
        let e = try #require(error("[styles]\nnormal = {}\ndim = { fg = \"red\" \n"))
        #expect(e.line == 3)
        #expect(e.message.hasPrefix("TOML syntax"))
    }

    @Test func hostileBytesAreErrorsNotCrashes() throws {
        #expect(error("[styles]\nnormal = {}\n\0evil = 1\n")?.line == 3)
        do {
            _ = try ThemeParser.parse(bytes: Array("[styles]\n".utf8) + [0xFF, 0xFE], source: "t")
            Issue.record("invalid UTF-8 accepted")
        } catch {
            #expect(error.line == 2)
        }
        // Deep nesting: TOMLKit (toml++) refuses it rather than recursing without bound.
        let deep = "x = " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000) + "\n"
        #expect(error(deep) != nil)
        // What aborts TOMLKit's parser (toml++ asserts) is refused before it gets there.
        for (text, line) in [("[styles]\nnormal = { attributes = [}\"bold\"] }\n", 2), ("a = [1,\n}]\n", 2), ("[# x\n", 1),
                             ("x = 1\n[é]\n", 2), ("[[=]]\n", 1), ("[\n]\n", 1),
                             ("[[[x]]]\n", 1), ("[styles]\n[[[[Z[[\n", 2), ("[[\r\r fg = 1\n", 1), ("[\rx]\n", 1),
                             ("\u{FEFF} [,\"bold\"] }\n", 1)] {
            let e = try #require(error(text), "\(text)")
            #expect(e.line == line, "\(text)")
        }
        // Array-of-tables headers are not hazards; a third bracket is, however spaced.
        #expect(TOMLHazards.firstHazardLine(in: Array("[[x]]\n[[ y ]]\n[ [z]]\n".utf8)) == 3)
        #expect(TOMLHazards.firstHazardLine(in: Array("[[x]]\n[[ y ]]\n".utf8)) == nil)
        #expect(TOMLHazards.firstHazardLine(in: Array("[theme]\r\nname = \"x\"\r\n[styles]\r\n".utf8)) == nil, "CRLF lines are fine")
        #expect(error("[[[x]]]\n")?.description.contains("a table header must start with a key") == true)
        #expect(error("a = [}]\n")?.description.contains("`}` where a list element is expected") == true)
        // …while what looks like it inside strings and comments is not.
        #expect(error("[theme]\nname = \"[}\"\ndescription = '''\n[#\n'''\n# a = [}]\n[styles]\n") == nil)
        // Control characters in a key reach the message escaped, never raw.
        let e = try #require(error("[styles]\n\"\\u001b[31mred\" = {}\n")) // a TOML escape: the key holds a real ESC
        #expect(e.key?.hasPrefix("styles.\u{1B}") == true)
        #expect(!e.description.contains("\u{1B}"))
        #expect(e.description.contains("\\u{1b}"))
    }
}

private func getenvString(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

@Suite struct ThemeMutationTests {
    /// Mutated copies of a real theme (bytes replaced, inserted, deleted): each one is a theme or a
    /// ThemeError, never a crash, and every error it reports names a line inside the file. This found the
    /// two inputs that abort TOMLKit's parser (TOMLHazards); THEME_MUTATIONS=100000 ran clean.
    @Test func mutatedThemesNeverCrash() throws {
        let path = try #require(ShippedThemes.path(of: "default"))
        let original = try Theme.readBounded(path: path)
        let lineCount = original.filter { $0 == 0x0A }.count + 1
        var random = SplitMix64(seed: 0x7E4E)
        let interesting: [UInt8] = Array("[]{}=\"#,.\n\\ 0x#ffff-".utf8) + [0x00, 0xC3, 0xFF, 0x1B]
        var accepted = 0, rejected = 0
        for _ in 0..<(Int(getenvString("THEME_MUTATIONS") ?? "") ?? 2_000) {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[at] = interesting.randomElement(using: &random)!
                case 1: bytes.insert(interesting.randomElement(using: &random)!, at: at)
                case 2: if bytes.count > 1 { bytes.remove(at: at) }
                default: bytes[at] = UInt8.random(in: 0...255, using: &random)
                }
            }
            do {
                _ = try ThemeParser.parse(bytes: bytes, source: "mutated")
                accepted += 1
            } catch {
                rejected += 1
                if let line = error.line { #expect((1...lineCount + 4).contains(line), "\(error)") }
            }
        }
        #expect(accepted > 0 && rejected > 0) // the mutations reach both outcomes
    }
}

@Suite struct ColourMappingTests {
    @Test func namesHexAndDefault() {
        #expect(ThemeColor(name: "bright-blue") == .ansi(12))
        #expect(ThemeColor(name: "#5fafff") == .rgb(red: 0x5F, green: 0xAF, blue: 0xFF))
        #expect(ThemeColor(name: "default") == .terminalDefault)
        #expect(ThemeColor(name: "#5fafzz") == nil)
        #expect(ThemeColor(name: "#+5fafff") == nil)
        #expect(ThemeColor(name: "Red") == nil)
    }

    @Test func rgbGoesToThePaletteTheTerminalHas() {
        let blue = ThemeColor.rgb(red: 0x5F, green: 0xAF, blue: 0xFF)
        #expect(blue.terminalColor(colors: 256) == 75) // exactly cube entry 75
        #expect(blue.terminalColor(colors: 16) == 12) // bright blue
        #expect(blue.terminalColor(colors: 8) == 6) // cyan: nearer than blue (0,0,238) once green counts
        #expect(blue.terminalColor(colors: 2) == nil) // no colour at all
        #expect(ThemeColor.rgb(red: 0x80, green: 0x80, blue: 0x80).terminalColor(colors: 256) == 244)
    }

    @Test func brightColoursFoldOnEightColourTerminals() {
        #expect(ThemeColor.ansi(14).terminalColor(colors: 16) == 14)
        #expect(ThemeColor.ansi(14).terminalColor(colors: 8) == 6)
        #expect(ThemeColor.indexed(196).terminalColor(colors: 256) == 196)
        #expect(ThemeColor.indexed(196).terminalColor(colors: 16) == 9) // pure red → bright red
        #expect(ThemeColor.indexed(196).terminalColor(colors: 8) == 1)
        #expect(ThemeColor.terminalDefault.terminalColor(colors: 256) == nil)
    }

    @Test func aPairThatFoldsOntoOneColourKeepsItsText() {
        let theme = Theme(name: "t", source: "t", styles: [.match: ThemeStyle(foreground: .ansi(6), background: .ansi(14))])
        #expect(theme.terminalColors(role: .match, colors: 16) == (6, 14))
        let folded = theme.terminalColors(role: .match, colors: 8)
        #expect(folded.foreground == 6 && folded.background == nil)
    }

    @Test func withoutColorsKeepsAttributes() throws {
        let stripped = try Theme.shipped("default").withoutColors()
        #expect(!stripped.usesColor)
        #expect(stripped[.title].attributes.contains(.bold))
    }
}
