#!/usr/bin/env bash
# run.sh - what `make fuzz` and `make fuzz-merge` run (README.md, "Fuzzing").
#
#   run.sh fuzz  BUILD SECONDS [NAME...]   each harness for SECONDS, in turn
#   run.sh merge BUILD [NAME...]           fold what the runs found into the
#                                          committed corpus, minimised
#
# BUILD is the Fuzz build (build-fuzz/), whose fuzz/ holds the harnesses;
# NAME is a harness (fuzz_NAME.c), all of them by default.
#
# fuzz: one harness at a time, at the lowest priority (nice 19), with its
# committed corpus and regression inputs as seeds and BUILD/fuzz-work/NAME/
# as the corpus it grows (kept between runs, so the next run goes on from
# there), -timeout=10 (seconds per input), -rss_limit_mb=2048, and a
# dictionary when tests/fuzz/dict/NAME.dict exists.  What crashes, leaks,
# times out or runs out of memory is saved in BUILD/fuzz-crashes/NAME/;
# each log in BUILD/fuzz-logs/NAME.log.  At the end a table (executions,
# executions a second, libFuzzer's cov: and ft:, the corpus) goes to
# stdout and BUILD/fuzz-summary.txt.  Exit 1 when anything was saved.
#
# merge: the committed corpus keeps its seeds (seed-*, from seeds.py) and
# gets, as found-HASH, the inputs of BUILD/fuzz-work/NAME/ that cover what
# the seeds do not (libFuzzer's -merge=1), smallest first, at most 200
# files in all; the found-* files of earlier merges are replaced.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MAX_FILES=200

usage() {
    echo "usage: $0 fuzz BUILD SECONDS [NAME...] | merge BUILD [NAME...]" >&2
    exit 2
}

[ $# -ge 2 ] || usage
mode=$1 build=$(cd "$2" 2>/dev/null && pwd) || { echo "$0: no build folder $2" >&2; exit 2; }
shift 2
if [ "$mode" = fuzz ]; then
    [ $# -ge 1 ] || usage
    seconds=$1
    shift
fi
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in "$HERE"/fuzz_*.c; do
        n=$(basename "$f" .c)
        names+=("${n#fuzz_}")
    done
fi
for n in "${names[@]}"; do
    [ -x "$build/fuzz/fuzz_$n" ] || { echo "$0: no harness $build/fuzz/fuzz_$n" >&2; exit 2; }
done

seeds_of() { # the read-only seed folders of harness $1
    echo "$HERE/corpus/$1"
    [ -d "$HERE/regressions/$1" ] && echo "$HERE/regressions/$1"
}

# The last "cov: ... ft: ... corp: N/SIZE" status line, and the final stats.
summarise() { # NAME LOG SECONDS
    local status execs rate
    status=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$2" | tail -1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$2" | tail -1)
    rate=$([ -n "$execs" ] && echo $((execs / $3)))
    printf '%-13s %8s s %12s %8s %7s %8s   %s\n' "$1" "$3" "${execs:-?}" "${rate:-?}" \
        "$(echo "$status" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')" \
        "$(echo "$status" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')" \
        "$(echo "$status" | sed -n 's/.*corp: \([^ ]*\).*/\1/p')"
}

if [ "$mode" = fuzz ]; then
    mkdir -p "$build/fuzz-work" "$build/fuzz-crashes" "$build/fuzz-logs"
    summary="$build/fuzz-summary.txt"
    printf '%-13s %10s %12s %8s %7s %8s   %s\n' harness time executions exec/s cov ft \
        "corpus (files/bytes)" >"$summary"
    failed=0
    for n in "${names[@]}"; do
        work="$build/fuzz-work/$n" crashes="$build/fuzz-crashes/$n" log="$build/fuzz-logs/$n.log"
        mkdir -p "$work" "$crashes"
        dict=()
        [ -f "$HERE/dict/$n.dict" ] && dict=(-dict="$HERE/dict/$n.dict")
        echo "fuzz: $n for ${seconds}s (log $log)"
        start=$(date +%s)
        # shellcheck disable=SC2046
        nice -n 19 "$build/fuzz/fuzz_$n" "$work" $(seeds_of "$n") -max_total_time="$seconds" \
            -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
            -artifact_prefix="$crashes/" >"$log" 2>&1
        rc=$?
        took=$(($(date +%s) - start))
        found=$(find "$crashes" -type f | wc -l)
        if [ $rc -ne 0 ] || [ "$found" -ne 0 ]; then
            echo "fuzz: $n FAILED (exit $rc): see $log"
            grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: |artifact_prefix|Test unit written)' "$log" |
                head -5
            failed=1
        fi
        summarise "$n" "$log" "$((took > 0 ? took : 1))" | tee -a "$summary"
    done
    echo
    cat "$summary"
    if [ $failed -ne 0 ]; then
        echo "fuzz: inputs that crashed, leaked or timed out are in $build/fuzz-crashes/"
        find "$build/fuzz-crashes" -type f
        exit 1
    fi
    echo "fuzz: no crash, leak or timeout; the growing corpora are in $build/fuzz-work/"
    exit 0
fi

[ "$mode" = merge ] || usage
for n in "${names[@]}"; do
    work="$build/fuzz-work/$n"
    [ -d "$work" ] || { echo "merge: $n: nothing found yet ($work)"; continue; }
    tmp=$(mktemp -d)
    cp "$HERE/corpus/$n"/seed-* "$tmp/" 2>/dev/null
    before=$(ls "$tmp" | wc -l)
    nice -n 19 "$build/fuzz/fuzz_$n" -merge=1 -timeout=10 -rss_limit_mb=2048 "$tmp" "$work" \
        >"$build/fuzz-logs/$n.merge.log" 2>&1 || {
        echo "merge: $n failed, see $build/fuzz-logs/$n.merge.log"
        rm -rf "$tmp"
        exit 1
    }
    rm -f "$HERE/corpus/$n"/found-*
    room=$((MAX_FILES - before))
    # The new files (libFuzzer names them by their SHA-1), smallest first.
    find "$tmp" -type f ! -name 'seed-*' -printf '%s %f\n' | sort -n | head -n "$((room > 0 ? room : 0))" |
        while read -r _ f; do cp "$tmp/$f" "$HERE/corpus/$n/found-$f"; done
    echo "merge: $n: $before seeds, $(ls "$HERE/corpus/$n"/found-* 2>/dev/null | wc -l) found," \
        "$(du -sh "$HERE/corpus/$n" | cut -f1)"
    rm -rf "$tmp"
done
