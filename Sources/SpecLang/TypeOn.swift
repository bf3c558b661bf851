import Foundation

/// `type_on:` on a text layer: its text appears a piece at a time, as if typed, with an optional cursor that blinks
/// once the text is complete. The planner turns it into text that changes (one plan layer per distinct prefix), so
/// both engines and the exported FFmpeg graph draw it as they draw `steps`.
public struct TextTypeOn: Sendable, Equatable {
    /// How fast it types: a time for every piece (`per_char: 0.05`), or the whole text over a time (`duration: 0.8`).
    public enum Rate: Sendable, Equatable {
        case perPiece(TimePoint)
        case over(TimePoint)
    }
    /// What one step of typing adds. Characters are grapheme clusters (an emoji with its modifiers, a letter with
    /// its marks); words end at a space.
    public enum Unit: String, Sendable, Equatable, CaseIterable {
        case character, word
    }
    /// The text with `{{field}}` placeholders (the layer's `text`).
    public var text: String
    public var rate: Rate
    public var unit: Unit
    /// Drawn after the typed text (`"|"`, `"▍"`); nil for none. It stays while typing and blinks after.
    public var cursor: String?
    /// Seconds of one blink (shown half of it, hidden half); nil: the cursor does not blink.
    public var blink: Double?
    /// Blinks before the cursor goes; nil: it blinks until the layer ends.
    public var blinks: Int?

    public init(text: String, rate: Rate, unit: Unit = .character, cursor: String? = nil, blink: Double? = nil, blinks: Int? = nil) {
        self.text = text
        self.rate = rate
        self.unit = unit
        self.cursor = cursor
        self.blink = blink
        self.blinks = blinks
    }

    /// The pieces typed one after another: `text` cut into units; when there are more than `limit` of them, the
    /// units are words (if there are at most `limit` and more than half of it), else runs of equal numbers of
    /// characters. The pieces joined are
    /// `text`; `how` says which grouping was used.
    public static func pieces(_ text: String, unit: Unit, limit: Int) -> (pieces: [String], how: Unit?, chunk: Int) {
        let characters = text.map(String.init)
        let words = Self.words(text)
        if unit == .character && characters.count <= limit { return (characters, .character, 1) }
        // Words when asked for, or when they make at least half the steps allowed (a few long words type better by
        // runs of characters).
        if words.count <= limit && (unit == .word || 2 * words.count > limit) { return (words, .word, 0) }
        let size = (characters.count + limit - 1) / max(1, limit)
        let chunks = stride(from: 0, to: characters.count, by: size).map { characters[$0..<min(characters.count, $0 + size)].joined() }
        return (chunks, nil, size)
    }

    /// `text` cut after each run of spaces (a word and the spaces after it; a leading run of spaces is its own word).
    static func words(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var inSpace = false
        for ch in text {
            let space = ch.isWhitespace
            if inSpace && !space && !current.isEmpty {
                out.append(current)
                current = ""
            }
            current.append(ch)
            inSpace = space
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}

/// `repeat:` and `yoyo:` on keyframes: the keyframes (from the first `t` to the last) play `count` times in all, or
/// for as long as the layer shows; with `yoyo` every second play runs backwards, so a swing written once (-8° to 8°)
/// swings both ways. Evaluated periodically, so a repeat costs the plan nothing per cycle.
public struct KeyframeRepeat: Sendable, Equatable {
    /// Plays in all; nil: forever.
    public var count: Int?
    public var yoyo: Bool
    public init(count: Int?, yoyo: Bool = false) {
        self.count = count
        self.yoyo = yoyo
    }
    public static let maximumCount = 10_000
}
