import Foundation
import RendcTestSupport
import Testing

/// svc12: requests the HTTP/1 parser refuses never reach the router, and Hummingbird answered them with a bare
/// `400` (no body, no `X-Request-Id`). Each is sent here as raw bytes to a real server on loopback; every answer
/// must be exactly one 400 in the documented envelope (`malformed_request`) with an `X-Request-Id`. The raw reads
/// block their thread while the server's routes need the cooperative pool: `.ownThreads`.
@Suite(.ownThreads) struct ParserErrorTests {
    struct RawResponse {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    /// The responses in `text`, in order (a trailing partial one is dropped).
    static func responses(in text: String) -> [RawResponse] {
        var rest = Substring(text)
        var all: [RawResponse] = []
        while let end = rest.range(of: "\r\n\r\n") {
            let lines = rest[..<end.lowerBound].components(separatedBy: "\r\n")
            let status = Int(lines[0].split(separator: " ").dropFirst().first ?? "") ?? 0
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            let bodyStart = end.upperBound
            let bodyEnd = rest.utf8.index(bodyStart, offsetBy: length, limitedBy: rest.utf8.endIndex) ?? rest.endIndex
            all.append(RawResponse(status: status, headers: headers, body: String(rest[bodyStart..<bodyEnd])))
            rest = rest[bodyEnd...]
        }
        return all
    }

    /// Sends `bytes` on a fresh connection and reads until the server closes it.
    static func exchange(port: Int, _ bytes: [UInt8]) throws -> [RawResponse] {
        let connection = try RawConnection(port: port)
        try connection.send(bytes: bytes)
        guard case .closed(let text) = try connection.readText(timeoutSeconds: 60) else {
            Issue.record("the server kept the connection open")
            return []
        }
        return responses(in: text)
    }

    /// Records an issue (never throws) unless `response` is one 400 in the envelope, so every case is checked.
    static func expectEnvelope(_ response: RawResponse?, _ what: String, message: String? = nil) {
        do {
            try envelope(response, what, message: message)
        } catch {
            Issue.record("\(what): \(error)")
        }
    }

