import Foundation
import SpecLang

extension Planner {
    /// A card that slides in from (or out to) off the canvas is moved just far enough for its own drawing to leave
    /// it; a label that goes with it (`follow: card`) and reaches outside it (a tag on the card's edge) stayed on the
    /// canvas and showed before its card (design14b F1). Such a slide is lengthened to take every follower off the
    /// canvas too, in the card's own track and in each follower's copy of it, so the two still move as one. A slide
    /// with a `distance`, or one that leaves the card on the canvas, is the designer's and stays as it is.
    static func widenCardSlides(_ layers: inout [LayerPlan], width: Int, height: Int) {
        struct Slide: Hashable {
            let card: Int, track: Int
        }
        func even(_ v: Double) -> Double { 2 * (v / 2 - 1e-9).rounded(.up) }
        /// The offset (the key that is not 0) of a slide track.
        func offset(_ t: AnimationTrack) -> Double? {
            guard t.property == .x || t.property == .y else { return nil }
            return t.keys.first { $0.value != 0 }?.value
        }
        /// The offset along the slide's axis and direction that takes `b` wholly off the canvas.
        func offCanvas(_ b: Bounds, _ p: AnimatedProperty, _ off: Double) -> Double {
            switch (p, off > 0) {
            case (.x, true): even(Double(width) - b.minX)
            case (.x, false): -even(b.maxX)
            case (_, true): even(Double(height) - b.minY)
            case (_, false): -even(b.maxY)
            }
        }
        var widened: [Slide: Double] = [:]
        for follower in layers {
            for t in follower.animation where t.onCard && t.source.hasPrefix("card's slide_") {
                guard let off = offset(t),
                    let c = layers.firstIndex(where: { l in
                        l.pivot == follower.cardPivot
                            && l.animation.contains { !$0.onCard && $0.source == t.source.dropFirst(7) && $0.keys == t.keys }
                    }),
                    let k = layers[c].animation.firstIndex(where: {
                        !$0.onCard && $0.source == t.source.dropFirst(7) && $0.keys == t.keys && $0.span == t.span
                    })
                else { continue }
                // Only a slide that takes the card wholly off the canvas (within half a pixel).
                let card = layers[c].drawnBounds
                guard abs(offCanvas(card, t.property, off)) <= abs(off) + 0.5 else { continue }
                let need = offCanvas(follower.drawnBounds, t.property, off)
                let key = Slide(card: c, track: k)
                if abs(need) > abs(widened[key] ?? off) { widened[key] = need }
            }
        }
        for (slide, new) in widened {
            let old = layers[slide.card].animation[slide.track]
            let pivot = layers[slide.card].pivot
            func widen(_ t: inout AnimationTrack) {
                for i in t.keys.indices where t.keys[i].value != 0 { t.keys[i].value = new }
            }
            widen(&layers[slide.card].animation[slide.track])
            for l in layers.indices where layers[l].cardPivot == pivot {
                for i in layers[l].animation.indices {
                    let t = layers[l].animation[i]
                    if t.onCard, t.source == "card's " + old.source, t.keys == old.keys, t.span == old.span { widen(&layers[l].animation[i]) }
                }
            }
        }
    }
}
