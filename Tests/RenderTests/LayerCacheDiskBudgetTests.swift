import Foundation
import LayerCache
import Logging
import RendcTestSupport
import Testing

/// The on-disk layer cache stays within its byte budget, removing the entries used longest ago.
@Suite struct LayerCacheDiskBudgetTests {
    func key(_ name: String) -> LayerCacheKey {
        var k = LayerCacheKeyBuilder(kind: "budget-test")
        k.add(name)
        return k.finish()
    }

    func path(_ dir: URL, _ k: LayerCacheKey) -> String { dir.appendingPathComponent("\(k.hex.prefix(2))/\(k.hex).layer").path }

    /// Sets an entry's modification time `age` seconds into the past.
    func age(_ path: String, _ seconds: Int) {
        var times = [timespec(tv_sec: time(nil) - seconds, tv_nsec: 0), timespec(tv_sec: time(nil) - seconds, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
    }

    @Test func theEntriesUsedLongestAgoGoFirstAndAReadCountsAsAUse() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-layer-budget")
        defer { try? FileManager.default.removeItem(at: dir) }
        let megabyte = [UInt8](repeating: 7, count: 1 << 20)
        // Room for three entries and a half: the fifth write must remove two.
        let configuration = LayerCacheConfiguration(directory: dir.path, diskBytes: 7 << 19)
        let (a, b, c, d, e) = (key("a"), key("b"), key("c"), key("d"), key("e"))
        // Unlimited while filling (another process with no budget), then aged: a oldest, d newest.
        let filler = LayerCache(configuration: LayerCacheConfiguration(directory: dir.path), logger: Logger(label: "test"))
        for (k, seconds) in [(a, 400), (b, 300), (c, 200), (d, 100)] {
            filler.store(megabyte, for: k)
            age(path(dir, k), seconds)
        }
        let cache = LayerCache(configuration: configuration, logger: Logger(label: "test"))
        // A render reads a: it becomes the most recently used.
        #expect(cache.value(for: a) == megabyte)
        cache.store(megabyte, for: e)
        let kept = [a, b, c, d, e].filter { FileManager.default.fileExists(atPath: path(dir, $0)) }
        #expect(kept == [a, d, e], "b and c were used longest ago")
        #expect(cache.statistics.evicted == 2)
        // Removed entries miss (and are rebuilt by the caller); kept ones still hit.
        #expect(cache.value(for: b) == nil)
        #expect(cache.value(for: d) == megabyte)
    }

    @Test func withinTheBudgetOrWithoutOneNothingIsRemoved() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-layer-budget")
        defer { try? FileManager.default.removeItem(at: dir) }
        let megabyte = [UInt8](repeating: 9, count: 1 << 20)
        let unlimited = LayerCache(configuration: LayerCacheConfiguration(directory: dir.path), logger: Logger(label: "test"))
        for name in ["a", "b", "c"] { unlimited.store(megabyte, for: key(name)) }
        #expect(unlimited.sweep() == 0)
        let roomy = LayerCache(configuration: LayerCacheConfiguration(directory: dir.path, diskBytes: 8 << 20), logger: Logger(label: "test"))
        roomy.store(megabyte, for: key("d"))
        #expect(roomy.sweep() == 0)
        #expect(["a", "b", "c", "d"].allSatisfy { FileManager.default.fileExists(atPath: path(dir, key($0))) })
    }

    @Test func deadWritersTemporaryFilesAreRemoved() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-layer-budget")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = LayerCache(configuration: LayerCacheConfiguration(directory: dir.path, diskBytes: 1 << 30), logger: Logger(label: "test"))
        cache.store([1, 2, 3], for: key("a"))
        let sub = (path(dir, key("a")) as NSString).deletingLastPathComponent
        let stale = sub + "/.dead.1.tmp", fresh = sub + "/.live.2.tmp"
        for file in [stale, fresh] { FileManager.default.createFile(atPath: file, contents: Data([0])) }
        age(stale, 7200)
        cache.sweep()
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: fresh), "a writer may still be writing it")
    }
}
