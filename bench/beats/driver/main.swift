// Beat-tracking driver for sweeps (bench/beats/driver/build.sh; docs/beats.md, "Seventh round"). For each argument, a
// file of raw 32-bit float mono PCM at 22050 Hz, prints one JSON line: tempo, confidence, CPU seconds of the analysis,
// beats and reliable spans. Knobs from the environment (unset: the default tracker):
//   DBN=0           the fifth round's tracker (no full-range decoder)
//   LRANGE=x        the decoder's level range (0: the whole range's path); FOLD=0, TRIM=0 turn those steps off
//   BASSR=x DRIFT=x the disagreement arbitration's bass ratio and drift thresholds
//   LAM=x FPS=x MINBPM=x MAXBPM=x   BeatDBN's transition lambda, frame rate and tempo range
//   MINCONF=x       the rejection threshold on the onset-envelope confidence
//   SUBDIV BASSSUBDIV FASTPULSE FASTSUBDIV SLOWLEVEL SLOWSUBDIV=x   the estimator's level rules
//   PULSE=0         no activation pulse (ninth round: the onset envelope alone rejects); PULSEACCEPT, PULSESECTION,
//                   PULSEVETO, PULSECONTRAST, PULSEWINDOW=x its thresholds and window (ActivationPulse)
//   OCT=x           the octave by the DBN's score below confidence x (tenth round, default 1.0; 0: off, algorithmVersion
//                   10; 1.01: always, the ninth round's D')
//   METRE=x         the DBN's metre against a ternary level (twelfth round): a 3/4 or 4/3 path kept when its score
//                   per frame is higher by more than x (9: off)
//   RELAM=x         the chosen path decoded again around its tempo with transition lambda x (twelfth round; 0: off)
//   WINDOWS=1       instead, the activation pulse's windows along the full range's path, and the onset envelope's
//                   autocorrelation at the path's period per window (pulseWindows in features.swift)
//   BEATROWS=1      instead, per returned beat: its time, the TCN activation, the bass and the onset envelope at it and
//                   halfway to the next beat (beatRows in features.swift; bench/beats/phase_breaks.py reads it)
//   OCTFORCE=f      fitting only: the octave candidate at factor f (0.5, 1, 2) whenever it exists (twelfth round)
//   OCTDUMP=1       one line "OCTDUMP file {cues}" on stderr per octave decision (OctaveChoice.Cues)
//   OCTRULE=1       the octave by the pair's alternation (OctaveChoice.Rule): OCTTHRESHOLD=x (0.28), OCTBELOW=x
//                   (confidence gate, 1.0; 0: every accepted track); OCTRULE=0: v11c's score
//   FEAT=1          instead, the features of the decisions (features.swift)
//   DEBUG=1         the estimator's debug log on stderr
import Foundation

@main struct Driver {
    static func main() {
        let env = ProcessInfo.processInfo.environment
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write("driver: cannot read \(path)\n".data(using: .utf8)!)
                continue
            }
            let samples: [Float] = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            var tracker = BeatTracker()
            configure(&tracker, env)
            if env["OCTDUMP"] != nil {
                tracker.octave.log = { FileHandle.standardError.write(("OCTDUMP \(path) " + $0 + "\n").data(using: .utf8)!) }
            }
            if env["BEATROWS"] != nil {
                print(beatRows(path: path, samples: samples, tracker: tracker))
                continue
            }
            if env["WINDOWS"] != nil {
                print(pulseWindows(path: path, samples: samples, tracker: tracker))
                continue
            }
            if env["FEAT"] != nil {
                print(features(path: path, samples: samples, tracker: tracker))
                continue
            }
            let start = cpuSeconds()
            let a = tracker.analyze(samples: samples, sampleRate: BeatTracker.analysisRate)
            let cpu = cpuSeconds() - start
            let beats = a.beats.map { String(format: "%.4f", $0) }.joined(separator: ",")
            let spans = a.reliableSpans.map { String(format: "[%.3f,%.3f]", $0.lowerBound, $0.upperBound) }
                .joined(separator: ",")
            print(
                "{\"file\":\"\(path)\",\"tempo\":\(a.tempo),\"confidence\":\(a.confidence),\"cpuSeconds\":\(cpu),"
                    + "\"beats\":[\(beats)],\"spans\":[\(spans)]}")
        }
    }

    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    static func configure(_ t: inout BeatTracker, _ env: [String: String]) {
        func d(_ k: String) -> Double? { env[k].flatMap(Double.init) }
        if let v = d("MINCONF") { t.estimator.minimumConfidence = v }
        // The estimator's level rules (BeatEstimator: subdivisionRatio, bassSubdivisionRatio, fastPulseTempo,
        // fastPulseSubdivision, slowLevelTempo, slowSubdivisionRatio).
        if let v = d("SUBDIV") { t.estimator.subdivisionRatio = v }
        if let v = d("BASSSUBDIV") { t.estimator.bassSubdivisionRatio = v }
        if let v = d("FASTPULSE") { t.estimator.fastPulseTempo = v }
        if let v = d("FASTSUBDIV") { t.estimator.fastPulseSubdivision = v }
        if let v = d("SLOWLEVEL") { t.estimator.slowLevelTempo = v }
        if let v = d("SLOWSUBDIV") { t.estimator.slowSubdivisionRatio = v }
        if let v = d("DBN"), v <= 0 { t.fullRangeDecoder = nil }
        if var dbn = t.fullRangeDecoder {
            if let v = d("FPS") { dbn.frameRate = v }
            if let v = d("LAM") { dbn.transitionLambda = v }
            if let v = d("MINBPM") { dbn.minTempo = v }
            if let v = d("MAXBPM") { dbn.maxTempo = v }
            t.fullRangeDecoder = dbn
        }
        if let v = d("LRANGE") { t.decoderLevelRange = v > 0 ? v : nil }
        if let v = d("FOLD") { t.decoderFoldsLevel = v > 0 }
        if let v = d("TRIM") { t.decoderTrim = v > 0 }
        if let v = d("BASSR") { t.decoderBassRatio = v }
        if let v = d("DRIFT") { t.decoderDrift = v }
        if let v = d("OCT") { t.decoderOctaveByScoreBelow = v > 0 ? v : nil }
        if let v = d("RELAM") { t.decoderFinalLambda = v > 0 ? v : nil }
        if let v = d("METRE") { t.decoderMetreMargin = v < 9 ? v : nil }
        if let v = d("OCTFORCE") { t.octave.forced = v }
        if let v = d("OCTRULE"), v > 0 {
            var rule = OctaveChoice.Rule()
            if let v = d("OCTTHRESHOLD") { rule.threshold = v }
            if let v = d("OCTBELOW") { rule.below = v > 0 ? v : nil }
            t.octave.rule = rule
        }
        if let v = d("PULSE"), v <= 0 { t.activationPulse = nil }
        if let v = d("PULSEACCEPT") { t.activationPulse?.accept = v }
        if let v = d("PULSESECTION") { t.activationPulse?.section = v }
        if let v = d("PULSEVETO") { t.activationPulse?.veto = v }
        if let v = d("PULSECONTRAST") { t.activationPulse?.contrast = v }
        if let v = d("PULSEWINDOW") { t.activationPulse?.windowSeconds = v }
        if env["DEBUG"] != nil {
            t.estimator.debugLog = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }
        }
    }
}
