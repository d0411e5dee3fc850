# systemd re-applies every unit's properties on `systemctl daemon-reload` (package upgrades run
# one): what shoji wrote to the files it shares with systemd must read back unchanged (limits,
# cpuset) and the device filter must still hold (exec -t gets a pty, /dev/ptmx opens, a denied
# device stays denied), after create and again after an update.
[ "$MODE" = systemd ] || fail "this case needs systemd as PID 1"
id=reload-$MODE
unit=shoji-$id.scope
new_bundle $id
cfg $id '.linux.devices = [{path: "/dev/kmsg", type: "c", major: 1, minor: 11, fileMode: 438, uid: 0, gid: 0}]
  | .linux.resources += {memory: {limit: 104857600}, pids: {limit: 50},
      cpu: {shares: 512, quota: 12345, period: 100000, cpus: "0", mems: "0"}}'
run_detached $id
d=$(cg_dir $id)

snapshot() {
  local f
  for f in memory.max memory.low memory.swap.max pids.max cpu.weight cpu.max cpuset.cpus cpuset.mems; do
    echo "$f = $(cat "$d/$f")"
  done
}

# reload NAME: daemon-reload, then the files must equal the snapshot $ART/NAME.
reload_keeps() {
  systemctl daemon-reload
  systemctl is-active "$unit" > /dev/null || fail "$unit is not active after daemon-reload"
  snapshot > "$ART/$1.reloaded"
  diff "$ART/$1" "$ART/$1.reloaded" || fail "daemon-reload changed the files above"
  echo "ok: $(wc -l < "$ART/$1") files unchanged by daemon-reload"
}

devices_work() {
  local probe='exec 3<>/dev/ptmx && echo ptmx-ok; head -c 4 /dev/zero | wc -c; echo x > /dev/null && echo null-ok; echo x > /dev/kmsg || echo kmsg-denied'
  shoji exec $id sh -c "$probe" > "$ART/probe-$1" 2>&1 ||
    fail "exec failed: $(tr '\n' ' ' < "$ART/probe-$1")"
  for want in ptmx-ok ' *4' null-ok kmsg-denied 'sh: .*Operation not permitted'; do
    expect_grep "$ART/probe-$1" "^$want"
  done
  script -qec "$SHOJI --systemd-cgroup exec -t $id tty" /dev/null < /dev/null > "$ART/tty-$1" 2>&1 ||
    fail "exec -t failed: $(tr '\r\n' '  ' < "$ART/tty-$1")"
  expect_grep "$ART/tty-$1" '/dev/pts/[0-9]+'
}

snapshot > "$ART/created"
expect_grep "$ART/created" '^cpu.max = 13000 100000$'
expect_grep "$ART/created" '^cpuset.cpus = 0$'
reload_keeps created
devices_work created

# A period alone keeps the quota: 13000 µs per 50 ms, 260 ms per second.
shoji update --memory 209715200 --pids-limit 40 --cpu-period 50000 --cpuset-cpus 1 $id
snapshot > "$ART/updated"
for want in 'memory.max = 209715200' 'pids.max = 40' 'cpu.max = 13000 50000' 'cpuset.cpus = 1'; do
  expect_grep "$ART/updated" "^$want\$"
done
systemctl show "$unit" > "$ART/unit"
for p in MemoryMax=209715200 TasksMax=40 CPUQuotaPerSecUSec=260ms CPUQuotaPeriodUSec=50ms \
  AllowedCPUs=1 AllowedMemoryNodes=0 DevicePolicy=strict; do
  expect_grep "$ART/unit" "^$p\$"
done
reload_keeps updated
devices_work updated