    static func envelope(_ response: RawResponse?, _ what: String, message: String?) throws {
        let response = try #require(response, "\(what): no answer")
        #expect(response.status == 400, "\(what): \(response.status)")
        #expect(response.headers["content-type"] == "application/json; charset=utf-8", "\(what): \(response.headers)")
        #expect(response.headers["x-request-id"].flatMap(UUID.init(uuidString:)) != nil, "\(what): \(response.headers)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any], "\(what): body \(response.body.debugDescription)")
        #expect(object["success"] as? Bool == false, "\(what)")
        let error = try #require(object["error"] as? [String: Any], "\(what)")
        #expect(error["code"] as? String == "malformed_request", "\(what): \(error)")
        let text = error["message"] as? String ?? ""
        #expect(text.hasPrefix("the request could not be parsed: "), "\(what): \(text)")
        if let message { #expect(text.contains(message), "\(what): \(text)") }
    }

    /// svc13: `CONNECT` was answered 404 with no body (SwiftNIO's encoder writes none on any response to it); other
    /// methods the routes lack are 405 with `Allow` on an API path. Every answer is the envelope, on a real server.
    @Test func oddMethodsGetTheEnvelope() async throws {
        try await withLiveAPI(configure: { _ in }) { port, _ in
            let cases: [(request: String, status: Int, code: String, allow: String?)] = [
                ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 404, "not_found", nil),
                ("CONNECT /api/v1/video/jobs HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method_not_allowed", "GET, HEAD"),
                ("OPTIONS /api/v1/video/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, "method_not_allowed", "GET, HEAD"),
                ("OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404, "not_found", nil),
                ("TRACE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, "method_not_allowed", "GET, HEAD"),
                ("PROPFIND /api/v1/assets HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, "method_not_allowed", "POST"),
                ("PURGE /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404, "not_found", nil),
                // A token the parser does not know is refused before any route: the parse error's envelope.
                ("BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed_request", nil),
            ]
            for (request, status, code, allow) in cases {
                let what = String(request.prefix { $0 != "\r" })
                let answers = try Self.exchange(port: port, Array(request.utf8))
                #expect(answers.count == 1, "\(what): \(answers.map(\.status))")
                guard let answer = answers.first else { continue }
                #expect(answer.status == status, "\(what)")
                #expect(answer.headers["allow"] == allow, "\(what): \(answer.headers)")
                #expect(answer.headers["content-type"] == "application/json; charset=utf-8", "\(what): \(answer.headers)")
                #expect(answer.headers["x-request-id"].flatMap(UUID.init(uuidString:)) != nil, "\(what): \(answer.headers)")
                let object = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
                #expect(object?["success"] as? Bool == false, "\(what): body \(answer.body.debugDescription)")
                #expect((object?["error"] as? [String: Any])?["code"] as? String == code, "\(what): body \(answer.body.debugDescription)")
            }
        }
    }

    @Test func requestsTheParserRefusesGetTheEnvelope() async throws {
        try await withLiveAPI(configure: { _ in }) { port, api in
            let cases: [(String, String, String?)] = [
                ("a request line that is not HTTP", "GARBAGE\r\n\r\n", nil),
                (
                    "a Content-Length that is not a number",
                    "POST /api/v1/video/process HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", "Content-Length"
                ),
                (
                    "two different Content-Lengths",
                    "POST /api/v1/video/process HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", "Content-Length"
                ),
                (
                    "Content-Length with Transfer-Encoding",
                    "POST /api/v1/video/process HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                    nil
                ),
                ("a space in a header name", "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", "header"),
                ("a control character in the target", "GET /heal\u{01}thz HTTP/1.1\r\nHost: x\r\n\r\n", nil),
                (
                    "a Content-Length past 64 bits",
                    "POST /api/v1/video/process HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", "Content-Length"
                ),
                ("a folded header line (obs-fold)", "GET /healthz HTTP/1.1\r\nHost: x\r\n X-Folded: 1\r\n\r\n", "header"),
                ("a DEL in a header value", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Odd: a\u{7f}b\r\n\r\n", "header"),
                ("HTTP/3.0 in the request line", "GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n", "HTTP version"),
                ("an HTTP/2 client's preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", nil),
                (
                    "a header block over the limit",
                    "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 90 * 1024))\r\n\r\n", "too large"
                ),
            ]
            for (what, request, message) in cases {
                let answers = try Self.exchange(port: port, Array(request.utf8))
                #expect(answers.count == 1, "\(what): \(answers.map(\.status))")
                Self.expectEnvelope(answers.first, what, message: message)
            }

            // After a good request on the same connection: its answer, then the envelope, nothing more.
            let keptAlive = try Self.exchange(port: port, Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n".utf8))
            #expect(keptAlive.map(\.status) == [200, 400])
            Self.expectEnvelope(keptAlive.last, "garbage after a good request")

            // A chunked body that breaks off while the route reads it: the route's answer is the envelope, once.
            let chunked = try Self.exchange(
                port: port,
                Array(
                    ("POST /api/v1/video/process HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(api.keyA)\r\n"
                        + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{\"\r\nzz\r\n").utf8))
            #expect(chunked.count == 1, "\(chunked.map(\.status))")
            Self.expectEnvelope(chunked.first, "a broken chunked body", message: "chunked")
            // A transfer coding the parser does not know, found while the route reads the body.
            let gzip = try Self.exchange(
                port: port,
                Array(
                    ("POST /api/v1/video/process HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(api.keyA)\r\n"
                        + "Content-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n{}").utf8))
            #expect(gzip.count == 1, "\(gzip.map(\.status))")
            Self.expectEnvelope(gzip.first, "Transfer-Encoding: gzip")
        }
    }
}
