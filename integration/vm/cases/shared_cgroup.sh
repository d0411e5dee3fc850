# A cgroupsPath naming an existing cgroup that holds someone else's process (a pod cgroup, by a
# typo), cgroupfs driver on v2: the container joins it with runc's warning; delete --force
# does not write cgroup.kill there (that would kill everything in it): the container's own
# processes die, the other one and the directory stay. A frozen cgroup (cgroup.freeze 1) is
# refused, not joined (the init would stop in it and create would wait forever).
dead() { [ ! -e /proc/$1 ] || [ "$(awk '{ print $3 }' /proc/$1/stat 2> /dev/null)" = Z ]; }
shared=$CG/shoji-vm-shared
mkdir -p $shared
sleep 1000 < /dev/null > /dev/null 2>&1 &
other=$!
release() { echo 0 > $shared/cgroup.freeze || true; kill $other || true; wait $other || true; rmdir $shared || true; }
trap 'cleanup_containers; release' EXIT
echo $other > $shared/cgroup.procs
id=shared-$MODE
new_bundle $id
cfg $id '.linux.cgroupsPath = "/shoji-vm-shared" | .process.args = ["sh", "-c", "sleep 1000 & sleep 1001 & wait"]'
CONTAINERS+=($id)
# Output to a file: the container inherits it, and would hold a $(...) pipe open.
shoji run --detach --bundle /tmp/bundles/$id $id > $ART/run.out 2>&1 < /dev/null
out=$(cat $ART/run.out)
echo "$out" | grep -q "level=warning.*container's cgroup is not empty: 1 process(es) found" ||
  fail "no warning about the populated cgroup: $out"
echo "ok: warned: $out"
wait_for 30 eval "test \$(grep -c . $shared/cgroup.procs) -ge 4"
init=$(state_of $id pid)
shoji delete --force $id
wait_for 30 eval "test \$(grep -c . $shared/cgroup.procs) -eq 1"
dead $init || fail "the container's init $init survived delete --force"
expect_file $shared/cgroup.procs "$other"
kill -0 $other || fail "the shared cgroup's own process $other was killed"
echo "ok: $other lives on in $shared"
# Frozen: refused with a clear error, nothing left.
echo 1 > $shared/cgroup.freeze
wait_for 30 grep -qx "frozen 1" $shared/cgroup.events
new_bundle $id-frozen
cfg $id-frozen '.linux.cgroupsPath = "/shoji-vm-shared"'
if timeout 60 "$SHOJI" create --bundle /tmp/bundles/$id-frozen $id-frozen > $ART/frozen.out 2>&1 < /dev/null; then
  CONTAINERS+=($id-frozen)
  fail "created a container in a frozen cgroup"
fi
out=$(cat $ART/frozen.out)
echo "$out" | grep -q "is frozen" || fail "no clear error for the frozen cgroup: $out"
echo "ok: refused: $out"
if shoji state $id-frozen > /dev/null 2>&1; then fail "state of $id-frozen exists"; fi
expect_file $shared/cgroup.procs "$other"
