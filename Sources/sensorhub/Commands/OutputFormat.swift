import ArgumentParser

/// How query results are printed.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    /// Aligned columns for people.
    case table
    /// One JSON array (`[]` when empty).
    case json
    /// A header line with the contract's field names, then one line per row.
    case csv
}
