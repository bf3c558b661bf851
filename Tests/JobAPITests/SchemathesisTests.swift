import Foundation
import JobQueue
import Logging
import ObjectStorage
import QueueTestSupport
import RendcTestSupport
import Testing
import Webhooks

@testable import JobAPI

/// Schemathesis (scripts/pip.d/api.txt) against docs/openapi.yaml: requests generated from the spec, valid and
/// invalid, to every operation of this server on loopback (real Postgres, a worker finishing jobs with placeholder
/// files), authenticated with a tenant's API key. Every answer is checked: no 5xx, status codes, content types,
/// headers and bodies as documented, 405 for other methods, invalid input refused, auth enforced.
///
/// Bounded and repeatable: a fixed seed, deterministic generation, a few examples an operation. Left out is
/// `positive_data_acceptance`, which expects every request the schema allows to succeed: this API also refuses
/// what no schema can say (an image id of no stored asset, a 1x1 picture, a PNG sent as audio, a cursor it did not
/// make), with the documented 4xx. `bench/api/schemathesis.sh` runs the same against `rendc serve`, moto's S3 and
/// a real worker, with as many examples as asked.
@Suite(.serialized, .ownThreads) struct SchemathesisTests {
    @Test(.timeLimit(.minutes(10))) func generatedRequestsGetDocumentedAnswers() async throws {
        let database = try TestDatabase.configuration(prefix: "api_schemathesis")
        let logger = TestDatabase.logger("rendc.test.schemathesis")
        let root = try Fixtures.temporaryDirectory("rendc-schemathesis")
        defer { try? FileManager.default.removeItem(at: root) }
        let spool = root.appendingPathComponent("spool").path
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
        let objectStore = LocalDirectoryStore(root: root.appendingPathComponent("storage").path)
        let port = try freeLocalPort()
        let configuration: APIConfiguration = {
            var configuration = APIConfiguration(
                host: "127.0.0.1", port: port, urlSigningSecret: Array("schemathesis-secret-\(UUID().uuidString)".utf8),
                temporaryDirectory: spool)
            configuration.rateLimitPerMinute = 0  // a few thousand requests in a minute
            configuration.webhookSecrets = WebhookSecrets(master: "schemathesis-webhook-master-\(UUID().uuidString)")
            return configuration
        }()

        try await JobStore.withRunningStore(configuration: database, logger: logger) { store in
            try await store.migrate()
            let (_, key) = try await store.createTenantWithKey(name: "schemathesis")
            let api = JobAPIServer(
                configuration: configuration, jobStore: store, objectStore: objectStore, templates: stubTemplates,
                metrics: { "# HELP rendc_up 1\nrendc_up 1\n" }, logger: logger)
            let result = try await runPythonBesideWorker(
                api, port: port, store: store, objectStore: objectStore, root: root, identity: "schemathesis-worker",
                renderSeconds: 0.1, logger: logger,
                [
                    "-m", "schemathesis.cli", "run", Fixtures.packageRoot.appendingPathComponent("docs/openapi.yaml").path,
                    "--url", "http://127.0.0.1:\(port)", "--header", "Authorization: Bearer \(key.plaintext)",
                    "--checks", "all", "--exclude-checks", "positive_data_acceptance",
                    "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", "15", "--seed", "20261130",
                    "--generation-deterministic", "--workers", "1",
                    "--request-timeout", "30", "--no-color",
                ],
                // Its folders (.schemathesis, .hypothesis) go to the scratch folder, not the package.
                environment: ["PYTHONDONTWRITEBYTECODE": "1"], directory: root)
            #expect(result.status == 0, "schemathesis found failures:\n\(result.output.suffix(12000))")
            let summary = result.output.split(separator: "\n").filter {
                $0.trimmingCharacters(in: .whitespaces).first?.isNumber == true && $0.contains(" generated")
                    || ($0.hasPrefix("=====") && $0.contains(" in "))
            }
            print("schemathesis: \(summary.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " | "))")
            // It did test: every operation of the spec was selected and exercised.
            let selected = result.output.firstMatch(of: /Selected: (\d+)\/(\d+)/), tested = result.output.firstMatch(of: /Tested: (\d+)/)
            #expect(selected != nil && selected?.output.1 == selected?.output.2, "\(result.output.suffix(3000))")
            #expect(tested != nil && tested?.output.1 == selected?.output.2, "\(result.output.suffix(3000))")
        }
    }
}
