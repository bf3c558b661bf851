import Foundation
import HTTPTypes
import HummingbirdTesting
import JobQueue
import Logging
import NIOCore
import ObjectStorage
import Planner
import QueueTestSupport
import RendcTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import JobAPI

/// Issue 10 items 3 and 9, and issue 18's request ids, idempotency, rate limits and content types.
@Suite struct MultipartParserBoundsTests {
    /// `--BOUNDARY` then 32 MB of spaces used to cost quadratic CPU and +49 MB: the padding after a boundary is
    /// now consumed as it is seen and refused past 64 bytes, so the parser stops within the first chunk.
    @Test func paddingAfterABoundaryIsRefusedAtOnce() throws {
        var parser = MultipartParser(boundary: "BOUNDARY")
        let chunk = [UInt8](repeating: UInt8(ascii: " "), count: 64 * 1024)
        var fed = Array("--BOUNDARY".utf8).count
        var refused = false
        _ = try parser.feed(Array("--BOUNDARY".utf8))
        for _ in 0..<(32 * 16) {
            fed += chunk.count
            do { _ = try parser.feed(chunk) } catch { refused = true; break }
        }
        #expect(refused)
        #expect(fed == 10 + 64 * 1024, "refused in the first chunk of spaces")
        #expect(parser.bytesScanned < 200, "scanned \(parser.bytesScanned) bytes")
    }

    /// A part body of 32 MB with no boundary in it: every byte is examined about once (linear), and the parser holds
    /// at most one chunk plus a delimiter's length, however long the part.
    @Test func longPartIsScannedOnceWithBoundedBuffering() throws {
        var parser = MultipartParser(boundary: "xYz123")
        _ = try parser.feed(Array("--xYz123\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n".utf8))
        // Bytes that keep starting partial delimiter matches ("\r\n--xYz12" then a miss) are the worst case.
        let pattern = Array("\r\n--xYz12 ".utf8)
        var chunk: [UInt8] = []
        while chunk.count < 64 * 1024 { chunk += pattern }
        var delivered = 0
        var fed = 0
        for _ in 0..<(32 * 1024 * 1024 / chunk.count) {
            fed += chunk.count
            for event in try parser.feed(chunk) { if case .data(let bytes) = event { delivered += bytes.count } }
        }
        let headerBytes = 60
        #expect(parser.bytesScanned <= 2 * (fed + headerBytes), "scanned \(parser.bytesScanned) for \(fed) bytes")
        #expect(parser.bytesScanned >= fed, "every byte is looked at")
        #expect(parser.bufferHighWater <= chunk.count + 80, "held \(parser.bufferHighWater) bytes")
        #expect(delivered >= fed - 16, "the part's bytes stream out as they come")
    }

    @Test func longPreambleIsRefused() throws {
        var parser = MultipartParser(boundary: "b")
        let spaces = [UInt8](repeating: 32, count: 64 * 1024)
        #expect(throws: MultipartParser.ParseError.self) { for _ in 0..<512 { _ = try parser.feed(spaces) } }
        #expect(parser.bytesScanned < 200 * 1024)
    }

    /// One byte at a time still parses a whole form (state carried across feeds, nothing re-scanned).
    @Test func byteAtATimeStillParses() throws {
        var parser = MultipartParser(boundary: "q")
        let body = Array("--q\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nimage\r\n--q  \r\n\r\nraw\r\n--q--\r\n".utf8)
        var events: [MultipartParser.Event] = []
        for byte in body { events += try parser.feed([byte]) }
        try parser.finish()
        var text: [UInt8] = []
        for case .data(let bytes) in events { text += bytes }
        #expect(String(decoding: text, as: UTF8.self) == "imageraw")
        #expect(events.filter { $0 == .partEnd }.count == 2)
        #expect(parser.bytesScanned <= 2 * body.count)
    }

    @Test func boundaryCharactersFollowRFC2046() {
        #expect(MultipartParser.boundary(fromContentType: "multipart/form-data; boundary=abc'()+_,-./:=?") != nil)
        #expect(MultipartParser.boundary(fromContentType: "multipart/form-data; boundary=\"a\rb\"") == nil)
        #expect(MultipartParser.boundary(fromContentType: "multipart/form-data; boundary=a;b") == "a")
    }
}

@Suite(.serialized, .ownThreads) struct APIHardeningTests {
    @Test func otherMethodsOnKnownPathsAre405WithAllow() async throws {
        try await withAPI { api in
            let job = try await api.submitJob(key: api.keyA)
            for (method, path, allow) in [
                (HTTPRequest.Method.put, "/api/v1/video/jobs/\(job)", "GET, HEAD"),
                (.delete, "/api/v1/video/jobs/\(job)", "GET, HEAD"),
                (.delete, "/api/v1/assets", "POST"),
                (.get, "/api/v1/video/process", "POST"),
                (.patch, "/files/videos/x.mp4", "GET, HEAD"),
                (.trace, "/healthz", "GET, HEAD"), (.trace, "/api/v1/webhook-secret/rotate", "POST"),
                // Methods the router has no table for at all.
                (HTTPRequest.Method("QUERY")!, "/api/v1/video/jobs", "GET, HEAD"), (HTTPRequest.Method("QUERY")!, "/files/a/b.mp4", "GET, HEAD"),
                (HTTPRequest.Method("BREW")!, "/api/v1/video/jobs/\(job)/cancel", "POST"),
            ] {
                let response = try await api.send(method, path, key: api.keyA)
                #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                #expect(response.headers[.allow] == allow, "\(method) \(path)")
                #expect(try errorOf(response).code == "method_not_allowed")
            }
            // Unknown paths stay 404.
            #expect(try await api.send(.put, "/api/v1/nothing", key: api.keyA).status == .notFound)
            #expect(try await api.send(HTTPRequest.Method("QUERY")!, "/api/v1/video/jobs/\(job)/x", key: api.keyA).status == .notFound)
        }
    }

