#!/bin/bash
# Runs each case named in /share/cases.list ("NAME TIMEOUT_SECONDS" lines) in its own bash
# with lib.sh sourced; leaves /share/results/NAME.{out,rc,secs} and the case's files in NAME.d.
cd /
while read -r name limit; do
  r=/share/results/$name
  mkdir -p "$r.d"
  start=$(date +%s.%N)
  echo "case $name: start"
  CASE=$name ART=$r.d timeout -k 5 "$limit" \
    bash -c '. /share/guest/lib.sh && . "/share/cases/$CASE.sh"' > "$r.out" 2>&1 < /dev/null
  rc=$?
  [ $rc = 124 ] && echo "FAIL: case $name did not finish within its ${limit} s (killed)" >> "$r.out"
  awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", b - a }' > "$r.secs"
  echo "$rc" > "$r.rc"
  echo "case $name: rc=$rc"
done < /share/cases.list
