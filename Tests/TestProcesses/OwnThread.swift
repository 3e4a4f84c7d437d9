import Foundation

/// Runs blocking `work` (starting a PostgreSQL server, waiting for a process) on a thread
/// of its own and awaits it, instead of blocking a thread of the concurrency pool.
///
/// The pool has one thread per core, and every test of the run shares it: on a loaded
/// 2-core machine, two tests starting PostgreSQL servers (`initdb`, then polls with
/// `Thread.sleep`) blocked both threads long enough that 31 daemons of other tests, all
/// listening, timed out together waiting for their `/healthz` answers.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result(catching: work)) }.start()
    }
}

/// ``onOwnThread(_:)`` for work that cannot fail.
public func onOwnThread(_ work: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { continuation in
        Thread {
            work()
            continuation.resume()
        }.start()
    }
}