    @Test func jsonEndpointsRefuseOtherContentTypes() async throws {
        try await withAPI { api in
            let image = try await api.uploadImage(key: api.keyA)
            let body = Array("{\"imageIds\":[\"\(image)\"]}".utf8)
            for type in ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", nil] {
                let response = try await api.send(.post, "/api/v1/video/process", key: api.keyA, body: body, contentType: type)
                #expect(response.status == .unsupportedMediaType, "\(type ?? "none")")
                #expect(try errorOf(response).code == "unsupported_content_type")
            }
            for type in ["application/json", "application/json; charset=UTF-8", "application/vnd.rendc+json"] {
                let response = try await api.send(.post, "/api/v1/video/process", key: api.keyA, body: body, contentType: type)
                #expect(response.status == .accepted, "\(type)")
            }
        }
    }

    @Test func hugeCursorIs400() async throws {
        try await withAPI { api in
            for raw in ["9223372036854775807:\(UUID().uuidString)", "-9223372036854775808:\(UUID().uuidString)"] {
                let cursor = QueueAPIStore.toURLSafe(Data(raw.utf8).base64EncodedString())
                let response = try await api.send(.get, "/api/v1/video/jobs?cursor=\(cursor)", key: api.keyA)
                #expect(response.status == .badRequest)
                #expect(try errorOf(response).field == "cursor")
            }
        }
    }

    @Test func uploadsRefuseTinyImagesAnimatedWebPAndLongNames() async throws {
        try await withAPI { api in
            let tiny = try await api.upload(TestImages.pngHeader(width: 1, height: 1), type: "image", key: api.keyA)
            #expect(tiny.status == .unprocessableContent)
            #expect(try errorOf(tiny).field == "file")
            // VP8X with the animation flag, then an ANIM chunk.
            var webp = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8X".utf8) + [10, 0, 0, 0]
            webp += [0x02, 0, 0, 0] + [99, 0, 0] + [99, 0, 0]  // flags: animation; canvas 100x100
            webp += Array("ANIM".utf8) + [6, 0, 0, 0] + [0, 0, 0, 0, 0, 0]
            let animated = try await api.upload(webp, type: "image", filename: "a.webp", key: api.keyA)
            #expect(
                animated.status == .unprocessableContent || animated.status == .unsupportedMediaType,
                "\(String(buffer: animated.body))")
            #expect(WebPInspection.isAnimated(webp))
            var still = webp
            still[20] = 0
            #expect(!WebPInspection.isAnimated(Array(still.prefix(30))))

            let longName = String(repeating: "n", count: 101)
            let named = try await uploadNamed(api, name: longName)
            #expect(named.status == .unprocessableContent)
            #expect(try errorOf(named).field == "name")
            let exact = try await uploadNamed(api, name: String(repeating: "é", count: 100))
            #expect(exact.status == .created)
            #expect((try jsonObject(exact)["asset"] as? [String: Any])?["name"] as? String == String(repeating: "é", count: 100))
        }
    }

    @Test func requestIdsAreEchoedLoggedAndStoredOnJobs() async throws {
        try await withAPI { api in
            let image = try await api.uploadImage(key: api.keyA)
            var headers = HTTPFields()
            headers[.requestId] = "store-7f3a:retry-2"
            let response = try await api.send(
                .post, "/api/v1/video/process", key: api.keyA, body: Array("{\"imageIds\":[\"\(image)\"]}".utf8),
                contentType: "application/json", headers: headers)
            #expect(response.status == .accepted)
            #expect(response.headers[.requestId] == "store-7f3a:retry-2")
            let jobText = try #require(try jsonObject(response)["jobId"] as? String)
            let jobId = try #require(UUID(uuidString: jobText))
            #expect(try await api.store.requestId(ofJob: jobId) == "store-7f3a:retry-2")

            // Without one (and on errors, and on unknown paths), a new UUID.
            for (key, path) in [(api.keyA, "/api/v1/templates"), (nil, "/api/v1/templates"), (api.keyA, "/nowhere")] {
                let answer = try await api.send(.get, path, key: key)
                let id = try #require(answer.headers[.requestId])
                #expect(UUID(uuidString: id) != nil, "\(path): \(id)")
            }
            var bad = HTTPFields()
            bad[.requestId] = String(repeating: "x", count: 129)
            let replaced = try await api.send(.get, "/healthz", key: nil, headers: bad)
            #expect(UUID(uuidString: replaced.headers[.requestId] ?? "") != nil)
            // A job submitted without one records the id the server made.
            let plain = try await api.submit(key: api.keyA, imageIds: [image])
            let plainText = try #require(try jsonObject(plain)["jobId"] as? String)
            let plainId = try #require(UUID(uuidString: plainText))
            #expect(try await api.store.requestId(ofJob: plainId) == plain.headers[.requestId])
        }
    }

    @Test func idempotencyKeysReplayRefuseOtherBodiesAndAreScopedByTenant() async throws {
        try await withAPI { api in
            let image = try await api.uploadImage(key: api.keyA)
            let body = "{\"imageIds\":[\"\(image)\"],\"durationTarget\":5}"
            let key = "order-1234-\(UUID().uuidString)"
            let first = try await idempotentSubmit(api, apiKey: api.keyA, idempotencyKey: key, body)
            #expect(first.status == .accepted)
            #expect(first.headers[.idempotentReplayed] == nil)
            let again = try await idempotentSubmit(api, apiKey: api.keyA, idempotencyKey: key, body)
            #expect(again.status == .accepted)
            #expect(again.headers[.idempotentReplayed] == "true")
            #expect(String(buffer: again.body) == String(buffer: first.body))
            #expect(again.headers[.location] == first.headers[.location])
            #expect(try await api.store.jobCount(tenantId: api.tenantA) == 1)

            let other = try await idempotentSubmit(api, apiKey: api.keyA, idempotencyKey: key, "{\"imageIds\":[\"\(image)\"],\"durationTarget\":6}")
            #expect(other.status == .unprocessableContent)
            #expect(try errorOf(other).code == "idempotency_key_reused")
            #expect(try await api.store.jobCount(tenantId: api.tenantA) == 1)

            // A failed request does not use up the key: the same key then works with a valid body.
            let failing = "order-fail-\(UUID().uuidString)"
            let invalid = try await idempotentSubmit(api, apiKey: api.keyA, idempotencyKey: failing, "{\"imageIds\":[\"\(UUID().uuidString)\"]}")
            #expect(invalid.status == .unprocessableContent)
            #expect(try await idempotentSubmit(api, apiKey: api.keyA, idempotencyKey: failing, body).status == .accepted)
            #expect(try await api.store.jobCount(tenantId: api.tenantA) == 2)

            // Another tenant's identical key is its own.
            let imageB = try await api.uploadImage(key: api.keyB)
            let forB = try await idempotentSubmit(api, apiKey: api.keyB, idempotencyKey: key, "{\"imageIds\":[\"\(imageB)\"]}")
            #expect(forB.status == .accepted)
            #expect(forB.headers[.idempotentReplayed] == nil)

            var malformed = HTTPFields()
            malformed[.idempotencyKey] = "has space"
            let refused = try await api.send(
                .post, "/api/v1/video/process", key: api.keyA, body: Array(body.utf8),
                contentType: "application/json", headers: malformed)
            #expect(refused.status == .badRequest)
        }
    }

    /// Eight submits with one key at once: one job, and every 202 names it.
    @Test func concurrentRequestsWithOneKeyCreateOneJob() async throws {
        try await withAPI { api in
            let image = try await api.uploadImage(key: api.keyA)
            let body = "{\"imageIds\":[\"\(image)\"]}"
            let key = UUID().uuidString
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<8 { group.addTask { try await idempotentSubmit(api, apiKey: api.keyA, idempotencyKey: key, body) } }
                var all: [TestResponse] = []
                for try await response in group { all.append(response) }
                return all
            }
            #expect(try await api.store.jobCount(tenantId: api.tenantA) == 1)
            var ids = Set<String>()
            for response in responses {
                #expect(response.status == .accepted || response.status == .conflict, "\(response.status)")
                if response.status == .accepted { ids.insert(try #require(try jsonObject(response)["jobId"] as? String)) }
            }
            #expect(ids.count == 1)
            #expect(responses.filter { $0.headers[.idempotentReplayed] == nil && $0.status == .accepted }.count == 1)
        }
    }

    /// docs/api.md: a 503 on a write means "outcome unknown, retry with the same key". Here the job and asset
    /// rows are committed and then the answer is lost (the store throws `unavailable` after its write, as a
    /// timeout after the commit does): the retry must replay, not write a second row. Releasing the key on that
    /// 503 made the retry enqueue and render a second job.
    @Test func aRetryAfterAnAnswerLostPastTheCommitReplaysInsteadOfWritingTwice() async throws {
        try await withAPI(apiStore: { AnswerLostAfterWrite($0) }) { api in
            let image = try await api.uploadImage(key: api.keyA)  // no key: written once, answered normally
            let body = "{\"imageIds\":[\"\(image)\"],\"durationTarget\":5}"
            let key = "lost-\(UUID().uuidString)"
            let first = try await idempotentSubmit(api, apiKey: api.keyA, idempotencyKey: key, body)
            #expect(first.status == .serviceUnavailable, "\(first.status)")
            #expect(try await api.store.jobCount(tenantId: api.tenantA) == 1, "the job was written before the answer was lost")
            let retry = try await idempotentSubmit(api, apiKey: api.keyA, idempotencyKey: key, body)
            #expect(retry.status == .accepted)
            #expect(retry.headers[.idempotentReplayed] == "true")
            #expect(try await api.store.jobCount(tenantId: api.tenantA) == 1, "the retry replayed; no second job")

            var headers = HTTPFields()
            headers[.idempotencyKey] = "upload-\(UUID().uuidString)"
            let bytes = TestImages.pngHeader(width: 64, height: 48)
            let lost = try await api.upload(bytes, type: "image", filename: "p.png", key: api.keyA, headers: headers)
            #expect(lost.status == .serviceUnavailable, "\(lost.status)")
            let again = try await api.upload(bytes, type: "image", filename: "p.png", key: api.keyA, headers: headers)
            #expect(again.status == .created)
            #expect(again.headers[.idempotentReplayed] == "true")
            let assetId = try #require(try jsonObject(again)["assetId"] as? String)
            let stored = try await api.store.assets(ids: [try #require(UUID(uuidString: assetId))], tenantId: api.tenantA)
            #expect(stored.count == 1, "the replayed asset exists")
            #expect(
                FileManager.default.fileExists(atPath: api.storageRoot + "/" + (stored.first?.filePath ?? "-")),
                "its object was kept: the 503 did not mean the row was not written")
        }
    }

    /// A body of thousands of tiny parts, or of parts with huge headers, made the parser spend seconds of the
    /// shared threads (review9: two such uploads froze the API for a minute). Both are refused at the part that
    /// goes over, and a normal upload with the three parts still works.
    @Test func uploadsWithManyPartsOrHugePartHeadersAreRefused() async throws {
        try await withAPI { api in
            let boundary = "rendcManyParts"
            func body(extraParts: Int, nameLength: Int) -> [UInt8] {
                var text = ""
                let name = String(repeating: "n", count: nameLength)
                for index in 0..<extraParts {
                    text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"x\(index)\"; padding=\"\(name)\"\r\n\r\nv\r\n"
                }
                text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"type\"; padding=\"\(name)\"\r\n\r\nimage\r\n"
                text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.png\"\r\n"
                text += "Content-Type: image/png\r\n\r\n"
                var bytes = Array(text.utf8)
                bytes += TestImages.pngHeader(width: 64, height: 48)
                bytes += Array("\r\n--\(boundary)--\r\n".utf8)
                return bytes
            }
            let contentType = "multipart/form-data; boundary=\(boundary)"
            let fine = try await api.send(.post, "/api/v1/assets", key: api.keyA, body: body(extraParts: 1, nameLength: 10), contentType: contentType)
            #expect(fine.status == .created, "\(fine.status)")
            let many = try await api.send(
                .post, "/api/v1/assets", key: api.keyA, body: body(extraParts: 200, nameLength: 10), contentType: contentType)
            #expect(many.status == .badRequest, "\(many.status)")
            #expect(message(many).contains("at most 8 form parts"), "\(message(many))")
            let huge = try await api.send(
                .post, "/api/v1/assets", key: api.keyA, body: body(extraParts: 0, nameLength: 15_000), contentType: contentType)
            #expect(huge.status == .created, "one 15 KB header fits the 16 KB budget: \(huge.status)")
            // Three parts of 6 KB headers each: every one fits the parser's per-part limit, together they do not.
            let over = try await api.send(
                .post, "/api/v1/assets", key: api.keyA, body: body(extraParts: 2, nameLength: 6_000), contentType: contentType)
            #expect(over.status == .unprocessableContent, "\(over.status)")
            #expect(message(over).contains("limited to 16 KB"), "\(message(over))")
        }
    }

    @Test func idempotentUploadsStoreOneAsset() async throws {
        try await withAPI { api in
            let key = UUID().uuidString
            var headers = HTTPFields()
            headers[.idempotencyKey] = key
            let bytes = TestImages.pngHeader(width: 64, height: 48)
            // Two different multipart boundaries: the same upload all the same.
            let first = try await api.upload(bytes, type: "image", filename: "p.png", key: api.keyA, headers: headers)
            let second = try await api.upload(bytes, type: "image", filename: "p.png", key: api.keyA, headers: headers)
            #expect(first.status == .created && second.status == .created)
            #expect(try jsonObject(first)["assetId"] as? String == jsonObject(second)["assetId"] as? String)
            #expect(second.headers[.idempotentReplayed] == "true")
            let different = try await api.upload(
                TestImages.pngHeader(width: 64, height: 49), type: "image", filename: "p.png", key: api.keyA, headers: headers)
            #expect(different.status == .unprocessableContent)
        }
    }

    /// The bucket lives in Postgres: two API servers over one database share one key's limit.
    @Test func rateLimitHoldsAcrossServersAndAnswers429() async throws {
        try await withAPI(configure: { $0.rateLimitPerMinute = 3 }) { api in
            let second = JobAPIServer(
                configuration: api.configuration, jobStore: api.store, objectStore: api.objectStore, templates: stubTemplates,
                logger: Logger(label: "rendc.test.second"))
            try await second.makeApplication().test(.router) { other in
                let first = try await api.send(.get, "/api/v1/templates", key: api.keyA)
                #expect(first.status == .ok)
                #expect(first.headers[.rateLimitPolicy] == "\"per-key\";q=3;w=60")
                #expect(first.headers[.rateLimit]?.hasPrefix("\"per-key\";r=2;t=") == true, "\(first.headers[.rateLimit] ?? "")")
                #expect(try await api.send(.get, "/api/v1/templates", key: api.keyA).status == .ok)
                var auth = HTTPFields()
                auth[.authorization] = "Bearer \(api.keyA)"
                #expect(try await other.executeRequest(uri: "/api/v1/templates", method: .get, headers: auth, body: nil).status == .ok)
                let limited = try await other.executeRequest(uri: "/api/v1/video/jobs", method: .get, headers: auth, body: nil)
                #expect(limited.status == .tooManyRequests)
                #expect(try errorOf(limited).code == "rate_limited")
                let retry = try #require(Int(limited.headers[.retryAfter] ?? ""))
                #expect((1...20).contains(retry), "one token every 20 s: \(retry)")
                #expect(limited.headers[.rateLimit]?.hasPrefix("\"per-key\";r=0;") == true)
                #expect(limited.headers[.requestId] != nil)
                // Another key has its own bucket; unauthenticated paths are not limited.
                #expect(try await api.send(.get, "/api/v1/templates", key: api.keyB).status == .ok)
                #expect(try await api.send(.get, "/healthz", key: nil).status == .ok)
            }
        }
    }

    /// A request that stalls mid-head or mid-body is closed by the idle timeout. Contrast: the timeout is 0.5 s,
    /// the client waits up to 30 s, and a server without the timeout would keep the connection open for ever.
    @Test func stalledRequestsAreClosedByTheIdleTimeout() async throws {
        try await withLiveAPI(configure: { $0.idleTimeoutSeconds = 0.5 }) { port, api in
            let head = try RawConnection(port: port)
            try head.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Partial: ")
            #expect(try head.readUntilClosed(timeoutSeconds: 30) == .closed(bytes: 0))

            let body = try RawConnection(port: port)
            try body.send(
                "POST /api/v1/video/process HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(api.keyA)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"imageIds\":")
            let outcome = try body.readUntilClosed(timeoutSeconds: 30)
            #expect(outcome != .timedOut, "a stalled body must not hold the connection")

            // A complete request on a fresh connection is answered (the timeout only closes silent ones).
            let fine = try RawConnection(port: port)
            try fine.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            guard case .closed(let text) = try fine.readResponseHead(timeoutSeconds: 30) else { Issue.record("no answer"); return }
            #expect(text.hasPrefix("HTTP/1.1 200"))
        }
    }

    /// A chunked upload (no Content-Length) is cut off at the size limit as it streams.
    @Test func chunkedUploadIsCappedWhileStreaming() async throws {
        try await withLiveAPI(configure: { $0.maxFileSizeBytes = 64 * 1024 }) { port, api in
            let connection = try RawConnection(port: port)
            try connection.send(
                "POST /api/v1/assets HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(api.keyA)\r\n"
                    + "Content-Type: multipart/form-data; boundary=cap\r\nTransfer-Encoding: chunked\r\n\r\n")
            func chunk(_ bytes: [UInt8]) -> [UInt8] { Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10] }
            try connection.send(bytes: chunk(Array("--cap\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n\r\n".utf8)))
            // The route allows a body the 64 KiB file cap plus 64 KiB for multipart framing. Send 512 KiB, well past
            // both (the multipart parser may hold back a boundary's worth), and never end the chunked body (no last
            // chunk): an answer can then only come from the cap enforced while the body streams. After answering, the
            // server drains what is in flight instead of closing on unread bytes (which would reset the connection and
            // could discard the answer), so the client sends it all and then waits, however slow the machine is.
            let block = [UInt8](repeating: 0x41, count: 16 * 1024)
            for _ in 0..<32 { try connection.send(bytes: chunk(block)) }
            guard case .closed(let text) = try connection.readResponseHead(timeoutSeconds: 120) else { Issue.record("no answer"); return }
            #expect(text.hasPrefix("HTTP/1.1 413"), "\(text.prefix(200))")
        }
    }

    @Test func slowBodiesGet408AfterTheBodyTimeout() async throws {
        try await withLiveAPI(configure: {
            $0.bodyTimeoutSeconds = 0.3; $0.idleTimeoutSeconds = 30
        }) { port, api in
            let connection = try RawConnection(port: port)
            let body = Array("{\"imageIds\":[\"\(UUID().uuidString)\"]}".utf8)
            try connection.send(
                "POST /api/v1/video/process HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(api.keyA)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n")
            // One byte every 100 ms: the body takes over 3 s, ten times the body timeout.
            for byte in body {
                try connection.send(bytes: [byte])
                try await Task.sleep(for: .milliseconds(100))
                if connection.hasBytesToRead() { break }
            }
            guard case .closed(let text) = try connection.readResponseHead(timeoutSeconds: 30) else { Issue.record("no answer"); return }
            #expect(text.hasPrefix("HTTP/1.1 408"), "\(text.prefix(200))")
        }
    }
}

