import Foundation
import Yams

/// A JSON value with integers kept apart from other numbers and booleans apart from both,
/// which `JSONSerialization`'s NSNumbers do not do reliably on Linux.
enum JSONValue: Equatable, Sendable, Decodable, CustomStringConvertible {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Parses JSON text (any value, also a bare scalar).
    static func parse(_ data: Data) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// Parses a YAML document (an OpenAPI file) into the same JSON data model.
    static func parse(yaml: String) throws -> JSONValue {
        try JSONValue(yaml: Yams.load(yaml: yaml) as Any?)
    }

    private init(yaml value: Any?) throws {
        switch value {
        case nil, is NSNull: self = .null
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .integer(Int64(value))
        case let value as Double: self = .number(value)
        case let value as String: self = .string(value)
        case let value as Date: self = .string(ISO8601DateFormatter().string(from: value))
        case let value as [Any]: self = .array(try value.map { try JSONValue(yaml: $0) })
        case let value as [AnyHashable: Any]:
            var object: [String: JSONValue] = [:]
            for (key, element) in value { object[String(describing: key.base)] = try JSONValue(yaml: element) }
            self = .object(object)
        case let value?:
            throw SchemaDocumentError(message: "YAML value \(value) of type \(type(of: value)) has no JSON equivalent")
        }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    var objectValue: [String: JSONValue]? {
        if case .object(let object) = self { return object }
        return nil
    }

    var arrayValue: [JSONValue]? {
        if case .array(let array) = self { return array }
        return nil
    }

    /// The value as a Double when it is a number of either kind.
    var numberValue: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .number(let value): value
        default: nil
        }
    }

    /// The JSON Schema type names this value belongs to (an integral number is also an
    /// `integer`, every integer also a `number`).
    var typeNames: Set<String> {
        switch self {
        case .null: ["null"]
        case .bool: ["boolean"]
        case .integer: ["integer", "number"]
        case .number(let value): value.rounded() == value && value.isFinite ? ["integer", "number"] : ["number"]
        case .string: ["string"]
        case .array: ["array"]
        case .object: ["object"]
        }
    }

    /// JSON equality with numbers compared by value (`1` equals `1.0`).
    func jsonEquals(_ other: JSONValue) -> Bool {
        if let lhs = numberValue, let rhs = other.numberValue { return lhs == rhs }
        switch (self, other) {
        case (.array(let lhs), .array(let rhs)):
            return lhs.count == rhs.count && zip(lhs, rhs).allSatisfy { $0.jsonEquals($1) }
        case (.object(let lhs), .object(let rhs)):
            return lhs.count == rhs.count && lhs.allSatisfy { key, value in rhs[key].map { value.jsonEquals($0) } ?? false }
        default:
            return self == other
        }
    }

    /// The value at a JSON pointer (RFC 6901, `""` = the whole value).
    func value(at pointer: String) -> JSONValue? {
        guard !pointer.isEmpty else { return self }
        guard pointer.hasPrefix("/") else { return nil }
        var current = self
        for token in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            switch current {
            case .object(let object):
                guard let next = object[key] else { return nil }
                current = next
            case .array(let array):
                guard let index = Int(key), array.indices.contains(index) else { return nil }
                current = array[index]
            default:
                return nil
            }
        }
        return current
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .integer(let value): "\(value)"
        case .number(let value): "\(value)"
        case .string(let value): "\"\(value)\""
        case .array(let array): "[" + array.map(\.description).joined(separator: ",") + "]"
        case .object(let object):
            "{" + object.keys.sorted().map { "\"\($0)\":\(object[$0]!.description)" }.joined(separator: ",") + "}"
        }
    }
}

/// A document (the OpenAPI file) that cannot be used: a dangling `$ref`, a YAML value
/// without JSON equivalent.
struct SchemaDocumentError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// One way an instance breaks its schema: where in the instance (JSON pointer), which
/// rule, and where that rule sits in the document.
struct SchemaViolation: CustomStringConvertible, Sendable {
    let instancePointer: String
    let rule: String
    let message: String
    let schemaLocation: String

    var description: String {
        "at \(instancePointer.isEmpty ? "(root)" : instancePointer): rule \"\(rule)\": \(message) (schema \(schemaLocation))"
    }
}

