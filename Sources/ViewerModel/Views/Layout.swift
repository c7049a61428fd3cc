/// A rectangle of the screen.
struct Rect: Equatable, Sendable {
    var row: Int
    var column: Int
    var height: Int
    var width: Int

    static let empty = Rect(row: 0, column: 0, height: 0, width: 0)

    var isEmpty: Bool { height <= 0 || width <= 0 }
    var bottom: Int { row + height }
    var right: Int { column + width }

    func contains(row y: Int, column x: Int) -> Bool { y >= row && y < bottom && x >= column && x < right }

    /// The inside of a box drawn on this rectangle's edge.
    var inner: Rect { Rect(row: row + 1, column: column + 1, height: max(0, height - 2), width: max(0, width - 2)) }
}

/// The panes a key can focus, in Tab order.
public enum Pane: String, Sendable, CaseIterable {
    case diagram, detail, queues, violations
}

/// Where each pane goes for a terminal size. Pure, and total for every size (0×0 included): a pane that
/// does not fit is absent rather than squeezed below what it can draw.
struct Layout: Equatable, Sendable {
    var status = Rect.empty
    var footer = Rect.empty
    var diagram = Rect.empty
    var detail = Rect.empty
    var queues = Rect.empty
    var violations = Rect.empty

    func rect(of pane: Pane) -> Rect {
        switch pane {
        case .diagram: diagram
        case .detail: detail
        case .queues: queues
        case .violations: violations
        }
    }

    var visiblePanes: [Pane] { Pane.allCases.filter { !rect(of: $0).isEmpty } }

    /// `zoomed`: one pane takes the whole body (Enter on the diagram shows the detail full screen).
    init(rows: Int, columns: Int, zoomed: Pane? = nil) {
        guard rows > 0, columns > 0 else { return }
        status = Rect(row: 0, column: 0, height: 1, width: columns)
        guard rows > 1 else { return }
        footer = Rect(row: rows - 1, column: 0, height: 1, width: columns)
        let body = Rect(row: 1, column: 0, height: rows - 2, width: columns)
        guard body.height > 0 else { return }
        if let zoomed {
            switch zoomed {
            case .diagram: diagram = body
            case .detail: detail = body
            case .queues: queues = body
            case .violations: violations = body
            }
            return
        }
        // Wide: diagram and queues on the left, detail and violations on the right (the sketch's shape).
        if columns >= 100 && body.height >= 10 {
            let side = min(max(columns * 2 / 7, 34), 60)
            let left = Rect(row: body.row, column: 0, height: body.height, width: columns - side)
            let right = Rect(row: body.row, column: left.width, height: body.height, width: side)
            let queueHeight = body.height >= 18 ? 7 : (body.height >= 12 ? 5 : 0)
            diagram = Rect(row: left.row, column: left.column, height: left.height - queueHeight, width: left.width)
            if queueHeight > 0 { queues = Rect(row: diagram.bottom, column: left.column, height: queueHeight, width: left.width) }
            let violationHeight = body.height >= 16 ? min(max(body.height / 4, 4), 10) : 0
            detail = Rect(row: right.row, column: right.column, height: right.height - violationHeight, width: right.width)
            if violationHeight > 0 { violations = Rect(row: detail.bottom, column: right.column, height: violationHeight, width: right.width) }
            return
        }
        // Narrow and tall: the detail below the diagram. Small: the diagram alone (Enter shows the detail).
        if body.height >= 20 {
            let detailHeight = body.height * 2 / 5
            let queueHeight = body.height >= 28 ? 5 : 0
            diagram = Rect(row: body.row, column: 0, height: body.height - detailHeight - queueHeight, width: columns)
            if queueHeight > 0 { queues = Rect(row: diagram.bottom, column: 0, height: queueHeight, width: columns) }
            detail = Rect(row: diagram.bottom + queueHeight, column: 0, height: detailHeight, width: columns)
            return
        }
        diagram = body
    }
}
