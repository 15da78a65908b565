import Buffers
import VaultCrypto

/// A per-thread buffer that holds the sealed form of a name being looked up, reused for every
/// lookup on that thread: probing the directory map with it allocates nothing, where a fresh
/// array per lookup would cost one malloc on the hottest metadata path.
final class NameScratch {
    private static let slot = ThreadLocalSlot { NameScratch() }

    private var bytes: [UInt8] = []

    private init() {
        bytes.reserveCapacity(NameCipher.maximumSealedBytes)
    }

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
        var failure: CryptoError?
        // Sealed on the stack, then copied into the kept capacity: growing the array to full
        // size with zeros and trimming it again cost more than the copy.
        withUnsafeTemporaryAllocation(byteCount: NameCipher.maximumSealedBytes, alignment: 16) { output in
            do throws(CryptoError) {
                let count = try seal(output)
                scratch.bytes.removeAll(keepingCapacity: true)
                scratch.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: output[..<count]))
            } catch {
                failure = error
            }
        }
        if let failure { throw VaultError(failure) }
        return try body(SealedName(scratch.bytes))
    }
}