private func uploadNamed(_ api: APIHarness, name: String) async throws -> TestResponse {
    let boundary = "n\(UInt32.random(in: 0...UInt32.max))"
    var body: [UInt8] = []
    body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nimage\r\n".utf8)
    body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n\(name)\r\n".utf8)
    body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.png\"\r\n\r\n".utf8)
    body += TestImages.pngHeader(width: 64, height: 64)
    body += Array("\r\n--\(boundary)--\r\n".utf8)
    return try await api.send(.post, "/api/v1/assets", key: api.keyA, body: body, contentType: "multipart/form-data; boundary=\(boundary)")
}

/// The error envelope's message ("" when there is none).
private func message(_ response: TestResponse) -> String {
    ((try? jsonObject(response))?["error"] as? [String: Any])?["message"] as? String ?? ""
}

private func idempotentSubmit(_ api: APIHarness, apiKey: String, idempotencyKey: String, _ json: String) async throws -> TestResponse {
    var headers = HTTPFields()
    headers[.idempotencyKey] = idempotencyKey
    return try await api.send(.post, "/api/v1/video/process", key: apiKey, body: Array(json.utf8), contentType: "application/json", headers: headers)
}

/// The API on a real loopback socket (for what the in-memory test client cannot show: timeouts, chunked bodies).
func withLiveAPI(
    _ name: String = #function, configure: @escaping @Sendable (inout APIConfiguration) -> Void,
    _ body: @escaping @Sendable (Int, APIHarness) async throws -> Void
) async throws {
    let port = try freeLocalPort()
    try await withAPI(
        name,
        configure: {
            configure(&$0); $0.port = port; $0.host = "127.0.0.1"
        }
    ) { api in
        let live = JobAPIServer(
            configuration: api.configuration, jobStore: api.store, objectStore: api.objectStore, templates: stubTemplates,
            logger: Logger(label: "rendc.test.live"))
        try await withRunningServer(live, port: port) { try await body(port, api) }
    }
}

