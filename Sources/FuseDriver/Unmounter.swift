import Foundation

/// Unmounting a FUSE mount point: fusermount3 works for root and for the user who mounted.
public enum Unmounter {
    /// True when the mount point was unmounted (or detached, with `lazy`).
    @discardableResult
    public static func unmount(_ mountpoint: String, lazy: Bool) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/fusermount3")
        process.arguments = ["-u"] + (lazy ? ["-z"] : []) + ["--", mountpoint]
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return false
        }
        process.waitUntilExit()
        return process.terminationReason == .exit && process.terminationStatus == 0
    }

    /// Whether `path` is a mount point right now (from /proc/self/mountinfo).
    public static func isMounted(_ path: String) -> Bool {
        filesystemType(mountedAt: path) != nil
    }

    /// The type of the filesystem mounted at `path` ("fuse.shardvault" for ours), from
    /// /proc/self/mountinfo; the topmost one when several are stacked there, nil when none.
    /// Works without touching the mount point, so also for a stale mount (ENOTCONN).
    public static func filesystemType(mountedAt path: String) -> String? {
        let target = canonical(path)
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        var type: String?
        for line in table.split(separator: "\n") {
            // ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER
            let fields = line.split(separator: " ")
            guard fields.count > 4, unescape(String(fields[4])) == target,
                  let separator = fields.firstIndex(of: "-"), separator + 1 < fields.count else { continue }
            type = unescape(String(fields[separator + 1]))
        }
        return type
    }

    /// `path` as mountinfo spells it: absolute, symlinks resolved. A stale mount point cannot
    /// be resolved itself (stat fails with ENOTCONN), so then only its parent is.
    static func canonical(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        if let resolved = realpath(url.path, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        return url.deletingLastPathComponent().resolvingSymlinksInPath()
            .appendingPathComponent(url.lastPathComponent).path
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    static func unescape(_ field: String) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3, let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
