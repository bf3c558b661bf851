import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import RendcTestSupport
import Testing
@testable import ObjectStorage

/// S3Store against moto in server mode (a real S3 implementation), on 127.0.0.1 only.
@Suite(.timeLimit(.minutes(8)), .ownThreads)
struct S3StoreMotoTests {
    /// moto checks these requests' signatures (botocore's S3 signer on the server side), the access key and the
    /// IAM policy, so every operation here proves the header signing right.
    @Test func signedRoundTripSmallAndMultipart() async throws {
        let moto = try await MotoServer(enforceSignatures: true)
        defer { moto.stop() }
        try await moto.createBucket("rendc-media")
        let logs = LogCapture()
        let store = try S3Store(configuration: moto.configuration(bucket: "rendc-media"), logger: logs.logger())
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }

        // Small object, single PUT.
        let small = patternedData(count: 100_000, seed: 7)
        try await store.put(localPath: try dir.write("small.jpg", small), key: "thumbnails/t1/j1.jpg", contentType: "image/jpeg")
        #expect(try await store.exists(key: "thumbnails/t1/j1.jpg"))
        try await store.get(key: "thumbnails/t1/j1.jpg", to: dir.file("back/small.jpg"))
        #expect(try dir.read(dir.file("back/small.jpg")) == small)

        // Larger than the part size (5 MiB): three parts, the last one short.
        let large = patternedData(count: 2 * S3Configuration.minimumPartSize + 123_457, seed: 9)
        try await store.put(localPath: try dir.write("large.mp4", large), key: "videos/t1/j1.mp4", contentType: "video/mp4")
        #expect(logs.text.contains("multipart upload started"))
        try await store.get(key: "videos/t1/j1.mp4", to: dir.file("back/large.mp4"))
        #expect(try dir.read(dir.file("back/large.mp4")) == large)
        #expect(dir.entries(dir.file("back")) == ["large.mp4", "small.jpg"])

        // A key that needs percent-encoding signs and round-trips too. (moto's own check rejects even botocore's
        // signatures for keys with '+' or non-ASCII characters, so those are covered in the presigned test.)
        let oddKey = "assets/t1/a b.png"
        try await store.put(localPath: try dir.write("odd", Data("odd".utf8)), key: oddKey, contentType: "image/png")
        try await store.get(key: oddKey, to: dir.file("back/odd"))
        #expect(try dir.read(dir.file("back/odd")) == Data("odd".utf8))

        // Replacing an object.
        try await store.put(localPath: try dir.write("small2", Data("v2".utf8)), key: "thumbnails/t1/j1.jpg", contentType: "image/jpeg")
        try await store.get(key: "thumbnails/t1/j1.jpg", to: dir.file("back/small.jpg"))
        #expect(try dir.read(dir.file("back/small.jpg")) == Data("v2".utf8))

