/// A threshold rule's `op`: `>`, `>=`, `<` or `<=`.
public enum Comparison: String, Sendable, CaseIterable {
    case greater = ">"
    case greaterOrEqual = ">="
    case less = "<"
    case lessOrEqual = "<="

    /// Whether `observed op threshold`.
    public func holds(_ observed: Double, _ threshold: Double) -> Bool {
        switch self {
        case .greater: observed > threshold
        case .greaterOrEqual: observed >= threshold
        case .less: observed < threshold
        case .lessOrEqual: observed <= threshold
        }
    }
}
