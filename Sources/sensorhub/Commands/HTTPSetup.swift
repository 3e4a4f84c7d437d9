import Dispatch
import Foundation
import HTTPAPI
import Logging
import SensorConfig
import SensorCore

/// Translates the daemon's HTTP security settings: who may use the API, and the HTTPS
/// certificate (re-read on SIGHUP).
enum HTTPSetup {
    /// `http.token` (as an admin token named `http.token`) and `http.tokens`, their
    /// secrets read from their files.
    static func access(from settings: Settings) throws(SettingsError) -> AccessPolicy {
        var tokens: [APIToken] = []
        if let secret = settings.http.token {
            tokens.append(APIToken(name: "http.token", secret: secret, scope: .admin))
        }
        for spec in settings.http.tokens {
            let scope: APIToken.Scope = switch spec.scope {
            case .ingest: .ingest
            case .read: .read
            case .admin: .admin
            }
            let secret = try spec.readToken()
            // Two tokens with one secret: whichever matched last would decide the scope.
            if let same = tokens.first(where: { $0.secret == Array(secret.utf8) }) {
                throw SettingsError(source: .file(spec.tokenFile), key: "http.tokens[\(spec.name)].token_file",
                                    problem: "holds the same token as \(same.name): give each token its own secret")
            }
            tokens.append(APIToken(name: spec.name, secret: secret, scope: scope, devices: NameGlob(spec.devices)))
        }
        return AccessPolicy(tokens: tokens)
    }

    /// The certificate of `http.tls.*`, loaded; nil for plain HTTP.
    static func certificate(from settings: Settings) throws(TLSFilesError) -> ServerCertificate? {
        guard let files = settings.http.tls else { return nil }
        return try ServerCertificate(certificatePath: files.certificate, keyPath: files.privateKey)
    }

    /// Re-reads the certificate on every SIGHUP, logging the outcome; a certificate that
    /// fails to load leaves the one before in use. The returned source must be kept.
    static func reloadOnHangUp(_ certificate: ServerCertificate, logger: Logger) -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler {
            do {
                try certificate.reload()
                logger.notice("reloaded the TLS certificate", metadata: ["cert": "\(certificate.certificatePath)", "key": "\(certificate.keyPath)"])
            } catch {
                logger.error("cannot reload the TLS certificate, keeping the one loaded before", metadata: ["error": "\(error)"])
            }
        }
        source.resume()
        return source
    }
}
