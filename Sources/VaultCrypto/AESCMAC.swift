// AES-CMAC (RFC 4493), the PRF inside AES-SIV's S2V, chained in Swift over the AES block
// function (AESBlockFunction.swift): OpenSSL's own CMAC and SIV objects allocate whenever
// they are reset or copied, and its CBC context must be re-initialised per message.
//
// CMAC is CBC-MAC with the last block changed: XORed with subkey K1 when it is complete,
// 10*-padded and XORed with K2 otherwise. So one MAC is: start from a zero chaining value,
// for each block XOR it in and encrypt; the last block is prepared first. The final chaining
// value is the tag. Everything lives on the stack, so no call allocates.

import CLibCrypto
import CSodium

/// One AES-CMAC key: its AES block cipher and the subkeys K1 and K2, derived once.
final class AESCMAC: Sendable {
    static let blockSize = AESBlockFunction.blockSize

    private let cipher: FetchedCipher
    private let key: SecureBytes
    /// K1 ‖ K2 (RFC 4493 §2.3), in locked memory like the key they are derived from.
    private let subkeys: SecureBytes

    /// `key` is 16, 24 or 32 bytes (AES-128, -192, -256).
    init(key: UnsafeRawBufferPointer) throws(CryptoError) {
        CryptoLibraries.ensureReady()
        let cipher = try FetchedCipher(AESBlockFunction.cipherName(keyBytes: key.count))
        let subkeys = try SecureBytes(count: 2 * Self.blockSize)
        let context = try AESBlockFunction.makeContext(cipher: cipher, key: key)
        defer { CipherContextHandle.free(context) }
        try subkeys.withUnsafeMutableBytes { (subkeys) throws(CryptoError) in
            let k1 = subkeys.baseAddress!
            let k2 = k1 + Self.blockSize
            // L = AES-K(0^128).
            k1.initializeMemory(as: UInt8.self, repeating: 0, count: Self.blockSize)
            try AESBlockFunction.encrypt(context.pointer, k1, count: Self.blockSize, into: k1)
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
            try AESBlockFunction.makeContext(cipher: cipher, key: key)
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
        // Blocks before the one preceding the last are chained straight from the caller's
        // buffer. The rest (at most 32 bytes) is copied, because the xorend may straddle the
        // last two blocks and the last block needs padding and a subkey.
        let tailStart = max(lastStart - Self.blockSize, 0)
        let tailCount = count - tailStart
        let paddedCount = lastStart - tailStart + Self.blockSize

        try withUnsafeTemporaryAllocation(byteCount: 3 * Self.blockSize, alignment: 16) { (scratch) throws(CryptoError) in
            let chain = scratch.baseAddress!
            let tail = chain + Self.blockSize
            defer { sodium_memzero(chain, scratch.count) }

            chain.initializeMemory(as: UInt8.self, repeating: 0, count: Self.blockSize)
            var fed = 0
            while fed < tailStart {
                try chainBlock(chain, message.baseAddress! + fed, context)
                fed += Self.blockSize
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
            var block = tail
            while block <= last {
                try chainBlock(chain, UnsafeRawPointer(block), context)
                block += Self.blockSize
            }
            tag.copyMemory(from: chain, byteCount: Self.blockSize)
        }
    }

    /// One CBC step: chain = AES(chain ⊕ block).
    @inline(__always)
    private func chainBlock(_ chain: UnsafeMutableRawPointer, _ block: UnsafeRawPointer, _ context: OpaquePointer) throws(CryptoError) {
        Block128.xor(chain, block)
        try AESBlockFunction.encrypt(context, chain, count: Self.blockSize, into: chain)
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
