import Foundation
import HummingbirdTesting
import JobQueue
import JobWorker
import Logging
import ObjectStorage
import QueueTestSupport
import RendcTestSupport
import Testing
import Webhooks

@testable import JobAPI

/// The API as a store's developers meet it: `Tests/APIContract` (pytest) generates a Python client from
/// docs/openapi.yaml with openapi-python-client (no warning allowed) and runs the store's whole flow through it
/// against this server on loopback (real Postgres, a worker finishing jobs with placeholder files), while
/// openapi-core checks every request and response against the spec. `make test` installs the Python packages
/// (scripts/pip.d/api.txt) through scripts/setup.sh.
@Suite(.serialized, .ownThreads) struct APIContractTests {
    @Test(.timeLimit(.minutes(10))) func generatedClientRunsTheStoreFlowWithinTheSpec() async throws {
        let database = try TestDatabase.configuration(prefix: "api_contract")
        let logger = TestDatabase.logger("rendc.test.contract")
        let root = try Fixtures.temporaryDirectory("rendc-api-contract")
        defer { try? FileManager.default.removeItem(at: root) }
        let spool = root.appendingPathComponent("spool").path
        let work = root.appendingPathComponent("pytest").path
        for dir in [spool, work] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let objectStore = LocalDirectoryStore(root: root.appendingPathComponent("storage").path)
        let port = try freeLocalPort()
        let configuration = APIConfiguration(
            host: "127.0.0.1", port: port, urlSigningSecret: Array("contract-secret-\(UUID().uuidString)".utf8),
            temporaryDirectory: spool)

        try await JobStore.withRunningStore(configuration: database, logger: logger) { store in
            try await store.migrate()
            let (tenantA, keyA) = try await store.createTenantWithKey(name: "store A")
            // Tenant B may run no job at once, so its jobs stay pending (the cancel case is deterministic).
            let (_, keyB) = try await store.createTenantWithKey(name: "store B", maxRunningJobs: 0)
            let api = JobAPIServer(
                configuration: configuration, jobStore: store, objectStore: objectStore, templates: stubTemplates,
                metrics: { "# HELP rendc_up 1\nrendc_up 1\n" }, logger: logger)
            // A delivery signed as the worker signs tenant A's, with A's own secret, for the docs' verification snippets.
            let webhookSecret = WebhookSecrets(master: "contract-webhook-master-\(UUID().uuidString)").secret(tenantId: tenantA.id, generation: 1)
            let webhookBody = "{\"event\":\"job.completed\",\"id\":\"\(UUID().uuidString.lowercased())\",\"job\":{\"status\":\"completed\"}}"
            let now = Int(Date().timeIntervalSince1970)
            let webhookSignature = WebhookSigner(secret: webhookSecret).signature(body: Data(webhookBody.utf8), timestamp: now)
            // The headers of a delivery as the worker sends them, for a Standard Webhooks library.
            let sender = WebhookSender(logger: logger)
            let deliveryHeaders = Dictionary(
                sender.headers(
                    for: WebhookEvent(type: "job.completed", url: "https://hooks.example.com/", body: Data(webhookBody.utf8)),
                    signer: WebhookSigner(secret: webhookSecret), now: now),
                uniquingKeysWith: { a, _ in a })
            let headersJSON = String(decoding: try JSONSerialization.data(withJSONObject: deliveryHeaders), as: UTF8.self)
            let result = try await runPythonBesideWorker(
                api, port: port, store: store, objectStore: objectStore, root: root, identity: "contract-worker", renderSeconds: 0.2,
                logger: logger,
                [
                    "-m", "pytest", "-q", "--tb=short", "-p", "no:cacheprovider",
                    Fixtures.packageRoot.appendingPathComponent("Tests/APIContract").path,
                ],
                environment: [
                    "RENDC_API_URL": "http://127.0.0.1:\(port)", "RENDC_API_KEY": keyA.plaintext,
                    "RENDC_API_KEY_B": keyB.plaintext,
                    "RENDC_SPEC": Fixtures.packageRoot.appendingPathComponent("docs/openapi.yaml").path,
                    "RENDC_WORK": work, "PYTHONDONTWRITEBYTECODE": "1",
                    "RENDC_WEBHOOK_SECRET_SAMPLE": webhookSecret, "RENDC_WEBHOOK_BODY_SAMPLE": webhookBody,
                    "RENDC_WEBHOOK_SIGNATURE_SAMPLE": webhookSignature, "RENDC_WEBHOOK_HEADERS_SAMPLE": headersJSON,
                    "RENDC_WEBHOOK_STANDARD_SECRET_SAMPLE": WebhookSigner.standardSecret(webhookSecret),
                ])
            #expect(result.status == 0, "pytest failed:\n\(result.output.suffix(8000))")
        }
    }
}

/// Runs `python3 ARGS` against `api` served on loopback `port` while a worker with simulated renders of
/// `renderSeconds` finishes the jobs it creates; both stop when Python exits. Returns Python's status and output.
func runPythonBesideWorker(
    _ api: JobAPIServer, port: Int, store: JobStore, objectStore: LocalDirectoryStore, root: URL, identity: String,
    renderSeconds: Double, logger: Logger, _ arguments: [String], environment: [String: String], directory: URL? = nil
) async throws -> (status: Int32, output: String) {
    let worker = JobWorker(
        store: store, objectStore: objectStore, renderer: SimulatedRenderer(duration: renderSeconds),
        configuration: WorkerConfiguration(
            concurrency: 2, temporaryDirectory: root.appendingPathComponent("worker").path, identity: identity, pollInterval: 0.5),
        logger: logger)
    return try await withThrowingTaskGroup(of: (Int32, String)?.self) { group in
        group.addTask {
            try await worker.run()
            return nil
        }
        group.addTask {
            try await withRunningServer(api, port: port) {
                try await runPython(arguments, environment: environment, directory: directory)
            }
        }
        defer { group.cancelAll() }
        while let next = try await group.next() {
            if let next { return next }
        }
        throw CancellationError()
    }
}

/// Runs `python3 ARGS` (blocking a thread, not the cooperative pool's), in `directory` if given, and returns its
/// status and output.
func runPython(_ arguments: [String], environment extra: [String: String], directory: URL? = nil) async throws -> (Int32, String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            do {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["python3"] + arguments
                if let directory { process.currentDirectoryURL = directory }
                process.environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                process.standardInput = FileHandle.nullDevice
                try process.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}
