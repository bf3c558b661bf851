import FilterGraphBackend
import Foundation
import LayerCache
import Logging
import Planner
import RenderPipeline
import RendcTestSupport
import SpecLang
import Testing

/// The layer cache on its own: keys, the disk format's checks, the memory budget, an unwritable folder.
@Suite struct LayerCacheStoreTests {
    func key(_ parts: String...) -> LayerCacheKey {
        var k = LayerCacheKeyBuilder(kind: "test")
        for p in parts { k.add(p) }
        return k.finish()
    }

    func entries(_ dir: URL) -> [URL] {
        (FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "layer" }
    }

    @Test func fieldsAreLengthPrefixedSoNoTwoFieldListsShareAKey() {
        #expect(key("ab", "c") != key("a", "bc"))
        #expect(key("ab", "c") == key("ab", "c"))
        #expect(key("ab", "c").hex.count == 64)
    }

    @Test func diskEntriesRoundTripAndDamagedOnesAreRemovedAndMissed() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-layers")
        defer { try? FileManager.default.removeItem(at: dir) }
        let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let k = key("picture", "a")
        let writer = LayerCache(configuration: LayerCacheConfiguration(directory: dir.path), logger: Logger(label: "test"))
        writer.store(payload, for: k)
        let files = entries(dir)
        #expect(files.count == 1)
        // The entry's name is its key: no path, tenant or file name of the source.
        #expect(files.first?.lastPathComponent == "\(k.hex).layer")
        // Another process (a fresh cache) reads it back; another key misses.
        let reader = LayerCache(configuration: LayerCacheConfiguration(directory: dir.path), logger: Logger(label: "test"))
        #expect(reader.value(for: k) == payload)
        #expect(reader.value(for: key("picture", "b")) == nil)
        #expect(reader.statistics.diskHits == 1 && reader.statistics.misses == 1)

        // A flipped byte in the payload: the hash check fails, the entry is removed, the lookup misses.
        var bytes = try [UInt8](Data(contentsOf: files[0]))
        bytes[bytes.count - 500] ^= 0x40
        try Data(bytes).write(to: files[0])
        #expect(reader.value(for: k) == nil)
        #expect(reader.statistics.corrupt == 1)
        #expect(!FileManager.default.fileExists(atPath: files[0].path))

        // Truncated: the size check fails.
        writer.store(payload, for: k)
        let whole = try Data(contentsOf: files[0])
        try whole.prefix(whole.count - 1000).write(to: files[0])
        #expect(reader.value(for: k) == nil)
        #expect(reader.statistics.corrupt == 2)

        // An entry copied under another key's name is not that key's entry.
        writer.store(payload, for: k)
        let other = key("picture", "c")
        let otherPath = dir.appendingPathComponent(String(other.hex.prefix(2))).appendingPathComponent("\(other.hex).layer")
        try FileManager.default.createDirectory(at: otherPath.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: files[0], to: otherPath)
        #expect(reader.value(for: other) == nil)
        #expect(reader.value(for: k) == payload)
        // No temporary files are left behind.
        let leftovers = (FileManager.default.enumerator(atPath: dir.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test func memoryKeepsTheMostRecentlyUsedWithinItsBudget() {
        let cache = LayerCache(configuration: LayerCacheConfiguration(memoryBytes: 250), logger: Logger(label: "test"))
        let a = key("a"), b = key("b"), c = key("c")
        cache.store([UInt8](repeating: 1, count: 100), for: a)
        cache.store([UInt8](repeating: 2, count: 100), for: b)
        #expect(cache.value(for: a) != nil)  // a is now more recent than b
        cache.store([UInt8](repeating: 3, count: 100), for: c)
        #expect(cache.statistics.memoryBytes == 200)
        #expect(cache.value(for: b) == nil)
        #expect(cache.value(for: a) == [UInt8](repeating: 1, count: 100))
        #expect(cache.value(for: c) == [UInt8](repeating: 3, count: 100))
        // Larger than the whole budget: not kept.
        cache.store([UInt8](repeating: 4, count: 300), for: b)
        #expect(cache.value(for: b) == nil)
    }

    /// A part of an entry is read and checked alone (its 1 MiB blocks): a damaged block elsewhere does not spoil it,
    /// a damaged block inside it is caught, and a whole read checks every block.
    @Test func aPartOfAnEntryIsReadAndCheckedAlone() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-layers")
        defer { try? FileManager.default.removeItem(at: dir) }
        let payload = (0..<(3 << 20) + 1000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 9) }
        let k = key("loop")
        let cache = LayerCache(configuration: LayerCacheConfiguration(directory: dir.path), logger: Logger(label: "test"))
        cache.store(payload, for: k)
        let inThird = (2 << 20) + 100..<(2 << 20) + 5000, acrossBlocks = (1 << 20) - 10..<(1 << 20) + 10
        #expect(cache.value(for: k, bytes: inThird) == Array(payload[inThird]))
        #expect(cache.value(for: k, bytes: acrossBlocks) == Array(payload[acrossBlocks]))
        #expect(cache.value(for: k, bytes: 0..<(payload.count + 1)) == nil)  // past the end
        // A flipped byte in the first block: the third block still reads; the first does not, and the entry goes.
        let file = entries(dir)[0]
        var bytes = try [UInt8](Data(contentsOf: file))
        bytes[bytes.count - payload.count + 10] ^= 0x01
        try Data(bytes).write(to: file)
        #expect(cache.value(for: k, bytes: inThird) == Array(payload[inThird]))
        #expect(cache.statistics.corrupt == 0)
        #expect(cache.value(for: k, bytes: 0..<100) == nil)
        #expect(cache.statistics.corrupt == 1 && entries(dir).isEmpty)
        // Whole reads check every block.
        cache.store(payload, for: k)
        bytes = try [UInt8](Data(contentsOf: entries(dir)[0]))
        bytes[bytes.count - 1] ^= 0x01
        try Data(bytes).write(to: entries(dir)[0])
        #expect(cache.value(for: k) == nil)
        #expect(cache.statistics.corrupt == 2)
    }

