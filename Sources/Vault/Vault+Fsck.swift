import VolumePool

/// What `fsck` found: namespace ↔ block consistency, orphan blocks, unreadable objects.
public struct FsckReport: Sendable, Equatable {
    public var inodes = 0
    public var referencedBlocks = 0
    public var metadataObjects = 0
    /// Pool objects nothing references (left by a crash between writing a block and
    /// recording it); removed with `repair`.
    public var orphanBlocks: [ObjectID] = []
    public var removedOrphans = 0
    /// Blocks the namespace references that the pool does not have, by inode.
    public var missingBlocks: [InodeNumber: [ObjectID]] = [:]
    /// Blocks that exist but cannot be read back (too many damaged shards).
    public var unreadableBlocks: [InodeNumber: [ObjectID]] = [:]
    /// Problems with the namespace structure itself (a snapshot round trip that fails).
    public var namespaceProblems: [String] = []

    public var isClean: Bool {
        orphanBlocks.count == removedOrphans && missingBlocks.isEmpty && unreadableBlocks.isEmpty && namespaceProblems.isEmpty
    }
}

extension Vault {
    /// Checks that every block the namespace references exists and reads, and that every pool
    /// object is either metadata or referenced. With `repair`, removes orphan blocks. Meant
    /// for a vault no one else is using: it first makes all pending changes durable.
    public func fsck(repair: Bool) throws -> FsckReport {
        try sync()
        var report = FsckReport()
        var referenced: [ObjectID: InodeNumber] = [:]
        try read { (namespace) throws(VaultError) in
            report.inodes = namespace.inodeCount
            for (inode, node) in namespace.nodes {
                for block in node.content.blocks { referenced[block.storageObject] = inode }
            }
            do {
                _ = try Namespace(snapshot: namespace.snapshot())
            } catch {
                report.namespaceProblems.append("the namespace does not survive a checkpoint round trip: \(error)")
            }
        }
        report.referencedBlocks = referenced.count
        let metadata = Set(journal.liveMetadataObjectIDs() + KeyFileSlots.slotIDs + s3CredentialObjectIDs)
        for id in try pool.list() where referenced[id] == nil {
            if metadata.contains(id) {
                report.metadataObjects += 1
                continue
            }
            report.orphanBlocks.append(id)
            if repair, (try? pool.delete(id)) != nil { report.removedOrphans += 1 }
        }
        for (id, inode) in referenced {
            do {
                _ = try pool.head(id)
            } catch PoolError.objectNotFound {
                report.missingBlocks[inode, default: []].append(id)
            } catch {
                report.unreadableBlocks[inode, default: []].append(id)
            }
        }
        return report
    }
}
