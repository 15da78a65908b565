// The vault's random master keys, one per purpose, held in one locked region. The key file
// stores them as a list of (purpose, bytes), so later versions can add purposes without
// changing the key file format; keys of purposes this version does not know are kept and
// written back unchanged by a password change.

import CSodium
import Synchronization

/// What a master key is for. Raw values are stored in the key file; never reuse one.
public struct KeyPurpose: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// AES-256-SIV key for file and directory names (two 256-bit halves).
    public static let names = KeyPurpose(rawValue: 1)
    /// AES-256-GCM / XChaCha20-Poly1305 key for file content chunks.
    public static let content = KeyPurpose(rawValue: 2)
    /// AEAD key for metadata journal records and checkpoints.
    public static let metadata = KeyPurpose(rawValue: 3)

    /// The purposes a new vault gets, with their key lengths.
    public static let standard: [(purpose: KeyPurpose, length: Int)] = [
        (.names, 64), (.content, 32), (.metadata, 32),
    ]

    /// The length this version requires, or nil for purposes it does not know.
    public var requiredLength: Int? {
        Self.standard.first { $0.purpose == self }?.length
    }

    public var description: String {
        switch self {
        case .names: return "name"
        case .content: return "content"
        case .metadata: return "metadata"
        default: return "purpose-\(rawValue)"
        }
    }
}

/// The unwrapped master keys of an unlocked vault.
///
/// Keys sit in sodium_malloc'ed (mlock'ed, guard-paged) memory and are wiped by `close()` or
/// when the last reference goes. Ciphers copy what they need when they are built, so closing
/// the master keys after building the ciphers is the normal way to shorten key exposure.
public final class MasterKeys: Sendable {
    struct Entry: Sendable {
        let purpose: KeyPurpose
        let offset: Int
        let length: Int
    }

    let entries: [Entry]
    private let storage: SecureBytes
    /// Set by `close()`. Key use holds the lock, so closing never races a reader.
    private let closed = Mutex(false)

    init(entries: [Entry], storage: consuming SecureBytes) {
        self.entries = entries
        self.storage = storage
    }

    /// Fresh random keys for every standard purpose.
    public static func generate() throws(CryptoError) -> MasterKeys {
        var entries: [Entry] = []
        var offset = 0
        for (purpose, length) in KeyPurpose.standard {
            entries.append(Entry(purpose: purpose, offset: offset, length: length))
            offset += length
        }
        return MasterKeys(entries: entries, storage: try SecureBytes.random(count: offset))
    }

    /// Purposes present, in key file order.
    public var purposes: [KeyPurpose] {
        entries.map(\.purpose)
    }

    /// Whether `close()` has wiped the keys.
    public var isClosed: Bool {
        closed.withLock { $0 }
    }

    /// Runs `body` with the key for `purpose`. The pointer is valid only inside `body`.
    public func withKey<Value>(
        _ purpose: KeyPurpose,
        _ body: (UnsafeRawBufferPointer) throws(CryptoError) -> Value
    ) throws(CryptoError) -> Value {
        guard let entry = entries.first(where: { $0.purpose == purpose }) else {
            throw .missingKey(purpose: purpose.description)
        }
        return try withAllKeyBytes { (all) throws(CryptoError) -> Value in
            try body(UnsafeRawBufferPointer(rebasing: all[entry.offset..<(entry.offset + entry.length)]))
        }
    }

    /// Wipes the keys now instead of when the last reference goes, and makes their pages
    /// inaccessible so a stray pointer faults instead of reading zeros as a key. The memory
    /// itself is returned at deinit.
    public func close() {
        closed.withLock { isClosed in
            guard !isClosed else { return }
            isClosed = true
            storage.withUnsafeMutableBytes { bytes in
                sodium_memzero(bytes.baseAddress!, bytes.count)
                _ = sodium_mprotect_noaccess(bytes.baseAddress!)
            }
        }
    }

    /// Constant-time check that two key sets hold the same purposes and bytes (tests, and
    /// sanity checks after a rewrap).
    public func hasSameKeys(as other: MasterKeys) throws(CryptoError) -> Bool {
        // The key lock is not recursive: comparing with itself must not take it twice.
        if other === self { return try withAllKeyBytes { _ in true } }
        guard entries.map(\.purpose) == other.entries.map(\.purpose),
              entries.map(\.length) == other.entries.map(\.length) else { return false }
        return try withAllKeyBytes { (mine) throws(CryptoError) -> Bool in
            try other.withAllKeyBytes { (theirs) throws(CryptoError) -> Bool in
                mine.count == theirs.count && sodium_memcmp(mine.baseAddress!, theirs.baseAddress!, mine.count) == 0
            }
        }
    }

    func withAllKeyBytes<Value>(
        _ body: (UnsafeRawBufferPointer) throws(CryptoError) -> Value
    ) throws(CryptoError) -> Value {
        var outcome: Result<Value, CryptoError> = .failure(.keysClosed)
        closed.withLock { isClosed in
            guard !isClosed else { return }
            outcome = Result { () throws(CryptoError) -> Value in try storage.withUnsafeBytes(body) }
        }
        return try outcome.get()
    }
}
