internal import Foundation
internal import SensorCore
internal import Yams

/// The config file's `rules:` list and `forward:` mapping (CONTRACT §7), which only the
/// file can give (lists of mappings have no environment form). Checked when the settings
/// load, so `serve` and `sensorhub rules check` refuse the same mistakes with the same
/// message, naming the rule and the key:
///
/// ```yaml
/// rules:
///   - {name: greenhouse-hot, device: "gh-*", metric: temp, resolution: 1m, stat: mean, op: ">", threshold: 30, for: 3,
///      webhook: "http://alerts.local/hook", mqtt: "alerts/{rule}/{device}"}
///   - {name: sensor-silent, device: "*", metric: temp, absent: 5m}
/// forward: {topic: "aggregates/{device}/{metric}/{resolution}", resolutions: [1m]}
/// ```
enum RuleSpecs {
    static let rulesSection = "rules"
    static let forwardSection = "forward"
    private static let ruleFields = ["name", "device", "metric", "resolution", "stat", "op", "threshold", "for", "absent", "webhook", "mqtt"]
    private static let forwardFields = ["topic", "resolutions"]

    /// The rules of `root`, in file order; empty when it has none.
    static func rules(in root: Node, resolutions: [Resolution], source: SettingsError.Source) throws(SettingsError) -> [AlertRule] {
        guard let node = root.mapping?[rulesSection], node.null == nil else { return [] }
        guard let items = node.sequence else {
            throw SettingsError(source: source, key: rulesSection, problem: "must be a list of rules, each {name, device, metric, ...}\(at(node))")
        }
        var rules: [AlertRule] = []
        for (index, item) in items.enumerated() {
            let rule = try self.rule(item, index: index, resolutions: resolutions, source: source)
            guard !rules.contains(where: { $0.name == rule.name }) else {
                throw SettingsError(source: source, key: "\(rulesSection)[\(rule.name)]", problem: "two rules are named \"\(rule.name)\"\(at(item))")
            }
            rules.append(rule)
        }
        return rules
    }

    private static func rule(_ item: Node, index: Int, resolutions: [Resolution], source: SettingsError.Source) throws(SettingsError) -> AlertRule {
        var key = "\(rulesSection)[\(index)]"
        func fail(_ problem: String, field: String? = nil, _ node: Node) -> SettingsError {
            SettingsError(source: source, key: key + (field.map { ".\($0)" } ?? ""), problem: problem + at(node))
        }
        guard let entries = item.mapping else {
            throw fail("each rule must be a mapping {name, device, metric, resolution, stat, op, threshold, for, absent, webhook, mqtt}", item)
        }
        var values: [String: (text: String, node: Node)] = [:]
        for (fieldNode, value) in entries {
            let field = fieldNode.scalar?.string ?? "?"
            guard ruleFields.contains(field) else {
                throw fail("unknown field \"\(field)\"; fields of a rule are \(ruleFields.joined(separator: ", "))", fieldNode)
            }
            guard let text = value.scalar?.string, value.null == nil, !text.isEmpty else {
                throw fail("must be a non-empty single value", field: field, value)
            }
            values[field] = (text, value)
        }
        guard let name = values["name"]?.text else { throw fail("has no name", item) }
        guard name.count <= 128, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw fail("rule name \"\(name)\" must be 1-128 letters, digits, . _ or -", field: "name", item)
        }
        key = "\(rulesSection)[\(name)]"
        let device = try glob(values["device"], what: "device", fail: fail)
        let metric = try glob(values["metric"], what: "metric", fail: fail)

        let condition: AlertRule.Condition
        if let absent = values["absent"] {
            for field in ["stat", "op", "threshold", "for", "resolution"] where values[field] != nil {
                throw fail("an absent rule takes no \(field): it fires on silence, not on a statistic", field: field, values[field]!.node)
            }
            switch ValueRules.duration(absent.text, minimum: .seconds(1)) {
            case .success(let duration): condition = .absent(duration)
            case .failure(let problem): throw fail(problem.text, field: "absent", absent.node)
            }
        } else {
            condition = .threshold(try threshold(values, resolutions: resolutions, fail: fail))
        }

