package natsconf_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/central/natsconf"
	"allimi/internal/natstest"
	"allimi/sync/catalog"
	"allimi/sync/wire"
)

// The tests here run real nats-server processes from configurations
// Config writes, with paho clients configured as kiosks and central
// configure theirs.

func kioskFilters(id string) []string {
	return []string{wire.AckTopic(id), wire.ReplyTopic(id), catalog.Filter}
}

func centralMQTT(t *testing.T, brokers []string) *mqttClient {
	t.Helper()
	return mustMQTT(t, brokers, "allimi-central", natsconf.CentralUsername, centralPassword, wire.UpFilter, wire.RequestFilter)
}

func TestServer_KioskRecordReachesCentral(t *testing.T) {
	a := newKiosk(t, "kiosk-a")
	s := natstest.Start(t, natstest.Single(t, centralPassword, users(a)...))
	viaNATS := centralNATS(t, s.ClientURL())
	viaMQTT := centralMQTT(t, []string{s.MQTTURL()})

	k := kioskMQTT(t, []string{s.MQTTURL()}, a)
	k.publish(t, wire.UpTopic(a.ID), "record 1", false)
	k.publish(t, wire.RequestTopic(a.ID), "request 1", false)

	viaNATS.waitFor(t, "allimi.v1.kiosk.kiosk-a.up", "record 1")
	viaNATS.waitFor(t, "allimi.v1.kiosk.kiosk-a.req", "request 1")
	viaMQTT.in.waitFor(t, wire.UpTopic(a.ID), "record 1")
	viaMQTT.in.waitFor(t, wire.RequestTopic(a.ID), "request 1")

	// Central answers on the kiosk's ack (retained) and reply topics.
	viaMQTT.publish(t, wire.AckTopic(a.ID), "ack 1", true)
	viaMQTT.publish(t, wire.ReplyTopic(a.ID), "reply 1", false)
	k.in.waitFor(t, wire.AckTopic(a.ID), "ack 1")
	k.in.waitFor(t, wire.ReplyTopic(a.ID), "reply 1")
}

func TestServer_KioskRecordKeptForCentralWhileAway(t *testing.T) {
	a := newKiosk(t, "kiosk-a")
	s := natstest.Start(t, natstest.Single(t, centralPassword, users(a)...))
	c := centralMQTT(t, []string{s.MQTTURL()})
	c.Disconnect(100) // its session, with its QoS 1 subscriptions, stays

	k := kioskMQTT(t, []string{s.MQTTURL()}, a)
	k.publish(t, wire.UpTopic(a.ID), "while central was away", false)

	c = mustMQTT(t, []string{s.MQTTURL()}, "allimi-central", natsconf.CentralUsername, centralPassword)
	c.in.waitFor(t, wire.UpTopic(a.ID), "while central was away")
}

func TestServer_KioskPublishOnAnotherKiosksTopicNeverArrives(t *testing.T) {
	a, b := newKiosk(t, "kiosk-a"), newKiosk(t, "kiosk-b")
	s := natstest.Start(t, natstest.Single(t, centralPassword, users(a, b)...))
	viaNATS := centralNATS(t, s.ClientURL())
	viaMQTT := centralMQTT(t, []string{s.MQTTURL()})
	kb := kioskMQTT(t, []string{s.MQTTURL()}, b)

	ka := kioskMQTT(t, []string{s.MQTTURL()}, a)
	// NATS acknowledges a publish it refuses (PUBACK) and drops it: only
	// its log says so. Each must be missing once a later allowed one has
	// arrived.
	ka.publish(t, wire.UpTopic(b.ID), "forged record", false)
	ka.publish(t, wire.RequestTopic(b.ID), "forged request", false)
	ka.publish(t, wire.AckTopic(b.ID), "forged ack", true)
	ka.publish(t, wire.ReplyTopic(b.ID), "forged reply", false)
	ka.publish(t, catalog.Topic("subsidy"), "forged catalog", true)
	ka.publish(t, "allimi/v1/kiosk/kiosk-a/other", "elsewhere", false)
	ka.publish(t, wire.UpTopic(a.ID), "own record", false)

	viaNATS.waitFor(t, "allimi.v1.kiosk.kiosk-a.up", "own record")
	viaMQTT.in.waitFor(t, wire.UpTopic(a.ID), "own record")
	time.Sleep(quiet)
	for _, in := range []*inbox{viaNATS, viaMQTT.in, kb.in} {
		for _, m := range in.all() {
			assert.NotContains(t, []string{"forged record", "forged request", "forged ack", "forged reply", "forged catalog", "elsewhere"},
				m.payload, "on %s", m.topic)
		}
	}
	assert.Contains(t, s.Log(), "Publish Violation", "the server logs what it drops")

	// Nor may it read another kiosk's topics, or the records of any.
	codes := ka.subscribe(t, map[string]byte{
		wire.AckTopic(b.ID): 1, wire.ReplyTopic(b.ID): 1, wire.UpTopic(b.ID): 1, wire.UpFilter: 1, "allimi/#": 1, "#": 1,
	})
	for f, code := range codes {
		assert.Equal(t, byte(0x80), code, "SUBACK of %s", f)
	}
	viaMQTT.publish(t, wire.AckTopic(b.ID), "ack for b", true)
	kb.in.waitFor(t, wire.AckTopic(b.ID), "ack for b")
	time.Sleep(quiet)
	assert.False(t, ka.in.has(wire.AckTopic(b.ID), "ack for b"))
}

