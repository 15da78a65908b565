// File and directory names: AES-256-SIV over the NFC-normalised UTF-8 name, with the parent
// directory's stable id as the only associated data component. Deterministic on purpose:
// `lookup` encrypts the name it is asked for and compares ciphertexts, so plaintext names
// never need to sit in long-lived memory. The same name in two directories encrypts
// differently, and a name moved to another directory's listing fails authentication.
//
// Sealed name = SIV tag (16) ‖ ciphertext (same length as the NFC UTF-8 name).

import Foundation

/// Encrypts and decrypts names with the vault's name key. Thread-safe.
public final class NameCipher: Sendable {
    /// Longest plaintext name, in UTF-8 bytes after NFC normalisation (NAME_MAX).
    public static let maximumNameBytes = 255
    /// Bytes a sealed name has beyond its plaintext.
    public static let overhead = AESSIV.tagSize
    /// Longest sealed name: what a caller's buffer must hold for any valid name.
    public static let maximumSealedBytes = maximumNameBytes + overhead

    let siv: AESSIV

    public init(keys: MasterKeys) throws(CryptoError) {
        self.siv = try keys.withKey(.names) { (key) throws(CryptoError) -> AESSIV in
            try AESSIV(key: key)
        }
    }

    /// Encrypts `name` for directory `parent` into `output`; returns the bytes written.
    /// Does not allocate for ASCII names (already NFC); other names are normalised first.
    public func encrypt(name: String, parent: DirectoryID, into output: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        try Self.withNormalizedUTF8(name) { (plaintext) throws(CryptoError) -> Int in
            try encrypt(normalizedUTF8: plaintext, parent: parent, into: output)
        }
    }

    /// The sealed name as an array of its exact length (what a directory keeps). Sealed on
    /// the stack first: a zero-filled array of the longest length, trimmed afterwards, cost
    /// more than the AES of a short name.
    public func encrypt(name: String, parent: DirectoryID) throws(CryptoError) -> [UInt8] {
        try withUnsafeTemporaryAllocation(byteCount: Self.maximumSealedBytes, alignment: 16) { (out) throws(CryptoError) -> [UInt8] in
            let count = try encrypt(name: name, parent: parent, into: out)
            return Array(UnsafeRawBufferPointer(rebasing: out[..<count]))
        }
    }

    /// Decrypts a sealed name into `output` as UTF-8; returns its length. Throws
    /// `.authenticationFailed` when the name was damaged or sealed for another directory.
    public func decrypt(_ sealed: UnsafeRawBufferPointer, parent: DirectoryID, into output: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        let opened = try parent.withUnsafeBytes { (directoryID) throws(CryptoError) -> Int? in
            try withUnsafePointer(to: directoryID) { (component) throws(CryptoError) -> Int? in
                try siv.open(sealed, associatedData: UnsafeBufferPointer(start: component, count: 1), into: output)
            }
        }
        guard let count = opened else {
            throw .authenticationFailed(context: "a \(sealed.count)-byte encrypted name in directory \(parent)")
        }
        return count
    }

    public func decrypt(_ sealed: [UInt8], parent: DirectoryID) throws(CryptoError) -> String {
        var plaintext = [UInt8](repeating: 0, count: max(sealed.count - Self.overhead, 0))
        let count = try withBytes(of: sealed) { (input) throws(CryptoError) -> Int in
            try withMutableBytes(of: &plaintext) { (out) throws(CryptoError) -> Int in
                try decrypt(input, parent: parent, into: out)
            }
        }
        return String(decoding: plaintext[..<count], as: UTF8.self)
    }

    /// Encrypts a name that is already NFC-normalised UTF-8 (ASCII always is), with no
    /// String in between: the FUSE door's lookup passes the kernel's bytes straight here.
    public func encrypt(normalizedUTF8 plaintext: UnsafeRawBufferPointer, parent: DirectoryID,
                        into output: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        guard !plaintext.isEmpty else { throw .invalidName(reason: "a name cannot be empty") }
        guard plaintext.count <= Self.maximumNameBytes else {
            throw .nameTooLong(byteCount: plaintext.count, limit: Self.maximumNameBytes)
        }
        return try parent.withUnsafeBytes { (directoryID) throws(CryptoError) -> Int in
            try withUnsafePointer(to: directoryID) { (component) throws(CryptoError) -> Int in
                try siv.seal(plaintext, associatedData: UnsafeBufferPointer(start: component, count: 1), into: output)
            }
        }
    }

    // MARK: - Internals

    /// The NFC form's UTF-8. ASCII is NFC already, and checking for it is a byte scan of a
    /// native string's storage, so the common case normalises nothing and allocates nothing.
    static func withNormalizedUTF8<Value>(
        _ name: String, _ body: (UnsafeRawBufferPointer) throws(CryptoError) -> Value
    ) throws(CryptoError) -> Value {
        var normalized = name
        if !name.utf8.allSatisfy({ $0 < 0x80 }) {
            normalized = name.precomposedStringWithCanonicalMapping
        }
        return try normalized.withUTF8 { utf8 in
            Result { () throws(CryptoError) -> Value in try body(UnsafeRawBufferPointer(utf8)) }
        }.get()
    }
}
