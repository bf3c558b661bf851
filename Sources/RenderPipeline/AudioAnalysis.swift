import BeatTracking
import FilterGraphBackend
import Foundation
import LayerCache
import Planner

/// Audio work the pipeline does before or beside the frames, reported to `RenderPipeline`'s observer (tests count
/// it: a second plan of the same track must not run it again).
public enum AudioWork: Sendable, Equatable {
    /// The track's level profile was decoded and measured (highlight choice, loop lining-up, voice speech spans).
    case levelProfile
    /// The beats were analysed (not read from the beat cache).
    case beatAnalysis
    /// One ebur128 measuring pass over the mix (loudness normalisation).
    case loudnessPass
}

/// Content hashes of the audio files of one request, each file hashed at most once.
final class ContentHashes: @unchecked Sendable {
    private var byPath: [String: String] = [:]
    private let lock = NSLock()
    /// Its stamp index spares reading a file that has not changed since it was last hashed.
    private let cache: LayerCache

    init(cache: LayerCache) { self.cache = cache }

    /// The file's SHA-256, or nil when it cannot be read (then nothing about it is cached).
    func hash(_ path: String) -> String? {
        lock.lock()
        if let h = byPath[path] { lock.unlock(); return h }
        lock.unlock()
        guard let h = try? cache.contentHash(ofFile: path) else { return nil }
        lock.lock()
        byPath[path] = h
        lock.unlock()
        return h
    }
}

// The audio measurements are kept in the layer cache (the same folder, memory budget, integrity checks and
// unwritable-folder handling as the prepared pictures), keyed by the files' content hashes, every parameter that
// changes the result, and a version of the code that computes it. The beats keep their own cache (`BeatCache`).
extension RenderPipeline {
    /// Bump when the profile's computation changes.
    static let levelProfileVersion = "audio-profile-1"
    /// Bump when the measuring passes or the gain search change.
    static let loudnessVersion = "loudness-1"

    /// The level profile of the first `maxDuration` seconds of a track, from the cache when the same bytes were
    /// measured over the same span before.
    func levelProfile(path: String, maxDuration: Double, hashes: ContentHashes) throws -> AudioProfile {
        var key: LayerCacheKey?
        if layerCache.isEnabled, let h = hashes.hash(path) {
            var k = LayerCacheKeyBuilder(kind: Self.levelProfileVersion)
            k.add(h)
            k.add(maxDuration)
            k.add(AudioMeasure.profileRate)
            key = k.finish()
        }
        if let key, let bytes = layerCache.value(for: key), let p = AudioProfileCoding.decode(bytes) { return p }
        audioObserver?(.levelProfile)
        let profile = try AudioMeasure.profile(path: path, maxDuration: maxDuration)
        if let key { layerCache.store(AudioProfileCoding.encode(profile), for: key) }
        return profile
    }

    /// The cache key of the plan's loudness normalisation: the measuring graph (without gain), the content of every
    /// file it reads, the target and the limiter; nil when it cannot be cached.
    func loudnessKey(_ plan: RenderPlan, hashes: ContentHashes) -> LayerCacheKey? {
        guard layerCache.isEnabled, let l = plan.audio?.loudness else { return nil }
        var p = plan
        p.audio?.loudness = LoudnessPlan(target: l.target)
        p.audio?.loudness?.truePeakLimit = l.truePeakLimit
        var k = LayerCacheKeyBuilder(kind: Self.loudnessVersion)
        k.add(p.audioGraphText(stage: .measure))
        let inputs = p.audioGraphInputs(firstIndex: 0)
        k.add(inputs.count)
        for input in inputs {
            guard let h = hashes.hash(input.path) else { return nil }
            k.add(input.label)
            k.add(h)
        }
        k.add(l.target)
        k.add(l.truePeakLimit)
        k.add(LoudnessPlan.limiterCeiling)
        return k.finish()
    }

    /// The cached normalisation of the plan's mix, or nil (a miss, or nothing to normalise).
    func cachedLoudness(_ plan: RenderPlan, key: LayerCacheKey?) -> LoudnessPlan? {
        guard let key, let l = plan.audio?.loudness, let bytes = layerCache.value(for: key),
            let stored = try? JSONDecoder().decode(StoredLoudness.self, from: Data(bytes))
        else { return nil }
        var out = l
        out.input = stored.input
        out.gain = stored.gain
        out.predicted = stored.predicted
        return out
    }

