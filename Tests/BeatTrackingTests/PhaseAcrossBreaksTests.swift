import Foundation
import Testing
@testable import BeatTracking

// The twelfth round's continuity step (docs/beats.md, "Twelfth round (continuity, 4:3, rejection)"): the chosen path is
// decoded again around its own tempo with transition lambda 300 (madmom's 100 elsewhere), where the estimator's tempo
// is steady. fof-escape (corpus) is the real case: after each of its breaks the activation peaks on the off-beat for
// a few bars, and at lambda 100 the path drifts there and back (F 0.65; 0.83 now).

@Test func aSteadyPathKeepsItsPhaseThroughABreak() {
    // 120 BPM at 0.9 from 0.2 s; at 12 s a 1.5 s break (no peaks), then 4 s whose peaks fall halfway between the beats
    // (0.9, the beats 0.05), another break, then the beats again.
    var a = [Float](repeating: 0.02, count: 3000)
    var t = 0.2
    while t < 30 {
        let f = Int((t * 100).rounded())
        if t < 12 || t >= 19 {
            a[f] = 0.9
        } else if t >= 13.5 && t < 17.5 {
            a[f] = 0.05
            a[f + 25] = 0.9
        }
        t += 0.5
    }
    func offBeat(_ beats: [Double]) -> Int {
        beats.filter { x in
            let q = (x - 0.2) / 0.5; return abs(q - q.rounded()) > 0.3
        }.count
    }
    let dbn = BeatDBN()
    var level = dbn
    level.minTempo = 120 / 1.15
    level.maxTempo = 120 * 1.15
    let path = level.decode(a, activationRate: 100)
    // Contrast: at lambda 100 (the level path) the off-beat section pulls the path off the beat.
    #expect(offBeat(path.beats) >= 5, "lambda 100: \(offBeat(path.beats)) of \(path.beats.count) beats off the beat")
    let stiff = BeatTracker().redecoded(dbn, activation: a, frameRate: 100, path: path, range: 0.15, lambda: 300)
    #expect(offBeat(stiff.beats) == 0, "lambda 300: \(offBeat(stiff.beats)) of \(stiff.beats.count) beats off the beat")
    #expect(stiff.beats.count >= 55)
}
