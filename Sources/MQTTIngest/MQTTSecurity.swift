internal import CMosquitto
internal import Foundation

/// How a client proves itself to the broker and checks the broker: a user name and
/// password, and TLS (`mqtts://`) with the broker's certificate verified against a CA file
/// or the system's store, its host name checked, TLS 1.2 or later, optionally with a client
/// certificate.
public struct MQTTSecurity: Sendable {
    public struct TLS: Sendable {
        /// PEM CA file; nil trusts the system's CA store.
        public var caFile: String?
        /// Client certificate and key (PEM), for brokers that require one.
        public var certificateFile: String?
        public var keyFile: String?

        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    public var username: String?
    /// A secret: never logged.
    public var password: String?
    /// Nil for plain TCP.
    public var tls: TLS?

    public init(username: String? = nil, password: String? = nil, tls: TLS? = nil) {
        self.username = username
        self.password = password
        self.tls = tls
    }

    /// Sets the credentials and TLS options on a client before it connects.
    /// - Throws: ``MQTTSourceError`` naming a TLS file that cannot be used.
    func apply(to handle: OpaquePointer) throws(MQTTSourceError) {
        if let username {
            mosquitto_username_pw_set(handle, username, password)
        }
        guard let tls else { return }
        for (path, what) in [(tls.caFile, "CA"), (tls.certificateFile, "client certificate"), (tls.keyFile, "client key")] {
            guard let path else { continue }
            guard FileManager.default.isReadableFile(atPath: path) else {
                let problem = FileManager.default.fileExists(atPath: path) ? "cannot be read (check its permissions)" : "does not exist"
                throw MQTTSourceError("the MQTT TLS \(what) file \(path) \(problem)")
            }
        }
        // Every call is checked: one that failed silently would leave the connection
        // without the OS store, the TLS 1.2 minimum or host-name verification.
        func check(_ code: Int32, _ what: String) throws(MQTTSourceError) {
            guard code == MOSQ_ERR_SUCCESS.rawValue else {
                throw MQTTSourceError("\(what): \(String(cString: mosquitto_strerror(code)))")
            }
        }
        if tls.caFile == nil {
            try check(mosquitto_int_option(handle, MOSQ_OPT_TLS_USE_OS_CERTS, 1), "cannot use the system's CA store for MQTT")
        }
        // With the OS store alone, libmosquitto still wants a CA location: its own default
        // directory satisfies it (the OS store is loaded as well).
        try check(mosquitto_tls_set(handle, tls.caFile, tls.caFile == nil ? "/etc/ssl/certs" : nil, tls.certificateFile, tls.keyFile, nil),
                  "the MQTT TLS files cannot be used")
        // Verify the broker's certificate (SSL_VERIFY_PEER), TLS 1.2 or later, and its host name.
        try check(mosquitto_tls_opts_set(handle, 1, "tlsv1.2", nil), "cannot set the MQTT TLS options")
        try check(mosquitto_tls_insecure_set(handle, false), "cannot turn on the broker's host-name check")
    }

    /// What libmosquitto logged, made specific: for a TLS handshake that refused the
    /// broker's certificate, OpenSSL's reason (`certificate has expired`, `unable to get
    /// local issuer certificate`, …), which libmosquitto's own line leaves out. Called from
    /// the log callback, while the connection's TLS state still exists.
    static func problem(logged text: String, handle: OpaquePointer?) -> String {
        guard text.contains("OpenSSL"), let handle, let ssl = mosquitto_ssl_get(handle) else { return text }
        let result = SSL_get_verify_result(OpaquePointer(ssl))
        guard result != X509_V_OK else { return text }
        // libmosquitto's host name check fails without an error code of its own.
        let reason = result == X509_V_ERR_UNSPECIFIED
            ? "it is not valid for the host name of the broker's URL"
            : String(cString: X509_verify_cert_error_string(result))
        return "the broker's certificate was refused: \(reason)"
    }
}
