#!/usr/bin/env bash
# Builds dist/allimi-central_VERSION_amd64.deb and
# dist/allimi-kiosk_VERSION_amd64.deb from bin/ (make package runs
# make build first). FHS paths: binaries in /usr/bin, config in
# /etc/allimi/, data in /var/lib/allimi*/ (systemd's StateDirectory),
# logs to the journal.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-$PWD/bin}
OUT=${OUT:-$PWD/dist}
# xz for what is shipped; the install test asks for gzip, which is many
# times faster on the kiosk's 70 MB of binary and libraries.
DEB_COMPRESS=${DEB_COMPRESS:-xz}
GO=${GO:-go}
# A later commit gets a higher version, so that dpkg -i upgrades.
VERSION=${VERSION:-0.1.0+$(git log -1 --format=%cd --date=format:%Y%m%d%H%M%S 2>/dev/null || date +%Y%m%d%H%M%S).$(git rev-parse --short HEAD 2>/dev/null || echo local)}
ARCH=amd64
mkdir -p "$OUT"

stage() { # stage NAME: a fresh staging root
	local root
	root=$(mktemp -d)
	chmod 0755 "$root" # the package's "./" is the system's /
	mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/share/doc/$1"
	cp README.md "$root/usr/share/doc/$1/"
	echo "$root"
}

build() { # build NAME ROOT
	chmod 0755 "$2/DEBIAN"/post* "$2/DEBIAN"/pre* 2>/dev/null || true
	dpkg-deb --root-owner-group -Z"$DEB_COMPRESS" --build "$2" "$OUT/${1}_${VERSION}_${ARCH}.deb" >/dev/null
	rm -rf "$2"
	echo "package: $OUT/${1}_${VERSION}_${ARCH}.deb"
}

# ---- central ----
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Central needs no voice: a static, pure-Go build whatever bin/allimi is
# (bin/allimi may link the speech recogniser through cgo; its voice
# commands then say that they need it).
CGO_ENABLED=0 "$GO" build -o "$work/allimi" ./cmd/allimi
root=$(stage allimi-central)
install -m 0755 "$work/allimi" "$root/usr/bin/allimi"
install -m 0644 packaging/central/allimi-central.service "$root/lib/systemd/system/"
install -m 0644 packaging/central/allimi-central-worker@.service "$root/lib/systemd/system/"
install -D -m 0640 packaging/central/worker.env "$root/etc/allimi/worker.env"
install -D -m 0640 packaging/central/central.yaml "$root/etc/allimi/central.yaml"
cat >"$root/DEBIAN/control" <<EOT
Package: allimi-central
Version: $VERSION
Architecture: $ARCH
Maintainer: Allimi <allimi@localhost>
Depends: adduser
Section: net
Priority: optional
Description: Allimi central: public-service notifications for people who never install an app
 The MQTT broker, the registry of consents and the dispatcher that sends
 agency notices through KakaoTalk, Naver, Toss and SMS.
EOT
printf '%s\n' /etc/allimi/central.yaml /etc/allimi/worker.env >"$root/DEBIAN/conffiles"
cat >"$root/DEBIAN/postinst" <<'EOT'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
	if ! getent passwd allimi >/dev/null; then
		adduser --system --group --home /var/lib/allimi --no-create-home allimi
	fi
	chgrp allimi /etc/allimi/central.yaml
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload || true
		systemctl enable allimi-central.service || true
		# An upgrade restarts central on the new binary; data and config stay.
		systemctl restart allimi-central.service || true
	fi
fi
EOT
cat >"$root/DEBIAN/prerm" <<'EOT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
	systemctl stop allimi-central.service || true
	systemctl disable allimi-central.service || true
fi
EOT
build allimi-central "$root"

# ---- kiosk ----
root=$(stage allimi-kiosk)
install -m 0755 "$BIN/allimi-kiosk" "$root/usr/bin/allimi-kiosk"
# allimi-voice runs the voice models through sherpa-onnx for the kiosk,
# which finds it beside itself. make package has built it; a caller that
# has not (the tests' own binaries) gets it built here.
voice_bin=$BIN/allimi-voice
if [ ! -x "$voice_bin" ]; then
	CGO_ENABLED=1 "$GO" build -o "$work/allimi-voice" ./cmd/allimi-voice
	voice_bin=$work/allimi-voice
