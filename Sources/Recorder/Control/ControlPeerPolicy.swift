import CSystemShims
import Glibc

/// Who may talk to the control socket: only processes running as the recorder's own user (checked with
/// SO_PEERCRED on every connection, on top of the 0700 directory and the 0600 socket).
public enum ControlPeerPolicy {
    /// No exception for root: a root-owned recorder trusts root, nobody else; a user's recorder trusts
    /// that user only.
    public static func isTrusted(peerUID: uid_t, serverUID: uid_t) -> Bool {
        peerUID == serverUID
    }

    /// The connected peer's uid (SO_PEERCRED), or nil when the kernel cannot tell.
    static func peerUID(of connection: Int32) -> uid_t? {
        var pid: pid_t = 0
        var uid: uid_t = 0
        var gid: gid_t = 0
        return ipcs_peercred(connection, &pid, &uid, &gid) == 0 ? uid : nil
    }
}
