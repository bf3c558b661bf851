/// The rules a job's inputs must meet, in one place: the HTTP API checks them when a job is submitted (so the
/// client gets a 422 naming the field) and the planner checks them again when it plans, so a job the API accepts
/// is never one the worker always rejects.
///
/// Captions are limited twice: in grapheme clusters (what a reader counts as characters: an emoji with a skin-tone
/// modifier is one) and in Unicode scalars (code points), so one letter followed by 10,000 combining marks, which
/// is one grapheme, is still refused.
public enum InputRules {
    /// Shortest video a job may ask for, in seconds.
    public static let minimumDuration = 0.5
    /// Most grapheme clusters in a caption.
    public static let maximumCaptionGraphemes = 500
    /// Most Unicode scalars (code points) in a caption (the caption renderer's own limit too).
    public static let maximumCaptionScalars = 4000
    /// Most product images in one job.
    public static let maximumImages = 10
    /// Smallest width and height of a product image, in pixels (a 1x1 image cannot fill a 900x1600 window).
    public static let minimumImageSide = 16

    /// Why `text` cannot be a job's caption, or nil when it can: the API's rule. Allowed: any Unicode text with
    /// line feeds (U+000A); refused: every other C0 control (CR and tab included), DEL and the C1 controls
    /// U+0080-U+009F, and the lengths of ``captionLengthProblem(_:)``.
    public static func captionProblem(_ text: String) -> String? {
        for scalar in text.unicodeScalars where isRefusedControl(scalar) {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "must not contain control characters other than line feed (found U+\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex))"
        }
        return captionLengthProblem(text)
    }

    /// The length limits alone, in graphemes and in code points: what the planner checks for every caption (the
    /// command line's `--text-file` may hold CR LF or tabs, which the caption renderer normalises).
    public static func captionLengthProblem(_ text: String) -> String? {
        let scalars = text.unicodeScalars.count
        if scalars > maximumCaptionScalars {
            return "has \(scalars) code points; at most \(maximumCaptionScalars) are allowed"
        }
        let graphemes = text.count
        if graphemes > maximumCaptionGraphemes {
            return "has \(graphemes) characters; at most \(maximumCaptionGraphemes) are allowed"
        }
        return nil
    }

    /// C0 controls except LF, DEL, and C1 controls.
    public static func isRefusedControl(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return (v < 0x20 && v != 0x0A) || (0x7F...0x9F).contains(v)
    }

    /// Why `seconds` cannot be a duration target when videos are at most `maximum` seconds long, or nil.
    public static func durationProblem(_ seconds: Double, maximum: Double) -> String? {
        guard seconds.isFinite, seconds >= minimumDuration, seconds <= maximum else {
            return "must be a number of seconds from \(format(minimumDuration)) to \(format(maximum))"
        }
        return nil
    }

    /// Why an image of this size cannot be a product image (the largest side is checked on upload against the
    /// deployment's dimension limit), or nil.
    public static func imageSizeProblem(width: Int, height: Int) -> String? {
        guard width >= minimumImageSide, height >= minimumImageSide else {
            return "the image is \(width)x\(height); at least \(minimumImageSide)x\(minimumImageSide) is needed"
        }
        return nil
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
