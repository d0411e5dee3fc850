# The eBPF device filter: /dev/kmsg, added through linux.devices but allowed by no rule, cannot
# be opened in the container while the default devices work; a rule allowing it lets the same
# write through (it then shows in the guest's kernel log).
probe='for d in kmsg null zero full urandom; do
  if echo probe-$HOSTNAME 2> /tmp/err > /dev/$d; then echo "$d write ok"; else echo "$d write: $(cat /tmp/err)"; fi
done; head -c 4 /dev/zero | wc -c | sed "s/^/zero read /"; head -c 4 /dev/urandom | wc -c | sed "s/^/urandom read /"'
for variant in denied allowed; do
  id=dev-$variant-$MODE
  new_bundle $id
  cfg $id --arg p "$probe" --arg h "$id" '.hostname = $h
    | .linux.devices = [{path: "/dev/kmsg", type: "c", major: 1, minor: 11, fileMode: 438, uid: 0, gid: 0}]
    | .process.args = ["sh", "-c", $p]'
  [ $variant = allowed ] && cfg $id '.linux.resources.devices += [{allow: true, type: "c", major: 1, minor: 11, access: "w"}]'
  run_fg $id > "$ART/$variant"
  cat "$ART/$variant"
  expect_grep "$ART/$variant" '^null write ok$'
  expect_grep "$ART/$variant" '^full write: .*No space left on device'
  expect_grep "$ART/$variant" '^zero read 4$'
  expect_grep "$ART/$variant" '^urandom read 4$'
done
expect_grep "$ART/denied" '^kmsg write: .*Operation not permitted'
expect_grep "$ART/allowed" '^kmsg write ok$'
dmesg > "$ART/dmesg"
expect_grep "$ART/dmesg" "probe-dev-allowed-$MODE"
grep -q "probe-dev-denied-$MODE" "$ART/dmesg" && fail "the denied container's write reached the kernel log"
echo "ok: only the allowed container's write is in the kernel log"
