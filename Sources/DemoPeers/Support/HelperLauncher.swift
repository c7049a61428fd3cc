import Glibc
import IPCTransport

/// A started helper: our end of its socket and the process.
public struct DemoHelper: Sendable {
    public var transport: IPCTransport
    public var process: ChildProcess

    public init(transport: IPCTransport, process: ChildProcess) {
        self.transport = transport
        self.process = process
    }
}

/// How the UI starts WebContent and RequestServer. The default runs `ipcscope demo-peer ROLE`; a recording
/// run can wrap each helper (e.g. in `ipcscope record --`) by providing its own launcher.
///
/// The UI reads each helper's statistics from its stderr, so a launcher should capture stderr
/// (`standardError: .capture`); other stderr lines are passed through to the UI's stderr.
public protocol DemoHelperLauncher: Sendable {
    func launch(_ role: DemoRole) throws -> DemoHelper
}

/// Runs an executable (by default this very program) as `EXECUTABLE demo-peer ROLE`, connected like
/// Ladybird connects its helpers: a socketpair, the child's end in `SOCKET_TAKEOVER=<Name>:3`.
public struct SelfExecutableLauncher: DemoHelperLauncher {
    public var executable: String
    /// Arguments before the role, e.g. `["demo-peer"]`.
    public var arguments: [String]

    public init(executable: String = SelfExecutableLauncher.currentExecutable(), arguments: [String] = ["demo-peer"]) {
        self.executable = executable
        self.arguments = arguments
    }

    public func launch(_ role: DemoRole) throws -> DemoHelper {
        let (transport, process) = try ProcessSpawner.spawnHelper(
            name: role.takeoverName, executable: executable, arguments: arguments + [role.rawValue],
            standardError: .capture)
        return DemoHelper(transport: transport, process: process)
    }

    /// How this program was started when that was a bare name the PATH search finds as this very file (what
    /// a user typed: `ipcscope`), else the path behind /proc/self/exe. Spawning children by that name keeps
    /// their command lines — which traces record — reading as the user's, not as a build tree's.
    public static func invocationName() -> String {
        let path = currentExecutable()
        guard let typed = CommandLine.arguments.first, !typed.isEmpty, !typed.contains("/"),
              let search = getenv("PATH") else { return path }
        var own = stat()
        guard stat(path, &own) == 0 else { return path }
        for directory in String(cString: search).split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = "\(directory)/\(typed)"
            guard access(candidate, X_OK) == 0 else { continue }
            // The first executable match is what posix_spawnp runs: the name is ours only if that is us.
            var found = stat()
            guard stat(candidate, &found) == 0 else { return path }
            return found.st_dev == own.st_dev && found.st_ino == own.st_ino ? typed : path
        }
        return path
    }

    /// The path behind /proc/self/exe (the path itself if it cannot be read).
    public static func currentExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return "/proc/self/exe" }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
