import Foundation

/// The first object key that appears twice in one JSON object, or nil. A JSON parser keeps one of the two values
/// (Foundation the first, most others the last), so a gateway or firewall that checks the body with another parser
/// would see another request than the one the API runs: such a body is refused instead. Linear in the body; only
/// keys are decoded (escapes resolved, so `"a"` and `"\u0061"` are the same key). Assumes nothing about
/// well-formedness beyond what it needs: the JSON decoder still judges the body.
enum DuplicateKeys {
    static func first(in bytes: Data) -> String? {
        /// One open object's keys, and whether its next string is a key.
        struct Frame {
            var isObject: Bool
            var keys: Set<String> = []
            var expectingKey: Bool
        }
        var stack: [Frame] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"):
                stack.append(Frame(isObject: true, expectingKey: true))
            case UInt8(ascii: "["):
                stack.append(Frame(isObject: false, expectingKey: false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast() }
            case UInt8(ascii: ","):
                if let last = stack.indices.last, stack[last].isObject { stack[last].expectingKey = true }
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                while index < bytes.endIndex, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard index < bytes.endIndex else { return nil }
                if let last = stack.indices.last, stack[last].isObject, stack[last].expectingKey {
                    stack[last].expectingKey = false
                    let raw = bytes[start...index]
                    guard let key = try? JSONSerialization.jsonObject(with: Data(raw), options: .fragmentsAllowed) as? String else {
                        return nil
                    }
                    if !stack[last].keys.insert(key).inserted { return key }
                }
            default:
                break
            }
            index += 1
        }
        return nil
    }
}
