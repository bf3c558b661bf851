import RasterImage
import SpecLang

/// Draws a caption into an RGBA image the size of its caption box.
/// (Seam with the render core; the implementation is being built in issue 4.)
public struct CaptionRenderer: Sendable {
    public init() {}

    /// Renders `text` laid out in a `width` x `height` box with `style`. Relative font paths resolve
    /// against `baseDirectory`. The result is exactly `width` x `height`, straight alpha.
    public func render(_ text: String, style: TextStyle, width: Int, height: Int, baseDirectory: String? = nil) throws -> RGBAImage {
        throw CaptionError.notReady
    }
}

public enum CaptionError: Error, Sendable {
    case notReady
}
