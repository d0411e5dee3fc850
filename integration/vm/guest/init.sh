#!/bin/busybox sh
# initramfs /init of the shoji VM tier. Builds the guest root, an overlay of the host's / (9p,
# read-only) under a tmpfs, mounts the "share" 9p export (cases in, results out) at /share,
# then hands over to PID 1 of the chosen mode:
#   shoji.mode=direct  : /share/guest/direct.sh (no systemd, cgroup2 mounted by hand)
#   shoji.mode=systemd : systemd, whose vmtest.target runs the batch and powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev
die() { echo "vm-init: $*"; poweroff -f; }
for m in netfs 9pnet 9pnet_virtio 9p overlay virtio_blk; do
  insmod /lib/modules/$m.ko || die "insmod $m failed"
done
MODE=direct; MODS=; REPO=
for a in $(cat /proc/cmdline); do
  case $a in
    shoji.mode=*) MODE=${a#*=};; shoji.modules=*) MODS=${a#*=};; shoji.repo=*) REPO=${a#*=};;
  esac
done
O=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o $O,ro,cache=loose hostroot /lower || die "mounting the host root failed"
mount -t tmpfs -o mode=755 tmpfs /upper && mkdir /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot || die "overlay failed"
mkdir -p /newroot/share && mount -t 9p -o $O,cache=none share /newroot/share || die "mounting the share failed"
# The guest kernel's modules (unpacked and depmod'ed on the host) for modprobe in the guest.
mkdir -p /newroot/lib/modules && mount --bind /newroot$MODS /newroot/lib/modules
# A private /tmp before anything runs: systemd's tmpfiles must never see a shared one.
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
# A checkout under the host's /tmp (which that tmpfs hides) stays visible: the binaries under
# test are built in it.
case $REPO in /tmp/*) mkdir -p /newroot$REPO && mount --bind /lower$REPO /newroot$REPO;; esac
# The host's fstab describes the host's disks, not the guest's.
: > /newroot/etc/fstab
if [ "$MODE" = systemd ]; then
  mkdir -p /newroot/etc/systemd/system
  cp /newroot/share/guest/vmtest.service /newroot/share/guest/vmtest.target /newroot/etc/systemd/system/
  exec switch_root /newroot /lib/systemd/systemd systemd.unit=vmtest.target
fi
exec switch_root /newroot /bin/bash /share/guest/direct.sh
