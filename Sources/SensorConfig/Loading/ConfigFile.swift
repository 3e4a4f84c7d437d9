internal import Configuration
internal import Foundation
internal import Yams

/// The YAML config file: read once, checked for shape and unknown keys, and exposed to
/// `ConfigReader` through swift-configuration's own `YAMLSnapshot`.
///
/// Why not `FileProvider<YAMLSnapshot>` directly: its only initializers are `async`, and
/// ``Settings/load(file:environment:flags:)`` is synchronous. `FileProvider` does nothing
/// but read the bytes and call `YAMLSnapshot.init(data:providerName:parsingOptions:)`; we do
/// the same, so values parse exactly as they would through `FileProvider`, and we get to tell
/// a missing file from an unreadable one in the message.
///
/// Why the extra Yams walk: swift-configuration only answers lookups for keys it is asked
/// about, so it cannot report a key nobody asks for (`http.prot`). We compose the same
/// document with Yams (the parser `YAMLSnapshot` uses) and reject anything that is not a known
/// section or key, or has the wrong shape, naming its line.
struct ConfigFile {
    /// The path as the caller gave it, used to name the file in messages.
    let path: String
    /// The provider serving the file's values; nil for a file without any document
    /// (empty, only comments, or `---` alone).
    let provider: (any ConfigProvider)?
    /// `http.tokens`, which only the file can give (a list of mappings); nil when absent.
    let tokens: [TokenSpec]?
    /// The whole document, for `rules:` and `forward:` (``RuleSpecs``), which are checked
    /// once `store.resolutions` is known; nil without a document.
    let root: Node?

