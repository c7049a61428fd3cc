import Glibc
import Synchronization

/// Serialised access to the process environment. glibc's `setenv` may `realloc` the `environ` array, so a
/// thread walking `environ` (as `ProcessSpawner` does to build a child's environment) while another thread
/// adds a variable can read freed memory. Everything in this module goes through this lock; code that
/// changes the environment while transports or spawns run on other threads should too.
public enum ProcessEnvironment {
    private static let lock = Mutex(())

    public static func get(_ name: String) -> String? {
        lock.withLock { _ in getenv(name).map { String(cString: $0) } }
    }

    public static func set(_ name: String, _ value: String) {
        lock.withLock { _ in _ = setenv(name, value, 1) }
    }

    public static func unset(_ name: String) {
        lock.withLock { _ in _ = unsetenv(name) }
    }

    /// Reads and removes a variable in one step (what a helper does with SOCKET_TAKEOVER).
    public static func take(_ name: String) -> String? {
        lock.withLock { _ in
            let value = getenv(name).map { String(cString: $0) }
            if value != nil { unsetenv(name) }
            return value
        }
    }

    /// Every `NAME=value` entry, in `environ` order.
    public static func entries() -> [String] {
        lock.withLock { _ in
            var result: [String] = []
            var cursor = environ
            while let entry = cursor.pointee {
                result.append(String(cString: entry))
                cursor += 1
            }
            return result
        }
    }
}
