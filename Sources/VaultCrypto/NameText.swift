// Encrypted names are bytes; where text is needed (file names on an object store, JSON,
// logs) they are written as base64url without padding (RFC 4648 §5): filesystem- and
// URL-safe, and case-sensitive, so only for places that preserve case.

import CSodium

/// Unpadded base64url for encrypted names and ids.
public enum NameText {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Characters `encode` writes for `byteCount` bytes.
    public static func encodedLength(byteCount: Int) -> Int {
        (byteCount * 4 + 2) / 3
    }

    /// Encodes into `output` (ASCII, no terminator); returns the characters written.
    /// Allocates nothing, so it can run in the per-operation arena.
    public static func encode(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        let length = encodedLength(byteCount: bytes.count)
        guard output.count >= length else { throw .bufferTooSmall(needed: length, available: output.count) }
        alphabet.withUnsafeBufferPointer { symbols in
            var written = 0
            var index = 0
            while index < bytes.count {
                let remaining = bytes.count - index
                let group = UInt32(bytes[index]) << 16
                    | (remaining > 1 ? UInt32(bytes[index + 1]) << 8 : 0)
                    | (remaining > 2 ? UInt32(bytes[index + 2]) : 0)
                let symbolsInGroup = min(remaining, 3) + 1
                for position in 0..<symbolsInGroup {
                    output[written] = symbols[Int(group >> (18 - 6 * UInt32(position)) & 0x3F)]
                    written += 1
                }
                index += 3
            }
        }
        return length
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        var text = [UInt8](repeating: 0, count: encodedLength(byteCount: bytes.count))
        let count = try! withBytes(of: bytes) { (input) throws(CryptoError) -> Int in
            try withMutableBytes(of: &text) { (out) throws(CryptoError) -> Int in try encode(input, into: out) }
        }
        return String(decoding: text[..<count], as: UTF8.self)
    }

    /// Decodes unpadded base64url into `output`; returns the bytes written. Rejects padding,
    /// other alphabets, whitespace and non-canonical trailing bits, so every byte string has
    /// exactly one accepted text form.
    public static func decode(_ text: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        guard text.count % 4 != 1 else {
            throw .invalidTextEncoding(reason: "\(text.count) characters is not a valid unpadded length")
        }
        CryptoLibraries.ensureReady()
        let needed = text.count * 3 / 4
        guard output.count >= needed else { throw .bufferTooSmall(needed: needed, available: output.count) }
        var decoded = 0
        var end: UnsafePointer<CChar>? = nil
        let status = sodium_base642bin(
            mutableBytePointer(output), output.count,
            text.baseAddress?.assumingMemoryBound(to: CChar.self), text.count,
            nil, &decoded, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING)
        let consumed = end.map { UnsafeRawPointer($0) - text.baseAddress! } ?? 0
        guard status == 0, consumed == text.count else {
            throw .invalidTextEncoding(reason: "invalid character or trailing bits at offset \(consumed)")
        }
        return decoded
    }

    public static func decode(_ text: String) throws(CryptoError) -> [UInt8] {
        let utf8 = Array(text.utf8)
        var bytes = [UInt8](repeating: 0, count: utf8.count * 3 / 4)
        let count = try withBytes(of: utf8) { (input) throws(CryptoError) -> Int in
            try withMutableBytes(of: &bytes) { (out) throws(CryptoError) -> Int in try decode(input, into: out) }
        }
        bytes.removeSubrange(count...)
        return bytes
    }
}
