import Foundation

/// Text that changes while its layer shows: a list of texts stepping on a fixed interval (`steps:` + `every:`), or a
/// number counting from one value to another (`counter:`). Every distinct text becomes one caption picture shown in
/// its windows of time, so both engines and the exported FFmpeg graph draw the same thing.
public enum TextChanges: Sendable, Equatable {
    case steps(TextSteps)
    case counter(TextCounter)

    /// At most this many distinct texts a layer: each is drawn once by CaptionText, kept as a picture of the layer's
    /// box for the whole render (a 1000x260 box: 90 texts add about 90 MB to the peak RSS) and written as a PNG with
    /// its own `overlay` in the exported FFmpeg graph. 90 covers a 3 s price count at 30 fps that changes every
    /// frame, or a 1:30 clock by the second; a longer per-frame count is refused with a message saying how to
    /// shorten it.
    public static let maximumTexts = 90
    /// And at most this many pixels of text pictures a layer (texts times the box's area, on the template's canvas):
    /// 90 texts of a 1000x260 box, 11 of a whole 1080x1920 canvas. It bounds the memory, which grows with the box.
    public static let maximumPixels = 23_400_000

    /// The most distinct texts a layer with a `width` x `height` box (template canvas pixels) may show.
    public static func limit(width: Int, height: Int) -> Int {
        max(1, min(maximumTexts, maximumPixels / max(1, width * height)))
    }

    /// Why `limit` is what it is, for messages.
    public static func limitReason(width: Int, height: Int) -> String {
        let n = limit(width: width, height: height)
        return n == maximumTexts
            ? "at most \(maximumTexts) a layer"
            : "at most \(n) for a \(width)x\(height) box (\(maximumPixels / 1_000_000) million pixels of text pictures a layer; a smaller box allows more, up to \(maximumTexts))"
    }
}

/// `steps: [...]` with `every:`: step k shows from `k * every` after the layer starts; after the last step the last
/// text stays (or, with `loop`, the list starts again).
public struct TextSteps: Sendable, Equatable {
    /// Texts with `{{field}}` placeholders, in order.
    public var texts: [String]
    public var every: TimePoint
    public var loop: Bool
    /// The layer's animations run again at the start of every step (a countdown's digits each pop in).
    public var perStep: Bool
    public init(texts: [String], every: TimePoint, loop: Bool = false, perStep: Bool = false) {
        self.texts = texts
        self.every = every
        self.loop = loop
        self.perStep = perStep
    }
}

/// One end of a counter: a number written in the template, or a text field whose value holds one (`"{{price}}"`,
/// read when the job is planned: `$1,299.00` counts to 1299 with two decimals).
public enum CounterValue: Sendable, Equatable, CustomStringConvertible {
    case number(Double, decimals: Int)
    case field(String)
    public var description: String {
        switch self {
        case .number(let v, let d): String(format: "%.\(d)f", v)
        case .field(let f): "{{\(f)}}"
        }
    }
}

/// `counter: {from, to, duration, format, easing, every}`: the number moves from `from` to `to` over `duration` from
/// the layer's start (its whole time when not given) along `easing`, then holds `to`. The shown value is the exact one
/// cut to the format's precision towards `from`, so `to` shows only once reached (a clock from 5 to 0 shows 5 for the
/// first second and 0 at the end). With `every`, the number changes only every that many seconds or beats.
public struct TextCounter: Sendable, Equatable {
    public var from: CounterValue
    public var to: CounterValue
    public var duration: TimePoint?
    /// nil: the plain number at the decimals of `from`/`to` (a field's value lends its own look: `$29.99`).
    public var format: CounterFormat?
    public var easing: Easing
    public var every: TimePoint?
    public var perStep: Bool
    public init(
        from: CounterValue, to: CounterValue, duration: TimePoint? = nil, format: CounterFormat? = nil, easing: Easing = .linear,
        every: TimePoint? = nil, perStep: Bool = false
    ) {
        self.from = from
        self.to = to
        self.duration = duration
        self.format = format
        self.easing = easing
        self.every = every
        self.perStep = perStep
    }
}

extension TextCounter {
    /// The decimals its texts show (the format's, else those of its ends; a clock shows whole seconds).
    func decimals(from a: Int, to b: Int) -> Int { format?.number.clock == true ? 0 : (format?.number.decimals ?? max(a, b)) }

    /// How many different values it can show: every step of its precision from `from` to `to`; nil when an end is a
    /// field, whose value comes with the job.
    public var values: Int? {
        guard case .number(let a, let da) = from, case .number(let b, let db) = to else { return nil }
        return Int((abs(b - a) * pow(10, Double(decimals(from: da, to: db)))).rounded(.down)) + 1
    }

    /// The most different texts it shows counting over `frames` frames at `fps`, as the planner ticks it: one a
    /// frame, or one every `every` seconds (tick k on the frame nearest k * every); never more than its `values`.
    /// nil when it changes every so many beats (the music says how many).
    public func texts(frames: Int, fps: Int) -> Int? {
        var ticks = max(1, frames)
        switch every {
        case .seconds(let e)?:
            // Tick k shows when its frame, round(k * e * fps), is before the window's end.
            ticks = min(ticks, Int(((Double(frames) - 0.5) / (e * Double(fps))).rounded(.up)))
        case .beats?: return nil
        case nil: break
        }
        return min(values ?? Int.max, max(1, ticks))
    }
}

