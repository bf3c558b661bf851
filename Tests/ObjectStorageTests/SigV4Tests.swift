import Foundation
import Testing
@testable import ObjectStorage

@Suite struct SigV4SuiteTests {
    static func request(_ vector: SigV4Vector) -> SigV4Signer.Request {
        SigV4Signer.Request(
            method: vector.method, path: vector.path, query: vector.query, headers: vector.headers,
            payloadHash: vector.payloadHash ?? SigV4Signer.hexSHA256(Data(vector.body.utf8)))
    }

    static func check(_ vector: SigV4Vector, signer: SigV4Signer, date: Date) {
        let request = request(vector)
        let canonical = signer.canonicalRequest(request)
        if let expected = vector.canonicalRequest {
            #expect(canonical == expected, "\(vector.name): canonical request")
        }
        let sts = signer.stringToSign(canonicalRequest: canonical, date: date)
        if let expected = vector.stringToSign {
            #expect(sts == expected, "\(vector.name): string to sign")
        }
        #expect(signer.authorization(for: request, date: date) == vector.authorization, "\(vector.name): authz")
    }

    @Test(arguments: SigV4Suite.vectors)
    func awsTestSuite(vector: SigV4Vector) {
        Self.check(vector, signer: SigV4Suite.signer, date: SigV4Suite.date)
    }

    @Test(arguments: SigV4Suite.vectors2011)
    func awsTestSuite2011(vector: SigV4Vector) {
        Self.check(vector, signer: SigV4Suite.signer2011, date: SigV4Suite.date2011)
    }

    @Test(arguments: S3DocExamples.vectors)
    func s3DocumentationExamples(vector: SigV4Vector) {
        Self.check(vector, signer: S3DocExamples.signer, date: S3DocExamples.date)
    }

    @Test func s3PresignedURLExample() {
        let query = S3DocExamples.signer.presignedQuery(
            method: "GET", path: "/test.txt", host: "examplebucket.s3.amazonaws.com", expiresIn: 86_400,
            date: S3DocExamples.date)
        #expect("https://examplebucket.s3.amazonaws.com/test.txt?" + query == S3DocExamples.presignedURL)
        // The canonical request behind it hashes to the documented value.
        let request = SigV4Signer.Request(
            method: "GET", path: "/test.txt",
            query: [
                .init("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                .init("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"),
                .init("X-Amz-Date", "20130524T000000Z"), .init("X-Amz-Expires", "86400"),
                .init("X-Amz-SignedHeaders", "host"),
            ],
            headers: [.init("host", "examplebucket.s3.amazonaws.com")], payloadHash: "UNSIGNED-PAYLOAD")
        let canonical = S3DocExamples.signer.canonicalRequest(request)
        #expect(SigV4Signer.hexSHA256(Data(canonical.utf8)) == S3DocExamples.presignedCanonicalRequestHash)
    }

    @Test func signingKeyDependsOnEveryScopePart() {
        let base = SigV4Suite.signer
        let key = Data(base.signingKey(date: SigV4Suite.date).withUnsafeBytes { Data($0) })
        var otherRegion = base
        otherRegion.region = "eu-west-1"
        var otherService = base
        otherService.service = "s3"
        let nextDay = SigV4Suite.date.addingTimeInterval(86_400)
        for other in [
            otherRegion.signingKey(date: SigV4Suite.date), otherService.signingKey(date: SigV4Suite.date),
            base.signingKey(date: nextDay),
        ] {
            #expect(other.withUnsafeBytes { Data($0) } != key)
        }
        // Within the same day the key does not change.
        #expect(base.signingKey(date: SigV4Suite.date.addingTimeInterval(3600)).withUnsafeBytes { Data($0) } == key)
    }

    @Test func s3PathsAreNotNormalized() {
        let s3 = SigV4Signer(credentials: SigV4Suite.credentials, region: "us-east-1", service: "s3")
        #expect(s3.pathCanonicalization == .s3)
        #expect(s3.canonicalURI("/bucket/a//b/./c/../d e+f") == "/bucket/a//b/./c/../d%20e%2Bf")
        #expect(SigV4Suite.signer.canonicalURI("/a//b/./c/../d") == "/a/b/d")
    }

    @Test(arguments: [
        (0.0, "19700101T000000Z"), (1_440_938_160, "20150830T123600Z"), (951_782_400, "20000229T000000Z"),
        (4_102_444_799, "20991231T235959Z"), (1_369_353_600.75, "20130524T000000Z"),
    ])
    func dateFormatting(seconds: Double, expected: String) {
        let date = SigV4Date(Date(timeIntervalSince1970: seconds))
        #expect(date.timestamp == expected)
        #expect(date.day == String(expected.prefix(8)))
    }

    @Test func credentialsDescriptionHidesSecrets() {
        let credentials = SigV4Signer.Credentials(
            accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "tok3n")
        for text in [credentials.description, "\(credentials)", String(reflecting: credentials)] {
            #expect(!text.contains("wJalr"))
            #expect(!text.contains("tok3n"))
            #expect(text.contains("AKIDEXAMPLE"))
        }
    }

    @Test func signedHeadersAddDateTokenAndAuthorization() {
        var signer = SigV4Suite.signer
        signer.credentials.sessionToken = "token"
        let headers = signer.signedHeaders(
            for: .init(method: "GET", path: "/", headers: [SigV4Suite.host], payloadHash: SigV4Signer.emptyPayloadHash),
            date: SigV4Suite.date)
        let names = headers.map { $0.name.lowercased() }
        #expect(names == ["host", "x-amz-date", "x-amz-security-token", "authorization"])
        #expect(headers[1].value == "20150830T123600Z")
        #expect(headers[3].value.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"))
    }
}
