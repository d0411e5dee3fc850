# The guest is pure cgroup v2 with every controller the tier relies on, and a child cgroup
# takes a memory limit written to it.
expect_grep /proc/self/mountinfo ' /sys/fs/cgroup .* - cgroup2 '
for c in cpuset cpu io memory hugetlb pids; do
  grep -qw "$c" $CG/cgroup.controllers || fail "controller $c missing from $CG/cgroup.controllers: $(cat $CG/cgroup.controllers)"
done
echo "ok: controllers $(cat $CG/cgroup.controllers)"
d=$CG/vm-proof-$$
mkdir "$d"
trap 'rmdir "$d" 2>/dev/null || true' EXIT
echo 100M > "$d/memory.max"
expect_file "$d/memory.max" 104857600
rmdir "$d"
[ ! -e "$d" ] || fail "$d still exists after rmdir"
