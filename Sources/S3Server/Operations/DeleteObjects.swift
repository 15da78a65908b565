import Hummingbird
import Vault

/// DeleteObject and DeleteObjects (with quiet mode). Deleting a missing key succeeds, as in S3.
extension S3Service {
    static let maximumKeysPerDelete = 1000

    func deleteObject(_ request: S3Request, _ path: ObjectPath) async throws -> Response {
        let store = store
        let bucketName = request.bucket
        let change = try await onVault {
            let bucket = try store.bucket(bucketName)
            try store.delete(bucket, path)
            return PendingDurability(store.vault)
        }
        try await durabilityWaiters.wait(for: change)
        return Responses.empty(status: .noContent)
    }

    func deleteObjects(_ request: S3Request, body: RequestBody) async throws -> Response {
        let document = try XMLElementNode.parse(try await Self.collect(body, limit: 2 << 20), root: "Delete")
        let quiet = document.child("Quiet")?.text.trimmingSpaces().lowercased() == "true"
        let keys = document.children("Object").map { $0.child("Key")?.text }
        guard !keys.isEmpty, keys.count <= Self.maximumKeysPerDelete else {
            throw S3Error(.malformedXML, "a Delete request names 1 to \(Self.maximumKeysPerDelete) objects")
        }
        guard keys.allSatisfy({ $0 != nil }) else { throw S3Error(.malformedXML, "every <Object> needs a <Key>") }
        let store = store
        let bucketName = request.bucket
        let outcomes = try await onVault { () throws -> [(key: String, error: S3Error?)] in
            let bucket = try store.bucket(bucketName)
            var outcomes: [(String, S3Error?)] = []
            for key in keys.compactMap({ $0 }) {
                do {
                    try store.delete(bucket, try ObjectPath(key: key))
                    outcomes.append((key, nil))
                } catch {
                    outcomes.append((key, S3Error.from(error)))
                }
            }
            try store.vault.sync()
            return outcomes
        }
        var xml = XMLWriter(root: "DeleteResult")
        for outcome in outcomes {
            if let error = outcome.error {
                xml.start("Error")
                xml.element("Key", outcome.key)
                xml.element("Code", error.code.rawValue)
                xml.element("Message", error.message)
                xml.end()
            } else if !quiet {
                xml.start("Deleted")
                xml.element("Key", outcome.key)
                xml.end()
            }
        }
        return Responses.xml(xml.finish())
    }
}
