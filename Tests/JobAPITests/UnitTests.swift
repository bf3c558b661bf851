import Foundation
import ObjectStorage
import Testing

@testable import JobAPI

@Suite struct URLSignerTests {
    let signer = URLSigner(secret: Array("test-secret-0123456789".utf8))

    @Test func validSignatureVerifies() {
        let expires = Int(Date().timeIntervalSince1970) + 60
        let signature = signer.signature(key: "videos/a/b.mp4", expires: expires)
        #expect(signature.count == 64)
        #expect(signer.verify(key: "videos/a/b.mp4", expires: expires, signature: signature) == .valid)
    }

    @Test func tamperedKeyExpiryOrSignatureFails() {
        let expires = Int(Date().timeIntervalSince1970) + 60
        let signature = signer.signature(key: "videos/a/b.mp4", expires: expires)
        #expect(signer.verify(key: "videos/a/c.mp4", expires: expires, signature: signature) == .badSignature)
        #expect(signer.verify(key: "videos/a/b.mp4", expires: expires + 1, signature: signature) == .badSignature)
        var flipped = Array(signature)
        flipped[0] = flipped[0] == "0" ? "1" : "0"
        #expect(signer.verify(key: "videos/a/b.mp4", expires: expires, signature: String(flipped)) == .badSignature)
        #expect(signer.verify(key: "videos/a/b.mp4", expires: expires, signature: "zz") == .badSignature)
        #expect(signer.verify(key: "videos/a/b.mp4", expires: expires, signature: "") == .badSignature)
        let other = URLSigner(secret: Array("another-secret-0123456789".utf8))
        #expect(other.verify(key: "videos/a/b.mp4", expires: expires, signature: signature) == .badSignature)
    }

    @Test func expiredSignatureIsReportedAsExpired() {
        let expires = Int(Date().timeIntervalSince1970) - 1
        let signature = signer.signature(key: "k", expires: expires)
        #expect(signer.verify(key: "k", expires: expires, signature: signature) == .expired)
    }

    @Test func signedPathEscapesKeySegments() {
        let path = signer.signedPath(key: "videos/t/a b.mp4", expires: 100)
        #expect(path.hasPrefix("/files/videos/t/a%20b.mp4?expires=100&signature="))
    }
}

@Suite struct MediaSnifferTests {
    @Test func recognisesFormatsByMagicBytes() {
        func bytes(_ s: String, pad: Int = 16) -> [UInt8] { Array(s.utf8) + [UInt8](repeating: 0, count: pad) }
        #expect(MediaSniffer.format(of: [0xFF, 0xD8, 0xFF, 0xE0, 0, 0]) == .jpeg)
        #expect(MediaSniffer.format(of: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]) == .png)
        #expect(MediaSniffer.format(of: bytes("GIF89a")) == .gif)
        #expect(MediaSniffer.format(of: Array("RIFF".utf8) + [1, 2, 3, 4] + Array("WEBPVP8 ".utf8)) == .webp)
        #expect(MediaSniffer.format(of: Array("RIFF".utf8) + [1, 2, 3, 4] + Array("WAVEfmt ".utf8)) == .wav)
        #expect(MediaSniffer.format(of: bytes("fLaC")) == .flac)
        #expect(MediaSniffer.format(of: bytes("OggS")) == .ogg)
        #expect(MediaSniffer.format(of: bytes("ID3")) == .mp3)
        #expect(MediaSniffer.format(of: [0xFF, 0xFB, 0x90, 0x64]) == .mp3)
        #expect(MediaSniffer.format(of: [0, 0, 0, 0x20] + Array("ftypM4A ".utf8)) == .m4a)
        #expect(MediaSniffer.format(of: [0, 0, 0, 0x20] + Array("ftypisom".utf8)) == .mp4)
        #expect(MediaSniffer.format(of: [0, 0, 0, 0x14] + Array("ftypqt  ".utf8)) == .mov)
        #expect(MediaSniffer.format(of: [0x1A, 0x45, 0xDF, 0xA3, 0]) == .webm)
        #expect(MediaSniffer.format(of: Array("<?php echo 1; ?>".utf8)) == nil)
        #expect(MediaSniffer.format(of: Array("%PDF-1.7".utf8)) == nil)
        #expect(MediaSniffer.format(of: []) == nil)
        // ADTS AAC shares the sync word but has layer 00: not MP3.
        #expect(MediaSniffer.format(of: [0xFF, 0xF1, 0x50, 0x80]) == nil)
    }