/// Runs `server` on 127.0.0.1:`port` (its configured address: signed URLs name it) while `body` runs.
func withRunningServer<T: Sendable>(_ server: JobAPIServer, port: Int, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await server.makeApplication().runService(gracefulShutdownSignals: [])
            return nil
        }
        defer { group.cancelAll() }
        // Wait until it accepts connections (no time bound is asserted; the test's time limit covers a hang).
        while (try? RawConnection(port: port)) == nil { try await Task.sleep(for: .milliseconds(20)) }
        group.addTask { try await body() }
        while let next = try await group.next() {
            if let next { return next }
        }
        throw CancellationError()
    }
}

struct RawConnectionError: Error, CustomStringConvertible {
    var description: String
}

/// A plain TCP client with POSIX sockets: sends exactly the bytes given and reports whether the server closed.
final class RawConnection: @unchecked Sendable {
    enum Outcome: Equatable {
        case closed(bytes: Int)
        case timedOut
    }
    enum TextOutcome: Equatable {
        case closed(String)
        case timedOut
    }

    let fd: Int32

    init(port: Int) throws {
        // A local descriptor until it is connected: a failed init must close it once, here (were `fd` already
        // set, deinit would close the same number again, by then perhaps another test's socket).
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawConnectionError(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw RawConnectionError(description: "connect() failed") }
        self.fd = fd
    }

