# io.max from blockIO.throttleReadBpsDevice throttles the container's reads of a virtio disk:
# 3 MiB of direct reads at 1 MiB/s cannot finish in under 2 s (unthrottled it takes a blink).
id=io-$MODE
new_bundle $id
dev=$(vda_dev)
cfg $id --argjson maj "${dev%:*}" --argjson min "${dev#*:}" '
  .linux.devices = [{path: "/dev/vda", type: "b", major: $maj, minor: $min, fileMode: 432, uid: 0, gid: 0}]
  | .linux.resources.devices += [{allow: true, type: "b", major: $maj, minor: $min, access: "r"}]
  | .linux.resources.blockIO = {throttleReadBpsDevice: [{major: $maj, minor: $min, rate: 1048576}]}
  | .process.args = ["sh", "-c", "read a x < /proc/uptime; dd if=/dev/vda of=/dev/null bs=1M count=3 iflag=direct 2>&1 | tail -1; read b x < /proc/uptime; echo elapsed $a $b"]'
out=$(run_fg $id)
echo "$out"
line=$(echo "$out" | grep '^elapsed ') || fail "the container printed no timing: $out"
secs=$(echo "$line" | awk '{ printf "%.2f", $3 - $2 }')
echo "3 MiB read in $secs s: $(awk -v s="$secs" 'BEGIN { printf "%.2f", 3 / s }') MiB/s against a 1 MiB/s limit"
awk -v s="$secs" 'BEGIN { exit !(s >= 2.0) }' || fail "3 MiB were read in $secs s: io.max did not throttle"
