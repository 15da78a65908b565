import Foundation
import Vault

/// What `-o` may say, parsed from the comma-separated list of `shardvault mount -o OPTS`.
public struct MountOptions: Sendable, Equatable {
    public var readOnly = false
    public var allowOther = false
    /// The kernel checks permissions from the mode bits, so `access` need not.
    public var defaultPermissions = false
    /// Seconds the kernel may cache attributes and names. Changes through the S3 door of the
    /// same daemon invalidate them at once (KernelCacheNotifier), so longer is only faster.
    public var attributeTimeout = 1.0
    public var entryTimeout = 1.0
    /// `negative_timeout=S` (libfuse's name): seconds the kernel may remember that a name does
    /// not exist. The S3 door's creations drop such entries at once too, so the default is the
    /// entry timeout's; 0 sends every lookup of a missing name to the daemon.
    public var negativeTimeout = 1.0
    /// max_write: the kernel's biggest single write (DESIGN.md: at least 1 MiB).
    public var maximumWrite = 1 << 20
    /// Extra threads libfuse may start for concurrent requests.
    public var maximumThreads = 16
    /// Print what the kernel agreed to at init (writeback cache, max_write) on stderr.
    public var reportsNegotiation = false
    /// `report_requests`: count the kernel's requests by kind and print the counts on stderr
    /// when the mount ends (RequestCensus).
    public var reportsRequests = false
    /// `io_uring` (the default) / `noio_uring`: requests come over per-CPU io_uring queues
    /// where the kernel offers them (RingQueues); the daemon switches the fuse module's
    /// `enable_uring` on. `noio_uring`: all through /dev/fuse.
    public var usesIOUring = true
    /// `uid=N` / `gid=N`: every node is reported as owned by this uid / gid, whatever the
    /// vault stores (as sshfs and rclone do). Nil reports the stored owner.
    public var reportedUID: UInt32?
    public var reportedGID: UInt32?
    /// `cache_size=`: bytes of decrypted chunks the vault keeps for re-reading (nil: the
    /// vault's default). The cache reserves this memory when the vault opens.
    public var cacheBytes: Int?
    /// `commit=SECONDS` (as ext4's): the longest the buffered data of a file kept open may
    /// wait to be written back without a sync (Vault+DurabilityHorizon.swift); an idle file
    /// goes after 0.5 s, or after SECONDS when that is shorter. Nil: the vault's 5 s.
    public var commitSeconds: Double?
    /// `noexec` / `exec`: whether programs on the mount may be executed.
    public var noExec = false
    /// `s3=HOST:PORT`: the daemon also serves the vault over S3 there (the address is checked
    /// by the command, which owns the S3 door). Not a libfuse option.
    public var s3Address: String?
    /// `s3_allow_remote`: `s3=` may name an address beyond loopback (as `serve --allow-remote`).
    public var s3AllowsRemote = false
    /// `s3_domain=DOMAIN` (repeatable): the S3 door also answers virtual-host-style requests
    /// for `BUCKET.DOMAIN` (as `serve --s3-domain`; checked by the command).
    public var s3Domains: [String] = []

    public init() {}

    /// The biggest `cache_size` accepted, as a share of the machine's memory: the cache is
    /// one allocation made at mount time, and a budget beyond what the machine has would
    /// fail there instead of here.
    static let largestCacheShareOfMemory: UInt64 = 2

