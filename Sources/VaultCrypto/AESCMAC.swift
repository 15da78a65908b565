// AES-CMAC (RFC 4493), the PRF inside AES-SIV's S2V. Built on a plain AES-CBC context
// because OpenSSL's own CMAC and SIV objects allocate whenever they are reset or copied,
// while a CBC context can be re-pointed at a zero IV (keeping its key schedule) for free.
//
// CMAC is CBC-MAC with the last block changed: XORed with subkey K1 when it is complete,
// 10*-padded and XORed with K2 otherwise. So one MAC is: reset the IV to zero, run CBC
// over every block but the last, prepare the last block, run CBC over it; the last
// ciphertext block is the tag. The CBC output of the earlier blocks is discarded into a
// small stack buffer, a chunk at a time, so no call allocates.

import CLibCrypto
import CSodium

/// One AES-CMAC key: its CBC cipher and the subkeys K1 and K2, derived once.
final class AESCMAC: Sendable {
    static let blockSize = 16

    private let cipher: FetchedCipher
    private let key: SecureBytes
    /// K1 ‖ K2 (RFC 4493 §2.3), in locked memory like the key they are derived from.
    private let subkeys: SecureBytes

    /// CBC output that is never used still needs somewhere to go; this many bytes of stack.
    private static let discardChunk = 256
    private static let zeroBlock = [UInt8](repeating: 0, count: blockSize)

    /// `key` is 16, 24 or 32 bytes (AES-128, -192, -256).
    init(key: UnsafeRawBufferPointer) throws(CryptoError) {
        let name: String
        switch key.count {
        case 16: name = "AES-128-CBC"
        case 24: name = "AES-192-CBC"
        case 32: name = "AES-256-CBC"
        default: preconditionFailure("AES-CMAC keys are 16, 24 or 32 bytes, got \(key.count)")
        }
        CryptoLibraries.ensureReady()
        let cipher = try FetchedCipher(name)
        let subkeys = try SecureBytes(count: 2 * Self.blockSize)
        let context = try Self.makeContext(cipher: cipher, key: key)
        defer { CipherContextHandle.free(context) }
        try subkeys.withUnsafeMutableBytes { (subkeys) throws(CryptoError) in
            let k1 = subkeys.baseAddress!
            let k2 = k1 + Self.blockSize
            // L = AES-K(0^128): one CBC block under a zero IV is one plain AES block.
            try Self.resetChain(context.pointer)
            try withBytes(of: Self.zeroBlock) { (zero) throws(CryptoError) in
                try Self.cbc(context.pointer, zero, into: k1)
            }
            Block128.double(k1)
            k2.copyMemory(from: k1, byteCount: Self.blockSize)
            Block128.double(k2)
        }
        self.cipher = cipher
        self.key = try SecureBytes(copying: key)
        self.subkeys = subkeys
    }

    /// A context keyed for this MAC, for a caller's pool. One context serves any number
    /// of MACs, one at a time.
    func makeContext() throws(CryptoError) -> CipherContextHandle {
        try key.withUnsafeBytes { (key) throws(CryptoError) -> CipherContextHandle in
            try Self.makeContext(cipher: cipher, key: key)
        }
    }

