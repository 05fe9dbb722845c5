package api

import (
	"allimi/central/throttle"
)

// ClientAddr is who a limit counts a connection from (throttle.Client).
func ClientAddr(remote string) string { return throttle.Client(remote) }
