package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"allimi/internal/jsonfast"

	"allimi"
)

// Topic layout, version 1.
const (
	topicPrefix = "allimi/v1/kiosk/"
	// UpFilter matches every kiosk's up topic; central subscribes to it.
	UpFilter = topicPrefix + "+/up"
)

// MaxEventSize is the largest up payload central accepts. A signup with every
// type on every channel is about 6 KiB; anything near this limit is a bug or
// an attack.
const MaxEventSize = 64 << 10

// Errors of the wire decoders.
var (
	ErrOversize  = errors.New("payload too large")
	ErrMalformed = errors.New("malformed payload")
)

// UpTopic is where kiosk id publishes its events.
func UpTopic(id string) string { return topicPrefix + id + "/up" }

// AckTopic is where central tells kiosk id how far it has stored.
func AckTopic(id string) string { return topicPrefix + id + "/ack" }

// ParseUpTopic returns the kiosk id of an up topic.
func ParseUpTopic(topic string) (string, bool) {
	rest, ok := strings.CutPrefix(topic, topicPrefix)
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, "/up")
	if !ok || allimi.ValidateKioskID(id) != nil {
		return "", false
	}
	return id, true
}

// Ack is central's application acknowledgement: it durably holds every
// record of Kiosk with a sequence number up to and including UpTo.
type Ack struct {
	V     int    `json:"v"`
	Kiosk string `json:"kiosk"`
	UpTo  uint64 `json:"upTo"`
}

// DecodeEvent parses an up payload. It checks the size and the JSON shape;
// the caller validates the content with Event.Validate.
func DecodeEvent(b []byte) (allimi.Event, error) {
	var e allimi.Event
	if len(b) > MaxEventSize {
		return e, fmt.Errorf("event of %d bytes, at most %d: %w", len(b), MaxEventSize, ErrOversize)
	}
	if err := strictUnmarshal(b, &e); err != nil {
		return e, fmt.Errorf("event: %v: %w", err, ErrMalformed)
	}
	return e, nil
}

// DecodeAck parses an ack payload.
func DecodeAck(b []byte) (Ack, error) {
	var a Ack
	if len(b) > 1024 {
		return a, fmt.Errorf("ack of %d bytes: %w", len(b), ErrOversize)
	}
	if err := strictUnmarshal(b, &a); err != nil {
		return a, fmt.Errorf("ack: %v: %w", err, ErrMalformed)
	}
	if a.V != 1 {
		return a, fmt.Errorf("ack v=%d: %w", a.V, allimi.ErrUnsupportedVersion)
	}
	return a, nil
}

// strictUnmarshal decodes exactly one JSON value, with nothing after it.
func strictUnmarshal(b []byte, v any) error {
	if jsonfast.Decode(b, v) {
		return nil
	}
	// Refused by the fast decoder: encoding/json gives the verdict.
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}
