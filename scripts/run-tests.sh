#!/usr/bin/env bash
# Runs the already built test bundle's swift-testing tests; arguments go to the bundle
# (`--skip SoakTests`, `--filter StoreTests`). Used by `make test` and scripts/sanitize.sh instead
# of `swift test --skip-build`, which reports a test process ended by SIGTERM, SIGKILL or SIGINT,
# or an issue recorded outside any test, as a bare failure with nothing printed. This says which:
# the exit status or the signal, and every issue and failed test of the run, at the end of the log.
# With FETCHQ_FAILED_TESTS=FILE it also writes the failed tests' names to FILE.
set -uo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}

bundle="$($SWIFT build --show-bin-path)/fetchqPackageTests.xctest"
if [ ! -x "$bundle" ]; then
    echo "run-tests: no test bundle at $bundle; run \`$SWIFT build --build-tests\` first" >&2
    exit 2
fi
# Plain text in a log (CI), colours on a terminal.
[ -t 1 ] || export NO_COLOR=1
log=$(mktemp "${TMPDIR:-/tmp}/fetchq-tests.XXXXXX")
trap 'rm -f "$log"' EXIT

"$bundle" --testing-library swift-testing "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    if [ "$status" -gt 128 ]; then
        echo "run-tests: the test process was killed by signal $((status - 128)) ($(kill -l $((status - 128))))" >&2
    else
        echo "run-tests: the test process exited with status $status" >&2
        # Under AddressSanitizer, a leak found at exit is status 1 with the report in its log file.
        [ -z "${FETCHQ_SANITIZE:-}" ] || echo "run-tests: built with FETCHQ_SANITIZE=$FETCHQ_SANITIZE: see its reports" >&2
    fi
    # An issue recorded outside any test (on a thread no test's task started) is not counted by
    # the summary line, yet fails the run: it reads "Test «unknown» recorded an issue".
    echo "run-tests: issues and failures of this run:" >&2
    grep -a -E "recorded an issue|failed after|Fatal error|error:" "$log" | tail -60 >&2
    # FETCHQ_FAILED_TESTS=FILE: the failed tests' names, one per line, for a caller to run again;
    # only when the process ended as a failed run ends (status 1), not killed by a signal (a
    # crash, a trap), so that such a run is never retried into a pass.
    if [ -n "${FETCHQ_FAILED_TESTS:-}" ] && [ "$status" -eq 1 ]; then
        grep -a -o -E "Test [A-Za-z0-9_]+\([^)]*\)( with [0-9]+ test cases?)? failed after" "$log" |
            sed -E 's/^Test ([A-Za-z0-9_]+\([^)]*\)).*/\1/' | sort -u >"$FETCHQ_FAILED_TESTS"
    fi
fi
exit "$status"
