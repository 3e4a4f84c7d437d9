internal import Foundation
internal import NIOSSL
internal import Synchronization

/// The HTTPS certificate chain and private key (`http.tls.cert`, `http.tls.key`), loaded
/// from PEM files when the daemon starts and again on ``reload()`` (SIGHUP), so a renewed
/// certificate needs no restart. Each new connection takes the context loaded last; open
/// connections keep theirs. TLS 1.2 and later only.
public final class ServerCertificate: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let context: Mutex<NIOSSLContext>

    /// Loads both files.
    /// - Throws: ``TLSFilesError`` naming the file and what is wrong with it.
    public init(certificatePath: String, keyPath: String) throws(TLSFilesError) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        context = Mutex(try Self.load(certificatePath: certificatePath, keyPath: keyPath))
    }

    /// The context new connections use.
    var current: NIOSSLContext { context.withLock { $0 } }

    /// Reads both files again; on failure the context loaded before stays in use.
    public func reload() throws(TLSFilesError) {
        let fresh = try Self.load(certificatePath: certificatePath, keyPath: keyPath)
        context.withLock { $0 = fresh }
    }

    private static func load(certificatePath: String, keyPath: String) throws(TLSFilesError) -> NIOSSLContext {
        try TLSFilesError.checkReadable(certificatePath, what: "certificate")
        try TLSFilesError.checkReadable(keyPath, what: "private key")
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw TLSFilesError(path: certificatePath, problem: "is not a PEM certificate (\(error))")
        }
        guard !chain.isEmpty else { throw TLSFilesError(path: certificatePath, problem: "holds no certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw TLSFilesError(path: keyPath, problem: "is not a PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFilesError(path: keyPath, problem: "does not go with the certificate in \(certificatePath) (\(error))")
        }
    }
}

/// A TLS file that cannot be used: which one, and why.
public struct TLSFilesError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String

    public var description: String { "\(path) \(problem)" }

    static func checkReadable(_ path: String, what: String) throws(TLSFilesError) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TLSFilesError(path: path, problem: "does not exist (the \(what) file)")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw TLSFilesError(path: path, problem: "cannot be read (the \(what) file; check its permissions)")
        }
    }
}
