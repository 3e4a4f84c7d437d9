internal import Hummingbird
internal import SensorCore
internal import SensorStore

/// `GET /v1/alerts[?rule=R&device=D&metric=M&state=firing|resolved]`: alerts that are
/// firing or resolved recently (CONTRACT §7), as the last rule evaluation committed them,
/// ordered by rule, device, metric. `rule`, `device` and `metric` accept `*` globs.
struct AlertRoutes<Context: RequestContext>: Sendable {
    let store: any AggregateReader

    func register(on group: RouterGroup<Context>) {
        group.get("alerts") { request, _ in
            let parameters = request.uri.queryParameters
            let state = parameters["state"].map(String.init)
            if let state, state != "firing", state != "resolved" {
                throw APIError(.badRequest, "state must be firing or resolved, not \"\(state)\"")
            }
            let rule = NameGlob(parameters["rule"].map(String.init) ?? "*")
            let device = NameGlob(parameters["device"].map(String.init) ?? "*")
            let metric = NameGlob(parameters["metric"].map(String.init) ?? "*")
            let alerts = try await store.alerts().filter {
                (state == nil || $0.state == state) && rule.matches($0.rule) && device.matches($0.device) && metric.matches($0.metric)
            }
            return JSONResponse.make(text: JSONText.array(alerts))
        }
    }
}
