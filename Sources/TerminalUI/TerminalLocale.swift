import CNCurses
import ViewerModel

/// What the locale lets the terminal show. `prepare()` must run before the model is built, so the model
/// gets the right glyphs, and before ncurses starts (which needs the locale for wide characters).
public struct TerminalLocale: Sendable, Equatable {
    /// The locale's character set is UTF-8 (nl_langinfo(CODESET)).
    public var isUTF8: Bool

    /// Unicode box drawing and arrows in a UTF-8 locale, ASCII in any other.
    public var glyphs: Glyphs { isUTF8 ? .unicode : .ascii }

    /// Applies the user's locale (setlocale(LC_ALL, "")) and reads its character set.
    public static func prepare() -> TerminalLocale {
        setlocale(LC_ALL, "")
        return current()
    }

    /// The character set of the locale in force, without changing it.
    public static func current() -> TerminalLocale {
        guard let codeset = ipcs_curses_codeset() else { return TerminalLocale(isUTF8: false) }
        let name = String(cString: codeset).uppercased()
        return TerminalLocale(isUTF8: name == "UTF-8" || name == "UTF8")
    }
}
