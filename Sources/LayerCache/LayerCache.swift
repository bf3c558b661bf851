import Digests
import Crypto
import Foundation
import Logging

/// Where prepared layers are kept between renders: an in-memory LRU within a byte budget (long-running processes,
/// e.g. the worker) and an on-disk folder shared by every process (`rendc render`, `still`, the worker).
public struct LayerCacheConfiguration: Sendable, Equatable {
    /// Bytes the in-memory LRU may hold; 0 keeps nothing in memory.
    public var memoryBytes: Int
    /// Folder of the on-disk cache, or nil for none.
    public var directory: String?
    /// Bytes the on-disk folder may hold (0: no limit). Past it, the entries used longest ago are removed: a read
    /// marks an entry used (its modification time), so what renders keep using stays.
    public var diskBytes: Int

    public init(memoryBytes: Int = 0, directory: String? = nil, diskBytes: Int = 0) {
        self.memoryBytes = max(0, memoryBytes)
        self.directory = directory
        self.diskBytes = max(0, diskBytes)
    }

    public static let disabled = LayerCacheConfiguration()
}

/// A cache key: a SHA-256 over the kind of entry, the code version, the content hashes of the source files and every
/// parameter that changes the prepared pixels. It holds no path and no tenant: two jobs share an entry exactly when
/// their source bytes and parameters are identical.
public struct LayerCacheKey: Hashable, Sendable, CustomStringConvertible {
    /// 64 lowercase hex digits.
    public let hex: String
    public var description: String { hex }

    fileprivate var digest: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var i = hex.utf8.makeIterator()
        while let a = i.next(), let b = i.next() { out.append(LayerCacheKey.nibble(a) << 4 | LayerCacheKey.nibble(b)) }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8 { c >= 97 ? c - 87 : c - 48 }

    init(digest: some Sequence<UInt8>) {
        hex = digest.hexString
    }
}

/// Builds a `LayerCacheKey`. Every field is length-prefixed, so no two different field lists hash alike.
public struct LayerCacheKeyBuilder {
    private var hasher = SHA256()

    /// `kind` names the entry type (e.g. "picture"); bump `LayerCache.codeVersion` or the kind's own version when
    /// the code that prepares its pixels changes.
    public init(kind: String) {
        add(LayerCache.codeVersion)
        add(kind)
    }

    public mutating func add(_ text: String) {
        add(bytes: Array(text.utf8))
    }

    public mutating func add(_ value: Int) {
        withUnsafeBytes(of: Int64(value).littleEndian) { hasher.update(bufferPointer: $0) }
    }

    public mutating func add(_ value: Double) {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { hasher.update(bufferPointer: $0) }
    }

    public mutating func add(bytes: [UInt8]) {
        add(bytes.count)
        bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
    }

    public func finish() -> LayerCacheKey {
        LayerCacheKey(digest: hasher.finalize())
    }
}

/// The error of `LayerCache.contentHash` (a source file that cannot be read). It names no path: the caller knows it.
public struct LayerCacheError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Prepared layers (opaque byte payloads) by key. Thread-safe; several processes may share one folder.
///
/// On disk an entry is `RLC2`, the payload length (8 bytes, little-endian), the key's 32 bytes, the SHA-256 of the
/// block table, the table (the SHA-256 of every 1 MiB block of the payload) and the payload. A read checks the size,
/// the key, the table and every block it returns; an entry that fails (truncated, flipped byte, written by another
/// version) is removed and reported as a miss, so it is rebuilt. A part of an entry (one frame of a blended overlay
/// loop, for a still) is read and checked alone: only the blocks that hold it. Writes go to a temporary
/// file beside the entry and are renamed into place, so readers never see half an entry. A folder that cannot be
/// written is not an error: the render goes on and the cache logs it once.
public final class LayerCache: @unchecked Sendable {
    /// Salt of every key: bump when any prepared layer's pixels change for the same inputs.
    public static let codeVersion = "rendc-layers-1"
    static let magic: [UInt8] = Array("RLC2".utf8)
    static let headerSize = 4 + 8 + 32 + 32
    static let blockSize = 1 << 20

    /// Bytes of the block table of a payload of `length` bytes.
    static func tableSize(_ length: Int) -> Int { (length + blockSize - 1) / blockSize * 32 }

