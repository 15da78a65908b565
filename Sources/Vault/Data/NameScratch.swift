import Buffers
import VaultCrypto

/// A per-thread buffer that holds the sealed form of a name being looked up, reused for every
/// lookup on that thread: probing the directory map with it allocates nothing, where a fresh
/// array per lookup would cost one malloc on the hottest metadata path.
final class NameScratch {
    private static let slot = ThreadLocalSlot { NameScratch() }

    private var bytes = [UInt8](repeating: 0, count: NameCipher.maximumSealedBytes)

    /// Seals `name` for `parent` into the calling thread's buffer and gives `body` the key to
    /// probe with. The key must not outlive `body` (it would make the next seal copy).
    static func withSealedName<Result>(_ name: String, parent: DirectoryID, cipher: NameCipher,
                                       _ body: (SealedName) throws(VaultError) -> Result) throws(VaultError) -> Result {
        try withSealed({ (output) throws(CryptoError) in try cipher.encrypt(name: name, parent: parent, into: output) }, body)
    }

    /// The same for a name that is already NFC UTF-8 (`NameRules.isASCII` names).
    static func withSealedName<Result>(normalizedUTF8 name: UnsafeRawBufferPointer, parent: DirectoryID, cipher: NameCipher,
                                       _ body: (SealedName) throws(VaultError) -> Result) throws(VaultError) -> Result {
        try withSealed({ (output) throws(CryptoError) in try cipher.encrypt(normalizedUTF8: name, parent: parent, into: output) }, body)
    }

    private static func withSealed<Result>(_ seal: (UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int,
                                           _ body: (SealedName) throws(VaultError) -> Result) throws(VaultError) -> Result {
        let scratch = slot.current
        if scratch.bytes.count < NameCipher.maximumSealedBytes {
            scratch.bytes.append(contentsOf: repeatElement(0, count: NameCipher.maximumSealedBytes - scratch.bytes.count))
        }
        var failure: CryptoError?
        let count = scratch.bytes.withUnsafeMutableBytes { output -> Int in
            do throws(CryptoError) {
                return try seal(output)
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw VaultError(failure) }
        scratch.bytes.removeLast(scratch.bytes.count - count)  // keeps the capacity
        return try body(SealedName(scratch.bytes))
    }
}