    /// The stamp index spares hashing a file that has not changed, and never hides a change: a file rewritten in
    /// place with the same size and its modification time set back to the very nanosecond still gets its new hash
    /// (its status-change time moved), and a damaged record is removed and the file hashed again.
    @Test func contentHashesComeFromTheStampIndexUntilTheFileChanges() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-stamps")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("photo.jpg")
        let first = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try first.write(to: file)
        // The oracle: the file's bytes hashed directly, no index.
        func sha(_ bytes: Data) throws -> String {
            let f = dir.appendingPathComponent("oracle-\(UUID().uuidString)")
            try bytes.write(to: f)
            defer { try? FileManager.default.removeItem(at: f) }
            return try LayerCache.contentHash(ofFile: f.path)
        }
        let configuration = LayerCacheConfiguration(directory: dir.appendingPathComponent("cache").path)
        // racyWindow 0: the file was written just now, and this test is about what the stamp alone catches.
        func cache() -> LayerCache { LayerCache(configuration: configuration, logger: Logger(label: "test"), racyWindow: 0) }
        let a = cache()
        #expect(try a.contentHash(ofFile: file.path) == sha(first))
        #expect(a.statistics.filesHashed == 1 && a.statistics.hashIndexHits == 0)
        // Another process finds the record on disk and does not read the file.
        let b = cache()
        #expect(try b.contentHash(ofFile: file.path) == sha(first))
        #expect(b.statistics.filesHashed == 0 && b.statistics.hashIndexHits == 1)
        let records = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("cache/stat").path)
        #expect(records.count == 1 && !records[0].contains("photo"))

        // Rewritten in place: same size, other bytes, the modification time restored to the nanosecond.
        var before = stat()
        #expect(stat(file.path, &before) == 0)
        var second = [UInt8](first)
        second[1000] ^= 0xFF
        let fd = open(file.path, O_WRONLY)
        #expect(fd >= 0)
        #expect(second.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) } == second.count)
        close(fd)
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, file.path, &times, 0) == 0)
        var after = stat()
        #expect(stat(file.path, &after) == 0)
        #expect(after.st_size == before.st_size && after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec)
        let c = cache()
        #expect(try c.contentHash(ofFile: file.path) == sha(Data(second)))
        #expect(c.statistics.filesHashed == 1 && c.statistics.hashIndexHits == 0)

        // A damaged record: removed, counted, and the file hashed again.
        let record = dir.appendingPathComponent("cache/stat").appendingPathComponent(records[0])
        var bytes = try [UInt8](Data(contentsOf: record))
        bytes[10] ^= 0x01
        try Data(bytes).write(to: record)
        let d = cache()
        #expect(try d.contentHash(ofFile: file.path) == sha(Data(second)))
        #expect(d.statistics.corrupt == 1 && d.statistics.filesHashed == 1)

        // With the default window, a file changed moments ago gets no record: a rewrite within the same second
        // would keep its stamp on a file system with one-second times.
        let fresh = dir.appendingPathComponent("fresh.png")
        try first.write(to: fresh)
        let e = LayerCache(configuration: configuration, logger: Logger(label: "test"))
        _ = try e.contentHash(ofFile: fresh.path)
        let f = LayerCache(configuration: configuration, logger: Logger(label: "test"))
        _ = try f.contentHash(ofFile: fresh.path)
        #expect(f.statistics.filesHashed == 1 && f.statistics.hashIndexHits == 0)
    }

    @Test func anUnwritableFolderIsNotAnError() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-layers")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A folder below a regular file cannot be created, whoever runs the test (root included).
        let file = dir.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        let cache = LayerCache(
            configuration: LayerCacheConfiguration(directory: file.appendingPathComponent("cache").path), logger: Logger(label: "test"))
        cache.store([1, 2, 3], for: key("a"))
        cache.store([1, 2, 3], for: key("b"))
        #expect(cache.value(for: key("a")) == nil)
        #expect(cache.statistics.writeFailures == 2 && cache.statistics.writes == 0)
    }
}