    public let configuration: LayerCacheConfiguration
    private let logger: Logger
    let lock = NSLock()
    private var memory: [LayerCacheKey: (bytes: [UInt8], tick: UInt64)] = [:]
    private var memoryUsed = 0
    private var tick: UInt64 = 0
    private var warnedUnwritable = false
    var counters = Statistics()
    /// Content hashes by path with the file stamps they were taken at (see `contentHash(ofFile:)`), at most
    /// `stampsKept` of them.
    private var stamps: [String: (stamp: FileStamp, hash: String)] = [:]
    /// Bytes this process wrote to the disk folder since it last checked the folder's size (see DiskBudget.swift).
    var writtenSinceSweep = 0
    private static let stampsKept = 4096
    /// A file changed less than this many seconds before it was hashed gets no stamp record (see FileHashIndex).
    let racyWindow: Double

    public struct Statistics: Sendable, Equatable {
        public var memoryHits = 0
        public var diskHits = 0
        public var misses = 0
        /// Entries found on disk but damaged (size, key or hash wrong) and removed.
        public var corrupt = 0
        public var writes = 0
        public var writeFailures = 0
        /// Content hashes taken from the stamp index (the file was not read), and files hashed.
        public var hashIndexHits = 0
        public var filesHashed = 0
        /// Bytes the in-memory LRU holds now.
        public var memoryBytes = 0
        /// Entries removed from the disk folder to keep it within `diskBytes`.
        public var evicted = 0
    }

    /// `racyWindow`: see `contentHash(ofFile:)`; tests lower it to prove that the stamp alone catches a rewrite.
    public init(configuration: LayerCacheConfiguration, logger: Logger, racyWindow: Double = 2) {
        self.configuration = configuration
        self.logger = logger
        self.racyWindow = racyWindow
    }

    /// A cache that keeps nothing.
    public static func disabled(logger: Logger = Logger(label: "rendc.layers")) -> LayerCache {
        LayerCache(configuration: .disabled, logger: logger)
    }

    public var isEnabled: Bool { configuration.memoryBytes > 0 || configuration.directory != nil }

    public var statistics: Statistics {
        lock.lock(); defer { lock.unlock() }
        var s = counters
        s.memoryBytes = memoryUsed
        return s
    }

    /// Hex SHA-256 of a file's bytes (the content part of a key).
    public static func contentHash(ofFile path: String) throws -> String {
        do { return try SHA256Hex.ofFile(path) } catch let e as SHA256Hex.FileError { throw LayerCacheError(message: e.description) }
    }

    // MARK: The stamp index's memory and counters (FileHashIndex.swift)

    func rememberedHash(path: String) -> (stamp: FileStamp, hash: String)? {
        lock.lock(); defer { lock.unlock() }
        return stamps[path]
    }

    func remember(hash: String, path: String, stamp: FileStamp) {
        lock.lock(); defer { lock.unlock() }
        if stamps.count >= LayerCache.stampsKept { stamps.removeAll(keepingCapacity: true) }
        stamps[path] = (stamp, hash)
    }

    func noteHashIndex(hit: Bool) {
        lock.lock(); defer { lock.unlock() }
        if hit { counters.hashIndexHits += 1 } else { counters.filesHashed += 1 }
    }

    func noteCorruptStamp(_ file: String) {
        lock.lock()
        counters.corrupt += 1
        lock.unlock()
        logger.warning("damaged file stamp record removed; the file is hashed again", metadata: ["entry": "\((file as NSString).lastPathComponent)"])
    }

    // MARK: Lookup

    /// The payload under `key` if it is in memory (counted as a memory hit and made the most recently used).
    private func memoryHit(_ key: LayerCacheKey) -> [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        guard var entry = memory[key] else { return nil }
        tick += 1
        entry.tick = tick
        memory[key] = entry
        counters.memoryHits += 1
        return entry.bytes
    }

    /// The payload stored under `key`, from memory or disk, or nil (a miss).
    public func value(for key: LayerCacheKey) -> [UInt8]? {
        guard isEnabled else { return nil }
        if let bytes = memoryHit(key) { return bytes }
        if let bytes = readEntry(key) {
            lock.lock()
            counters.diskHits += 1
            lock.unlock()
            remember(bytes, for: key)
            return bytes
        }
        lock.lock()
        counters.misses += 1
        lock.unlock()
        return nil
    }

