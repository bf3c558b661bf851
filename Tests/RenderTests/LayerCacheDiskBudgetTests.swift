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

    /// The stamp index's records (`stat/`, one per distinct file hashed) count in the budget at the blocks they take
    /// and go by the same rule: the records used longest ago first, a record read from disk counting as a use. A
    /// process that only hashes files (every entry already cached) still sweeps: its records count as writes.
    @Test func stampRecordsCountInTheBudgetAndTheOnesUsedLongestAgoGo() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-layer-budget")
        defer { try? FileManager.default.removeItem(at: dir) }
        let stamps = dir.appendingPathComponent("stat").path
        func records() -> Set<String> {
            Set(((try? FileManager.default.contentsOfDirectory(atPath: stamps)) ?? []).filter { $0.hasSuffix(".stamp") })
        }
        // 40 files hashed by a process with no budget: 40 records, the record of file i aged 7200 + 100 (40 - i) s.
        let unlimited = LayerCache(configuration: LayerCacheConfiguration(directory: dir.path), logger: Logger(label: "test"), racyWindow: 0)
        var recordOf: [String] = []
        for i in 0..<40 {
            let file = dir.appendingPathComponent("photo-\(i).jpg")
            try Data("picture \(i)".utf8).write(to: file)
            let known = records()
            _ = try unlimited.contentHash(ofFile: file.path)
            let new = records().subtracting(known)
            try #require(new.count == 1)
            recordOf.append(new.first!)
            age("\(stamps)/\(new.first!)", 7200 + 100 * (40 - i))
        }
        #expect(unlimited.sweep() == 0, "no budget: nothing removed")
        // What one record takes on this file system (a block; the record itself is 124 bytes).
        var st = stat()
        #expect(lstat("\(stamps)/\(recordOf[0])", &st) == 0)
        let unit = max(Int(st.st_size), Int(st.st_blocks) * 512)
        // A budget of ten records: the folder holds 40, so a sweep keeps nine (90%).
        let configuration = LayerCacheConfiguration(directory: dir.path, diskBytes: 10 * unit)
        let cache = LayerCache(configuration: configuration, logger: Logger(label: "test"), racyWindow: 0)
        // Another process reads file 0's record (the oldest) from disk: used now, so it stays.
        _ = try cache.contentHash(ofFile: dir.appendingPathComponent("photo-0.jpg").path)
        #expect(cache.statistics.hashIndexHits == 1)
        #expect(cache.sweep() == 31)
        #expect(records() == Set([recordOf[0]] + recordOf[32...]), "file 0's record (just read) and the eight newest")
        // Hashing new files alone keeps the folder within the budget: no explicit sweep.
        for i in 40..<60 {
            let file = dir.appendingPathComponent("photo-\(i).jpg")
            try Data("picture \(i)".utf8).write(to: file)
            _ = try cache.contentHash(ofFile: file.path)
            #expect(records().count * unit <= 10 * unit)
        }
        #expect(cache.statistics.evicted > 31)
    }
}
