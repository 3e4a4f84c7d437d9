import CZlib

/// A gzip stream inflated with zlib as it is read: constant memory whatever the size.
/// Several gzip members one after another (what `cat a.gz b.gz` makes) read as one; bytes
/// after the last member that do not start another (padding from a tape or a transfer)
/// end the input, as `gzip -d` treats them, and are counted in ``trailingBytes``.
public final class GzipInput: ByteInput {
    private let source: FileInput
    /// zlib keeps pointers to the stream and into the input buffer between calls, so
    /// neither is Swift-managed storage.
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let compressed = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
    /// Whether the last member ended and no byte of a next one was seen yet.
    private var memberEnded = false
    private var sourceEnded = false
    /// Bytes ignored after the last member.
    public private(set) var trailingBytes: Int64 = 0

    public init(_ source: FileInput) throws(ImportInputError) {
        self.source = source
        stream.initialize(to: z_stream())
        // 15 + 32: a window of 32 KiB and gzip or zlib headers detected automatically.
        let status = inflateInit2_(stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            compressed.deallocate()
            throw ImportInputError(path: source.path, reason: "cannot start zlib (\(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        compressed.deallocate()
    }

    public var fileBytesRead: Int64 { source.fileBytesRead }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImportInputError) -> Int {
        while true {
            if stream.pointee.avail_in == 0, !sourceEnded {
                let got = try source.read(into: compressed)
                if got == 0 {
                    sourceEnded = true
                } else {
                    stream.pointee.avail_in = UInt32(got)
                }
                stream.pointee.next_in = compressed.baseAddress?.assumingMemoryBound(to: Bytef.self)
            }
            if stream.pointee.avail_in == 0, sourceEnded {
                if memberEnded { return 0 }
                throw ImportInputError(path: source.path, reason: "the gzip stream ends in the middle (truncated file)")
            }
            if memberEnded {
                guard stream.pointee.next_in.pointee == 0x1F else {
                    // Not another member: what is left is trailing data, not readings.
                    trailingBytes += Int64(stream.pointee.avail_in)
                    stream.pointee.avail_in = 0
                    while try source.read(into: compressed) > 0 {}
                    sourceEnded = true
                    return 0
                }
                inflateReset(stream)
                memberEnded = false
            }
            stream.pointee.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(buffer.count)
            let status = inflate(stream, Z_NO_FLUSH)
            let produced = buffer.count - Int(stream.pointee.avail_out)
            switch status {
            case Z_STREAM_END:
                memberEnded = true
            case Z_OK, Z_BUF_ERROR:
                break
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "error \(status)"
                throw ImportInputError(path: source.path, reason: "not a valid gzip stream: \(message)")
            }
            if produced > 0 { return produced }
        }
    }

    public func skip(to offset: Int64, from current: Int64) throws(ImportInputError) {
        if offset > current { try discard(offset - current, from: self) }
    }
}