/// The cache in real renders: a hit gives the same pixels as no cache, a changed source byte or parameter
/// misses, a damaged entry is rebuilt, an unwritable cache still renders.
@Suite(.serialized, .ownThreads) struct LayerCacheRenderTests {
    static func pipeline(cacheDirectory: String?, memoryBytes: Int = 0) -> RenderPipeline {
        RenderPipeline(
            configuration: PipelineConfiguration(
                templateDirectories: [Fixtures.specsDirectory.path], assetsDirectory: RenderFixture.root.appendingPathComponent("assets").path,
                temporaryDirectory: RenderFixture.root.path, maxDuration: 60,
                layerCache: LayerCacheConfiguration(memoryBytes: memoryBytes, directory: cacheDirectory)
            ), logger: Logger(label: "test"))
    }

    /// Eco (720x1280) keeps the debug-build renders short; the cache does not care about the canvas size.
    func request(_ images: [String], quality: QualityMode = .eco) -> RenderRequest {
        RenderRequest(template: "golden-frame", images: images, duration: 4, quality: quality, output: "x.mp4")
    }

    func layerFiles(_ dir: URL) -> [URL] {
        (FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "layer" }
    }

    @Test func aHitGivesTheSamePixelsAndAChangedByteOrParameterMisses() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-layers")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A private copy of a picture, so one byte of it can change.
        let picture = dir.appendingPathComponent("picture.jpg")
        try FileManager.default.copyItem(atPath: RenderFixture.images[0], toPath: picture.path)
        // Shot 1 (2 s to 4 s) shows the copy.
        let images = [RenderFixture.images[2], picture.path]
        let reference = try RenderFixture.pipeline.still(request(images), at: 2.5).0  // no cache at all

        let cold = Self.pipeline(cacheDirectory: dir.path)
        // A whole render prepares (and stores) every picture and the whole blended overlay loop.
        let plan = try cold.plan(request(images))
        let full = try cold.prepare(plan)
        #expect(try full.still(frame: 75) == reference)
        full.waitUntilPrepared()
        let stored = layerFiles(dir).count
        #expect(stored >= 3)  // two pictures and the overlay loop
        #expect(cold.layerCache.statistics.writes == stored && cold.layerCache.statistics.diskHits == 0)

        // A fresh process (a new pipeline): everything comes from disk, pixel for pixel the same.
        // The still's own overlay frame is not stored yet (its one miss): it is cut from the loop and kept.
        let warm = Self.pipeline(cacheDirectory: dir.path)
        #expect(try warm.still(request(images), at: 2.5).0 == reference)
        #expect(warm.layerCache.statistics.diskHits >= 2 && warm.layerCache.statistics.misses == 1)
        #expect(layerFiles(dir).count == stored + 1)
        // The next still of that frame reads only it (the loop is not read), pixel for pixel the same.
        let warmer = Self.pipeline(cacheDirectory: dir.path)
        #expect(try warmer.still(request(images), at: 2.5).0 == reference)
        #expect(warmer.layerCache.statistics.misses == 0 && warmer.layerCache.statistics.diskHits == 2)  // the picture and the frame