extension LayerTiming {
    /// How many frames the layer shows for in a video of `videoFrames` frames at `fps` (its longest window), from
    /// its `start`, `end` and `duration` in seconds; nil when it depends on the music (beats) or the cuts
    /// (`per_shot`).
    public func frames(videoFrames: Int, fps: Int) -> Int? {
        guard !perShot else { return nil }
        func frame(_ t: Double) -> Int { Int((t * Double(fps)).rounded()) }
        var s = 0, e = videoFrames
        switch start {
        case .seconds(let v)?: s = frame(v)
        case .beats?: return nil
        case nil: break
        }
        switch (end, duration) {
        case (.seconds(let v)?, _): e = v < 0 ? videoFrames + frame(v) : frame(v)
        case (_, .seconds(let v)?): e = frame((start.map { if case .seconds(let s) = $0 { s } else { 0 } } ?? 0) + v)
        case (.beats?, _), (_, .beats?): return nil
        default: break
        }
        return max(0, min(e, videoFrames) - s)
    }
}

/// A counter's text: `prefix{n:SPEC}suffix`. Prefix and suffix may hold `{{field}}` placeholders; SPEC is empty, or
/// `m:ss` (the number as minutes and seconds), or `[0W][,][.D]`: zero-padded to W digits, thousands grouped with
/// commas, D decimals (`{n:,.2}` is `1,299.00`).
public struct CounterFormat: Sendable, Equatable {
    public var prefix: String
    public var suffix: String
    public var number: NumberStyle
    public init(prefix: String = "", number: NumberStyle = NumberStyle(), suffix: String = "") {
        self.prefix = prefix
        self.number = number
        self.suffix = suffix
    }
}

public struct NumberStyle: Sendable, Equatable {
    /// Decimals shown; nil: those of the counter's ends.
    public var decimals: Int?
    /// Zero-padded to at least this many digits before the point.
    public var width: Int
    public var grouping: Bool
    /// Minutes and seconds (`1:05`) of a number of seconds.
    public var clock: Bool
    public init(decimals: Int? = nil, width: Int = 0, grouping: Bool = false, clock: Bool = false) {
        self.decimals = decimals
        self.width = width
        self.grouping = grouping
        self.clock = clock
    }

    /// The number as text, `decimals` being the precision in use (the style's, or the counter's ends').
    public func text(_ value: Double, decimals fallback: Int) -> String {
        let d = clock ? 0 : (decimals ?? fallback)
        let negative = value < 0 && (value * pow(10, Double(d))).rounded() != 0
        let v = abs(value)
        var s: String
        if clock {
            let total = v.isFinite && v < 1e15 ? Int(v.rounded()) : 0
            let seconds = total % 60
            s = "\(total / 60):" + (seconds < 10 ? "0" : "") + "\(seconds)"
        } else {
            s = String(format: "%.\(d)f", v)
            var whole = String(s.prefix { $0 != "." })
            let rest = s.dropFirst(whole.count)
            if whole.count < width { whole = String(repeating: "0", count: width - whole.count) + whole }
            if grouping {
                var grouped = ""
                for (i, ch) in whole.reversed().enumerated() {
                    if i > 0 && i % 3 == 0 { grouped.append(",") }
                    grouped.append(ch)
                }
                whole = String(grouped.reversed())
            }
            s = whole + rest
        }
        return (negative ? "-" : "") + s
    }

    /// The number in `text` (the first run of digits, with `,` thousands separators and a `.` decimal part) and the
    /// text around it as a format: `$1,299.00` is 1299 and `${n:,.2}`. nil when the text holds no digit.
    public static func parse(_ text: String) -> (value: Double, decimals: Int, format: CounterFormat)? {
        let chars = Array(text)
        guard let first = chars.firstIndex(where: { $0.isASCII && $0.isNumber }) else { return nil }
        var end = first
        var digits = "", decimals = 0, grouping = false, inFraction = false
        while end < chars.count {
            let c = chars[end]
            if c.isASCII && c.isNumber {
                digits.append(c)
                if inFraction { decimals += 1 }
            } else if c == ",", !inFraction, !digits.isEmpty, end + 3 < chars.count,
                chars[(end + 1)...(end + 3)].allSatisfy({ $0.isASCII && $0.isNumber })
            {
                grouping = true
            } else if c == ".", !inFraction, end + 1 < chars.count, chars[end + 1].isASCII && chars[end + 1].isNumber {
                inFraction = true
                digits.append(".")
            } else {
                break
            }
            end += 1
        }
        var start = first
        var negative = false
        if start > 0 && chars[start - 1] == "-" {
            negative = true
            start -= 1
        }
        // The same bounds as a number written in the template: a field's 19-digit value trapped the clock format's
        // Int conversion (a worker and all its jobs), and 300 decimals showed "nan".
        guard let v = Double(digits), v.isFinite, abs(v) < 1e12, decimals <= 6 else { return nil }
        let format = CounterFormat(
            prefix: String(chars[..<start]), number: NumberStyle(decimals: decimals, grouping: grouping), suffix: String(chars[end...]))
        return (negative ? -v : v, decimals, format)
    }
}
