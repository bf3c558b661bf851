import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The small XML documents S3 answers with (`Error`, `InitiateMultipartUploadResult`,
/// `CompleteMultipartUploadResult`), parsed with a real XML parser: the root element's name and the text of its
/// direct children (first occurrence of each).
struct S3XMLDocument: Sendable, Equatable {
    var root: String
    var fields: [String: String]

    /// nil when `data` is not well-formed XML.
    init?(_ data: Data) {
        let delegate = Collector()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        parser.shouldProcessNamespaces = true
        // Well-formed only: the parser succeeded, reported no error, and the root element was closed.
        guard parser.parse(), !delegate.failed, delegate.closedRoot, let root = delegate.root else { return nil }
        self.root = root
        self.fields = delegate.fields
    }

    subscript(_ name: String) -> String? { fields[name] }

    private final class Collector: NSObject, XMLParserDelegate {
        var root: String?
        var fields: [String: String] = [:]
        var failed = false
        var closedRoot = false
        private var depth = 0
        private var currentChild: String?
        private var text = ""

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
            qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
        ) {
            depth += 1
            if depth == 1 {
                root = elementName
            } else if depth == 2 {
                currentChild = elementName
                text = ""
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if depth == 2 { text += string }
        }

        func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
            if depth == 2 { text += String(decoding: CDATABlock, as: UTF8.self) }
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
        ) {
            if depth == 2, let child = currentChild, fields[child] == nil {
                fields[child] = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if depth == 2 { currentChild = nil }
            if depth == 1 { closedRoot = true }
            depth -= 1
        }

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
            failed = true
        }
    }

    /// Escapes text for an XML element body.
    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }
}
