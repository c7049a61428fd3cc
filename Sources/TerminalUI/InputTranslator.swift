import CNCurses
import ViewerModel

/// ncurses input as the model's `InputEvent`s. Pure functions of the codes, so they are tested without a
/// terminal; the session feeds them what `wget_wch` and `getmouse` return.
public enum InputTranslator {
    /// A character `wget_wch` returned with `OK`. Control characters become named keys or `.control`;
    /// ones the model has no use for (NUL, C1, Ctrl-\ … Ctrl-_) are dropped.
    public static func key(character value: UInt32) -> Key? {
        switch value {
        case 0x09: return .tab
        case 0x0A, 0x0D: return .enter
        case 0x1B: return .escape
        case 0x08, 0x7F: return .backspace
        case 0x01...0x1A: return .control(Character(Unicode.Scalar(UInt8(0x60) + UInt8(value))))
        case 0x00...0x1F, 0x80...0x9F: return nil
        default:
            guard let scalar = Unicode.Scalar(value) else { return nil }
            return .character(Character(scalar))
        }
    }

    /// A key code `wget_wch` returned with `KEY_CODE_YES` (not `KEY_MOUSE` or `KEY_RESIZE`, which the
    /// session handles). Codes the model has no key for are dropped.
    public static func key(code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_BTAB: return .backTab
        default:
            let f0 = ipcs_curses_key_f0()
            if code > f0, code <= f0 + 63 { return .function(Int(code - f0)) }
            return nil
        }
    }

    /// A mouse report (`getmouse`'s `bstate`, 0-based cell). Presses of buttons 1–3, wheel (buttons 4 and
    /// 5) and releases; motion and modifier-only reports are dropped.
    public static func mouse(buttonState: mmask_t, row: Int, column: Int) -> MouseEvent? {
        if buttonState & ipcs_curses_button_pressed(4) != 0 { return MouseEvent(.wheelUp, row: row, column: column) }
        if buttonState & ipcs_curses_button_pressed(5) != 0 { return MouseEvent(.wheelDown, row: row, column: column) }
        for button in 1...3 {
            let pressed = ipcs_curses_button_pressed(Int32(button)) | ipcs_curses_button_clicked(Int32(button))
            if buttonState & pressed != 0 { return MouseEvent(.press(button: button), row: row, column: column) }
        }
        for button in 1...5 where buttonState & ipcs_curses_button_released(Int32(button)) != 0 {
            return MouseEvent(.release, row: row, column: column)
        }
        return nil
    }
}
