# Settings cgroup v2 cannot honour are refused before anything is made: a clear one-line error
# naming the setting, exit 1, and no cgroup, unit or state left behind.
refused() { # ID WANT-IN-ERROR
  local id=$1 want=$2 d rc=0
  CONTAINERS+=("$id")
  shoji run --bundle "/tmp/bundles/$id" "$id" < /dev/null > "$ART/$id.out" 2> "$ART/$id.err" || rc=$?
  expect_eq "$rc" 1 "exit code of run ($id)"
  grep -q -- "$want" "$ART/$id.err" || fail "error for $id does not name '$want': $(cat $ART/$id.err)"
  echo "ok: $id refused: $(cat $ART/$id.err)"
  d=$(cg_dir "$id")
  [ ! -e "$d" ] || fail "$d was left behind by the refused $id"
  if shoji state "$id" > /dev/null 2>&1; then fail "state of the refused $id was left behind"; fi
  if [ "$MODE" = systemd ]; then
    expect_eq "$(systemctl show -p LoadState --value shoji-$id.scope)" not-found "LoadState of shoji-$id.scope"
  fi
}
new_bundle bad-oomkill-$MODE
cfg bad-oomkill-$MODE '.linux.resources.memory = {limit: 33554432, disableOOMKiller: true}'
refused bad-oomkill-$MODE disableOOMKiller
new_bundle bad-unified-$MODE
cfg bad-unified-$MODE '.linux.resources.unified = {"nosuch.max": "1"}'
refused bad-unified-$MODE nosuch.max
