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

extension SHA256Hex {
    public struct FileError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// SHA-256 of a file's bytes, read in 1 MiB chunks: the content part of every cache key (layers, audio
    /// measurements, beats), so one read of a file serves all of them.
    public static func ofFile(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FileError(description: "cannot open the file to hash it") }
        defer { close(fd) }
        return try ofFile(descriptor: fd)
    }

    /// SHA-256 of the bytes of an open file, from its current offset to its end (the caller keeps the descriptor).
    public static func ofFile(descriptor fd: Int32) throws -> String {
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(description: "cannot read the file to hash it")
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return hasher.finalize().hexString
    }
}
