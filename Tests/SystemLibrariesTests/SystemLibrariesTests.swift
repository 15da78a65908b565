import CFuse3
import CISAL
import CLibCrypto
import CSodium
import CXXHash
import Testing

/// Each system-library module map must compile, link and reach a real symbol.
@Suite struct SystemLibrariesTests {
    @Test func libfuse3Links() {
        #expect(fuse_version() >= 312)
    }

    @Test func libsodiumInitialises() {
        #expect(sodium_init() >= 0)
    }

    @Test func libcryptoHasAESGCM() {
        let cipher = EVP_CIPHER_fetch(nil, "AES-256-GCM", nil)
        #expect(cipher != nil)
        EVP_CIPHER_free(cipher)
    }

    @Test func isalGeneratesCauchyMatrix() {
        var matrix = [UInt8](repeating: 0, count: 6 * 4)
        gf_gen_cauchy1_matrix(&matrix, 6, 4)
        #expect(matrix[0] == 1 && matrix[5] == 1)  // identity on top
    }

    @Test func xxhashComputesXXH3() {
        let bytes: [UInt8] = Array("ShardVault".utf8)
        let a = XXH3_128bits(bytes, bytes.count)
        let b = XXH3_128bits(bytes, bytes.count)
        #expect(a.low64 == b.low64 && a.high64 == b.high64 && a.low64 != 0)
    }
}
