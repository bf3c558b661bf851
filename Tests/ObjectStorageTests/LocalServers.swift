import AsyncHTTPClient
import Foundation
import NIOCore
@testable import ObjectStorage
import RendcTestSupport
#if canImport(Glibc)
import Glibc
#endif

struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A Python helper process on 127.0.0.1 that dies with the test process (a watchdog thread exits when its parent
/// changes), so a crashed test run leaves no server behind.
final class PythonServer: @unchecked Sendable {
    let port: Int
    let process: Process
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Runs `script` (Python source) with `PORT` in the environment; waits until GET `readyPath` answers.
    init(
        script: String, environment: [String: String] = [:], readyPath: String = "/", timeout: Double = 60
    )
        async throws
    {
        port = try freeLocalPort()
        let watchdog = """
            import os, signal, sys, threading, time
            # Threads of the test process block signals, and a spawned child inherits that mask: unblock SIGTERM.
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
            _parent = os.getppid()
            def _watch():
                while True:
                    if os.getppid() != _parent:
                        os._exit(0)
                    time.sleep(0.5)
            threading.Thread(target=_watch, daemon=True).start()

            """
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", watchdog + script]
        var env = ProcessInfo.processInfo.environment
        env["PORT"] = String(port)
        for (name, value) in environment { env[name] = value }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()

        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if !process.isRunning {
                throw TestSetupError("python helper exited with \(process.terminationStatus) before answering")
            }
            var request = HTTPClientRequest(url: baseURL + readyPath)
            request.method = .GET
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)) {
                _ = try? await response.body.collect(upTo: 1 << 20)
                break
            }
            if Date() > deadline {
                stop()
                throw TestSetupError("python helper did not answer on port \(port) within \(timeout) s")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// SIGTERM, then SIGKILL if the helper is still there after 5 s.
    func stop() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
            while process.isRunning { usleep(20_000) }
        }
    }

    deinit { stop() }
}

/// moto's S3 (and IAM) in server mode. With `enforceSignatures`, moto checks every header-signed request
/// (signature, access key and IAM policy) after an IAM user with an access key and an `s3:*` policy is created.
final class MotoServer: Sendable {
    let server: PythonServer
    let accessKey: String
    let secretKey: String
    var endpoint: String { server.baseURL }

    static let script = """
        import os
        from moto.server import main
        main(["-H", "127.0.0.1", "-p", os.environ["PORT"]])
        """

    init(enforceSignatures: Bool) async throws {
        // moto authenticates requests after INITIAL_NO_AUTH_ACTION_COUNT actions: the three IAM calls below.
        server = try await PythonServer(
            script: Self.script,
            environment: enforceSignatures ? ["INITIAL_NO_AUTH_ACTION_COUNT": "3"] : [:],
            readyPath: "/moto-api/")
        guard enforceSignatures else {
            accessKey = "AKIAIOSFODNN7EXAMPLE"
            secretKey = "moto-does-not-check-this-secret"
            return
        }
        do {
            let endpoint = server.baseURL
            _ = try await Self.iam(endpoint, ["Action": "CreateUser", "UserName": "rendc"])
            let created = try await Self.iam(endpoint, ["Action": "CreateAccessKey", "UserName": "rendc"])
            guard let id = Self.element("AccessKeyId", in: created), let secret = Self.element("SecretAccessKey", in: created)
            else { throw TestSetupError("CreateAccessKey answer without keys: \(created)") }
            let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
            _ = try await Self.iam(
                endpoint,
                ["Action": "PutUserPolicy", "UserName": "rendc", "PolicyName": "s3", "PolicyDocument": policy])
            accessKey = id
            secretKey = secret
        } catch {
            server.stop()
            throw error
        }
    }

    func stop() { server.stop() }

    func configuration(bucket: String, partSize: Int = S3Configuration.minimumPartSize) -> S3Configuration {
        S3Configuration(
            endpoint: endpoint, region: "us-east-1", bucket: bucket,
            credentials: .init(accessKey: accessKey, secretKey: secretKey), forcePathStyle: true,
            partSize: partSize, maxAttempts: 3, initialBackoff: .milliseconds(20), requestTimeout: .seconds(60))
    }

    /// Creates `bucket` with a signed request (moto routes requests by the signature's service).
    func createBucket(_ bucket: String) async throws {
        let signer = SigV4Signer(
            credentials: .init(accessKey: accessKey, secretKey: secretKey), region: "us-east-1", service: "s3")
        let host = "127.0.0.1:\(server.port)"
        let headers = signer.signedHeaders(
            for: .init(
                method: "PUT", path: "/\(bucket)",
                headers: [.init("Host", host), .init("x-amz-content-sha256", SigV4Signer.emptyPayloadHash)],
                payloadHash: SigV4Signer.emptyPayloadHash),
            date: Date())
        var request = HTTPClientRequest(url: "\(endpoint)/\(bucket)")
        request.method = .PUT
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            throw TestSetupError("CreateBucket: HTTP \(response.status.code) \(String(buffer: body))")
        }
    }

    /// An IAM query-protocol call (form POST), signed for service "iam" so moto routes it.
    static func iam(_ endpoint: String, _ parameters: [String: String]) async throws -> String {
        let form = (parameters.merging(["Version": "2010-05-08"]) { a, _ in a })
            .map { "\(SigV4Signer.uriEncode($0.key, encodeSlash: true))=\(SigV4Signer.uriEncode($0.value, encodeSlash: true))" }
            .sorted().joined(separator: "&")
        let body = Data(form.utf8)
        let host = String(endpoint.dropFirst("http://".count))
        let signer = SigV4Signer(
            credentials: .init(accessKey: "AKIDBOOTSTRAP", secretKey: "bootstrap"), region: "us-east-1",
            service: "iam")
        let headers = signer.signedHeaders(
            for: .init(
                method: "POST", path: "/",
                headers: [.init("Host", host), .init("Content-Type", "application/x-www-form-urlencoded")],
                payloadHash: SigV4Signer.hexSHA256(body)),
            date: Date())
        var request = HTTPClientRequest(url: endpoint + "/")
        request.method = .POST
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .ok else {
            throw TestSetupError("IAM \(parameters["Action"] ?? ""): HTTP \(response.status.code) \(text)")
        }
        return text
    }

    static func element(_ name: String, in xml: String) -> String? {
        guard let start = xml.range(of: "<\(name)>"), let end = xml.range(of: "</\(name)>", range: start.upperBound..<xml.endIndex)
        else { return nil }
        return String(xml[start.upperBound..<end.lowerBound])
    }
}

/// Fetches a URL with a plain HTTP client (no signing), as a browser would.
func plainGET(_ url: String) async throws -> (status: UInt, body: Data, contentType: String?) {
    var request = HTTPClientRequest(url: url)
    request.method = .GET
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let body = try await response.body.collect(upTo: 64 << 20)
    return (response.status.code, Data(body.readableBytesView), response.headers.first(name: "Content-Type"))
}
