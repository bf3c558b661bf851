import Foundation
import Testing
@testable import ObjectStorage

@Suite struct S3XMLTests {
    @Test func parsesAnS3ErrorWithEntitiesAndNamespace() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Code>SignatureDoesNotMatch</Code>\
            <Message>The request signature we calculated does not match &amp; so on</Message>\
            <StringToSign>AWS4-HMAC-SHA256
            20130524T000000Z</StringToSign><RequestId>4442587FB7D0A2F9</RequestId></Error>
            """
        let document = try #require(S3XMLDocument(Data(xml.utf8)))
        #expect(document.root == "Error")
        #expect(document["Code"] == "SignatureDoesNotMatch")
        #expect(document["Message"] == "The request signature we calculated does not match & so on")
        let failure = S3Failure(status: 403, document: document, requestID: nil)
        #expect(
            failure.summary
                == "HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match & so on (request id 4442587FB7D0A2F9)")
        // What S3 echoes back (string to sign, canonical request) stays out of the error text.
        #expect(!failure.summary.contains("AWS4-HMAC-SHA256"))
        #expect(failure.code == .accessDenied)
        #expect(!failure.isRetryable)
    }

    @Test func parsesInitiateMultipartUploadResult() throws {
        let xml = """
            <InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\
            <Bucket>b</Bucket><Key>videos/a.mp4</Key><UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>\
            </InitiateMultipartUploadResult>
            """
        let document = try #require(S3XMLDocument(Data(xml.utf8)))
        #expect(document.root == "InitiateMultipartUploadResult")
        #expect(document["UploadId"] == "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA")
    }

    @Test func nonXMLBodiesAreNotDocuments() {
        #expect(S3XMLDocument(Data("<html><body>502 Bad Gateway".utf8)) == nil)
        #expect(S3XMLDocument(Data()) == nil)
        let failure = S3Failure(status: 502, document: nil, requestID: "r1")
        #expect(failure.summary == "HTTP 502 (request id r1)")
        #expect(failure.isRetryable)
    }

    @Test(arguments: [
        (500, "InternalError", true), (503, "SlowDown", true), (400, "RequestTimeout", true), (429, "", true),
        (404, "NoSuchKey", false), (403, "AccessDenied", false), (400, "InvalidPart", false),
    ])
    func retryClassification(status: Int, code: String, retryable: Bool) throws {
        let xml = "<Error><Code>\(code)</Code><Message>m</Message></Error>"
        let failure = S3Failure(status: UInt(status), document: S3XMLDocument(Data(xml.utf8)), requestID: nil)
        #expect(failure.isRetryable == retryable)
    }

    @Test func escapesTextForCompleteMultipartUpload() {
        #expect(S3XMLDocument.escape("\"etag\"<&>'") == "&quot;etag&quot;&lt;&amp;&gt;&apos;")
    }
}