    deinit { close(fd) }

    func send(_ text: String) throws { try send(bytes: Array(text.utf8)) }

    func send(bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw RawConnectionError(description: "send() failed: \(errno)") }
            offset += n
        }
    }

    /// Whether the server has sent something, waiting up to `waitMilliseconds` for it.
    func hasBytesToRead(waitMilliseconds: Int32 = 0) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, waitMilliseconds) > 0
    }

    /// Reads until the server closes the connection (or resets it), or `timeoutSeconds` pass without a byte.
    func readUntilClosed(timeoutSeconds: Int) throws -> Outcome {
        switch try readText(timeoutSeconds: timeoutSeconds) {
        case .closed(let text): .closed(bytes: text.utf8.count)
        case .timedOut: .timedOut
        }
    }

    /// Reads until a whole response head has arrived (or the server closed): `.closed(text)` either way.
    func readResponseHead(timeoutSeconds: Int) throws -> TextOutcome {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, Int32(timeoutSeconds * 1000)) == 0 { return .timedOut }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { received += buffer[0..<n] }
            let text = String(decoding: received, as: UTF8.self)
            if n <= 0 || text.contains("\r\n\r\n") { return .closed(text) }
        }
    }

    func readText(timeoutSeconds: Int) throws -> TextOutcome {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(timeoutSeconds * 1000))
            if ready == 0 { return .timedOut }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return .closed(String(decoding: received, as: UTF8.self)) }
            received += buffer[0..<n]
        }
    }
}

