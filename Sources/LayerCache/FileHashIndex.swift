import Crypto
import Digests
import Foundation

/// What identifies a file's bytes without reading them: device, inode, size, and the modification and status-change
/// times to the nanosecond. A rewrite in place changes the status-change time (`ctime`), which no program can set
/// back, even when it keeps the size and restores the modification time.
struct FileStamp: Equatable, Sendable {
    var device: UInt64, inode: UInt64, size: Int64
    var mtimeSeconds: Int64, mtimeNanoseconds: Int64, ctimeSeconds: Int64, ctimeNanoseconds: Int64

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        mtimeSeconds = Int64(st.st_mtim.tv_sec)
        mtimeNanoseconds = Int64(st.st_mtim.tv_nsec)
        ctimeSeconds = Int64(st.st_ctim.tv_sec)
        ctimeNanoseconds = Int64(st.st_ctim.tv_nsec)
    }

    init(fields f: [Int64]) {
        device = UInt64(bitPattern: f[0])
        inode = UInt64(bitPattern: f[1])
        size = f[2]
        mtimeSeconds = f[3]; mtimeNanoseconds = f[4]; ctimeSeconds = f[5]; ctimeNanoseconds = f[6]
    }

    var fields: [Int64] {
        [Int64(bitPattern: device), Int64(bitPattern: inode), size, mtimeSeconds, mtimeNanoseconds, ctimeSeconds, ctimeNanoseconds]
    }

    /// The later of the two times, in seconds.
    var latestChange: Double {
        max(Double(mtimeSeconds) + Double(mtimeNanoseconds) / 1e9, Double(ctimeSeconds) + Double(ctimeNanoseconds) / 1e9)
    }
}

// MARK: - Content hashes keyed by file stamps

/// The content hash of a source file is the expensive part of every cache key (a 20 MB photo takes about 13 ms to
/// hash). The cache keeps, beside its entries, an index from a file's path to its stamp and the hash of its bytes
/// then; a file whose stamp has not changed is not read again. The index is only a shortcut to the hash: entries
/// are still keyed by content, so a stale index record can at worst make a render miss, never show other pixels —
/// and it cannot go stale, since any write changes the stamp:
///
/// - A record is written only when the file's stamp was the same before and after hashing it, and when its last
///   change is at least `racyWindow` seconds old. On a file system with coarse (one-second) times, a file rewritten
///   with the same size within the second it was hashed would otherwise keep its stamp; a file old enough when
///   hashed cannot be rewritten within that second any more (the rule of git's "racily clean" index).
/// - A record is `RSI1`, the seven stamp numbers, the hash and a SHA-256 over all of that: a damaged or truncated
///   record (wrong size or checksum) is removed and the file hashed again.
/// - Records live in `DIR/stat/`, named by the SHA-256 of the path (no path or tenant in a name or a record). In
///   memory (long-running processes), the same records by path.
/// - Records count in the disk budget like entries (DiskBudget.swift): a record written counts toward the next
///   sweep, and a record read is marked used (its modification time, at most once an hour), so the records of
///   files nobody renders any more go first when the folder is over budget.
extension LayerCache {
    static let stampMagic: [UInt8] = Array("RSI1".utf8)
    static let stampRecordSize = 4 + 7 * 8 + 32 + 32

    /// Hex SHA-256 of a file's bytes, from the stamp index when the file has not changed since it was last hashed.
    public func contentHash(ofFile path: String) throws -> String {
        guard isEnabled else { return try LayerCache.contentHash(ofFile: path) }
        var st = stat()
        guard stat(path, &st) == 0 else { throw LayerCacheError(message: "cannot read the file to hash it") }
        let stamp = FileStamp(st)
        if let hash = indexedHash(path: path, stamp: stamp) {
            noteHashIndex(hit: true)
            return hash
        }
        noteHashIndex(hit: false)
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw LayerCacheError(message: "cannot open the file to hash it") }
        defer { close(fd) }
        var before = stat()
        guard fstat(fd, &before) == 0 else { throw LayerCacheError(message: "cannot read the file to hash it") }
        let hash: String
        do { hash = try SHA256Hex.ofFile(descriptor: fd) } catch let e as SHA256Hex.FileError { throw LayerCacheError(message: e.description) }
        var after = stat()
        let stable = fstat(fd, &after) == 0 && FileStamp(before) == FileStamp(after)
        if stable, Date().timeIntervalSince1970 - FileStamp(after).latestChange >= racyWindow {
            recordHash(hash, path: path, stamp: FileStamp(after))
        }
        return hash
    }

    private func indexPath(_ path: String) -> String? {
        guard let dir = configuration.directory else { return nil }
        return "\(dir)/stat/\(SHA256Hex.of(path)).stamp"
    }

    private func indexedHash(path: String, stamp: FileStamp) -> String? {
        if let known = rememberedHash(path: path), known.stamp == stamp { return known.hash }
        guard let file = indexPath(path) else { return nil }
        let fd = open(file, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        var record = [UInt8](repeating: 0, count: LayerCache.stampRecordSize)
        let body = LayerCache.stampRecordSize - 32
        guard fstat(fd, &st) == 0, st.st_size == LayerCache.stampRecordSize, readFully(fd, &record, count: record.count, at: 0),
            Array(record[0..<4]) == LayerCache.stampMagic,
            Array(SHA256.hash(data: record[0..<body])) == Array(record[body..<LayerCache.stampRecordSize])
        else {
            unlink(file)
            noteCorruptStamp(file)
            return nil
        }
        var fields: [Int64] = []
        for i in 0..<7 {
            var v: UInt64 = 0
            for b in 0..<8 { v |= UInt64(record[4 + 8 * i + b]) << (8 * UInt64(b)) }
            fields.append(Int64(bitPattern: v))
        }
        let recorded = FileStamp(fields: fields)
        let hash = record[(4 + 56)..<(4 + 56 + 32)].hexString
        guard recorded == stamp else { return nil }
        // Used: the disk budget removes the records used longest ago first.
        if time(nil) - st.st_mtim.tv_sec > 3600 { futimens(fd, nil) }
        remember(hash: hash, path: path, stamp: stamp)
        return hash
    }

    private func recordHash(_ hash: String, path: String, stamp: FileStamp) {
        remember(hash: hash, path: path, stamp: stamp)
        guard let file = indexPath(path), let dir = configuration.directory else { return }
        var record = LayerCache.stampMagic
        for f in stamp.fields { withUnsafeBytes(of: UInt64(bitPattern: f).littleEndian) { record += $0 } }
        var digest: [UInt8] = []
        var i = hash.utf8.makeIterator()
        func nibble(_ c: UInt8) -> UInt8 { c >= 97 ? c - 87 : c - 48 }
        while let a = i.next(), let b = i.next() { digest.append(nibble(a) << 4 | nibble(b)) }
        guard digest.count == 32 else { return }
        record += digest
        record += Array(SHA256.hash(data: record))
        let sub = "\(dir)/stat"
        let temp = "\(sub)/.\(UUID().uuidString).tmp"
        guard
            (try? FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]))
                != nil
        else { return }
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { return }
        let ok = record.withUnsafeBytes { writeFully(fd, $0) }
        if close(fd) == 0, ok, rename(temp, file) == 0 {
            noteWritten(4096)  // the block it takes on disk, not its 124 bytes
            return
        }
        unlink(temp)
    }
}
