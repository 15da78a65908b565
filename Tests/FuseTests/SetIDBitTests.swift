import Foundation
import Glibc
import Testing

/// Set-user-ID and set-group-ID bits are cleared as on a local filesystem when another user
/// writes or truncates a file and when its owner changes, whether the driver clears them
/// (FUSE_HANDLE_KILLPRIV_V2, the default) or leaves it to the kernel (switched off).
@Suite(.serialized) struct SetIDBitTests {
    static let modes: [(String, [String: String])] = [
        ("driver", [:]),
        ("kernel", ["SHARDVAULT_FUSE_DISABLE": "killpriv"]),
    ]

    @Test(arguments: [0, 1]) func setIDBitsAreClearedLikeOnALocalFilesystem(_ mode: Int) throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return }
        let (name, environment) = Self.modes[mode]
        let vault = try MountedVault(mount: false)
        defer { vault.stop() }
        try vault.mount(options: ["allow_other,default_permissions,report_init"], environment: environment)
        let negotiated = vault.log().contains("FUSE_HANDLE_KILLPRIV_V2")
        #expect(negotiated == (name == "driver"), "\(name): \(vault.log())")
        #expect(chmod(vault.root, 0o755) == 0)

        let files: [(name: String, mode: mode_t)] = [("written", 0o6777), ("truncated", 0o6777), ("byRoot", 0o6777),
                                                     ("chowned", 0o6755), ("groupNoExec", 0o2745), ("plain", 0o0777)]
        for file in files {
            try "x\n".write(toFile: vault.path(file.name), atomically: false, encoding: .utf8)
            #expect(chmod(vault.path(file.name), file.mode) == 0)
        }
        func asNobody(_ arguments: [String]) throws {
            let result = try MountedVault.runTool("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups"] + arguments)
            #expect(result.status == 0, "\(arguments): \(result.output)")
        }
        try asNobody(["/bin/sh", "-c", "echo more >> " + vault.path("written")])
        try asNobody(["/usr/bin/truncate", "-s", "1", vault.path("truncated")])
        try asNobody(["/bin/sh", "-c", "echo more >> " + vault.path("plain")])
        try "root\n".write(toFile: vault.path("byRoot"), atomically: false, encoding: .utf8)
        #expect(chown(vault.path("chowned"), 65534, 65534) == 0)
        #expect(chown(vault.path("groupNoExec"), 65534, 65534) == 0)

        // What the kernel shows now, and what the vault keeps (after a remount).
        let expected: [String: mode_t] = ["written": 0o777, "truncated": 0o777, "byRoot": 0o6777, "chowned": 0o755,
                                          "groupNoExec": 0o2745, "plain": 0o777]
        func modes() -> [String: mode_t] {
            Dictionary(uniqueKeysWithValues: files.map { file in
                var status = stat()
                return (file.name, stat(vault.path(file.name), &status) == 0 ? status.st_mode & 0o7777 : 0)
            })
        }
        #expect(modes() == expected, "\(name)")
        #expect(vault.unmountBySignal() == 0)
        try vault.mount(environment: environment)
        #expect(modes() == expected, "\(name), after a remount")
        #expect(try String(contentsOfFile: vault.path("written"), encoding: .utf8) == "x\nmore\n")
    }
}
