import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RendcTestSupport
import Testing
import Webhooks
import Yams

@testable import JobAPI

/// docs/openapi.yaml, parsed, with `$ref`s resolved on demand.
/// Read-only after init (a parsed YAML tree), so sharing it across test tasks is safe.
struct OpenAPIDocument: @unchecked Sendable {
    let root: [String: Any]

    init() throws {
        let path = Fixtures.packageRoot.appendingPathComponent("docs/openapi.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        root = try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    func resolve(_ node: Any?) -> [String: Any]? {
        guard var dict = node as? [String: Any] else { return nil }
        var hops = 0
        while let ref = dict["$ref"] as? String, hops < 10 {
            var current: Any? = root
            for part in ref.dropFirst(2).split(separator: "/") { current = (current as? [String: Any])?[String(part)] }
            guard let next = current as? [String: Any] else { return nil }
            dict = next
            hops += 1
        }
        return dict
    }

    /// Every (path, method) pair with its operation.
    var operations: [(path: String, method: String, operation: [String: Any])] {
        let paths = root["paths"] as? [String: Any] ?? [:]
        var result: [(String, String, [String: Any])] = []
        for (path, item) in paths {
            for (method, operation) in item as? [String: Any] ?? [:] {
                if let operation = operation as? [String: Any] { result.append((path, method, operation)) }
            }
        }
        return result.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }

    func needsAuth(_ operation: [String: Any]) -> Bool {
        if let security = operation["security"] as? [Any] { return !security.isEmpty }
        return !((root["security"] as? [Any]) ?? []).isEmpty
    }

    /// Problems of `value` against `schema` (type, required, properties, items, enum, const), as readable strings.
    func problems(_ value: JSONValue, schema node: Any?, at path: String = "$") -> [String] {
        guard let schema = resolve(node) else { return [] }
        var found: [String] = []
        if let type = schema["type"] {
            let allowed = (type as? [String]) ?? [(type as? String) ?? ""]
            if !allowed.contains(where: { value.matches($0) }) {
                return ["\(path): expected \(allowed.joined(separator: "|")), got \(value)"]
            }
        }
        if let options = schema["enum"] as? [Any], value != .null, !options.contains(where: { "\($0)" == value.scalarText }) {
            found.append("\(path): \(value) not in \(options)")
        }
        if let constant = schema["const"], "\(constant)" != value.scalarText {
            found.append("\(path): expected const \(constant), got \(value)")
        }
        if case .object(let object) = value {
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                found.append("\(path): missing required property \(key)")
            }
            for (key, sub) in schema["properties"] as? [String: Any] ?? [:] {
                if let v = object[key] { found += problems(v, schema: sub, at: "\(path).\(key)") }
            }
        }
        if case .array(let array) = value, let items = schema["items"] {
            for (i, element) in array.enumerated() { found += problems(element, schema: items, at: "\(path)[\(i)]") }
        }
        return found
    }
}

/// A JSON value that keeps booleans, integers and other numbers apart (JSONSerialization does not on Linux).
indirect enum JSONValue: Decodable, Equatable, CustomStringConvertible {
    case null, bool(Bool), integer(Int), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int.self) {
            self = .integer(i)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    func matches(_ type: String) -> Bool {
        switch (type, self) {
        case ("null", .null), ("boolean", .bool), ("integer", .integer), ("number", .integer), ("number", .number),
            ("string", .string), ("array", .array), ("object", .object):
            true
        case ("null", _), ("boolean", _), ("integer", _), ("number", _), ("string", _), ("array", _), ("object", _): false
        default: true
        }
    }

    /// How YAML's `enum`/`const` scalars print.
    var scalarText: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .integer(let i): "\(i)"
        case .number(let d): "\(d)"
        case .string(let s): s
        default: "\(self)"
        }
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let b): "bool \(b)"
        case .integer(let i): "integer \(i)"
        case .number(let d): "number \(d)"
        case .string(let s): "string \(s.debugDescription)"
        case .array(let a): "array(\(a.count))"
        case .object(let o): "object(\(o.keys.sorted()))"
        }
    }
}

