internal import Foundation

/// A secret kept in a file of its own (`mqtt.password_file`, a token's `token_file`), so it
/// appears in no config file, environment or command line.
public enum SecretFile {
    /// The file's content without its final line break. Errors name the file and the key,
    /// never any of the content.
    public static func read(_ path: String, key: String) throws(SettingsError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read (check its permissions)" : "does not exist"
            throw SettingsError(source: .file(path), key: key, problem: "the file \(reason)")
        }
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else { throw SettingsError(source: .file(path), key: key, problem: "the file is empty") }
        return text
    }
}
