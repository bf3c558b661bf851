import Foundation
import SpecLang
internal import CTextShaping

/// Identifies a face: a font file and a face index inside it (collections such as `NotoSansCJK-Bold.ttc`).
struct FaceKey: Hashable, CustomStringConvertible {
    var path: String
    var index: Int
    var description: String { index == 0 ? path : "\(path)#\(index)" }
}

/// Loaded fonts shared by renders: the FreeType library, open faces, the font-file catalog and the coverage
/// index of the last-resort scan. FreeType objects are not thread-safe, so a render holds `lock` from its
/// first font look-up to its last glyph (captions are rendered once per video; serialising them is cheap).
final class FontCache: @unchecked Sendable {
    let directories: [String]
    private let lock = NSLock()
    private var library: FreeTypeLibrary?
    private var catalogStorage: FontCatalog?
    private var faces: [FaceKey: FontFace] = [:]
    private var failures: [FaceKey: CaptionError] = [:]
    /// Sorted code points per scanned file, built once when a character is not in any chain font.
    private var coverageIndex: [FontWeight: [(key: FaceKey, codepoints: [UInt32])]] = [:]
    private var scanResults: [FontWeight: [UInt32: FaceKey?]] = [:]

    init(directories: [String]) {
        self.directories = directories
    }

    private static let sharedLock = NSLock()
    nonisolated(unsafe) private static var sharedCaches: [[String]: FontCache] = [:]

    /// One cache per set of font directories for the whole process.
    static func shared(directories: [String]) -> FontCache {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let c = sharedCaches[directories] { return c }
        let c = FontCache(directories: directories)
        sharedCaches[directories] = c
        return c
    }

    /// Runs `body` with exclusive use of this cache's FreeType objects.
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: Everything below requires the lock.

    func freeType() throws -> FreeTypeLibrary {
        if let library { return library }
        let l = try FreeTypeLibrary()
        library = l
        return l
    }

    var catalog: FontCatalog {
        if let catalogStorage { return catalogStorage }
        let c = FontCatalog(directories: directories)
        catalogStorage = c
        return c
    }

    func face(_ key: FaceKey) throws -> FontFace {
        if let f = faces[key] { return f }
        if let e = failures[key] { throw e }
        do {
            let f = try FontFace(library: try freeType(), path: key.path, index: key.index)
            faces[key] = f
            return f
        } catch let e as CaptionError {
            failures[key] = e
            throw e
        }
    }

    /// The first file in the scan order whose character map has `codepoint`, or nil.
    func scanForCoverage(of codepoint: UInt32, weight: FontWeight) -> FaceKey? {
        if let r = scanResults[weight]?[codepoint] { return r }
        let index: [(key: FaceKey, codepoints: [UInt32])]
        if let existing = coverageIndex[weight] {
            index = existing
        } else {
            index = buildCoverageIndex(weight: weight)
            coverageIndex[weight] = index
        }
        var result: FaceKey?
        for entry in index where Self.contains(entry.codepoints, codepoint) {
            result = entry.key
            break
        }
        scanResults[weight, default: [:]][codepoint] = result
        return result
    }

    private static func contains(_ sorted: [UInt32], _ v: UInt32) -> Bool {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo < sorted.count && sorted[lo] == v
    }

    private func buildCoverageIndex(weight: FontWeight) -> [(key: FaceKey, codepoints: [UInt32])] {
        guard let lib = try? freeType() else { return [] }
        var index: [(key: FaceKey, codepoints: [UInt32])] = []
        for path in catalog.scanOrder(weight: weight) {
            var f: FT_Face?
            guard FT_New_Face(lib.handle, path, 0, &f) == 0, let f else { continue }
            var cps: [UInt32] = []
            var gid: FT_UInt = 0
            var c = FT_Get_First_Char(f, &gid)
            while gid != 0 {
                cps.append(UInt32(truncatingIfNeeded: c))
                c = FT_Get_Next_Char(f, c, &gid)
            }
            FT_Done_Face(f)
            cps.sort()
            if !cps.isEmpty { index.append((FaceKey(path: path, index: 0), cps)) }
        }
        return index
    }
}
