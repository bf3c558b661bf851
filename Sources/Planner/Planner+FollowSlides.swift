import Foundation
import SpecLang

extension LayerContext {
    /// How a card's track is named in the layers that follow it (`follow: card`): "card's slide_in right".
    static let cardTrackPrefix = "card's "

    /// A card that slides in from (or out to) off the canvas is moved just far enough for its own drawing to leave
    /// it (`offCanvas`); a label that goes with it (`follow: card`) and reaches outside it (a tag on the card's edge)
    /// stayed on the canvas and showed before its card (design14b F1). Such a slide is lengthened to take every
    /// follower off the canvas too, in the card's own track and in each follower's copy of it, so the two still move
    /// as one. A slide with a `distance`, or one that leaves the card on the canvas, is the designer's and stays as it is.
    func widenCardSlides(_ layers: inout [LayerPlan]) {
        struct Slide: Hashable {
            let card: Int, track: Int
        }
        /// The offset that takes `b` wholly off the canvas on the side a slide by `off` along `p` leaves from.
        func offCanvas(_ b: Bounds, _ p: AnimatedProperty, _ off: Double) -> Double {
            let side: Side = p == .x ? (off > 0 ? .right : .left) : (off > 0 ? .bottom : .top)
            return self.offCanvas(side, b).1
        }
        var widened: [Slide: Double] = [:]
        let planned = layers  // read only until the slides are widened below
        for follower in planned {
            for t in follower.animation where t.onCard && (t.property == .x || t.property == .y) {
                // The slide's offset is its key that is not 0; the card's own track is the one this copies.
                let own = t.source.dropFirst(Self.cardTrackPrefix.count)
                guard own.hasPrefix("slide_"), let off = t.keys.first(where: { $0.value != 0 })?.value,
                    let slide = planned.indices.lazy.compactMap({ c -> Slide? in
                        guard planned[c].pivot == follower.cardPivot else { return nil }
                        return planned[c].animation.firstIndex { !$0.onCard && $0.source == own && $0.keys == t.keys && $0.span == t.span }
                            .map { Slide(card: c, track: $0) }
                    }).first
                else { continue }
                // Only a slide that takes the card wholly off the canvas (within half a pixel).
                guard abs(offCanvas(planned[slide.card].drawnBounds, t.property, off)) <= abs(off) + 0.5 else { continue }
                let need = offCanvas(follower.drawnBounds, t.property, off)
                if abs(need) > abs(widened[slide] ?? off) { widened[slide] = need }
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
                    if t.onCard, t.source == Self.cardTrackPrefix + old.source, t.keys == old.keys, t.span == old.span {
                        widen(&layers[l].animation[i])
                    }
                }
            }
        }
    }
}
