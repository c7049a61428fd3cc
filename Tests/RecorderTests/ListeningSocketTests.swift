import Foundation
import Glibc
import IPCTransport
@testable import Recorder
import Testing

@Suite struct ListeningSocketTests {
    /// A client that connects as soon as the path exists (as scripts waiting for a proxy do) is never
    /// refused: the socket is bound under another name and linked into place only once it listens.
    @Test func theListeningPathAppearsOnlyOnceItAcceptsConnections() throws {
        let directory = makeScratchDirectory()
        let path = directory + "/proxy.sock"
        var existedBeforeListen = true
        let fd = try StreamSocketPath.listen(at: path, backlog: 8) {
            existedBeforeListen = access(path, F_OK) == 0
        }
        #expect(!existedBeforeListen, "the path existed between bind and listen")
        _ = try StreamSocketPath.connect(to: path)  // connected, then dropped (closed)
        var info = stat()
        #expect(lstat(path, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        #expect(info.st_mode & 0o777 == 0o600)
        // Only the socket is left: the temporary name is gone.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["proxy.sock"])
        try fd.close()
    }

    @Test func somethingAppearingAtThePathMeanwhileIsNotReplaced() throws {
        let directory = makeScratchDirectory()
        let path = directory + "/taken.sock"
        do {
            _ = try StreamSocketPath.listen(at: path, backlog: 8) {
                // Another program takes the name while we set up.
                let file = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
                close(file)
            }
            Issue.record("listen replaced a file that appeared at the path")
        } catch {
            #expect(error.errno == EEXIST)
        }
        var info = stat()
        #expect(lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG, "the other program's file was kept")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["taken.sock"])
    }
}
