import Foundation
import Glibc
import Testing

/// The switched-off fast paths (SHARDVAULT_FUSE_DISABLE, used only by benchmarks) must still
/// be a correct filesystem, so the numbers they produce compare like with like.
@Suite(.serialized) struct FastPathSwitchTests {
    @Test func everyOperationIsCorrectWithTheFastPathsOff() throws {
        let vault = try MountedVault(mount: false)
        defer { vault.stop() }
        try vault.mount(environment: ["SHARDVAULT_FUSE_DISABLE": "all"])
        #expect(vault.log().contains("disabled: inline,arena,pools"))

        let directory = vault.path("many")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let names = (0 ..< 300).map { "entry-with-a-long-enough-name-\($0)" }
        for (index, name) in names.enumerated() {
            try Data(repeating: UInt8(index % 256), count: index * 37).write(to: URL(fileURLWithPath: directory + "/" + name))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == names.sorted())
        let listing = try MountedVault.runTool("/bin/ls", ["-l", directory])
        #expect(listing.status == 0)
        #expect(listing.output.split(separator: "\n").count == names.count + 1)  // plus "total"
        for (index, name) in names.enumerated() where index % 29 == 0 {
            let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + name)
            #expect((attributes[.size] as? Int) == index * 37)
            #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)) == Data(repeating: UInt8(index % 256), count: index * 37))
        }

        let big = (0 ..< 6 << 20).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 13) }
        try Data(big).write(to: URL(fileURLWithPath: vault.path("big")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: vault.path("big"))) == Data(big))
    }

    @Test func anUnknownSwitchIsRefusedBeforeMounting() throws {
        let vault = try MountedVault(mount: false)
        defer { vault.stop() }
        #expect(throws: HarnessError.self) { try vault.mount(environment: ["SHARDVAULT_FUSE_DISABLE": "turbo"]) }
        #expect(vault.log().contains("turbo"))
        #expect(!MountedVault.isMounted(vault.mountpoint))
    }
}
