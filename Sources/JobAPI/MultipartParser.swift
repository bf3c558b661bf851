import Foundation

/// An incremental `multipart/form-data` parser (RFC 7578): bytes go in as they arrive, events come out, so a
/// 100 MB upload streams to disk instead of being held in memory.
struct MultipartParser {
    enum Event: Equatable {
        /// A part starts; headers are lower-cased names.
        case partStart(headers: [String: String])
        case data([UInt8])
        case partEnd
    }

    struct ParseError: Error, Equatable, CustomStringConvertible {
        var message: String
        var description: String { "multipart body: \(message)" }
    }

    private enum State {
        case preamble
        case afterBoundary
        case headers
        case body
        case done
    }

    private static let maxHeaderBytes = 16 * 1024
    /// Transport padding (spaces, tabs) allowed after a boundary before its CRLF.
    private static let maxPaddingBytes = 64
    /// A preamble before the first boundary (which clients do not send) is limited too.
    private static let maxPreambleBytes = 16 * 1024

    private let dashBoundary: [UInt8]  // "--boundary"
    private let delimiter: [UInt8]  // "\r\n--boundary"
    private var state = State.preamble
    private var buffer: [UInt8] = []
    private var atBodyStart = true
    /// Where the next search in `buffer` resumes, so no byte is examined again on the next feed.
    private var scanFrom = 0
    private var paddingSeen = 0
    private var preambleSeen = 0

    /// Bytes examined by the parser's scans so far: at most about twice the bytes fed (a boundary has one CR, so
    /// a partial delimiter match never overlaps the next candidate). Tests assert this to prove linear time.
    private(set) var bytesScanned = 0
    /// The most bytes the parser has held at once (bounded by the header limit plus one chunk).
    private(set) var bufferHighWater = 0

