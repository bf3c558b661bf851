import RasterImage
import SpecLang
@testable import CaptionText

/// Measurements on rendered captions.
struct Bounds: Equatable, CustomStringConvertible {
    var minX: Int, minY: Int, maxX: Int, maxY: Int
    var width: Int { maxX - minX + 1 }
    var height: Int { maxY - minY + 1 }
    var centerX: Double { Double(minX + maxX + 1) / 2 }
    var centerY: Double { Double(minY + maxY + 1) / 2 }
    var description: String { "x \(minX)...\(maxX), y \(minY)...\(maxY)" }
}

extension RGBAImage {
    /// Bounding box of pixels with alpha above `threshold`, or nil when there are none.
    func alphaBounds(threshold: UInt8 = 24) -> Bounds? {
        var b: Bounds?
        for y in 0..<height {
            for x in 0..<width where pixels[(y * width + x) * 4 + 3] > threshold {
                if var bb = b {
                    bb.minX = min(bb.minX, x); bb.maxX = max(bb.maxX, x)
                    bb.minY = min(bb.minY, y); bb.maxY = max(bb.maxY, y)
                    b = bb
                } else {
                    b = Bounds(minX: x, minY: y, maxX: x, maxY: y)
                }
            }
        }
        return b
    }

    func count(where predicate: (RGBA) -> Bool) -> Int {
        var n = 0
        for y in 0..<height {
            for x in 0..<width where predicate(self[x, y]) { n += 1 }
        }
        return n
    }

    /// Mean absolute alpha difference between column ranges of two images of the same height.
    func alphaDifference(_ other: RGBAImage, columns: Range<Int>, otherColumns: Range<Int>) -> Double {
        precondition(columns.count == otherColumns.count && height == other.height)
        var total = 0
        for y in 0..<height {
            for (x, ox) in zip(columns, otherColumns) {
                total += abs(Int(self[x, y].a) - Int(other[ox, y].a))
            }
        }
        return Double(total) / Double(max(1, columns.count * height))
    }
}

extension RGBA {
    /// HSV saturation 0...1.
    var saturation: Double {
        let mx = max(r, g, b), mn = min(r, g, b)
        return mx == 0 ? 0 : Double(mx - mn) / Double(mx)
    }

    /// HSV hue in degrees 0..<360 (0 for greys).
    var hue: Double {
        let r = Double(self.r) / 255, g = Double(self.g) / 255, b = Double(self.b) / 255
        let mx = max(r, g, b), mn = min(r, g, b), d = mx - mn
        guard d > 0 else { return 0 }
        var h: Double
        if mx == r { h = (g - b) / d } else if mx == g { h = (b - r) / d + 2 } else { h = (r - g) / d + 4 }
        h *= 60
        return h < 0 ? h + 360 : h
    }
}

enum Styles {
    /// The built-in templates' caption style: 60 px bold white, 2 px black stroke, 3 lines, shrink to 36 px.
    static var template: TextStyle { TextStyle(minSize: 36) }

    /// Plain white text, no stroke, no shrinking (for geometry).
    static func plain(size: Double = 60, align: TextAlign = .center, vertical: VerticalAlign = .middle) -> TextStyle {
        TextStyle(size: size, minSize: size, stroke: nil, align: align, verticalAlign: vertical, shrinkToFit: false)
    }
}

let renderer = CaptionRenderer()