    /// Bytes `range` of the payload under `key`, from memory or disk, reading and checking only the blocks that
    /// hold them; nil for a miss (or a range past the payload's end).
    public func value(for key: LayerCacheKey, bytes range: Range<Int>) -> [UInt8]? {
        guard isEnabled, range.lowerBound >= 0 else { return nil }
        if let bytes = memoryHit(key) { return range.upperBound <= bytes.count ? Array(bytes[range]) : nil }
        if let bytes = readEntry(key, range: range) {
            lock.lock()
            counters.diskHits += 1
            lock.unlock()
            return bytes
        }
        lock.lock()
        counters.misses += 1
        lock.unlock()
        return nil
    }

    /// Stores `bytes` under `key` in memory (within the budget) and on disk.
    public func store(_ bytes: [UInt8], for key: LayerCacheKey) {
        guard isEnabled else { return }
        remember(bytes, for: key)
        bytes.withUnsafeBytes { writeEntry($0, key: key) }
    }

    /// Stores the bytes at `payload` (copied only into the in-memory LRU, when it has a budget).
    public func store(_ payload: UnsafeRawBufferPointer, for key: LayerCacheKey) {
        guard isEnabled else { return }
        if configuration.memoryBytes >= payload.count { remember([UInt8](payload), for: key) }
        writeEntry(payload, key: key)
    }

    /// The payload under `key`, or `make()`'s result, stored for next time.
    public func value(for key: LayerCacheKey, make: () throws -> [UInt8]) rethrows -> [UInt8] {
        if let hit = value(for: key) { return hit }
        let bytes = try make()
        store(bytes, for: key)
        return bytes
    }

    // MARK: Memory

    private func remember(_ bytes: [UInt8], for key: LayerCacheKey) {
        let budget = configuration.memoryBytes
        guard budget > 0, bytes.count <= budget else { return }
        lock.lock(); defer { lock.unlock() }
        tick += 1
        if let old = memory[key] { memoryUsed -= old.bytes.count }
        memory[key] = (bytes, tick)
        memoryUsed += bytes.count
        while memoryUsed > budget, let oldest = memory.min(by: { $0.value.tick < $1.value.tick }) {
            memoryUsed -= oldest.value.bytes.count
            memory[oldest.key] = nil
        }
    }

    // MARK: Disk

    /// `DIR/ab/abcdef….layer`: the name is the key (hex), nothing else.
    func entryPath(_ key: LayerCacheKey) -> String? {
        guard let dir = configuration.directory else { return nil }
        return "\(dir)/\(key.hex.prefix(2))/\(key.hex).layer"
    }

    private func readEntry(_ key: LayerCacheKey) -> [UInt8]? { readEntry(key, range: nil) }

