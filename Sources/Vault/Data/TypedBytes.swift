/// `withUnsafe(Mutable)Bytes` for code with typed `VaultError` throws: the standard library's
/// versions rethrow as `any Error`.
extension Array where Element == UInt8 {
    func withVaultBytes<Result>(_ body: (UnsafeRawBufferPointer) throws(VaultError) -> Result) throws(VaultError) -> Result {
        var outcome: Swift.Result<Result, VaultError>!
        withUnsafeBytes { raw in outcome = Swift.Result { () throws(VaultError) in try body(raw) } }
        return try outcome.get()
    }

    mutating func withMutableVaultBytes<Result>(_ body: (UnsafeMutableRawBufferPointer) throws(VaultError) -> Result) throws(VaultError) -> Result {
        var outcome: Swift.Result<Result, VaultError>!
        withUnsafeMutableBytes { raw in outcome = Swift.Result { () throws(VaultError) in try body(raw) } }
        return try outcome.get()
    }
}