        var actions: [AlertAction] = []
        if let webhook = values["webhook"] {
            guard let url = URL(string: webhook.text), ["http", "https"].contains(url.scheme?.lowercased()), url.host?.isEmpty == false else {
                throw fail("\(ValueRules.quoted(webhook.text)) is not an http:// or https:// URL", field: "webhook", webhook.node)
            }
            actions.append(.webhook(webhook.text))
        }
        if let mqtt = values["mqtt"] {
            do {
                actions.append(.mqtt(try TopicTemplate(mqtt.text, allowed: ["rule", "device", "metric"])))
            } catch {
                throw fail(error.description, field: "mqtt", mqtt.node)
            }
        }
        return AlertRule(name: name, device: device, metric: metric, condition: condition, actions: actions)
    }

    /// `stat op threshold` on `resolution` (default: the finest stored), `for` windows.
    private static func threshold(
        _ values: [String: (text: String, node: Node)], resolutions: [Resolution],
        fail: (String, String?, Node) -> SettingsError
    ) throws(SettingsError) -> AlertRule.Threshold {
        let anyNode = values["name"]!.node
        guard let stat = values["stat"] else {
            throw fail("needs stat, op and threshold (or absent: DURATION)", nil, anyNode)
        }
        guard let statistic = AlertStatistic(rawValue: stat.text) else {
            throw fail("\(ValueRules.quoted(stat.text)) is not a statistic: \(AlertStatistic.allCases.map(\.rawValue).joined(separator: ", "))", "stat", stat.node)
        }
        guard let op = values["op"] else { throw fail("needs op (one of > >= < <=)", nil, anyNode) }
        guard let comparison = Comparison(rawValue: op.text) else {
            throw fail("\(ValueRules.quoted(op.text)) is not a comparison: one of > >= < <=", "op", op.node)
        }
        guard let thresholdText = values["threshold"] else { throw fail("needs threshold, a number", nil, anyNode) }
        guard let threshold = Double(thresholdText.text), threshold.isFinite else {
            throw fail("\(ValueRules.quoted(thresholdText.text)) is not a finite number", "threshold", thresholdText.node)
        }
        var resolution = resolutions.min()!
        if let text = values["resolution"] {
            guard let parsed = try? Resolution(parsing: text.text), resolutions.contains(parsed) else {
                throw fail("\(ValueRules.quoted(text.text)) is not one of store.resolutions (\(resolutions.map(\.description).joined(separator: ",")))", "resolution", text.node)
            }
            resolution = parsed
        }
        var windows = 1
        if let text = values["for"] {
            switch ValueRules.count(text.text, within: 1...10_000, what: "number of windows") {
            case .success(let count): windows = count
            case .failure(let problem): throw fail(problem.text, "for", text.node)
            }
        }
        return AlertRule.Threshold(resolution: resolution, statistic: statistic, comparison: comparison, value: threshold, windows: windows)
    }

    private static func glob(
        _ value: (text: String, node: Node)?, what: String, fail: (String, String?, Node) -> SettingsError
    ) throws(SettingsError) -> NameGlob {
        guard let value else { return .any }
        guard value.text.count <= 128, value.text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._:-*?[]!".contains($0)) }) else {
            throw fail("\(ValueRules.quoted(value.text)) is not a \(what) name glob (letters, digits, . _ : - and the wildcards * ? [])", what, value.node)
        }
        return NameGlob(value.text)
    }

    /// The `forward:` of `root`, nil when it has none.
    static func forward(in root: Node, resolutions: [Resolution], source: SettingsError.Source) throws(SettingsError) -> ForwardRule? {
        guard let node = root.mapping?[forwardSection], node.null == nil else { return nil }
        func fail(_ problem: String, field: String? = nil, _ at: Node) -> SettingsError {
            SettingsError(source: source, key: forwardSection + (field.map { ".\($0)" } ?? ""), problem: problem + self.at(at))
        }
        guard let entries = node.mapping else { throw fail("must be a mapping {topic, resolutions}", node) }
        var topic: TopicTemplate?
        var chosen: [Resolution]?
        for (fieldNode, value) in entries {
            let field = fieldNode.scalar?.string ?? "?"
            switch field {
            case "topic":
                guard let text = value.scalar?.string, value.null == nil else { throw fail("must be a topic template", field: field, value) }
                do {
                    topic = try TopicTemplate(text, allowed: ["device", "metric", "resolution"])
                } catch {
                    throw fail(error.description, field: field, value)
                }
            case "resolutions":
                let items = value.sequence.map { $0.compactMap(\.scalar?.string) }
                    ?? (value.scalar?.string ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                guard !items.isEmpty else { throw fail("must list at least one resolution", field: field, value) }
                var parsed: [Resolution] = []
                for item in items {
                    guard let resolution = try? Resolution(parsing: item), resolutions.contains(resolution) else {
                        throw fail("\(ValueRules.quoted(item)) is not one of store.resolutions (\(resolutions.map(\.description).joined(separator: ",")))", field: field, value)
                    }
                    if !parsed.contains(resolution) { parsed.append(resolution) }
                }
                chosen = parsed
            default:
                throw fail("unknown field \"\(field)\"; fields of forward are \(forwardFields.joined(separator: ", "))", fieldNode)
            }
        }
        guard let topic else { throw fail("needs a topic, e.g. \"aggregates/{device}/{metric}/{resolution}\"", node) }
        if chosen == nil {
            guard let minute = Resolution(seconds: 60), resolutions.contains(minute) else {
                throw fail("needs resolutions: 1m (the default) is not one of store.resolutions", node)
            }
            chosen = [minute]
        }
        return ForwardRule(topic: topic, resolutions: chosen!.sorted())
    }

    private static func at(_ node: Node) -> String {
        node.mark.map { " (line \($0.line))" } ?? ""
    }
}