/// Idempotency keys are kept at least 24 hours, then forgotten; an abandoned first request frees its key.
@Suite struct IdempotencyRetentionTests {
    @Test func keysLiveTwentyFourHoursThenGo() async throws {
        let (url, database) = try TestDatabase.create(prefix: "api_idem")
        let server = try PostgresServer.shared()
        let logger = TestDatabase.logger("rendc.test.idempotency")
        try await JobStore.withRunningStore(configuration: database, logger: logger) { store in
            try await store.migrate()
            let tenant = try await store.createTenant(name: "retention")
            let print = String(repeating: "a", count: 64)
            let (first, second) = (UUID(), UUID())
            func age(_ key: String, hours: Double) throws {
                _ = try server.runPSQL(
                    url: url,
                    sql: """
                        UPDATE api_idempotency_keys SET created_at = now() - interval '\(hours) hours',
                            renewed_at = now() - interval '\(hours) hours' WHERE idempotency_key = '\(key)'
                        """)
            }
            #expect(try await store.beginIdempotentRequest(tenantId: tenant.id, key: "k1", fingerprint: print, owner: first) == .proceed)
            #expect(try await store.finishIdempotentRequest(tenantId: tenant.id, key: "k1", owner: first, status: 202, body: "{}", location: "/x"))
            try age("k1", hours: 23.9)
            #expect(
                try await store.beginIdempotentRequest(tenantId: tenant.id, key: "k1", fingerprint: print, owner: second)
                    == .replay(status: 202, body: "{}", location: "/x"))
            try age("k1", hours: 24.1)
            #expect(try await store.purgeExpiredIdempotencyKeys() == 1)
            #expect(try await store.beginIdempotentRequest(tenantId: tenant.id, key: "k1", fingerprint: print, owner: second) == .proceed)

            // A first request that stopped renewing its key (its process died) holds it for a minute only.
            #expect(try await store.beginIdempotentRequest(tenantId: tenant.id, key: "k2", fingerprint: print, owner: first) == .proceed)
            #expect(try await store.beginIdempotentRequest(tenantId: tenant.id, key: "k2", fingerprint: print, owner: second) == .inProgress)
            try age("k2", hours: 0.02)
            #expect(try await store.beginIdempotentRequest(tenantId: tenant.id, key: "k2", fingerprint: print, owner: second) == .proceed)
        }
    }

    /// Security review: a key whose first request was still running after 120 s was taken as abandoned, so a
    /// retry ran the work a second time. The owner now renews its key while it works; age alone frees nothing,
    /// and only the owner can finish or release the key.
    @Test func aKeyWhoseOwnerRenewsItIsNeverTakenOverAndOnlyItsOwnerFinishesIt() async throws {
        let (url, database) = try TestDatabase.create(prefix: "api_idem_renew")
        let server = try PostgresServer.shared()
        let logger = TestDatabase.logger("rendc.test.idempotency")
        try await JobStore.withRunningStore(configuration: database, logger: logger) { store in
            try await store.migrate()
            let tenant = try await store.createTenant(name: "renewal")
            let print = String(repeating: "b", count: 64)
            let (owner, retry) = (UUID(), UUID())
            func backdate(_ column: String, minutes: Int) throws {
                _ = try server.runPSQL(
                    url: url, sql: "UPDATE api_idempotency_keys SET \(column) = now() - interval '\(minutes) minutes' WHERE idempotency_key = 'k'")
            }
            #expect(try await store.beginIdempotentRequest(tenantId: tenant.id, key: "k", fingerprint: print, owner: owner) == .proceed)
            // The first request has been working for 20 minutes (a slow upload), renewing its key all along.
            try backdate("created_at", minutes: 20)
            try backdate("renewed_at", minutes: 20)
            #expect(try await store.renewIdempotencyKey(tenantId: tenant.id, key: "k", owner: owner))
            #expect(try await store.beginIdempotentRequest(tenantId: tenant.id, key: "k", fingerprint: print, owner: retry) == .inProgress)
            // Nobody else can renew, finish or release it.
            #expect(try await store.renewIdempotencyKey(tenantId: tenant.id, key: "k", owner: retry) == false)
            #expect(
                try await store.finishIdempotentRequest(tenantId: tenant.id, key: "k", owner: retry, status: 201, body: "{\"x\":2}", location: nil)
                    == false)
            try await store.releaseIdempotencyKey(tenantId: tenant.id, key: "k", owner: retry)
            #expect(try await store.beginIdempotentRequest(tenantId: tenant.id, key: "k", fingerprint: print, owner: retry) == .inProgress)
            #expect(
                try await store.finishIdempotentRequest(tenantId: tenant.id, key: "k", owner: owner, status: 201, body: "{\"x\":1}", location: "/a"))
            #expect(
                try await store.beginIdempotentRequest(tenantId: tenant.id, key: "k", fingerprint: print, owner: retry)
                    == .replay(status: 201, body: "{\"x\":1}", location: "/a"))

            // An owner that stopped renewing (stalled past the window) lost its key to a retry: it can no longer
            // renew or finish it, so it cannot overwrite the retry's response.
            #expect(try await store.beginIdempotentRequest(tenantId: tenant.id, key: "k2", fingerprint: print, owner: owner) == .proceed)
            _ = try server.runPSQL(
                url: url, sql: "UPDATE api_idempotency_keys SET renewed_at = now() - interval '2 minutes' WHERE idempotency_key = 'k2'")
            #expect(try await store.beginIdempotentRequest(tenantId: tenant.id, key: "k2", fingerprint: print, owner: retry) == .proceed)
            #expect(try await store.renewIdempotencyKey(tenantId: tenant.id, key: "k2", owner: owner) == false)
            #expect(
                try await store.finishIdempotentRequest(tenantId: tenant.id, key: "k2", owner: owner, status: 201, body: "{}", location: nil) == false
            )
            try await store.releaseIdempotencyKey(tenantId: tenant.id, key: "k2", owner: owner)
            #expect(try await store.beginIdempotentRequest(tenantId: tenant.id, key: "k2", fingerprint: print, owner: UUID()) == .inProgress)
        }
    }
}

