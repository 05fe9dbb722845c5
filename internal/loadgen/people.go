package loadgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"allimi"
	"allimi/sync/outbox"
)

// PersonLine is one line of a people file (ReadPeople): who signs up,
// for which notification types, on which channels, in which language
// (one of allimi.Languages; empty or absent: Korean).
type PersonLine struct {
	Name      string   `json:"name"`
	Mobile    string   `json:"mobile"`
	BirthDate string   `json:"birthDate"`
	Types     []string `json:"types"`
	Channels  []string `json:"channels"`
	Lang      string   `json:"lang,omitempty"`
}

// MaxPeopleLine bounds a line of a people file.
const MaxPeopleLine = 64 << 10

// ReadPeople reads a people file, NDJSON of PersonLine (blank lines are
// skipped), into the sign-ups a simulated kiosk writes for them at at,
// as Signup writes its made-up people's (SignupOf). It reads the whole
// file before it returns anything: the first line that is not right (a
// field it does not know, a truncated line, an unknown type, channel or
// language, a bad mobile number or date of birth) is an error naming the
// line and the field, wrapping allimi.ErrInvalid.
func ReadPeople(r io.Reader, at time.Time) ([]outbox.Draft, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxPeopleLine)
	var drafts []outbox.Draft
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		d, err := personSignup(line, at)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		drafts = append(drafts, d)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than %d bytes: %w", n+1, MaxPeopleLine, allimi.ErrInvalid)
		}
		return nil, err
	}
	return drafts, nil
}

// personSignup is the sign-up of one line of a people file.
func personSignup(line []byte, at time.Time) (outbox.Draft, error) {
	var p PersonLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return outbox.Draft{}, fmt.Errorf("truncated: not a whole JSON object: %w", allimi.ErrInvalid)
		}
		return outbox.Draft{}, fmt.Errorf("%v: %w", err, allimi.ErrInvalid)
	}
	// A second token, not Decoder.More: More reports false for a stray
	// "}" or "]" after the object.
	if _, err := dec.Token(); err != io.EOF {
		return outbox.Draft{}, fmt.Errorf("more after the JSON object: one person a line: %w", allimi.ErrInvalid)
	}
	c := allimi.Citizen{Name: p.Name, Mobile: p.Mobile, BirthDate: p.BirthDate}
	if _, err := allimi.NormalizeMobile(p.Mobile); err != nil {
		return outbox.Draft{}, fmt.Errorf("mobile: %w", err)
	}
	if _, err := allimi.ParseBirthDate(p.BirthDate, at); err != nil {
		return outbox.Draft{}, fmt.Errorf("birthDate: %w", err)
	}
	if err := c.Validate(at); err != nil { // the name; normalises the number
		return outbox.Draft{}, err
	}
	types, err := listOf("types", p.Types, func(s string) (allimi.NotificationType, error) {
		t := allimi.NotificationType(s)
		return t, t.Validate()
	})
	if err != nil {
		return outbox.Draft{}, err
	}
	channels, err := listOf("channels", p.Channels, func(s string) (allimi.Channel, error) {
		ch := allimi.Channel(s)
		return ch, ch.Validate()
	})
	if err != nil {
		return outbox.Draft{}, err
	}
	if err := allimi.ValidateLanguage("lang", p.Lang); err != nil {
		return outbox.Draft{}, err
	}
	d := SignupOf(c, types, channels, p.Lang, at)
	// What the outbox will check, checked now: a line it would refuse
	// stops the file before anything is appended.
	payload, err := json.Marshal(d.Payload)
	if err != nil {
		return outbox.Draft{}, err
	}
	e := allimi.Event{V: allimi.EventVersion, Kiosk: "people", Seq: 1, HLC: allimi.NextHLC(0, at), Kind: d.Kind,
		Citizen: d.Citizen, Payload: payload}
	if err := e.Validate(at); err != nil {
		return outbox.Draft{}, err
	}
	return d, nil
}

// listOf checks a line's list field: not empty, each value known (parse),
// none twice.
func listOf[T comparable](field string, values []string, parse func(string) (T, error)) ([]T, error) {
	if len(values) == 0 {
		return nil, fmt.Errorf("%s: empty: name at least one: %w", field, allimi.ErrInvalid)
	}
	out := make([]T, 0, len(values))
	for i, s := range values {
		v, err := parse(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		if slices.Contains(out, v) {
			return nil, fmt.Errorf("%s[%d]: %q twice: %w", field, i, s, allimi.ErrInvalid)
		}
		out = append(out, v)
	}
	return out, nil
}
