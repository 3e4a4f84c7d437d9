internal import Yams

/// One scoped bearer token of `http.tokens` (CONTRACT §5): who it is (`name`, the only
/// thing logs and metrics ever show), where its secret is (`token_file`), what it may do
/// (`scope`) and, for ingest, which devices it may write (`devices`, a glob).
///
/// In the config file only (a list of mappings has no environment form):
/// ```yaml
/// http:
///   tokens:
///     - {name: line-7-gateway, token_file: /etc/sensorhub/line7.token, scope: ingest, devices: "line7-*"}
///     - {name: grafana, token_file: /etc/sensorhub/grafana.token, scope: read}
/// ```
public struct TokenSpec: Sendable, Equatable {
    /// What a token may do.
    public enum Scope: String, Sendable, CaseIterable {
        /// `POST /v1/readings`, for devices matching the token's glob.
        case ingest
        /// Queries, live streams and `/metrics`.
        case read
        /// Both, for every device.
        case admin
    }

    public var name: String
    public var tokenFile: String
    public var scope: Scope
    /// Devices an `ingest` token may write (`*` and `?` wildcards). Default `*`.
    public var devices: String

    public init(name: String, tokenFile: String, scope: Scope, devices: String = "*") {
        self.name = name
        self.tokenFile = tokenFile
        self.scope = scope
        self.devices = devices
    }

    static let section = "http"
    static let key = "tokens"
    private static let fields = ["name", "token_file", "scope", "devices"]

    /// The secret in ``tokenFile``: its content without the final line break. Read when the
    /// daemon starts; the error names the file and the token, never any of its content.
    public func readToken() throws(SettingsError) -> String {
        let key = "http.tokens[\(name)].token_file"
        let text = try SecretFile.read(tokenFile, key: key)
        guard case .failure(let problem) = ValueRules.token(text) else { return text }
        throw SettingsError(source: .file(tokenFile), key: key, problem: "the token in it \(problem.text)")
    }

    /// The `http.tokens` list of a config file's root node; nil when it has none. Each
    /// entry must be a mapping of the known fields with a unique name, a token file and a
    /// scope.
    static func list(in root: Node, source: SettingsError.Source) throws(SettingsError) -> [TokenSpec]? {
        guard let node = root.mapping?[section]?.mapping?[key] else { return nil }
        func fail(_ problem: String, _ at: Node) -> SettingsError {
            SettingsError(source: source, key: "\(section).\(key)", problem: problem + (at.mark.map { " (line \($0.line))" } ?? ""))
        }
        guard let items = node.sequence else {
            throw fail("must be a list of tokens, each {name, token_file, scope, devices}", node)
        }
        var specs: [TokenSpec] = []
        for item in items {
            guard let entries = item.mapping else { throw fail("each token must be a mapping {name, token_file, scope, devices}", item) }
            var values: [String: String] = [:]
            for (keyNode, value) in entries {
                let field = keyNode.scalar?.string ?? "?"
                guard fields.contains(field) else {
                    throw fail("unknown field \"\(field)\" of a token; fields are \(fields.joined(separator: ", "))", keyNode)
                }
                guard let text = value.scalar?.string, value.null == nil, !text.isEmpty else {
                    throw fail("\(field) of a token must be a non-empty value", value)
                }
                values[field] = text
            }
            guard let name = values["name"] else { throw fail("a token has no name", item) }
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                throw fail("token name \"\(name)\" may hold only letters, digits and . _ -", item)
            }
            guard !specs.contains(where: { $0.name == name }) else { throw fail("two tokens are named \"\(name)\"", item) }
            guard let tokenFile = values["token_file"] else { throw fail("token \(name) has no token_file", item) }
            guard let scopeText = values["scope"], let scope = Scope(rawValue: scopeText) else {
                throw fail("token \(name) needs a scope: \(Scope.allCases.map(\.rawValue).joined(separator: ", "))", item)
            }
            let devices = values["devices"] ?? "*"
            guard devices.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._:-*?".contains($0)) }) else {
                throw fail("devices of token \(name) must be a device name glob (letters, digits, . _ : - and the wildcards * ?)", item)
            }
            specs.append(TokenSpec(name: name, tokenFile: tokenFile, scope: scope, devices: devices))
        }
        return specs
    }
}
