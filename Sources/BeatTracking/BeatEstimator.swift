import Foundation

/// Tempo estimation and dynamic-programming beat tracking over an onset envelope (Ellis 2007, as librosa's
/// `beat_track`), with a metrical-level check, local tempo for tempo changes, and recovery of the first and last
/// beats. Pure computation: no I/O.
package struct BeatEstimator: Sendable {
    /// Length of the autocorrelation windows in seconds (librosa's `ac_size`).
    package var windowSeconds = 8.0
    /// Hop between autocorrelation windows in seconds.
    package var windowHopSeconds = 1.0
    /// Centre of the log-normal tempo prior (BPM) and its spread in octaves.
    package var priorTempo = 120.0
    package var priorOctaves = 1.0
    /// Tempo range the tracked pulse may take.
    package var minTempo = 50.0
    package var maxTempo = 220.0
    /// Penalty on deviating from the period between consecutive beats (librosa's `tightness`).
    package var tightness = 200.0
    /// A slower metrical level is kept only when the onsets between its beats are weaker than this fraction of the
    /// onsets on its beats; otherwise the faster level is the pulse.
    package var subdivisionRatio = 0.6
    /// ... and when the bass onsets between its beats are weaker than this fraction of those on its beats.
    package var bassSubdivisionRatio = 0.3
    /// Pulses faster than this (BPM) are taken only when the onsets between their beats are weaker than
    /// `fastPulseSubdivision` of those on them.
    package var fastPulseTempo = 185.0
    /// Weight of the bass-band envelope against the all-band one in the envelope that is tracked.
    package var bassWeight = 1.0
    /// ... in the envelope the beats are tracked on.
    package var trackingBassWeight = 0.0
    /// The beats move half a period only when the bass onsets between them are this many times those on them.
    package var phaseBassRatio = 4.0
    package var fastPulseSubdivision = 0.25
    /// A level slower than `slowLevelTempo` (BPM) gives way to the faster one when the onsets between its beats reach
    /// `slowSubdivisionRatio` of those on them (bass or not): a pulse that slow is rarely the one that is felt.
    package var slowLevelTempo = 80.0
    package var slowSubdivisionRatio = 0.3
    /// Ternary ascent: a level goes to a third of its period when the onsets at its thirds reach `ternaryRatio` of
    /// those on its beats and `ternaryPreference` times those at its half.
    package var ternaryAscent = true
    package var ternaryRatio = 0.6
    package var ternaryPreference = 1.0
    package var ternaryPairs = true
    package var pairsBassRatio = 0.6
    /// A faster level whose beats miss more than this fraction of the slower level's beats moves half a period.
    package var alignToSlower = true
    package var alignFraction = 0.5
    /// Confidence from phase locking (see `phaseLock`): below `lockMinimum` the confidence shrinks in proportion,
    /// with a phase vector of `lockAccept` or longer over at least `lockPeaks` onsets the track passes `minimumConfidence` whatever its autocorrelation.
    package var lockGate = true
    package var lockMinimum = 6.5
    package var lockAccept = 0.7
    package var lockPeaks = 10.0
    /// ... and when the sections that pass hold at least this fraction of its beats.
    package var lockCoverage = 0.5
    /// When the whole track's onsets lock (as above), a section passes on its own phase locking: a phase vector of
    /// `localLockAccept` over `localLockPeaks` onsets. (Without the whole track's lock, a few random clicks in a
    /// window lock by chance.)
    package var localLockAccept = 0.7
    package var localLockPeaks = 3.0
    /// The tracker follows the per-window tempo curve only when it moves more than this (relative) from its median.
    package var variableTempoDeviation = 0.04
    /// With a tempo curve, a steady period at the same level is taken instead when its beats' mean onset strength
    /// reaches this fraction of the curve's.
    package var preferSteadyTempo = true
    package var steadyTempoMargin = 0.97
    /// ... unless the curve is a trend (R² of a line through it at least this): a ramp or a step is kept.
    package var tempoTrendFit = 0.7
    /// Below this confidence no beats are returned.
    package var minimumConfidence = 0.3
    /// A track below `minimumConfidence` still returns the beats of its reliable sections when they hold at least
    /// this many beats, in sections of at least `minimumSpanSeconds`.
    package var minimumPartialBeats = 8
    package var minimumSpanSeconds = 8.0
    /// Seconds each side of an autocorrelation window's centre that its local confidence vouches for.
    package var spanMarkSeconds = 1.0
    /// Also for a track above `minimumConfidence`, return only the beats inside its reliable sections.
    package var onlyReliableBeats = false
    /// How the metrical level (the pulse among its multiples and fractions) is chosen.
    package enum MetricalSelection: Sendable { case subdivision, scored }
    package var metricalSelection = MetricalSelection.subdivision
    /// Autocorrelation peaks tried as tempo candidates besides the multiples of the coarse period.
    package var candidatePeaks = 5
    /// Centre (BPM) and spread (octaves) of the tempo prior that weighs the scored candidates.
    package var levelPriorTempo = 130.0
    package var levelPriorOctaves = 0.8
    /// Exponent of the periodicity (autocorrelation at the candidate's period) in a candidate's score.
    package var levelPeriodicityWeight = 0.25
    /// Coarse period by a comb over the autocorrelation: a peak scores the mean autocorrelation at this many of its
    /// multiples (1: the peak alone).
    package var combHarmonics = 1
    /// How each level's beats are decoded from the onset envelope while the level is chosen.
    package enum Decoder: Sendable {
        /// Ellis' dynamic programme (librosa's `beat_track`).
        case dynamicProgramme
        /// A bar-pointer hidden Markov model (Whiteley et al., Krebs et al.; the idea of madmom's
        /// `DBNBeatTrackingProcessor`) over (beat interval, position in the beat), decoded by Viterbi: joint tempo
        /// and phase. (Measured for every level: real-music mean F 0.786 against 0.809; not the default.)
        case barPointer
    }
    package var decoder = Decoder.dynamicProgramme
    /// Once the level is chosen on the dynamic programme's beats, decode its beats again with the bar-pointer model
    /// (tempo free within `pointerTempoRange` of the level's period) and return those when `pointerArbitration`
    /// prefers them. The confidence and the reliable sections are still judged on the dynamic programme's chain.
    package var pointerFinal = true
    /// Which of the two beat sequences is returned.
    package enum PointerArbitration: Sendable {
        /// The bar-pointer model's, always.
        case always
        /// The one whose beats sit on the stronger onsets (mean envelope at the beats).
        case onsetStrength
        /// The one with the larger Rayleigh phase-locking statistic.
        case phaseLock
    }
    package var pointerArbitration = PointerArbitration.onsetStrength
    /// A decoded path that misses most of the chosen level's beats moves half a period onto them (the level rules
    /// settle the phase: bass under off-beat chords, the slower level's beats).
    package var pointerKeepPhase = true
    /// Weight of the bass envelope in the bar-pointer model's activation (0: all bands only).
    package var pointerBassWeight = 0.0
    /// log(1 + x) of the activation before decoding.
    package var pointerCompression = false
    /// Intervals within this relative range around the level's period (or the range of its tempo curve).
    package var pointerTempoRange = 0.1
    /// Tempo change penalty: at the end of a beat the interval changes by ratio r with probability ∝ exp(-λ·|r − 1|).
    package var pointerTransitionLambda = 50.0
    /// The beat region is the first 1/λ of a beat.
    package var pointerObservationLambda = 16.0
    /// Observation model. Linear (the default): each frame of a beat region adds `pointerOnsetWeight` × the envelope
    /// (unit standard deviation) to the path's log score, other frames nothing. Probabilistic (madmom's): the
    /// envelope becomes an activation a = x / (x + `pointerActivationScale`), log a in a beat region and
    /// log((1 − a) / (λ − 1)) elsewhere; an onset envelope is no beat probability, and log a rewards avoiding
    /// quiet frames more than hitting strong onsets (real-music mean F 0.61 against 0.81).
    package var pointerProbabilistic = false
    package var pointerOnsetWeight = 4.0
    package var pointerActivationScale = 3.0
    /// The envelope is interpolated to this many times its frame rate before decoding: one frame of interval at
    /// 43 frames a second is a 4 % tempo step at 120 BPM, too coarse to follow a tempo between two integers.
    package var pointerUpsampling = 3
    /// Weight of the learned beat activation (`BeatActivation`, unit standard deviation) against the onset envelope in
    /// the envelope the beats are tracked and decoded on (0: the onset envelope alone). 1 since the fourth round:
    /// real-music mean F 0.814 -> 0.828 (corpus) and 0.613 -> 0.676 (validation), synthetic set unchanged at 1.000;
    /// the tempo, the level rules and the confidence still look at the onset envelope (docs/beats.md). With the TCN
    /// (`activationModel`), 0.6 measured best (fifth round).
    package var activationWeight = 1.0
    /// ... also in the envelope the tempo's autocorrelation is taken on.
    package var activationForTempo = false
    /// ... also in the envelope the metrical-level rules (onsets between the beats, at the thirds) look at.
    package var activationForLevels = false
    /// The activation only in the final bar-pointer decoding (the level is chosen on the onset envelope alone), where
    /// it also settles the phase: of the decoded path and the path half a period away, the one on the stronger
    /// activation.
    package var activationFinalOnly = false
    /// With `activationFinalOnly`: the activation picks the phase of the decoded path (else the level rules' phase
    /// stands, as without the activation).
    package var activationFinalPhase = true
    /// The ternary rules (step 4: thirds between the beats, 3:2 pairs) judge each level on its beats tracked on the
    /// onset envelope alone: the activation can put a level's beats on the triplets of a kick-plus-triplets groove.
    package var ternaryOnPlainBeats = false
    /// The activation settles the phase of the returned beats: they move half a period (onto the activation's peaks)
    /// when the activation there is `activationPhaseMargin` times its mean on them (not when the bass settled it).
    package var activationPhase = false
    package var activationPhaseMargin = 1.2
    /// The activation settles the metrical level of the returned beats: the level doubles (beats added halfway,
    /// on the activation's peaks) when the activation halfway reaches `activationDoubleRatio` of its mean on the
    /// beats; it halves (every other beat kept) when one alternate half of the beats has less than
    /// `activationHalveRatio` of the other's. 0 = off.
    package var activationDoubleRatio = 0.0
    package var activationHalveRatio = 0.0
    /// Which learned activation: the 9-frame MLP (`BeatActivation`, the default since the fourth round) or the
    /// long-context TCN (`BeatTCN`, fifth round: better on both real-music sets at `activationWeight` 0.6, but it
    /// moves triplets over a kick to the 3:2 level, so it is not the default; docs/beats.md).
    package enum ActivationModel: Sendable {
        case mlp
        case tcn
    }
    package var activationModel = ActivationModel.mlp

    package init() {}

    /// Whether `track` needs the learned activation.
    package var usesActivation: Bool {
        activationWeight > 0 || activationPhase || activationDoubleRatio > 0 || activationHalveRatio > 0
    }

    /// Optional diagnostics sink (tests and the benchmark's temporary driver).
    package var debugLog: (@Sendable (String) -> Void)?

    package struct Result: Sendable {
        package var tempo: Double
        package var confidence: Double
        package var beatFrames: [Int]
        /// Frame ranges whose own (local) confidence reaches `minimumConfidence`: the beats there can be trusted.
        package var reliableSpans: [ClosedRange<Int>] = []
        /// Diagnostics for the benchmark and tests.
        package var periodicity: Double
        package var agreement: Double
        /// The level rules vouch for the metrical level against a ternary alternative: it came from the 3:2 pairs
        /// rule, or its thirds are strong but the bass is not on them (triplets over a kick on every beat).
        package var ternaryLevelSettled = false
        /// The bass moved the beats half a period (chords on the off-beat): the phase is settled.
        package var phaseSettled = false
        /// Slowest and fastest tempo (BPM) of the level when it follows a tempo curve (nil: steady).
        package var tempoSpan: ClosedRange<Double>?
    }

    /// `low` is the onset envelope of the bass bands (may be empty): it joins the tempo estimate and decides the
    /// phase when the beats could sit on the off-beats.
    package func track(_ envelope: [Float], low lowEnvelope: [Float] = [], activation: [Float] = [], frameRate: Double) -> Result {
        let empty = Result(tempo: 0, confidence: 0, beatFrames: [], periodicity: 0, agreement: 0)
        let n = envelope.count
        guard n > Int(frameRate * 2) else { return empty }
        var env = envelope.map(Double.init)
        // Normalise to unit standard deviation (librosa divides by std before tracking).
        let mean = env.reduce(0, +) / Double(n)
        let variance = env.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(n - 1, 1))
        let sd = variance.squareRoot()
        guard sd > 1e-6, (env.max() ?? 0) > 1e-6 else { return empty }
        for i in 0..<n { env[i] /= sd }
        var low = lowEnvelope.count == n ? lowEnvelope.map(Double.init) : []
        if !low.isEmpty {
            let lowMean = low.reduce(0, +) / Double(n)
            let lowSD = (low.reduce(0) { $0 + ($1 - lowMean) * ($1 - lowMean) } / Double(max(n - 1, 1))).squareRoot()
            if lowSD > 1e-6 { for i in 0..<n { low[i] /= lowSD } } else { low = [] }
        }
        // The learned activation (unit standard deviation) blended in where `activationWeight` says.
        var learned: [Double] = []
        if activation.count == n {
            learned = activation.map(Double.init)
            let m = learned.reduce(0, +) / Double(n)
            let v = (learned.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(n - 1, 1))).squareRoot()
            if v > 1e-6 { for i in 0..<n { learned[i] /= v } } else { learned = [] }
        }
        func blend(_ x: [Double]) -> [Double] {
            learned.isEmpty || activationWeight <= 0 ? x : zip(x, learned).map { (1 - activationWeight) * $0 + activationWeight * $1 }
        }
        // Tempo from all bands and the bass bands together (the bass marks the beat when chords sit between).
        let tempoEnv = low.isEmpty ? env : zip(env, low).map { ($0 + bassWeight * $1) / (1 + bassWeight) }
        let full = env
        env = tempoEnv  // from here on, `env` is the combined envelope (level checks, trimming, confidence)
        // The beats themselves follow all bands: a syncopated bass line must not pull them onto the off-beat.
        let plainTracking = low.isEmpty ? full : zip(full, low).map { ($0 + trackingBassWeight * $1) / (1 + trackingBassWeight) }
        let trackingEnv = activationFinalOnly ? plainTracking : blend(plainTracking)
        let levelEnv = activationForLevels ? blend(env) : env
        let strengthEnv = blend(full)

        let minLag = max(2, Int((60 * frameRate / maxTempo).rounded(.down)) - 1)
        let maxLag = Int((60 * frameRate / (minTempo / 2)).rounded(.up)) + 2
        let acf = windowedAutocorrelation(activationForTempo ? blend(tempoEnv) : tempoEnv, frameRate: frameRate, maxLag: maxLag)
        guard !acf.windows.isEmpty else { return empty }

        // 1. Coarse period: the autocorrelation peak weighted by a log-normal prior around 120 BPM, over the mean
        //    of all windows and over each window (the local tempo, for tempo changes).
        guard let global = preferredPeriod(acf.mean, minLag: minLag, maxLag: maxLag, frameRate: frameRate) else { return empty }
        let curve = tempoCurve(acf, minLag: minLag, maxLag: maxLag, frameRate: frameRate)
        var coarse = global
        var variable: [Double]?  // per window, when the tempo really moves
        if let curve {
            let reference = curve.sorted()[curve.count / 2]
            coarse = fold(global, to: reference)
            let deviation = curve.map { abs($0 / reference - 1) }.max() ?? 0
            if deviation > variableTempoDeviation { variable = curve.map { $0 / reference } }  // relative to the reference
            if variable != nil { coarse = reference }
        }

        // 2. Metrical level: each candidate is tracked (3.) and phase-corrected; from the slowest, go faster while
        //    the onsets halfway between beats are as strong as the onsets on them.
        let localScore = smoothedScore(trackingEnv, period: coarse)
        struct Level {
            var period: Double
            var periods: [Double]?
            var beats: [Int]
            var ratio: Double
            var lowRatio: Double
            var score: Double
            /// The bass moved the beats half a period (step 6): the phase is settled.
            var bassPhase = false
            /// The same level tracked on the onset envelope alone (no activation), for the ternary rules.
            var plainBeats: [Int]?
            /// The level came from the 3:2 pairs rule.
            var pairs = false
        }
        let plainScore = ternaryOnPlainBeats && !learned.isEmpty ? smoothedScore(plainTracking, period: coarse) : []
        func level(_ p: Double, periods: [Double]?) -> Level {
            // 3. Ellis' dynamic programme at this level.
            let raw =
                decoder == .barPointer
                ? barPointer(trackingEnv, periods: periods, period: p)
                : dynamicProgram(localScore, periods: periods, period: p)
            var tracked = raw
            // Phase first: when the bass onsets fall overwhelmingly between the beats, the beats sit on the
            // off-beat (chords between bass notes): move them before judging the level.
            if !low.isEmpty { tracked = correctPhase(tracked, env: full, low: low, periods: periods, period: p) }
            let ratio = subdivisionStrength(levelEnv, beats: tracked)
            // Onsets between the beats that carry no bass (chords on the off-beat) do not make a faster pulse.
            let lowRatio = low.isEmpty ? 1 : subdivisionStrength(low, beats: tracked)
            let score = levelScore(full, beats: tracked, period: p, acf: acf, frameRate: frameRate)
            debugLog?(
                "candidate bpm \(60 * frameRate / p) variable \(periods != nil) beats \(tracked.count) ratio \(ratio) low \(lowRatio) score \(score)")
            var plainBeats: [Int]?
            if !plainScore.isEmpty && decoder == .dynamicProgramme {
                let beats = dynamicProgram(plainScore, periods: periods, period: p)
                plainBeats = low.isEmpty ? beats : correctPhase(beats, env: full, low: low, periods: periods, period: p)
            }
            return Level(
                period: p, periods: periods, beats: tracked, ratio: ratio, lowRatio: lowRatio, score: score,
                bassPhase: tracked != raw, plainBeats: plainBeats)
        }
        var chosen: Level
        switch metricalSelection {
        case .subdivision:
            // From the slowest multiple of the coarse period in range, go faster one level at a time: to half the
            // period when the onsets halfway between the beats are about as strong as those on them, or to a third
            // when the onsets at the thirds are stronger than at the half (a ternary metre: 3/4, 6/8, a shuffle).
            var factor = 4.0
            while factor > 0.25 && 60 * frameRate / (coarse * factor) < minTempo { factor /= 2 }
            func periodsFor(_ p: Double) -> [Double]? {
                variable.map { framePeriods($0.map { $0 * p }, centres: acf.windowCentres, frameCount: n) }
            }
            func candidate(_ f: Double) -> Level? {
                let raw = coarse * f
                let bpm = 60 * frameRate / raw
                guard bpm >= minTempo * 0.99, bpm <= maxTempo else { return nil }
                let p = variable == nil ? (refinePeak(acf.mean, near: raw, tolerance: 0.06) ?? raw) : raw
                return level(p, periods: periodsFor(p))
            }
            // The slower level's beats say which half of the faster grid is on the beat (they beat the onsets
            // between them): a faster grid that tracked the other half moves half its period onto them.
            func aligned(_ faster: Level, to slower: Level) -> Level {
                let tolerance = max(2, Int((0.1 * faster.period).rounded()))
                let hits = slower.beats.filter { b in faster.beats.contains { abs($0 - b) <= tolerance } }.count
                guard !faster.bassPhase, slower.beats.count >= 4, Double(hits) < alignFraction * Double(slower.beats.count) else { return faster }
                let moved = halfShift(faster.beats, env: full, low: low, periods: faster.periods, period: faster.period)
                let movedHits = slower.beats.filter { b in moved.contains { abs($0 - b) <= tolerance } }.count
                debugLog?("align \(60 * frameRate / faster.period): \(hits) -> \(movedHits) of \(slower.beats.count)")
                guard movedHits > hits else { return faster }
                var result = faster
                result.beats = moved
                result.ratio = subdivisionStrength(levelEnv, beats: moved)
                result.lowRatio = low.isEmpty ? 1 : subdivisionStrength(low, beats: moved)
                return result
            }
            guard var current = candidate(factor) ?? candidate(1) else { return empty }
            var steps = 0
            ascent: while steps < 8 {
                steps += 1
                let slowTempo = 60 * frameRate / current.period
                if ternaryAscent {
                    let judged = current.plainBeats ?? current.beats
                    let thirds = thirdsStrength(levelEnv, beats: judged)
                    let lowThirds = low.isEmpty ? 1 : thirdsStrength(low, beats: judged)
                    debugLog?("thirds at \(slowTempo): \(thirds) low \(lowThirds) vs halves \(current.ratio)")
                    if thirds >= ternaryRatio && thirds > ternaryPreference * current.ratio && lowThirds >= bassSubdivisionRatio {
                        if let faster = candidate(factor / 3),
                            60 * frameRate / faster.period <= fastPulseTempo || faster.ratio < fastPulseSubdivision
                        {
                            factor /= 3
                            current = faster
                            continue ascent
                        }
                        // The thirds are too fast to be the pulse: pairs of them are (a 3:2 grouping, the beat at
                        // two thirds of this period), when nothing sits halfway between this level's beats and the
                        // bass plays on the thirds (a bass on the beat under triplets keeps the slower pulse).
                        if ternaryPairs && current.ratio < subdivisionRatio && lowThirds >= pairsBassRatio, let faster = candidate(factor * 2 / 3),
                            60 * frameRate / faster.period <= fastPulseTempo || faster.ratio < fastPulseSubdivision
                        {
                            debugLog?("ternary pairs: \(60 * frameRate / faster.period)")
                            current = faster
                            current.pairs = true
                            break ascent
                        }
                    }
                }
                let subdivided =
                    (current.ratio >= subdivisionRatio && current.lowRatio >= bassSubdivisionRatio)
                    || (slowTempo < slowLevelTempo && current.ratio >= slowSubdivisionRatio)
                guard subdivided, let faster = candidate(factor / 2) else { break }
                // A pulse above `fastPulseTempo` must also be clean (little between its own beats); otherwise a
                // dense groove (syncopated bass, sixteenths) keeps its slower, perceived pulse.
                let fasterTempo = 60 * frameRate / faster.period
                guard fasterTempo <= fastPulseTempo || faster.ratio < fastPulseSubdivision else { break }
                factor /= 2
                current = alignToSlower ? aligned(faster, to: current) : faster
            }
            chosen = current
        case .scored:
            // Candidates: the strongest autocorrelation peaks in the tempo range, and the coarse period times 2, 1/2,
            // 3/2, 2/3, 3 and 1/3 (octave and binary/ternary confusions). Each is tracked; the one whose beats sit on
            // the strongest onsets wins, weighted by a log-normal tempo prior and the periodicity at its period.
            var periodsTried: [Double] = []
            var levels: [Level] = []
            func consider(_ p: Double, periods: [Double]?) {
                let bpm = 60 * frameRate / p
                guard bpm >= minTempo, bpm <= maxTempo, !periodsTried.contains(where: { abs(p / $0 - 1) < 0.04 }) else { return }
                periodsTried.append(p)
                levels.append(level(p, periods: periods))
            }
            let factors = [1.0, 2.0, 0.5, 1.5, 2.0 / 3.0, 3.0, 1.0 / 3.0]
            for factor in factors {
                let raw = coarse * factor
                if let variable {
                    consider(raw, periods: framePeriods(variable.map { $0 * raw }, centres: acf.windowCentres, frameCount: n))
                } else {
                    consider(refinePeak(acf.mean, near: raw, tolerance: 0.06) ?? raw, periods: nil)
                }
            }
            let loLag = max(2, Int((60 * frameRate / maxTempo).rounded(.down)))
            let hiLag = min(acf.mean.count - 2, Int((60 * frameRate / minTempo).rounded(.up)))
            if loLag < hiLag {
                let ac = acf.mean
                var peaks: [Int] = []
                for lag in loLag...hiLag where ac[lag] > 0 && ac[lag] >= ac[lag - 1] && ac[lag] >= ac[lag + 1] { peaks.append(lag) }
                peaks.sort { ac[$0] > ac[$1] }
                peaks = Array(peaks.prefix(candidatePeaks))
                for lag in peaks { consider(refinePeak(acf.mean, near: Double(lag), tolerance: 0.05) ?? Double(lag), periods: nil) }
            }
            guard let best = levels.max(by: { $0.score < $1.score }) else { return empty }
            chosen = best
        }
        // A tempo curve must earn its keep: when one steady period at the same level puts the beats on onsets as
        // strong as the curve's, the curve was following noise in the window peaks (real music), not the tempo.
        if let curve = variable, preferSteadyTempo, trendFit(curve) < tempoTrendFit {
            let steadyPeriod = refinePeak(acf.mean, near: chosen.period, tolerance: 0.08) ?? chosen.period
            var steady = level(steadyPeriod, periods: nil)
            steady.pairs = chosen.pairs
            let curveStrength = meanStrength(strengthEnv, beats: chosen.beats)
            let steadyStrength = meanStrength(strengthEnv, beats: steady.beats)
            debugLog?("steady \(60 * frameRate / steadyPeriod) strength \(steadyStrength) vs curve \(curveStrength)")
            if steady.beats.count >= 4 && steadyStrength >= steadyTempoMargin * curveStrength {
                chosen = steady
                variable = nil
            }
        }
        let period = chosen.period
        let local = chosen.periods
        var beats = chosen.beats
        // The beats returned when the track is confident: the dynamic programme's, or the bar-pointer model's. The
        // confidence and the reliable sections are always judged on the dynamic programme's rigid chain (a decoder
        // free to bend the tempo finds onsets to sit on in speech and random clicks too).
        var pointerBeats: [Int]?
        if pointerFinal && decoder == .dynamicProgramme {
            var activation = activationFinalOnly ? blend(plainTracking) : trackingEnv
            if pointerBassWeight > 0, !low.isEmpty {
                activation = zip(full, low).map { ($0 + pointerBassWeight * $1) / (1 + pointerBassWeight) }
            }
            if pointerCompression { activation = activation.map { log1p(max(0, $0)) } }
            var decoded = barPointer(activation, periods: local, period: period)
            // The phase the level rules settled (bass under off-beat chords, the slower level's beats) stands: a
            // decoded path that mostly misses the chosen beats moves half a period onto them.
            let tolerance = max(2, Int((0.1 * period).rounded()))
            func hits(_ xs: [Int]) -> Int { xs.filter { b in beats.contains { abs($0 - b) <= tolerance } }.count }
            let h = hits(decoded)
            if activationFinalOnly && activationFinalPhase && !learned.isEmpty {
                let moved = halfShift(decoded, env: full, low: low, periods: local, period: period)
                if meanStrength(strengthEnv, beats: moved) > meanStrength(strengthEnv, beats: decoded) { decoded = moved }
            } else if pointerKeepPhase, Double(h) < 0.5 * Double(decoded.count) {
                let moved = halfShift(decoded, env: full, low: low, periods: local, period: period)
                if hits(moved) > h { decoded = moved }
            }
            debugLog?("pointer: \(decoded.count) beats, dp \(beats.count)")
            switch pointerArbitration {
            case .onsetStrength:
                let a = meanStrength(strengthEnv, beats: decoded), b = meanStrength(strengthEnv, beats: beats)
                debugLog?("arbitrate strength pointer \(a) dp \(b)")
                if decoded.count >= 2 && a >= b { pointerBeats = decoded }
            case .phaseLock:
                let a = phaseLock(full, beats: decoded), b = phaseLock(full, beats: beats)
                debugLog?("arbitrate lock pointer \(a) dp \(b)")
                if decoded.count >= 2 && a.peaks * a.strength * a.strength >= b.peaks * b.strength * b.strength { pointerBeats = decoded }
            case .always:
                if decoded.count >= 2 { pointerBeats = decoded }
            }
        }
        guard beats.count >= 2 else { return empty }

        // 4. Trim beats that run into silence or noise, then recover beats the chain missed at the start and end.
        beats = trim(beats, env, period: period)
        beats = extend(beats, env, periods: local, period: period)
        guard beats.count >= 2 else { return empty }

        // 5. Confidence from the periodicity strength and the beat-onset agreement.
        var periodicity = 0.0
        if let variable {
            for (w, ac) in acf.windows.enumerated() { periodicity += interpolate(ac, at: variable[w] * period) }
            periodicity /= Double(acf.windows.count)
        } else {
            periodicity = interpolate(acf.mean, at: period)
        }
        periodicity = max(0, min(1, periodicity))
        let agreement = onsetAgreement(env, beats: beats)
        var confidence = max(0, min(1, (periodicity - 0.1) / 0.3)) * agreement
        // Phase locking of the clear onsets to the beats (a Rayleigh statistic): a pulse locks them, speech and noise
        // do not. Too little locking vetoes a confident autocorrelation (counted speech); strong locking vouches
        // for a pulse whose autocorrelation is weak (a soft or sparse accompaniment).
        let lock = phaseLock(full, beats: beats)
        let lockScore = lock.peaks * lock.strength * lock.strength
        if lockGate && lockScore < lockMinimum { confidence *= lockScore / lockMinimum }
        // 6. The same confidence per section: where it holds, the beats there are reliable even when the track as a
        //    whole is not (a rubato intro, a breakdown, a pulse that comes in late).
        let locked = lockGate && lock.peaks >= lockPeaks && lock.strength >= lockAccept
        let spans = reliableSpans(
            env, lockEnvelope: locked ? full : nil, beats: beats, acf: acf, period: period, variable: variable, frameRate: frameRate)
        let inSpans = beats.filter { b in spans.contains { $0.contains(b) } }
        // Strongly locked onsets vouch for the whole track when its reliable sections hold most of its beats (a
        // pulse after a stretch of noise locks its clicks too, but stays partial).
        if locked, Double(inSpans.count) >= lockCoverage * Double(beats.count) {
            confidence = max(confidence, min(1, minimumConfidence * lock.strength / lockAccept))
        }
        debugLog?(
            String(
                format: "LOCK %.2f n %.1f z %.1f conf %.2f agr %.2f cover %d/%d", lock.strength, lock.peaks, lockScore, confidence, agreement,
                inSpans.count, beats.count))
        debugLog?("confidence \(confidence) periodicity \(periodicity) agreement \(agreement) spans \(spans)")
        guard confidence >= minimumConfidence else {
            // Partial beats: only those inside reliable sections, and only when those sections hold a real pulse.
            guard inSpans.count >= minimumPartialBeats else {
                return Result(tempo: 0, confidence: confidence, beatFrames: [], periodicity: periodicity, agreement: agreement)
            }
            return Result(
                tempo: tempoFromBeats(inSpans, frameRate: frameRate, period: period, periods: local), confidence: confidence,
                beatFrames: inSpans, reliableSpans: spans, periodicity: periodicity, agreement: agreement)
        }
        if let decoded = pointerBeats, !onlyReliableBeats {
            let output = extend(trim(decoded, env, period: period), env, periods: local, period: period)
            if output.count >= 2 { beats = output }
        }
        if !learned.isEmpty && beats.count >= 4 {
            beats = settleWithActivation(
                beats, learned: learned, phaseSettled: chosen.bassPhase, periods: local, period: period, frameRate: frameRate)
        }
        let kept = onlyReliableBeats && inSpans.count >= minimumPartialBeats ? inSpans : beats
        var ternarySettled = chosen.pairs
        if !ternarySettled, !low.isEmpty {
            let judged = chosen.plainBeats ?? chosen.beats
            ternarySettled = thirdsStrength(levelEnv, beats: judged) >= ternaryRatio && thirdsStrength(low, beats: judged) < pairsBassRatio
        }
        return Result(
            tempo: tempoFromBeats(kept, frameRate: frameRate, period: period, periods: local), confidence: confidence,
            beatFrames: kept, reliableSpans: spans, periodicity: periodicity, agreement: agreement,
            ternaryLevelSettled: ternarySettled, phaseSettled: chosen.bassPhase,
            tempoSpan: local.map { 60 * frameRate / ($0.max() ?? period)...60 * frameRate / ($0.min() ?? period) })
    }

    /// Phase and metrical level of a confident track's beats by the learned activation (see `activationPhase`,
    /// `activationDoubleRatio`, `activationHalveRatio`).
    func settleWithActivation(
        _ input: [Int], learned: [Double], phaseSettled: Bool, periods: [Double]?, period: Double, frameRate: Double
    ) -> [Int] {
        var beats = input
        // The bass under off-beat chords settled the phase (step 6): the activation, which hears a chord as a beat,
        // does not overrule it.
        if activationPhase && !phaseSettled {
            let moved = halfShift(beats, env: learned, low: [], periods: periods, period: period)
            let a = meanStrength(learned, beats: moved), b = meanStrength(learned, beats: beats)
            debugLog?("activation phase: moved \(a) vs \(b)")
            if a > activationPhaseMargin * b { beats = moved }
        }
        let tempo = 60 * frameRate / period
        if activationDoubleRatio > 0, tempo * 2 <= maxTempo {
            let mids = halfShift(beats, env: learned, low: [], periods: periods, period: period)
            let on = meanStrength(learned, beats: beats), mid = meanStrength(learned, beats: mids)
            debugLog?("activation double: mid \(mid) vs on \(on)")
            if mid >= activationDoubleRatio * on { return (beats + mids).sorted() }
        }
        if activationHalveRatio > 0, tempo / 2 >= minTempo {
            let even = stride(from: 0, to: beats.count, by: 2).map { beats[$0] }
            let odd = stride(from: 1, to: beats.count, by: 2).map { beats[$0] }
            let e = meanStrength(learned, beats: even), o = meanStrength(learned, beats: odd)
            debugLog?("activation halve: even \(e) odd \(o)")
            if min(e, o) < activationHalveRatio * max(e, o) { return e >= o ? even : odd }
        }
        return beats
    }

    /// Sections (unions of autocorrelation windows) whose local confidence, computed as the track's from the
    /// window's periodicity at the tracked period and the beats inside it, reaches `minimumConfidence`. Spans
    /// shorter than `minimumSpanSeconds` are dropped; each span is clipped to the first and last beat inside it.
    func reliableSpans(
        _ env: [Double], lockEnvelope: [Double]?, beats: [Int], acf: Autocorrelation, period: Double, variable: [Double]?, frameRate: Double
    ) -> [ClosedRange<Int>] {
        guard beats.count >= 2, !acf.windows.isEmpty else { return [] }
        let n = env.count
        let mean = env.reduce(0, +) / Double(n)
        let sd = (env.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)).squareRoot()
        let threshold = mean + sd
        let half = Int((windowSeconds * frameRate / 2).rounded())
        let markHalf = Int((spanMarkSeconds * frameRate).rounded())
        var good = [Bool](repeating: false, count: n)
        for (w, ac) in acf.windows.enumerated() {
            let centre = acf.windowCentres[w]
            let lo = max(0, centre - half), hi = min(n - 1, centre + half)
            let inside = beats.filter { $0 >= lo && $0 <= hi }
            guard inside.count >= 4 else { continue }
            let p = variable.map { $0[w] * period } ?? period
            let periodicity = max(0, min(1, interpolate(ac, at: p)))
            let hits = inside.filter { strength(env, at: $0, radius: 1) > threshold }.count
            var local = max(0, min(1, (periodicity - 0.1) / 0.3)) * Double(hits) / Double(inside.count)
            if let lockEnvelope, local < minimumConfidence {
                let lock = phaseLock(lockEnvelope, beats: inside)
                if lock.peaks >= localLockPeaks && lock.strength >= localLockAccept { local = minimumConfidence }
            }
            // Mark the middle of the window (its own stretch of the hop grid), or to the edge for the end windows.
            let markLo = w == 0 ? 0 : max(0, centre - markHalf)
            let markHi = w == acf.windows.count - 1 ? n - 1 : min(n - 1, centre + markHalf)
            if local >= minimumConfidence && markLo <= markHi { for f in markLo...markHi { good[f] = true } }
        }
        var spans: [ClosedRange<Int>] = []
        var f = 0
        let minimumFrames = Int(minimumSpanSeconds * frameRate)
        while f < n {
            guard good[f] else { f += 1; continue }
            var end = f
            while end + 1 < n && good[end + 1] { end += 1 }
            // From the first to the last beat of the section that lands on a clear onset.
            let inside = beats.filter { $0 >= f && $0 <= end && strength(env, at: $0, radius: 1) > threshold }
            if end - f + 1 >= minimumFrames, let first = inside.first, let last = inside.last, first < last { spans.append(first...last) }
            f = end + 1
        }
        return spans
    }

    /// R² of a straight line through the tempo curve: high for a ramp or a step, low for a curve that wanders.
    func trendFit(_ curve: [Double]) -> Double {
        let n = Double(curve.count)
        guard curve.count >= 3 else { return 0 }
        let mx = (n - 1) / 2, my = curve.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (i, y) in curve.enumerated() {
            sxy += (Double(i) - mx) * (y - my); sxx += (Double(i) - mx) * (Double(i) - mx); syy += (y - my) * (y - my)
        }
        guard sxx > 0, syy > 0 else { return 0 }
        return sxy * sxy / (sxx * syy)
    }

    /// Mean onset strength on the beats.
    func meanStrength(_ env: [Double], beats: [Int]) -> Double {
        guard !beats.isEmpty else { return 0 }
        return beats.reduce(0) { $0 + strength(env, at: $1, radius: 1) } / Double(beats.count)
    }

    /// How well a candidate's beats explain the onsets: the mean onset strength on its beats (the envelope has unit
    /// standard deviation), times the tempo prior, times the periodicity at its period to a small power.
    func levelScore(_ env: [Double], beats: [Int], period: Double, acf: Autocorrelation, frameRate: Double) -> Double {
        guard beats.count >= 4 else { return 0 }
        var on = 0.0
        for b in beats { on += strength(env, at: b, radius: 1) }
        on /= Double(beats.count)
        let bpm = 60 * frameRate / period
        let z = log2(bpm / levelPriorTempo) / levelPriorOctaves
        let periodicity = max(0.01, interpolate(acf.mean, at: period))
        return on * exp(-0.5 * z * z) * pow(periodicity, levelPeriodicityWeight)
    }

    // MARK: - Autocorrelation

    struct Autocorrelation {
        /// Mean over windows of the normalised autocorrelation, by lag.
        var mean: [Double]
        var windows: [[Double]]
        var windowCentres: [Int]
    }

    func windowedAutocorrelation(_ env: [Double], frameRate: Double, maxLag: Int) -> Autocorrelation {
        let n = env.count
        let length = min(n, Int((windowSeconds * frameRate).rounded()))
        let hop = max(1, Int((windowHopSeconds * frameRate).rounded()))
        let lags = min(maxLag + 1, length)
        let hann = (0..<length).map { 0.5 - 0.5 * cos(2 * Double.pi * (Double($0) + 0.5) / Double(length)) }
        var mean = [Double](repeating: 0, count: lags)
        var windows: [[Double]] = []
        var centres: [Int] = []
        var segment = [Double](repeating: 0, count: length)
        var start = 0
        while true {
            let end = start + length
            if end > n { break }
            var m = 0.0
            for k in 0..<length { m += env[start + k] }
            m /= Double(length)
            for k in 0..<length { segment[k] = (env[start + k] - m) * hann[k] }
            var ac = [Double](repeating: 0, count: lags)
            segment.withUnsafeBufferPointer { s in
                for lag in 0..<lags {
                    var sum = 0.0
                    for k in 0..<(length - lag) { sum += s[k] * s[k + lag] }
                    ac[lag] = sum
                }
            }
            if ac[0] > 1e-9 {
                let norm = 1 / ac[0]
                for lag in 0..<lags { ac[lag] *= norm; mean[lag] += ac[lag] }
                windows.append(ac)
                centres.append(start + length / 2)
            }
            if end == n { break }
            start = min(start + hop, n - length)
        }
        if !windows.isEmpty { for lag in 0..<lags { mean[lag] /= Double(windows.count) } }
        return Autocorrelation(mean: mean, windows: windows, windowCentres: centres)
    }

    /// The highest local maximum of `values` within ±tolerance (relative) of `lag`, refined by a parabola.
    func refinePeak(_ values: [Double], near lag: Double, tolerance: Double) -> Double? {
        let lo = max(1, Int((lag * (1 - tolerance)).rounded(.down)))
        let hi = min(values.count - 2, Int((lag * (1 + tolerance)).rounded(.up)))
        guard lo <= hi else { return nil }
        var best = -1
        for l in lo...hi where values[l] >= values[l - 1] && values[l] >= values[l + 1] {
            if best < 0 || values[l] > values[best] { best = l }
        }
        guard best > 0 else { return nil }
        let a = values[best - 1], b = values[best], c = values[best + 1]
        let denominator = a - 2 * b + c
        let shift = abs(denominator) > 1e-12 ? 0.5 * (a - c) / denominator : 0
        return Double(best) + max(-0.5, min(0.5, shift))
    }

    func interpolate(_ values: [Double], at x: Double) -> Double {
        let i = Int(x.rounded(.down))
        guard i >= 0, i + 1 < values.count else { return 0 }
        let f = x - Double(i)
        return values[i] * (1 - f) + values[i + 1] * f
    }

    /// The lag of the autocorrelation peak that scores best under the log-normal tempo prior, refined.
    func preferredPeriod(_ ac: [Double], minLag: Int, maxLag: Int, frameRate: Double) -> Double? {
        var bestLag = -1
        var bestScore = -Double.infinity
        let upper = min(maxLag, ac.count - 1)
        guard max(minLag, 2) < upper else { return nil }
        for lag in max(minLag, 2)..<upper {
            var a = ac[lag]
            guard a > 0, a >= ac[lag - 1], a >= ac[lag + 1] else { continue }
            if combHarmonics > 1 {
                // Comb filter: the autocorrelation at the lag and its multiples (a pulse repeats at every beat).
                var sum = 0.0, weight = 0.0
                for k in 1...combHarmonics where k * lag < ac.count - 1 {
                    sum += max(0, interpolate(ac, at: Double(k * lag))); weight += 1
                }
                a = sum / max(weight, 1)
            }
            let bpm = 60 * frameRate / Double(lag)
            let z = log2(bpm / priorTempo) / priorOctaves
            let score = a * exp(-0.5 * z * z)
            if score > bestScore { bestScore = score; bestLag = lag }
        }
        guard bestLag > 0 else { return nil }
        return refinePeak(ac, near: Double(bestLag), tolerance: 0.05) ?? Double(bestLag)
    }

    /// Multiplies `period` by a power of two to bring it within half an octave of `reference`.
    func fold(_ period: Double, to reference: Double) -> Double {
        var p = period
        while p > reference * 2.0.squareRoot() { p /= 2 }
        while p < reference / 2.0.squareRoot() { p *= 2 }
        return p
    }

    /// Preferred period of each autocorrelation window, folded into one octave and median-filtered; nil when there
    /// are too few windows.
    func tempoCurve(_ acf: Autocorrelation, minLag: Int, maxLag: Int, frameRate: Double) -> [Double]? {
        guard acf.windows.count >= 5 else { return nil }
        var raw: [Double] = []
        for ac in acf.windows {
            if let p = preferredPeriod(ac, minLag: minLag, maxLag: maxLag, frameRate: frameRate) { raw.append(p) } else { raw.append(.nan) }
        }
        let valid = raw.filter { !$0.isNaN }.sorted()
        guard valid.count >= 5 else { return nil }
        let median = valid[valid.count / 2]
        let folded = raw.map { $0.isNaN ? median : fold($0, to: median) }
        var smooth = folded
        for i in 0..<folded.count {
            let slice = folded[max(0, i - 3)...min(folded.count - 1, i + 3)].sorted()
            smooth[i] = slice[slice.count / 2]
        }
        // A real tempo curve is followed by most windows; scattered per-window peaks (noise) are not a curve.
        let agreeing = zip(folded, smooth).filter { abs($0 / $1 - 1) < 0.04 }.count
        guard Double(agreeing) >= 0.6 * Double(folded.count) else { return nil }
        return smooth
    }

    /// Interpolates per-window periods to every frame.
    func framePeriods(_ perWindow: [Double], centres: [Int], frameCount: Int) -> [Double] {
        var periods = [Double](repeating: perWindow[0], count: frameCount)
        var j = 0
        for f in 0..<frameCount {
            if f <= centres[0] { periods[f] = perWindow[0]; continue }
            if f >= centres[centres.count - 1] { periods[f] = perWindow[perWindow.count - 1]; continue }
            while j + 1 < centres.count && centres[j + 1] < f { j += 1 }
            let t = Double(f - centres[j]) / Double(max(1, centres[j + 1] - centres[j]))
            periods[f] = perWindow[j] * (1 - t) + perWindow[j + 1] * t
        }
        return periods
    }

    // MARK: - Tracking

    /// The onset envelope smoothed by a narrow Gaussian (librosa's local score).
    func smoothedScore(_ env: [Double], period: Double) -> [Double] {
        let p = max(1, Int(period.rounded()))
        let kernel = (-p...p).map { exp(-0.5 * pow(Double($0) * 32 / Double(p), 2)) }
        let n = env.count
        var out = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var sum = 0.0
            for (j, w) in kernel.enumerated() {
                let k = i + j - p
                if k >= 0 && k < n { sum += w * env[k] }
            }
            out[i] = sum
        }
        return out
    }

    /// Ellis' dynamic programme: best chain of beats trading onset strength against deviation from the period.
    func dynamicProgram(_ score: [Double], periods: [Double]?, period: Double) -> [Int] {
        let n = score.count
        guard n > 0 else { return [] }
        var cumulative = [Double](repeating: 0, count: n)
        var backlink = [Int](repeating: -1, count: n)
        let threshold = 0.01 * (score.max() ?? 0)
        var firstBeat = true
        cumulative.withUnsafeMutableBufferPointer { cum in
            score.withUnsafeBufferPointer { s in
                for i in 0..<n {
                    let p = periods?[i] ?? period
                    let lo = i - Int((2 * p).rounded())
                    let hi = i - Int((p / 2).rounded())
                    var best = -Double.infinity
                    var location = -1
                    if hi >= 0 {
                        var prev = max(0, lo)
                        while prev <= hi {
                            let ratio = Double(i - prev) / p
                            let l = log(ratio)
                            let value = cum[prev] - tightness * l * l
                            if value > best { best = value; location = prev }
                            prev += 1
                        }
                    }
                    cum[i] = s[i] + (location >= 0 ? best : 0)
                    if firstBeat && s[i] < threshold {
                        backlink[i] = -1
                    } else {
                        backlink[i] = location
                        firstBeat = false
                    }
                }
            }
        }
        // Last beat: the last local maximum of the cumulative score above half the median of such maxima.
        var maxima: [Int] = []
        for i in 1..<max(1, n - 1) where cumulative[i] > cumulative[i - 1] && cumulative[i] >= cumulative[i + 1] {
            maxima.append(i)
        }
        if n >= 2 && cumulative[n - 1] > cumulative[n - 2] { maxima.append(n - 1) }
        guard !maxima.isEmpty else { return [] }
        let sortedValues = maxima.map { cumulative[$0] }.sorted()
        let median = sortedValues[sortedValues.count / 2]
        guard var beat = maxima.last(where: { cumulative[$0] >= 0.5 * median }) else { return [] }
        var beats = [beat]
        while backlink[beat] >= 0 {
            beat = backlink[beat]
            beats.append(beat)
        }
        return beats.reversed()
    }

    /// Bar-pointer decoding: the hidden state is (beat interval in frames, position within the beat); the position
    /// advances one a frame, and at the end of a beat the interval may change with probability ∝ exp(-λ·|r − 1|).
    /// The beat region (the first 1/λ_obs of the beat) expects an onset, the rest of the beat does not. Viterbi
    /// gives the jointly best tempo and phase path; each beat is the strongest frame of a pass through its region.
    func barPointer(_ env: [Double], periods: [Double]?, period: Double) -> [Int] {
        let u = max(1, pointerUpsampling)
        guard u > 1, env.count > 1 else { return barPointerCore(env, periods: periods, period: period) }
        // Finer tempo resolution: the envelope linearly interpolated to `u` times the frame rate.
        let n = env.count
        var fine = [Double](repeating: 0, count: (n - 1) * u + 1)
        for i in 0..<(n - 1) {
            for k in 0..<u { fine[i * u + k] = env[i] + (env[i + 1] - env[i]) * Double(k) / Double(u) }
        }
        fine[(n - 1) * u] = env[n - 1]
        let beats = barPointerCore(fine, periods: periods.map { $0.map { $0 * Double(u) } }, period: period * Double(u))
        var out: [Int] = []
        for b in beats {
            let f = min(n - 1, Int((Double(b) / Double(u)).rounded()))
            if out.last != f { out.append(f) }
        }
        return out
    }

    func barPointerCore(_ env: [Double], periods: [Double]?, period: Double) -> [Int] {
        let n = env.count
        guard n > 0 else { return [] }
        let lowest = (periods?.min() ?? period) / (1 + pointerTempoRange)
        let highest = (periods?.max() ?? period) * (1 + pointerTempoRange)
        let minInterval = max(2, Int(lowest.rounded(.down)))
        let maxInterval = max(minInterval, Int(highest.rounded(.up)))
        let intervals = Array(minInterval...maxInterval)
        let count = intervals.count
        var offsets = [Int](repeating: 0, count: count + 1)
        for k in 0..<count { offsets[k + 1] = offsets[k] + intervals[k] }
        let states = offsets[count]
        // Transition log-probabilities between intervals, normalised per source interval, stored by destination
        // (`incoming[j * count + i]`: from interval i into interval j), as the Viterbi step reads them.
        var incoming = [Double](repeating: -.infinity, count: count * count)
        for i in 0..<count {
            var row = [Double](repeating: 0, count: count)
            var total = 0.0
            for j in 0..<count {
                let r = Double(intervals[j]) / Double(intervals[i])
                row[j] = exp(-pointerTransitionLambda * abs(r - 1))
                total += row[j]
            }
            for j in 0..<count where row[j] > 0 { incoming[j * count + i] = log(row[j] / total) }
        }
        // Observation log-likelihoods per frame: in a beat region (position < interval / λ) and elsewhere.
        let lambda = pointerObservationLambda
        var onBeat = [Double](repeating: 0, count: n), offBeat = [Double](repeating: 0, count: n)
        for t in 0..<n {
            let x = max(0, env[t])
            if !pointerProbabilistic {
                onBeat[t] = pointerOnsetWeight * x
                offBeat[t] = 0
                continue
            }
            let a = min(0.999, max(0.001, x / (x + pointerActivationScale)))
            onBeat[t] = log(a)
            offBeat[t] = log((1 - a) / (lambda - 1))
        }
        // Region length per interval: at least one frame.
        let region = intervals.map { max(1, Int((Double($0) / lambda).rounded(.up))) }
        var score = [Double](repeating: 0, count: states)
        var next = [Double](repeating: 0, count: states)
        // Uniform start.
        for k in 0..<count {
            for pos in 0..<intervals[k] { score[offsets[k] + pos] = pos < region[k] ? onBeat[0] : offBeat[0] }
        }
        // Backpointers only for position 0 (the interval it came from); other positions come from position - 1.
        var back = [Int32](repeating: 0, count: n * count)
        // The same sums in the same order as a plain loop over the states, without bounds checks or a branch per state
        // (the transitions read by destination, the last positions gathered): about a third of the analysis's CPU was
        // here (a 3-minute track with a tempo curve).
        var last = [Double](repeating: 0, count: count)
        incoming.withUnsafeBufferPointer { into in
            back.withUnsafeMutableBufferPointer { back in
                for t in 1..<n {
                    for i in 0..<count { last[i] = score[offsets[i] + intervals[i] - 1] }
                    score.withUnsafeBufferPointer { score in
                        next.withUnsafeMutableBufferPointer { next in
                            last.withUnsafeBufferPointer { last in
                                // Entering position 0 of interval j from the last position of some interval i.
                                for j in 0..<count {
                                    var best = -Double.infinity, from = 0
                                    let row = into.baseAddress! + j * count
                                    for i in 0..<count {
                                        let v = last[i] + row[i]
                                        if v > best { best = v; from = i }
                                    }
                                    next[offsets[j]] = best + onBeat[t]
                                    back[t * count + j] = Int32(from)
                                }
                            }
                            let on = onBeat[t], off = offBeat[t]
                            for k in 0..<count {
                                let o = offsets[k], r = min(region[k], intervals[k])
                                let src = score.baseAddress! + o, dst = next.baseAddress! + o
                                for pos in 1..<max(1, r) { dst[pos] = src[pos - 1] + on }
                                for pos in max(1, r)..<intervals[k] { dst[pos] = src[pos - 1] + off }
                            }
                        }
                    }
                    swap(&score, &next)
                }
            }
        }
        // Backtrack.
        var bestState = 0
        for s in 0..<states where score[s] > score[bestState] { bestState = s }
        var k = 0
        while offsets[k + 1] <= bestState { k += 1 }
        var pos = bestState - offsets[k]
        var inRegion = [Bool](repeating: false, count: n)
        var t = n - 1
        while t >= 0 {
            inRegion[t] = pos < region[k]
            if t == 0 { break }
            if pos == 0 {
                let from = Int(back[t * count + k])
                k = from
                pos = intervals[k] - 1
            } else {
                pos -= 1
            }
            t -= 1
        }
        // Each pass through a beat region gives one beat: its strongest frame.
        var beats: [Int] = []
        var f = 0
        while f < n {
            guard inRegion[f] else { f += 1; continue }
            var end = f
            while end + 1 < n && inRegion[end + 1] { end += 1 }
            var best = f
            for i in f...end where env[i] > env[best] { best = i }
            beats.append(best)
            f = end + 1
        }
        return beats
    }

    /// The strongest envelope value within ±radius frames of `frame`.
    func strength(_ env: [Double], at frame: Int, radius: Int = 2) -> Double {
        let lo = max(0, frame - radius), hi = min(env.count - 1, frame + radius)
        guard lo <= hi else { return 0 }
        var m = 0.0
        for i in lo...hi { m = max(m, env[i]) }
        return m
    }

    /// Mean onset strength halfway between beats, relative to the mean on the beats.
    func subdivisionStrength(_ env: [Double], beats: [Int]) -> Double {
        guard beats.count >= 4 else { return 1 }
        var on = 0.0, between = 0.0
        for i in 0..<(beats.count - 1) {
            on += strength(env, at: beats[i], radius: 1)
            between += strength(env, at: (beats[i] + beats[i + 1]) / 2, radius: 1)
        }
        return on > 0 ? between / on : 1
    }

    /// How tightly the clear onsets lock to the beat grid: each onset peak (above mean + 1 sd) gets its phase
    /// between the beats around it; returns the longest strength-weighted mean phase vector over one to four
    /// cycles a beat (one: onsets on the beat; two: also on the off-beat; three: triplets; four: sixteenths, whose
    /// phases cancel at fewer cycles) and the effective number of peaks. The length is about 1/sqrt(peaks) for
    /// onsets unrelated to the grid (speech, noise), near 1 for onsets on the grid.
    func phaseLock(_ env: [Double], beats: [Int]) -> (strength: Double, peaks: Double) {
        guard beats.count >= 4 else { return (0, 0) }
        let n = Double(env.count)
        let mean = env.reduce(0, +) / n
        let sd = (env.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
        let threshold = mean + sd
        var c = [Double](repeating: 0, count: 4), s = [Double](repeating: 0, count: 4)
        var total = 0.0, squares = 0.0
        var j = 0
        for i in max(1, beats[0])..<min(env.count - 1, beats[beats.count - 1]) {
            guard env[i] > threshold, env[i] >= env[i - 1], env[i] > env[i + 1] else { continue }
            while j + 1 < beats.count - 1 && beats[j + 1] <= i { j += 1 }
            let gap = Double(beats[j + 1] - beats[j])
            guard gap > 0 else { continue }
            let phase = 2 * Double.pi * Double(i - beats[j]) / gap
            let w = env[i] - threshold
            for h in 0..<4 {
                c[h] += w * cos(Double(h + 1) * phase)
                s[h] += w * sin(Double(h + 1) * phase)
            }
            total += w
            squares += w * w
        }
        guard total > 0 else { return (0, 0) }
        var strength = 0.0
        for h in 0..<4 {
            let length: Double = (c[h] * c[h] + s[h] * s[h]).squareRoot()
            strength = max(strength, length / total)
        }
        return (strength, total * total / squares)
    }

    /// Mean onset strength at the thirds between beats, relative to the mean on the beats.
    func thirdsStrength(_ env: [Double], beats: [Int]) -> Double {
        guard beats.count >= 4 else { return 0 }
        var on = 0.0, between = 0.0
        for i in 0..<(beats.count - 1) {
            let gap = Double(beats[i + 1] - beats[i])
            on += strength(env, at: beats[i], radius: 1)
            let a = strength(env, at: beats[i] + Int((gap / 3).rounded()), radius: 1)
            let b = strength(env, at: beats[i] + Int((2 * gap / 3).rounded()), radius: 1)
            between += 0.5 * (a + b)
        }
        return on > 0 ? between / on : 0
    }

    /// How far the onset at `frame` stands out from the envelope around it (its median over one period): high on
    /// a beat, low in noise, where every frame looks alike.
    func salience(_ env: [Double], at frame: Int, period: Double) -> Double {
        let half = max(2, Int(period / 2))
        let lo = max(0, frame - half), hi = min(env.count - 1, frame + half)
        guard lo < hi else { return 0 }
        let around = env[lo...hi].sorted()
        return strength(env, at: frame, radius: 1) - around[around.count / 2]
    }

    /// Moves the beats half a period when the bass envelope is much stronger halfway between them than on them.
    func correctPhase(_ beats: [Int], env: [Double], low: [Double], periods: [Double]?, period: Double) -> [Int] {
        guard beats.count >= 4 else { return beats }
        var on = 0.0, between = 0.0
        var mids: [Int] = []
        for i in 0..<(beats.count - 1) {
            let mid = (beats[i] + beats[i + 1]) / 2
            mids.append(mid)
            on += strength(low, at: beats[i], radius: 1)
            between += strength(low, at: mid, radius: 1)
        }
        debugLog?("phase: bass on beats \(on), between \(between)")
        // The bass envelope has unit standard deviation: real bass notes between the beats average well above 1.
        guard between > phaseBassRatio * on, between / Double(mids.count) > 1 else { return beats }
        return halfShift(beats, env: env, low: low, periods: periods, period: period)
    }

    /// The beats moved half a period: each midpoint snapped to the strongest bass-or-full onset within two frames,
    /// with one more beat at each end.
    func halfShift(_ beats: [Int], env: [Double], low: [Double], periods: [Double]?, period: Double) -> [Int] {
        guard beats.count >= 2 else { return beats }
        let mids = (0..<(beats.count - 1)).map { (beats[$0] + beats[$0 + 1]) / 2 }
        var shifted = mids.map { m -> Int in
            var best = m
            for f in max(0, m - 2)...min(env.count - 1, m + 2) where env[f] + (low.isEmpty ? 0 : low[f]) > env[best] + (low.isEmpty ? 0 : low[best]) {
                best = f
            }
            return best
        }
        if let last = beats.last {
            let p = periods?[last] ?? period
            let next = last + Int((p / 2).rounded())
            if next < env.count { shifted.append(next) }
        }
        if let first = beats.first {
            let p = periods?[first] ?? period
            let previous = first - Int((p / 2).rounded())
            if previous >= 0 { shifted.insert(previous, at: 0) }
        }
        return shifted
    }

    /// Drops beats at both ends that do not stand out (the chain running on through silence or noise).
    func trim(_ beats: [Int], _ env: [Double], period: Double) -> [Int] {
        guard beats.count > 2 else { return beats }
        let values = beats.map { salience(env, at: $0, period: period) }
        let threshold = 0.3 * values.sorted()[values.count / 2]
        var lo = 0, hi = beats.count - 1
        while lo < hi && values[lo] < threshold { lo += 1 }
        while hi > lo && values[hi] < threshold { hi -= 1 }
        return Array(beats[lo...hi])
    }

    /// Adds beats before the first and after the last tracked beat while salient onsets keep the pulse.
    func extend(_ beats: [Int], _ env: [Double], periods: [Double]?, period: Double) -> [Int] {
        guard beats.count >= 2 else { return beats }
        let values = beats.map { salience(env, at: $0, period: period) }
        let threshold = 0.3 * values.sorted()[values.count / 2]
        var result = beats
        func peak(near target: Double, radius: Int) -> Int? {
            let centre = Int(target.rounded())
            let lo = max(0, centre - radius), hi = min(env.count - 1, centre + radius)
            guard lo <= hi else { return nil }
            var best = lo
            for i in lo...hi where env[i] > env[best] { best = i }
            return salience(env, at: best, period: period) >= threshold ? best : nil
        }
        // Backwards.
        while let first = result.first {
            let p = periods?[first] ?? period
            let target = Double(first) - p
            let radius = max(2, Int((0.12 * p).rounded()))
            if target < -Double(radius) { break }
            guard let found = peak(near: target, radius: radius), found < first - Int(p / 2) else { break }
            result.insert(found, at: 0)
        }
        // Forwards.
        while let last = result.last {
            let p = periods?[last] ?? period
            let target = Double(last) + p
            let radius = max(2, Int((0.12 * p).rounded()))
            if target > Double(env.count - 1 + radius) { break }
            guard let found = peak(near: target, radius: radius), found > last + Int(p / 2) else { break }
            result.append(found)
        }
        return result
    }

    /// Fraction of beats that land on a clear onset (above the envelope's mean plus half a standard deviation).
    func onsetAgreement(_ env: [Double], beats: [Int]) -> Double {
        guard !beats.isEmpty else { return 0 }
        let n = Double(env.count)
        let mean = env.reduce(0, +) / n
        let sd = (env.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
        let threshold = mean + 1.0 * sd
        let hits = beats.filter { strength(env, at: $0, radius: 1) > threshold }.count
        return Double(hits) / Double(beats.count)
    }

    /// Tempo from the beats: a least-squares fit of beat frame against beat number, numbering beats by how many
    /// (local) periods separate them, so a missed beat does not bend the fit. With a tempo change it is the mean.
    func tempoFromBeats(_ beats: [Int], frameRate: Double, period: Double, periods: [Double]?) -> Double {
        guard beats.count >= 2 else { return 0 }
        if beats.count >= 4 {
            var xs = [0.0]
            for i in 1..<beats.count {
                let p = periods?[beats[i - 1]] ?? period
                xs.append(xs[i - 1] + max(1, (Double(beats[i] - beats[i - 1]) / p).rounded()))
            }
            let ys = beats.map(Double.init)
            let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
            var sxy = 0.0, sxx = 0.0
            for i in 0..<xs.count { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) * (xs[i] - mx) }
            if sxx > 0 {
                let slope = sxy / sxx
                if slope > 0 { return 60 * frameRate / slope }
            }
        }
        let span = min(4, beats.count - 1)
        var spacings: [Double] = []
        for i in 0..<(beats.count - span) { spacings.append(Double(beats[i + span] - beats[i]) / Double(span)) }
        let sorted = spacings.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : 0.5 * (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2])
        return median > 0 ? 60 * frameRate / median : 0
    }
}
