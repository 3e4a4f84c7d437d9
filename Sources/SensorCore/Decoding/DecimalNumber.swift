#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A decimal number as read from text, `±mantissa × 10^exponent`, keeping the first 19
/// significant digits exactly (they always fit a `UInt64`).
///
/// The scanners fill it while they validate the number's grammar, so turning it into a
/// `Double` or into microseconds needs no second pass over the digits in the common case.
struct DecimalNumber {
    /// The number is negative (`-0` too).
    var negative = false
    /// The first (at most 19) significant digits.
    var mantissa: UInt64 = 0
    /// Power of ten applied to `mantissa`; saturates far outside any double's range.
    var exponent = 0
    /// Non-zero digits beyond the 19th were dropped: `mantissa × 10^exponent` is below
    /// the true magnitude by less than one unit of its last digit.
    var truncated = false
    /// Count of significant digits held in `mantissa`.
    var digits = 0

    static let maxDigits = 19
    /// Exponent digits are accumulated up to this bound; anything larger is ±∞/0 anyway.
    static let exponentLimit = 1_000_000

    /// Adds one digit of the integer part.
    @inline(__always)
    mutating func appendIntegerDigit(_ d: UInt8) {
        if !appendToMantissa(d) {
            exponent &+= 1
            if d != 0 { truncated = true }
        }
    }

    /// Adds one digit of the fraction part.
    @inline(__always)
    mutating func appendFractionDigit(_ d: UInt8) {
        if appendToMantissa(d) {
            exponent &-= 1
        } else if d != 0 {
            truncated = true
        }
    }

    /// Appends `d` to the mantissa while it holds fewer than ``maxDigits`` (leading zeros
    /// are not significant and take no room); false, changing nothing, when it is full.
    @inline(__always)
    private mutating func appendToMantissa(_ d: UInt8) -> Bool {
        guard digits < Self.maxDigits else { return false }
        if mantissa != 0 || d != 0 {
            mantissa = mantissa &* 10 &+ UInt64(d)
            digits &+= 1
        }
        return true
    }

    /// The correctly rounded double (IEEE round-half-even), ±∞ when too large.
    ///
    /// Clinger's fast path (exact mantissa ≤ 2^53, |exponent| ≤ 22, one correctly rounded
    /// multiplication or division) covers typical sensor values; everything else goes to
    /// `strtod` on a NUL-terminated stack copy of `text`, which must be the number's
    /// spelling (any `strtod`-readable decimal). `strtod` reads `LC_NUMERIC`, which is
    /// "C" unless the process calls `setlocale`.
    @inline(__always)
    func double(text: UnsafePointer<UInt8>, count: Int) -> Double {
        if !truncated {
            if mantissa == 0 { return negative ? -0.0 : 0.0 }
            if mantissa <= 1 << 53 {
                var value: Double?
                if exponent == 0 {
                    value = Double(mantissa)
                } else if exponent < 0 {
                    if exponent >= -22 { value = Double(mantissa) / Self.powerOfTen(-exponent) }
                } else if exponent <= 22 {
                    value = Double(mantissa) * Self.powerOfTen(exponent)
                } else if exponent <= 22 + 15 {
                    let (scaled, overflow) = mantissa.multipliedReportingOverflow(by: Self.integerPowerOfTen(exponent - 22))
                    if !overflow, scaled <= 1 << 53 { value = Double(scaled) * 1e22 }
                }
                if let value { return negative ? -value : value }
            }
        }
        return Self.strtodCopy(text, count: count)
    }

    /// This many seconds as whole microseconds, rounded half away from zero, computed
    /// exactly from the decimal digits; nil when beyond `Int64`.
    func microseconds() -> Int64? {
        if mantissa == 0 { return 0 }
        let scale = exponent + 6
        var magnitude: UInt64
        if scale >= 0 {
            guard scale <= 19 else { return nil }
            let (product, overflow) = mantissa.multipliedReportingOverflow(by: Self.integerPowerOfTen(scale))
            guard !overflow else { return nil }
            magnitude = product
        } else if scale < -19 {
            magnitude = 0  // below 0.1 µs
        } else {
            // Dropped digits (truncated) never change the result: with an even divisor,
            // a remainder below one half stays below it, and a tie rounds up regardless.
            let divisor = Self.integerPowerOfTen(-scale)
            magnitude = mantissa / divisor
            let remainder = mantissa % divisor
            if remainder >= divisor - remainder { magnitude += 1 }
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return negative ? -Int64(magnitude) : Int64(magnitude)
    }

    @inline(never)
    static func strtodCopy(_ text: UnsafePointer<UInt8>, count: Int) -> Double {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buffer in
            guard let start = buffer.baseAddress else { return .nan }
            UnsafeMutableRawPointer(start).copyMemory(from: text, byteCount: count)
            buffer[count] = 0
            return strtod(start, nil)
        }
    }

    /// The value of eight ASCII digits at `p` (all eight must be readable), nil when any
    /// is not a digit; SWAR, after D. Lemire.
    @inline(__always)
    static func eightDigits(_ p: UnsafePointer<UInt8>) -> UInt64? {
        let word = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
        let high: UInt64 = 0xF0F0_F0F0_F0F0_F0F0
        guard (word & high) | (((word &+ 0x0606_0606_0606_0606) & high) >> 4) == 0x3333_3333_3333_3333 else { return nil }
        var v = word &- 0x3030_3030_3030_3030
        v = v &* 10 &+ (v >> 8)
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        return ((v & mask) &* (100 &+ (1_000_000 << 32)) &+ ((v >> 16) & mask) &* (1 &+ (10_000 << 32))) >> 32
    }

    /// 10^k for 0 ≤ k ≤ 22, all exact doubles.
    @inline(__always)
    static func powerOfTen(_ k: Int) -> Double {
        switch k {
        case 0: 1e0
        case 1: 1e1
        case 2: 1e2
        case 3: 1e3
        case 4: 1e4
        case 5: 1e5
        case 6: 1e6
        case 7: 1e7
        case 8: 1e8
        case 9: 1e9
        case 10: 1e10
        case 11: 1e11
        case 12: 1e12
        case 13: 1e13
        case 14: 1e14
        case 15: 1e15
        case 16: 1e16
        case 17: 1e17
        case 18: 1e18
        case 19: 1e19
        case 20: 1e20
        case 21: 1e21
        default: 1e22
        }
    }

    /// 10^k for 0 ≤ k ≤ 19 (10^19 < 2^64).
    @inline(__always)
    static func integerPowerOfTen(_ k: Int) -> UInt64 {
        var result: UInt64 = 1
        var i = 0
        while i < k { result &*= 10; i += 1 }
        return result
    }
}