    init(path: String) throws(SettingsError) {
        self.path = path
        let source = SettingsError.Source.file(path)
        func fail(_ problem: String) -> SettingsError { SettingsError(source: source, key: nil, problem: problem) }

        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw fail("config file not found")
        }
        guard !isDirectory.boolValue else { throw fail("is a directory, not a config file") }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let permission = FileManager.default.isReadableFile(atPath: path) ? "" : " (permission denied)"
            throw fail("cannot read config file\(permission): \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw fail("config file is not UTF-8 text")
        }

        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw fail("invalid YAML: \(Self.describe(error))")
        }
        guard let root, root.null == nil else {
            // No document, or an empty one (`---` alone): nothing set, like an absent key.
            provider = nil
            tokens = nil
            self.root = nil
            return
        }
        try Self.checkShape(root, source: source)
        tokens = try TokenSpec.list(in: root, source: source)
        self.root = root

        let options = YAMLSnapshot.ParsingOptions(
            secretsSpecifier: .specific(Set(SettingKey.allCases.filter(\.isSecret).map(\.rawValue)))
        )
        let providerName = "YAMLSnapshot[\(path)]"
        do {
            let snapshot = try YAMLSnapshot(data: try Self.withoutFileOnlyLists(root, data: data).bytes, providerName: providerName, parsingOptions: options)
            provider = SnapshotProvider(snapshot: snapshot)
        } catch {
            // checkShape rejects everything YAMLSnapshot is known to reject; keep its word anyway.
            throw fail("invalid config file: \(error)")
        }
    }

    /// The file without `http.tokens`, `rules` and `forward`, which the YAML snapshot
    /// cannot hold (it takes lists of scalars only) and ``TokenSpec/list(in:source:)`` and
    /// ``RuleSpecs`` read instead; the bytes as they are when there are none.
    private static func withoutFileOnlyLists(_ root: Node, data: Data) throws -> Data {
        guard var sections = root.mapping else { return data }
        var changed = false
        if var http = sections[TokenSpec.section]?.mapping, http[TokenSpec.key] != nil {
            http[TokenSpec.key] = nil
            sections[TokenSpec.section] = .mapping(http)
            changed = true
        }
        for section in [RuleSpecs.rulesSection, RuleSpecs.forwardSection] where sections[section] != nil {
            sections[section] = nil
            changed = true
        }
        return changed ? Data(try Yams.serialize(node: .mapping(sections)).utf8) : data
    }

    /// Rejects anything but a mapping of known sections, each a mapping of known keys whose
    /// values are scalars (or, for a list key such as `store.resolutions`, a list of
    /// scalars), with no nulls.
    private static func checkShape(_ root: Node, source: SettingsError.Source) throws(SettingsError) {
        func fail(_ problem: String, key: String? = nil) -> SettingsError {
            SettingsError(source: source, key: key, problem: problem)
        }
        let sections = SettingKey.sections + [RuleSpecs.rulesSection, RuleSpecs.forwardSection]
        guard let mapping = root.mapping else {
            throw fail("the top level must be a mapping of sections (\(sections.joined(separator: ", ")))\(at(root))")
        }
        for (sectionNode, sectionValue) in mapping {
            guard let section = sectionNode.scalar?.string, sections.contains(section) else {
                throw fail("unknown key \"\(sectionNode.scalar?.string ?? "?")\"\(at(sectionNode)); sections are \(sections.joined(separator: ", "))")
            }
            // Lists of mappings, checked by RuleSpecs once store.resolutions is known.
            if section == RuleSpecs.rulesSection || section == RuleSpecs.forwardSection { continue }
            let keys = SettingKey.allCases.filter { $0.section == section }
            if sectionValue.null != nil { continue }  // `http:` with nothing under it: an empty section
            guard let entries = sectionValue.mapping else {
                let names = keys.map(\.name) + (section == TokenSpec.section ? [TokenSpec.key] : [])
                throw fail("\"\(section)\" must be a section of keys (\(names.joined(separator: ", "))), not a value\(at(sectionValue))")
            }
            try checkEntries(entries, section: section, prefix: "", keys: keys, fail: fail)
        }
    }

    /// The keys of one section, or of a subsection (`http.tls`: `prefix` is `tls.`).
    private static func checkEntries(
        _ entries: Node.Mapping, section: String, prefix: String, keys: [SettingKey],
        fail: (String, String?) -> SettingsError
    ) throws(SettingsError) {
        for (keyNode, value) in entries {
            let name = prefix + (keyNode.scalar?.string ?? "?")
            if let key = keys.first(where: { $0.name == name }) {
                try checkValue(value, of: key, fail: fail)
            } else if section == TokenSpec.section, name == TokenSpec.key {
                continue  // a list of tokens, read and checked by `tokens`
            } else if keys.contains(where: { $0.name.hasPrefix(name + ".") }), let subsection = value.mapping {
                try checkEntries(subsection, section: section, prefix: name + ".", keys: keys, fail: fail)
            } else {
                let known = keys.map(\.name) + (section == TokenSpec.section ? [TokenSpec.key] : [])
                throw fail("unknown key \"\(section).\(name)\"\(at(keyNode)); keys of section \(section) are \(known.joined(separator: ", "))", nil)
            }
        }
    }

    private static func checkValue(
        _ value: Node,
        of key: SettingKey,
        fail: (String, String?) -> SettingsError
    ) throws(SettingsError) {
        switch value {
        case .scalar:
            if value.null != nil {
                throw fail("has no value\(at(value)); give one or remove the line to use the default", key.rawValue)
            }
        case .sequence(let sequence) where key.listItemExample != nil:
            for item in sequence where item.scalar == nil || item.null != nil {
                throw fail("list items must be single values like \(key.listItemExample ?? "")\(at(item))", key.rawValue)
            }
        case .sequence:
            throw fail("must be a single value, not a list\(at(value))", key.rawValue)
        case .mapping:
            throw fail("must be a value, not a section\(at(value))", key.rawValue)
        case .alias:
            throw fail("YAML aliases are not supported\(at(value))", key.rawValue)
        }
    }

    /// ` (line N)` for a node that knows its position.
    private static func at(_ node: Node) -> String {
        node.mark.map { " (line \($0.line))" } ?? ""
    }

    /// A one-line description of a Yams error: position and problem, without the snippet.
    private static func describe(_ error: any Error) -> String {
        guard let yamlError = error as? YamlError else { return "\(error)" }
        switch yamlError {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let contextText = context.map { "\($0.text): " } ?? ""
            return "line \(mark.line), column \(mark.column): \(contextText)\(problem)"
        default:
            return String(describing: yamlError).split(separator: "\n").first.map(String.init) ?? "\(yamlError)"
        }
    }
}
