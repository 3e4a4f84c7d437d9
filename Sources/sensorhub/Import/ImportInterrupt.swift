import Dispatch
import Foundation
import Synchronization

/// Ctrl-C (SIGINT) or SIGTERM during an import: the first asks it to stop after the
/// batches in flight (their positions are recorded, so `--resume` continues after them);
/// a second one ends the process at once (exit 130), which `--resume` also survives.
///
/// `@unchecked Sendable`: `sources` is set once in `init` and only kept alive after.
final class ImportInterrupt: @unchecked Sendable {
    private let flag = Atomic<Bool>(false)
    private var sources: [any DispatchSourceSignal]

    init() {
        var sources: [any DispatchSourceSignal] = []
        self.sources = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [unowned self] in
                if flag.exchange(true, ordering: .relaxed) { _exit(130) }
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    var requested: Bool { flag.load(ordering: .relaxed) }
}
