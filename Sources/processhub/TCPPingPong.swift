import Foundation

/// The physical floor of a remote call: a bare TCP ping-pong over loopback with blocking
/// sockets, measured between the same two processes as the remote calls.
enum TCPPingPong {
    static let messageSize = 64

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts an echo server on 127.0.0.1 (any free port) in background threads; returns the port.
    static func startEchoServer() throws -> Int {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw Failure(description: "socket() failed") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw Failure(description: "bind/listen failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        Thread.detachNewThread {
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                Thread.detachNewThread { serve(connection) }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func serve(_ connection: Int32) {
        setNoDelay(connection)
        var buffer = [UInt8](repeating: 0, count: messageSize)
        while readExactly(connection, &buffer), writeAll(connection, buffer) {}
        close(connection)
    }

    /// Measures on a thread of its own, so the blocking socket calls never stall an event loop.
    static func measureOnOwnThread(port: Int, count: Int) async throws -> Double {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try measure(port: port, count: count) })
            }
        }
    }

    /// Measures `count` round trips against the echo server at `port`; returns µs per round trip.
    static func measure(port: Int, count: Int) throws -> Double {
        let connection = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(connection, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "cannot connect to the echo server on port \(port)") }
        defer { close(connection) }
        setNoDelay(connection)
        var buffer = [UInt8](repeating: 1, count: messageSize)
        for _ in 0..<100 { _ = writeAll(connection, buffer) && readExactly(connection, &buffer) }
        let start = ContinuousClock.now
        for _ in 0..<count {
            guard writeAll(connection, buffer), readExactly(connection, &buffer) else {
                throw Failure(description: "echo connection broke")
            }
        }
        return (ContinuousClock.now - start).microseconds / Double(count)
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private static func setNoDelay(_ fd: Int32) {
        var yes: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
    }

    private static func readExactly(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    private static func writeAll(_ fd: Int32, _ buffer: [UInt8]) -> Bool {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}

extension Duration {
    var microseconds: Double {
        Double(components.seconds) * 1e6 + Double(components.attoseconds) / 1e12
    }
}
