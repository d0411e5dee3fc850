#!/bin/bash
# PID 1 of the guest in "direct" mode: no systemd. Mounts the API filesystems and cgroup2 by
# hand with every controller enabled for children of the root, runs the batch, powers off.
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue; mount -t tmpfs tmpfs /run
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control
done
hostname vmtest
busybox ip link set lo up
/share/guest/run-batch.sh > /share/batch.log 2>&1
sync
exec /bin/busybox poweroff -f
