import Foundation
import SensorCore
import Testing

// Keeps schema/openapi.yaml true: real requests to a real daemon, each answer checked
// against the document (path + method, status, content type, JSON body, required
// headers, query parameters, request bodies), and every operation of the document
// exercised by at least one request below.

/// schema/openapi.yaml, parsed.
private struct OpenAPIDocument {
    let root: JSONValue
    let validator: SchemaValidator

    static func load() throws -> OpenAPIDocument {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: packageRoot.appendingPathComponent("schema/openapi.yaml"), encoding: .utf8)
        let root = try JSONValue.parse(yaml: text)
        return OpenAPIDocument(root: root, validator: SchemaValidator(document: root))
    }

    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// Every (METHOD, path) the document describes.
    var operations: [SpecOperation] {
        let paths = root["paths"]?.objectValue ?? [:]
        return paths.keys.sorted().flatMap { path in
            Self.methods.filter { paths[path]?[$0] != nil }.map { SpecOperation(method: $0.uppercased(), path: path) }
        }
    }

    /// The operation object and its location (`#/paths/~1v1~1devices/get`).
    func operation(_ method: String, _ path: String) -> (JSONValue, String)? {
        guard let value = root["paths"]?[path]?[method.lowercased()] else { return nil }
        return (value, "#/paths/\(SchemaValidator.escape(path))/\(method.lowercased())")
    }

    /// Follows `$ref`s of responses, parameters and headers to the object they name.
    func dereference(_ value: JSONValue, at location: String) -> (JSONValue, String) {
        var (current, where_) = (value, location)
        for _ in 0..<16 {
            guard let reference = current["$ref"]?.stringValue, let target = validator.resolve(reference: reference) else { break }
            (current, where_) = (target, reference)
        }
        return (current, where_)
    }

    /// Names of the query parameters documented for an operation (its own and its path's).
    func queryParameters(_ method: String, _ path: String) -> Set<String> {
        let lists = [root["paths"]?[path]?["parameters"], root["paths"]?[path]?[method.lowercased()]?["parameters"]]
        var names: Set<String> = []
        for parameter in lists.compactMap({ $0?.arrayValue }).joined() {
            let (resolved, _) = dereference(parameter, at: "")
            if resolved["in"]?.stringValue == "query", let name = resolved["name"]?.stringValue { names.insert(name) }
        }
        return names
    }

    /// The security requirements in force for an operation (its own, else the document's).
    func security(of operation: JSONValue) -> [[String: JSONValue]] {
        (operation["security"] ?? root["security"])?.arrayValue?.compactMap(\.objectValue) ?? []
    }

    /// Whether the operation accepts the token as the `access_token` query parameter.
    func acceptsQueryToken(_ operation: JSONValue) -> Bool {
        security(of: operation).contains { requirement in
            requirement.keys.contains { name in
                let scheme = root["components"]?["securitySchemes"]?[name]
                return scheme?["type"]?.stringValue == "apiKey" && scheme?["in"]?.stringValue == "query"
                    && scheme?["name"]?.stringValue == "access_token"
            }
        }
    }

    /// Every `$ref` in the document that points nowhere.
    func danglingReferences() -> [String] {
        var dangling: [String] = []
        func walk(_ value: JSONValue, _ pointer: String) {
            switch value {
            case .object(let object):
                for (key, element) in object {
                    if key == "$ref", let reference = element.stringValue, validator.resolve(reference: reference) == nil {
                        dangling.append("\(pointer)/$ref → \(reference)")
                    }
                    walk(element, pointer + "/" + SchemaValidator.escape(key))
                }
            case .array(let array):
                for (index, element) in array.enumerated() { walk(element, pointer + "/\(index)") }
            default:
                break
            }
        }
        walk(root, "#")
        return dangling.sorted()
    }
}

private struct SpecOperation: Hashable, CustomStringConvertible {
    let method: String
    let path: String
    var description: String { "\(method) \(path)" }
}

