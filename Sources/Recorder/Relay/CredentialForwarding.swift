import Glibc
import IPCTransport

/// Passes each chunk's writer credentials on, so a receiver with SO_PASSCRED sees the sender's pid, uid
/// and gid in its SCM_CREDENTIALS rather than ipcscope's — as far as the kernel lets this process claim them.
///
/// The kernel checks every claim (scm_check_creds): a pid other than ours needs CAP_SYS_ADMIN, other ids
/// CAP_SETUID / CAP_SETGID, and the pid must still exist (ESRCH once the writer has exited and been
/// reaped). A refused claim sends nothing; the relay repeats the write without credentials and the kernel
/// attaches ours. After EPERM or EINVAL the direction stops claiming (the answer would not change, and the
/// hot path must not pay a failing sendmsg per chunk); after ESRCH only that pid is skipped.
/// One direction's state, used on its relay thread only.
struct CredentialForwarding {
    /// What the kernel attaches to our writes when we claim nothing: no need to claim those.
    let own: Credentials
    /// The errno that made the direction stop claiming (EPERM or EINVAL), 0 while it claims.
    private(set) var refusal: Int32 = 0
    /// The last writer found gone (ESRCH): its later chunks go without a claim.
    private var exitedPID: Int32 = 0
    private var reportedExited = false

    init(own: Credentials = .ofThisProcess) {
        self.own = own
    }

    /// The credentials to claim for a chunk that arrived with `received`; nil to claim none. None arrive
    /// (pid 0) for bytes written before the proxy's socket had SO_PASSCRED: we cannot claim "none".
    func claim(for received: Credentials?) -> Credentials? {
        guard refusal == 0, let received, received.pid != 0, received != own, received.pid != exitedPID else {
            return nil
        }
        return received
    }

    /// Whether a failed send with a claim may have failed because of the claim (and so sent nothing).
    static func mayBeRefusal(_ errno: Int32) -> Bool {
        errno == EPERM || errno == ESRCH || errno == EINVAL
    }

    /// The kernel refused `claimed` with `errno`: the same write without a claim went through. Returns what
    /// to report — once per direction for a refusal, once per direction for exited writers.
    mutating func refused(_ claimed: Credentials, errno: Int32) -> CredentialsNotPreserved? {
        if errno == ESRCH {
            exitedPID = claimed.pid
            guard !reportedExited else { return nil }
            reportedExited = true
        } else {
            refusal = errno
        }
        return CredentialsNotPreserved(errno: errno, writer: claimed)
    }
}
