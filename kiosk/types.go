package kiosk

import (
	"encoding/json"
	"fmt"

	"allimi"
)

// InstallTypes makes known the notification types of central's types'
// catalog (allimi.TypesCatalog): a type an administrator added is offered
// at sign-up, by the names the catalog gives, from the next screen on.
// A catalog that does not decode changes nothing.
func InstallTypes(body []byte) (int, error) {
	var list allimi.TypeList
	if err := json.Unmarshal(body, &list); err != nil {
		return 0, fmt.Errorf("types' catalog: %w", err)
	}
	for _, ti := range list.Types {
		if err := allimi.PutType(ti); err != nil {
			return 0, fmt.Errorf("types' catalog: %w", err)
		}
	}
	return len(list.Types), nil
}