    /// Measures the plan's loudness normalisation (several ebur128 passes) and stores it under `key`.
    func measureLoudness(_ plan: RenderPlan, key: LayerCacheKey?, shouldStop: () -> Bool = { false }) throws -> LoudnessPlan? {
        let l: LoudnessPlan?
        do {
            l = try AudioMeasure.normalise(plan: plan, pass: { audioObserver?(.loudnessPass) }, shouldStop: shouldStop)
        } catch let e as BackendError where e.stage == .cancelled {
            throw e
        } catch {
            // A file that cannot be opened or decoded is the audio's trouble, not the loudness measure's (review12 L5).
            let media = (error as? BackendError).map { $0.stage == .openInput || $0.stage == .decode } ?? false
            throw PipelineError(.input, "\(media ? "audio" : "audio loudness"): \(error)", underlying: error as? any Error & Sendable)
        }
        if let key, let l, let data = try? JSONEncoder().encode(StoredLoudness(input: l.input, gain: l.gain, predicted: l.predicted)) {
            layerCache.store([UInt8](data), for: key)
        }
        return l
    }

    /// The plan's loudness normalisation from the cache, or measured now.
    func loudness(_ plan: RenderPlan, hashes: ContentHashes) throws -> LoudnessPlan? {
        let key = loudnessKey(plan, hashes: hashes)
        if let hit = cachedLoudness(plan, key: key) { return hit }
        return try measureLoudness(plan, key: key)
    }

    /// The loudness normalisation for a render: a cache hit is ready at once, a miss is measured on its own thread
    /// beside the first frames (nil when the plan does not normalise).
    func pendingLoudness(_ plan: RenderPlan, hashes: ContentHashes) -> PendingLoudness? {
        guard plan.audio?.loudness != nil else { return nil }
        let key = loudnessKey(plan, hashes: hashes)
        if let hit = cachedLoudness(plan, key: key) { return PendingLoudness(ready: hit) }
        return PendingLoudness { [self] stop in try measureLoudness(plan, key: key, shouldStop: stop) }
    }
}

/// What the loudness cache holds: the measurements, no path.
private struct StoredLoudness: Codable {
    var input: LoudnessMeasurement?
    var gain: Double?
    var predicted: LoudnessMeasurement?
}

/// `AudioProfile` as bytes: `RAP1`, the two rates, then each array (count, then little-endian floats).
enum AudioProfileCoding {
    static let magic = Array("RAP1".utf8)

    static func encode(_ p: AudioProfile) -> [UInt8] {
        var out = magic
        func double(_ v: Double) { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        func floats(_ a: [Float]) {
            withUnsafeBytes(of: UInt64(a.count).littleEndian) { out += $0 }
            for v in a { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        }
        double(p.frameRate)
        double(p.fineRate)
        floats(p.level)
        floats(p.onset)
        floats(p.fine)
        return out
    }

    /// The profile, or nil when the bytes are not one (a miss: it is measured again).
    static func decode(_ bytes: [UInt8]) -> AudioProfile? {
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else { return nil }
        var at = 4
        func u64() -> UInt64? {
            guard at + 8 <= bytes.count else { return nil }
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
            at += 8
            return v
        }
        func floats() -> [Float]? {
            guard let n = u64(), n <= UInt64((bytes.count - at) / 4) else { return nil }
            var a = [Float](repeating: 0, count: Int(n))
            for i in 0..<Int(n) {
                var v: UInt32 = 0
                for j in 0..<4 { v |= UInt32(bytes[at + j]) << (8 * UInt32(j)) }
                a[i] = Float(bitPattern: v)
                at += 4
            }
            return a
        }
        guard let fr = u64().map({ Double(bitPattern: $0) }), let fine = u64().map({ Double(bitPattern: $0) }), fr > 0, fr.isFinite,
            fine >= 0, fine.isFinite, let level = floats(), let onset = floats(), let f = floats(), level.count == onset.count, at == bytes.count
        else { return nil }
        return AudioProfile(frameRate: fr, level: level, onset: onset, fineRate: fine, fine: f)
    }
}
