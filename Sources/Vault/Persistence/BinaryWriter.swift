/// Appends the primitive encodings every persisted vault structure is built from (journal
/// records, checkpoint bodies). The layout rules live in docs/FORMAT-vault.md:
///
/// - fixed-width integers are little-endian;
/// - "varint" is unsigned LEB128 (7 bits per byte, low group first, high bit = more);
/// - byte strings and UTF-8 strings are a varint length followed by the bytes;
/// - a boolean is one byte, 0 or 1; an optional is a boolean "present" byte, then the value.
///
/// Everything goes into one growing `[UInt8]`; callers that know roughly how much they will
/// write reserve it up front so a large checkpoint does not reallocate on the way.
public struct BinaryWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func reserveCapacity(_ capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    // MARK: Fixed width

    public mutating func writeUInt8(_ value: UInt8) {
        bytes.append(value)
    }

    public mutating func writeUInt16(_ value: UInt16) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeUInt32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeUInt64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeInt64(_ value: Int64) {
        writeUInt64(UInt64(bitPattern: value))
    }

    public mutating func writeBool(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    // MARK: Varints

    /// Unsigned LEB128. Small values (lengths, counts, nearby inode numbers) take one byte,
    /// which is the common case, so that path is a single append.
    public mutating func writeVarint(_ value: UInt64) {
        if value < 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value))
            return
        }
        // Build the whole encoding (at most 10 bytes) on the stack, then append it at once.
        var scratch: (UInt64, UInt64) = (0, 0)
        let length = withUnsafeMutableBytes(of: &scratch) { buffer -> Int in
            var remaining = value
            var index = 0
            while remaining >= 0x80 {
                buffer[index] = UInt8(truncatingIfNeeded: remaining) | 0x80
                remaining >>= 7
                index += 1
            }
            buffer[index] = UInt8(truncatingIfNeeded: remaining)
            return index + 1
        }
        withUnsafeBytes(of: &scratch) { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[..<length])) }
    }

    public mutating func writeVarint(_ value: Int) {
        precondition(value >= 0, "varints are unsigned")
        writeVarint(UInt64(value))
    }

    public mutating func writeVarint(_ value: UInt32) {
        writeVarint(UInt64(value))
    }

    /// Zigzag then LEB128: small magnitudes of either sign stay short (timestamp deltas).
    public mutating func writeSignedVarint(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    // MARK: Strings and optionals

    public mutating func writeBytes(_ value: [UInt8]) {
        writeVarint(value.count)
        bytes.append(contentsOf: value)
    }

    /// Raw bytes with no length (fixed-size fields such as ids and magic numbers).
    public mutating func writeRaw(_ value: some Collection<UInt8>) {
        bytes.append(contentsOf: value)
    }

    public mutating func writeString(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            writeVarint(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    /// A presence byte, then the value when there is one.
    public mutating func writeOptional<Value>(_ value: Value?, _ write: (inout BinaryWriter, Value) -> Void) {
        guard let value else {
            writeBool(false)
            return
        }
        writeBool(true)
        write(&self, value)
    }
}
