import Foundation
@testable import ObjectStorage

/// Published SigV4 test data, copied (values only) from:
///
/// - AWS's "Signature Version 4 test suite" (aws-sig-v4-test-suite, formerly at
///   docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html; the same files ship in awslabs/aws-c-auth
///   `tests/aws-signing-test-suite/v4/*` and, as structured fixtures with the expected Authorization headers, in
///   the AWS SDK for JavaScript v3 `@aws-sdk/signature-v4` `suite.fixture`). Credentials AKIDEXAMPLE /
///   wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, region us-east-1, service "service", 2015-08-30T12:36:00Z.
///   `canonicalRequest` is the suite's `.creq`, `stringToSign` its `.sts`, `authorization` its `.authz`.
/// - The 2011 edition of the same suite as kept in boto/botocore `tests/unit/auth/aws4_testsuite/get-space.*` and
///   `get-utf8.*` (host.foo.com, service "host", 2011-09-09T23:36:00Z; paths sent already percent-encoded, so the
///   canonical URI shows AWS's double encoding).
/// - Amazon S3 API Reference, "Signature Calculations for the Authorization Header: Transferring Payload in a
///   Single Chunk" (GET Object with Range, PUT Object, GET Bucket list) and "Authenticating Requests: Using Query
///   Parameters" (presigned GET of examplebucket/test.txt), credentials AKIAIOSFODNN7EXAMPLE /
///   wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, us-east-1, 2013-05-24T00:00:00Z.
///
/// Nothing here was computed by us: a value that did not come from those sources is not in this file.
struct SigV4Vector: Sendable, CustomStringConvertible {
    var name: String
    var method: String
    var path: String
    var query: [SigV4Signer.QueryItem] = []
    var headers: [SigV4Signer.Header]
    var body: String = ""
    /// Set when the payload hash is given as a header / known value rather than computed from `body`.
    var payloadHash: String?
    var canonicalRequest: String?
    var stringToSign: String?
    var authorization: String

    var description: String { name }
}