func TestServer_KioskReadsRetainedCatalogsAndItsAck(t *testing.T) {
	a, b := newKiosk(t, "kiosk-a"), newKiosk(t, "kiosk-b")
	s := natstest.Start(t, natstest.Single(t, centralPassword, users(a, b)...))
	c := centralMQTT(t, []string{s.MQTTURL()})
	c.publish(t, catalog.Topic("subsidy"), "manifest v7", true)
	c.publish(t, catalog.BodyTopic("subsidy"), "body v7", true)
	c.publish(t, catalog.Topic("kb"), "kb manifest", true)
	c.publish(t, wire.AckTopic(a.ID), "a up to 41", true)
	c.publish(t, wire.AckTopic(b.ID), "b up to 9", true)

	// A kiosk that connects afterwards gets the retained messages at once.
	k := kioskMQTT(t, []string{s.MQTTURL()}, a)
	for _, m := range []msg{
		k.in.waitFor(t, catalog.Topic("subsidy"), "manifest v7"),
		k.in.waitFor(t, catalog.BodyTopic("subsidy"), "body v7"),
		k.in.waitFor(t, catalog.Topic("kb"), "kb manifest"),
		k.in.waitFor(t, wire.AckTopic(a.ID), "a up to 41"),
	} {
		assert.True(t, m.retained, "%s arrives as a retained message", m.topic)
	}
	time.Sleep(quiet)
	assert.False(t, k.in.has(wire.AckTopic(b.ID), "b up to 9"), "another kiosk's ack")

	// A catalog body as large as the servers carry.
	big := make([]byte, natsconf.MaxCatalogBody)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	c.publish(t, catalog.BodyTopic("big"), string(big), true)
	got := k.in.waitFor(t, catalog.BodyTopic("big"), string(big))
	assert.Len(t, got.payload, natsconf.MaxCatalogBody)
}

func TestServer_KioskAddedIsLetInAfterReload(t *testing.T) {
	a, b := newKiosk(t, "kiosk-a"), newKiosk(t, "kiosk-b")
	cfg := natstest.Single(t, centralPassword, users(a)...)
	s := natstest.Start(t, cfg)
	viaNATS := centralNATS(t, s.ClientURL())
	c := centralMQTT(t, []string{s.MQTTURL()})
	c.publish(t, catalog.Topic("subsidy"), "manifest v1", true)
	ka := kioskMQTT(t, []string{s.MQTTURL()}, a)

	_, err := connectMQTT(t, []string{s.MQTTURL()}, "allimi-kiosk-b", b.Username, b.Password, kioskFilters(b.ID)...)
	require.Error(t, err, "kiosk-b is not in the file yet")

	pid := s.PID()
	cfg.Kiosks = users(a, b)
	s.Reload(t, cfg)
	assert.Equal(t, pid, s.PID(), "no restart")

	kb := kioskMQTT(t, []string{s.MQTTURL()}, b)
	kb.in.waitFor(t, catalog.Topic("subsidy"), "manifest v1")
	kb.publish(t, wire.UpTopic(b.ID), "b's first record", false)
	viaNATS.waitFor(t, "allimi.v1.kiosk.kiosk-b.up", "b's first record")
	c.in.waitFor(t, wire.UpTopic(b.ID), "b's first record")

	// The kiosks and central connected before the reload carry on.
	assert.True(t, ka.IsConnectionOpen())
	ka.publish(t, wire.UpTopic(a.ID), "a after the reload", false)
	viaNATS.waitFor(t, "allimi.v1.kiosk.kiosk-a.up", "a after the reload")
	c.in.waitFor(t, wire.UpTopic(a.ID), "a after the reload")
	c.publish(t, wire.AckTopic(a.ID), "a acked", true)
	ka.in.waitFor(t, wire.AckTopic(a.ID), "a acked")

	// A kiosk removed from the file is let out on the next reload.
	cfg.Kiosks = users(b)
	s.Reload(t, cfg)
	require.Eventually(t, func() bool { return !ka.IsConnectionOpen() }, wait, 20*time.Millisecond, "kiosk-a is disconnected")
	_, err = connectMQTT(t, []string{s.MQTTURL()}, "allimi-kiosk-a-again", a.Username, a.Password)
	assert.Error(t, err, "kiosk-a is no longer let in")
}

