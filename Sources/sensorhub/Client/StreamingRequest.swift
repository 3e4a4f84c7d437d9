import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request whose answer is delivered piece by piece as it arrives, for answers
/// that never end (Server-Sent Events). swift-corelibs-foundation has no
/// `URLSession.bytes`, so a data delegate feeds an `AsyncThrowingStream`: the head first,
/// then each chunk of body; the stream finishes when the server closes the answer and
/// throws the transport error (`URLError`) when the connection fails or times out.
///
/// `timeoutInterval` of the request is the longest silence allowed between two chunks
/// (corelibs restarts the timer on every chunk). Ending the iteration (or cancelling the
/// task that iterates) cancels the request and releases the session.
final class StreamingRequest: NSObject, URLSessionDataDelegate, Sendable {
    /// What the stream yields, in order: one `head`, then any number of `body` chunks.
    enum Piece: Sendable {
        case head(status: Int, contentType: String?)
        case body(Data)
    }

    // Only a `let` of a Sendable type: the delegate queue may call in on any thread.
    private let continuation: AsyncThrowingStream<Piece, any Error>.Continuation

    private init(continuation: AsyncThrowingStream<Piece, any Error>.Continuation) {
        self.continuation = continuation
    }

    /// Starts `request` in a session of its own and returns its pieces.
    static func start(_ request: URLRequest) -> AsyncThrowingStream<Piece, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Piece.self, throwing: (any Error).self)
        let delegate = StreamingRequest(continuation: continuation)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = request.timeoutInterval
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        // The session keeps its delegate alive until it is invalidated below.
        let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
        let task = session.dataTask(with: request)
        continuation.onTermination = { _ in
            task.cancel()
            session.invalidateAndCancel()
        }
        task.resume()
        return stream
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @Sendable @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        let http = response as? HTTPURLResponse
        let contentType = http?.value(forHTTPHeaderField: "Content-Type")
        continuation.yield(.head(status: http?.statusCode ?? 0, contentType: contentType))
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        continuation.yield(.body(data))
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        if let error {
            continuation.finish(throwing: error)
        } else {
            continuation.finish()
        }
    }
}