    @Test func readsImageSizesFromHeaders() {
        #expect(MediaSniffer.imageSize(of: TestImages.pngHeader(width: 1234, height: 567), format: .png)! == (1234, 567))
        #expect(MediaSniffer.imageSize(of: TestImages.jpegHeader(width: 800, height: 1200, exifPadding: 70_000), format: .jpeg)! == (800, 1200))
        let gif = Array("GIF89a".utf8) + [0x40, 0x01, 0xF0, 0x00] + [UInt8](repeating: 0, count: 8)
        #expect(MediaSniffer.imageSize(of: gif, format: .gif)! == (320, 240))
        // WebP VP8X: canvas width-1 and height-1 as 24-bit little-endian numbers.
        var webp = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8X".utf8) + [10, 0, 0, 0] + [0, 0, 0, 0]
        webp += [0x1F, 0x03, 0x00, 0x57, 0x04, 0x00]  // 800 x 1112
        #expect(MediaSniffer.imageSize(of: webp, format: .webp)! == (800, 1112))
        #expect(MediaSniffer.imageSize(of: [0xFF, 0xD8, 0xFF], format: .jpeg) == nil)
        #expect(MediaSniffer.imageSize(of: Array(TestImages.pngHeader(width: 1, height: 1).prefix(20)), format: .png) == nil)
    }
}

@Suite struct MultipartParserTests {
    static let boundary = "----rendcBoundary7MA4YWxk"