        // Missing objects.
        #expect(try await store.exists(key: "videos/t1/none.mp4") == false)
        let missing = await #expect(throws: ObjectStoreError.self) {
            try await store.get(key: "videos/t1/none.mp4", to: dir.file("back/none"))
        }
        #expect(missing?.code == .notFound)
        #expect(missing?.description.contains("NoSuchKey") == true)
        #expect(!FileManager.default.fileExists(atPath: dir.file("back/none")))

        // Delete, and delete again.
        try await store.delete(key: "videos/t1/j1.mp4")
        #expect(try await store.exists(key: "videos/t1/j1.mp4") == false)
        try await store.delete(key: "videos/t1/j1.mp4")

        // Nothing secret was logged.
        #expect(!logs.text.contains(moto.secretKey))
    }

    @Test func wrongSecretIsRejectedWithoutLeakingIt() async throws {
        let moto = try await MotoServer(enforceSignatures: true)
        defer { moto.stop() }
        try await moto.createBucket("rendc-media")
        var configuration = moto.configuration(bucket: "rendc-media")
        let wrongSecret = "not-the-right-secret-Zq9"
        configuration.credentials.secretKey = wrongSecret
        let logs = LogCapture()
        let store = try S3Store(configuration: configuration, logger: logs.logger())
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let error = await #expect(throws: ObjectStoreError.self) {
            try await store.put(localPath: try dir.write("a", Data("x".utf8)), key: "videos/a.mp4", contentType: "video/mp4")
        }
        #expect(error?.code == .accessDenied)
        #expect(error?.description.contains("SignatureDoesNotMatch") == true, "\(String(describing: error))")
        #expect(error?.description.contains(wrongSecret) == false)
        #expect(!logs.text.contains(wrongSecret))
        // 403 is not retried: one attempt, no retry warning.
        #expect(!logs.text.contains("retrying"))
    }

    /// moto does not check presigned (query-string) signatures: with authentication on it fails them with a 500,
    /// with it off it serves any URL. So the fetch is checked against moto with authentication off, and the
    /// signature, expiry and tampering against botocore's own S3 query signer (an independent implementation).
    @Test func presignedGetIsFetchableAndVerifiable() async throws {
        let moto = try await MotoServer(enforceSignatures: false)
        defer { moto.stop() }
        try await moto.createBucket("rendc-media")
        let store = try S3Store(configuration: moto.configuration(bucket: "rendc-media"), logger: Logger(label: "test"))
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let payload = patternedData(count: 50_000, seed: 3)
        let key = "videos/tenant 1/jöb.mp4"
        try await store.put(localPath: try dir.write("v.mp4", payload), key: key, contentType: "video/mp4")

        // Keys with '+', non-ASCII and emoji round-trip through put and get.
        let oddKey = "assets/t1/a+b ü😀.png"
        try await store.put(localPath: try dir.write("odd", Data("odd".utf8)), key: oddKey, contentType: "image/png")
        try await store.get(key: oddKey, to: dir.file("odd-back"))
        #expect(try dir.read(dir.file("odd-back")) == Data("odd".utf8))

        let url = try #require(try await store.presignedGetURL(key: key, expiresIn: 120))
        let query = url.query ?? ""
        for name in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Credential=", "X-Amz-Date=", "X-Amz-Expires=120",
            "X-Amz-SignedHeaders=host", "X-Amz-Signature=",
        ] {
            #expect(query.contains(name), "\(name) missing from \(url)")
        }
        #expect(!url.absoluteString.contains(moto.secretKey))
        let (status, body, contentType) = try await plainGET(url.absoluteString)
        #expect(status == 200)
        #expect(body == payload)
        #expect(contentType == "video/mp4")
        let oddURL = try #require(try await store.presignedGetURL(key: oddKey, expiresIn: 60))
        #expect(try await plainGET(oddURL.absoluteString).body == Data("odd".utf8))
        #expect(try await BotocoreVerifier.verify(url: oddURL.absoluteString, secret: moto.secretKey, now: Date()) == "ok")

        // botocore recomputes the same signature...
        let now = Date()
        #expect(try await BotocoreVerifier.verify(url: url.absoluteString, secret: moto.secretKey, now: now) == "ok")
        // ...and rejects a tampered one, a wrong secret, a changed key, and the URL after it expired.
        let signature = String(query.split(separator: "&").first { $0.hasPrefix("X-Amz-Signature=") }!.dropFirst(16))
        let flipped = (signature.first == "a" ? "b" : "a") + signature.dropFirst()
        let tampered = url.absoluteString.replacingOccurrences(of: signature, with: flipped)
        #expect(try await BotocoreVerifier.verify(url: tampered, secret: moto.secretKey, now: now) == "signature mismatch")
        #expect(try await BotocoreVerifier.verify(url: url.absoluteString, secret: "other", now: now) == "signature mismatch")
        let otherKey = url.absoluteString.replacingOccurrences(of: "j%C3%B6b.mp4", with: "job.mp4")
        #expect(otherKey != url.absoluteString)
        #expect(try await BotocoreVerifier.verify(url: otherKey, secret: moto.secretKey, now: now) == "signature mismatch")
        #expect(
            try await BotocoreVerifier.verify(url: url.absoluteString, secret: moto.secretKey, now: now + 121) == "expired")
    }

    @Test func presignedLifetimeIsBounded() async throws {
        let store = try S3Store(
            configuration: S3Configuration(
                endpoint: "http://127.0.0.1:9", region: "us-east-1", bucket: "rendc-media",
                credentials: .init(accessKey: "AK", secretKey: "SK")),
            logger: Logger(label: "test"))
        for bad in [0, -5, 604_801] {
            await #expect(throws: ObjectStoreError.self) { try await store.presignedGetURL(key: "a", expiresIn: bad) }
        }
        await #expect(throws: ObjectStoreError.self) { try await store.presignedGetURL(key: "../a", expiresIn: 60) }
    }
}

/// Verifies a presigned URL with botocore (installed with moto): recomputes the signature with
/// `S3SigV4QueryAuth` for the URL's own date, and checks the expiry against `now`.
enum BotocoreVerifier {
    static let script = """
        import sys, urllib.parse
        from botocore.auth import S3SigV4QueryAuth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        from datetime import datetime, timezone
        url, secret, now = sys.argv[1], sys.argv[2], float(sys.argv[3])
        parts = urllib.parse.urlsplit(url)
        params = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        given = dict(params)["X-Amz-Signature"]
        rest = [(k, v) for k, v in params if k != "X-Amz-Signature"]
        access, day, region, service, _ = dict(rest)["X-Amz-Credential"].split("/")
        stamp = dict(rest)["X-Amz-Date"]
        expires = int(dict(rest)["X-Amz-Expires"])
        auth = S3SigV4QueryAuth(Credentials(access, secret), service, region, expires=expires)
        unsigned = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path,
                                            "&".join(urllib.parse.quote(k, safe="-_.~") + "=" + urllib.parse.quote(v, safe="-_.~") for k, v in rest), ""))
        request = AWSRequest(method="GET", url=unsigned, headers={"host": parts.netloc})
        request.context["timestamp"] = stamp
        canonical = auth.canonical_request(request)
        expected = auth.signature(auth.string_to_sign(request, canonical), request)
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp()
        if expected != given:
            print("signature mismatch")
        elif now > signed_at + expires:
            print("expired")
        else:
            print("ok")
        """

    static func verify(url: String, secret: String, now: Date) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, url, secret, String(now.timeIntervalSince1970)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
