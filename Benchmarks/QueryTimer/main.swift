// Times one aggregate query of a database in one process, for comparing builds: build this
// product at each, copy the binaries, run them alternately. (The benchmark framework runs
// the build of the tree; its runs minutes apart on a shared machine differ more than small
// changes do.) The query is given as `sensorhub query` takes it.
//
//     swift build -c release --product QueryTimer && cp .build/release/QueryTimer /tmp/qt-a
//     /tmp/qt-a DB DEVICE METRIC WINDOW STEP|- FROM TO [CALLS]
//
// Prints the rows and p0, p25, p50, p90 and p99 of the calls' wall clock, in µs.
import Foundation
import SensorCore
import SensorStore

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 7 || arguments.count == 8 else {
    print("usage: QueryTimer DB DEVICE METRIC WINDOW STEP|- FROM TO [CALLS (1000)]")
    exit(2)
}
let store = try SQLiteStore(path: arguments[0], mode: .readOnly)
let query = try AggregateQuery(device: arguments[1], metric: arguments[2], window: arguments[3],
                               step: arguments[4] == "-" ? nil : arguments[4], from: arguments[5], to: arguments[6])
let calls = arguments.count == 8 ? Int(arguments[7]) ?? 1000 : 1000
var microseconds: [Int64] = []
var rowCount = 0
for _ in 0..<calls {
    let start = ContinuousClock.now
    let rows = try await store.aggregates(query)
    microseconds.append((ContinuousClock.now - start).microseconds)
    rowCount = rows.count
}
let sorted = microseconds.sorted()
let percentile = { (q: Double) in sorted[Int(q * Double(sorted.count - 1))] }
print("\(rowCount) rows, \(calls) calls: p0 \(percentile(0)) p25 \(percentile(0.25)) p50 \(percentile(0.5))"
      + " p90 \(percentile(0.9)) p99 \(percentile(0.99)) µs")
