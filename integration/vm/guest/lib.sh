# Sourced by every case before its own script (bash). Strict mode, assertion helpers that print
# what a user would check, and bundle/container helpers for the mode's cgroup driver.
# /share/env.sh (written by the harness) sets SHOJI (the host's built binary) and MODE.
set -euo pipefail
. /share/env.sh
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND (exit $?)"' ERR
CG=/sys/fs/cgroup
CONTAINERS=()
trap cleanup_containers EXIT

fail() { echo "FAIL: $*"; exit 1; }

# expect_file FILE WANT: the file's content (trailing newline stripped) equals WANT.
expect_file() {
  local got
  got=$(cat "$1") || fail "cannot read $1"
  [ "$got" = "$2" ] || fail "$1 is '$got', want '$2'"
  echo "ok: $1 = $got"
}

# expect_grep FILE REGEX: some line of FILE matches REGEX.
expect_grep() {
  grep -Eq -- "$2" "$1" || fail "$1 has no line matching '$2': $(tr '\n' '|' < "$1")"
  echo "ok: $1 ~ $2"
}

# expect_eq GOT WANT WHAT
expect_eq() {
  [ "$1" = "$2" ] || fail "$3 is '$1', want '$2'"
  echo "ok: $3 = $1"
}

# The cgroupsPath a container gets in this mode, and the directory it must land in.
cg_path() {
  if [ "$MODE" = systemd ]; then echo "system.slice:shoji:$1"; else echo "/shoji-vm/$1"; fi
}
cg_dir() {
  if [ "$MODE" = systemd ]; then echo "$CG/system.slice/shoji-$1.scope"; else echo "$CG/shoji-vm/$1"; fi
}

# shoji ARGS: the binary under test with this mode's driver flag.
shoji() {
  if [ "$MODE" = systemd ]; then "$SHOJI" --systemd-cgroup "$@"; else "$SHOJI" "$@"; fi
}

# new_bundle ID: a busybox bundle at /tmp/bundles/ID whose cgroupsPath is this mode's.
new_bundle() {
  local b=/tmp/bundles/$1
  mkdir -p "$b/rootfs"
  # (busybox's cpio: GNU cpio need not be installed; it reports a block count on stderr)
  (cd "$b/rootfs" && busybox cpio -id < /share/rootfs.cpio 2> /dev/null)
  [ -x "$b/rootfs/bin/sh" ] || fail "unpacking the rootfs into $b/rootfs failed"
  jq --arg p "$(cg_path "$1")" '.linux.cgroupsPath = $p' /share/guest/config.json > "$b/config.json"
}

# cfg ID JQ-ARGS...: edit bundle ID's config.json with jq.
cfg() {
  local b=/tmp/bundles/$1
  shift
  jq "$@" "$b/config.json" > "$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
}

# run_detached ID: create and start the container of bundle ID, remembering it for cleanup.
run_detached() {
  CONTAINERS+=("$1")
  shoji run --detach --bundle "/tmp/bundles/$1" "$1" < /dev/null
}

cleanup_containers() {
  local id
  for id in "${CONTAINERS[@]}"; do shoji delete --force "$id" > /dev/null 2>&1 || true; done
}

# run_fg ID: `run` the container of bundle ID in the foreground; its output is the caller's.
run_fg() {
  CONTAINERS+=("$1")
  shoji run --bundle "/tmp/bundles/$1" "$1" < /dev/null
}

# state_of ID FIELD: one field of `shoji state ID`.
state_of() {
  shoji state "$1" | jq -r ".$2"
}

# wait_for SECONDS CMD...: poll CMD until it succeeds; a bound on waiting, not an assertion.
# The arguments are expanded once, by the caller: a command substitution that must be
# re-read on every try goes through `eval "..."`.
wait_for() {
  local limit=$1 i
  shift
  for ((i = 0; i < limit * 10; i++)); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  fail "gave up after ${limit}s waiting for: $*"
}

# The guest's virtio scratch disk as "MAJOR:MINOR".
vda_dev() {
  cat /sys/block/vda/dev
}
