/// Limits that hold for every picture rendc reads.
package enum MediaLimits {
    /// Largest picture decoded, in pixels (8000 x 8000): bigger ones are refused from their headers, and the decoder
    /// refuses any frame above it before allocating (`max_pixels`).
    package static let maximumPixels = 64_000_000
    /// Longest side of any picture (libwebp's own limit).
    package static let maximumSide = 16_383
}
