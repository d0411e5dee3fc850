# On cgroup v2 the cgroupfs driver prepares the container's cgroup first and the init is
# cloned straight into it (clone3 CLONE_INTO_CGROUP): it is never migrated. --debug says which
# way the init got there; the cgroup it sits in says that it did.
id=born-$MODE
new_bundle $id
cfg $id '.process.args = ["sleep", "1000"]'
shoji --debug --log /tmp/$id.log create --bundle /tmp/bundles/$id $id < /dev/null
CONTAINERS+=($id)
grep -q "born in its cgroup: true" /tmp/$id.log || { cat /tmp/$id.log; fail "the init was not cloned into its cgroup"; }
echo "ok: the init was born in its cgroup"
# The guest's kernel (6.12) predates overlay layers by fd: the runtime must still re-execute
# from its read-only overlay (layers as /proc/self/fd paths), not from a 5 MB memfd copy, and
# at its entry point (src/exe_seal/entry.rs), not in the fallback after parsing.
grep -q "read-only copy of the binary: overlay (made at entry)" /tmp/$id.log \
  || { cat /tmp/$id.log; fail "not re-executed from the read-only overlay (kernel $(uname -r))"; }
echo "ok: re-executed from the read-only overlay of the binary at entry (kernel $(uname -r))"
d=$(cg_dir $id)
pid=$(state_of $id pid)
grep -qx "$pid" $d/cgroup.procs || fail "init $pid is not in $d/cgroup.procs"
echo "ok: init $pid is in $d"
shoji delete --force $id
[ ! -e "$d" ] || fail "$d still exists after delete"
echo "ok: $d is gone"
