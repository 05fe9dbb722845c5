package memstore

import (
	"testing"

	"allimi"
	"allimi/central/storetest"
)

// The conformance suites of the dispatcher's storage, run against the
// in-memory store. It keeps nothing across a restart: their durability
// checks are skipped.
func TestConformance_DeliveryQueue(t *testing.T) { storetest.DeliveryQueue(t, openConformance) }
func TestConformance_QueueIntents(t *testing.T)  { storetest.QueueIntents(t, openConformance) }

// conformanceStore is a Store whose subscribers the suites seed.
type conformanceStore struct{ *Store }

func openConformance(*testing.T) storetest.DeliveryBackend { return conformanceStore{New(nil)} }

// Seed subscribes people to typ on chs.
func (c conformanceStore) Seed(_ *testing.T, people []allimi.Citizen, typ allimi.NotificationType, chs ...allimi.Channel) {
	var mask byte
	for _, ch := range chs {
		mask |= allimi.ChannelBit(ch)
	}
	for _, p := range people {
		c.Subscribe(p, typ, mask)
	}
}