func TestServer_WrongPasswordRefused(t *testing.T) {
	a := newKiosk(t, "kiosk-a")
	s := natstest.Start(t, natstest.Single(t, centralPassword, users(a)...))
	for name, c := range map[string]struct{ user, pw string }{
		"wrong password":       {a.Username, a.Password + "x"},
		"empty password":       {a.Username, ""},
		"the hash as password": {a.Username, a.PasswordHash},
		"unknown kiosk":        {"kiosk-z", a.Password},
		"central, wrong":       {natsconf.CentralUsername, a.Password},
	} {
		_, err := connectMQTT(t, []string{s.MQTTURL()}, "allimi-kiosk-a", c.user, c.pw)
		assert.Error(t, err, name)
	}
	_, err := nats.Connect(s.ClientURL(), nats.UserInfo(a.Username, a.Password))
	assert.Error(t, err, "a kiosk's login opens no NATS connection")
	_, err = nats.Connect(s.ClientURL(), nats.UserInfo(natsconf.CentralUsername, "wrong"))
	assert.Error(t, err)

	k := kioskMQTT(t, []string{s.MQTTURL()}, a)
	assert.True(t, k.IsConnectionOpen(), "the right password still works")
}

// NATS does not tie an MQTT client id to a user: a kiosk may connect with
// another kiosk's client id, which takes over (and drops the subscriptions
// of) that kiosk's session. It reads nothing of it, and the kiosk, which
// subscribes at every connection, gets its retained ack back.
func TestServer_AnotherKiosksClientIDReadsNothingOfIt(t *testing.T) {
	a, b := newKiosk(t, "kiosk-a"), newKiosk(t, "kiosk-b")
	s := natstest.Start(t, natstest.Single(t, centralPassword, users(a, b)...))
	c := centralMQTT(t, []string{s.MQTTURL()})
	kb := kioskMQTT(t, []string{s.MQTTURL()}, b)
	kb.Disconnect(100)
	c.publish(t, wire.AckTopic(b.ID), "b up to 3", true)
	c.publish(t, wire.ReplyTopic(b.ID), "queued for b", false)

	evil, err := connectMQTT(t, []string{s.MQTTURL()}, "allimi-kiosk-"+b.ID, a.Username, a.Password)
	require.NoError(t, err, "NATS lets a user take any client id")
	codes := evil.subscribe(t, map[string]byte{wire.AckTopic(b.ID): 1, wire.ReplyTopic(b.ID): 1})
	for f, code := range codes {
		assert.Equal(t, byte(0x80), code, "SUBACK of %s", f)
	}
	time.Sleep(quiet)
	assert.Empty(t, evil.in.all(), "nothing of kiosk-b's session reaches kiosk-a")
	evil.Disconnect(100)

	kb = kioskMQTT(t, []string{s.MQTTURL()}, b)
	kb.in.waitFor(t, wire.AckTopic(b.ID), "b up to 3")
	c.publish(t, wire.ReplyTopic(b.ID), "reply after", false)
	kb.in.waitFor(t, wire.ReplyTopic(b.ID), "reply after")
}
