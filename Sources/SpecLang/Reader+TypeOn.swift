import Foundation
internal import Yams

/// `type_on:` on a text layer, and `repeat:`/`yoyo:` on keyframes.
extension Reader {
    /// The layer's `type_on`, typing `text`; nil when the layer has none (or it is wrong, reported). `other` is the
    /// layer's `steps`/`counter`, which cannot go with it.
    func typeOn(_ layer: MappingReader, _ path: String, text: String, other: TextChanges?) -> TextChanges? {
        guard let node = layer.node("type_on") else { return nil }
        let p = join(path, "type_on")
        layer.allow("type_on")
        if other != nil || layer.node("steps") != nil || layer.node("counter") != nil {
            error(node, p, "'type_on' types the layer's 'text'; it does not go with 'steps' or 'counter'")
            return nil
        }
        guard let map = mapping(node, p) else { return nil }
        defer { map.finish() }
        let perChar = map.optional("per_char") { self.interval($0, $1) }
        let duration = map.optional("duration") { self.interval($0, $1) }
        let unit = map.optional("by") { self.enumeration($0, $1, TextTypeOn.Unit.self) } ?? .character
        let cursor = map.optional("cursor") { self.cursor($0, $1) }
        map.allow("blink")
        let blinkNode = map.node("blink")
        var blink: Double? = nil
        if let blinkNode {
            if isNullOrFalse(blinkNode) {
                _ = map.optional("blink") { _, _ in () }
            } else {
                blink = map.optional("blink") { self.number($0, $1, 0.1...10) }
            }
        } else if cursor != nil {
            blink = 1
        }
        let blinks = map.optional("blinks") { self.int($0, $1, 1...1000) }
        if cursor == nil {
            for key in ["blink", "blinks"] where map.node(key) != nil {
                error(map.node(key), join(p, key), "'\(key)' is for the cursor: add one (cursor: \"|\")")
            }
        } else if blink == nil, let n = map.node("blinks") {
            error(n, join(p, "blinks"), "the cursor does not blink (blink: false)")
        }
        let rate: TextTypeOn.Rate
        switch (perChar, duration) {
        case (let c?, nil): rate = .perPiece(c)
        case (nil, let d?): rate = .over(d)
        case (_?, _?):
            error(
                map.node("duration"), join(p, "duration"), "give 'per_char' (a time for each character) or 'duration' (for the whole text), not both")
            return nil
        case (nil, nil):
            if map.node("per_char") == nil && map.node("duration") == nil {
                error(
                    node, p,
                    "needs 'per_char' (seconds or beats for each character: per_char: 0.05) or 'duration' (for the whole text: duration: 0.8)")
            }
            return nil
        }
        return .typeOn(TextTypeOn(text: text, rate: rate, unit: unit, cursor: cursor, blink: blink, blinks: blinks))
    }

    /// A cursor: a short text on one line (at most 4 characters).
    func cursor(_ node: Node, _ path: String) -> String? {
        guard let s = string(node, path) else { return nil }
        guard !s.isEmpty, s.count <= 4, !s.contains(where: \.isNewline), !s.contains("{{") else {
            error(node, path, "expected a short cursor of 1 to 4 characters on one line (cursor: \"|\"), got \(describe(node))")
            return nil
        }
        return s
    }

    /// `repeat: N | forever` and `yoyo: true` next to `keyframes`; nil when neither is given.
    func keyframeRepeat(_ map: MappingReader, _ path: String, frames: [Keyframe]?) -> KeyframeRepeat?? {
        let repeatNode = map.node("repeat"), yoyoNode = map.node("yoyo")
        map.allow("repeat", "yoyo")
        guard repeatNode != nil || yoyoNode != nil else { return .some(nil) }
        let yoyo = map.optional("yoyo") { self.bool($0, $1) } ?? false
        var count: Int?? = nil
        if let repeatNode {
            _ = map.optional("repeat") { _, _ in () }
            if repeatNode.scalar?.string == "forever" {
                count = .some(nil)
            } else if let n = int(
                repeatNode, join(path, "repeat"), 1...KeyframeRepeat.maximumCount,
                expected: "a number of plays from 1 to \(KeyframeRepeat.maximumCount), or forever")
            {
                count = .some(n)
            } else {
                return nil
            }
        } else if let yoyoNode {
            error(yoyoNode, join(path, "yoyo"), "'yoyo' plays every second repeat backwards: give 'repeat' too (repeat: forever)")
            return nil
        }
        guard let count else { return nil }
        if let frames, let first = frames.first, let last = frames.last, last.time - first.time < 0.01 {
            error(
                repeatNode, join(path, "repeat"),
                "the keyframes span no time (\(fmt(first.time)) to \(fmt(last.time)) s): a repeat plays them from the first 't' to the last")
            return nil
        }
        return .some(KeyframeRepeat(count: count, yoyo: yoyo))
    }
}
