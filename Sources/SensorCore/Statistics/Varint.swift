/// LEB128 unsigned varints and zigzag signed ones: the sketch's encoding, and the store's
/// chunk encoding.
public enum Varint {
    @inlinable
    public static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// Bytes ``append(_:to:)`` writes for `value`.
    @inlinable
    public static func length(of value: UInt64) -> Int {
        // 1 byte per started group of 7 bits; 0 takes one byte too.
        (64 - (value | 1).leadingZeroBitCount + 6) / 7
    }

    @inlinable
    public static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }
    @inlinable
    public static func unzigzag(_ value: UInt64) -> Int64 { Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1) }

    /// Reads varints from `bytes` starting at `offset`; nil past the end or for a varint
    /// longer than 64 bits.
    public struct Reader {
        public let bytes: UnsafeRawBufferPointer
        public var offset: Int

        @inlinable
        public init(bytes: UnsafeRawBufferPointer, offset: Int) {
            self.bytes = bytes
            self.offset = offset
        }

        @inlinable
        public var isAtEnd: Bool { offset == bytes.count }

        @inlinable
        public mutating func next() -> UInt64? {
            // Most counts fit in one byte.
            if offset < bytes.count, bytes[offset] < 0x80 {
                defer { offset += 1 }
                return UInt64(bytes[offset])
            }
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count, shift < 64 {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
    }
}
