#!/bin/sh
# fresh.sh DIR - the README's first commands on a fresh machine: a minimal
# Debian 12 (debootstrap's minbase with git, make and gcc added, nothing
# else) is built under DIR/root, a clone of this tree's current commit is
# put in it, and the `make ...` lines of the README's first code block
# (the build and test commands a new user types) are run there in a chroot
# with /proc, /sys, a /dev of its own and a private /dev/pts. A program that a test
# calls and that `make test` does not install fails here.
#
# Needs root. Everything lives under DIR: the root file system (removed at
# the end) and debootstrap's package cache DIR/debs (kept, so a second run
# downloads nothing). The chroot runs in a mount namespace of its own, so
# its mounts can never outlive this script nor reach the host; the trap
# unmounts them all the same. The chroot shares the host's network: tests
# listen on loopback there as they do here.
set -eu
[ $# -eq 1 ] || { echo "usage: fresh.sh DIR" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "fresh.sh: needs root (debootstrap, chroot)" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
W=$(cd "$1" && pwd)
R=$W/root

if [ -z "${FRESH_INNER:-}" ]; then
	sh "$ROOT/tests/deps.sh" debootstrap
	FRESH_INNER=1 exec unshare --mount --propagation private sh "$0" "$W"
fi

unmount_all() {
	for m in dev/pts dev sys proc; do
		mountpoint -q "$R/$m" 2>/dev/null && umount -l "$R/$m"
	done
	return 0
}
cleanup() {
	rc=$?
	unmount_all
	# --one-file-system: never into a mount that is somehow still there
	rm -rf --one-file-system "$R"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# the mirror the host's apt uses (a deb822 file or a sources.list line)
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources \
	2>/dev/null | grep -v security | head -n 1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' \
	/etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

# the commands: the README's first code block, its `make` lines
cmds=$(awk '/^```/ { if (inb) exit; inb = 1; next }
	inb && /^make / { sub(/ *#.*/, ""); print }' "$ROOT/README.md")
n=$(printf '%s\n' "$cmds" | grep -c '^make ' || true)
[ "$n" -ge 2 ] || { echo "fresh: the README's first code block has $n make lines, expected the build and test commands" >&2; exit 1; }

commit=$(git -C "$ROOT" rev-parse HEAD)
t0=$(date +%s)
unmount_all
rm -rf --one-file-system "$R"
mkdir -p "$W/debs"
echo "fresh: debootstrap bookworm (minbase + git, make, gcc) from $mirror"
debootstrap --variant=minbase --include=git,make,gcc,ca-certificates \
	--cache-dir="$W/debs" bookworm "$R" "$mirror" >"$W/debootstrap.log" 2>&1 ||
	{ tail -n 20 "$W/debootstrap.log" >&2; echo "fresh: debootstrap failed" >&2; exit 1; }
t1=$(date +%s)
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
git clone -q "$ROOT" "$R/root/caigen"
git -C "$R/root/caigen" checkout -q --detach "$commit"
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
# a /dev of its own (tmpfs, the few nodes a build and its tests use), not
# the host's bound in: nothing run in the chroot can remove or replace a
# node of the host's /dev
mount -t tmpfs -o mode=755,nosuid tmpfs "$R/dev"
for n in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0"; do
	set -- $n
	mknod -m 666 "$R/dev/$1" c "$2" "$3"
done
mkdir "$R/dev/pts" "$R/dev/shm"
chmod 1777 "$R/dev/shm"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts"
echo "fresh: commit $commit; running:"
printf '%s\n' "$cmds" | sed 's/^/  /'
set +e
chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LANG=C.UTF-8 TERM=dumb \
	sh -ec "cd /root/caigen
$cmds"
rc=$?
set -e
t2=$(date +%s)
echo "fresh: debootstrap $((t1 - t0)) s, the README's commands $((t2 - t1)) s, exit $rc"
exit $rc
