#!/usr/bin/env bash
# Regenerates link/hot-symbols.txt, the order in which lld lays out the functions a container's
# life executes (see build.rs): packed together, they fault in as a few 64 KiB windows instead
# of most of the 5 MB binary. Root; one release build (2-3 minutes on a quiet 2-core machine).
#   bash link/profile.sh
# How it knows what ran: a build with every function aligned to its own page sits on a small
# ext4 image with readahead off, evicted from the page cache; after the commands below, the
# pages in the page cache are exactly the pages executed (fault-around maps only cached
# pages). link/hot_symbols.py turns them into symbol names.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
target=$repo/target/orderfile
work=$(mktemp -d /tmp/shoji-orderfile.XXXXXX)
loop=
cleanup() {
  if [ -x "$work/mnt/shoji" ]; then
    for id in $(ls "$work/root" 2>/dev/null); do "$work/mnt/shoji" --root "$work/root" delete --force "$id" || true; done
  fi
  mountpoint -q "$work/mnt" && umount "$work/mnt"
  [ -n "$loop" ] && losetup -d "$loop"
  rm -rf "$work"
}
trap cleanup EXIT

# The product's profile (its symbol names carry a hash of it: a build with symbols kept would
# name other functions), each function on its own page, and lld's map of where each went.
CARGO_TARGET_DIR=$target cargo build --release --bin shoji --manifest-path "$repo/Cargo.toml" \
  --config "target.x86_64-unknown-linux-gnu.rustflags=[\"-C\",\"llvm-args=-align-all-functions=12\",\"-C\",\"link-arg=-Wl,-Map=$target/shoji.map\",\"-C\",\"link-arg=-Wl,--no-demangle\"]"

truncate -s 256M "$work/fs.img"
mkfs.ext4 -q "$work/fs.img"
loop=$(losetup --find --show "$work/fs.img")
blockdev --setra 0 "$loop"
mkdir "$work/mnt"
mount "$loop" "$work/mnt"
cp "$target/x86_64-unknown-linux-gnu/release/shoji" "$work/mnt/shoji"
sync
python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$work/mnt/shoji"
echo "resident before the commands: $(fincore --noheadings --output PAGES "$work/mnt/shoji") pages"

. "$repo/bench/lib.sh"
make_bundle "$work/bundle" '.process.args = ["/bin/true"]' >/dev/null
jq '.process.args = ["sleep", "100"]' "$work/bundle/config.json" > "$work/sleep.json"
mkdir "$work/sleeper" && mv "$work/sleep.json" "$work/sleeper/config.json"
jq --arg r "$work/bundle/rootfs" '.root.path = $r' "$work/sleeper/config.json" > "$work/sleeper/c" && mv "$work/sleeper/c" "$work/sleeper/config.json"
# Docker's default seccomp profile, as docker and containerd send it with every container.
mkdir "$work/seccomp"
jq --arg r "$work/bundle/rootfs" --slurpfile p "$repo/integration/fixtures/seccomp/docker.json" \
  '.root.path = $r | .linux.seccomp = $p[0]' "$work/bundle/config.json" > "$work/seccomp/config.json"

# What the benches and a node's shim do: run in the foreground, without and with a seccomp
# profile; create, start, state, exec, kill and delete; run detached, list, ps, pause, resume.
shoji() { "$work/mnt/shoji" --root "$work/root" "$@"; }
for i in 1 2 3; do shoji run --bundle "$work/bundle" "fg-$i" </dev/null >/dev/null; done
shoji run --bundle "$work/seccomp" fg-seccomp </dev/null >/dev/null
shoji create --bundle "$work/sleeper" life </dev/null >/dev/null
shoji start life
shoji state life >/dev/null
shoji exec life /bin/true </dev/null
shoji list >/dev/null
shoji ps life >/dev/null
shoji pause life && shoji resume life
shoji kill life KILL
for _ in $(seq 100); do shoji state life | grep -q '"stopped"' && break; sleep 0.05; done
shoji delete life
shoji --version >/dev/null

python3 "$repo/link/hot_symbols.py" "$work/mnt/shoji" "$target/shoji.map" > "$repo/link/hot-symbols.txt"
echo "link/hot-symbols.txt: $(wc -l < "$repo/link/hot-symbols.txt") functions"
