#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/Targets (clang's libFuzzer + AddressSanitizer through
# swiftc) and runs each on its seed corpus in Fuzz/corpus/<target>; not part of `make test`.
#
#   scripts/fuzz.sh                 every target, 10 million executions each
#   scripts/fuzz.sh DecodeJSON 1e6  one target, a million executions
#
# SensorCore is compiled once into a static library; each target is compiled against it
# (the journal target also takes the journal record sources). New inputs libFuzzer finds
# go to .build-fuzz/corpus/<target> (not committed); a crash leaves its input in
# .build-fuzz/crash-<target>-* and the script exits 1. Prints one summary line per target.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${2:-10000000}
runs=$(python3 -c "print(int(float('$runs')))")
out=.build-fuzz
mkdir -p "$out"
flags=(-parse-as-library -sanitize=fuzzer,address -O -g -swift-version 6 -package-name sensorhub
       -enable-upcoming-feature ExistentialAny -enable-upcoming-feature InternalImportsByDefault)

if [ ! -f "$out/libSensorCore.a" ] || [ -n "$(find Sources/SensorCore -newer "$out/libSensorCore.a" -name '*.swift')" ]; then
    echo "fuzz: building SensorCore with -sanitize=fuzzer,address"
    (cd "$out" && swiftc "${flags[@]}" -module-name SensorCore -emit-module -emit-library -static \
        $(find ../Sources/SensorCore -name '*.swift' | sort) -o libSensorCore.a)
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ] || [ "${1:-}" = "" ]; then
    targets=($(ls Fuzz/Targets | sed 's/\.swift$//'))
else
    targets=("$1")
fi

status=0
for target in "${targets[@]}"; do
    sources=(Fuzz/Targets/$target.swift Fuzz/Shared/*.swift)
    extra=()
    if [ "$target" = JournalRecordDecode ]; then
        sources+=(Sources/SensorPipeline/Journal/JournalRecord.swift Sources/SensorPipeline/Journal/CRC32C.swift)
        # The checksum's C target, with the module map SwiftPM would generate for it.
        mkdir -p "$out/CCRC32C"
        printf 'module CCRC32C {\n    header "%s/Sources/CCRC32C/include/CCRC32C.h"\n    export *\n}\n' "$PWD" > "$out/CCRC32C/module.modulemap"
        clang -c -O2 -g -fsanitize=address -I Sources/CCRC32C/include Sources/CCRC32C/crc32c.c -o "$out/CCRC32C/crc32c.o"
        extra=(-I "$out/CCRC32C" "$out/CCRC32C/crc32c.o")
    fi
    if [ "$target" = ImportFraming ]; then
        # The import readers, with zlib for their gzip input.
        sources+=($(find Sources/SensorImport -name '*.swift' | sort))
        extra=(-I Sources/CZlib -lz)
    fi
    swiftc "${flags[@]}" -module-name "Fuzz$target" -I "$out" -L "$out" -lSensorCore "${extra[@]}" "${sources[@]}" -o "$out/$target" 2>&1 \
        | grep -v "Cannot export local symbol" || true
    mkdir -p "$out/corpus/$target" "Fuzz/corpus/$target"
    log="$out/$target.log"
    # Swift's own crash handler would get in the way of the sanitizer's report.
    if SWIFT_BACKTRACE=enable=no "$out/$target" "$out/corpus/$target" "Fuzz/corpus/$target" -runs="$runs" -max_len=4096 -rss_limit_mb=2048 -timeout=20 \
        -artifact_prefix="$out/crash-$target-" -print_final_stats=1 > "$log" 2>&1; then
        result=ok
    else
        result=CRASH
        status=1
    fi
    executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    seconds=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' || echo "?")
    coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
    echo "fuzz: $target executions=$executions seconds=$seconds coverage=$coverage result=$result"
done
exit $status
