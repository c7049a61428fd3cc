import Foundation
import SystemSupport

/// Reads `.ipc` files named on the command line. They are user input: only regular files, and at most
/// `limit` bytes, so a wrong path (a device, a huge log) is an error message, never an unbounded read.
enum SchemaFileReader {
    static let limit = 16 << 20

    enum Failure: Error, CustomStringConvertible {
        case unreadable(String, String)
        case notARegularFile(String)
        case tooLarge(String, Int)

        var description: String {
            switch self {
            case .unreadable(let path, let reason): "\(path): cannot be read (\(reason))"
            case .notARegularFile(let path): "\(path): not a regular file"
            case .tooLarge(let path, let size): "\(path): \(size) bytes is too large for a schema (at most \(SchemaFileReader.limit))"
            }
        }
    }

    static func read(_ path: String) -> Result<[UInt8], Failure> {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(.unreadable(path, ErrnoText.describe(errno))) }
        guard info.st_mode & S_IFMT == S_IFREG else { return .failure(.notARegularFile(path)) }
        guard Int(info.st_size) <= limit else { return .failure(.tooLarge(path, Int(info.st_size))) }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return .failure(.unreadable(path, "open failed"))
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: limit + 1)) ?? Data()
        guard data.count <= limit else { return .failure(.tooLarge(path, data.count)) }
        return .success(Array(data))
    }
}
