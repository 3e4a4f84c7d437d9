internal import CMalloc

/// Gives the pages of memory the process freed back to the system.
///
/// A flush frees the buckets it wrote, often most of the heap after a burst. glibc keeps
/// freed memory for reuse, in each of its arenas (up to eight per core), so without this
/// the resident size stays at the highest any burst reached, in every arena that held one.
/// `malloc_trim` hands the free pages back (`madvise`), at the cost of faulting them in again
/// when the next burst needs them.
enum FreedMemory {
    static func returnToSystem() {
        #if canImport(Glibc)
        _ = malloc_trim(0)
        #endif
    }
}