    init(boundary: String) {
        dashBoundary = Array("--\(boundary)".utf8)
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    var isComplete: Bool { if case .done = state { true } else { false } }

    /// The boundary parameter of a `multipart/form-data` Content-Type, or nil. The boundary must be 1-70 of the
    /// characters RFC 2046 allows (so it never holds CR or LF).
    static func boundary(fromContentType contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = parts.first, first.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parts.dropFirst() {
            guard let eq = parameter.firstIndex(of: "=") else { continue }
            let name = parameter[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            var value = parameter[parameter.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            let allowed = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ".utf8)
            if name == "boundary", !value.isEmpty, value.utf8.count <= 70, value.utf8.allSatisfy(allowed.contains),
                !value.hasSuffix(" ")
            {
                return value
            }
        }
        return nil
    }

    /// Feeds more bytes; returns the events they complete.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [Event] {
        buffer.append(contentsOf: bytes)
        bufferHighWater = max(bufferHighWater, buffer.count)
        var events: [Event] = []
        var consumed = 0
        defer {
            if consumed > 0 {
                buffer.removeFirst(consumed)
                scanFrom = max(0, scanFrom - consumed)
            }
        }
        while true {
            switch state {
            case .done:
                consumed = buffer.count  // epilogue is ignored
                return events
            case .preamble:
                // The body may start directly with "--boundary" or after a preamble ending in CRLF.
                if atBodyStart {
                    guard buffer.count >= dashBoundary.count else { return events }
                    atBodyStart = false
                    bytesScanned += dashBoundary.count
                    if buffer[0..<dashBoundary.count].elementsEqual(dashBoundary) {
                        consumed = dashBoundary.count
                        state = .afterBoundary
                        continue
                    }
                }
                guard let found = search(delimiter, from: max(consumed, scanFrom)) else {
                    let keep = max(consumed, buffer.count - (delimiter.count - 1))
                    preambleSeen += keep - consumed
                    if preambleSeen > Self.maxPreambleBytes { throw ParseError(message: "no boundary at the start of the body") }
                    consumed = keep
                    scanFrom = keep
                    return events
                }
                consumed = found + delimiter.count
                scanFrom = consumed
                state = .afterBoundary
                paddingSeen = 0
            case .afterBoundary:
                guard buffer.count - consumed >= 2 else { return events }
                let next = (buffer[consumed], buffer[consumed + 1])
                bytesScanned += 2
                if paddingSeen == 0, next == (UInt8(ascii: "-"), UInt8(ascii: "-")) {
                    consumed += 2
                    state = .done
                    continue
                }
                // Transport padding (spaces/tabs) may precede the CRLF: consumed as it is seen, a few bytes at most.
                var i = consumed
                while i < buffer.count, buffer[i] == UInt8(ascii: " ") || buffer[i] == UInt8(ascii: "\t") {
                    i += 1
                    paddingSeen += 1
                    bytesScanned += 1
                    if paddingSeen > Self.maxPaddingBytes { throw ParseError(message: "malformed boundary line") }
                }
                consumed = i
                scanFrom = i
                guard buffer.count - i >= 2 else { return events }
                guard buffer[i] == 13, buffer[i + 1] == 10 else { throw ParseError(message: "malformed boundary line") }
                consumed = i + 2
                scanFrom = consumed
                state = .headers
            case .headers:
                // A part with no headers at all starts with an immediate CRLF.
                if buffer.count - consumed >= 2, buffer[consumed] == 13, buffer[consumed + 1] == 10 {
                    consumed += 2
                    scanFrom = consumed
                    events.append(.partStart(headers: [:]))
                    state = .body
                    continue
                }
                guard let end = search([13, 10, 13, 10], from: max(consumed, scanFrom)) else {
                    if buffer.count - consumed > Self.maxHeaderBytes { throw ParseError(message: "part headers too long") }
                    scanFrom = max(consumed, buffer.count - 3)
                    return events
                }
                if end - consumed > Self.maxHeaderBytes { throw ParseError(message: "part headers too long") }
                let text = String(decoding: buffer[consumed..<end], as: UTF8.self)
                var headers: [String: String] = [:]
                for line in text.split(separator: "\r\n") where !line.isEmpty {
                    guard let colon = line.firstIndex(of: ":") else { throw ParseError(message: "malformed part header") }
                    let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                    headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                consumed = end + 4
                scanFrom = consumed
                events.append(.partStart(headers: headers))
                state = .body
            case .body:
                if let found = search(delimiter, from: max(consumed, scanFrom)) {
                    if found > consumed { events.append(.data(Array(buffer[consumed..<found]))) }
                    events.append(.partEnd)
                    consumed = found + delimiter.count
                    scanFrom = consumed
                    state = .afterBoundary
                    paddingSeen = 0
                    continue
                }
                // Keep the tail that could be the start of a delimiter split across chunks.
                let safeEnd = buffer.count - (delimiter.count - 1)
                if safeEnd > consumed {
                    events.append(.data(Array(buffer[consumed..<safeEnd])))
                    consumed = safeEnd
                }
                scanFrom = max(consumed, scanFrom)
                return events
            }
        }
    }

    /// Call when the body ends; throws when the closing boundary never came.
    func finish() throws {
        guard isComplete else { throw ParseError(message: "body ended before the closing boundary") }
    }

    /// Searches `buffer` from `start`, counting the bytes examined.
    private mutating func search(_ needle: [UInt8], from start: Int) -> Int? {
        let (found, examined) = Self.search(needle, in: buffer, from: start)
        bytesScanned += examined
        return found
    }

    /// Index of the first occurrence of `needle` in `haystack` at or after `start`, and how many bytes were compared.
    static func search(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> (Int?, Int) {
        guard let first = needle.first, haystack.count - start >= needle.count else { return (nil, 0) }
        let last = haystack.count - needle.count
        return haystack.withUnsafeBufferPointer { hay in
            needle.withUnsafeBufferPointer { pattern in
                var examined = 0
                var i = start
                while i <= last {
                    examined += 1
                    if hay[i] == first {
                        var j = 1
                        while j < pattern.count, hay[i + j] == pattern[j] { j += 1; examined += 1 }
                        if j == pattern.count { return (i, examined) }
                    }
                    i += 1
                }
                return (nil, examined)
            }
        }
    }

    /// `name` and `filename` from a `Content-Disposition: form-data; name="file"; filename="a.jpg"` header.
    static func dispositionParameters(_ value: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(value)
        // Skip the disposition type.
        if let semi = rest.firstIndex(of: ";") { rest = rest[rest.index(after: semi)...] } else { return result }
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == ";" }
            guard let eq = rest.firstIndex(of: "=") else { break }
            let name = rest[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: eq)...]
            var parsed = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        parsed.append(c); escaped = false
                    } else if c == "\\" {
                        escaped = true
                    } else if c == "\"" {
                        break
                    } else {
                        parsed.append(c)
                    }
                }
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                parsed = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            result[name] = parsed
        }
        return result
    }
}
