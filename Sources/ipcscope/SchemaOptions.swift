import Foundation
import IPCWire
import SystemSupport
import TraceAnalysis

/// `--schema FILE.ipc|DIR…` for show, stats and export: reads the files named, and the `.ipc` files
/// found by searching directories recursively (at most a million entries visited, so neither the file
/// system root nor a link cycle walks for ever); TraceAnalysis's ``SchemaSources`` parses them. Warnings (files found in a
/// directory that do not parse) go to standard error under `command`'s name.
enum SchemaOptions {
    static func load(_ paths: [String], command: String) -> Result<[SchemaFile], SchemaSources.Problem> {
        var sources: [SchemaSources.Source] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                return .failure(.init("--schema \(path): \(ErrnoText.describe(ENOENT))"))
            }
            guard isDirectory.boolValue else {
                switch SchemaFileReader.read(path) {
                case .failure(let failure): return .failure(.init("--schema \(failure)"))
                case .success(let bytes): sources.append(.init(path: path, bytes: bytes, named: true))
                }
                continue
            }
            guard let walker = FileManager.default.enumerator(atPath: path) else {
                return .failure(.init("--schema \(path): cannot be listed"))
            }
            var found: [String] = []
            var visited = 0
            while let entry = walker.nextObject() as? String {
                visited += 1
                guard visited <= 1_000_000 else { return .failure(.init("--schema \(path): more than a million entries to search")) }
                guard entry.hasSuffix(".ipc") else { continue }
                found.append(entry)
                guard sources.count + found.count <= SchemaSources.maximumFiles else {
                    return .failure(.init("--schema \(path): more than \(SchemaSources.maximumFiles) .ipc files"))
                }
            }
            for entry in found.sorted() {
                let candidate = (path.hasSuffix("/") ? path : path + "/") + entry
                switch SchemaFileReader.read(candidate) {
                case .failure(.notARegularFile): continue  // a directory named *.ipc, a socket
                case .failure(let failure): return .failure(.init("--schema \(failure)"))
                case .success(let bytes): sources.append(.init(path: candidate, bytes: bytes, named: false))
                }
            }
        }
        switch SchemaSources.parse(sources) {
        case .failure(let problem):
            return .failure(problem)
        case .success(let loaded):
            for warning in loaded.skipped.prefix(20) {
                FileHandle.standardError.write(Data("ipcscope \(command): warning: --schema skipped \(warning)\n".utf8))
            }
            if loaded.skipped.count > 20 {
                FileHandle.standardError.write(Data("ipcscope \(command): warning: --schema skipped \(loaded.skipped.count - 20) more files that do not parse\n".utf8))
            }
            return .success(loaded.files)
        }
    }
}
