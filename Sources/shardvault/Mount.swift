import ArgumentParser
import Foundation
import FuseDriver
import S3Server
import Vault

/// `shardvault mount [--foreground] [--password-file F] [--log-file F] [-o OPTS] VOLUME... MOUNTPOINT`
///
/// Without `--foreground` the command starts itself again in the background (MountDaemon)
/// and returns once that daemon reports the mount live, or with the daemon's error.
struct Mount: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unlock the vault and serve it as a directory through FUSE.",
        discussion: """
            The last argument is the mount point; the ones before it are the volumes. The command \
            returns once the mount is live and a daemon serves it in the background (its pid is \
            printed); errors such as a wrong password are reported before that. Options (-o, \
            comma-separated): ro, rw, allow_other, default_permissions, uid=N, gid=N, \
            cache_size=MiB, attr_timeout=S, entry_timeout=S, negative_timeout=S, max_threads=N, noexec, \
            report_init, report_requests, noio_uring (requests through /dev/fuse only, not the \
            kernel's per-CPU io_uring queues, which are used where the kernel has them), s3=HOST:PORT (the same daemon also serves the vault over S3 there and \
            prints "s3 endpoint: http://HOST:PORT" on stdout; loopback only unless \
            s3_allow_remote is given), s3_domain=DOMAIN (repeatable: virtual-host-style S3 \
            requests for BUCKET.DOMAIN; default $\(S3Domains.environmentVariable)). SIGTERM, SIGINT or `shardvault unmount` write back cached \
            data, unmount, stop the S3 listener and close the vault (journal committed, checkpoint \
            written). A stale mount left by a shardvault daemon that died is detached first \
            (docs/FUSE.md).
            """)

    @Flag(help: "Stay in the foreground and print messages on stderr until unmounted.")
    var foreground = false

    @Option(help: ArgumentHelp("Read the password from this file.", valueName: "file"))
    var passwordFile: String?

    @Option(help: ArgumentHelp("In the background, append the daemon's messages to this file (default: discard them).",
                               valueName: "file"))
    var logFile: String?

    @Option(name: .customShort("o"), help: ArgumentHelp("Mount options, comma-separated.", valueName: "opts"))
    var mountOptions: [String] = []

    /// Set by MountDaemon when it starts the background process: where to report readiness.
    @Option(help: .private)
    var daemonReadyFd: Int32?

    /// Set by MountDaemon: the pipe the password arrives on (never argv or the environment).
    @Option(help: .private)
    var daemonPasswordFd: Int32?

    @Argument(help: ArgumentHelp("The pool's volume directories, then the mount point.", valueName: "volume... mountpoint"))
    var paths: [String] = []

    func validate() throws {
        guard paths.count >= 2 else {
            throw ValidationError("give the volume directories and then the mount point")
        }
        guard (daemonReadyFd == nil) == (daemonPasswordFd == nil), daemonReadyFd == nil || foreground else {
            throw ValidationError("--daemon-ready-fd and --daemon-password-fd are for the background daemon only")
        }
        guard logFile == nil || !foreground || daemonReadyFd != nil else {
            throw ValidationError("--log-file is for background mounts; in the foreground messages go to stderr")
        }
    }

    func run() throws {
        let options: MountOptions
        let fastPaths: FastPaths
        do {
            options = try MountOptions(parsing: mountOptions.joined(separator: ","))
            fastPaths = try FastPaths(environment: ProcessInfo.processInfo.environment)
        } catch {
            throw CLIFailure.usage(error.description)
        }
        let s3Address = try options.s3Address.map { (text) throws(CLIFailure) in
            let address = try S3ListenAddress(parsing: text, option: "-o s3=")
            try address.requireLoopback(unless: options.s3AllowsRemote, optIn: "-o s3_allow_remote")
            return address
        }
        let s3Addressing = try s3Address == nil ? .pathStyleOnly
            : S3Domains.addressing(given: options.s3Domains, option: "-o s3_domain=")
        // Absolute paths: the background daemon runs in "/" so it keeps no directory busy.
        let mountpoint = MountPoint.absolute(paths.last!)
        let volumes = paths.dropLast().map(MountPoint.absolute)
        try MountPoint.prepare(mountpoint)

        guard foreground else {
            let password = try Passwords.existing(file: passwordFile)
            let daemon = MountDaemon(volumes: volumes, mountpoint: mountpoint, mountOptions: mountOptions,
                                     logFile: logFile.map(MountPoint.absolute))
            let pid = try daemon.start(password: password)
            Output.note("mounted on \(mountpoint) (daemon pid \(pid))")
            return
        }
        let daemonSide = try daemonReadyFd.map { try DaemonSide(readyDescriptor: $0, logFile: logFile) }
        let password = try daemonPasswordFd.map(Passwords.fromPipe) ?? Passwords.existing(file: passwordFile)
        // After the password prompt (Ctrl-C must still work there), before the vault starts
        // its threads: from here termination signals wait for the mount's signal watcher.
        FuseMount.blockTerminationSignals()
        var vaultOptions = options.vaultOptions
        vaultOptions.pooledChunkBuffers = fastPaths.bufferPools
        let vault = try Vault(volumePaths: volumes, password: password, options: vaultOptions)
        vault.recoveryNotes.forEach(Output.note)
        if let reason = vault.readOnlyReason, !options.readOnly {
            Output.note("serving read-only: \(reason)")
        }
        if fastPaths != .all { Output.note("FUSE fast paths \(fastPaths) (\(FastPaths.environmentVariable), for measurement)") }
        let mount = FuseMount(vault: vault, mountpoint: mountpoint, options: options, fastPaths: fastPaths,
                              hiddenRootNames: [S3Server.workAreaName])
        let s3Door: MountS3Door?
        do {
            s3Door = try s3Address.map { (address) throws(CLIFailure) in
                try MountS3Door.start(vault: vault, address: address, addressing: s3Addressing, readOnly: options.readOnly,
                                      notifier: mount.notifier)
            }
        } catch {
            try? vault.close()
            throw error
        }
        do {
            try mount.serve(ready: {
                if let daemonSide {
                    daemonSide.reportMounted()
                } else {
                    Output.note("mounted on \(mountpoint)")
                }
            })
        } catch {
            s3Door?.stop()
            try? vault.close()
            throw CLIFailure.failed(error.description)
        }
        // Unmounted: no more FUSE requests. The S3 door finishes its requests, then the vault
        // is closed, once, by its owner.
        s3Door?.stop()
        try vault.close()
        if let failure = s3Door?.failure { throw CLIFailure.failed("the S3 server stopped: \(failure)") }
    }
}

/// `shardvault unmount MOUNTPOINT`
struct Unmount: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unmount a mounted vault; returns once its daemon has written back, closed the vault and exited.")

    @Flag(help: "Detach now even if the mount is busy; the daemon exits when the last user leaves.")
    var lazy = false

    @Argument(help: ArgumentHelp("The mount point.", valueName: "mountpoint"))
    var mountpoint: String

    func run() throws {
        guard Unmounter.isMounted(mountpoint) else {
            throw CLIFailure.failed("\(mountpoint) is not mounted")
        }
        let daemons = MountDaemons.serving(mountpoint)
        guard Unmounter.unmount(mountpoint, lazy: lazy) else {
            throw CLIFailure.failed("could not unmount \(mountpoint) (busy? try --lazy; not mounted?)")
        }
        // A lazy unmount's daemon exits only when the last user leaves: no point waiting.
        guard !lazy else { return }
        guard MountDaemons.waitForExit(daemons) else {
            throw CLIFailure.failed("\(mountpoint) is unmounted, but its daemon (pid \(daemons.map(String.init).joined(separator: ", "))) "
                + "has not exited after 10 minutes; see its log")
        }
    }
}