    static func body(parts: [(headers: String, data: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = Array("preamble to ignore\r\n".utf8)
        for part in parts {
            out += Array("--\(boundary)\r\n\(part.headers)\r\n\r\n".utf8) + part.data + Array("\r\n".utf8)
        }
        out += Array("--\(boundary)--\r\nepilogue".utf8)
        return out
    }

    /// Feeds the body in pieces of `size` bytes and rebuilds the parts.
    static func parse(_ body: [UInt8], chunk size: Int) throws -> [(headers: [String: String], data: [UInt8])] {
        var parser = MultipartParser(boundary: boundary)
        var parts: [(headers: [String: String], data: [UInt8])] = []
        var index = 0
        while index < body.count {
            let end = min(body.count, index + size)
            for event in try parser.feed(body[index..<end]) {
                switch event {
                case .partStart(let headers): parts.append((headers, []))
                case .data(let bytes): parts[parts.count - 1].data += bytes
                case .partEnd: break
                }
            }
            index = end
        }
        try parser.finish()
        return parts
    }

    @Test func parsesPartsWhateverTheChunking() throws {
        // File data that contains CRLFs, dashes and a near-boundary, to catch boundary matching bugs.
        let tricky = Array("line1\r\n--\(Self.boundary.dropLast())X\r\n\r\n--".utf8) + (0..<300).map { UInt8($0 % 256) }
        let body = Self.body(parts: [
            ("Content-Disposition: form-data; name=\"type\"", Array("image".utf8)),
            ("Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".jpg\"\r\nContent-Type: image/jpeg", tricky),
        ])
        for size in [1, 2, 3, 7, 31, 64, 1000, body.count] {
            let parts = try Self.parse(body, chunk: size)
            #expect(parts.count == 2, "chunk \(size)")
            #expect(parts[0].data == Array("image".utf8), "chunk \(size)")
            #expect(parts[1].data == tricky, "chunk \(size)")
            #expect(parts[1].headers["content-type"] == "image/jpeg")
            let disposition = MultipartParser.dispositionParameters(parts[1].headers["content-disposition"] ?? "")
            #expect(disposition["name"] == "file")
            #expect(disposition["filename"] == "a \"b\".jpg")
        }
    }

    @Test func bodyWithoutPreambleAndEmptyPart() throws {
        var body = Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\r\n".utf8)
        body += Array("--\(Self.boundary)--".utf8)
        let parts = try Self.parse(body, chunk: 5)
        #expect(parts.count == 1)
        #expect(parts[0].data.isEmpty)
    }

    @Test func truncatedBodyIsAnError() throws {
        let body = Array(Self.body(parts: [("Content-Disposition: form-data; name=\"file\"", [1, 2, 3])]).prefix(60))
        #expect(throws: MultipartParser.ParseError.self) { _ = try Self.parse(body, chunk: 10) }
    }

    @Test func boundaryFromContentType() {
        #expect(MultipartParser.boundary(fromContentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartParser.boundary(fromContentType: "Multipart/Form-Data; charset=utf-8; boundary=\"a b\"") == "a b")
        #expect(MultipartParser.boundary(fromContentType: "application/json") == nil)
        #expect(MultipartParser.boundary(fromContentType: "multipart/form-data") == nil)
    }
}

@Suite struct RangeTests {
    @Test func parsesSingleRanges() {
        #expect(APIHandlers.parseRange("bytes=0-99", size: 1000) == .range(0...99))
        #expect(APIHandlers.parseRange("bytes=900-", size: 1000) == .range(900...999))
        #expect(APIHandlers.parseRange("bytes=-100", size: 1000) == .range(900...999))
        #expect(APIHandlers.parseRange("bytes=990-2000", size: 1000) == .range(990...999))
        #expect(APIHandlers.parseRange("bytes=1000-", size: 1000) == .unsatisfiable)
        #expect(APIHandlers.parseRange("bytes=0-1,5-6", size: 1000) == nil)
        #expect(APIHandlers.parseRange("items=0-1", size: 1000) == nil)
        #expect(APIHandlers.parseRange("bytes=5-1", size: 1000) == nil)
    }
}

@Suite struct DisplayNameTests {
    @Test func stripsPathsAndControls() {
        #expect(APIHandlers.displayName("../../etc/passwd", fallback: "x") == "passwd")
        #expect(APIHandlers.displayName("C:\\photos\\shoe.jpg", fallback: "x") == "shoe.jpg")
        #expect(APIHandlers.displayName("a\u{0}b\nc", fallback: "x") == "abc")
        #expect(APIHandlers.displayName(nil, fallback: "image.png") == "image.png")
        #expect(APIHandlers.displayName(String(repeating: "é", count: 150), fallback: "x").count == 100)
        // The column counts code points: "e" + a combining accent is one character and two code points, so 100 of
        // them are cut to 50 whole characters (it was 100 characters, 200 code points: a 500 at insert).
        let combining = APIHandlers.displayName(String(repeating: "e\u{301}", count: 100) + ".png", fallback: "x")
        #expect(combining.unicodeScalars.count == 100 && combining.count == 50)
        // C1 controls (NEL, CSI) and bidirectional overrides go, as the name field refuses them.
        #expect(APIHandlers.displayName("a\u{85}b\u{9B}[31mc\u{202E}gnp.exe", fallback: "x") == "ab[31mcgnp.exe")
    }
}

@Suite struct DuplicateKeyTests {
    /// review9: `{"imageIds":[good],"imageIds":["x"]}` was run with the first value, while a gateway parsing with
    /// last-wins saw the second.
    @Test func theFirstRepeatedKeyOfAnyObjectIsFound() {
        func first(_ text: String) -> String? { DuplicateKeys.first(in: Data(text.utf8)) }
        #expect(first(#"{"imageIds":["a"],"imageIds":["b"]}"#) == "imageIds")
        #expect(first(#"{"a":1,"\u0061":2}"#) == "a", "escapes are resolved")
        #expect(first(#"{"job":{"x":1,"y":{"z":1},"x":2}}"#) == "x", "in a nested object")
        #expect(first(#"{"a":{"b":1},"a":2}"#) == "a", "after a nested object")
        #expect(first(#"[{"a":1},{"a":2}]"#) == nil, "two objects may share keys")
        #expect(first(#"{"a":"a","b":["a","a"],"c":"\"a\""}"#) == nil, "values are not keys")
        #expect(first(#"{"a\"b":1,"a":2}"#) == nil)
        #expect(first(#"{"fields":{"price":"$9","caption":"x"},"textOverlay":"price"}"#) == nil)
    }
}
