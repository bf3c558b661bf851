/// Why a caption could not be rendered. `description` names the input and what is wrong with it.
public enum CaptionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The caption bytes are not valid UTF-8; `byteOffset` is where the first bad sequence starts.
    case invalidUTF8(byteOffset: Int, bytes: [UInt8])
    /// The caption has more characters (grapheme clusters) than `limit`.
    case tooLong(characters: Int, limit: Int)
    /// The caption has more Unicode scalars than `limit` (a few characters stacked with thousands of marks).
    case tooManyScalars(scalars: Int, limit: Int)
    /// The caption box is empty or larger than the renderer accepts.
    case invalidBoxSize(width: Int, height: Int)
    /// A style value is out of range (`field` names it, as in the template).
    case invalidStyle(field: String, message: String)
    /// `font.file` names a file that does not exist or cannot be read.
    case fontFileNotFound(path: String)
    /// `font.family` names no font file in the font directories.
    case fontFamilyNotFound(family: String, directories: [String])
    /// A font file exists but FreeType cannot open it (not a font, damaged, wrong face index).
    case fontLoadFailed(path: String, freeTypeError: Int32)
    /// Not even the built-in fallback font (Noto Sans) is installed.
    case noUsableFont(directories: [String])
    /// FreeType or HarfBuzz failed in a way that does not depend on the input (out of memory).
    case engine(operation: String, code: Int32)

    public var description: String {
        switch self {
        case .invalidUTF8(let offset, let bytes):
            let start = max(0, offset - 8), end = min(bytes.count, offset + 8)
            let around = bytes[start..<end].map { b in
                let s = String(b, radix: 16, uppercase: true)
                return s.count == 1 ? "0" + s : s
            }.joined(separator: " ")
            return "caption text is not valid UTF-8: bad byte sequence at byte \(offset) of \(bytes.count) (bytes around it: \(around))"
        case .tooLong(let n, let limit):
            return "caption text is too long: \(n) characters, at most \(limit) are allowed"
        case .tooManyScalars(let n, let limit):
            return "caption text has \(n) Unicode code points (combining marks included), at most \(limit) are allowed"
        case .invalidBoxSize(let w, let h):
            return "caption box \(w)x\(h) is not drawable: width and height must be 1...\(CaptionRenderer.maximumBoxSide) pixels"
        case .invalidStyle(let field, let message):
            return "text style \(field): \(message)"
        case .fontFileNotFound(let path):
            return "font file '\(path)' does not exist or is not readable"
        case .fontFamilyNotFound(let family, let dirs):
            return
                "font family '\(family)' was not found in \(dirs.joined(separator: ", ")) (expected a file such as \(FontCatalog.fileStem(forFamily: family))-Bold.ttf)"
        case .fontLoadFailed(let path, let code):
            return "font file '\(path)' cannot be opened by FreeType (error \(code)): not a font, damaged, or an unsupported format"
        case .noUsableFont(let dirs):
            return "no usable font: Noto Sans (Debian package fonts-noto-core) was not found in \(dirs.joined(separator: ", "))"
        case .engine(let op, let code):
            return "text engine failure in \(op) (code \(code))"
        }
    }
}
