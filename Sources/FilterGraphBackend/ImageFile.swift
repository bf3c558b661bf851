import Foundation
import LibAV
import RasterImage
import MediaFormats

/// Still images in and out: decode JPEG, PNG, WebP, BMP, TIFF, GIF (first frame) to RGBA with EXIF orientation
/// applied; write PNG and JPEG. Through LibAV (allow-listed demuxers, pixel limit checked before decoding).
public enum ImageFile {
    /// Largest image accepted, in pixels (8000 x 8000): bigger files are refused from their headers, before decoding.
    public static let maximumPixels = MediaLimits.maximumPixels

    /// Decodes an image file into RGBA. `minimumSize` lets big JPEGs decode at a reduced scale when the caller
    /// needs no more than that many pixels.
    public static func decode(path: String, minimumSize: (width: Int, height: Int)? = nil) throws -> RGBAImage {
        let decoded = try ImageCodec.decodeRGBA(path: path, minimumSize: minimumSize)
        let image = RGBAImage(width: decoded.width, height: decoded.height, pixels: decoded.pixels)
        let orientation = (try? EXIFOrientation.read(path: path)) ?? 1
        return orientation == 1 ? image : EXIFOrientation.apply(orientation, to: image)
    }

    /// Writes a PNG (RGBA) atomically. `opaque`: the picture's alpha is 255 everywhere (a rendered frame), so it
    /// is stored as RGB, which compresses a quarter faster.
    public static func writePNG(_ image: RGBAImage, to path: String, opaque: Bool = false) throws {
        let data = try ImageCodec.encode(
            image.pixels, width: image.width, height: image.height, as: opaque ? .opaquePNG : .png, path: path)
        try writeAtomically(Data(data), to: path)
    }

    /// Writes a JPEG (alpha dropped) atomically; `quality` is 2 (best) ... 31 (worst) on FFmpeg's qscale.
    public static func writeJPEG(_ image: RGBAImage, to path: String, quality: Int = 3) throws {
        let data = try ImageCodec.encode(image.pixels, width: image.width, height: image.height, as: .jpeg(quality: quality), path: path)
        try writeAtomically(Data(data), to: path)
    }
}

/// Writes `data` to a temporary file beside `path`, then renames it into place.
func writeAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
    do {
        try data.write(to: temp)
        try AtomicFile.replace(temp.path, with: path)
    } catch {
        try? FileManager.default.removeItem(at: temp)
        throw BackendError(.write, path: path, "cannot write (\(error.localizedDescription))")
    }
}

/// Moving finished files into place.
public enum AtomicFile {
    /// Renames `from` to `to`, replacing any file there in one step (rename(2)): readers see the old file or the
    /// new one, never a missing or partial one. Both must be on the same file system.
    public static func replace(_ from: String, with to: String) throws {
        guard rename(from, to) == 0 else {
            throw BackendError(.write, path: to, "cannot move into place (\(String(cString: strerror(errno))))")
        }
    }
}

