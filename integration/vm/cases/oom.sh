# A container that allocates past memory.max is OOM-killed: memory.events counts the kill, the
# events stream reports an "oom" event, and `events --stats` shows the limit and its hits.
id=oom-$MODE
new_bundle $id
t=/tmp/bundles/$id/trigger
mkdir -p $t
cfg $id --arg t "$t" '.linux.resources.memory = {limit: 33554432, swap: 33554432}
  | .mounts += [{destination: "/trigger", type: "bind", source: $t, options: ["rbind", "rw"]}]
  | .process.args = ["sh", "-c", "while [ ! -e /trigger/go ]; do sleep 0.1; done; dd if=/dev/zero of=/dev/null bs=64M count=1; echo dd-exit=$? > /trigger/done; exec sleep 1000"]'
run_detached $id
d=$(cg_dir $id)
expect_file "$d/memory.max" 33554432
expect_file "$d/memory.swap.max" 0
shoji events --interval 1s $id > "$ART/events" 2> "$ART/events.err" &
events_pid=$!
trap 'kill $events_pid 2>/dev/null || true; cleanup_containers' EXIT
# The stream is up once it has printed its first stats line.
wait_for 60 grep -q '"type":"stats"' "$ART/events"
touch $t/go
wait_for 60 test -e $t/done
expect_file $t/done dd-exit=137
kills=$(awk '$1 == "oom_kill" { print $2 }' "$d/memory.events")
[ "$kills" -ge 1 ] || fail "memory.events oom_kill is $kills after the kill: $(cat $d/memory.events)"
echo "ok: $d/memory.events oom_kill = $kills"
wait_for 30 grep -q '"type":"oom"' "$ART/events"
echo "ok: events stream: $(grep '"type":"oom"' "$ART/events" | head -1)"
shoji events --stats $id > "$ART/stats"
jq -e --arg id $id '.type == "stats" and .id == $id' "$ART/stats" > /dev/null || fail "stats: $(cat $ART/stats)"
expect_eq "$(jq .data.memory.usage.limit "$ART/stats")" 33554432 "events --stats memory.usage.limit"
failcnt=$(jq .data.memory.usage.failcnt "$ART/stats")
[ "$failcnt" -ge 1 ] || fail "events --stats memory.usage.failcnt is $failcnt after an OOM kill"
echo "ok: events --stats memory.usage.failcnt = $failcnt"
jq -e '.data.memory.psi.some | has("avg10")' "$ART/stats" > /dev/null || fail "events --stats has no memory PSI: $(jq -c .data.memory.psi $ART/stats)"
echo "ok: events --stats memory.psi = $(jq -c .data.memory.psi "$ART/stats")"
# With memory.oom.group the kill takes the whole container, init included.
new_bundle $id-group
cfg $id-group '.linux.resources.memory = {limit: 33554432, swap: 33554432}
  | .linux.resources.unified = {"memory.oom.group": "1"}
  | .process.args = ["sh", "-c", "sleep 2; dd if=/dev/zero of=/dev/null bs=64M count=1; echo survived"]'
rc=0
run_fg $id-group > "$ART/group.out" 2>&1 || rc=$?
expect_eq "$rc" 137 "exit code of the oom.group container (SIGKILL)"
grep -q survived "$ART/group.out" && fail "the init survived an OOM kill with memory.oom.group=1"
echo "ok: the init was killed with the allocator"
