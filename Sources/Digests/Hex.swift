import Crypto
import Foundation

extension Sequence where Element == UInt8 {
    /// Lowercase hex, two digits a byte (digests, MACs, random tokens).
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// SHA-256 as lowercase hex, the form every rendc digest is stored and compared in.
public enum SHA256Hex {
    public static func of(_ data: Data) -> String { SHA256.hash(data: data).hexString }
    public static func of(_ text: String) -> String { of(Data(text.utf8)) }
}
