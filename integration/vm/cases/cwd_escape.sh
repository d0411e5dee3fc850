# CVE-2024-21626 class on a real cgroup v2 host, where the runtime holds the container's cgroup
# directory open to clone3 the init into it: process.cwd = /proc/self/fd/N must never leave the
# container's process outside its root, for run, create + start and exec. N = 3..20 here: every
# fd the runtime opens on this path is below 11 (measured: log 3, fifo 5, cgroup dir 6, sync 8,
# /dev/null 10), and a container costs seconds under TCG; the host tiers probe 3..64. The process
# walks up twenty `..` and records where it landed in /verdict-N (in its own root): INSIDE (the
# rootfs marker is there), ESCAPED (the bundle's config.json, a host path, is there) or
# ELSEWHERE. An attempt may instead fail with a one-line error (no directory at that fd, or the
# runtime refused the cwd).
id=cwd-$MODE
new_bundle $id
b=/tmp/bundles/$id
cfg $id '.root.readonly = false'
touch $b/rootfs/inside-marker
host_only=${b#/}/config.json
up=$(printf '../%.0s' $(seq 20))
FDS=$(seq 3 20)

probe() {
  echo "cd -P $up 2>/dev/null; if [ -e ./$host_only ]; then v=ESCAPED; elif [ -e ./inside-marker ]; then v=INSIDE; else v=ELSEWHERE; fi; echo \$v > /verdict-$1"
}

# judge HOW N RC ERRFILE: ran and INSIDE, or failed with one line and never ran.
judge() {
  local v=""
  if [ -e $b/rootfs/verdict-$2 ]; then v=$(cat $b/rootfs/verdict-$2); rm -f $b/rootfs/verdict-$2; fi
  if [ "$3" = 0 ]; then
    [ "$v" = INSIDE ] || fail "$1: cwd /proc/self/fd/$2 ran and reported '$v'"
  else
    [ -z "$v" ] || fail "$1: cwd /proc/self/fd/$2 failed but its process reported '$v'"
    [ "$(grep -c . $4)" = 1 ] || fail "$1: fd $2: error is not one line: $(cat $4)"
  fi
}

# set_cwd N: config.json for fd N, with a cgroup of its own (a systemd scope name is not
# reusable until its stop job is done).
set_cwd() {
  cfg $id --arg c "/proc/self/fd/$1" --arg s "$(probe $1)" --arg p "$(cg_path $id-$1)" \
    '.process.cwd = $c | .process.args = ["sh", "-c", $s] | .linux.cgroupsPath = $p'
}

for n in $FDS; do
  set_cwd $n
  rc=0
  shoji run --bundle $b $id-r$n < /dev/null > /dev/null 2> /tmp/err || rc=$?
  shoji delete --force $id-r$n > /dev/null 2>&1 || true
  judge run $n $rc /tmp/err
done
echo "ok: run never left the container"

for n in $FDS; do
  set_cwd $n
  c=$id-c$n
  rc=0
  shoji create --bundle $b $c < /dev/null > /dev/null 2> /tmp/err || rc=$?
  if [ $rc = 0 ]; then
    CONTAINERS+=($c)
    pid=$(state_of $c pid)
    shoji start $c
    wait_for 30 eval "[ ! -e /proc/$pid ] || grep -q '^State:.*Z' /proc/$pid/status"
    shoji delete --force $c
  fi
  judge "create + start" $n $rc /tmp/err
done
echo "ok: create + start never left the container"

new_bundle $id-exec
cfg $id-exec '.root.readonly = false | .process.args = ["sleep", "1000"]'
b=/tmp/bundles/$id-exec
touch $b/rootfs/inside-marker
run_detached $id-exec
for n in $FDS; do
  rc=0
  shoji exec --cwd /proc/self/fd/$n $id-exec sh -c "$(probe $n)" < /dev/null > /dev/null 2> /tmp/err || rc=$?
  judge exec $n $rc /tmp/err
done
echo "ok: exec never left the container"
shoji delete --force $id-exec
