import Foundation
import IPCWire
import Testing
import TraceFormat
@testable import ViewerModel

/// Drives a ``TraceViewer`` as a backend would: events in, a grid out.
struct ViewerHarness {
    let viewer: TraceViewer
    var rows: Int
    var columns: Int

    static let traces = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Traces").standardizedFileURL.path

    init(path: String, rows: Int = 40, columns: Int = 140, glyphs: Glyphs = .unicode, filter: String = "", follow: Bool = false) throws {
        self.rows = rows
        self.columns = columns
        viewer = try TraceViewer(
            path: path, store: .disabled,
            configuration: ViewerConfiguration(glyphs: glyphs, filterText: filter, follow: follow, rows: rows, columns: columns))
    }

    init(sample name: String, rows: Int = 40, columns: Int = 140, glyphs: Glyphs = .unicode, filter: String = "") throws {
        try self.init(path: Self.traces + "/" + name, rows: rows, columns: columns, glyphs: glyphs, filter: filter)
    }

    func render() -> CellGrid {
        var grid = CellGrid(rows: rows, columns: columns)
        viewer.render(into: &grid)
        return grid
    }

    @discardableResult
    func press(_ keys: Key...) -> ViewerEffect {
        var effect = ViewerEffect.none
        for key in keys { effect = viewer.update(.key(key)) }
        return effect
    }

    func type(_ text: String) {
        for character in text { _ = viewer.update(.key(.character(character))) }
    }

    mutating func resize(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        _ = viewer.update(.resize(rows: rows, columns: columns))
    }
}

/// A scratch directory removed at deinit.
final class ScratchDirectory {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "viewer-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
