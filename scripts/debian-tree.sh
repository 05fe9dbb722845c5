#!/usr/bin/env bash
# Prints the path of a Debian 12 (bookworm) minbase tree in which the given
# .deb files install offline with dpkg -i: debootstrap's minbase plus every
# package the .debs depend on. The tree is built once and cached outside the
# repository (ALLIMI_TREE_CACHE, default /var/cache/allimi-test), keyed by the
# sorted list of those dependencies, so a clean clone of the repository on the
# same machine reuses it and a changed Depends: line builds a new one.
#
#   scripts/debian-tree.sh dist/allimi-central_*.deb dist/allimi-kiosk_*.deb [PACKAGE...]
#
# Never write to the printed tree: tests mount an overlay on it (see
# tests/install_test.go). Needs root, debootstrap and Debian's mirror.
set -euo pipefail

CACHE=${ALLIMI_TREE_CACHE:-/var/cache/allimi-test}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm

log() { printf 'debian-tree: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	log "needs root (debootstrap and chroot)"
	exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
	log "debootstrap is missing: run scripts/deps.sh (or apt-get install debootstrap)"
	exit 1
fi

# Arguments that are not .deb files are packages the tree needs besides
# (systemd, for systemd-analyze verify --root on the installed units).
debs=()
extra=()
for a in "$@"; do
	case $a in
	*.deb) debs+=("$a") ;;
	*) extra+=("$a") ;;
	esac
done

# Every first alternative of every Depends: entry, without version
# constraints, and the packages' own names removed (they are what is tested).
own=()
deps=("${extra[@]}")
for deb in "${debs[@]}"; do
	own+=("$(dpkg-deb --field "$deb" Package)")
	while IFS= read -r d; do
		[ -n "$d" ] && deps+=("$d")
	done < <(dpkg-deb --field "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g')
done
mapfile -t deps < <(printf '%s\n' "${deps[@]}" | grep -vxF -f <(printf '%s\n' "${own[@]}" "") | sort -u)

key=$(printf '%s\n' "$SUITE" "${deps[@]}" | sha256sum | cut -c1-12)
tree=$CACHE/$SUITE-$key

mkdir -p "$CACHE"
# One builder at a time; a second caller waits and then finds the tree.
exec 9>"$CACHE/.lock"
flock 9

if [ -f "$tree/.allimi-complete" ]; then
	echo "$tree"
	exit 0
fi

start=$(date +%s)
build=$CACHE/.build-$key
rm -rf "$build"
log "building $tree (once; later runs reuse it): minbase + ${deps[*]}"
debootstrap --variant=minbase "$SUITE" "$build" "$MIRROR" >"$CACHE/.build-$key.log" 2>&1 || {
	log "debootstrap failed; its log: $CACHE/.build-$key.log"
	tail -20 "$CACHE/.build-$key.log" >&2
	exit 1
}

if [ "${#deps[@]}" -gt 0 ]; then
	cp /etc/resolv.conf "$build/etc/resolv.conf"
	# Package scripts must not start services (there is no init in a chroot).
	printf '#!/bin/sh\nexit 101\n' >"$build/usr/sbin/policy-rc.d"
	chmod 0755 "$build/usr/sbin/policy-rc.d"
	mount -t proc proc "$build/proc"
	trap 'umount "$build/proc" 2>/dev/null || true' EXIT
	if ! chroot "$build" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${deps[@]}" >>"$CACHE/.build-$key.log" 2>&1; then
		log "apt-get install in the tree failed; its log: $CACHE/.build-$key.log"
		tail -20 "$CACHE/.build-$key.log" >&2
		exit 1
	fi
	umount "$build/proc"
	trap - EXIT
	chroot "$build" apt-get clean
fi
rm -rf "$build/var/lib/apt/lists/"*
touch "$build/.allimi-complete"
rm -rf "$tree"
mv "$build" "$tree"
mv "$CACHE/.build-$key.log" "$tree.log"
log "built in $(($(date +%s) - start)) s: $(du -sh "$tree" | cut -f1)"
echo "$tree"
