import Foundation

/// Keeps the on-disk folder within `LayerCacheConfiguration.diskBytes`. The folder is shared by every process and
/// every tenant, and each new picture or overlay variant adds an entry (about 1 MB a picture, tens of MB a blended
/// loop), so without a budget it grows until the disk is full.
///
/// Each process counts the bytes it writes; once they pass an eighth of the budget (or on its first write), it
/// lists the folder and, when the entries hold more than the budget, removes the ones used longest ago (a read sets
/// an entry's modification time) until they hold 90% of it. Temporary files of writers that died more than an hour
/// ago go too. Two processes sweeping at once only race to remove the same files; a reader that has an entry open
/// keeps reading it after it is removed.
///
/// The stamp index's records (`stat/`, one for every distinct file ever hashed: see FileHashIndex.swift) count too,
/// at the blocks they take on disk (a 124-byte record takes a whole block, 4 KiB on most file systems), and go by
/// the same rule: a record read from disk is marked used (at most once an hour), so the records of files no render
/// asks for any more are the first to go. A removed record only means that file is hashed again once.
extension LayerCache {
    func noteWritten(_ bytes: Int) {
        let budget = configuration.diskBytes
        guard budget > 0 else { return }
        lock.lock()
        let first = counters.writes == 1
        writtenSinceSweep += bytes
        let due = first || writtenSinceSweep >= budget / 8
        if due { writtenSinceSweep = 0 }
        lock.unlock()
        if due { sweep() }
    }

    /// Removes the least recently used entries (and stamp records) while the folder holds more than the budget;
    /// returns how many.
    @discardableResult
    public func sweep() -> Int {
        guard let dir = configuration.directory, configuration.diskBytes > 0 else { return 0 }
        struct Entry { var path: String; var size: Int; var used: timespec }
        var entries: [Entry] = []
        var total = 0
        let now = time(nil)
        for sub in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where sub.count == 2 || sub == "stat" {
            let folder = "\(dir)/\(sub)"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
                let path = "\(folder)/\(name)"
                var st = stat()
                guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
                if name.hasSuffix(".tmp") {
                    if now - st.st_mtim.tv_sec > 3600 { unlink(path) }
                    continue
                }
                guard name.hasSuffix(sub == "stat" ? ".stamp" : ".layer") else { continue }
                let size = sub == "stat" ? max(Int(st.st_size), Int(st.st_blocks) * 512) : Int(st.st_size)
                entries.append(Entry(path: path, size: size, used: st.st_mtim))
                total += size
            }
        }
        guard total > configuration.diskBytes else { return 0 }
        entries.sort { ($0.used.tv_sec, $0.used.tv_nsec) < ($1.used.tv_sec, $1.used.tv_nsec) }
        let target = configuration.diskBytes / 10 * 9
        var removed = 0
        for entry in entries where total > target {
            if unlink(entry.path) == 0 || errno == ENOENT {
                total -= entry.size
                removed += 1
            }
        }
        lock.lock()
        counters.evicted += removed
        lock.unlock()
        return removed
    }
}
