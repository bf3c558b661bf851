import Foundation
import ObjectStorage

/// The API's own temporary files in its temporary folder (`VIDEO_TEMP_DIR`): upload spools
/// (`rendc-upload-<uuid>`, removed when the request ends) and `/files` downloads from remote stores
/// (`rendc-download-<uuid>`, removed when the response ends). A `serve` that is killed leaves them behind, so
/// `serve` sweeps the stale ones when it starts, and every ten minutes while it runs (``TemporarySweeper``).
package enum APITemporaryFiles {
    static let uploadPrefix = "rendc-upload-"
    package static let prefixes = [uploadPrefix, TemporaryDownload.prefix]

    /// Removes, directly in `directory`, the regular files named `rendc-upload-<uuid>` or `rendc-download-<uuid>`
    /// last modified more than `minimumAge` seconds before `now`; returns how many. Nothing else is touched: not
    /// other names, not folders, not symbolic links (never followed), not younger files (another `serve` sharing
    /// the folder may be writing or streaming them).
    @discardableResult
    package static func sweep(_ directory: String, minimumAge: Double, now: Date = Date()) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var removed = 0
        for entry in entries {
            guard let prefix = prefixes.first(where: { entry.hasPrefix($0) }), UUID(uuidString: String(entry.dropFirst(prefix.count))) != nil
            else { continue }
            let path = (directory as NSString).appendingPathComponent(entry)
            // attributesOfItem does not follow a symbolic link: its type is .typeSymbolicLink.
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                attributes[.type] as? FileAttributeType == .typeRegular,
                let modified = attributes[.modificationDate] as? Date, now.timeIntervalSince(modified) > minimumAge
            else { continue }
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed += 1 }
        }
        return removed
    }

    /// How old a spool must be to be certainly abandoned: well past the longest a body may take to arrive
    /// (`RENDC_HTTP_BODY_TIMEOUT`) and then be checked and stored, and at least an hour.
    package static func staleAge(bodyTimeoutSeconds: Double) -> Double { max(3600, 2 * bodyTimeoutSeconds) }

    /// The sweep ``TemporarySweeper`` runs while `serve` runs: the stale spools and downloads in `directory`.
    package static func periodicSweep(_ directory: String, bodyTimeoutSeconds: Double) -> TemporarySweeper.Sweep {
        let age = staleAge(bodyTimeoutSeconds: bodyTimeoutSeconds)
        return TemporarySweeper.Sweep(name: "uploads") { LocalDirectoryStore.SweepReport(removed: sweep(directory, minimumAge: age, now: $0)) }
    }
}
