import Foundation
import Hummingbird
import HTTPTypes
import Logging
import ServiceLifecycle

/// A process's Prometheus `/metrics` endpoint on its own port (the worker's; the API serves `/metrics` on its own
/// router). If the port is taken (several workers on one host), the process goes on without an endpoint.
public struct MetricsEndpoint: Service {
    let text: @Sendable () -> String
    let host: String
    let port: Int
    let logger: Logger

    /// `text` renders the exposition (e.g. a Prometheus registry's `emitToString`).
    public init(host: String, port: Int, logger: Logger, text: @escaping @Sendable () -> String) {
        self.text = text
        self.host = host
        self.port = port
        self.logger = logger
    }

    public func run() async throws {
        let router = Router()
        let text = self.text
        router.get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text())))
        }
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
        do {
            // As a service of the caller's group (`run`, not `runService`, which would install its own signal
            // handlers and stop at SIGTERM before the group shuts it down in order).
            try await app.run()
        } catch {
            logger.warning("metrics endpoint not started", metadata: ["port": "\(port)", "error": "\(error)"])
            try? await gracefulShutdown()
        }
    }
}