enum SigV4Suite {
    static let credentials = SigV4Signer.Credentials(
        accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")

    static let host = SigV4Signer.Header("Host", "example.amazonaws.com")
    static let amzDate = SigV4Signer.Header("X-Amz-Date", "20150830T123600Z")
    static let empty = SigV4Signer.emptyPayloadHash
    static let scopeLines = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
    static func authz(_ signedHeaders: String, _ signature: String) -> String {
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }
    static let hostDateCreqTail = "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + empty

    static let vectors: [SigV4Vector] = [
        SigV4Vector(
            name: "get-vanilla", method: "GET", path: "/", headers: [host, amzDate],
            canonicalRequest: "GET\n/\n\n" + hostDateCreqTail,
            stringToSign: scopeLines + "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            authorization: authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")),
        SigV4Vector(
            name: "get-vanilla-empty-query-key", method: "GET", path: "/",
            query: [.init("Param1", "value1")], headers: [host, amzDate],
            canonicalRequest: "GET\n/\nParam1=value1\n" + hostDateCreqTail,
            stringToSign: scopeLines + "1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab",
            authorization: authz("host;x-amz-date", "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb")),
        SigV4Vector(
            name: "get-vanilla-query-order-key-case", method: "GET", path: "/",
            query: [.init("Param2", "value2"), .init("Param1", "value1")], headers: [host, amzDate],
            canonicalRequest: "GET\n/\nParam1=value1&Param2=value2\n" + hostDateCreqTail,
            stringToSign: scopeLines + "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
            authorization: authz("host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")),
        SigV4Vector(
            name: "get-vanilla-query-order-key", method: "GET", path: "/",
            query: [.init("Param1", "value2"), .init("Param1", "Value1")], headers: [host, amzDate],
            canonicalRequest: "GET\n/\nParam1=Value1&Param1=value2\n" + hostDateCreqTail,
            stringToSign: scopeLines + "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
            authorization: authz("host;x-amz-date", "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1")),
        SigV4Vector(
            name: "get-vanilla-query-order-value", method: "GET", path: "/",
            query: [.init("Param1", "value2"), .init("Param1", "value1")], headers: [host, amzDate],
            canonicalRequest: "GET\n/\nParam1=value1&Param1=value2\n" + hostDateCreqTail,
            stringToSign: scopeLines + "c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606",
            authorization: authz("host;x-amz-date", "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694")),
        SigV4Vector(
            name: "get-vanilla-query-unreserved", method: "GET", path: "/",
            query: [
                .init(
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
            ],
            headers: [host, amzDate],
            canonicalRequest: "GET\n/\n-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
                + "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n" + hostDateCreqTail,
            stringToSign: scopeLines + "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
            authorization: authz("host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197")),
        SigV4Vector(
            name: "get-vanilla-utf8-query", method: "GET", path: "/",
            query: [.init("\u{1234}", "bar")], headers: [host, amzDate],
            canonicalRequest: "GET\n/\n%E1%88%B4=bar\n" + hostDateCreqTail,
            stringToSign: scopeLines + "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
            authorization: authz("host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04")),
        SigV4Vector(
            name: "get-header-key-duplicate", method: "GET", path: "/",
            headers: [
                host, .init("My-Header1", "value2"), .init("My-Header1", "value2"),
                .init("My-Header1", "value1"), amzDate,
            ],
            canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\n"
                + "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" + empty,
            stringToSign: scopeLines + "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
            authorization: authz(
                "host;my-header1;x-amz-date", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea")),
        SigV4Vector(
            name: "get-header-value-order", method: "GET", path: "/",
            headers: [
                host, .init("My-Header1", "value4"), .init("My-Header1", "value1"),
                .init("My-Header1", "value3"), .init("My-Header1", "value2"), amzDate,
            ],
            canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value4,value1,value3,value2\n"
                + "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" + empty,
            stringToSign: scopeLines + "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
            authorization: authz(
                "host;my-header1;x-amz-date", "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01")),
        SigV4Vector(
            name: "get-header-value-trim", method: "GET", path: "/",
            headers: [host, .init("My-Header1", " value1"), .init("My-Header2", " \"a   b   c\""), amzDate],
            canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
                + "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n" + empty,
            stringToSign: scopeLines + "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
            authorization: authz(
                "host;my-header1;my-header2;x-amz-date",
                "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")),
        SigV4Vector(
            name: "get-unreserved", method: "GET",
            path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", headers: [host, amzDate],
            canonicalRequest: "GET\n/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n\n"
                + hostDateCreqTail,
            stringToSign: scopeLines + "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
            authorization: authz("host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f")),
        SigV4Vector(
            name: "get-utf8", method: "GET", path: "/\u{1234}", headers: [host, amzDate],
            canonicalRequest: "GET\n/%E1%88%B4\n\n" + hostDateCreqTail,
            stringToSign: scopeLines + "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
            authorization: authz("host;x-amz-date", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85")),
        // normalize-path/*
        SigV4Vector(
            name: "normalize-path/get-space", method: "GET", path: "/example space/", headers: [host, amzDate],
            canonicalRequest: "GET\n/example%20space/\n\n" + hostDateCreqTail,
            stringToSign: scopeLines + "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
            authorization: authz("host;x-amz-date", "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741")),
        SigV4Vector(
            name: "normalize-path/get-relative", method: "GET", path: "/example/..", headers: [host, amzDate],
            canonicalRequest: "GET\n/\n\n" + hostDateCreqTail,
            stringToSign: scopeLines + "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            authorization: authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")),
        SigV4Vector(
            name: "normalize-path/get-relative-relative", method: "GET", path: "/example1/example2/../..",
            headers: [host, amzDate],
            canonicalRequest: "GET\n/\n\n" + hostDateCreqTail,
            stringToSign: scopeLines + "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            authorization: authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")),
        SigV4Vector(
            name: "normalize-path/get-slash", method: "GET", path: "//", headers: [host, amzDate],
            canonicalRequest: "GET\n/\n\n" + hostDateCreqTail,
            stringToSign: scopeLines + "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            authorization: authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")),
        SigV4Vector(
            name: "normalize-path/get-slash-dot-slash", method: "GET", path: "/./", headers: [host, amzDate],
            canonicalRequest: "GET\n/\n\n" + hostDateCreqTail,
            stringToSign: scopeLines + "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            authorization: authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")),
        SigV4Vector(
            name: "normalize-path/get-slash-pointless-dot", method: "GET", path: "/./example",
            headers: [host, amzDate],
            canonicalRequest: "GET\n/example\n\n" + hostDateCreqTail,
            stringToSign: scopeLines + "214d50c111a8edc4819da6a636336472c916b5240f51e9a51b5c3305180cf702",
            authorization: authz("host;x-amz-date", "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5")),
        SigV4Vector(
            name: "normalize-path/get-slashes", method: "GET", path: "//example//", headers: [host, amzDate],
            canonicalRequest: "GET\n/example/\n\n" + hostDateCreqTail,
            stringToSign: scopeLines + "cb96b4ac96d501f7c5c15bc6d67b3035061cfced4af6585ad927f7e6c985c015",
            authorization: authz("host;x-amz-date", "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84")),
        // post-*
        SigV4Vector(
            name: "post-vanilla", method: "POST", path: "/", headers: [host, amzDate],
            canonicalRequest: "POST\n/\n\n" + hostDateCreqTail,
            stringToSign: scopeLines + "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
            authorization: authz("host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")),
        SigV4Vector(
            name: "post-vanilla-query", method: "POST", path: "/", query: [.init("Param1", "value1")],
            headers: [host, amzDate],
            canonicalRequest: "POST\n/\nParam1=value1\n" + hostDateCreqTail,
            stringToSign: scopeLines + "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
            authorization: authz("host;x-amz-date", "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11")),
        SigV4Vector(
            name: "post-header-key-sort", method: "POST", path: "/",
            headers: [host, .init("My-Header1", "value1"), amzDate],
            canonicalRequest: "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\n"
                + "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" + empty,
            stringToSign: scopeLines + "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
            authorization: authz(
                "host;my-header1;x-amz-date", "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c")),
        SigV4Vector(
            name: "post-header-value-case", method: "POST", path: "/",
            headers: [host, .init("My-Header1", "VALUE1"), amzDate],
            canonicalRequest: "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:VALUE1\n"
                + "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" + empty,
            stringToSign: scopeLines + "d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
            authorization: authz(
                "host;my-header1;x-amz-date", "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d")),
        SigV4Vector(
            name: "post-sts-token/post-sts-header-before", method: "POST", path: "/",
            headers: [
                host, amzDate,
                .init(
                    "X-Amz-Security-Token",
                    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
                ),
            ],
            stringToSign: scopeLines + "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
            authorization: authz(
                "host;x-amz-date;x-amz-security-token",
                "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")),
        SigV4Vector(
            name: "post-x-www-form-urlencoded", method: "POST", path: "/",
            headers: [.init("Content-Type", "application/x-www-form-urlencoded"), host, amzDate],
            body: "Param1=value1",
            canonicalRequest: "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
                + "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
                + "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
            authorization: authz(
                "content-type;host;x-amz-date", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")),
        SigV4Vector(
            name: "post-x-www-form-urlencoded-parameters", method: "POST", path: "/",
            headers: [.init("Content-Type", "application/x-www-form-urlencoded; charset=utf8"), host, amzDate],
            body: "Param1=value1",
            authorization: authz(
                "content-type;host;x-amz-date", "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe")),
        SigV4Vector(
            name: "post-vanilla-query-nonunreserved", method: "POST", path: "/",
            query: [.init("@#$%^", ""), .init("+", "/,?><`\";:\\|][{}")], headers: [host, amzDate],
            authorization: authz("host;x-amz-date", "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e")),
    ]

    // MARK: The 2011 edition (botocore's copy)

    static let date2011 = Date(timeIntervalSince1970: 1_315_611_360)  // 2011-09-09T23:36:00Z
    static let signer2011 = SigV4Signer(credentials: credentials, region: "us-east-1", service: "host")
    static let vectors2011: [SigV4Vector] = [
        SigV4Vector(
            name: "get-space (2011)", method: "GET", path: "/%20/foo",
            headers: [.init("Date", "Mon, 09 Sep 2011 23:36:00 GMT"), .init("Host", "host.foo.com")],
            canonicalRequest: "GET\n/%2520/foo\n\ndate:Mon, 09 Sep 2011 23:36:00 GMT\nhost:host.foo.com\n\ndate;host\n"
                + empty,
            stringToSign: "AWS4-HMAC-SHA256\n20110909T233600Z\n20110909/us-east-1/host/aws4_request\n"
                + "35975885599128f8963ce9be7219598b2b5a344321bae304529556c891e9e6ba",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, "
                + "SignedHeaders=date;host, Signature=2be9e587d1ee1f0fd02128724b86b4358ba3630d39f493b6e06610a19a50779e"),
        SigV4Vector(
            name: "get-utf8 (2011)", method: "GET", path: "/%E1%88%B4",
            headers: [.init("Date", "Mon, 09 Sep 2011 23:36:00 GMT"), .init("Host", "host.foo.com")],
            canonicalRequest: "GET\n/%25E1%2588%25B4\n\ndate:Mon, 09 Sep 2011 23:36:00 GMT\nhost:host.foo.com\n\n"
                + "date;host\n" + empty,
            stringToSign: "AWS4-HMAC-SHA256\n20110909T233600Z\n20110909/us-east-1/host/aws4_request\n"
                + "47f4456c465167f4db3490a68903fe057412e6e030de38f71d9006467eb4922a",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, "
                + "SignedHeaders=date;host, Signature=57b1eb3df3b16a8479c0097b66c0b261cfd65b829419a3f2c3d05319722490b8"),
    ]
}

/// The Amazon S3 API Reference examples.
enum S3DocExamples {
    static let credentials = SigV4Signer.Credentials(
        accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3")
    static let host = SigV4Signer.Header("Host", "examplebucket.s3.amazonaws.com")
    static let amzDate = SigV4Signer.Header("x-amz-date", "20130524T000000Z")
    static let empty = SigV4Signer.emptyPayloadHash

    static let vectors: [SigV4Vector] = [
        SigV4Vector(
            name: "S3 GET Object (Range)", method: "GET", path: "/test.txt",
            headers: [host, .init("Range", "bytes=0-9"), .init("x-amz-content-sha256", empty), amzDate],
            payloadHash: empty,
            canonicalRequest: "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
                + "x-amz-content-sha256:\(empty)\nx-amz-date:20130524T000000Z\n\n"
                + "host;range;x-amz-content-sha256;x-amz-date\n\(empty)",
            stringToSign: "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                + "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
        SigV4Vector(
            name: "S3 PUT Object", method: "PUT", path: "/test$file.text",
            headers: [
                .init("Date", "Fri, 24 May 2013 00:00:00 GMT"), host,
                .init("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
                amzDate, .init("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ],
            body: "Welcome to Amazon S3.",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
                + "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
        SigV4Vector(
            name: "S3 GET Bucket (list objects)", method: "GET", path: "/",
            query: [.init("max-keys", "2"), .init("prefix", "J")],
            headers: [host, .init("x-amz-content-sha256", empty), amzDate],
            payloadHash: empty,
            authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                + "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
    ]

    /// The presigned URL example: GET examplebucket/test.txt, valid 86400 s.
    static let presignedURL =
        "https://examplebucket.s3.amazonaws.com/test.txt"
        + "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    static let presignedCanonicalRequestHash = "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04"
}
