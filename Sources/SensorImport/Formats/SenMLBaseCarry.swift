/// The base fields of a SenML pack read record by record: `bn`, `bt` and `bv` apply to the
/// records after the one that sets them (RFC 8428), so each record is decoded with the
/// carried ones written into it, as their JSON text. Codable: part of where a resumed
/// import continues.
public struct SenMLBaseCarry: Sendable, Codable, Equatable {
    /// JSON text of the last `bn`, `bt`, `bv` seen.
    public var bn: String?
    public var bt: String?
    public var bv: String?

    public init(bn: String? = nil, bt: String? = nil, bv: String? = nil) {
        self.bn = bn
        self.bt = bt
        self.bv = bv
    }

    /// The record as a one-record pack with the carried base fields it lacks written in,
    /// and the carry updated with the ones it has. A record that does not scan as an
    /// object is returned alone in a pack, for its decoder to name what is wrong.
    mutating func pack(of record: [UInt8]) -> [UInt8] {
        guard let fields = JSONObjectFields(record) else { return [0x5B] + record + [0x5D] }
        let own = (bn: fields.value(of: "bn"), bt: fields.value(of: "bt"), bv: fields.value(of: "bv"))
        var injected: [String] = []
        if own.bn == nil, let bn { injected.append("\"bn\":\(bn)") }
        if own.bt == nil, let bt { injected.append("\"bt\":\(bt)") }
        if own.bv == nil, let bv { injected.append("\"bv\":\(bv)") }
        if let value = own.bn { bn = value }
        if let value = own.bt { bt = value }
        if let value = own.bv { bv = value }
        guard !injected.isEmpty, let open = record.firstIndex(of: 0x7B) else { return [0x5B] + record + [0x5D] }
        var pack: [UInt8] = [0x5B, 0x7B]
        pack += Array(injected.joined(separator: ",").utf8)
        if !fields.isEmpty { pack.append(0x2C) }
        pack += record[(open + 1)...]
        pack.append(0x5D)
        return pack
    }
}

/// The top-level keys of a JSON object and the text of their values, found by following
/// nesting and strings only (the decoder validates the rest).
struct JSONObjectFields {
    private var fields: [(key: String, value: String)] = []

    var isEmpty: Bool { fields.isEmpty }

    init?(_ bytes: [UInt8]) {
        var index = 0
        func skipSpace() { while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 } }
        /// The end (exclusive) of the string starting at `index` (a quote).
        func stringEnd(_ start: Int) -> Int? {
            var i = start + 1
            while i < bytes.count {
                if bytes[i] == 0x5C { i += 2; continue }
                if bytes[i] == 0x22 { return i + 1 }
                i += 1
            }
            return nil
        }
        skipSpace()
        guard index < bytes.count, bytes[index] == 0x7B else { return nil }
        index += 1
        skipSpace()
        if index < bytes.count, bytes[index] == 0x7D { return }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == 0x22, let keyEnd = stringEnd(index) else { return nil }
            let key = String(decoding: bytes[(index + 1)..<(keyEnd - 1)], as: UTF8.self)
            index = keyEnd
            skipSpace()
            guard index < bytes.count, bytes[index] == 0x3A else { return nil }
            index += 1
            skipSpace()
            let valueStart = index
            guard index < bytes.count else { return nil }
            if bytes[index] == 0x22 {
                guard let end = stringEnd(index) else { return nil }
                index = end
            } else if bytes[index] == 0x7B || bytes[index] == 0x5B {
                var depth = 0
                repeat {
                    if bytes[index] == 0x22 {
                        guard let end = stringEnd(index) else { return nil }
                        index = end
                        continue
                    }
                    if bytes[index] == 0x7B || bytes[index] == 0x5B { depth += 1 }
                    if bytes[index] == 0x7D || bytes[index] == 0x5D { depth -= 1 }
                    index += 1
                } while depth > 0 && index < bytes.count
                guard depth == 0 else { return nil }
            } else {
                while index < bytes.count, ![0x2C, 0x7D, 0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
            }
            fields.append((key, String(decoding: bytes[valueStart..<index], as: UTF8.self)))
            skipSpace()
            guard index < bytes.count else { return nil }
            if bytes[index] == 0x2C { index += 1; continue }
            guard bytes[index] == 0x7D else { return nil }
            return
        }
    }

    func value(of key: String) -> String? {
        fields.first { $0.key == key }?.value
    }
}
