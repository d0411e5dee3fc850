# Every v2 resource a config.json sets is in the container's cgroup files, where a user reads
# it: from the host side under /sys/fs/cgroup, from inside through the cgroup namespace, and
# (systemd driver) as the unit's properties.
id=res-$MODE
new_bundle $id
dev=$(vda_dev)
cfg $id --argjson maj "${dev%:*}" --argjson min "${dev#*:}" '.linux.resources += {
  memory: {limit: 268435456, reservation: 134217728, swap: 536870912},
  cpu: {shares: 2048, quota: 50000, period: 100000, burst: 10000, cpus: "1", mems: "0"},
  blockIO: {weight: 300,
    throttleReadBpsDevice: [{major: $maj, minor: $min, rate: 1048576}],
    throttleWriteIOPSDevice: [{major: $maj, minor: $min, rate: 100}]},
  pids: {limit: 42},
  hugepageLimits: [{pageSize: "2MB", limit: 4194304}],
  unified: {"memory.high": "209715200", "memory.min": "1048576"}
}'
run_detached $id
d=$(cg_dir $id)
expect_grep "$d/cgroup.procs" "^$(state_of $id pid)\$"
expect_file "$d/memory.max" 268435456
expect_file "$d/memory.low" 134217728
expect_file "$d/memory.swap.max" 268435456
expect_file "$d/memory.high" 209715200
expect_file "$d/memory.min" 1048576
expect_file "$d/cpu.weight" 174
expect_file "$d/cpu.max" "50000 100000"
expect_file "$d/cpu.max.burst" 10000
expect_file "$d/cpuset.cpus" 1
expect_file "$d/cpuset.mems" 0
expect_file "$d/io.weight" "default 2930"
expect_file "$d/io.max" "$dev rbps=1048576 wbps=max riops=max wiops=100"
expect_file "$d/pids.max" 42
expect_file "$d/hugetlb.2MB.max" 4194304
expect_file "$d/hugetlb.2MB.rsvd.max" 4194304
# Inside, the cgroup namespace is rooted at the container's cgroup.
expect_eq "$(shoji exec $id cat /proc/self/cgroup)" "0::/" "/proc/self/cgroup inside"
expect_eq "$(shoji exec $id cat /sys/fs/cgroup/memory.max)" 268435456 "memory.max inside"
if [ "$MODE" = systemd ]; then
  systemctl show "shoji-$id.scope" > "$ART/unit"
  for p in Delegate=yes MemoryMax=268435456 MemoryLow=134217728 MemoryHigh=209715200 \
    MemorySwapMax=268435456 CPUWeight=174 CPUQuotaPerSecUSec=500ms AllowedCPUs=1 \
    AllowedMemoryNodes=0 TasksMax=42 IOWeight=2930; do
    expect_grep "$ART/unit" "^$p\$"
  done
  expect_grep "$ART/unit" "^IOReadBandwidthMax=.* 1048576\$"
  expect_grep "$ART/unit" "^IOWriteIOPSMax=.* 100\$"
fi
# cpu.idle on its own container (an idle group ignores its weight).
new_bundle $id-idle
cfg $id-idle '.linux.resources += {cpu: {idle: 1}}'
run_detached $id-idle
expect_file "$(cg_dir $id-idle)/cpu.idle" 1