    /// Writes the 16-byte CMAC of `message` to `tag`, with `xorEnd` (16 bytes, optional)
    /// first XORed into the message's last 16 bytes. That is S2V's "Sn xorend D": doing it
    /// here, on a copy of the message's tail, spares copying the whole message.
    /// `context` must come from `makeContext()` and not be in use elsewhere.
    func authenticate(
        _ message: UnsafeRawBufferPointer,
        xorEnd: UnsafeRawPointer? = nil,
        context: OpaquePointer,
        tag: UnsafeMutableRawPointer
    ) throws(CryptoError) {
        let count = message.count
        precondition(xorEnd == nil || count >= Self.blockSize, "xorend needs at least one block")
        // The last block starts here (complete or not); an empty message is one padded block.
        let lastStart = count == 0 ? 0 : (count - 1) & ~(Self.blockSize - 1)
        // Everything before the block preceding the last goes through CBC straight from the
        // caller's buffer. The rest (at most 32 bytes) is copied, because the xorend may
        // straddle the last two blocks and the last block needs padding and a subkey.
        let tailStart = max(lastStart - Self.blockSize, 0)
        let tailCount = count - tailStart
        let paddedCount = lastStart - tailStart + Self.blockSize

        try withUnsafeTemporaryAllocation(byteCount: Self.discardChunk + 2 * Self.blockSize, alignment: 16) {
            (scratch) throws(CryptoError) in
            let discard = scratch.baseAddress!
            let tail = discard + Self.discardChunk
            defer { sodium_memzero(discard, scratch.count) }

            try Self.resetChain(context)
            var fed = 0
            while fed < tailStart {
                let piece = min(tailStart - fed, Self.discardChunk)
                try Self.cbc(context, UnsafeRawBufferPointer(rebasing: message[fed ..< fed + piece]), into: discard)
                fed += piece
            }

            if tailCount > 0 {
                tail.copyMemory(from: message.baseAddress! + tailStart, byteCount: tailCount)
            }
            if let xorEnd {
                Block128.xor(tail + tailCount - Self.blockSize, xorEnd)
            }
            let last = tail + paddedCount - Self.blockSize
            subkeys.withUnsafeBytes { subkeys in
                if count > 0 && count % Self.blockSize == 0 {
                    Block128.xor(last, subkeys.baseAddress!)
                } else {
                    // 10* padding: one 1 bit, then zeros to the block's end.
                    tail.storeBytes(of: 0x80, toByteOffset: tailCount, as: UInt8.self)
                    (tail + tailCount + 1).initializeMemory(as: UInt8.self, repeating: 0,
                                                          count: paddedCount - tailCount - 1)
                    Block128.xor(last, subkeys.baseAddress! + Self.blockSize)
                }
            }
            // CBC in place is fine: each output block only overwrites the input block it came from.
            try Self.cbc(context, UnsafeRawBufferPointer(start: tail, count: paddedCount), into: tail)
            tag.copyMemory(from: last, byteCount: Self.blockSize)
        }
    }

    // MARK: - CBC on OpenSSL

    private static func makeContext(cipher: FetchedCipher, key: UnsafeRawBufferPointer) throws(CryptoError) -> CipherContextHandle {
        let context = try cipher.makeContext(key: key)
        // Input is always whole blocks; padding would add a block to every MAC.
        guard EVP_CIPHER_CTX_set_padding(context.pointer, 0) == 1 else {
            CipherContextHandle.free(context)
            throw CryptoLibraries.openSSLFailure("AES-CMAC disable padding")
        }
        return context
    }

    /// Starts a new CBC chain: zero IV, same key (no cipher and no key keeps the schedule).
    private static func resetChain(_ context: OpaquePointer) throws(CryptoError) {
        try withBytes(of: zeroBlock) { (iv) throws(CryptoError) in
            guard EVP_EncryptInit_ex2(context, nil, nil, bytePointer(iv), nil) == 1 else {
                throw CryptoLibraries.openSSLFailure("AES-CMAC reset")
            }
        }
    }

    /// CBC-encrypts whole blocks, continuing the context's chain.
    private static func cbc(_ context: OpaquePointer, _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawPointer) throws(CryptoError) {
        precondition(input.count % blockSize == 0 && input.count <= Int(Int32.max))
        guard input.count > 0 else { return }
        var produced: Int32 = 0
        guard EVP_EncryptUpdate(context, output.assumingMemoryBound(to: UInt8.self), &produced,
                                bytePointer(input), Int32(input.count)) == 1,
              Int(produced) == input.count else {
            throw CryptoLibraries.openSSLFailure("AES-CMAC block encrypt")
        }
    }
}

/// 128-bit blocks as RFC 4493 and RFC 5297 treat them: big-endian strings.
enum Block128 {
    /// dbl(S): shift left by one bit; when the bit shifted out was 1, XOR the low byte with
    /// 0x87 (x^128 = x^7 + x^2 + x + 1 in GF(2^128)). Branch-free, since S is secret.
    @inline(__always)
    static func double(_ block: UnsafeMutableRawPointer) {
        let high = UInt64(bigEndian: block.loadUnaligned(as: UInt64.self))
        let low = UInt64(bigEndian: block.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let carry = 0 &- (high >> 63)
        block.storeBytes(of: ((high << 1) | (low >> 63)).bigEndian, as: UInt64.self)
        block.storeBytes(of: ((low << 1) ^ (carry & 0x87)).bigEndian, toByteOffset: 8, as: UInt64.self)
    }

    /// block ^= other, 16 bytes.
    @inline(__always)
    static func xor(_ block: UnsafeMutableRawPointer, _ other: UnsafeRawPointer) {
        for offset in stride(from: 0, to: 16, by: 8) {
            let value = block.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                ^ other.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            block.storeBytes(of: value, toByteOffset: offset, as: UInt64.self)
        }
    }
}
