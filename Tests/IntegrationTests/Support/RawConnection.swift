import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to the daemon on loopback, for the streaming routes: the test
/// decides when (and whether) bytes are read, so it can play a stalled client, and it can
/// speak the WebSocket handshake and frames without a client library.
final class RawConnection {
    private let socket: Int32
    /// Received bytes not consumed yet.
    private(set) var pending: [UInt8] = []

    /// Connects to 127.0.0.1:`port`. A small `receiveBuffer` makes a client that stops
    /// reading stall the server quickly.
    init(port: Int, receiveBuffer: Int32? = nil) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw RawConnectionError.system("socket", errno) }
        if var size = receiveBuffer {
            setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(socket)
            throw RawConnectionError.system("connect", code)
        }
    }

    deinit { close(socket) }

    /// Sends a GET with the given headers (HTTP/1.1, Host set).
    func sendGET(_ target: String, headers: [String: String] = [:]) throws {
        try sendRequest("GET", target, headers: headers)
    }

    /// Sends a request without a body (HTTP/1.1, Host set, headers in name order).
    func sendRequest(_ method: String, _ target: String, headers: [String: String] = [:]) throws {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        try send(Array((text + "\r\n").utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw RawConnectionError.system("send", errno) }
            offset += sent
        }
    }

    /// Reads what is available, waiting up to `timeout` for the first byte. False on EOF.
    @discardableResult
    func receive(timeout: Duration) throws -> Bool {
        var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1_000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&poller, 1, milliseconds) > 0 else { return true }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw RawConnectionError.system("recv", errno) }
        pending += chunk[0..<count]
        return count > 0
    }

    /// Reads until `pending` holds `separator`, then removes and returns the bytes before
    /// it (the separator is dropped). Nil at the deadline or on EOF.
    func read(until separator: [UInt8], deadline: ContinuousClock.Instant) throws -> [UInt8]? {
        while true {
            if let range = pending.firstRange(of: separator) {
                let head = Array(pending[..<range.lowerBound])
                pending.removeSubrange(..<range.upperBound)
                return head
            }
            guard ContinuousClock.now < deadline else { return nil }
            guard try receive(timeout: .milliseconds(200)) else { return nil }
        }
    }

    /// Reads exactly `count` bytes; nil at the deadline or on EOF.
    func read(count: Int, deadline: ContinuousClock.Instant) throws -> [UInt8]? {
        while pending.count < count {
            guard ContinuousClock.now < deadline else { return nil }
            guard try receive(timeout: .milliseconds(200)) else { return nil }
        }
        let head = Array(pending[..<count])
        pending.removeFirst(count)
        return head
    }

    /// Reads the status line and headers of a response; returns the status and the
    /// headers (names lower-cased).
    func readResponseHead(deadline: ContinuousClock.Instant) throws -> (status: Int, headers: [String: String])? {
        guard let head = try read(until: Array("\r\n\r\n".utf8), deadline: deadline) else { return nil }
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers)
    }

    /// The next chunk of a chunked body (hex size, CRLF, bytes, CRLF); nil for the final
    /// empty chunk, at the deadline or on EOF.
    func readChunk(deadline: ContinuousClock.Instant) throws -> [UInt8]? {
        guard let sizeLine = try read(until: Array("\r\n".utf8), deadline: deadline),
              let size = Int(String(decoding: sizeLine, as: UTF8.self).split(separator: ";").first ?? "", radix: 16), size > 0,
              let chunk = try read(count: size + 2, deadline: deadline)
        else { return nil }
        return Array(chunk.dropLast(2))
    }

    /// Reads until the peer closes (or the deadline); returns everything not consumed.
    func readToEnd(deadline: ContinuousClock.Instant) throws -> [UInt8] {
        while ContinuousClock.now < deadline, try receive(timeout: .milliseconds(200)) {}
        defer { pending.removeAll() }
        return pending
    }

    /// Closes the sending side (the server sees the client leave).
    func shutdownWrite() {
        shutdown(socket, Int32(SHUT_WR))
    }
}

enum RawConnectionError: Error, CustomStringConvertible {
    case system(String, Int32)

    var description: String {
        switch self {
        case .system(let call, let code): "\(call) failed: \(String(cString: strerror(code)))"
        }
    }
}
