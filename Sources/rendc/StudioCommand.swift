import ArgumentParser
import Foundation
import RendcSettings
import Logging
import ServiceLifecycle
import Studio

/// `rendc studio`: a live template editor in the browser (lint as you type, stills, the plan's timeline, eco previews).
struct StudioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "studio",
        abstract: "Edit templates in the browser with live lint, stills and eco previews.",
        discussion: """
            Serves one page on 127.0.0.1 (loopback: the studio has no authentication). Built-in templates are \
            read-only; --templates DIR is where new templates and saves go. Dropped pictures and music stay in a \
            temporary folder that is removed when the studio stops. See docs/studio.md.
            """
    )

    @Option(name: .customLong("templates"), help: "Your templates folder: listed, editable, and where Save writes (created if missing).")
    var templatesDir: String?

    @Option(help: "Port to listen on.")
    var port: Int = 8090

    @Option(help: "Interface to bind. Anything but loopback exposes an unauthenticated editor.")
    var host: String = "127.0.0.1"

    @Option(help: "Length of the eco preview video, in seconds.")
    var previewSeconds: Double = 6

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard previewSeconds > 0, previewSeconds <= 30 else { throw ValidationError("--preview-seconds must be more than 0 and at most 30") }
    }

    func run() async throws {
        let settings = try loadSettings()
        let logger = settings.logger("rendc.studio")
        if let templatesDir {
            try FileManager.default.createDirectory(atPath: templatesDir, withIntermediateDirectories: true)
        }
        let editable = templatesDir.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let pipeline = settings.renderPipeline(extraTemplates: editable.map { [$0] } ?? [], logger: logger, longRunning: true)
        let work = (settings.temporaryDirectory as NSString).appendingPathComponent("rendc-studio-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(atPath: work) }
        if !["127.0.0.1", "localhost", "::1"].contains(host) {
            logger.warning(
                "the studio has no authentication and can write templates; serving it beyond loopback exposes that", metadata: ["host": "\(host)"])
        }
        let server = try StudioServer(
            configuration: StudioConfiguration(
                host: host, port: port, builtinDirectory: settings.specsDirectory, editableDirectory: editable,
                workDirectory: work, previewVideoSeconds: previewSeconds),
            pipeline: pipeline, logger: logger)
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let app = server.makeApplication { bound in
            let line = "rendc studio: http://\(shownHost):\(bound)/  (templates: \(editable ?? "none writable; pass --templates DIR"))\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        let group = ServiceGroup(configuration: .init(services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
