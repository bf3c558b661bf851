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

    private let dashBoundary: [UInt8]  // "--boundary"
    private let delimiter: [UInt8]  // "\r\n--boundary"
    private var state = State.preamble
    private var buffer: [UInt8] = []
    private var atBodyStart = true

    init(boundary: String) {
        dashBoundary = Array("--\(boundary)".utf8)
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    var isComplete: Bool { if case .done = state { true } else { false } }

    /// The boundary parameter of a `multipart/form-data` Content-Type, or nil.
    static func boundary(fromContentType contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = parts.first, first.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parts.dropFirst() {
            guard let eq = parameter.firstIndex(of: "=") else { continue }
            let name = parameter[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            var value = parameter[parameter.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            if name == "boundary", !value.isEmpty, value.utf8.count <= 70 { return value }
        }
        return nil
    }

    /// Feeds more bytes; returns the events they complete.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [Event] {
        buffer.append(contentsOf: bytes)
        var events: [Event] = []
        var consumed = 0
        defer { if consumed > 0 { buffer.removeFirst(consumed) } }
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
                    if buffer[0..<dashBoundary.count].elementsEqual(dashBoundary) {
                        consumed = dashBoundary.count
                        state = .afterBoundary
                        continue
                    }
                }
                guard let found = Self.search(delimiter, in: buffer, from: consumed) else {
                    consumed = max(consumed, buffer.count - delimiter.count)
                    return events
                }
                consumed = found + delimiter.count
                state = .afterBoundary
            case .afterBoundary:
                guard buffer.count - consumed >= 2 else { return events }
                let next = (buffer[consumed], buffer[consumed + 1])
                if next == (UInt8(ascii: "-"), UInt8(ascii: "-")) {
                    consumed += 2
                    state = .done
                    continue
                }
                // Transport padding (spaces/tabs) may precede the CRLF.
                var i = consumed
                while i < buffer.count, buffer[i] == UInt8(ascii: " ") || buffer[i] == UInt8(ascii: "\t") { i += 1 }
                guard buffer.count - i >= 2 else { return events }
                guard buffer[i] == 13, buffer[i + 1] == 10 else { throw ParseError(message: "malformed boundary line") }
                consumed = i + 2
                state = .headers
            case .headers:
                guard let end = Self.search([13, 10, 13, 10], in: buffer, from: consumed) else {
                    if buffer.count - consumed > Self.maxHeaderBytes { throw ParseError(message: "part headers too long") }
                    // A part with no headers at all starts with an immediate CRLF.
                    if buffer.count - consumed >= 2, buffer[consumed] == 13, buffer[consumed + 1] == 10 {
                        consumed += 2
                        events.append(.partStart(headers: [:]))
                        state = .body
                        continue
                    }
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
                events.append(.partStart(headers: headers))
                state = .body
            case .body:
                if let found = Self.search(delimiter, in: buffer, from: consumed) {
                    if found > consumed { events.append(.data(Array(buffer[consumed..<found]))) }
                    events.append(.partEnd)
                    consumed = found + delimiter.count
                    state = .afterBoundary
                    continue
                }
                // Keep the tail that could be the start of a delimiter split across chunks.
                let safeEnd = buffer.count - (delimiter.count - 1)
                if safeEnd > consumed {
                    events.append(.data(Array(buffer[consumed..<safeEnd])))
                    consumed = safeEnd
                }
                return events
            }
        }
    }

    /// Call when the body ends; throws when the closing boundary never came.
    func finish() throws {
        guard isComplete else { throw ParseError(message: "body ended before the closing boundary") }
    }

    /// Index of the first occurrence of `needle` in `haystack` at or after `start`.
    static func search(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, haystack.count - start >= needle.count else { return nil }
        let last = haystack.count - needle.count
        return haystack.withUnsafeBufferPointer { hay in
            needle.withUnsafeBufferPointer { pattern in
                var i = start
                while i <= last {
                    if hay[i] == first {
                        var j = 1
                        while j < pattern.count, hay[i + j] == pattern[j] { j += 1 }
                        if j == pattern.count { return i }
                    }
                    i += 1
                }
                return nil
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
                    if escaped { parsed.append(c); escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { break } else { parsed.append(c) }
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
