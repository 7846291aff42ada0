#!/usr/bin/env bash
# Runs `tagscape bench fetch` with two builds of tagscape in turn (before,
# after, before, after, ...) on this machine and prints each figure's median
# and the ratio after/before, so a change's cost on the happy path is
# measured in one run, under the same load.
#
#   scripts/bench-before-after.sh BEFORE_BINARY AFTER_BINARY [ROUNDS] [-- FLAGS]
#
# FLAGS go to `bench fetch` (default: --images 200 --downloads 4000).
# With COUNT=instructions, each part (downloads, thumbnails) runs once per
# build under valgrind's callgrind and the instructions it executes are
# compared instead of the times: they repeat to about 0.02 %, where times on
# a shared machine vary by 20 % (use small FLAGS: valgrind is ~50x slower).
# Build the "before" binary from the commit to compare against, e.g.
#   git worktree add /tmp/before COMMIT && (cd /tmp/before && cargo build --release)
set -euo pipefail

if [ $# -lt 2 ]; then
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
before=$1
after=$2
shift 2
rounds=3
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
    rounds=$1
    shift
fi
[ "${1:-}" = "--" ] && shift
flags=("$@")
[ ${#flags[@]} -eq 0 ] && flags=(--images 200 --downloads 4000)

for bin in "$before" "$after"; do
    [ -x "$bin" ] || { echo "bench-before-after: $bin is not an executable tagscape" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work/data"' EXIT

if [ "${COUNT:-time}" = instructions ]; then
    command -v valgrind >/dev/null || { echo "bench-before-after: COUNT=instructions needs valgrind (apt-get install valgrind)" >&2; exit 2; }
    # Each part runs alone: the FLAGS without --images/--downloads, then one of them.
    images=200 downloads=4000 rest=()
    for ((i = 0; i < ${#flags[@]}; i++)); do
        case ${flags[i]} in
            --images) images=${flags[i + 1]}; i=$((i + 1)) ;;
            --downloads) downloads=${flags[i + 1]}; i=$((i + 1)) ;;
            *) rest+=("${flags[i]}") ;;
        esac
    done
    # Generate the JPEGs once, outside the counts.
    "$after" bench fetch --work-dir "$work/data" "${rest[@]}" --images "$images" --downloads 0 >/dev/null
    head -1 < <("$after" bench fetch --work-dir "$work/data" --images 0 --downloads 0)
    printf '%-24s %16s %16s %8s\n' part before after ratio
    for part in downloads thumbnails; do
        only=(--images 0 --downloads "$downloads")
        [ $part = thumbnails ] && only=(--images "$images" --downloads 0)
        for side in before after; do
            bin=$before
            [ $side = after ] && bin=$after
            valgrind --tool=callgrind --callgrind-out-file=/dev/null \
                "$bin" bench fetch --work-dir "$work/data" "${rest[@]}" "${only[@]}" \
                >"$work/$side.$part" 2>"$work/$side.$part.valgrind"
            sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/$side.$part.valgrind" >"$work/$side.$part.count"
        done
        awk -v p="$part" -v b="$(cat "$work/before.$part.count")" -v a="$(cat "$work/after.$part.count")" \
            'BEGIN {printf "%-24s %16.0f %16.0f %8.4f  (instructions)\n", p, b, a, a / b}'
    done
    echo "each run's output: $work"
    exit 0
fi
# Generated JPEGs are shared by both builds (made once, by the first run).
for ((r = 1; r <= rounds; r++)); do
    for side in before after; do
        bin=$before
        [ $side = after ] && bin=$after
        "$bin" bench fetch --work-dir "$work/data" "${flags[@]}" >"$work/$side.$r" 2>/dev/null
        # downloads: "  685 images/s (14.60 s, ...)"
        awk '/images\/s \(/ && !/thread/ {print "downloads_images_per_s", $1}' "$work/$side.$r" >>"$work/$side.figures"
        # thumbnails: "  DCT-scaled decode  1 thread: X images/s (Y per CPU-s) | N threads: X images/s = Z per core (Y per CPU-s)"
        # Per CPU-second figures: other load on the machine does not change them.
        awk -F'[(]' '/DCT-scaled decode/ {split($2, a, " "); split($3, b, " "); print "thumbnails_per_cpu_s_1_thread", a[1]; print "thumbnails_per_cpu_s_all_threads", b[1]}' "$work/$side.$r" >>"$work/$side.figures"
        echo "round $r $side done" >&2
    done
done

head -1 "$work/after.1"
echo "each run's output: $work"
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
printf '%-36s %12s %12s %8s\n' figure before after ratio
for figure in $(cut -d' ' -f1 "$work/after.figures" | sort -u); do
    b=$(awk -v f="$figure" '$1 == f {print $2}' "$work/before.figures" | median)
    a=$(awk -v f="$figure" '$1 == f {print $2}' "$work/after.figures" | median)
    awk -v f="$figure" -v a="$a" -v b="$b" -v n="$rounds" \
        'BEGIN {printf "%-36s %12.1f %12.1f %8.3f  (median of %d)\n", f, b, a, a / b, n}'
done
