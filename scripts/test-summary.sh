#!/usr/bin/env bash
# Prints one plain "N passed, N failed" line from a `swift test` log (Swift Testing output),
# and fails when any test failed or none ran.
#
# N comes from Swift Testing's closing line. Counting result lines undercounts: in some runs
# whole "started" and "passed" lines are missing from the log (181 of 300 once; the cause is
# not found yet), while the closing line is always there.
set -euo pipefail
log=${1:?usage: test-summary.sh LOG}
closing=$(grep -aoE '[✔✘] Test run with [0-9]+ tests?.*' "$log" | tail -1 || true)
if [ -z "$closing" ]; then
    # A crash mid-run leaves no closing line.
    echo "the test run did not finish cleanly"
    exit 1
fi
total=$(sed -E 's/.*Test run with ([0-9]+) test.*/\1/' <<<"$closing")
failed=$(grep -aoE '✘ Test .* failed after' "$log" | grep -vc '✘ Test run with' || true)
if [[ $closing == ✔* ]]; then failed=0; elif [ "$failed" -eq 0 ]; then failed=1; fi
echo "$((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$total" -gt 0 ]
