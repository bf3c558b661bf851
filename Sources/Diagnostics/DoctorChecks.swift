import Foundation
import JobQueue
import LibAV
import Logging
import ObjectStorage

public struct DoctorCheck: Sendable {
    public enum Status: String, Sendable {
        case ok = "ok"
        case fail = "FAIL"
        case notChecked = "not checked"
    }
    public var name: String
    public var status: Status
    public var detail: String
    /// What to do about a failure (or why nothing was checked).
    public var fix: String?

    static func ok(_ name: String, _ detail: String) -> DoctorCheck {
        DoctorCheck(name: name, status: .ok, detail: detail, fix: nil)
    }
    static func fail(_ name: String, _ detail: String, fix: String) -> DoctorCheck {
        DoctorCheck(name: name, status: .fail, detail: detail, fix: fix)
    }

    public var line: String {
        var text = "\(status.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(name): \(detail)"
        if let fix { text += "\n            fix: \(fix)" }
        return text
    }
}

/// The checks behind `rendc doctor`, each saying what to fix. Settings come in as values; nothing here reads the
/// environment.
public enum DoctorChecks {
    public static func ffmpegLibraries() -> DoctorCheck {
        // Calling into each library (through LibAV) proves the dynamic linker found and loaded it.
        let versions = FFmpegCapabilities.libraryVersions
        let ffmpeg = FFmpegCapabilities.versionInfo
        let major = versions.first { $0.name == "libavcodec" }?.major ?? 0
        let detail = "FFmpeg \(ffmpeg): " + versions.map { "\($0.name) \($0.major).\($0.minor).\($0.micro)" }.joined(separator: ", ")
        // rendc is built and tested against FFmpeg 5.1 (libavcodec 59); older APIs are missing.
        guard major >= 59 else {
            return .fail(
                "FFmpeg libraries", detail + " (libavcodec \(major) is older than 59, FFmpeg 5.1)",
                fix: "install FFmpeg 5.1 or newer libraries: apt-get install libavcodec59 libavformat59 libavfilter8")
        }
        let missing = FFmpegCapabilities.missingDemuxers
        guard missing.isEmpty else {
            return .fail(
                "FFmpeg libraries", detail + " (missing demuxers: \(missing.joined(separator: ", ")))",
                fix: "install Debian's libavformat59, which has every demuxer rendc reads")
        }
        return .ok("FFmpeg libraries", detail)
    }

    public static func encoders() -> [DoctorCheck] {
        let needed: [(name: String, role: String, fix: String)] = [
            (
                "libx264", "H.264 video",
                "Debian's libavcodec59 includes libx264; install it (apt-get install libavcodec59 libx264-164) rather than a build without GPL codecs"
            ),
            ("aac", "AAC audio", "install a libavcodec with the native aac encoder (apt-get install libavcodec59)"),
            ("mjpeg", "JPEG thumbnails", "install a libavcodec with the mjpeg encoder (apt-get install libavcodec59)"),
        ]
        return needed.map { encoder in
            if FFmpegCapabilities.hasEncoder(encoder.name) {
                return .ok("encoder \(encoder.name)", "\(encoder.role) encoder available")
            }
            return .fail("encoder \(encoder.name)", "\(encoder.role) encoder missing from libavcodec", fix: encoder.fix)
        }
    }

    static let fontDirectories = [
        "/usr/share/fonts/truetype/noto", "/usr/share/fonts/opentype/noto", "/usr/local/share/fonts",
        "/usr/share/fonts/truetype", "/usr/share/fonts",
    ]

    static func findFont(_ fileName: String) -> String? {
        for directory in fontDirectories {
            let path = directory + "/" + fileName
            if FileManager.default.isReadableFile(atPath: path) { return path }
        }
        return nil
    }

    public static func fonts() -> [DoctorCheck] {
        let needed: [(file: String, label: String, package: String)] = [
            ("NotoSans-Regular.ttf", "Noto Sans", "fonts-noto-core"),
            ("NotoSans-Bold.ttf", "Noto Sans Bold", "fonts-noto-core"),
            ("NotoColorEmoji.ttf", "Noto Color Emoji", "fonts-noto-color-emoji"),
        ]
        return needed.map { font in
            if let path = findFont(font.file) {
                return .ok("font \(font.label)", path)
            }
            return .fail(
                "font \(font.label)", "\(font.file) not found in \(fontDirectories[0]) or the other font directories",
                fix: "apt-get install \(font.package)")
        }
    }