/// One real request and the status it must get.
private struct Probe: Sendable {
    /// Which daemon answers: one without a token, or one with `SENSORHUB_HTTP_TOKEN`.
    enum Server: Sendable { case open, token }
    /// How the request is sent: URLSession, or a raw socket that reads only the response
    /// head (and what came with it) of an event stream or a WebSocket upgrade.
    enum Kind: Sendable { case http, eventStream, webSocket }

    var name: String
    var daemon: Server = .open
    var kind: Kind = .http
    var method = "GET"
    var path: String
    /// Raw query string without `?`.
    var query = ""
    var headers: [String: String] = [:]
    var body: String?
    var expect: Int
    /// Validate the request body against the documented request schema (good bodies).
    var validateRequest = false
    /// Repeat until the answer is a non-empty JSON array (data visible after a flush), so
    /// row schemas are checked against real rows.
    var waitForRows = false
    /// A header the answer must carry with exactly this value.
    var expectHeader: (name: String, value: String)?

    var target: String { query.isEmpty ? path : path + "?" + query }
    var operation: SpecOperation { SpecOperation(method: method, path: path) }
}

private let token = "s3cret"
private let bearer = ["Authorization": "Bearer \(token)"]
/// The open daemon's `http.max_body` (4KiB), small so that a 413 takes a small body.
private let maxBody = 4096

private func ingest(_ name: String, _ contentType: String?, _ body: String, expect: Int, validate: Bool = false,
                    daemon: Probe.Server = .open, headers: [String: String] = [:]) -> Probe {
    Probe(name: name, daemon: daemon, method: "POST", path: "/v1/readings",
          headers: headers.merging(contentType.map { ["Content-Type": $0] } ?? [:]) { $1 },
          body: body, expect: expect, validateRequest: validate)
}

private let goodObject = #"{"device":"json-1","metric":"temp","value":21.5,"ts":1764165600.25,"seq":1}"#

