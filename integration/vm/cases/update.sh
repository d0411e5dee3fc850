# update changes a running container's v2 files (and, systemd driver, the unit's properties);
# a second update keeps what the first set.
id=upd-$MODE
new_bundle $id
cfg $id '.linux.resources += {memory: {limit: 268435456}, pids: {limit: 100}}'
run_detached $id
d=$(cg_dir $id)
expect_file "$d/memory.max" 268435456
shoji update --memory 67108864 --cpu-quota 20000 --cpu-period 100000 --cpu-shares 512 \
  --pids-limit 10 --cpuset-cpus 0 $id
expect_file "$d/memory.max" 67108864
expect_file "$d/cpu.max" "20000 100000"
expect_file "$d/cpu.weight" 59
expect_file "$d/pids.max" 10
expect_file "$d/cpuset.cpus" 0
shoji update --pids-limit 20 $id
expect_file "$d/pids.max" 20
expect_file "$d/memory.max" 67108864
expect_file "$d/cpu.max" "20000 100000"
# A period alone keeps the quota (cpu.max takes both; systemd's quota is per second).
shoji update --cpu-period 50000 $id
expect_file "$d/cpu.max" "20000 50000"
if [ "$MODE" = systemd ]; then
  systemctl show "shoji-$id.scope" > "$ART/unit"
  for p in MemoryMax=67108864 TasksMax=20 CPUWeight=59 AllowedCPUs=0 CPUQuotaPerSecUSec=400ms \
    CPUQuotaPeriodUSec=50ms; do
    expect_grep "$ART/unit" "^$p\$"
  done
fi
# A value the kernel refuses is an error naming the file, and nothing changes.
rc=0
shoji update --cpuset-cpus 99 $id 2> "$ART/err" || rc=$?
expect_eq "$rc" 1 "exit code of an update to cpuset.cpus 99"
expect_grep "$ART/err" 'cpuset.cpus'
expect_file "$d/cpuset.cpus" 0
