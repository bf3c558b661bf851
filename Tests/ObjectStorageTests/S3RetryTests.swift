import RendcTestSupport
import AsyncHTTPClient
import Foundation
import Logging
import Testing
@testable import ObjectStorage

/// A scriptable fake S3 (Python's http.server on 127.0.0.1) for failures a real server will not produce on demand:
/// 5xx answers, errors in the middle of a multipart upload. It records every request; `GET /__log` returns them.
final class FakeS3: Sendable {
    let server: PythonServer
    var endpoint: String { server.baseURL }

    struct Plan: Encodable {
        /// The first `failFirst` requests get `failStatus` with S3 error `failCode`.
        var failFirst = 0
        var failStatus = 503
        var failCode = "SlowDown"
        /// UploadPart requests get 400 InvalidPart (not retryable).
        var failParts = false
    }

    struct Recorded: Decodable, Equatable {
        var method: String
        var path: String
        var bytes: Int
        var auth: Bool
    }

    static let script = #"""
        import json, os, threading
        from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
        plan = json.loads(os.environ["FAKE_PLAN"])
        log, lock = [], threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *args):
                pass
            def reply(self, status, body=b"", ctype="application/xml", extra=None):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
            def error(self, status, code, n):
                self.reply(status, ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code>"
                                    "<Message>Injected failure &amp; retry</Message><RequestId>REQ%d</RequestId>"
                                    "</Error>" % (code, n)).encode())
            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path == "/__ready":
                    return self.reply(200, b"ok", "text/plain")
                if self.path == "/__log":
                    with lock:
                        data = json.dumps(log).encode()
                    return self.reply(200, data, "application/json")
                with lock:
                    log.append({"method": self.command, "path": self.path, "bytes": len(body),
                                "auth": self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 ")})
                    n = len(log)
                if n <= plan["failFirst"]:
                    return self.error(plan["failStatus"], plan["failCode"], n)
                if self.command == "POST" and self.path.endswith("?uploads="):
                    return self.reply(200, b"<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                                           b"<UploadId>UPLOAD-1</UploadId></InitiateMultipartUploadResult>")
                if self.command == "PUT" and "partNumber=" in self.path:
                    if plan["failParts"]:
                        return self.error(400, "InvalidPart", n)
                    return self.reply(200, extra={"ETag": "\"etag-%d\"" % n})
                if self.command == "PUT":
                    return self.reply(200, extra={"ETag": "\"etag\""})
                if self.command == "GET":
                    return self.reply(200, b"hello", "text/plain")
                if self.command == "DELETE":
                    return self.reply(204)
                return self.reply(200)
            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

        ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
        """#

    init(_ plan: Plan) async throws {
        let json = String(decoding: try JSONEncoder().encode(plan), as: UTF8.self)
        server = try await PythonServer(script: Self.script, environment: ["FAKE_PLAN": json], readyPath: "/__ready")
    }

    func requests() async throws -> [Recorded] {
        let body = try await plainGET(endpoint + "/__log").body
        return try JSONDecoder().decode([Recorded].self, from: body)
    }

    func stop() { server.stop() }

    func store(logger: Logger, maxAttempts: Int = 3, partSize: Int = S3Configuration.minimumPartSize) throws -> S3Store {
        try S3Store(
            configuration: S3Configuration(
                endpoint: endpoint, region: "us-east-1", bucket: "rendc-media",
                credentials: .init(accessKey: "AKIDEXAMPLE", secretKey: "fake-secret-Xy7"), forcePathStyle: true,
                partSize: partSize, maxAttempts: maxAttempts, initialBackoff: .milliseconds(10),
                maximumBackoff: .milliseconds(40), requestTimeout: .seconds(20)),
            logger: logger)
    }
}

@Suite(.timeLimit(.minutes(8)), .ownThreads)
struct S3RetryTests {
    @Test func retriesInjected503ThenSucceeds() async throws {
        let fake = try await FakeS3(.init(failFirst: 2))
        defer { fake.stop() }
        let logs = LogCapture()
        let store = try fake.store(logger: logs.logger())
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        try await store.put(localPath: try dir.write("a", Data("abc".utf8)), key: "videos/t/j.mp4", contentType: "video/mp4")
        let requests = try await fake.requests()
        #expect(requests.map(\.method) == ["PUT", "PUT", "PUT"])
        #expect(requests.allSatisfy { $0.path == "/rendc-media/videos/t/j.mp4" && $0.bytes == 3 && $0.auth })
        let retries = logs.lines.filter { $0.contains("retrying") }
        #expect(retries.count == 2)
        #expect(retries.first?.contains("HTTP 503 SlowDown: Injected failure & retry (request id REQ1)") == true)
        #expect(!logs.text.contains("fake-secret-Xy7"))
    }

    @Test func retriedGetStreamsToFileAfterFailures() async throws {
        let fake = try await FakeS3(.init(failFirst: 1, failStatus: 500, failCode: "InternalError"))
        defer { fake.stop() }
        let store = try fake.store(logger: Logger(label: "test"))
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        try await store.get(key: "videos/t/j.mp4", to: dir.file("out/j.mp4"))
        #expect(try dir.read(dir.file("out/j.mp4")) == Data("hello".utf8))
        #expect(dir.entries(dir.file("out")) == ["j.mp4"])
        #expect(try await fake.requests().map(\.method) == ["GET", "GET"])
    }

    @Test func persistent5xxFailsAfterMaxAttempts() async throws {
        let fake = try await FakeS3(.init(failFirst: 100))
        defer { fake.stop() }
        let store = try fake.store(logger: Logger(label: "test"), maxAttempts: 3)
        let error = await #expect(throws: ObjectStoreError.self) { try await store.exists(key: "videos/x.mp4") }
        #expect(error?.code == .remote)
        #expect(error?.description == "storage: videos/x.mp4: S3 HEAD failed (after 3 attempts): HTTP 503")
        #expect(try await fake.requests().count == 3)
    }

    @Test func clientErrorsAreNotRetried() async throws {
        let fake = try await FakeS3(.init(failFirst: 100, failStatus: 403, failCode: "AccessDenied"))
        defer { fake.stop() }
        let store = try fake.store(logger: Logger(label: "test"))
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let error = await #expect(throws: ObjectStoreError.self) {
            try await store.get(key: "videos/x.mp4", to: dir.file("x"))
        }
        #expect(error?.code == .accessDenied)
        #expect(
            error?.description
                == "storage: videos/x.mp4: S3 GET failed: HTTP 403 AccessDenied: Injected failure & retry (request id REQ1)")
        #expect(try await fake.requests().count == 1)
        #expect(!FileManager.default.fileExists(atPath: dir.file("x")))
    }

    @Test func failedMultipartUploadIsAborted() async throws {
        let fake = try await FakeS3(.init(failParts: true))
        defer { fake.stop() }
        let store = try fake.store(logger: Logger(label: "test"))
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let source = try dir.write("big", patternedData(count: S3Configuration.minimumPartSize + 10))
        let error = await #expect(throws: ObjectStoreError.self) {
            try await store.put(localPath: source, key: "videos/big.mp4", contentType: "video/mp4")
        }
        #expect(error?.description.contains("UploadPart 1 failed: HTTP 400 InvalidPart") == true, "\(String(describing: error))")
        let requests = try await fake.requests()
        #expect(requests.map(\.method) == ["POST", "PUT", "DELETE"])
        #expect(requests[0].path == "/rendc-media/videos/big.mp4?uploads=")
        #expect(requests[1].path == "/rendc-media/videos/big.mp4?partNumber=1&uploadId=UPLOAD-1")
        #expect(requests[1].bytes == S3Configuration.minimumPartSize)
        #expect(requests[2].path == "/rendc-media/videos/big.mp4?uploadId=UPLOAD-1")
    }

    @Test func multipartSendsEveryPartThenCompletes() async throws {
        let fake = try await FakeS3(.init())
        defer { fake.stop() }
        let store = try fake.store(logger: Logger(label: "test"))
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let size = 2 * S3Configuration.minimumPartSize + 7
        try await store.put(localPath: try dir.write("big", patternedData(count: size)), key: "v/b.mp4", contentType: "video/mp4")
        let requests = try await fake.requests()
        #expect(requests.map(\.method) == ["POST", "PUT", "PUT", "PUT", "POST"])
        #expect(requests[1...3].map(\.bytes) == [S3Configuration.minimumPartSize, S3Configuration.minimumPartSize, 7])
        #expect(requests[4].path == "/rendc-media/v/b.mp4?uploadId=UPLOAD-1")
    }

    @Test func connectionRefusedIsRetriedThenReported() async throws {
        let port = try freeLocalPort()  // nothing listens there
        let logs = LogCapture()
        let store = try S3Store(
            configuration: S3Configuration(
                endpoint: "http://127.0.0.1:\(port)", region: "us-east-1", bucket: "rendc-media",
                credentials: .init(accessKey: "AKIDEXAMPLE", secretKey: "fake-secret-Xy7"),
                maxAttempts: 3, initialBackoff: .milliseconds(10), requestTimeout: .seconds(1)),
            logger: logs.logger())
        let error = await #expect(throws: ObjectStoreError.self) { try await store.delete(key: "videos/x.mp4") }
        #expect(error?.code == .remote)
        #expect(
            error?.description.contains("S3 DELETE failed (after 3 attempts): connection failed") == true,
            "\(String(describing: error))")
        #expect(logs.lines.filter { $0.contains("retrying") }.count == 2)
    }

    @Test func partSizeGrowsToStayWithinTenThousandParts() {
        let five = Int64(S3Configuration.minimumPartSize)
        #expect(S3Store.partSize(forFileSize: 100 * five, configured: S3Configuration.minimumPartSize) == five)
        #expect(S3Store.partSize(forFileSize: 10_000 * five, configured: S3Configuration.minimumPartSize) == five)
        #expect(S3Store.partSize(forFileSize: 10_000 * five + 1, configured: S3Configuration.minimumPartSize) == 2 * five)
    }
}