@Suite(.serialized) struct OpenAPIConformanceTests {
    @Test func documentIsValidOpenAPI31() throws {
        let document = try OpenAPIDocument()
        #expect(document.root["openapi"] as? String == "3.1.0")
        #expect(document.operations.count >= 11)
        for (path, method, operation) in document.operations {
            #expect(operation["operationId"] is String, "\(method) \(path) has no operationId")
            #expect(!(operation["responses"] as? [String: Any] ?? [:]).isEmpty, "\(method) \(path) documents no responses")
        }
    }

    @Test func serverAnswersEveryDocumentedOperationAsDocumented() async throws {
        let document = try OpenAPIDocument()
        try await withAPI(configure: { $0.webhookSecrets = WebhookSecrets(master: "conformance-webhook-master-1") }) { api in
            // Real ids to fill path parameters with.
            let image = try await api.uploadImage(key: api.keyA)
            let jobId = try await api.submitJob(key: api.keyA)
            let cancellable = try await api.submitJob(key: api.keyA)
            let storedKey = "videos/\(api.tenantA.uuidString.lowercased())/conformance.mp4"
            let file = Fixtures.temporaryFile("rendc-conformance", extension: "mp4")
            FileManager.default.createFile(atPath: file, contents: Data([0, 0, 0, 0x18] + Array("ftypisom".utf8)))
            defer { try? FileManager.default.removeItem(atPath: file) }
            try await api.objectStore.put(localPath: file, key: storedKey, contentType: "video/mp4")
            let expires = Int(Date().timeIntervalSince1970) + 600
            let signedPath = api.signer.signedPath(key: storedKey, expires: expires)
            let signedQuery = api.signer.signedQueryPath(key: storedKey, expires: expires)

            typealias Call = @Sendable () async throws -> TestResponse
            // For each operation: the basic cases that must answer documented statuses (first one is the happy path).
            let cases: [String: [(expect: Int, call: Call)]] = [
                "submitJob": [
                    (202, { try await api.submit(key: api.keyA, imageIds: [image]) }),
                    (400, { try await api.postJSON("/api/v1/video/process", key: api.keyA, "{nope") }),
                    (422, { try await api.submit(key: api.keyA, imageIds: [UUID().uuidString]) }),
                ],
                "listJobs": [
                    (200, { try await api.send(.get, "/api/v1/video/jobs?limit=1", key: api.keyA) }),
                    (400, { try await api.send(.get, "/api/v1/video/jobs?limit=0", key: api.keyA) }),
                ],
                "getJob": [
                    (200, { try await api.send(.get, "/api/v1/video/jobs/\(jobId)", key: api.keyA) }),
                    (404, { try await api.send(.get, "/api/v1/video/jobs/\(UUID().uuidString)", key: api.keyA) }),
                ],
                "cancelJob": [
                    (200, { try await api.send(.post, "/api/v1/video/jobs/\(cancellable)/cancel", key: api.keyA) }),
                    (409, { try await api.send(.post, "/api/v1/video/jobs/\(cancellable)/cancel", key: api.keyA) }),
                    (404, { try await api.send(.post, "/api/v1/video/jobs/\(UUID().uuidString)/cancel", key: api.keyA) }),
                ],
                "uploadAsset": [
                    (201, { try await api.upload(TestImages.pngHeader(width: 64, height: 64), type: "image", key: api.keyA) }),
                    (415, { try await api.upload(Array("plain text".utf8), type: "image", key: api.keyA) }),
                    (422, { try await api.upload(TestImages.pngHeader(width: 64, height: 64), type: "poster", key: api.keyA) }),
                    (422, { try await api.upload(TestImages.pngHeader(width: 8, height: 8), type: "image", key: api.keyA) }),
                ],
                "getAsset": [
                    (200, { try await api.send(.get, "/api/v1/assets/\(image)", key: api.keyA) }),
                    (404, { try await api.send(.get, "/api/v1/assets/\(image)", key: api.keyB) }),
                ],
                "listTemplates": [(200, { try await api.send(.get, "/api/v1/templates", key: api.keyA) })],
                "downloadFile": [
                    (200, { try await api.send(.get, signedQuery, key: nil) }),
                    (206, { try await api.send(.get, signedQuery, key: nil, headers: [.range: "bytes=0-3"]) }),
                    (416, { try await api.send(.get, signedQuery, key: nil, headers: [.range: "bytes=9999-"]) }),
                    (403, { try await api.send(.get, "/files?key=\(storedKey)&expires=\(expires)&signature=00", key: nil) }),
                ],
                "headFile": [
                    (200, { try await api.send(.head, signedQuery, key: nil) }),
                    (403, { try await api.send(.head, "/files?key=\(storedKey)", key: nil) }),
                ],
                "downloadFileByPath": [
                    (200, { try await api.send(.get, signedPath, key: nil) }),
                    (
                        200,
                        {
                            try await api.send(
                                .get,
                                signedPath.replacingOccurrences(of: "/files/videos/", with: "/files/videos%2F")
                                    .replacingOccurrences(of: "/conformance", with: "%2Fconformance"), key: nil)
                        }
                    ),
                    (403, { try await api.send(.get, "/files/\(storedKey)", key: nil) }),
                ],
                "getWebhookSecret": [(200, { try await api.send(.get, "/api/v1/webhook-secret", key: api.keyA) })],
                "rotateWebhookSecret": [
                    (200, { try await api.send(.post, "/api/v1/webhook-secret/rotate", key: api.keyB, headers: [.idempotencyKey: "rotate-1"]) }),
                    (200, { try await api.send(.post, "/api/v1/webhook-secret/rotate", key: api.keyB, headers: [.idempotencyKey: "rotate-1"]) }),
                    (
                        422,
                        {
                            try await api.send(
                                .post, "/api/v1/webhook-secret/rotate", key: api.keyB, body: Array("{}".utf8), headers: [.idempotencyKey: "rotate-1"])
                        }
                    ),
                    (400, { try await api.send(.post, "/api/v1/webhook-secret/rotate", key: api.keyB, headers: [.idempotencyKey: "no spaces"]) }),
                ],
                "liveness": [(200, { try await api.send(.get, "/healthz", key: nil) })],
                "readiness": [(200, { try await api.send(.get, "/readyz", key: nil) })],
                "metrics": [(200, { try await api.send(.get, "/metrics", key: nil) })],
            ]

            for (path, method, operation) in document.operations {
                let id = try #require(operation["operationId"] as? String)
                let responses = operation["responses"] as? [String: Any] ?? [:]
                let calls = try #require(cases[id], "no conformance case for \(method) \(path) (\(id)): add one")
                var statuses: [Int] = []
                for (expected, call) in calls {
                    let response = try await call()
                    let status = Int(response.status.code)
                    statuses.append(status)
                    #expect(status == expected, "\(id): got \(status), expected \(expected): \(String(buffer: response.body))")
                    let documented = document.resolve(responses[String(status)])
                    #expect(documented != nil, "\(id) answered \(status), which \(path) does not document")
                    // A documented JSON body must have the schema's required properties and types.
                    if method != "head", let schema = (documented?["content"] as? [String: Any])?["application/json"] as? [String: Any],
                        response.headers[.contentType]?.hasPrefix("application/json") == true
                    {
                        let json = try JSONDecoder().decode(JSONValue.self, from: Data(response.body.readableBytesView))
                        let problems = document.problems(json, schema: schema["schema"])
                        #expect(problems.isEmpty, "\(id) \(status): \(problems)")
                    }
                }
                // Operations behind a key answer 401 without one, and document it.
                if document.needsAuth(operation) {
                    let method = HTTPRequest.Method(rawValue: method.uppercased()) ?? .get
                    let concrete = path.replacingOccurrences(of: "{id}", with: UUID().uuidString)
                    let response = try await api.send(method, concrete, key: nil)
                    #expect(response.status == .unauthorized, "\(id) without a key: \(response.status)")
                    #expect(responses["401"] != nil, "\(id) does not document 401")
                }
                #expect(!statuses.isEmpty)
            }
            // Every case names a documented operation (no stale cases).
            let documentedIds = Set(document.operations.compactMap { $0.operation["operationId"] as? String })
            #expect(Set(cases.keys).subtracting(documentedIds).isEmpty)
        }
    }
}