    /// Runs `body`, failing with "no answer within N s" if it takes longer.
    static func withTimeout<T: Sendable>(seconds: Int, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let seconds = max(1, seconds)
        return try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                throw DoctorFailure("no answer within \(seconds) s")
            }
            defer { group.cancelAll() }
            guard let result = try await group.next() else { throw DoctorFailure("no result") }
            return result
        }
    }

    /// `configuration` is the parsed database setting, or the error that parsing it gave.
    public static func database(_ parsed: Result<DatabaseConfiguration, any Error>, timeoutSeconds: Int) async -> DoctorCheck {
        let configuration: DatabaseConfiguration
        switch parsed {
        case .success(let value): configuration = value
        case .failure(let error):
            return .fail(
                "database", "\(error)",
                fix: "set DATABASE_URL, or DB_NAME with DB_HOST, DB_PORT, DB_USER, DB_PASSWORD (see .env.example)")
        }
        let name = "database (\(configuration))"
        let logger: Logger = {
            var logger = Logger(label: "rendc.doctor")
            logger.logLevel = .critical  // failures are reported on the check's line
            return logger
        }()
        let applied: [Int]
        do {
            applied = try await withTimeout(seconds: timeoutSeconds) {
                try await JobStore.withRunningStore(configuration: configuration, logger: logger) { store in
                    try await store.appliedMigrations()
                }
            }
        } catch {
            return .fail(
                name, "not reachable: \(error)",
                fix: "start PostgreSQL, check DB_HOST/DB_PORT (or DATABASE_URL), DB_USER and DB_PASSWORD, "
                    + "and that this machine may connect (pg_hba.conf)")
        }
        let known = Migrations.all.map(\.version)
        let missing = known.filter { !applied.contains($0) }
        let unknown = applied.filter { !known.contains($0) }
        if applied.isEmpty {
            return .fail(name, "reachable, but the schema is not created (no migration applied)", fix: "run `rendc migrate`")
        }
        if !missing.isEmpty {
            return .fail(
                name, "reachable, but migrations \(missing.map(String.init).joined(separator: ", ")) are not applied",
                fix: "run `rendc migrate`")
        }
        if !unknown.isEmpty {
            return .fail(
                name,
                "the schema has migrations this rendc does not know (\(unknown.map(String.init).joined(separator: ", ")))",
                fix: "upgrade rendc on this machine to the version that migrated the database")
        }
        return .ok(name, "reachable, schema current (\(known.count) migrations applied)")
    }

    public static func storage(_ parsed: Result<StorageConfiguration, any Error>, timeoutSeconds: Int) async -> DoctorCheck {
        let configuration: StorageConfiguration
        switch parsed {
        case .success(let value): configuration = value
        case .failure(let error): return .fail("storage settings", "\(error)", fix: "correct the setting named above (see .env.example)")
        }
        let name: String
        switch configuration.backend {
        case .local(let directory): name = "storage (local directory \(directory))"
        case .s3(let s3): name = "storage (S3 bucket \(s3.bucket) at \(s3.endpoint))"
        }
        let store: any ObjectStore
        do {
            store = try makeStore(configuration: configuration, logger: Logger(label: "rendc.doctor"))
        } catch {
            return .fail(name, "\(error)", fix: "correct the storage settings (see .env.example)")
        }
        let fix: String
        switch configuration.backend {
        case .local(let directory):
            fix = "create \(directory) and make it writable by this user, or set RENDC_STORAGE_DIR"
        case .s3:
            fix = "check S3_ENDPOINT, S3_BUCKET (it must exist), and that the key may PutObject/GetObject/DeleteObject"
        }
        do {
            try await withTimeout(seconds: timeoutSeconds) { try await probe(store) }
            return .ok(name, "probe object written, read back, deleted")
        } catch {
            return .fail(name, "\(error)", fix: fix)
        }
    }

    /// Writes a small object under `doctor/`, reads it back, compares, deletes it.
    static func probe(_ store: any ObjectStore) async throws {
        let directory = NSTemporaryDirectory() + "/rendc-doctor-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let payload = Data("rendc doctor probe \(UUID().uuidString)\n".utf8)
        let source = directory + "/probe.txt"
        try payload.write(to: URL(fileURLWithPath: source))
        let key = "doctor/probe-\(UUID().uuidString).txt"
        try await store.put(localPath: source, key: key, contentType: "text/plain")
        do {
            guard try await store.exists(key: key) else { throw DoctorFailure("probe object not found after writing it") }
            try await store.get(key: key, to: directory + "/back.txt")
            guard try Data(contentsOf: URL(fileURLWithPath: directory + "/back.txt")) == payload else {
                throw DoctorFailure("probe object read back with different bytes")
            }
        } catch {
            try? await store.delete(key: key)
            throw error
        }
        try await store.delete(key: key)
        guard try await !store.exists(key: key) else { throw DoctorFailure("probe object still there after delete") }
    }

    /// `directory` is VIDEO_TEMP_DIR's value; `configured` says whether it was set (else it is the system default).
    /// The templates jobs are rendered by: a server without any answers every submit 422 (the binary installed
    /// without `specs/`), so none is a failure.
    public static func templates(_ names: Result<[String], any Error>, searched directories: [String]) -> DoctorCheck {
        let name = "templates"
        let fix = "install the repository's specs/ folder as /usr/local/share/rendc/specs, or set RENDC_SPECS_DIR to it"
        switch names {
        case .failure(let error):
            return .fail(name, "cannot list templates: \(error)", fix: fix)
        case .success(let list) where list.isEmpty:
            return .fail(name, "no template parses in \(directories.joined(separator: ", "))", fix: fix)
        case .success(let list):
            return .ok(name, "\(list.count) (\(list.joined(separator: ", ")))")
        }
    }

    public static func temporaryDirectory(_ directory: String, configured: Bool) -> DoctorCheck {
        let name = "temp directory \(directory)"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let probe = directory + "/.rendc-doctor-" + UUID().uuidString
            try Data(count: 1 << 20).write(to: URL(fileURLWithPath: probe))
            try FileManager.default.removeItem(atPath: probe)
        } catch {
            return .fail(
                name, "not writable: \((error as NSError).localizedDescription)",
                fix: !configured
                    ? "set VIDEO_TEMP_DIR to a writable directory" : "create \(directory) writable by this user")
        }
        var free = ""
        if let attributes = try? FileManager.default.attributesOfFileSystem(forPath: directory),
            let bytes = (attributes[.systemFreeSize] as? NSNumber)?.int64Value
        {
            free = ", \(bytes / (1 << 20)) MiB free"
            // A 60 s 1080x1920 render needs a few hundred MB of scratch at most.
            if bytes < 1 << 30 {
                return .fail(
                    name, "writable but only \(bytes / (1 << 20)) MiB free",
                    fix: "free space or point VIDEO_TEMP_DIR at a larger disk (1 GiB or more)")
            }
        }
        return .ok(name, "writable" + free)
    }
}

struct DoctorFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
