internal import SensorCore

/// A series' seq window in a box, so that a reading with seq changes it where it lives:
/// through a dictionary's in-place accessor, the window (160 bytes) was moved out and back
/// for every reading. Ingress keeps one per series.
final class SeqWindowBox {
    let series: SeriesKey
    var window: SeqWindow
    /// Changed since a flush last took it (to be stored with the next flush).
    var changed: Bool

    init(_ window: SeqWindow, of series: SeriesKey, changed: Bool = false) {
        self.series = series
        self.window = window
        self.changed = changed
    }
}
