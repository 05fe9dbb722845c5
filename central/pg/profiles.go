package pg

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"allimi"
	"allimi/subsidy"
)

// People who grant new-benefits tell central their Subsidy 24 conditions
// and region; central keeps them sealed, and only while the grant stands,
// to tell them of services that turn eligible for them.

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
		b.w.queue(`DELETE FROM profiles WHERE ck = $1`, ck)
		return nil
	}
	if len(p.Profile) == 0 {
		return nil // a later change that does not restate the conditions keeps them
	}
	if err := subsidy.CheckConditions(p.Profile, p.Region, b.s.now()); err != nil {
		return b.logRejection(e.Kiosk, fmt.Errorf("record %d: conditions not kept: %w", e.Seq, err))
	}
	plain, _ := json.Marshal(subsidy.Kept{Profile: p.Profile, Region: p.Region, At: allimi.HLCTime(e.HLC).UTC()})
	b.w.queue(`INSERT INTO profiles (ck, sealed) VALUES ($1, $2) ON CONFLICT (ck) DO UPDATE SET sealed = EXCLUDED.sealed`,
		ck, b.s.keys.Seal(plain, profileAD(ck)))
	return nil
}

// benefitNotified is the benefit_notified table: who was told of which
// service, at which catalog version.

// NotifyNewBenefits matches the services of next that are new or changed
// since prev against every kept profile of a person granting new-benefits,
// and queues one new-benefits notice to everyone for whom one turned
// eligible (and who was not told of it before). version identifies next; a
// repeat for the same version sends nothing new.
func (s *Store) NotifyNewBenefits(prev, next *subsidy.Catalog, version uint64, now time.Time) (allimi.BenefitsOutcome, error) {
	var out allimi.BenefitsOutcome
	changed := next.Changed(prev)
	out.Changed = len(changed)
	if len(changed) == 0 {
		return out, nil
	}
	sub := next.Subset(changed)
	type match struct {
		ck       []byte
		services []*subsidy.Service
	}
	var matches []match
	var recipients []allimi.RecipientRequest
	ctx := s.ctx()
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT p.ck, p.sealed, c.pii,
				coalesce((SELECT array_agg(n.service) FROM benefit_notified n WHERE n.ck = p.ck), '{}')
			FROM profiles p JOIN citizens c ON c.ck = p.ck
			WHERE EXISTS (SELECT 1 FROM consents g WHERE g.ck = p.ck AND g.type = $1 AND g.action = 'grant')
			ORDER BY p.ck`, string(allimi.TypeNewBenefits))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ck, sealed, pii []byte
			var told []string
			if err := rows.Scan(&ck, &sealed, &pii, &told); err != nil {
				return err
			}
			plain, err := s.keys.Open(sealed, profileAD(ck))
			if err != nil {
				return fmt.Errorf("profile: %w", err)
			}
			var k subsidy.Kept
			if err := json.Unmarshal(plain, &k); err != nil {
				return fmt.Errorf("profile: %w", err)
			}
			got, ok := k.NewlyEligible(sub, now, func(id string) bool { return slices.Contains(told, id) })
			if !ok {
				continue
			}
			out.Profiles++
			if len(got) == 0 {
				continue
			}
			cit, err := s.keys.OpenCitizen(pii, ck)
			if err != nil {
				return err
			}
			matches = append(matches, match{ck: ck, services: got})
			recipients = append(recipients, subsidy.BenefitsRecipient(cit, got))
		}
		return rows.Err()
	})
	if err != nil || len(recipients) == 0 {
		return out, err
	}
	key, req := subsidy.BenefitsNotice(version, recipients)
	n, _, err := s.CreateNotification(subsidy.BenefitsAgency, key, req)
	if err != nil {
		return out, fmt.Errorf("new-benefits notice: %w", err)
	}
	// Remember who was told of what: the next catalog tells only of more.
	err = s.inTx(func(ctx context.Context, tx pgx.Tx) error {
		for _, m := range matches {
			for _, sv := range m.services {
				if _, err := tx.Exec(ctx, `INSERT INTO benefit_notified (ck, service, version) VALUES ($1, $2, $3)
					ON CONFLICT (ck, service) DO UPDATE SET version = EXCLUDED.version`, m.ck, sv.ID, int64(version)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	out.Recipients, out.Notification = int(n.Recipients), n.ID
	return out, err
}

// ErrNoCatalog: there is no previous catalog to compare with.
var ErrNoCatalog = subsidy.ErrNoCatalog

// SubsidyCatalog decodes the kept Subsidy 24 catalog (subsidy.KeptCatalog).
func (s *Store) SubsidyCatalog() (*subsidy.Catalog, uint64, error) { return subsidy.KeptCatalog(s) }
