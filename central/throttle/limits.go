package throttle

import (
	"fmt"
	"time"

	"allimi"
)

// LimitsConfig sets the limits on guessing and on verification SMS.
type LimitsConfig struct {
	// SMSPerHour and SMSPerDay are the verification SMS one kiosk may have
	// sent: a community centre signs up a few dozen people an hour at most.
	SMSPerHour, SMSPerDay int
	// Now is the clock of every limit (time.Now); tests move it.
	Now func() time.Time
}

// DefaultLimitsConfig: 60 verification SMS an hour and 300 a day per kiosk.
func DefaultLimitsConfig() LimitsConfig { return LimitsConfig{SMSPerHour: 60, SMSPerDay: 300} }

// Limits are central's attempt limiters, one per thing guessed at, each
// kept in central's store (Storage) so that a restart unlocks nothing. A client's limit is below its target's, so that one address
// is stopped before it can lock a target for everybody.
type Limits struct {
	// Receipt: wrong dates of birth on /r/{code}, per code and per address.
	Receipt *Limiter
	// Enrol: unknown enrolment codes, per address only (a code nobody
	// issued is no target).
	Enrol *Limiter
	// Official: refused sign-ins on /officials/login, per official id and
	// per address.
	Official *Limiter
	// MQTT: wrong kiosk passwords on the embedded broker, per kiosk id and
	// per address.
	MQTT *Limiter
	// SMSCheck: wrong verification codes, per kiosk and number, and per
	// kiosk (whose address is its MQTT session, vouched for by the broker).
	SMSCheck *Limiter
	// Detail: wrong dates of birth on /n/ per address, across links (each
	// link's own lock is the detail package's).
	Detail *Limiter
	// SMSHour and smsDay: verification SMS sent, per kiosk (quotas).
	SMSHour, SMSDay       *Limiter
	SMSPerHour, SMSPerDay int
	Now                   func() time.Time
}

// OpenLimits opens central's limiters on st, their ids keyed by secret.
func OpenLimits(st Storage, secret []byte, cfg LimitsConfig) (*Limits, error) {
	if cfg.SMSPerHour < 0 || cfg.SMSPerDay < 0 {
		return nil, fmt.Errorf("sms-per-kiosk-hour %d, sms-per-kiosk-day %d: must not be negative (0 takes the default): %w",
			cfg.SMSPerHour, cfg.SMSPerDay, allimi.ErrInvalid)
	}
	d := DefaultLimitsConfig()
	if cfg.SMSPerHour <= 0 {
		cfg.SMSPerHour = d.SMSPerHour
	}
	if cfg.SMSPerDay <= 0 {
		cfg.SMSPerDay = d.SMSPerDay
	}
	rule := func(max int, d time.Duration) Rule { return Rule{Max: max, Window: d, Lock: d} }
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Limits{Now: cfg.Now, SMSPerHour: cfg.SMSPerHour, SMSPerDay: cfg.SMSPerDay}
	for _, o := range []struct {
		to   **Limiter
		name string
		opt  Options
	}{
		{&l.Receipt, "receipt", Options{Key: rule(5, 30*time.Minute), Client: rule(20, time.Hour), Storm: 60}},
		{&l.Enrol, "enrol", Options{Client: rule(10, 10*time.Minute), Storm: 30}},
		{&l.Official, "official", Options{Key: rule(20, 15*time.Minute), Client: rule(10, 15*time.Minute), Storm: 30}},
		// Kiosks of one centre may share an address: a kiosk left running
		// with an old password locks its neighbours after 20 tries.
		{&l.MQTT, "mqtt", Options{Key: rule(50, 15*time.Minute), Client: rule(20, 15*time.Minute), Storm: 120}},
		{&l.Detail, "detail", Options{Client: rule(20, time.Hour), Storm: 60}},
		{&l.SMSCheck, "sms-check", Options{Key: rule(2*allimi.VerifyCodeMaxTries, time.Hour), Client: rule(30, time.Hour)}},
		{&l.SMSHour, "sms-hour", Options{Key: Rule{Max: cfg.SMSPerHour, Window: time.Hour}}},
		{&l.SMSDay, "sms-day", Options{Key: Rule{Max: cfg.SMSPerDay, Window: 24 * time.Hour}}},
	} {
		o.opt.Secret, o.opt.Now = secret, cfg.Now
		var err error
		if *o.to, err = Open(st, o.name, o.opt); err != nil {
			return nil, fmt.Errorf("limits: %w", err)
		}
	}
	return l, nil
}
