import Foundation
import SpecLang

extension LayerContext {
    /// The texts a `type_on` layer shows in `span`, as windows of frames: nothing (or the cursor alone) at the start,
    /// then one more piece of the text every step, the cursor after it while typing; once complete, the cursor blinks
    /// (`blink` seconds a blink, `blinks` times or to the end) and then goes. `limit` is how many distinct texts the
    /// layer may show: a longer text types by words, or by runs of characters, so that it keeps within it.
    func typeOnWindows(_ typing: TextTypeOn, span: FrameSpan, limit: Int, path: String, notes: inout [String]) -> [(text: String, span: FrameSpan)] {
        let text = substitute(typing.text)
        let cursor = typing.cursor ?? ""
        // Distinct texts besides the prefixes: the cursor alone, and the whole text without the cursor.
        let extra = typing.cursor == nil ? 0 : (typing.blink != nil ? 2 : 1)
        let (pieces, how, chunk) = TextTypeOn.pieces(text, unit: typing.unit, limit: max(1, limit - extra))
        if how != typing.unit {
            let count = text.count
            let note =
                "\(path).type_on: \(count) characters are more than the layer's \(limit - extra) typing steps, so it types "
                + (how == .word ? "a word at a time (\(pieces.count) words)" : "\(chunk) characters at a time")
            if !notes.contains(note) { notes.append(note) }
        }
        let origin = Double(span.start) / Double(fps)
        // Piece k (1...n) shows from time(k); the whole text from time(n).
        let n = pieces.count
        let time: (Int) -> Double
        switch typing.rate {
        case .perPiece(let every):
            time = { after(origin, every, times: $0) }
        case .over(let d):
            let total: Double
            switch d {
            case .seconds(let s): total = s
            case .beats(let b): total = beatTime(b, after: origin) - origin
            }
            time = { origin + total * Double($0) / Double(max(1, n)) }
        }
        var out: [(String, FrameSpan)] = []
        var start = span.start
        var typed = ""
        func show(_ text: String, until end: Int) {
            let e = min(span.end, max(start, end))
            if e > start { out.append((text, FrameSpan(start, e))) }
            start = e
        }
        for k in 0..<n {
            show(typed + cursor, until: frame(time(k + 1)))
            typed += pieces[k]
            if start >= span.end { return out }
        }
        // Complete: the cursor blinks, then goes.
        if let blink = typing.blink, typing.cursor != nil {
            let done = Double(start) / Double(fps)
            var i = 0
            while start < span.end && (typing.blinks.map { i < $0 } ?? true) && i < 100_000 {
                let t0 = done + Double(i) * blink
                show(typed + cursor, until: frame(t0 + blink / 2))
                show(typed, until: frame(t0 + blink))
                i += 1
            }
            show(typed, until: span.end)
        } else {
            show(typed + cursor, until: span.end)
        }
        return out
    }
}
