# The cgroup identity `state` reports: cgroupPath is the container's cgroup below the cgroup2
# mount, and cgroupId is what bpf_get_current_cgroup_id() returns inside the container, as
# recorded by a BPF program (shoji-cgroup-id-probe, attached to the container's cgroup) while
# a process of the container opens a device; it is also the cgroup directory's inode.
id=cgid-$MODE
new_bundle $id
cfg $id '.process.args = ["sleep", "1000"]'
run_detached $id
d=$(cg_dir $id)
state=$(shoji state $id)
echo "$state" > "$ART/state.json"
want_path=${d#$CG}
expect_eq "$(jq -r .cgroupPath <<< "$state")" "$want_path" "cgroupPath"
sid=$(jq -r .cgroupId <<< "$state")
expect_eq "$sid" "$(stat -c %i "$d")" "cgroupId against the inode of $d"
seen=$("$PROBE" "$d" "$SHOJI" exec $id cat /dev/null) || fail "the probe failed"
expect_eq "$seen" "$sid" "bpf_get_current_cgroup_id() in the container"
