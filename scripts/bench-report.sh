#!/usr/bin/env bash
# mtalog report against pflogsumm on the same Postfix log of LINES lines (default one
# million), written by the library itself: the example MTA (examples_c/mta_sim) with a
# postfix_logger only. Prints both times, the ratio and mtalog's peak memory.
#
#   scripts/bench-report.sh [LINES]      (make bench-report)
#
# Needs: make release examples (done by `make bench-report`), pflogsumm.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
lines=${1:-1000000}
pfl=$(command -v pflogsumm || echo /usr/sbin/pflogsumm)
[ -x "$pfl" ] || { echo "bench-report: pflogsumm not found" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/logs/postfix"
cat > "$tmp/bench.conf" <<'CONF'
postfix_logger "bench" {
  mainlog = "logs/postfix/mainlog"
  paniclog = "logs/postfix/paniclog"
  myhostname = mx.bench.example
  pid = 4242
}
CONF
# About 6.6 lines per simulated message; ask for a few more and cut at $lines.
msgs=$(( lines * 10 / 62 + 1000 ))
(cd "$tmp" && "$top/examples_c/mta_sim" -c bench.conf -n "$msgs" -l "$top/target/release/libmtalog.so" >/dev/null)
head -n "$lines" "$tmp/logs/postfix/mainlog" > "$tmp/bench.log"
rm -f "$tmp/logs/postfix/mainlog"
echo "log: $(wc -l < "$tmp/bench.log") lines, $(du -h "$tmp/bench.log" | cut -f1)"

# Wall-clock and CPU (user + system) seconds: the CPU figure does not depend on what else
# runs on the machine.
/usr/bin/time -f '%e %U %S %M' -o "$tmp/pfl.time" "$pfl" "$tmp/bench.log" > "$tmp/pflogsumm.txt"
/usr/bin/time -f '%e %U %S %M' -o "$tmp/mtalog.time" \
  "$top/target/release/mtalog" report --no-progress "$tmp/bench.log" > "$tmp/mtalog.txt"
read -r pw pu ps _ < "$tmp/pfl.time"
read -r mw mu mss mrss < "$tmp/mtalog.time"
awk -v pw="$pw" -v pc="$(echo "$pu $ps" | awk '{print $1 + $2}')" \
    -v mw="$mw" -v mc="$(echo "$mu $mss" | awk '{print $1 + $2}')" -v rss="$mrss" 'BEGIN {
  printf "                  wall      cpu\n";
  printf "pflogsumm:     %6.2f s %6.2f s\n", pw, pc;
  printf "mtalog report: %6.2f s %6.2f s   (peak memory %.1f MiB)\n", mw, mc, rss / 1024;
  printf "ratio:         %6.1fx   %6.1fx\n", pw / (mw > 0 ? mw : 0.01), pc / (mc > 0 ? mc : 0.01);
}'
for what in received delivered bounced rejected; do
  a=$(awk -v w="$what" '$2 == w { print $1; exit }' "$tmp/pflogsumm.txt")
  b=$(awk -v w="$what" '$2 == w { print $1; exit }' "$tmp/mtalog.txt")
  echo "  $what: pflogsumm $a, mtalog $b"
done