/// Storage whose `put` waits until the test opens it: an upload to slow storage.
final class HeldUploadStore: ObjectStore, @unchecked Sendable {
    let inner: LocalDirectoryStore
    private let lock = NSLock()
    private var held = true
    private var puts = 0
    private var waiting = 0
    init(_ inner: LocalDirectoryStore) { self.inner = inner }
    var counts: (puts: Int, waiting: Int) { lock.withLock { (puts, waiting) } }
    func open() { lock.withLock { held = false } }
    func put(localPath: String, key: String, contentType: String) async throws {
        lock.withLock {
            puts += 1
            waiting += 1
        }
        defer { lock.withLock { waiting -= 1 } }
        while lock.withLock({ held }) { try await Task.sleep(for: .milliseconds(20)) }
        try await inner.put(localPath: localPath, key: key, contentType: contentType)
    }
    func get(key: String, to localPath: String) async throws { try await inner.get(key: key, to: localPath) }
    func delete(key: String) async throws { try await inner.delete(key: key) }
    func exists(key: String) async throws -> Bool { try await inner.exists(key: key) }
    func presignedGetURL(key: String, expiresIn: Int) async throws -> URL? { nil }
}

/// Through the API: an upload whose storage takes longer than several abandonment windows keeps its key (the
/// request renews it), so a retry with the key waits for it and replays its answer instead of uploading again.
@Suite struct IdempotentSlowRequestTests {

    @Test func aRetryDuringASlowUploadReplaysItInsteadOfUploadingAgain() async throws {
        final class Box: @unchecked Sendable {
            let lock = NSLock()
            var store: HeldUploadStore?
        }
        let held = Box()
        try await withAPI(
            configure: { $0.idempotencyRenewalSeconds = 0.1 }, policy: QueuePolicy(idempotencyAbandonedAfter: 1),
            storage: { local in
                let store = HeldUploadStore(local)
                held.lock.withLock { held.store = store }
                return store
            }
        ) { api in
            let storage = try #require(held.lock.withLock { held.store })
            var headers = HTTPFields()
            headers[.idempotencyKey] = "slow-upload-\(UUID().uuidString)"
            let image = TestImages.jpegHeader(width: 800, height: 1200)
            let first = Task { try await api.upload(image, type: "image", filename: "p.jpg", key: api.keyA, headers: headers) }
            #expect(try await eventually(timeout: 60) { storage.counts.waiting == 1 })
            // Three abandonment windows pass while the upload is held.
            let start = Date()
            #expect(try await eventually(timeout: 60) { Date().timeIntervalSince(start) > 3 })
            let retry = Task { try await api.upload(image, type: "image", filename: "p.jpg", key: api.keyA, headers: headers) }
            try await Task.sleep(for: .milliseconds(300))
            storage.open()
            let (a, b) = (try await first.value, try await retry.value)
            #expect(a.status == .created && b.status == .created, "\(String(buffer: a.body)) / \(String(buffer: b.body))")
            #expect(b.headers[.idempotentReplayed] == "true", "the retry replays the first answer")
            #expect(try jsonObject(a)["assetId"] as? String == jsonObject(b)["assetId"] as? String)
            #expect(storage.counts.puts == 1, "one upload")
            #expect(try await api.store.assets(tenantId: api.tenantA).count == 1, "one asset")
        }
    }
}

/// The shared input rules, as the API and the planner apply them.
@Suite struct InputRulesTests {
    @Test func captionsCountGraphemesAndCodePointsAndRefuseControls() {
        #expect(InputRules.captionProblem("Summer sale 🔥\n-30%") == nil)
        #expect(InputRules.captionProblem(String(repeating: "👍🏽", count: 500)) == nil)  // 500 graphemes, 1000 scalars
        #expect(InputRules.captionProblem(String(repeating: "x", count: 501))?.contains("501 characters") == true)
        let marks = "a" + String(repeating: "\u{0301}", count: 10_000)
        #expect(marks.count == 1)
        #expect(InputRules.captionProblem(marks)?.contains("10001 code points") == true)
        for bad in ["a\rb", "a\tb", "a\u{0}b", "a\u{7F}b", "next\u{85}line", "csi\u{9B}", "\u{80}"] {
            #expect(InputRules.captionProblem(bad)?.contains("control") == true, "\(bad.debugDescription)")
            #expect(InputRules.captionLengthProblem(bad) == nil, "the planner leaves controls to the caption renderer")
        }
        #expect(InputRules.captionLengthProblem(marks) != nil)
    }