/// Ingest, queries, health and metrics: routes that exist today.
private let coreProbes: [Probe] = [
    ingest("ingest: one JSON object", "application/json", goodObject, expect: 202, validate: true),
    ingest("ingest: JSON array with a charset parameter", "application/json; charset=utf-8", """
        [{"device":"json-1","metric":"temp","value":22,"ts":"2025-11-26T14:00:10Z","seq":2},
         {"device":"json-2","metric":"hum","value":40,"ts":1764165601}]
        """, expect: 202, validate: true),
    ingest("ingest: repeated seq is a duplicate", "application/json", goodObject, expect: 202, validate: true),
    ingest("ingest: NDJSON", "application/x-ndjson", """
        {"device":"nd-1","metric":"hum","value":1.5,"ts":1764165660}

        {"device":"nd-1","metric":"hum","value":2.5,"ts":1764165661,"seq":9}
        """, expect: 202, validate: true),
    ingest("ingest: SenML", "application/senml+json",
           #"[{"bn":"senml-1/","bt":1764165600,"n":"press","v":1000},{"n":"press","t":30,"v":1002}]"#,
           expect: 202, validate: true),
    ingest("ingest: line protocol", "text/plain",
           "power,device=lp-1 value=5,volts=230 1764165605000000000\npower,device=lp-1 value=7i 1764165665000000000\n",
           expect: 202),
    ingest("ingest: JSON array with a bad device", "application/json",
           #"[{"device":"ok","metric":"m","value":1},{"device":"bad device","metric":"m","value":1}]"#, expect: 400),
    ingest("ingest: JSON that does not parse", "application/json", #"{"device":"#, expect: 400),
    ingest("ingest: a bare NaN", "application/json", "NaN", expect: 400),
    ingest("ingest: a string value", "application/json", #"{"device":"d","metric":"m","value":"abc"}"#, expect: 400),
    ingest("ingest: a reading from the year 2100", "application/json",
           #"{"device":"d","metric":"m","value":1,"ts":4102444800}"#, expect: 400),
    ingest("ingest: NDJSON with a bad second line", "application/x-ndjson",
           "{\"device\":\"d\",\"metric\":\"m\",\"value\":1}\n{\"device\":\"d\",\"metric\":\"m\"}\n", expect: 400),
    ingest("ingest: SenML string value", "application/senml+json", #"[{"bn":"s-1/","n":"state","vs":"on"}]"#, expect: 400),
    ingest("ingest: SenML object instead of an array", "application/senml+json", #"{"bn":"s-1/","n":"t","v":1}"#, expect: 400),
    ingest("ingest: line protocol with a text field", "text/plain", "m,device=lp value=1 1\nm,device=lp value=x 2\n", expect: 400),
    ingest("ingest: body over the size limit", "application/json",
           "[" + Array(repeating: goodObject, count: maxBody / goodObject.utf8.count + 1).joined(separator: ",") + "]", expect: 413),
    ingest("ingest: unknown content type", "application/xml", goodObject, expect: 415),
    ingest("ingest: no content type", nil, goodObject, expect: 415),

    Probe(name: "aggregates: 1m windows of everything", path: "/v1/aggregates", query: "window=1m", expect: 200, waitForRows: true),
    Probe(name: "aggregates: 10s windows, globs and a range", path: "/v1/aggregates",
          query: "device=json-*&metric=t*&window=10s&from=2025-11-26T14:00:00Z&to=1764169200", expect: 200, waitForRows: true),
    Probe(name: "aggregates: sliding 5m windows every 1m", path: "/v1/aggregates", query: "window=5m&step=1m", expect: 200, waitForRows: true),
    Probe(name: "aggregates: no matching series", path: "/v1/aggregates", query: "device=nobody&window=1h", expect: 200),
    Probe(name: "aggregates: window missing", path: "/v1/aggregates", query: "device=json-1", expect: 400),
    Probe(name: "aggregates: window unparsable", path: "/v1/aggregates", query: "window=abc", expect: 400),
    Probe(name: "aggregates: window not a multiple of a stored resolution", path: "/v1/aggregates", query: "window=7s", expect: 400),
    Probe(name: "aggregates: step unparsable", path: "/v1/aggregates", query: "window=1m&step=5x", expect: 400),
    Probe(name: "aggregates: from unparsable", path: "/v1/aggregates", query: "window=1m&from=yesterday", expect: 400),
    Probe(name: "aggregates: from not before to", path: "/v1/aggregates", query: "window=1m&from=1764165600&to=1764165600", expect: 400),
    Probe(name: "devices", path: "/v1/devices", expect: 200, waitForRows: true),
    Probe(name: "alerts", path: "/v1/alerts", expect: 200),
    Probe(name: "alerts: firing ones of a rule and devices", path: "/v1/alerts", query: "rule=hot&device=json-*&state=firing", expect: 200),
    Probe(name: "alerts: an unknown state", path: "/v1/alerts", query: "state=open", expect: 400),
    Probe(name: "token: alerts without a token", daemon: .token, path: "/v1/alerts", expect: 401),
    Probe(name: "healthz", path: "/healthz", expect: 200),
    Probe(name: "metrics", path: "/metrics", expect: 200),

    ingest("token: ingest without a token", "application/json", goodObject, expect: 401, daemon: .token),
    ingest("token: ingest with a wrong token", "application/json", goodObject, expect: 401, daemon: .token,
           headers: ["Authorization": "Bearer wrong"]),
    ingest("token: ingest with the token", "application/json", goodObject, expect: 202, validate: true, daemon: .token, headers: bearer),
    Probe(name: "token: aggregates without a token", daemon: .token, path: "/v1/aggregates", query: "window=1m", expect: 401),
    Probe(name: "token: aggregates with the token", daemon: .token, path: "/v1/aggregates", query: "window=1m", headers: bearer, expect: 200),
    Probe(name: "token: devices without a token", daemon: .token, path: "/v1/devices", expect: 401),
    Probe(name: "token: metrics without a token", daemon: .token, path: "/metrics", expect: 401),
    Probe(name: "token: metrics with the token", daemon: .token, path: "/metrics", headers: bearer, expect: 200),
    Probe(name: "token: healthz without a token", daemon: .token, path: "/healthz", expect: 200),
]

private let webSocketHeaders = [
    "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
]
/// RFC 6455 §1.3: the accept value for the key above.
private let webSocketAccept = (name: "Sec-WebSocket-Accept", value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")

/// The dashboard and the live routes (Server-Sent Events, WebSocket).
private let liveProbes: [Probe] = [
    Probe(name: "dashboard page", path: "/", expect: 200),
    Probe(name: "stream: one resolution", kind: .eventStream, path: "/v1/stream", query: "device=*&metric=*&resolution=10s", expect: 200),
    Probe(name: "stream: a list of resolutions", kind: .eventStream, path: "/v1/stream", query: "device=json-1&resolution=10s,1m", expect: 200),
    Probe(name: "stream: no parameters", kind: .eventStream, path: "/v1/stream", expect: 200),
    Probe(name: "stream: unparsable resolution", kind: .eventStream, path: "/v1/stream", query: "resolution=fast", expect: 400),
    Probe(name: "stream: resolution not configured", kind: .eventStream, path: "/v1/stream", query: "resolution=7s", expect: 400),
    Probe(name: "ws: upgrade", kind: .webSocket, path: "/v1/ws", query: "device=*&metric=temp&resolution=10s",
          headers: webSocketHeaders, expect: 101, expectHeader: webSocketAccept),
    Probe(name: "ws: unparsable resolution", kind: .webSocket, path: "/v1/ws", query: "resolution=fast", headers: webSocketHeaders, expect: 400),
    Probe(name: "ws: a plain GET without the upgrade", path: "/v1/ws", expect: 426),

    Probe(name: "token: dashboard without a token", daemon: .token, path: "/", expect: 200),
    Probe(name: "token: stream without a token", daemon: .token, kind: .eventStream, path: "/v1/stream", query: "resolution=10s", expect: 401),
    Probe(name: "token: stream with a wrong access_token", daemon: .token, kind: .eventStream, path: "/v1/stream",
          query: "resolution=10s&access_token=wrong", expect: 401),
    Probe(name: "token: stream with access_token", daemon: .token, kind: .eventStream, path: "/v1/stream",
          query: "resolution=10s&access_token=\(token)", expect: 200),
    Probe(name: "token: stream with the bearer header", daemon: .token, kind: .eventStream, path: "/v1/stream",
          query: "resolution=10s", headers: bearer, expect: 200),
    // An upgrade without the token is refused 401 before hummingbird-websocket sees it.
    Probe(name: "token: ws without a token", daemon: .token, kind: .webSocket, path: "/v1/ws", headers: webSocketHeaders, expect: 401),
    Probe(name: "token: ws with a wrong access_token", daemon: .token, kind: .webSocket, path: "/v1/ws", query: "access_token=wrong",
          headers: webSocketHeaders, expect: 401),
    Probe(name: "token: ws with the bearer header", daemon: .token, kind: .webSocket, path: "/v1/ws",
          headers: webSocketHeaders.merging(bearer) { $1 }, expect: 101, expectHeader: webSocketAccept),
    Probe(name: "token: plain GET of ws without a token", daemon: .token, path: "/v1/ws", expect: 401),
    Probe(name: "token: ws with access_token", daemon: .token, kind: .webSocket, path: "/v1/ws", query: "access_token=\(token)",
          headers: webSocketHeaders, expect: 101, expectHeader: webSocketAccept),
]

@Suite(.serialized) struct OpenAPIConformanceTests {
    @Test func ingestQueryAndOperationsAnswersMatchTheDocument() async throws {
        try await check(coreProbes)
    }

    @Test func dashboardAndLiveRoutesMatchTheDocument() async throws {
        try await check(liveProbes)
    }

    @Test func everyDocumentedOperationIsExercised() throws {
        let document = try OpenAPIDocument.load()
        let exercised = Set((coreProbes + liveProbes).map(\.operation))
        let documented = document.operations
        #expect(!documented.isEmpty, "no operations found under paths")
        let untested = documented.filter { !exercised.contains($0) }
        #expect(untested.isEmpty, "documented but exercised by no probe: \(untested)")
        let undocumented = exercised.subtracting(documented)
        #expect(undocumented.isEmpty, "probed but not documented: \(undocumented)")
    }

    @Test func documentIsOpenAPI31WithResolvableReferences() throws {
        let document = try OpenAPIDocument.load()
        let version = document.root["openapi"]?.stringValue ?? ""
        #expect(version.hasPrefix("3.1."), "openapi is \"\(version)\", expected 3.1.x")
        #expect(document.danglingReferences().isEmpty, "dangling $ref: \(document.danglingReferences())")
        for name in ["AggregateRow", "Device", "Error", "Health", "IngestAccepted"] {
            #expect(document.root["components"]?["schemas"]?[name] != nil, "components/schemas/\(name) missing")
        }
    }

    @Test func rejectReasonsInTheDocumentAreSensorCoresReasons() throws {
        let document = try OpenAPIDocument.load()
        let documented = Set(document.root["components"]?["schemas"]?["RejectReason"]?["enum"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        let actual = Set(RejectReason.allCases.map(\.rawValue))
        #expect(documented == actual,
                "missing from the document: \(actual.subtracting(documented).sorted()); not in SensorCore: \(documented.subtracting(actual).sorted())")
    }

    @Test func validatorNamesThePointerAndTheRule() throws {
        let document = try OpenAPIDocument.load()
        let schema = JSONValue.object(["type": .string("array"), "items": .object(["$ref": .string("#/components/schemas/AggregateRow")])])
        let good = try JSONValue.parse(Data("""
            [{"device":"d","metric":"m","window_start":"2025-11-26T14:00:00Z","window_end":"2025-11-26T14:01:00Z",
              "count":2,"sum":3.0,"min":1,"max":2,"mean":1.5,"stddev":0.5,"first":1,"last":2,"p50":1,"p90":2,"p95":2,"p99":null}]
            """.utf8))
        #expect(document.validator.validate(good, against: schema, at: "#/test").isEmpty)

        let bad = try JSONValue.parse(Data("""
            [{"device":"d","metric":"m","window_start":"yesterday","window_end":"2025-11-26T14:01:00Z",
              "count":0,"sum":3,"min":1,"max":2,"mean":1.5,"stddev":0.5,"first":1,"last":true,"p50":"1","p90":2,"p95":2,"extra":1}]
            """.utf8))
        let messages = document.validator.validate(bad, against: schema, at: "#/test").map(\.description)
        for (pointer, rule) in [("/0/window_start", "format"), ("/0/count", "minimum"), ("/0/last", "type"), ("/0/p50", "type"),
                                ("/0/extra", "additionalProperties"), ("/0", "required")] {
            #expect(messages.contains { $0.contains("at \(pointer): rule \"\(rule)\"") }, "no \(rule) violation at \(pointer) in \(messages)")
        }
        let unsupported = document.validator.validate(.integer(1), against: .object(["multipleOf": .integer(2)]), at: "#/test")
        #expect(unsupported.first?.rule == "multipleOf", "an unsupported keyword must be reported, got \(unsupported)")
    }
}

// MARK: - Running probes

/// Starts an open daemon (small body limit) and, when needed, one with a token, sends
/// every probe in order and records each difference from the document as an issue
/// named after its probe.
private func check(_ probes: [Probe]) async throws {
    let document = try OpenAPIDocument.load()
    let open = try await Daemon(name: "openapi", environment: ["SENSORHUB_HTTP_MAX_BODY": "4KiB"])
    defer { open.cleanUp() }
    var guarded: Daemon?
    if probes.contains(where: { $0.daemon == .token }) {
        guarded = try await Daemon(name: "openapi-token", environment: ["SENSORHUB_HTTP_TOKEN": token])
    }
    defer { guarded?.cleanUp() }

    for probe in probes {
        let daemon = probe.daemon == .open ? open : guarded!
        let problems: [String]
        do {
            let answer = try await send(probe, to: daemon)
            problems = conformance(of: answer, to: probe, in: document)
        } catch {
            problems = ["request failed: \(error)"]
        }
        // The first few differences say enough (a broken row schema repeats per row).
        let shown = problems.count > 6 ? Array(problems.prefix(5)) + ["… and \(problems.count - 5) more"] : problems
        for problem in shown {
            Issue.record(Comment(rawValue: "[\(probe.name)] \(probe.method) \(probe.target): \(problem)"))
        }
    }
}

private func send(_ probe: Probe, to daemon: Daemon) async throws -> HTTPAnswer {
    switch probe.kind {
    case .http:
        let deadline = ContinuousClock.now + generousDeadline
        while true {
            let answer = try await daemon.request(probe.method, probe.target, body: probe.body.map { Data($0.utf8) }, headers: probe.headers)
            guard probe.waitForRows, answer.status == 200, ContinuousClock.now < deadline,
                  (try? JSONValue.parse(answer.body))?.arrayValue?.isEmpty ?? false
            else { return answer }
            try await Task.sleep(for: .milliseconds(100))
        }
    case .eventStream:
        return try await RawHTTP.exchange(port: daemon.port, method: probe.method, target: probe.target,
                                          headers: probe.headers.merging(["Accept": "text/event-stream"]) { $1 })
    case .webSocket:
        return try await RawHTTP.exchange(port: daemon.port, method: probe.method, target: probe.target, headers: probe.headers)
    }
}

/// `application/json; charset=utf-8` → `application/json`.
private func essence(_ contentType: String) -> String {
    contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
}

private func isJSON(_ mediaType: String) -> Bool {
    mediaType == "application/json" || mediaType.hasSuffix("+json")
}

/// Everything about one answer (and its request) that the document does not allow.
private func conformance(of answer: HTTPAnswer, to probe: Probe, in document: OpenAPIDocument) -> [String] {
    var problems: [String] = []
    let snippet = String(answer.text.prefix(300))
    if answer.status != probe.expect {
        problems.append("answered \(answer.status), expected \(probe.expect); body: \(snippet)")
    }
    if let expected = probe.expectHeader, answer.header(expected.name) != expected.value {
        problems.append("header \(expected.name) is \(answer.header(expected.name) ?? "missing"), expected \(expected.value)")
    }
    guard let found = document.operation(probe.method, probe.path) else {
        return problems + ["\(probe.method) \(probe.path) is not in the document"]
    }
    let (operation, operationLocation) = found
    let validator = document.validator

    // The request: query parameters and body as documented.
    let documentedQuery = document.queryParameters(probe.method, probe.path)
    for item in probe.query.split(separator: "&") {
        let name = String(item.split(separator: "=", maxSplits: 1).first ?? "")
        if !documentedQuery.contains(name) {
            problems.append("query parameter \"\(name)\" is not documented (documented: \(documentedQuery.sorted()))")
        }
    }
    if let body = probe.body {
        let (requestBody, requestLocation) = document.dereference(operation["requestBody"] ?? .null, at: operationLocation + "/requestBody")
        let mediaType = essence(probe.headers["Content-Type"] ?? "")
        if let media = requestBody["content"]?[mediaType] {
            let mediaLocation = requestLocation + "/content/" + SchemaValidator.escape(mediaType)
            if probe.validateRequest {
                // NDJSON: each non-blank line against the item schema; JSON: the whole body.
                let items: [(JSONValue?, String)] = mediaType == "application/x-ndjson"
                    ? body.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                        .map { (media["x-itemSchema"], String($0)) }
                    : [(isJSON(mediaType) ? media["schema"] : nil, body)]
                for (schema, text) in items {
                    guard let schema else { continue }
                    do {
                        let violations = validator.validate(try JSONValue.parse(Data(text.utf8)), against: schema, at: mediaLocation)
                        problems += violations.map { "request body breaks the documented schema: \($0)" }
                    } catch {
                        problems.append("request body is not JSON: \(error)")
                    }
                }
            }
        } else if probe.expect != 415 {
            problems.append("request content type \"\(mediaType)\" is not documented for the request body")
        }
    }

    // The answer: status, headers, content type and body as documented.
    let responses = operation["responses"]?.objectValue ?? [:]
    let statusKey = ["\(answer.status)", "\(answer.status / 100)XX", "default"].first { responses[$0] != nil }
    guard let statusKey, let declared = responses[statusKey] else {
        return problems + ["status \(answer.status) is not documented (documented: \(responses.keys.sorted())); body: \(snippet)"]
    }
    let (response, responseLocation) = document.dereference(declared, at: operationLocation + "/responses/" + statusKey)

    for (name, declaredHeader) in (response["headers"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
        let (header, headerLocation) = document.dereference(declaredHeader, at: responseLocation + "/headers/" + name)
        guard let value = answer.header(name) else {
            if header["required"] == .bool(true) { problems.append("required header \(name) is missing") }
            continue
        }
        guard let schema = header["schema"] else { continue }
        let typed: JSONValue = schema["type"]?.stringValue == "integer" ? Int64(value).map(JSONValue.integer) ?? .string(value) : .string(value)
        problems += validator.validate(typed, against: schema, at: headerLocation + "/schema").map { "header \(name): \($0)" }
    }

    let contentType = answer.header("Content-Type").map(essence)
    if let content = response["content"]?.objectValue {
        guard let contentType, let media = content[contentType] else {
            return problems + ["content type \(answer.header("Content-Type") ?? "(none)") is not documented for \(statusKey) (documented: \(content.keys.sorted()))"]
        }
        if isJSON(contentType), let schema = media["schema"] {
            do {
                let body = try JSONValue.parse(answer.body)
                let location = responseLocation + "/content/" + SchemaValidator.escape(contentType) + "/schema"
                problems += validator.validate(body, against: schema, at: location).map { "body breaks the documented schema: \($0)" }
            } catch {
                problems.append("body is not JSON (\(error)): \(snippet)")
            }
        }
    } else if answer.status != 101 && !answer.body.isEmpty {
        problems.append("\(statusKey) is documented without a body, got \(answer.body.count) bytes: \(snippet)")
    }

    // Security as documented: 401 only where a token is required, and the query token
    // only where the document offers it.
    if answer.status == 401 && document.security(of: operation).allSatisfy(\.isEmpty) {
        problems.append("answered 401 but the document requires no token here")
    }
    if probe.daemon == .token, probe.query.contains("access_token="), answer.status != 401, !document.acceptsQueryToken(operation) {
        problems.append("the access_token query parameter worked but the document does not offer it as a security scheme")
    }
    return problems
}

// MARK: - Raw HTTP for event streams and WebSocket upgrades

/// One request over a plain socket, reading the response head and then either what came
/// with it (an event stream, a 101 upgrade: the connection is closed right after) or the
/// whole body (by Content-Length, chunked, or until the server closes).
private enum RawHTTP {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func exchange(port: Int, method: String, target: String, headers: [String: String]) async throws -> HTTPAnswer {
        try await withCheckedThrowingContinuation { continuation in
            // Blocking socket calls on a plain thread, never on the cooperative pool.
            Thread {
                continuation.resume(with: Result { try blockingExchange(port: port, method: method, target: target, headers: headers) })
            }.start()
        }
    }

    private static func blockingExchange(port: Int, method: String, target: String, headers: [String: String]) throws -> HTTPAnswer {
        let connection = try RawConnection(port: port)
        try connection.sendRequest(method, target, headers: headers.merging(["Connection": "close"]) { mine, _ in mine })
        let deadline = ContinuousClock.now + generousDeadline
        guard let (status, heads) = try connection.readResponseHead(deadline: deadline) else {
            throw Failure(description: "no response head in time from \(method) \(target)")
        }
        var body: [UInt8] = []
        if status == 101 || heads["content-type"]?.lowercased().hasPrefix("text/event-stream") == true {
            // An open stream: the head is what is checked.
        } else if let length = heads["content-length"].flatMap({ Int($0) }) {
            body = try connection.read(count: length, deadline: deadline) ?? []
        } else if heads["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while let chunk = try connection.readChunk(deadline: deadline) { body += chunk }
        } else {
            body = try connection.readToEnd(deadline: deadline)
        }
        return HTTPAnswer(status: status, body: Data(body), headers: heads)
    }
}