    /// The payload (or bytes `range` of it) of the entry for `key` on disk, checked; nil if there is none, and a
    /// damaged one is removed.
    private func readEntry(_ key: LayerCacheKey, range: Range<Int>?) -> [UInt8]? {
        guard let path = entryPath(key) else { return nil }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let size = Int(st.st_size)
        guard size >= LayerCache.headerSize else { return discard(path, "shorter than its header") }
        var header = [UInt8](repeating: 0, count: LayerCache.headerSize)
        guard readFully(fd, &header, count: header.count, at: 0) else { return discard(path, "unreadable header") }
        if configuration.diskBytes > 0 { futimens(fd, nil) }  // used now: the last to be evicted
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(header[4 + i]) << (8 * UInt64(i)) }
        guard Array(header[0..<4]) == LayerCache.magic, Array(header[12..<44]) == key.digest else {
            return discard(path, "not an entry for this key")
        }
        guard length <= UInt64(size), size == LayerCache.headerSize + LayerCache.tableSize(Int(length)) + Int(length) else {
            return discard(path, "size \(size) does not match its header")
        }
        let count = Int(length)
        var table = [UInt8](repeating: 0, count: LayerCache.tableSize(count))
        guard readFully(fd, &table, count: table.count, at: LayerCache.headerSize) else { return discard(path, "truncated while reading") }
        guard Array(SHA256.hash(data: table)) == Array(header[44..<76]) else { return discard(path, "block table hash does not match") }
        let wanted = range ?? 0..<count
        guard wanted.upperBound <= count else { return nil }
        // The blocks that hold the bytes wanted, read and checked.
        let first = wanted.lowerBound / LayerCache.blockSize
        let last = wanted.isEmpty ? first - 1 : (wanted.upperBound - 1) / LayerCache.blockSize
        let start = first * LayerCache.blockSize, end = min(count, (last + 1) * LayerCache.blockSize)
        var payload = [UInt8](repeating: 0, count: max(0, end - start))
        let base = LayerCache.headerSize + table.count
        guard readFully(fd, &payload, count: payload.count, at: base + start) else { return discard(path, "truncated while reading") }
        let intact = payload.withUnsafeBytes { p -> Bool in
            for b in stride(from: first, through: last, by: 1) {
                let lo = b * LayerCache.blockSize - start, hi = min(payload.count, lo + LayerCache.blockSize)
                let digest = SHA256.hash(data: UnsafeRawBufferPointer(rebasing: p[lo..<hi]))
                guard Array(digest) == Array(table[(b * 32)..<(b * 32 + 32)]) else { return false }
            }
            return true
        }
        guard intact else { return discard(path, "content hash does not match") }
        if start == wanted.lowerBound && payload.count == wanted.count { return payload }
        return Array(payload[(wanted.lowerBound - start)..<(wanted.upperBound - start)])
    }

    func readFully(_ fd: Int32, _ buffer: inout [UInt8], count: Int, at offset: Int) -> Bool {
        var done = 0
        return buffer.withUnsafeMutableBytes { p in
            while done < count {
                let n = pread(fd, p.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
    }

    private func discard(_ path: String, _ why: String) -> [UInt8]? {
        unlink(path)
        lock.lock()
        counters.corrupt += 1
        lock.unlock()
        logger.warning(
            "damaged layer cache entry removed; it is rebuilt", metadata: ["entry": "\((path as NSString).lastPathComponent)", "reason": "\(why)"])
        return nil
    }

    private func writeEntry(_ payload: UnsafeRawBufferPointer, key: LayerCacheKey) {
        guard let path = entryPath(key), let dir = configuration.directory else { return }
        let sub = (path as NSString).deletingLastPathComponent
        var header = LayerCache.magic
        var length = UInt64(payload.count).littleEndian
        withUnsafeBytes(of: &length) { header += $0 }
        header += key.digest
        var table: [UInt8] = []
        table.reserveCapacity(LayerCache.tableSize(payload.count))
        for lo in stride(from: 0, to: payload.count, by: LayerCache.blockSize) {
            table += Array(SHA256.hash(data: UnsafeRawBufferPointer(rebasing: payload[lo..<min(payload.count, lo + LayerCache.blockSize)])))
        }
        header += Array(SHA256.hash(data: table))
        header += table
        let temp = "\(sub)/.\(key.hex).\(getpid()).\(UUID().uuidString).tmp"
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard fd >= 0 else { throw LayerCacheError(message: "cannot create a file (errno \(errno))") }
            var ok = header.withUnsafeBytes { writeFully(fd, $0) } && writeFully(fd, payload)
            ok = close(fd) == 0 && ok
            guard ok else { throw LayerCacheError(message: "cannot write a file (errno \(errno))") }
            guard rename(temp, path) == 0 else { throw LayerCacheError(message: "cannot rename a file (errno \(errno))") }
            lock.lock()
            counters.writes += 1
            lock.unlock()
            noteWritten(header.count + payload.count)
        } catch {
            unlink(temp)
            lock.lock()
            counters.writeFailures += 1
            let first = !warnedUnwritable
            warnedUnwritable = true
            lock.unlock()
            if first {
                logger.warning(
                    "the layer cache cannot be written; rendering without storing prepared layers",
                    metadata: ["directory": "\(dir)", "error": "\(error)"])
            }
        }
    }

    func writeFully(_ fd: Int32, _ p: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < p.count {
            let n = write(fd, p.baseAddress! + done, p.count - done)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            done += n
        }
        return true
    }
}