    @Test func durationsAreFiniteAndInRange() {
        for ok in [0.5, 1, 59.99, 60] { #expect(InputRules.durationProblem(ok, maximum: 60) == nil, "\(ok)") }
        for bad in [0.49, 0.1, 5e-324, 0, -1, 60.01, .infinity, .nan] {
            #expect(InputRules.durationProblem(bad, maximum: 60) != nil, "\(bad)")
        }
    }

    @Test func imagesHaveAMinimumSize() {
        #expect(InputRules.imageSizeProblem(width: 16, height: 16) == nil)
        #expect(InputRules.imageSizeProblem(width: 1, height: 1000) != nil)
        #expect(InputRules.imageSizeProblem(width: 1000, height: 15) != nil)
    }
}

/// Log lines of a request carry its `X-Request-Id` as `request_id`.
@Suite struct RequestIdLogTests {
    final class Recorder: @unchecked Sendable {
        let lock = NSLock()
        var lines: [(message: String, metadata: Logger.Metadata)] = []
        func add(_ message: String, _ metadata: Logger.Metadata) { lock.withLock { lines.append((message, metadata)) } }
        var all: [(message: String, metadata: Logger.Metadata)] { lock.withLock { lines } }
    }

    struct Handler: LogHandler {
        let recorder: Recorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(
            level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
            file: String, function: String, line: UInt
        ) {
            recorder.add(message.description, metadata.merging(extra ?? [:]) { _, new in new })
        }
    }

    @Test func requestLogLinesCarryTheRequestId() async throws {
        try await withAPI { api in
            let recorder = Recorder()
            let logged = JobAPIServer(
                configuration: api.configuration, jobStore: api.store, objectStore: api.objectStore, templates: stubTemplates,
                logger: Logger(label: "rendc.test.logs") { _ in Handler(recorder: recorder) })
            let image = try await api.uploadImage(key: api.keyA)
            try await logged.makeApplication().test(.router) { client in
                var headers = HTTPFields()
                headers[.authorization] = "Bearer \(api.keyA)"
                headers[.contentType] = "application/json"
                headers[.requestId] = "trace-me-123"
                let response = try await client.executeRequest(
                    uri: "/api/v1/video/process", method: .post, headers: headers,
                    body: ByteBuffer(string: "{\"imageIds\":[\"\(image)\"]}"))
                #expect(response.status == .accepted)
            }
            let mine = recorder.all.filter { $0.metadata["request_id"]?.description == "trace-me-123" }
            #expect(mine.contains { $0.message == "job submitted" })
            #expect(mine.contains { $0.message == "request" && $0.metadata["http.status"]?.description == "202" })
            #expect(!recorder.all.contains { $0.metadata.values.contains { "\($0)".contains(api.keyA) } }, "no API key in logs")
        }
    }
}

/// The database's answer to an idempotent write is lost after the commit: writes that record an idempotent answer
/// are done, then throw `unavailable` (a timeout after the commit looks exactly so to the API).
struct AnswerLostAfterWrite: APIStore {
    let inner: QueueAPIStore

    init(_ inner: QueueAPIStore) { self.inner = inner }

    func submit(_ job: JobSubmission, id: UUID, recording: IdempotentResponse?) async throws {
        try await inner.submit(job, id: id, recording: recording)
        if recording != nil { throw JobQueueError(.unavailable, "insert job: the database did not answer within 5 s") }
    }

    func insertAsset(_ asset: AssetRecord, recording: IdempotentResponse?) async throws {
        try await inner.insertAsset(asset, recording: recording)
        if recording != nil { throw JobQueueError(.unavailable, "insert asset: the database did not answer within 5 s") }
    }

    func tenant(forAPIKey key: String) async throws -> UUID? { try await inner.tenant(forAPIKey: key) }
    func tenantExists(_ id: UUID) async throws -> Bool { try await inner.tenantExists(id) }
    func webhookSecretGeneration(tenant: UUID) async throws -> Int? { try await inner.webhookSecretGeneration(tenant: tenant) }
    func rotateWebhookSecret(tenant: UUID) async throws -> Int? { try await inner.rotateWebhookSecret(tenant: tenant) }
    func assets(ids: [UUID], tenant: UUID) async throws -> [AssetRecord] { try await inner.assets(ids: ids, tenant: tenant) }
    func job(id: UUID, tenant: UUID) async throws -> JobRecord? { try await inner.job(id: id, tenant: tenant) }
    func jobs(tenant: UUID, status: String?, limit: Int, after: String?) async throws -> (jobs: [JobRecord], nextCursor: String?) {
        try await inner.jobs(tenant: tenant, status: status, limit: limit, after: after)
    }
    func cancel(id: UUID, tenant: UUID) async throws -> CancelResult { try await inner.cancel(id: id, tenant: tenant) }
    func ping() async throws { try await inner.ping() }
    func beginIdempotentRequest(tenant: UUID, key: String, fingerprint: String, owner: UUID) async throws -> IdempotencyOutcome {
        try await inner.beginIdempotentRequest(tenant: tenant, key: key, fingerprint: fingerprint, owner: owner)
    }
    func renewIdempotencyKey(tenant: UUID, key: String, owner: UUID) async throws -> Bool {
        try await inner.renewIdempotencyKey(tenant: tenant, key: key, owner: owner)
    }
    func finishIdempotentRequest(tenant: UUID, key: String, owner: UUID, response: StoredResponse) async throws -> Bool {
        try await inner.finishIdempotentRequest(tenant: tenant, key: key, owner: owner, response: response)
    }
    func releaseIdempotencyKey(tenant: UUID, key: String, owner: UUID) async throws {
        try await inner.releaseIdempotencyKey(tenant: tenant, key: key, owner: owner)
    }
    func takeRateLimitToken(bucket: String, perMinute: Int) async throws -> RateLimitOutcome {
        try await inner.takeRateLimitToken(bucket: bucket, perMinute: perMinute)
    }
}
