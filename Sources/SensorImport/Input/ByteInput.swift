/// The bytes of one input in order, as the formats read them (inflated for gzip).
public protocol ByteInput: AnyObject {
    /// Reads up to `buffer.count` bytes into `buffer`; 0 at the end of the input.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImportInputError) -> Int
    /// Bytes of the file itself read so far (the compressed ones for gzip): progress.
    var fileBytesRead: Int64 { get }
    /// Moves to `offset` of the bytes this input gives, which must not be behind the
    /// current one: a seek where the file allows it, else reading and dropping.
    func skip(to offset: Int64, from current: Int64) throws(ImportInputError)
}
