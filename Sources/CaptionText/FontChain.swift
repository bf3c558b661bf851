import Foundation
import SpecLang

/// The ordered fonts one render draws from: the template's font, then Noto Sans, Noto Color Emoji, Noto Sans
/// CJK and the script fonts, then (for anything still missing) the first font file found to cover it.
/// Faces are opened lazily through the shared `FontCache`; use only while holding its lock.
final class FontChain {
    let cache: FontCache
    let weight: FontWeight
    private(set) var keys: [FaceKey] = []
    private var loaded: [FontFace?] = []
    private var failed: [Bool] = []
    /// Index of the colour emoji font in `keys`, if installed.
    private(set) var emojiIndex: Int?
    /// The template's font (index 0).
    let primary: FontFace

    /// Index 0 is always the primary font, and it is loaded (or `init` throws).
    init(cache: FontCache, font: FontSpec, baseDirectory: String?, cjkFaceIndex: Int) throws {
        self.cache = cache
        self.weight = font.weight
        let catalog = cache.catalog
        let dirs = cache.directories

        // 1. The template's font: an explicit file, else the family.
        let primaryKey: FaceKey
        if let file = font.file, !file.isEmpty {
            let path: String
            if file.hasPrefix("/") {
                path = file
            } else if let base = baseDirectory, !base.isEmpty {
                path = (base as NSString).appendingPathComponent(file)
            } else {
                path = (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(file)
            }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                FileManager.default.isReadableFile(atPath: path)
            else {
                throw CaptionError.fontFileNotFound(path: path)
            }
            primaryKey = FaceKey(path: path, index: 0)
        } else if let key = Self.familyFace(family: font.family, weight: font.weight, italic: font.italic, catalog: catalog) {
            primaryKey = key
        } else if FontCatalog.fileStem(forFamily: font.family) == "NotoSans" {
            throw CaptionError.noUsableFont(directories: dirs)
        } else {
            throw CaptionError.fontFamilyNotFound(family: font.family, directories: dirs)
        }
        let primaryFace = try cache.face(primaryKey)
        self.primary = primaryFace
        append(primaryKey)
        loaded[0] = primaryFace

        // 2. The fallbacks, in order; missing files are simply skipped.
        if let p = catalog.file(family: "sans", weight: font.weight) { append(FaceKey(path: p, index: 0)) }
        if let p = catalog.path(stem: "NotoColorEmoji") {
            emojiIndex = append(FaceKey(path: p, index: 0))
        }
        let cjkStem = font.weight == .bold ? "NotoSansCJK-Bold" : "NotoSansCJK-Regular"
        if let p = catalog.path(stem: cjkStem) ?? catalog.path(stem: "NotoSansCJK-Regular") {
            append(FaceKey(path: p, index: cjkFaceIndex))
        }
        for family in ["NotoSansArabic", "NotoSansHebrew", "NotoSansDevanagari", "NotoSansThai", "NotoSansBengali"] {
            if let p = catalog.file(family: family, weight: font.weight) { append(FaceKey(path: p, index: 0)) }
        }
    }

    /// The face a family name resolves to: its file at the weight (italic when asked), a CJK collection's face, or
    /// for `sans` without Noto Sans, DejaVu Sans; nil when nothing can draw it. `init` and
    /// `CaptionRenderer.fontFamilies` (what lint reports as installed) both ask here.
    static func familyFace(family: String, weight: FontWeight, italic: Bool, catalog: FontCatalog) -> FaceKey? {
        if let path = catalog.file(family: family, weight: weight, italic: italic) { return FaceKey(path: path, index: 0) }
        if let cjk = cjkCollectionFace(family: family, weight: weight, catalog: catalog) { return cjk }
        if FontCatalog.fileStem(forFamily: family) == "NotoSans", let path = catalog.file(family: "DejaVu Sans", weight: weight) {
            return FaceKey(path: path, index: 0)
        }
        return nil
    }

    var count: Int { keys.count }

    @discardableResult
    func append(_ key: FaceKey) -> Int {
        if let i = keys.firstIndex(of: key) { return i }
        keys.append(key)
        loaded.append(nil)
        failed.append(false)
        return keys.count - 1
    }

    /// The face at `index`, or nil when that fallback cannot be opened (it is then skipped for good).
    func face(_ index: Int) -> FontFace? {
        if let f = loaded[index] { return f }
        if failed[index] { return nil }
        if let f = try? cache.face(keys[index]) {
            loaded[index] = f
            return f
        }
        failed[index] = true
        return nil
    }

    /// The chain index of a face covering `codepoint` found by the last-resort scan (appended to the chain).
    func scanned(for codepoint: UInt32) -> Int? {
        guard let key = cache.scanForCoverage(of: codepoint, weight: weight) else { return nil }
        let i = append(key)
        return face(i) == nil ? nil : i
    }

    /// `Noto Sans CJK JP` and friends: Debian ships them as faces of one collection per weight
    /// (`NotoSansCJK-Bold.ttc`: JP, KR, SC, TC, HK = faces 0...4).
    static func cjkCollectionFace(family: String, weight: FontWeight, catalog: FontCatalog) -> FaceKey? {
        let stem = FontCatalog.fileStem(forFamily: family).lowercased()
        for base in ["notosanscjk", "notoserifcjk"] where stem.hasPrefix(base) {
            let region = stem.dropFirst(base.count)
            guard let index = ["jp", "kr", "sc", "tc", "hk"].firstIndex(of: String(region)) else { return nil }
            let name = base == "notosanscjk" ? "NotoSansCJK" : "NotoSerifCJK"
            let file = catalog.path(stem: "\(name)-\(weight == .bold ? "Bold" : "Regular")") ?? catalog.path(stem: "\(name)-Regular")
            return file.map { FaceKey(path: $0, index: index) }
        }
        return nil
    }

    /// Which CJK face of a `NotoSansCJK` collection suits the text: Japanese when it has kana, Korean when it
    /// has Hangul, else Simplified Chinese (faces 0, 1, 2 of Debian's collection).
    static func cjkFaceIndex(for paragraphs: [[Unicode.Scalar]]) -> Int {
        var hangul = false
        for p in paragraphs {
            for s in p {
                switch s.value {
                case 0x3040...0x30FF, 0x31F0...0x31FF, 0xFF66...0xFF9F: return 0
                case 0xAC00...0xD7AF, 0x1100...0x11FF, 0x3130...0x318F: hangul = true
                default: break
                }
            }
        }
        return hangul ? 1 : 2
    }
}
