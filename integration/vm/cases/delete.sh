# delete leaves nothing: the cgroup directory (and, systemd driver, the unit) and the state are
# gone, for a running container with --force (every process in it killed) and a created one.
id=del-$MODE
new_bundle $id
cfg $id '.process.args = ["sh", "-c", "sleep 1000 & sleep 1001 & sleep 1002"]'
run_detached $id
d=$(cg_dir $id)
wait_for 30 eval "test \$(grep -c . $d/cgroup.procs) -ge 3"
pids=$(cat $d/cgroup.procs | tr '\n' ' ')
echo "processes in $d: $pids"
shoji delete --force $id
[ ! -e "$d" ] || fail "$d still exists after delete --force"
echo "ok: $d is gone"
# Dead means gone or a zombie: the guest's PID 1 reaps the orphans on its own schedule.
dead() { [ ! -e /proc/$1 ] || [ "$(awk '{ print $3 }' /proc/$1/stat 2> /dev/null)" = Z ]; }
for p in $pids; do dead $p || fail "process $p survived delete --force: $(cat /proc/$p/stat)"; done
echo "ok: processes $pids are gone"
if shoji state $id > /dev/null 2>&1; then fail "shoji state $id still answers after delete"; fi
echo "ok: no state for $id"
if [ "$MODE" = systemd ]; then
  expect_eq "$(systemctl show -p LoadState --value shoji-$id.scope)" not-found "LoadState of shoji-$id.scope"
fi
# A created, never started container.
new_bundle $id-created
CONTAINERS+=($id-created)
shoji create --bundle /tmp/bundles/$id-created $id-created < /dev/null
expect_eq "$(state_of $id-created status)" created "status after create"
d=$(cg_dir $id-created)
[ -d "$d" ] || fail "$d was not created"
shoji delete $id-created
[ ! -e "$d" ] || fail "$d still exists after delete of a created container"
echo "ok: $d is gone"
# kill --all signals every process of the container (cgroup.kill on v2), not just the init.
new_bundle $id-all
cfg $id-all '.process.args = ["sh", "-c", "trap \"\" TERM; sleep 1000 & sleep 1001 & wait"]'
run_detached $id-all
d=$(cg_dir $id-all)
wait_for 30 eval "test \$(grep -c . $d/cgroup.procs) -ge 3"
shoji kill --all $id-all KILL
wait_for 30 eval "test -z \"\$(cat $d/cgroup.procs)\""
echo "ok: $d/cgroup.procs is empty after kill --all"
wait_for 30 eval "test \$(state_of $id-all status) = stopped"
shoji delete $id-all
[ ! -e "$d" ] || fail "$d still exists after delete"
echo "ok: $d is gone"
