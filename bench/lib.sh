# Shared by the bench scripts: arithmetic, medians, target lines, the busybox bundle.

calc() { awk "BEGIN {printf \"%.2f\", $1}"; }

# median X...: the median of the numbers given.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

section() { echo "== $* =="; }

label_of() {
  case $1 in
    floor) echo "floor (namespaces+chroot+exec)" ;;
    grace) echo "v1 migration grace period" ;;
    *) echo "$1 run" ;;
  esac
}

runtime_path() {
  case $1 in
    shoji) echo "$SHOJI" ;;
    runc) echo "$RUNC" ;;
    crun) echo "$CRUN" ;;
  esac
}

# target WHAT VALUE CMP LIMIT [ROUND_VALUES...]: one line with the figure, its target and
# whether it is met (CMP is <= or >=); the per-round values show the spread.
target() {
  local what=$1 value=$2 cmp=$3 limit=$4 met
  shift 4
  met=$(awk "BEGIN {print ($value $cmp $limit) ? \"met\" : \"NOT met\"}")
  printf '  %-34s %7sx  target %s %s: %s' "$what" "$value" "$cmp" "$limit" "$met"
  [ $# -gt 0 ] && printf '   (rounds: %s)' "$*"
  echo
}

# make_bundle DIR JQ: a busybox bundle with runc's default spec, edited by JQ.
make_bundle() {
  local b=$1
  mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/sys" "$b/rootfs/dev"
  cp /bin/busybox "$b/rootfs/bin/busybox"
  for a in true sh sleep cat; do ln -sf busybox "$b/rootfs/bin/$a"; done
  (cd "$b" && runc spec)
  jq ".process.terminal = false | $2" "$b/config.json" > "$b/config.json.new"
  mv "$b/config.json.new" "$b/config.json"
}
