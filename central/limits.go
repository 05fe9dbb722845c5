package central

import (
	"errors"

	mqtt "github.com/mochi-mqtt/server/v2"

	"allimi/central/throttle"
)

// locked reports whether a kiosk's connection is refused before its
// password is even checked: too many wrong ones for this kiosk id or from
// this address, the right one included.
func (h *authHook) locked(cl *mqtt.Client, user string) bool {
	err := h.store.limits.MQTT.Allow(throttle.Client(cl.Net.Remote), user)
	if err != nil {
		h.Log.Warn("kiosk refused: too many wrong passwords", "username", user, "remote", cl.Net.Remote, "err", err)
	}
	return err != nil
}

// failed counts a refused kiosk connection.
func (h *authHook) failed(cl *mqtt.Client, user string) {
	if _, err := h.store.limits.MQTT.Count(throttle.Client(cl.Net.Remote), user); err != nil && !errors.Is(err, throttle.ErrBusy) {
		h.Log.Error("counting a wrong kiosk password", "err", err)
	}
}
