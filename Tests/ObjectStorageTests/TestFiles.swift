import Foundation
import RendcTestSupport

/// A fresh temporary directory per test, removed by `cleanup()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = try Fixtures.temporaryDirectory("rendc-storage-test").path
    }

    func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ name: String, _ data: Data) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: target).deletingLastPathComponent().path, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: target))
        return target
    }

    func read(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }

    /// Names of entries in a directory, hidden ones included.
    func entries(_ directory: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory))?.sorted() ?? []
    }
}

/// Deterministic pseudo-random bytes (xorshift), so large test files differ from part to part.
func patternedData(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> Data {
    var state = seed
    var data = Data(count: count)
    data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
        for index in 0..<count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            buffer[index] = UInt8(truncatingIfNeeded: state)
        }
    }
    return data
}
