import ArgumentParser
import Foundation
import FuseDriver
import Vault

/// `shardvault mount [--foreground] [--password-file F] [-o OPTS] VOLUME... MOUNTPOINT`
struct Mount: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unlock the vault and serve it as a directory through FUSE.",
        discussion: """
            The last argument is the mount point; the ones before it are the volumes. Options \
            (-o, comma-separated): ro, rw, allow_other, default_permissions, attr_timeout=S, \
            entry_timeout=S, max_threads=N, report_init (print what the kernel agreed to). SIGTERM, SIGINT or `shardvault unmount` write back \
            cached data, unmount and close the vault (journal committed, checkpoint written). \
            Only --foreground is implemented so far (docs/FUSE.md).
            """)

    @Flag(help: "Stay in the foreground (required for now).")
    var foreground = false

    @Option(help: ArgumentHelp("Read the password from this file.", valueName: "file"))
    var passwordFile: String?

    @Option(name: .customShort("o"), help: ArgumentHelp("Mount options, comma-separated.", valueName: "opts"))
    var mountOptions: [String] = []

    @Argument(help: ArgumentHelp("The pool's volume directories, then the mount point.", valueName: "volume... mountpoint"))
    var paths: [String] = []

    func validate() throws {
        guard paths.count >= 2 else {
            throw ValidationError("give the volume directories and then the mount point")
        }
    }

    func run() throws {
        guard foreground else {
            throw CLIFailure.usage("running in the background is not implemented yet; use --foreground (docs/FUSE.md)")
        }
        let options: MountOptions
        do {
            options = try MountOptions(parsing: mountOptions.joined(separator: ","))
        } catch {
            throw CLIFailure.usage(error.description)
        }
        let mountpoint = URL(fileURLWithPath: paths.last!).standardizedFileURL.path
        let volumes = Array(paths.dropLast())
        try Self.checkMountpoint(mountpoint)
        let password = try Passwords.existing(file: passwordFile)
        // After the password prompt (Ctrl-C must still work there), before the vault starts
        // its threads: from here termination signals wait for the mount's signal watcher.
        FuseMount.blockTerminationSignals()
        let vault = try Vault(volumePaths: volumes, password: password)
        if let reason = vault.readOnlyReason, !options.readOnly {
            Output.note("serving read-only: \(reason)")
        }
        let mount = FuseMount(vault: vault, mountpoint: mountpoint, options: options)
        do {
            try mount.serve(ready: { Output.note("mounted on \(mountpoint)") })
        } catch {
            try? vault.close()
            throw CLIFailure.failed(error.description)
        }
        try vault.close()
    }
}

extension Mount {
    /// Refuses a mount point that is missing, not a directory, or left behind by a daemon
    /// that died (the kernel then answers ENOTCONN), before the password is asked for.
    static func checkMountpoint(_ mountpoint: String) throws {
        var status = stat()
        if stat(mountpoint, &status) != 0 {
            if errno == ENOTCONN {
                throw CLIFailure.failed("\(mountpoint) is a stale mount left by a daemon that died; "
                    + "run `shardvault unmount \(mountpoint)` first")
            }
            throw CLIFailure.usage("the mount point \(mountpoint) does not exist: \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw CLIFailure.usage("the mount point \(mountpoint) is not a directory")
        }
    }
}

/// `shardvault unmount MOUNTPOINT`
struct Unmount: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unmount a mounted vault; its daemon writes back, closes the vault and exits.")

    @Flag(help: "Detach now even if the mount is busy; the daemon exits when the last user leaves.")
    var lazy = false

    @Argument(help: ArgumentHelp("The mount point.", valueName: "mountpoint"))
    var mountpoint: String

    func run() throws {
        guard Unmounter.isMounted(mountpoint) else {
            throw CLIFailure.failed("\(mountpoint) is not mounted")
        }
        guard Unmounter.unmount(mountpoint, lazy: lazy) else {
            throw CLIFailure.failed("could not unmount \(mountpoint) (busy? try --lazy; not mounted?)")
        }
    }
}
