import Foundation
import RenderPipeline
import SpecLang

/// An error that knows whether retrying could help. Conform an error type to it (for example a decoder's error
/// with an `isPermanent` property) and the worker fails the job at once, without retries, when it says so.
public protocol RetryClassifiable: Error {
    /// True when the same input fails the same way every time (bad input, bad template).
    var isPermanentFailure: Bool { get }
}

extension PermanentJobError: RetryClassifiable {
    public var isPermanentFailure: Bool { true }
}

extension PipelineError: RetryClassifiable {
    /// A bad template, input, plan or caption fails the same way every time; render errors (encoder, disk) may be
    /// transient unless the media error underneath says the input is bad, and a cancelled render is not a failure
    /// of the input.
    public var isPermanentFailure: Bool { isPermanent }
}

/// How a failed attempt is classified and what the client is told.
public struct JobFailure: Sendable, Equatable {
    /// Fail now (bad input) rather than retry (anything that may pass another time).
    public var permanent: Bool
    public var message: String

    /// Permanent when the error says so (``RetryClassifiable``) or is a template error; else transient.
    public static func classify(_ error: any Error) -> JobFailure {
        if let error = error as? PermanentJobError { return JobFailure(permanent: true, message: error.message) }
        if let error = error as? any RetryClassifiable {
            return JobFailure(permanent: error.isPermanentFailure, message: "\(error)")
        }
        if error is SpecError || error is SpecErrors { return JobFailure(permanent: true, message: "template: \(error)") }
        return JobFailure(permanent: false, message: "\(error)")
    }

    /// The message as the client may see it (`lastError`, webhook bodies): local input files are named by their
    /// asset, and the worker's folders, identity (host and pid) and any other absolute path are removed. The full
    /// message goes to the log only.
    public static func clientMessage(
        _ message: String, inputs: [(path: String, name: String)], workDirectory: String, temporaryDirectory: String,
        identity: String
    ) -> String {
        var text = message
        for (path, name) in inputs.sorted(by: { $0.path.count > $1.path.count }) where !path.isEmpty {
            text = text.replacingOccurrences(of: path, with: name)
        }
        for folder in [workDirectory, temporaryDirectory] where !folder.isEmpty {
            text = text.replacingOccurrences(of: folder + "/", with: "")
            text = text.replacingOccurrences(of: folder, with: "")
        }
        if !identity.isEmpty { text = text.replacingOccurrences(of: identity, with: "a worker") }
        // Any other absolute path (fonts, caches, /proc, ...): keep its last component only.
        text = text.replacingOccurrences(
            of: #"(?<![A-Za-z0-9:])(/[^\s/'"`,;:()\[\]{}<>]+){2,}"#,
            with: "<path>", options: .regularExpression)
        // Worker folder names carry the pid.
        text = text.replacingOccurrences(of: #"rendc-worker-[0-9]+(-[0-9a-f]+)?"#, with: "<worker>", options: .regularExpression)
        return String(text.prefix(2000))
    }
}

/// The worker's per-process temporary folders: `rendc-worker-<pid>-<random>` under the temporary directory, each
/// with a `.lock` file that its process holds an exclusive `flock` on while it runs. The kernel drops the lock when
/// the process dies, however it dies, so a folder whose lock can be taken is stale, whatever its pid says.
public enum TemporaryFolders {
    public static let prefix = "rendc-worker-"
    static let lockName = ".lock"

    /// Creates `folder` and takes its lock; returns the descriptor to keep open for the process's life.
    public static func createLocked(_ folder: String) throws -> Int32 {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let fd = open(folder + "/" + lockName, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PermanentJobError("cannot create the worker's lock file (errno \(errno))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw PermanentJobError("the worker's temporary folder is locked by another process")
        }
        return fd
    }

    /// Whether a process holds the folder's lock now.
    public static func isLive(_ folder: String) -> Bool {
        let fd = open(folder + "/" + lockName, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK ? true : false
    }

    /// Removes the stale worker folders in `directory`; returns how many. Folders younger than `minimumAge`
    /// seconds are left alone (a starting worker creates its folder a moment before it locks it).
    @discardableResult
    public static func sweep(_ directory: String, minimumAge: Double) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var removed = 0
        for entry in entries where entry.hasPrefix(prefix) {
            let path = directory + "/" + entry
            if minimumAge > 0, let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                Date().timeIntervalSince(modified) < minimumAge
            {
                continue
            }
            if isLive(path) { continue }
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed += 1 }
        }
        return removed
    }
}
