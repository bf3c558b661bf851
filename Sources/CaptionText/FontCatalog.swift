import Foundation
import SpecLang

/// The font files under the font directories, found by file name (no fontconfig).
///
/// Debian's Noto packages install one file per family and weight (`NotoSans-Bold.ttf`,
/// `NotoSansArabic-Regular.ttf`, `NotoSansCJK-Bold.ttc`, `NotoColorEmoji.ttf`), so a family resolves to a file stem.
struct FontCatalog {
    let directories: [String]
    /// Every font file, sorted by path (deterministic across machines).
    let files: [String]
    /// Lower-cased file name without extension -> path (the first in path order wins).
    private let byStem: [String: String]

    static let fontExtensions: Set<String> = ["ttf", "otf", "ttc", "otc"]

    init(directories: [String]) {
        self.directories = directories
        var found: [String] = []
        let fm = FileManager.default
        for dir in directories {
            guard let e = fm.enumerator(atPath: dir) else { continue }
            while let rel = e.nextObject() as? String {
                let ext = (rel as NSString).pathExtension.lowercased()
                if Self.fontExtensions.contains(ext) { found.append((dir as NSString).appendingPathComponent(rel)) }
            }
        }
        found.sort()
        files = found
        var map: [String: String] = [:]
        for path in found {
            let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension.lowercased()
            if map[stem] == nil { map[stem] = path }
        }
        byStem = map
    }

    func path(stem: String) -> String? { byStem[stem.lowercased()] }

    /// Family names as a template writes them (`Noto Serif Display` for NotoSerifDisplay-Regular.ttf), plus
    /// `sans` and `serif`: the suggestions for a family that is not installed.
    var familyNames: [String] {
        var names: Set<String> = ["sans", "serif"]
        for path in files {
            var stem = Self.stem(of: path)
            if let dash = stem.lastIndex(of: "-") { stem = String(stem[..<dash]) }
            var spaced = ""
            var previous: Character?
            for ch in stem {
                if ch.isUppercase, let p = previous, p.isLowercase { spaced.append(" ") }
                spaced.append(ch)
                previous = ch
            }
            if !spaced.isEmpty { names.insert(spaced) }
        }
        return names.sorted()
    }

    static func stem(of path: String) -> String {
        ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// The file-name stem a family name maps to: `sans` -> `NotoSans`, `Noto Serif` -> `NotoSerif`.
    static func fileStem(forFamily family: String) -> String {
        let trimmed = family.trimmingCharacters(in: .whitespaces)
        switch trimmed.lowercased() {
        case "sans", "sans-serif", "": return "NotoSans"
        case "serif": return "NotoSerif"
        case "mono", "monospace": return "NotoSansMono"
        default: return trimmed.filter { !$0.isWhitespace && $0 != "-" && $0 != "_" }
        }
    }

    /// The file for `family` at `weight`; a bold request falls back to the regular file when no bold exists. An
    /// italic request takes the family's italic file at that weight (or the other weight), else the upright one.
    func file(family: String, weight: FontWeight, italic: Bool = false) -> String? {
        let stem = Self.fileStem(forFamily: family)
        if italic {
            let names =
                weight == .bold
                ? ["\(stem)-BoldItalic", "\(stem)-BoldOblique", "\(stem)-Italic", "\(stem)-Oblique"]
                : ["\(stem)-Italic", "\(stem)-Oblique", "\(stem)-BoldItalic", "\(stem)-BoldOblique"]
            for c in names {
                if let p = path(stem: c) { return p }
            }
        }
        let regular = ["\(stem)-Regular", stem, "\(stem)-Book", "\(stem)-Medium"]
        let candidates = weight == .bold ? ["\(stem)-Bold", "\(stem)Bold", "\(stem)-Semibold"] + regular : regular
        for c in candidates {
            if let p = path(stem: c) { return p }
        }
        return nil
    }

    /// Files for the last-resort coverage scan, in preference order: Noto Sans families at the wanted weight,
    /// then other Noto Sans files, then other Noto files, then everything else.
    func scanOrder(weight: FontWeight) -> [String] {
        let suffix = weight == .bold ? "-bold" : "-regular"
        func rank(_ path: String) -> Int {
            let s = Self.stem(of: path).lowercased()
            var r: Int
            if s.hasPrefix("notosans") { r = 0 } else if s.hasPrefix("noto") { r = 2 } else { r = 4 }
            if !s.hasSuffix(suffix) { r += 1 }
            if s.contains("italic") || s.contains("mono") { r += 6 }
            return r
        }
        return files.enumerated().sorted { a, b in
            let ra = rank(a.element), rb = rank(b.element)
            return ra != rb ? ra < rb : a.offset < b.offset
        }.map(\.element)
    }
}
