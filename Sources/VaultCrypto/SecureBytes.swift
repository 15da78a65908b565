// Secret bytes (passwords, derived keys, unwrapped key material) live only here: memory from
// sodium_malloc, which is mlock'ed against swapping, surrounded by guard pages, and wiped by
// sodium_free. Swift Arrays would leave copies behind on every reallocation.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CSodium

/// A fixed-size buffer of secret bytes in locked, guarded memory, wiped when dropped.
///
/// Non-copyable, so there is exactly one owner and exactly one wipe. Sendable because
/// ownership moves whole; the bytes themselves are reached only through the scoped
/// `withUnsafe…` accessors.
public struct SecureBytes: ~Copyable, @unchecked Sendable {
    private let base: UnsafeMutableRawPointer
    public let count: Int

    /// `count` zero bytes.
    public init(count: Int) throws(CryptoError) {
        precondition(count >= 0, "negative SecureBytes count \(count)")
        CryptoLibraries.ensureReady()
        // sodium_malloc(0) is legal but returns a pointer we could not distinguish from a
        // real allocation in a debugger; one byte keeps the bookkeeping uniform.
        guard let base = sodium_malloc(max(count, 1)) else {
            throw .libraryFailure(operation: "sodium_malloc(\(count))", detail: "out of memory for locked key memory")
        }
        sodium_memzero(base, max(count, 1))
        self.base = base
        self.count = count
    }

    /// A secure copy of `bytes`. The caller remains responsible for wiping its own copy.
    public init(copying bytes: some Collection<UInt8>) throws(CryptoError) {
        try self.init(count: bytes.count)
        let destination = UnsafeMutableRawBufferPointer(start: base, count: count)
        _ = destination.initializeMemory(as: UInt8.self, from: bytes)
    }

    /// `count` bytes from libsodium's random generator.
    public static func random(count: Int) throws(CryptoError) -> SecureBytes {
        let bytes = try SecureBytes(count: count)
        randombytes_buf(bytes.base, count)
        return bytes
    }

    deinit {
        sodium_free(base)
    }

    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    public func withUnsafeMutableBytes<Result, Failure: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    /// Constant-time comparison, for tests and for checking a password typed twice.
    public func hasSameBytes(as other: borrowing SecureBytes) -> Bool {
        count == other.count && sodium_memcmp(base, other.base, count) == 0
    }

    /// A secure copy of the first `prefixCount` bytes.
    func prefix(_ prefixCount: Int) throws(CryptoError) -> SecureBytes {
        precondition(prefixCount >= 0 && prefixCount <= count)
        let copy = try SecureBytes(count: prefixCount)
        copy.base.copyMemory(from: base, byteCount: prefixCount)
        return copy
    }
}

// MARK: - Password sources

extension SecureBytes {
    /// Longest password accepted from a file or the environment; anything longer is more
    /// likely a wrong path (a key file, a binary) than a password.
    public static let maximumPasswordBytes = 4096

    /// The contents of a password file, without one trailing "\n" or "\r\n", read straight
    /// into locked memory.
    public init(contentsOfPasswordFile path: String) throws(CryptoError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .passwordUnavailable(source: "file \(path)", reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }

        // One byte more than allowed, so an oversized file is recognised rather than cut.
        let scratch = try SecureBytes(count: Self.maximumPasswordBytes + 1)
        var filled = 0
        while filled < scratch.count {
            let got = read(descriptor, scratch.base + filled, scratch.count - filled)
            if got == 0 { break }
            if got < 0 {
                if errno == EINTR { continue }
                throw .passwordUnavailable(source: "file \(path)", reason: String(cString: strerror(errno)))
            }
            filled += got
        }
        guard filled <= Self.maximumPasswordBytes else {
            throw .passwordUnavailable(source: "file \(path)", reason: "longer than \(Self.maximumPasswordBytes) bytes; is this really a password file?")
        }
        let length = scratch.withUnsafeBytes { Self.lengthWithoutLineEnding(UnsafeRawBufferPointer(rebasing: $0[..<filled])) }
        self = try scratch.prefix(length)
    }

    /// The value of environment variable `name` in locked memory, or nil when it is unset.
    /// The process environment still holds its own copy; callers may `unsetenv` it.
    public static func fromEnvironment(_ name: String) throws(CryptoError) -> SecureBytes? {
        guard let value = getenv(name) else { return nil }
        let length = strlen(value)
        guard length <= maximumPasswordBytes else {
            throw .passwordUnavailable(source: "environment variable \(name)", reason: "longer than \(maximumPasswordBytes) bytes")
        }
        let bytes = try SecureBytes(count: length)
        bytes.base.copyMemory(from: value, byteCount: length)
        return bytes
    }

    private static func lengthWithoutLineEnding(_ bytes: UnsafeRawBufferPointer) -> Int {
        var length = bytes.count
        if length > 0 && bytes[length - 1] == UInt8(ascii: "\n") {
            length -= 1
            if length > 0 && bytes[length - 1] == UInt8(ascii: "\r") { length -= 1 }
        }
        return length
    }
}
