import CNCurses
import Testing
import TerminalUI
import ViewerModel

@Suite struct InputTranslatorTests {
    @Test func charactersAndControlKeys() {
        #expect(InputTranslator.key(character: 0x6A) == .character("j"))
        #expect(InputTranslator.key(character: 0xE9) == .character("é"))
        #expect(InputTranslator.key(character: 0x1F600) == .character("😀"))
        #expect(InputTranslator.key(character: 0x0D) == .enter)
        #expect(InputTranslator.key(character: 0x0A) == .enter)
        #expect(InputTranslator.key(character: 0x09) == .tab)
        #expect(InputTranslator.key(character: 0x1B) == .escape)
        #expect(InputTranslator.key(character: 0x7F) == .backspace)
        #expect(InputTranslator.key(character: 0x08) == .backspace)
        #expect(InputTranslator.key(character: 0x01) == .control("a"))
        #expect(InputTranslator.key(character: 0x0C) == .control("l"))
        #expect(InputTranslator.key(character: 0x1A) == .control("z"))
        #expect(InputTranslator.key(character: 0x00) == nil)
        #expect(InputTranslator.key(character: 0x1C) == nil)
        #expect(InputTranslator.key(character: 0x9B) == nil) // C1 CSI never becomes a key
        #expect(InputTranslator.key(character: 0xD800) == nil) // a surrogate is not a scalar
        #expect(InputTranslator.key(character: 0x11_0000) == nil)
    }

    @Test func keyCodes() {
        let table: [(Int32, Key)] = [
            (KEY_UP, .up), (KEY_DOWN, .down), (KEY_LEFT, .left), (KEY_RIGHT, .right), (KEY_PPAGE, .pageUp),
            (KEY_NPAGE, .pageDown), (KEY_HOME, .home), (KEY_END, .end), (KEY_ENTER, .enter),
            (KEY_BACKSPACE, .backspace), (KEY_DC, .delete), (KEY_BTAB, .backTab),
        ]
        for (code, key) in table { #expect(InputTranslator.key(code: code) == key) }
        #expect(InputTranslator.key(code: ipcs_curses_key_f0() + 1) == .function(1))
        #expect(InputTranslator.key(code: ipcs_curses_key_f0() + 12) == .function(12))
        #expect(InputTranslator.key(code: ipcs_curses_key_f0()) == nil)
        #expect(InputTranslator.key(code: KEY_SHOME) == nil)
    }

    @Test func mouseButtonsWheelAndRelease() {
        func translate(_ state: mmask_t) -> MouseEvent.Action? { InputTranslator.mouse(buttonState: state, row: 5, column: 10)?.action }
        #expect(translate(ipcs_curses_button_pressed(1)) == .press(button: 1))
        #expect(translate(ipcs_curses_button_pressed(3)) == .press(button: 3))
        #expect(translate(ipcs_curses_button_clicked(2)) == .press(button: 2))
        #expect(translate(ipcs_curses_button_pressed(4)) == .wheelUp)
        #expect(translate(ipcs_curses_button_pressed(5)) == .wheelDown)
        #expect(translate(ipcs_curses_button_released(1)) == .release)
        #expect(translate(0) == nil)
        #expect(InputTranslator.mouse(buttonState: ipcs_curses_button_pressed(1), row: 5, column: 10) == MouseEvent(.press(button: 1), row: 5, column: 10))
    }
}
