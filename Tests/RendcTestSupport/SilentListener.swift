import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP server on 127.0.0.1 that accepts connections and never says a word: a receiver (or a database) that hangs.
/// Counts the connections it accepted; ``close()`` drops them all (the peers see the connection end).
public final class SilentListener: @unchecked Sendable {
    public let port: Int
    private let fd: Int32
    private let lock = NSLock()
    private var accepted: [Int32] = []
    private var closed = false

    public init() throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw FreePortError(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        guard bound == 0, named == 0, listen(socketFD, 64) == 0 else {
            Glibc.close(socketFD)
            throw FreePortError(description: "bind/listen failed")
        }
        fd = socketFD
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "silent-listener"
        thread.start()
    }

    /// Connections accepted so far.
    public var connections: Int { lock.withLock { accepted.count } }

    private func acceptLoop() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return  // the listening socket was closed
            }
            let keep = lock.withLock { () -> Bool in
                if closed { return false }
                accepted.append(client)
                return true
            }
            if !keep { Glibc.close(client) }
        }
    }

    public func close() {
        let sockets = lock.withLock { () -> [Int32]? in
            if closed { return nil }
            closed = true
            defer { accepted = [] }
            return accepted
        }
        guard let sockets else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
        for socket in sockets {
            shutdown(socket, Int32(SHUT_RDWR))
            Glibc.close(socket)
        }
    }

    deinit { close() }
}
