# systemd is PID 1 on a pure cgroup v2 hierarchy with every controller the tier relies on, and a
# transient scope's MemoryMax= lands in its memory.max.
expect_eq "$(cat /proc/1/comm)" systemd "PID 1"
expect_grep /proc/self/mountinfo ' /sys/fs/cgroup .* - cgroup2 '
for c in cpuset cpu io memory hugetlb pids; do
  grep -qw "$c" $CG/cgroup.controllers || fail "controller $c missing from $CG/cgroup.controllers"
done
echo "ok: controllers $(cat $CG/cgroup.controllers)"
systemd-run --unit vm-proof --scope -p MemoryMax=100M sh -c \
  'cat /sys/fs/cgroup/system.slice/vm-proof.scope/memory.max' > "$ART/scope-memory.max"
expect_file "$ART/scope-memory.max" 104857600
