# Where a `run` spends its time, stage by stage, from `shoji --debug` logs (issue 11: "where the
# remaining time goes per stage"). Input: the stderr of several `shoji --debug run`s, each run
# preceded by a line `RUN`. A stage is the time from one debug line to the next; it is named by
# the line that ends it, with pids, numbers and quoted values masked so runs line up. Prints the
# median of each stage over the runs, in ms, with `prefix` before every line.
#   awk -v prefix="bench: " -f bench/stages.awk LOGS
function secs(line,    t) {
  if (!match(line, /time="[^"]*"/)) return -1
  t = substr(line, RSTART + 6, RLENGTH - 7)          # 2026-12-07T18:17:14.793964575Z
  sub(/^[^T]*T/, "", t); sub(/Z$/, "", t)
  split(t, h, ":")
  return h[1] * 3600 + h[2] * 60 + h[3]
}
function label(line,    m) {
  if (!match(line, /msg=".*"$/)) return "?"
  m = substr(line, RSTART + 5, RLENGTH - 6)
  if (m ~ /^\[/) return "process started (argv logged)"
  gsub(/\\"[^\\]*\\"/, "*", m); gsub(/\([^)]*\)/, "", m); gsub(/[0-9]+/, "N", m)
  sub(/ +$/, "", m)
  return m
}
function median(key,    n, i, j, v, a) {
  n = count[key]
  for (i = 1; i <= n; i++) a[i] = val[key, i]
  for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v }
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
$0 == "RUN" { runs++; step = 0; prev = -1; first = -1; next }
$1 == "WALL" {
  count["WALL"]++; val["WALL", count["WALL"]] = $2 / 1e6
  # Outside the log per run (its wall less its first-to-last span): the sum of the stages'
  # medians is not the median of their sums when stages vary (the systemd ones do), so the
  # difference of the two medians misstates it.
  if (first >= 0) { count["OUT"]++; val["OUT", count["OUT"]] = $2 / 1e6 - (prev - first) * 1000 }
  next
}
/level=debug/ {
  t = secs($0); if (t < 0) next
  if (first < 0) first = t
  step++
  if (prev >= 0) {
    key = sprintf("%02d %s", step, label($0))
    if (!(key in count)) order[++keys] = key
    count[key]++; val[key, count[key]] = (t - prev) * 1000
  }
  prev = t
}
END {
  total = 0
  for (k = 1; k <= keys; k++) { med[k] = median(order[k]); total += med[k] }
  printf "%s%-56s %8s %6s\n", prefix, "stage (ends with the debug line)", "ms", "share"
  for (k = 1; k <= keys; k++)
    printf "%s%-56s %8.2f %5.0f%%  (%d runs)\n", prefix, substr(order[k], 4, 56), med[k], total ? 100 * med[k] / total : 0, count[order[k]]
  printf "%s%-56s %8.2f\n", prefix, "sum of the stages' medians", total
  if (count["WALL"]) {
    wall = median("WALL")
    printf "%s%-56s %8.2f\n", prefix, "outside the log: exec, re-exec from the sealed copy, exit", median("OUT")
    printf "%s%-56s %8.2f\n", prefix, "wall per run as the caller saw it (median)", wall
  }
}
