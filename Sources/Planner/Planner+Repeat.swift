import Foundation
import SpecLang

extension AnimationTrack {
    /// Keyframes that repeat: from `start` (seconds from the start of the video) the keys from `start` to
    /// `start + period` play `count` times (forever when nil), every second play backwards with `yoyo`. The track keeps
    /// one cycle's keys and maps each time into that cycle, so a repeat for a whole video costs no more keys.
    public struct Cycle: Sendable, Equatable {
        public var start: Double
        public var period: Double
        public var count: Int?
        public var yoyo: Bool
        public init(start: Double, period: Double, count: Int?, yoyo: Bool) {
            self.start = start
            self.period = period
            self.count = count
            self.yoyo = yoyo
        }

        /// How close before a play's end a time counts as the next play's start. A frame exactly on a play's end (a
        /// 0.4 s pop repeated from 0.3 s, at 0.7 s) is the next play's first frame in both engines: without it,
        /// rounding sent it to one play's end (a whole card) in one engine and the next one's start (nothing) in the
        /// other, and a time the exported graph writes to six decimals differs by up to 5e-7 s.
        public static let boundary = 1e-5

        /// The time within the first play that shows what `t` shows; before `start`, `t` itself.
        public func localTime(_ t: Double) -> Double {
            let u = t - start
            guard u > 0, period > 0 else { return t }
            var n = ((u + Self.boundary) / period).rounded(.down)
            var r = max(0, u - n * period)
            if let count, n >= Double(count) {
                // Held where the last play ends: its end, or its start when that play ran backwards.
                n = Double(count - 1)
                r = period
            }
            if yoyo && n.truncatingRemainder(dividingBy: 2) == 1 { r = period - r }
            return start + r
        }

        /// `localTime` as an FFmpeg expression of `t` (an expression in seconds).
        public func expression(_ t: String, num: (Double) -> String) -> String {
            let u = "max((\(t))-\(num(start)),0)"
            let p = num(period)
            // `mod` with the play counted as `localTime` counts it.
            func mod(_ q: String) -> String { "max(\(u)-\(q)*floor((\(u)+\(num(Self.boundary)))/\(q)),0)" }
            let inCycle = yoyo ? "\(p)-abs(\(mod(num(2 * period)))-\(p))" : mod(p)
            var local = inCycle
            if let count {
                let end = yoyo && count % 2 == 0 ? "0" : p
                local = "if(gte(\(u)+\(num(Self.boundary)),\(num(period * Double(count)))),\(end),\(inCycle))"
            }
            return "if(lte(\(t),\(num(start))),\(t),\(num(start))+\(local))"
        }
    }
}

extension LayerContext {
    /// `keyframes` with `repeat`: the tracks of one play, each mapped into it by a `Cycle` from the first keyframe's
    /// time to the last's.
    func repeatingTracks(_ frames: [Keyframe], _ again: KeyframeRepeat, span: FrameSpan, of layer: LayerPlan) -> [AnimationTrack] {
        guard let first = frames.first, let last = frames.last else { return [] }
        let s0 = Double(span.start) / Double(fps)
        let cycle = AnimationTrack.Cycle(start: s0 + first.time, period: last.time - first.time, count: again.count, yoyo: again.yoyo)
        let times = again.count.map { "\($0) times" } ?? "forever"
        return tracks([.keyframes(frames)], span: span, of: layer).map { t in
            var t = t
            t.cycle = cycle
            t.source = "keyframes, repeated \(times)\(again.yoyo ? " (yoyo)" : "")"
            return t
        }
    }
}
