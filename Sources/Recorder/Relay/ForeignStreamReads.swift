import CSystemShims
import Glibc
import SystemSupport

/// Reads of a stream that is not (known to be) LibIPC, sized so that fds stay with the byte they were
/// sent with.
///
/// One `recvmsg` on an AF_UNIX stream socket glues the data of several sends and stops right after the
/// first send that carries fds; the fds come back for the whole read, and where that send began is lost.
/// For LibIPC the relay places them at the frame that claims them. Any other protocol needs the sender's
/// own boundary: Python's multiprocessing reads each pickle with plain reads (which throw away fds
/// attached to them) and then the one byte that carries fds with recvmsg; sd-bus hands a message the fds
/// that came while reading it. So:
///
/// - each read first peeks, and takes no more than was queued then — otherwise it would glue sends that
///   arrive in between, fd-carrying ones included;
/// - when the peek shows fds queued, reads take one byte at a time until the read that brings the fds:
///   that is the first byte of the send that carried them, forwarded with them as it came. A peek cannot
///   find that byte by itself: a peek reports fds queued anywhere past the bytes it covers.
///
/// The byte-at-a-time walk stops after ``maxWalk`` bytes (a sender that glues more before its fds); the
/// rest then goes in one read and its fds with that read's first byte, earlier than sent.
struct ForeignStreamReads {
    static let maxWalk = 4096
    private var walked = 0

    /// How many bytes the next read of `socket` may take, at most `limit`. Blocks, like the read that
    /// follows, until something is queued. On a failed peek or the end of the stream returns `limit`:
    /// the read reports it.
    mutating func readLimit(_ socket: Int32, within limit: Int, scratch: UnsafeMutableRawBufferPointer) -> Int {
        let limit = min(limit, scratch.count)
        guard let (queued, fdsQueued) = Self.peek(socket, limit, scratch), queued > 0 else { return limit }
        guard fdsQueued, walked < Self.maxWalk else {
            walked = 0
            return queued
        }
        walked += 1
        return 1
    }

    /// The read brought `fdCount` fds: the walk to them is over.
    mutating func noteRead(fdCount: Int) {
        if fdCount > 0 { walked = 0 }
    }

    /// Peeks up to `count` bytes; returns how many, and whether fds are queued (a peek with room for the
    /// writer's credentials — the proxy's sockets have SO_PASSCRED — but none for fds sets MSG_CTRUNC only
    /// when fds are queued; the kernel releases the peeked fds at once).
    private static func peek(_ socket: Int32, _ count: Int, _ scratch: UnsafeMutableRawBufferPointer) -> (Int, Bool)? {
        let controlSpace = ipcs_control_space(1, 0)
        return withUnsafeTemporaryAllocation(byteCount: controlSpace, alignment: 16) { control in
            var iov = iovec(iov_base: scratch.baseAddress, iov_len: count)
            return withUnsafeMutablePointer(to: &iov) { iovPointer in
                var message = msghdr()
                message.msg_iov = iovPointer
                message.msg_iovlen = 1
                message.msg_control = control.baseAddress
                do {
                    let received = try retryingOnInterrupt("recvmsg (peek)") {
                        message.msg_controllen = controlSpace
                        message.msg_flags = 0
                        return recvmsg(socket, &message, Int32(MSG_PEEK))
                    }
                    return (received, message.msg_flags & Int32(MSG_CTRUNC) != 0)
                } catch {
                    return nil  // the relay's next real read reports the socket's error
                }
            }
        }
    }
}
