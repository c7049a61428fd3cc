import TestSupport
import IPCTransport

/// A pipe whose write end is sent somewhere to be closed. Every copy of either end links to the same
/// `pipe:[inode]` in /proc/self/fd, so counting those links tells whether this process still holds a copy
/// it received: a per-object check that stays exact while other tests open and close fds in parallel.
/// Each end is closed exactly once (a second close could hit a number another test reuses).
final class PipeProbe {
    let readEnd: Int32
    let writeEnd: Int32
    let inode: UInt64
    private var writeEndOpen = true

    init() throws {
        let pipe = try Pipe.makeRaw()
        readEnd = pipe.readEnd
        writeEnd = pipe.writeEnd
        inode = try Descriptor.info(pipe.readEnd).inode
    }

    /// How many fds of this process refer to this pipe (either end).
    var openCopies: Int {
        Descriptor.openDescriptors().values.filter { $0 == "pipe:[\(inode)]" }.count
    }

    func closeWriteEnd() {
        guard writeEndOpen else { return }
        writeEndOpen = false
        Descriptor.close(writeEnd)
    }

    deinit {
        closeWriteEnd()
        Descriptor.close(readEnd)
    }
}
