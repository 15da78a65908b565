/// Why persisted bytes could not be decoded. Decoding never traps: anything a reader does not
/// accept becomes one of these, with enough context to find the bad byte.
public enum FormatDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended in the middle of a value that starts at byte `at`.
    case truncated(at: Int)
    /// A value was present but not acceptable (bad tag, out of range, invalid UTF-8, …).
    case malformed(String)
    /// A structure carries a version this build does not know.
    case unsupportedVersion(what: String, found: UInt8, supported: UInt8)
    /// Every value decoded, but together they do not form a valid tree (a snapshot whose
    /// directory names an inode that does not exist, a directory with two parents, …).
    case inconsistent(String)

    public var description: String {
        switch self {
        case let .truncated(offset): return "input ends inside the value starting at byte \(offset)"
        case let .malformed(context): return "malformed input: \(context)"
        case let .unsupportedVersion(what, found, supported):
            return "\(what) version \(found) is not supported (this build reads version \(supported))"
        case let .inconsistent(context): return "inconsistent namespace: \(context)"
        }
    }
}

/// Reads what `BinaryWriter` writes, front to back. Every read checks the bytes it needs
/// against what remains first, so a corrupt length can neither trap nor make us allocate
/// more than the input's own size.
public struct BinaryReader: Sendable {
    private let bytes: [UInt8]
    /// Offset of the next unread byte.
    public private(set) var position: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        position = 0
    }

    public var remaining: Int { bytes.count - position }
    public var isAtEnd: Bool { position == bytes.count }

    /// Throws unless every byte was consumed: trailing garbage means the writer and the
    /// reader disagree about the layout.
    public func expectEnd(_ what: String) throws(FormatDecodingError) {
        guard isAtEnd else { throw .malformed("\(remaining) unexpected trailing bytes after \(what)") }
    }

    /// Throws unless `count` items of at least `minimumSize` bytes each could still follow,
    /// so a count field is validated before anything is reserved for it.
    public func checkCount(_ count: Int, minimumSize: Int, _ what: String) throws(FormatDecodingError) {
        guard count <= remaining / max(minimumSize, 1) else {
            throw .malformed("\(what): count \(count) cannot fit in the \(remaining) bytes left at \(position)")
        }
    }

    // MARK: Fixed width

    public mutating func readUInt8() throws(FormatDecodingError) -> UInt8 {
        guard position < bytes.count else { throw .truncated(at: position) }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func readUInt16() throws(FormatDecodingError) -> UInt16 {
        UInt16(littleEndian: try readFixed(UInt16.self))
    }

    public mutating func readUInt32() throws(FormatDecodingError) -> UInt32 {
        UInt32(littleEndian: try readFixed(UInt32.self))
    }

    public mutating func readUInt64() throws(FormatDecodingError) -> UInt64 {
        UInt64(littleEndian: try readFixed(UInt64.self))
    }

    public mutating func readInt64() throws(FormatDecodingError) -> Int64 {
        Int64(bitPattern: try readUInt64())
    }

    public mutating func readBool() throws(FormatDecodingError) -> Bool {
        let start = position
        switch try readUInt8() {
        case 0: return false
        case 1: return true
        case let other: throw .malformed("boolean byte \(other) at \(start)")
        }
    }

    private mutating func readFixed<Value: FixedWidthInteger>(_: Value.Type) throws(FormatDecodingError) -> Value {
        let size = MemoryLayout<Value>.size
        guard remaining >= size else { throw .truncated(at: position) }
        let value = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: Value.self) }
        position += size
        return value
    }

    // MARK: Varints

    /// Unsigned LEB128 of at most 10 bytes; bits beyond 64 are refused rather than dropped.
    public mutating func readVarint() throws(FormatDecodingError) -> UInt64 {
        let start = position
        guard position < bytes.count else { throw .truncated(at: start) }
        let first = bytes[position]
        if first < 0x80 {
            position += 1
            return UInt64(first)
        }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count else { throw .truncated(at: start) }
            let byte = bytes[position]
            position += 1
            let group = UInt64(byte & 0x7F)
            if shift == 63 && group > 1 { throw .malformed("varint at \(start) overflows 64 bits") }
            result |= group << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { throw .malformed("varint at \(start) is longer than 10 bytes") }
        }
    }

    /// A varint that must fit in `Int` and be at most `limit` (lengths, counts).
    public mutating func readLength(limit: Int = .max, _ what: String) throws(FormatDecodingError) -> Int {
        let start = position
        let value = try readVarint()
        guard value <= UInt64(limit) else { throw .malformed("\(what) \(value) at \(start) exceeds \(limit)") }
        return Int(value)
    }

    public mutating func readVarintUInt32(_ what: String) throws(FormatDecodingError) -> UInt32 {
        let start = position
        let value = try readVarint()
        guard let narrowed = UInt32(exactly: value) else { throw .malformed("\(what) \(value) at \(start) exceeds 32 bits") }
        return narrowed
    }

    public mutating func readSignedVarint() throws(FormatDecodingError) -> Int64 {
        let zigzag = try readVarint()
        return Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
    }

    // MARK: Strings and optionals

    public mutating func readBytes() throws(FormatDecodingError) -> [UInt8] {
        let start = position
        let count = try readLength("byte string length")
        guard count <= remaining else { throw .truncated(at: start) }
        return takeRaw(count)
    }

    /// Exactly `count` bytes with no length prefix.
    public mutating func readRaw(_ count: Int) throws(FormatDecodingError) -> [UInt8] {
        guard count <= remaining else { throw .truncated(at: position) }
        return takeRaw(count)
    }

    public mutating func readString() throws(FormatDecodingError) -> String {
        let start = position
        let utf8 = try readBytes()
        guard let string = String(validating: utf8, as: UTF8.self) else {
            throw .malformed("string at \(start) is not valid UTF-8")
        }
        return string
    }

    public mutating func readOptional<Value>(
        _ read: (inout BinaryReader) throws(FormatDecodingError) -> Value
    ) throws(FormatDecodingError) -> Value? {
        guard try readBool() else { return nil }
        return try read(&self)
    }

    /// The caller has checked `count <= remaining`.
    private mutating func takeRaw(_ count: Int) -> [UInt8] {
        defer { position += count }
        return Array(bytes[position ..< position + count])
    }
}