/// A JSON Schema (2020-12) validator for the subset `schema/openapi.yaml` uses: `type`
/// (one name or an array, including `"null"`), `enum`, `const`, `required`, `properties`,
/// `additionalProperties` (false or a schema), `items`, `minimum`, `maximum`, `minLength`,
/// `maxLength`, `pattern`, `format: date-time`, `oneOf`, `anyOf` and `$ref` to a JSON
/// pointer inside the same document (`#/components/schemas/…`). Annotations are ignored;
/// any other keyword is reported as a violation, so the document cannot use a rule this
/// validator would silently skip.
struct SchemaValidator {
    /// The whole document `$ref`s point into.
    let document: JSONValue

    private static let annotations: Set<String> = [
        "description", "title", "example", "examples", "default", "deprecated", "readOnly", "writeOnly", "$comment",
    ]

    /// Every violation of `instance` against `schema`, empty when it conforms.
    /// - Parameter location: where `schema` sits in the document, for messages
    ///   (`#/paths/~1v1~1devices/get/responses/200/…`).
    func validate(_ instance: JSONValue, against schema: JSONValue, at location: String) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        check(instance, pointer: "", schema: schema, location: location, depth: 0, into: &violations)
        return violations
    }

    /// Resolves a local `$ref` (`#/…`) against the document.
    func resolve(reference: String) -> JSONValue? {
        guard reference.hasPrefix("#") else { return nil }
        return document.value(at: String(reference.dropFirst()))
    }

    private func check(
        _ instance: JSONValue, pointer: String, schema: JSONValue, location: String, depth: Int,
        into violations: inout [SchemaViolation]
    ) {
        func fail(_ rule: String, _ message: String) {
            violations.append(SchemaViolation(instancePointer: pointer, rule: rule, message: message, schemaLocation: location + "/" + rule))
        }
        if case .bool(let allowed) = schema {
            if !allowed { violations.append(SchemaViolation(instancePointer: pointer, rule: "false", message: "no value is allowed here", schemaLocation: location)) }
            return
        }
        guard let keywords = schema.objectValue else {
            fail("schema", "the schema is not an object or boolean: \(schema)")
            return
        }
        guard depth < 64 else {
            fail("$ref", "references nest deeper than 64 levels (a cycle?)")
            return
        }
        for (keyword, rule) in keywords.sorted(by: { $0.key < $1.key }) {
            switch keyword {
            case "$ref":
                guard let reference = rule.stringValue, let target = resolve(reference: reference) else {
                    fail("$ref", "cannot resolve \(rule) in the document")
                    continue
                }
                check(instance, pointer: pointer, schema: target, location: reference, depth: depth + 1, into: &violations)

            case "type":
                let allowed = rule.arrayValue?.compactMap(\.stringValue) ?? rule.stringValue.map { [$0] } ?? []
                if allowed.isEmpty { fail("type", "type must be a name or an array of names, not \(rule)") }
                if instance.typeNames.isDisjoint(with: allowed) {
                    fail("type", "expected \(allowed.joined(separator: " or ")), got \(Self.typeName(of: instance)) \(Self.short(instance))")
                }

            case "enum":
                guard let options = rule.arrayValue else {
                    fail("enum", "enum must be an array")
                    continue
                }
                if !options.contains(where: { $0.jsonEquals(instance) }) {
                    fail("enum", "\(Self.short(instance)) is not one of \(rule)")
                }

            case "const":
                if !rule.jsonEquals(instance) { fail("const", "\(Self.short(instance)) is not \(rule)") }

            case "required":
                guard case .object(let object) = instance else { continue }
                for name in rule.arrayValue?.compactMap(\.stringValue) ?? [] where object[name] == nil {
                    fail("required", "required key \"\(name)\" is missing")
                }

            case "properties":
                guard case .object(let object) = instance, let properties = rule.objectValue else { continue }
                for (name, subschema) in properties.sorted(by: { $0.key < $1.key }) {
                    guard let value = object[name] else { continue }
                    check(value, pointer: pointer + "/" + Self.escape(name), schema: subschema,
                          location: location + "/properties/" + Self.escape(name), depth: depth, into: &violations)
                }

            case "additionalProperties":
                guard case .object(let object) = instance else { continue }
                let declared = Set(keywords["properties"]?.objectValue?.keys.map { $0 } ?? [])
                for (name, value) in object.sorted(by: { $0.key < $1.key }) where !declared.contains(name) {
                    if case .bool(false) = rule {
                        violations.append(SchemaViolation(
                            instancePointer: pointer + "/" + Self.escape(name), rule: "additionalProperties",
                            message: "key \"\(name)\" is not allowed (allowed: \(declared.sorted().joined(separator: ", ")))",
                            schemaLocation: location + "/additionalProperties"))
                    } else {
                        check(value, pointer: pointer + "/" + Self.escape(name), schema: rule,
                              location: location + "/additionalProperties", depth: depth, into: &violations)
                    }
                }

            case "items":
                guard case .array(let array) = instance else { continue }
                for (index, element) in array.enumerated() {
                    check(element, pointer: pointer + "/\(index)", schema: rule, location: location + "/items", depth: depth, into: &violations)
                }

            case "minimum", "maximum":
                guard let value = instance.numberValue else { continue }
                guard let bound = rule.numberValue else {
                    fail(keyword, "\(keyword) must be a number")
                    continue
                }
                if keyword == "minimum" ? value < bound : value > bound {
                    fail(keyword, "\(Self.short(instance)) is \(keyword == "minimum" ? "less" : "greater") than \(rule)")
                }

            case "minLength", "maxLength":
                guard case .string(let string) = instance else { continue }
                guard let bound = rule.numberValue else {
                    fail(keyword, "\(keyword) must be a number")
                    continue
                }
                let length = Double(string.unicodeScalars.count)
                if keyword == "minLength" ? length < bound : length > bound {
                    fail(keyword, "length \(Int(length)) of \(Self.short(instance)) is \(keyword == "minLength" ? "below" : "above") \(rule)")
                }

            case "pattern":
                guard case .string(let string) = instance else { continue }
                guard let pattern = rule.stringValue, let regex = try? NSRegularExpression(pattern: pattern) else {
                    fail("pattern", "\(rule) is not a regular expression")
                    continue
                }
                let range = NSRange(string.startIndex..., in: string)
                if regex.firstMatch(in: string, range: range) == nil {
                    fail("pattern", "\(Self.short(instance)) does not match \(pattern)")
                }

            case "format":
                guard case .string(let string) = instance, rule.stringValue == "date-time" else { continue }
                if !Self.isDateTime(string) { fail("format", "\(Self.short(instance)) is not an RFC 3339 date-time") }

            case "oneOf", "anyOf":
                guard let options = rule.arrayValue, !options.isEmpty else {
                    fail(keyword, "\(keyword) must be a non-empty array")
                    continue
                }
                var results: [[SchemaViolation]] = []
                for (index, option) in options.enumerated() {
                    var optionViolations: [SchemaViolation] = []
                    check(instance, pointer: pointer, schema: option, location: location + "/\(keyword)/\(index)", depth: depth, into: &optionViolations)
                    results.append(optionViolations)
                }
                let matching = results.filter(\.isEmpty).count
                if matching == 0 {
                    let reasons = results.enumerated().map { "option \($0.offset): \($0.element.first?.description ?? "")" }
                    fail(keyword, "matches none of the \(options.count) options (\(reasons.joined(separator: "; ")))")
                } else if keyword == "oneOf" && matching > 1 {
                    fail(keyword, "matches \(matching) of the options, exactly one is required")
                }

            default:
                if !Self.annotations.contains(keyword) && !keyword.hasPrefix("x-") {
                    fail(keyword, "keyword \"\(keyword)\" is not supported by this validator")
                }
            }
        }
    }

    /// `2025-11-26T14:00:00Z`, `2025-11-26T14:00:00.25+01:00` (RFC 3339 §5.6).
    static func isDateTime(_ text: String) -> Bool {
        text.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})/) != nil
    }

    static func escape(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    private static func typeName(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    private static func short(_ value: JSONValue) -> String {
        let text = value.description
        return text.count > 80 ? String(text.prefix(77)) + "..." : text
    }
}
