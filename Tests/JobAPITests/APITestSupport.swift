import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobQueue
import Logging
import NIOCore
import ObjectStorage
import QueueTestSupport
import RendcTestSupport
import Testing

@testable import JobAPI

/// The templates the API offers in tests that do not render (the real ones come from RenderPipeline).
let stubTemplates: @Sendable () throws -> [TemplateSummary] = {
    [
        TemplateSummary(name: "golden-frame", description: "Gold border", defaultDuration: 30),
        TemplateSummary(name: "silver-frame", description: "Silver border", defaultDuration: 30),
        TemplateSummary(name: "no-frame", description: "No border", defaultDuration: 20),
    ]
}

/// A running API over a fresh, migrated database with two tenants (A and B) and their API keys.
struct APIHarness: Sendable {
    let client: any TestClientProtocol
    let store: JobStore
    let objectStore: any ObjectStore
    let storageRoot: String
    let configuration: APIConfiguration
    let tenantA: UUID
    let keyA: String
    let tenantB: UUID
    let keyB: String

    var signer: URLSigner { URLSigner(secret: configuration.urlSigningSecret) }

    func send(
        _ method: HTTPRequest.Method, _ uri: String, key: String?, body: [UInt8]? = nil, contentType: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let key { headers[.authorization] = "Bearer \(key)" }
        if let contentType { headers[.contentType] = contentType }
        return try await client.executeRequest(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
    }

    func postJSON(_ uri: String, key: String?, _ json: String) async throws -> TestResponse {
        try await send(.post, uri, key: key, body: Array(json.utf8), contentType: "application/json")
    }

    /// Uploads `bytes` as a multipart form with `type` and a `file` part.
    func upload(
        _ bytes: [UInt8], type: String, filename: String = "upload.bin", key: String?, declaredLength: Int? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        let boundary = "rendcTestBoundary\(UInt32.random(in: 0...UInt32.max))"
        var body: [UInt8] = []
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\n\(type)\r\n".utf8)
        body += Array(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                .utf8)
        body += bytes
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        var headers = extra
        if let declaredLength { headers[.contentLength] = String(declaredLength) }
        return try await send(
            .post, "/api/v1/assets", key: key, body: body, contentType: "multipart/form-data; boundary=\(boundary)", headers: headers)
    }

    /// Uploads a (header-only) JPEG image and returns its asset id.
    func uploadImage(key: String, width: Int = 800, height: Int = 1200) async throws -> String {
        let response = try await upload(TestImages.jpegHeader(width: width, height: height), type: "image", filename: "p.jpg", key: key)
        #expect(response.status == .created, "\(String(buffer: response.body))")
        return try #require(try jsonObject(response)["assetId"] as? String)
    }

    func submit(key: String, imageIds: [String], extra: String = "") async throws -> TestResponse {
        let ids = imageIds.map { "\"\($0)\"" }.joined(separator: ",")
        return try await postJSON("/api/v1/video/process", key: key, "{\"imageIds\":[\(ids)]\(extra)}")
    }

    /// Submits a job with a fresh image and returns its id.
    func submitJob(key: String, extra: String = "") async throws -> String {
        let image = try await uploadImage(key: key)
        let response = try await submit(key: key, imageIds: [image], extra: extra)
        #expect(response.status == .accepted, "\(String(buffer: response.body))")
        return try #require(try jsonObject(response)["jobId"] as? String)
    }
}

func jsonObject(_ response: TestResponse) throws -> [String: Any] {
    let data = Data(response.body.readableBytesView)
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "not a JSON object: \(String(buffer: response.body))")
}

/// The error code and field of an error response.
func errorOf(_ response: TestResponse) throws -> (code: String?, field: String?) {
    let object = try jsonObject(response)
    #expect(object["success"] as? Bool == false)
    let error = object["error"] as? [String: Any]
    return (error?["code"] as? String, error?["field"] as? String)
}

/// Runs `body` against a fresh API. `configure` adjusts the configuration (limits, gateway header).
func withAPI(
    _ name: String = #function,
    configure: @Sendable (inout APIConfiguration) -> Void = { _ in },
    templates: @escaping @Sendable () throws -> [TemplateSummary] = stubTemplates,
    policy: QueuePolicy = QueuePolicy(),
    storage: @Sendable (LocalDirectoryStore) -> any ObjectStore = { $0 },
    apiStore: @Sendable (QueueAPIStore) -> any APIStore = { $0 },
    server: @Sendable (JobAPIServer) -> JobAPIServer = { $0 },
    _ body: @Sendable (APIHarness) async throws -> Void
) async throws {
    let database = try TestDatabase.configuration(prefix: "api_" + name.prefix(20), maximumConnections: 12)
    let logger = TestDatabase.logger("rendc.test.api")
    let root = try Fixtures.temporaryDirectory("rendc-api-test")
    defer { try? FileManager.default.removeItem(at: root) }
    let storageRoot = root.appendingPathComponent("storage").path
    let spool = root.appendingPathComponent("spool").path
    try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
    var configuration = APIConfiguration(
        urlSigningSecret: Array("api-test-secret-\(UUID().uuidString)".utf8), temporaryDirectory: spool)
    configure(&configuration)
    let finalConfiguration = configuration
    let objectStore = storage(LocalDirectoryStore(root: storageRoot))

    try await JobStore.withRunningStore(configuration: database, policy: policy, logger: logger) { store in
        try await store.migrate()
        let (tenantA, keyA) = try await store.createTenantWithKey(name: "tenant A")
        let (tenantB, keyB) = try await store.createTenantWithKey(name: "tenant B")
        let api = server(
            JobAPIServer(
                configuration: finalConfiguration, store: apiStore(QueueAPIStore(store)), objectStore: objectStore, templates: templates,
                metrics: { "# HELP rendc_test 1\nrendc_test 1\n" }, logger: logger))
        try await api.makeApplication().test(.router) { client in
            try await body(
                APIHarness(
                    client: client, store: store, objectStore: objectStore, storageRoot: storageRoot,
                    configuration: finalConfiguration, tenantA: tenantA.id, keyA: keyA.plaintext, tenantB: tenantB.id,
                    keyB: keyB.plaintext))
        }
    }
}
