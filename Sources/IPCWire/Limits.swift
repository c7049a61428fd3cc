/// The hard limits of LibIPC's socket transport and decoder (docs/protocol.md §2, Ladybird mainline values).
///
/// A receiving LibIPC side disconnects its peer when one of these is exceeded; ipcscope reports the same
/// conditions as typed ``Violation``s.
public enum Limits {
    /// `MAX_MESSAGE_PAYLOAD_SIZE`: largest `payload_size` a receiver accepts in a frame header.
    public static let maxMessagePayloadSize: UInt64 = 64 * 1024 * 1024
    /// `MAX_MESSAGE_FD_COUNT`: most fds one payload frame may carry.
    public static let maxMessageFDCount: UInt64 = 128
    /// `LocalSocket::MAX_TRANSFER_FDS`: most fds in one `sendmsg`; the receiver's control buffer holds no more.
    public static let maxTransferFDs: UInt64 = 128
    /// `MAX_UNPROCESSED_BUFFER_SIZE`: bytes a receiver buffers before it has parsed them.
    public static let maxUnprocessedBufferSize: UInt64 = 128 * 1024 * 1024
    /// `MAX_UNPROCESSED_FDS`: fds a receiver holds before matching them to parsed frames.
    public static let maxUnprocessedFDs: UInt64 = 512
    /// `MAX_DECODED_SIZE`: largest length or count `Decoder::decode_size()` accepts.
    public static let maxDecodedSize: UInt64 = 64 * 1024 * 1024
    /// `Encoder::encode_size` writes lengths as u32.
    public static let maxEncodedSize: UInt64 = 0xFFFF_FFFF
    /// `SOCKET_BUFFER_SIZE`: SO_SNDBUF and SO_RCVBUF that TransportSocket sets.
    public static let socketBufferSize = 128 * 1024
    /// The IO thread sends and receives at most this many bytes per call.
    public static let ioChunkSize = 4096
    /// Fraction of a limit at which ipcscope warns that a value is getting close.
    public static let warningFraction = 0.8
}