fi
install -m 0755 "$voice_bin" "$root/usr/bin/allimi-voice"
# A program linked to sherpa-onnx finds its libraries through an rpath
# into the Go module cache of the machine that built it. The package ships
# them in /usr/lib/allimi-kiosk and points the programs there.
needed() { patchelf --print-needed "$1"; }
extra_depends=""
sherpa=""
for prog in "$root/usr/bin/allimi-kiosk" "$root/usr/bin/allimi-voice"; do
	needed "$prog" | grep -q '^libsherpa-onnx' || continue
	if [ -z "$sherpa" ]; then
		sherpa=$("$GO" list -m -f '{{.Dir}}' github.com/k2-fsa/sherpa-onnx-go-linux)/lib/x86_64-unknown-linux-gnu
		mkdir -p "$root/usr/lib/allimi-kiosk"
	fi
	todo=$(needed "$prog")
	while [ -n "$todo" ]; do
		next=""
		for lib in $todo; do
			if [ -f "$sherpa/$lib" ] && [ ! -f "$root/usr/lib/allimi-kiosk/$lib" ]; then
				install -m 0644 "$sherpa/$lib" "$root/usr/lib/allimi-kiosk/$lib"
				# Each library finds its neighbours beside itself.
				patchelf --set-rpath '$ORIGIN' "$root/usr/lib/allimi-kiosk/$lib"
				next="$next $(needed "$sherpa/$lib")"
			fi
		done
		todo=$next
	done
	patchelf --set-rpath /usr/lib/allimi-kiosk "$prog"
	# ONNX Runtime is C++.
	extra_depends=", libstdc++6, libgcc-s1"
done
# The voice activity model (Silero VAD), when scripts/deps.sh installed
# it, where the voice package looks for it (voice.FindSilero).
if [ -f .cache/models/silero_vad.onnx ]; then
	install -D -m 0644 .cache/models/silero_vad.onnx "$root/usr/share/allimi/models/silero_vad.onnx"
fi
install -m 0644 packaging/kiosk/allimi-kiosk.service "$root/lib/systemd/system/"
mkdir -p "$root/etc/allimi"
cat >"$root/DEBIAN/control" <<EOT
Package: allimi-kiosk
Version: $VERSION
Architecture: $ARCH
Maintainer: Allimi <allimi@localhost>
Depends: adduser, cage, xwayland, libgl1, libx11-6, libxcursor1, libxrandr2, libxinerama1, libxi6, libxxf86vm1, espeak-ng$extra_depends
Section: x11
Priority: optional
Description: Allimi kiosk: the touch screen of a community centre
 Sign-up for public-service notices, Subsidy 24 eligibility and questions
 answered offline, full screen under the cage compositor, restarted if it
 dies. Enrol it with: allimi-kiosk --enrol CODE --central URL --config /etc/allimi/kiosk.json
EOT
cat >"$root/DEBIAN/postinst" <<'EOT'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
	if ! getent passwd allimi-kiosk >/dev/null; then
		adduser --system --group --home /var/lib/allimi-kiosk --no-create-home allimi-kiosk
	fi
	# The screen, the touch panel and the GPU. udev creates these groups on
	# a machine that boots; a system without them yet gets them here, so
	# that the kiosk user is in them when they are used.
	for g in video input render; do
		getent group "$g" >/dev/null || addgroup --system "$g"
		id -nG allimi-kiosk | grep -qw "$g" || adduser allimi-kiosk "$g" >/dev/null
	done
	# The kiosk writes its credentials into this file when it is enrolled
	# (on its first-run screen, or allimi-kiosk --enrol): the file is the
	# kiosk user's alone, in a directory that stays root's. An upgrade
	# keeps what is in it.
	if [ ! -e /etc/allimi/kiosk.json ]; then
		install -m 0600 -o allimi-kiosk -g allimi-kiosk /dev/null /etc/allimi/kiosk.json
		printf '{}\n' >/etc/allimi/kiosk.json
	fi
	chown allimi-kiosk:allimi-kiosk /etc/allimi/kiosk.json
	chmod 0600 /etc/allimi/kiosk.json
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload || true
		systemctl enable allimi-kiosk.service || true
		systemctl set-default graphical.target || true
		systemctl restart allimi-kiosk.service || true
	fi
fi
EOT
cat >"$root/DEBIAN/prerm" <<'EOT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
	systemctl stop allimi-kiosk.service || true
	systemctl disable allimi-kiosk.service || true
fi
EOT
cat >"$root/DEBIAN/postrm" <<'EOT'
#!/bin/sh
set -e
# Purging forgets the kiosk's credentials; removing keeps them.
if [ "$1" = purge ]; then
	rm -f /etc/allimi/kiosk.json
fi
EOT
build allimi-kiosk "$root"
