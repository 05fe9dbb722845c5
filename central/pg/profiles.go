package pg

import (
	"encoding/json"
	"fmt"
	"time"

	"allimi"
	"allimi/subsidy"
)

// People who grant new-benefits tell central their Subsidy 24 conditions
// and region; central keeps them sealed, and only while the grant stands,
// to tell them of services that turn eligible for them.

// profile is what a profiles row holds, sealed under the person's key.
type profile struct {
	Profile json.RawMessage `json:"profile"`
	Region  string          `json:"region,omitempty"`
	// At is when the person gave the conditions: an age given instead of
	// a birth date was their age then.
	At time.Time `json:"at"`
}

func profileAD(ck []byte) []byte { return append([]byte("profile\x00"), ck...) }

// keepProfile keeps, replaces or forgets a person's conditions after a
// record that touched new-benefits; st are their consents after it.
func (b *batch) keepProfile(e *allimi.Event, ck []byte, p *allimi.ConsentPayload, st states) error {
	active := false
	for k, c := range st {
		if k.t == allimi.TypeNewBenefits && c.Active() {
			active = true
		}
	}
	if !active {
		_, err := b.tx.Exec(b.ctx, `DELETE FROM profiles WHERE ck = $1`, ck)
		return err
	}
	if len(p.Profile) == 0 {
		return nil // a later change that does not restate the conditions keeps them
	}
	if err := subsidy.CheckConditions(p.Profile, p.Region, b.s.now()); err != nil {
		return b.logRejection(e.Kiosk, fmt.Errorf("record %d: conditions not kept: %w", e.Seq, err))
	}
	plain, _ := json.Marshal(profile{Profile: p.Profile, Region: p.Region, At: allimi.HLCTime(e.HLC).UTC()})
	_, err := b.tx.Exec(b.ctx, `INSERT INTO profiles (ck, sealed) VALUES ($1, $2) ON CONFLICT (ck) DO UPDATE SET sealed = EXCLUDED.sealed`,
		ck, b.s.keys.Seal(plain, profileAD(ck)))
	return err
}
