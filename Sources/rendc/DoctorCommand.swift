import ArgumentParser
import Diagnostics
import Foundation
import RendcSettings

/// `rendc doctor`: checks that this machine can run rendc, one line per check with what to fix.
/// Exits non-zero when any check fails. Reads the same environment as `rendc serve` / `rendc worker`.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check FFmpeg, fonts, database, storage and temp directory, and say what to fix."
    )

    @Flag(name: .shortAndLong, help: "Print only failed checks (for ExecStartPre).")
    var quiet = false

    @Option(help: "Seconds the database and storage checks may each take before they count as failed.")
    var timeout: Int = 30

    func run() async throws {
        let settings = try loadSettings()
        var checks: [DoctorCheck] = []
        checks.append(DoctorChecks.ffmpegLibraries())
        checks.append(contentsOf: DoctorChecks.encoders())
        checks.append(contentsOf: DoctorChecks.fonts())
        let pipeline = settings.renderPipeline(logger: settings.logger("rendc.doctor"))
        checks.append(
            DoctorChecks.templates(
                Result { try pipeline.templates().map(\.name) }, searched: pipeline.configuration.templateDirectories))
        checks.append(await DoctorChecks.database(Result { try settings.database() }, timeoutSeconds: timeout))
        checks.append(await DoctorChecks.storage(Result { try settings.storage() }, timeoutSeconds: timeout))
        checks.append(DoctorChecks.temporaryDirectory(settings.temporaryDirectory, configured: settings.temporaryDirectoryIsSet))

        for check in checks where !quiet || check.status == .fail {
            print(check.line)
        }
        let failed = checks.filter { $0.status == .fail }.count
        if !quiet {
            let skipped = checks.filter { $0.status == .notChecked }.count
            print("\(checks.count - failed - skipped) ok, \(failed) failed, \(skipped) not checked")
        }
        if failed > 0 { throw ExitCode(1) }
    }
}
