/// What `-o` may say, parsed from the comma-separated list of `shardvault mount -o OPTS`.
public struct MountOptions: Sendable, Equatable {
    public var readOnly = false
    public var allowOther = false
    /// The kernel checks permissions from the mode bits, so `access` need not.
    public var defaultPermissions = false
    /// Seconds the kernel may cache attributes and names. Only this daemon changes the vault
    /// today; the S3 door will invalidate with notify_inval_* (issue 4 follow-up).
    public var attributeTimeout = 1.0
    public var entryTimeout = 1.0
    /// max_write: the kernel's biggest single write (DESIGN.md: at least 1 MiB).
    public var maximumWrite = 1 << 20
    /// Extra threads libfuse may start for concurrent requests.
    public var maximumThreads = 16
    /// Print what the kernel agreed to at init (writeback cache, max_write) on stderr.
    public var reportsNegotiation = false

    public init() {}

    /// Parses `ro,allow_other,default_permissions,attr_timeout=2,...`; unknown or not yet
    /// supported options are refused with a message naming them.
    public init(parsing text: String) throws(MountOptionError) {
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let key = parts[0]
            let value = parts.count > 1 ? parts[1] : nil
            switch (key, value) {
            case ("ro", nil): readOnly = true
            case ("rw", nil): readOnly = false
            case ("allow_other", nil): allowOther = true
            case ("default_permissions", nil): defaultPermissions = true
            case ("report_init", nil): reportsNegotiation = true
            case ("attr_timeout", let value?): attributeTimeout = try Self.seconds(key, value)
            case ("entry_timeout", let value?): entryTimeout = try Self.seconds(key, value)
            case ("max_threads", let value?):
                guard let count = Int(value), (1 ... 256).contains(count) else {
                    throw MountOptionError("max_threads must be 1…256, not \(value)")
                }
                maximumThreads = count
            case ("uid", _), ("gid", _), ("s3", _), ("cache_size", _):
                throw MountOptionError("option \(key) is not supported yet (issue 4)")
            default:
                throw MountOptionError("unknown mount option \(item)")
            }
        }
    }

    /// The options libfuse's fuse_session_new understands (it refuses unknown ones).
    var kernelOptions: String {
        var items = ["fsname=shardvault", "subtype=shardvault"]
        if readOnly { items.append("ro") }
        if allowOther { items.append("allow_other") }
        if defaultPermissions { items.append("default_permissions") }
        return items.joined(separator: ",")
    }

    private static func seconds(_ key: String, _ value: String) throws(MountOptionError) -> Double {
        guard let seconds = Double(value), seconds >= 0, seconds <= 86_400 else {
            throw MountOptionError("\(key) must be a number of seconds, not \(value)")
        }
        return seconds
    }
}

public struct MountOptionError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