/// EXIF orientation (tag 0x0112) of a JPEG, read from its APP1 segment, and applying it to pixels.
package enum EXIFOrientation {
    static func read(path: String) throws -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { return 1 }
        defer { try? handle.close() }
        let head = [UInt8](handle.readData(ofLength: 128 * 1024))
        return parse(head)
    }

    package static func parse(_ b: [UInt8]) -> Int {
        guard b.count > 4, b[0] == 0xFF, b[1] == 0xD8 else { return 1 }
        var i = 2
        while i + 4 <= b.count, b[i] == 0xFF {
            let marker = b[i + 1]
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            if marker == 0xDA || length < 2 { break }
            if marker == 0xE1, i + 4 + length - 2 <= b.count, length >= 16,
                Array(b[(i + 4)..<(i + 10)]) == [0x45, 0x78, 0x69, 0x66, 0, 0]
            {
                return parseTIFF(Array(b[(i + 10)..<(i + 2 + length)]))
            }
            i += 2 + length
        }
        return 1
    }

    static func parseTIFF(_ t: [UInt8]) -> Int {
        guard t.count >= 8 else { return 1 }
        let little = t[0] == 0x49
        func u16(_ o: Int) -> Int {
            guard o + 2 <= t.count else { return 0 }; return little ? Int(t[o]) | Int(t[o + 1]) << 8 : Int(t[o]) << 8 | Int(t[o + 1])
        }
        func u32(_ o: Int) -> Int { guard o + 4 <= t.count else { return 0 }; return little ? u16(o) | u16(o + 2) << 16 : u16(o) << 16 | u16(o + 2) }
        let ifd = u32(4)
        let count = u16(ifd)
        guard ifd > 0, count < 512 else { return 1 }
        for e in 0..<count {
            let o = ifd + 2 + e * 12
            if u16(o) == 0x0112 {
                let v = u16(o + 8)
                return (1...8).contains(v) ? v : 1
            }
        }
        return 1
    }

    /// The rectangle of the stored picture (`width` x `height`, before orientation) that shows as `rect` once the
    /// orientation is applied.
    static func storedRect(
        of rect: (x: Int, y: Int, w: Int, h: Int), orientation: Int, width sw: Int, height sh: Int
    )
        -> (x: Int, y: Int, w: Int, h: Int)
    {
        func map(_ X: Int, _ Y: Int) -> (Int, Int) {
            switch orientation {
            case 2: return (sw - X, Y)
            case 3: return (sw - X, sh - Y)
            case 4: return (X, sh - Y)
            case 5: return (Y, X)
            case 6: return (Y, sh - X)
            case 7: return (sw - Y, sh - X)
            case 8: return (sw - Y, X)
            default: return (X, Y)
            }
        }
        return bounds(map(rect.x, rect.y), map(rect.x + rect.w, rect.y + rect.h))
    }

    /// The inverse of `storedRect`: where a rectangle of the stored picture shows once the orientation is applied.
    /// That is `storedRect` of the inverse orientation, taken in the displayed picture (its sides swap for 5-8):
    /// 6 and 8 undo each other, the others undo themselves.
    static func displayedRect(
        of rect: (x: Int, y: Int, w: Int, h: Int), orientation: Int, width sw: Int, height sh: Int
    )
        -> (x: Int, y: Int, w: Int, h: Int)
    {
        let inverse = orientation == 6 ? 8 : orientation == 8 ? 6 : orientation
        let swap = orientation >= 5 && orientation <= 8
        return storedRect(of: rect, orientation: inverse, width: swap ? sh : sw, height: swap ? sw : sh)
    }

    private static func bounds(_ a: (Int, Int), _ b: (Int, Int)) -> (x: Int, y: Int, w: Int, h: Int) {
        (min(a.0, b.0), min(a.1, b.1), abs(a.0 - b.0), abs(a.1 - b.1))
    }

    /// Returns the image as it should be displayed.
    package static func apply(_ orientation: Int, to image: RGBAImage) -> RGBAImage {
        let w = image.width, h = image.height
        let swap = orientation >= 5
        let ow = swap ? h : w, oh = swap ? w : h
        var out = [UInt8](repeating: 0, count: ow * oh * 4)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<oh {
                    for x in 0..<ow {
                        // Source pixel for display pixel (x, y).
                        let (sx, sy): (Int, Int)
                        switch orientation {
                        case 2: (sx, sy) = (w - 1 - x, y)
                        case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
                        case 4: (sx, sy) = (x, h - 1 - y)
                        case 5: (sx, sy) = (y, x)
                        case 6: (sx, sy) = (y, h - 1 - x)
                        case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
                        case 8: (sx, sy) = (w - 1 - y, x)
                        default: (sx, sy) = (x, y)
                        }
                        let s = (sy * w + sx) * 4, d = (y * ow + x) * 4
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]; dst[d + 3] = src[s + 3]
                    }
                }
            }
        }
        return RGBAImage(width: ow, height: oh, pixels: out)
    }
}