    /// Parses `ro,allow_other,default_permissions,attr_timeout=2,...`; unknown or not yet
    /// supported options are refused with a message naming them. `physicalMemory` bounds
    /// `cache_size` (a parameter so tests need not depend on the machine).
    public init(parsing text: String, physicalMemory: UInt64 = ProcessInfo.processInfo.physicalMemory) throws(MountOptionError) {
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let key = parts[0]
            let value = parts.count > 1 ? parts[1] : nil
            switch (key, value) {
            case ("ro", nil): readOnly = true
            case ("rw", nil): readOnly = false
            case ("allow_other", nil): allowOther = true
            case ("default_permissions", nil): defaultPermissions = true
            case ("report_init", nil): reportsNegotiation = true
            case ("report_requests", nil): reportsRequests = true
            case ("io_uring", nil): usesIOUring = true
            case ("noio_uring", nil): usesIOUring = false
            case ("noexec", nil): noExec = true
            case ("exec", nil): noExec = false
            // libfuse mounts nosuid,nodev already; accepted because fstab lines carry them.
            case ("nosuid", nil), ("nodev", nil): break
            case ("attr_timeout", let value?): attributeTimeout = try Self.seconds(key, value)
            case ("entry_timeout", let value?): entryTimeout = try Self.seconds(key, value)
            case ("negative_timeout", let value?): negativeTimeout = try Self.seconds(key, value)
            case ("max_threads", let value?):
                guard let count = Int(value), (1 ... 256).contains(count) else {
                    throw MountOptionError("max_threads must be 1…256, not \(value)")
                }
                maximumThreads = count
            case ("uid", let value?): reportedUID = try Self.identifier(key, value)
            case ("gid", let value?): reportedGID = try Self.identifier(key, value)
            case ("cache_size", let value?): cacheBytes = try Self.cacheSize(value, physicalMemory: physicalMemory)
            case ("commit", let value?):
                guard let seconds = Double(value), seconds >= 0.05, seconds <= 3_600 else {
                    throw MountOptionError("commit must be a number of seconds from 0.05 to 3600, not \(value)")
                }
                commitSeconds = seconds
            case ("s3", let value?):
                guard !value.isEmpty else { throw MountOptionError("mount option s3 needs an address (s3=HOST:PORT)") }
                s3Address = value
            case ("s3_allow_remote", nil): s3AllowsRemote = true
            case ("s3_domain", let value?):
                guard !value.isEmpty else { throw MountOptionError("mount option s3_domain needs a domain (s3_domain=DOMAIN)") }
                s3Domains.append(value)
            case ("ro", _?), ("rw", _?), ("allow_other", _?), ("default_permissions", _?), ("report_init", _?), ("report_requests", _?),
                 ("io_uring", _?), ("noio_uring", _?), ("noexec", _?), ("exec", _?), ("nosuid", _?), ("nodev", _?), ("s3_allow_remote", _?):
                throw MountOptionError("mount option \(key) takes no value (\(item))")
            case ("attr_timeout", nil), ("entry_timeout", nil), ("negative_timeout", nil), ("max_threads", nil), ("uid", nil), ("gid", nil),
                 ("cache_size", nil), ("commit", nil), ("s3", nil), ("s3_domain", nil):
                throw MountOptionError("mount option \(key) needs a value (\(key)=…)")
            default:
                throw MountOptionError("unknown mount option \(item)")
            }
        }
        if s3AllowsRemote && s3Address == nil {
            throw MountOptionError("s3_allow_remote is for s3=HOST:PORT, which is not given")
        }
        if !s3Domains.isEmpty && s3Address == nil {
            throw MountOptionError("s3_domain is for s3=HOST:PORT, which is not given")
        }
    }

    /// The options libfuse's fuse_session_new understands (it refuses unknown ones).
    var kernelOptions: String {
        var items = ["fsname=shardvault", "subtype=shardvault"]
        if readOnly { items.append("ro") }
        if allowOther { items.append("allow_other") }
        if defaultPermissions { items.append("default_permissions") }
        if noExec { items.append("noexec") }
        return items.joined(separator: ",")
    }

    /// The vault's options as these mount options set them (the mount's vault keeps the
    /// pool's background healer: it runs as long as the mount does).
    public var vaultOptions: Vault.Options {
        var options = Vault.Options()
        if let cacheBytes { options.cacheBytes = cacheBytes }
        if let commitSeconds {
            options.longestUnflushedWrite = commitSeconds
            options.idleWriteBackDelay = min(options.idleWriteBackDelay, commitSeconds)
        }
        return options
    }

    /// `attributes` with the owner the kernel is told about: `uid=`/`gid=` replace the stored
    /// one in every reply (and in `access`), while chown still changes what is stored.
    func reported(_ attributes: NodeAttributes) -> NodeAttributes {
        var attributes = attributes
        if let reportedUID { attributes.uid = reportedUID }
        if let reportedGID { attributes.gid = reportedGID }
        return attributes
    }

    private static func seconds(_ key: String, _ value: String) throws(MountOptionError) -> Double {
        guard let seconds = Double(value), seconds >= 0, seconds <= 86_400 else {
            throw MountOptionError("\(key) must be a number of seconds, not \(value)")
        }
        return seconds
    }

    /// A numeric uid or gid; 4294967295 is (uid_t)-1, which chown reads as "leave unchanged".
    private static func identifier(_ key: String, _ value: String) throws(MountOptionError) -> UInt32 {
        guard value.utf8.allSatisfy({ (0x30 ... 0x39).contains($0) }), let number = UInt32(value), number != .max else {
            throw MountOptionError("\(key) must be a numeric id 0…4294967294, not \(value)")
        }
        return number
    }

    /// `cache_size=N` in MiB, or with a binary suffix: `512K`, `256M`/`256MiB`, `2G`/`2GiB`.
    private static func cacheSize(_ value: String, physicalMemory: UInt64) throws(MountOptionError) -> Int {
        let units: [(suffix: String, factor: UInt64)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30),
                                                          ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("", 1 << 20)]
        let largest = physicalMemory / largestCacheShareOfMemory
        for (suffix, factor) in units where value.hasSuffix(suffix) {
            let digits = value.dropLast(suffix.count)
            guard !digits.isEmpty, digits.utf8.allSatisfy({ (0x30 ... 0x39).contains($0) }), let number = UInt64(digits) else { break }
            let (bytes, overflow) = number.multipliedReportingOverflow(by: factor)
            guard !overflow, bytes <= largest else {
                throw MountOptionError("cache_size \(value) is more than half of this machine's memory "
                    + "(\(largest >> 20) MiB at most)")
            }
            return Int(bytes)
        }
        throw MountOptionError("cache_size must be a size in MiB (e.g. 256) or with a K, M or G suffix, not \(value)")
    }
}

public struct MountOptionError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
