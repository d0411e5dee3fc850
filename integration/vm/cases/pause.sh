# pause freezes the container's cgroup (cgroup.freeze 1, cgroup.events "frozen 1", state
# "paused") and its processes stop using CPU; resume thaws them and they run again.
id=pause-$MODE
new_bundle $id
cfg $id '.linux.resources.cpu = {quota: 50000, period: 100000}
  | .process.args = ["sh", "-c", "sleep 1000 & while :; do :; done"]'
run_detached $id
d=$(cg_dir $id)
pid=$(state_of $id pid)
utime() { awk '{ print $14 }' /proc/$pid/stat; }
wait_for 30 eval "test \$(grep -c . $d/cgroup.procs) -ge 2"
shoji pause $id
expect_file "$d/cgroup.freeze" 1
wait_for 60 grep -qx 'frozen 1' "$d/cgroup.events"
echo "ok: $d/cgroup.events has frozen 1"
expect_eq "$(state_of $id status)" paused "status after pause"
for p in $(cat $d/cgroup.procs); do echo "frozen: $p $(awk '{ print $2, $3 }' /proc/$p/stat)"; done
[ "$(awk '{ print $3 }' /proc/$pid/stat)" != R ] || fail "the busy loop is still running while frozen"
t1=$(utime); sleep 1; t2=$(utime)
expect_eq "$t2" "$t1" "CPU ticks of the busy loop across 1 s frozen"
shoji resume $id
expect_file "$d/cgroup.freeze" 0
wait_for 60 grep -qx 'frozen 0' "$d/cgroup.events"
expect_eq "$(state_of $id status)" running "status after resume"
t3=$(utime); sleep 1; t4=$(utime)
[ "$t4" -gt "$t3" ] || fail "the busy loop did not run after resume (utime $t3 -> $t4)"
echo "ok: the busy loop runs again (utime $t3 -> $t4)"
