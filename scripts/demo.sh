#!/usr/bin/env bash
# Runs the demo (make demo): central on 127.0.0.1:8080 with its embedded MQTT
# broker on 127.0.0.1:1883, and one kiosk window connected to it. Closing the
# kiosk window (or Ctrl-C) stops central.
#
# Environment: BIN (default ./bin), DEMO_DIR (default .demo),
# DEMO_HEALTHZ (default http://127.0.0.1:8080/healthz), DISPLAY.
set -euo pipefail

cd "$(dirname "$0")/.."

BIN=${BIN:-$PWD/bin}
DEMO_DIR=${DEMO_DIR:-.demo}
DEMO_HEALTHZ=${DEMO_HEALTHZ:-http://127.0.0.1:8080/healthz}
KIOSK_ID=${KIOSK_ID:-demo-kiosk}
KIOSK_JSON=$DEMO_DIR/kiosk.json

log() { printf 'demo: %s\n' "$*"; }

for b in allimi allimi-kiosk; do
	if [ ! -x "$BIN/$b" ]; then
		log "$BIN/$b is missing; run 'make build' first" >&2
		exit 1
	fi
done

# healthy URL: true when URL answers 2xx.
healthy() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null
		return
	fi
	# No curl: a bare HTTP/1.0 GET over bash's /dev/tcp.
	local hostport=${1#http://}
	local path=/${hostport#*/}
	hostport=${hostport%%/*}
	local host=${hostport%:*} port=${hostport##*:}
	local status
	status=$(
		exec 3<>"/dev/tcp/$host/$port" || exit 1
		printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$hostport" >&3
		head -n1 <&3
	) 2>/dev/null || return 1
	[[ $status =~ ^HTTP/[0-9.]+\ 2 ]]
}

mkdir -p "$DEMO_DIR"
# Absolute, so that every path central derives from it (such as its broker's
# unix:// socket URL) works whatever the working directory.
DEMO_DIR=$(cd "$DEMO_DIR" && pwd)
KIOSK_JSON=$DEMO_DIR/kiosk.json

# Register the demo kiosk once. This needs central stopped (it writes to
# central's database), so it comes before central starts.
if [ -s "$KIOSK_JSON" ]; then
	log "using the kiosk registered earlier: $KIOSK_JSON"
else
	log "registering kiosk $KIOSK_ID in $DEMO_DIR"
	if ! "$BIN/allimi" central kiosk add --data "$DEMO_DIR" --id "$KIOSK_ID" --json >"$KIOSK_JSON.tmp"; then
		rm -f "$KIOSK_JSON.tmp"
		log "could not register the kiosk" >&2
		exit 1
	fi
	mv "$KIOSK_JSON.tmp" "$KIOSK_JSON"
	chmod 600 "$KIOSK_JSON"
	log "kiosk config written to $KIOSK_JSON"
fi
# A demo official for staff mode (PIN 1234), once.
if ! grep -q '"staff"' "$KIOSK_JSON"; then
	pin_hash=$(printf '1234\n' | "$BIN/allimi-kiosk" --hash-pin)
	# The config is one JSON object: add the staff list before its last brace.
	sed -i '$ s/}[[:space:]]*$/,"staff":[{"id":"official-01","name":"김주무관","pinHash":"'"${pin_hash//\//\\/}"'"}]}/' "$KIOSK_JSON"
	log "demo official official-01 (김주무관), staff PIN 1234"
fi

# A second, headless kiosk that signs the demo's person up (kiosk-sim
# --people), once: central must be stopped to register it.
SIM_JSON=$DEMO_DIR/sim-kiosk.json
if [ ! -s "$SIM_JSON" ]; then
	"$BIN/allimi" central kiosk add --data "$DEMO_DIR" --id demo-sim --json >"$SIM_JSON.tmp"
	mv "$SIM_JSON.tmp" "$SIM_JSON"
	chmod 600 "$SIM_JSON"
fi

# The demo's agency and population, once: an agency allowed to post
# notices, and 200 synthetic people subscribed to every notice on KakaoTalk
# (and 50 of them on SMS too), so a campaign has somewhere to go.
AGENCY_JSON=$DEMO_DIR/agency.json
all_types=traffic-penalty,traffic-fine,health-checkup,licence-renewal,school-bus-training,senior-driver-training,welfare-card,vaccination,scholarship,relief
if [ ! -s "$AGENCY_JSON" ]; then
	"$BIN/allimi" central agency add --data "$DEMO_DIR" --id demo-agency --types "$all_types" --json >"$AGENCY_JSON.tmp"
	mv "$AGENCY_JSON.tmp" "$AGENCY_JSON"
	chmod 600 "$AGENCY_JSON"
	"$BIN/allimi" central seed --data "$DEMO_DIR" --subscribers 50 --types "$all_types" --channels kakao,sms
	"$BIN/allimi" central seed --data "$DEMO_DIR" --subscribers 200 --types "$all_types" --channels kakao
	log "registered agency demo-agency ($AGENCY_JSON) and 200 synthetic subscribers"
fi
# Every start: a demo directory from before agencies had policies keeps working.
"$BIN/allimi" central agency allow --data "$DEMO_DIR" --id demo-agency --types "$all_types"
AGENCY_TOKEN=$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$AGENCY_JSON")

# A demo official for central's questions page (answers to the questions
# seniors leave at the kiosk), once.
OFFICIAL_JSON=$DEMO_DIR/official.json
if [ ! -s "$OFFICIAL_JSON" ]; then
	"$BIN/allimi" central official add --data "$DEMO_DIR" --id demo.official --json >"$OFFICIAL_JSON.tmp"
	mv "$OFFICIAL_JSON.tmp" "$OFFICIAL_JSON"
	chmod 600 "$OFFICIAL_JSON"
	log "registered official demo.official ($OFFICIAL_JSON)"
fi
OFFICIAL_TOKEN=$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$OFFICIAL_JSON")
RECEIPT_TOKEN=$(sed -n 's/.*"receiptToken": *"\([^"]*\)".*/\1/p' "$DEMO_DIR/keys.json")

FAKES_ADDR=${FAKES_ADDR:-127.0.0.1:9090}
fakes_log=$DEMO_DIR/fake-providers.log
log "starting fake KakaoTalk/Naver/Toss/SMS providers on $FAKES_ADDR (log: $fakes_log)"
"$BIN/allimi" fake-providers --http "$FAKES_ADDR" --latency 30ms --programs scripts/demo-programs \
	--receipts "http://127.0.0.1:8080/api/v1/receipts?token=$RECEIPT_TOKEN" >"$fakes_log" 2>&1 &
fakes_pid=$!

if healthy "$DEMO_HEALTHZ"; then
	log "something already answers $DEMO_HEALTHZ (another central?); stop it first" >&2
	exit 1
fi

central_log=$DEMO_DIR/central.log
log "starting central (log: $central_log)"
"$BIN/allimi" central serve --data "$DEMO_DIR" --provider-url "http://$FAKES_ADDR" --programs scripts/demo-programs >"$central_log" 2>&1 &
central_pid=$!

stop_central() {
	if kill -0 "$central_pid" 2>/dev/null; then
		log "stopping central (pid $central_pid)"
		kill -TERM "$central_pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$central_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$central_pid" 2>/dev/null; then
			log "central did not stop in 5 s; killing it"
			kill -KILL "$central_pid" 2>/dev/null || true
		fi
		wait "$central_pid" 2>/dev/null || true
	fi
}
stop_all() {
	if [ -n "${series_pid:-}" ]; then
		kill -TERM "$series_pid" 2>/dev/null || true
	fi
	stop_central
	kill -TERM "$fakes_pid" 2>/dev/null || true
	wait "$fakes_pid" 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

deadline=$((SECONDS + 30))
until healthy "$DEMO_HEALTHZ"; do
	if ! kill -0 "$central_pid" 2>/dev/null; then
		log "central exited before it was healthy; last lines of $central_log:" >&2
		tail -n 20 "$central_log" >&2 || true
		exit 1
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		log "central not healthy after 30 s at $DEMO_HEALTHZ; last lines of $central_log:" >&2
		tail -n 20 "$central_log" >&2 || true
		if command -v curl >/dev/null 2>&1; then
			log "$DEMO_HEALTHZ says: $(curl -s --max-time 2 "$DEMO_HEALTHZ" | tr -s ' \n' ' ')" >&2
		fi
		exit 1
	fi
	sleep 0.2
done
log "central is up: $DEMO_HEALTHZ"

# A vaccination series for 김영희, with her doses minutes away: she signs
# up at the headless kiosk (vaccination notices on KakaoTalk and SMS), the
# agency enrols her, and posts each dose as given when its time comes. The
# seven messages arrive in the phones' inboxes over about eight minutes.
series_log=$DEMO_DIR/vaccination-series.log
(
	set -e
	people=$DEMO_DIR/demo-people.ndjson
	printf '%s\n' '{"name":"김영희","mobile":"010-1234-5678","birthDate":"1948-05-17","types":["vaccination","health-checkup"],"channels":["kakao","sms"],"lang":"ko"}' >"$people"
	sim_user=$(sed -n 's/.*"username":"\([^"]*\)".*/\1/p' "$SIM_JSON")
	sim_pass=$(sed -n 's/.*"password":"\([^"]*\)".*/\1/p' "$SIM_JSON")
	"$BIN/allimi" kiosk-sim --id demo-sim --broker tcp://127.0.0.1:1883 --username "$sim_user" --password "$sim_pass" \
		--data "$DEMO_DIR/sim-data" --people "$people" --wait --timeout 60s
	export ALLIMI_AGENCY_TOKEN=$AGENCY_TOKEN
	dose1=$(date -d '+4 minutes' --iso-8601=seconds)
	dose2=$(date -d '+8 minutes' --iso-8601=seconds)
	enrolment=$("$BIN/allimi" program enrol --program vaccination-demo --mobile 010-1234-5678 --birth-date 1948-05-17 \
		--anchor "dose1=$dose1" --anchor "dose2=$dose2" --param "place=종로구 보건소")
	echo "$enrolment"
	id=$(printf '%s' "$enrolment" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
	sleep 240
	"$BIN/allimi" program event "$id" --event dose1.administered --param "vaccine=화이자"
	sleep 240
	"$BIN/allimi" program event "$id" --event dose2.administered --param "vaccine=화이자"
) >"$series_log" 2>&1 &
series_pid=$!
cat <<EOT
demo: ──────────────────────────────────────────────────────────────────────
demo:  phones' inboxes (fake providers):  http://$FAKES_ADDR/_fake/inbox
demo:    김영희 (010-1234-5678) gets a vaccination series over the next 8 minutes
demo:    (program vaccination-demo; log: $series_log)
demo:  delivery table:                    http://127.0.0.1:8080/stats
demo:  questions left at the kiosk:       http://127.0.0.1:8080/officials/login
demo:    (sign in as demo.official with the token $OFFICIAL_TOKEN)
demo:  send a campaign as the agency:
demo:    curl -H 'Authorization: Bearer $AGENCY_TOKEN' \\
demo:      -d '{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}' \\
demo:      http://127.0.0.1:8080/api/v1/notifications
demo: ──────────────────────────────────────────────────────────────────────
EOT

kiosk=("$BIN/allimi-kiosk" --config "$KIOSK_JSON" --data "$DEMO_DIR/kiosk-data")
if [ -z "${DISPLAY:-}" ]; then
	log "note: no DISPLAY, so the kiosk runs under Xvfb (a virtual screen nobody sees);"
	log "      run 'make demo' from a desktop session to see the window. Ctrl-C stops the demo."
	xvfb-run -a -s "-screen 0 1280x1024x24" "${kiosk[@]}" || log "kiosk exited with status $?"
else
	log "starting the kiosk on $DISPLAY; close its window to stop the demo"
	"${kiosk[@]}" || log "kiosk exited with status $?"
fi