        // One byte more in the picture's file: its entry misses (the other picture and the overlay still hit).
        let handle = try FileHandle(forWritingTo: picture)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0]))
        try handle.close()
        let changed = Self.pipeline(cacheDirectory: dir.path)
        _ = try changed.still(request(images), at: 2.5)
        #expect(changed.layerCache.statistics.misses == 1)
        #expect(layerFiles(dir).count == stored + 2)

        // Another parameter (normal quality: another window size and canvas): nothing is shared.
        let normal = Self.pipeline(cacheDirectory: dir.path)
        _ = try normal.still(request(images, quality: .normal), at: 2.5)
        #expect(normal.layerCache.statistics.diskHits == 0 && normal.layerCache.statistics.misses >= 2)
    }

    /// The overlay loop keeps its frames as runs of bytes against its first frame: frames read through those runs,
    /// while the loop is being blended and read back from the cache, are the frames a still blends alone from its
    /// one video frame.
    @Test func loopFramesReadThroughTheirRunsAreTheFramesBlendedAlone() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-loop")
        defer { try? FileManager.default.removeItem(at: dir) }
        // 4 s at 30 fps: the 2 s loop plays twice (frames 60 and 97 show its frames 0 and 37 again).
        let plan = try RenderFixture.pipeline.plan(request([RenderFixture.images[0]]))
        let frames = [0, 1, 31, 59, 60, 97]
        let alone = try frames.map { try RenderFixture.pipeline.prepare(plan, stillFrame: $0).still(frame: $0) }
        let cold = Self.pipeline(cacheDirectory: dir.path)
        let blending = try cold.prepare(plan)
        #expect(try frames.map { try blending.still(frame: $0) } == alone)
        blending.waitUntilPrepared()
        let warm = Self.pipeline(cacheDirectory: dir.path)
        let read = try warm.prepare(plan)
        #expect(warm.layerCache.statistics.misses == 0 && warm.layerCache.statistics.diskHits >= 2)
        #expect(try frames.map { try read.still(frame: $0) } == alone)
    }

    @Test func damagedEntriesAreRebuiltAndAnUnwritableCacheStillRenders() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-layers")
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = [RenderFixture.images[0], RenderFixture.images[2]]
        let reference = try RenderFixture.pipeline.still(request(images), at: 0.5).0
        _ = try Self.pipeline(cacheDirectory: dir.path).still(request(images), at: 0.5)
        let files = layerFiles(dir)
        #expect(files.count >= 1)
        // Truncate one entry and flip a byte in every other.
        for (n, file) in files.enumerated() {
            var bytes = try [UInt8](Data(contentsOf: file))
            if n == 0 { bytes.removeLast(bytes.count / 3) } else { bytes[bytes.count / 2] ^= 0xFF }
            try Data(bytes).write(to: file)
        }
        let damaged = Self.pipeline(cacheDirectory: dir.path)
        #expect(try damaged.still(request(images), at: 0.5).0 == reference)
        #expect(damaged.layerCache.statistics.corrupt == files.count && damaged.layerCache.statistics.diskHits == 0)
        // Rebuilt: the next process hits every entry again.
        let again = Self.pipeline(cacheDirectory: dir.path)
        #expect(try again.still(request(images), at: 0.5).0 == reference)
        #expect(again.layerCache.statistics.diskHits == files.count && again.layerCache.statistics.corrupt == 0)

        // A cache folder that cannot be created: the render goes on without it.
        let file = dir.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: file)
        let unwritable = Self.pipeline(cacheDirectory: file.appendingPathComponent("layers").path)
        let out = dir.appendingPathComponent("out.mp4").path
        var req = request(images)
        req.duration = 1
        req.output = out
        _ = try unwritable.render(req)
        #expect(FileManager.default.fileExists(atPath: out))
        #expect(unwritable.layerCache.statistics.writeFailures >= 1 && unwritable.layerCache.statistics.writes == 0)
    }

    /// Frame 0 is handed to the encoder before the last picture is prepared; with the serial start (the contrast)
    /// every picture is ready first. Decided by the order of events, not by timings.
    @Test func frameZeroIsEncodedBeforeTheLastPictureIsPrepared() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-order")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Two JPEGs (opaque by their headers): shot 1 shows the second, prepared beside the first frames.
        let images = [RenderFixture.images[0], RenderFixture.images[2]]
        let plan = try RenderFixture.pipeline.plan(
            RenderRequest(template: "golden-frame", images: images, duration: 4, quality: .eco, output: "x.mp4"))
        let shots = plan.layers.compactMap { if case .media(let m) = $0.content { m.shots.count } else { nil } }
        #expect(shots == [2])
        // One in-memory cache for both renders, so the overlay loop is blended once. The serial render takes the
        // pictures from it too: what is compared is when each render asks for them, not how long they take.
        let cache = LayerCache(configuration: LayerCacheConfiguration(memoryBytes: 512 << 20), logger: Logger(label: "test"))
        func events(overlap: Bool) throws -> [RenderEvent] {
            let log = EventLog()
            let renderer = try FilterGraphRenderer(
                plan: plan, texts: [:], options: RenderOptions(cache: cache, overlapPreparation: overlap, trace: { log.append($0) }))
            // Stop once both pictures are ready and frame 0 was sent: the rest of the video proves nothing here.
            do {
                try renderer.render(
                    to: dir.appendingPathComponent("order-\(overlap).mp4").path, thumbnail: nil,
                    shouldCancel: { log.events.contains(.frameSent(0)) && log.events.contains(.pictureReady(ordinal: 1)) })
            } catch let e as BackendError where e.stage == .cancelled {}
            return log.events
        }
        let overlapped = try events(overlap: true)
        let serial = try events(overlap: false)
        for log in [overlapped, serial] {
            #expect(log.filter { if case .pictureReady = $0 { true } else { false } }.count == 2)
            #expect(log.contains(.frameSent(0)))
        }
        let lastPicture = RenderEvent.pictureReady(ordinal: 1)
        let (o0, oLast) = (try #require(overlapped.firstIndex(of: .frameSent(0))), try #require(overlapped.firstIndex(of: lastPicture)))
        let (s0, sLast) = (try #require(serial.firstIndex(of: .frameSent(0))), try #require(serial.firstIndex(of: lastPicture)))
        #expect(o0 < oLast, "\(overlapped)")
        #expect(sLast < s0, "\(serial)")
    }

    /// While the overlay loop is blended beside the first frames, only the next shot's pictures are prepared; the
    /// later ones wait until the loop is complete (so that a picture's decoding and the loop's blending do not hold
    /// memory at the same time), unless a frame needs one. With the loop cached there is nothing to wait for.
    @Test func laterPicturesWaitForTheOverlayLoopBeingBlended() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-hold")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Three shots (no track: a cut every 2 s), all JPEGs (opaque: none is prepared before frame 0 but the first).
        let images = [RenderFixture.images[0], RenderFixture.images[2], RenderFixture.images[0]]
        let plan = try RenderFixture.pipeline.plan(
            RenderRequest(template: "golden-frame", images: images, duration: 6, quality: .eco, output: "x.mp4"))
        let shots = plan.layers.compactMap { if case .media(let m) = $0.content { m.shots.count } else { nil } }
        #expect(shots == [3])
        let cache = LayerCache(configuration: LayerCacheConfiguration(memoryBytes: 512 << 20), logger: Logger(label: "test"))
        /// Sends frame 0 only (no frame ever waits for a later picture), then waits for everything to be prepared.
        func events() throws -> [RenderEvent] {
            let log = EventLog()
            let renderer = try FilterGraphRenderer(plan: plan, texts: [:], options: RenderOptions(cache: cache, trace: { log.append($0) }))
            do {
                try renderer.render(
                    to: dir.appendingPathComponent("hold.mp4").path, thumbnail: nil, shouldCancel: { log.events.contains(.frameSent(0)) })
            } catch let e as BackendError where e.stage == .cancelled {}
            renderer.waitUntilPrepared()
            return log.events
        }
        let cold = try events()
        let pictures = (0..<3).map { RenderEvent.pictureReady(ordinal: $0) }
        #expect(pictures.allSatisfy(cold.contains), "\(cold)")
        let blended = try #require(cold.firstIndex(of: .loopBlended), "\(cold)")
        // The next shot's picture does not wait for the loop; the third shot's does.
        #expect(try #require(cold.firstIndex(of: .frameSent(0))) < (cold.firstIndex(of: pictures[1]) ?? 0))
        #expect(blended < (cold.firstIndex(of: pictures[2]) ?? 0), "\(cold)")
        // Warm: the loop comes from the cache, nothing is held, and every picture (from the cache too) is ready.
        let warm = try events()
        #expect(!warm.contains(.loopBlended) && pictures.allSatisfy(warm.contains), "\(warm)")
    }
}

final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [RenderEvent] = []
    func append(_ e: RenderEvent) { lock.lock(); list.append(e); lock.unlock() }
    var events: [RenderEvent] { lock.lock(); defer { lock.unlock() }; return list }
}
