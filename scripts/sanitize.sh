#!/usr/bin/env bash
# Every test, twice: fetchq's own modules, tests and binary built with AddressSanitizer, then with
# ThreadSanitizer (FETCHQ_SANITIZE in Package.swift). Dependencies are not instrumented, so only
# fetchq's modules are rebuilt (about a minute each) instead of every package (about 25 minutes).
#
# Worker processes and the service started by the tests are the instrumented binary too. Each
# process writes its sanitizer report to .build/sanitizers/<name>/report.<pid>; the run fails if
# any report holds an error or a race, and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
root=$PWD/.build/sanitizers
max_reruns=20

# instrumented SANITIZER FAILED_LIST ARGS...: the built bundle's tests under the sanitizer, its
# reports in $reports, the names of the tests that failed in FAILED_LIST.
instrumented() {
    local sanitizer=$1 failed_list=$2
    shift 2
    FETCHQ_SANITIZE=$sanitizer \
        FETCHQ_FAILED_TESTS=$failed_list \
        ASAN_OPTIONS="log_path=$reports/report" \
        LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp" \
        TSAN_OPTIONS="log_path=$reports/report" \
        scripts/run-tests.sh "$@"
}

for sanitizer in address thread; do
    reports=$root/$sanitizer
    rm -rf "$reports"
    mkdir -p "$reports"
    echo "== sanitizer: $sanitizer"
    FETCHQ_SANITIZE=$sanitizer $SWIFT build --build-tests
    # The short chaos soak (SoakTests) and the slow-client attack (DeadlineTests) each on its own
    # after the others, so that their load does not weigh on the others' timing. A sanitizer that finds a problem at exit (LeakSanitizer) makes the test
    # process exit 1 with its report in the log file, not on the terminal: the reports are printed
    # whatever the tests' status, before the verdict.
    #
    # The instrumented binaries are several times slower, and 280 tests share two cores: a test
    # that waits on a deadline can miss it under that load alone. A test that fails is therefore
    # run once more, on its own (not in parallel with the others); the run fails if it fails again,
    # if more than $max_reruns failed, or if the process did not end as a failed run ends (killed
    # by a signal: a crash, a trap) or named no failed test (LeakSanitizer at exit). A sanitizer's
    # report fails the run in every case.
    failed=0
    for selection in "--skip SoakTests --skip DeadlineTests" "--filter DeadlineTests" "--filter SoakTests"; do
        failures=$(mktemp "${TMPDIR:-/tmp}/fetchq-failed.XXXXXX")
        # shellcheck disable=SC2086 # the selection is several words on purpose
        if ! instrumented $sanitizer "$failures" $selection; then
            count=$(wc -l <"$failures")
            if [ "$count" -eq 0 ] || [ "$count" -gt "$max_reruns" ]; then
                failed=1
            else
                echo "sanitize: $count test(s) failed under $sanitizer; each runs again on its own:" $(cat "$failures")
                filters=()
                while read -r name; do
                    filters+=(--filter "$(printf '%s' "$name" | sed -E 's/[][()\\.*+?^$|{}]/\\&/g')")
                done <"$failures"
                instrumented $sanitizer /dev/null --no-parallel "${filters[@]}" || failed=1
            fi
        fi
        rm -f "$failures"
    done
    found=$(grep -l -E "ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer" "$reports"/* 2>/dev/null || true)
    if [ -n "$found" ]; then
        for report in $found; do
            echo "---- $report"
            cat "$report"
        done
        echo "sanitize: $sanitizer reported problems (above)" >&2
        exit 1
    fi
    if [ "$failed" -ne 0 ]; then
        echo "sanitize: tests failed under $sanitizer (above)" >&2
        exit 1
    fi
    echo "== sanitizer: $sanitizer: no reports"
done
