import Foundation
import SensorImport

/// `--rejects FILE`: one line per record not taken, `<input>:<line>\t<reason>\t<message>`.
/// Its length is recorded with each acknowledged batch, so a resumed import cuts what an
/// interrupted one wrote past that point and no line appears twice.
final class RejectsFile {
    let path: String
    private let handle: FileHandle
    private(set) var bytes: Int64

    /// Opens `path` for appending: emptied for a new import; when resuming, cut to
    /// `length` (what the interrupted run recorded), never lengthened.
    init(path: String, cutTo length: Int64?) throws {
        self.path = path
        if !FileManager.default.fileExists(atPath: path) || length == nil {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ResumeStateError("cannot create the rejects file \(path)")
            }
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let size = Int64(try handle.seekToEnd())
        if let length, length < size {
            try handle.truncate(atOffset: UInt64(length))
        }
        bytes = Int64(try handle.seekToEnd())
    }

    func append(_ rejects: [ImportReject], of input: String) throws {
        guard !rejects.isEmpty else { return }
        var text = ""
        for reject in rejects {
            let message = reject.message.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: " ")
            text += "\(input):\(reject.line)\t\(reject.reason.rawValue)\t\(message)\n"
        }
        let data = Data(text.utf8)
        try handle.write(contentsOf: data)
        bytes += Int64(data.count)
    }
}
