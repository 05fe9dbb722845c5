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
	dpkg-deb --root-owner-group -Zxz --build "$2" "$OUT/${1}_${VERSION}_${ARCH}.deb" >/dev/null
	rm -rf "$2"
	echo "package: $OUT/${1}_${VERSION}_${ARCH}.deb"
}

# ---- central ----
root=$(stage allimi-central)
install -m 0755 "$BIN/allimi" "$root/usr/bin/allimi"
install -m 0644 packaging/central/allimi-central.service "$root/lib/systemd/system/"
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
echo /etc/allimi/central.yaml >"$root/DEBIAN/conffiles"
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
install -m 0644 packaging/kiosk/allimi-kiosk.service "$root/lib/systemd/system/"
mkdir -p "$root/etc/allimi"
cat >"$root/DEBIAN/control" <<EOT
Package: allimi-kiosk
Version: $VERSION
Architecture: $ARCH
Maintainer: Allimi <allimi@localhost>
Depends: adduser, cage, libgl1, libx11-6, libxcursor1, libxrandr2, libxinerama1, libxi6, libxxf86vm1, espeak-ng
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
		adduser allimi-kiosk video || true
		adduser allimi-kiosk input || true
		adduser allimi-kiosk render 2>/dev/null || true
	fi
	# The credentials file, once enrolled, is the kiosk user's alone.
	if [ -f /etc/allimi/kiosk.json ]; then
		chown allimi-kiosk:allimi-kiosk /etc/allimi/kiosk.json
		chmod 0600 /etc/allimi/kiosk.json
	fi
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
build allimi-kiosk "$root"
