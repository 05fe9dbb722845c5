package pg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"allimi"
	"allimi/central/detail"
)

// errNoKeys is what a store opened without central's keys (WithKeys)
// answers where it must hash or open a person's data.
var errNoKeys = errors.New("store opened without central's keys")

// channelBitSQL is an SQL expression of consents.channel's bit
// (allimi.ChannelBit): a person's channels of a type are bit_or of it.
var channelBitSQL = func() string {
	var b strings.Builder
	b.WriteString("CASE channel")
	for _, ch := range allimi.Channels {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", ch, allimi.ChannelBit(ch))
	}
	b.WriteString(" ELSE 0 END")
	return b.String()
}()

// CreateNotification implements allimi.Notifications. A repeat of an
// agency's Idempotency-Key returns the notification the first request
// created. Listed recipients are resolved in the same transaction,
// against the consents as they stand; a campaign is expanded afterwards by
// ExpandCampaign.
func (s *Store) CreateNotification(agency, idemKey string, req *allimi.NotificationRequest) (allimi.Notification, bool, error) {
	now := s.now().UTC()
	if _, err := req.Validate(now); err != nil {
		return allimi.Notification{}, false, err
	}
	if s.keys == nil && !req.Audience.All {
		return allimi.Notification{}, false, errNoKeys
	}
	var n allimi.Notification
	repeat := false
	var ik *string
	if idemKey != "" {
		ik = &idemKey
	}
	err := s.serial(s.ctx(), func(tx pgx.Tx) error {
		repeat = false
		if ik != nil {
			var body []byte
			err := tx.QueryRow(s.ctx(), `SELECT body FROM notifications WHERE agency = $1 AND idem_key = $2`, agency, idemKey).Scan(&body)
			if err == nil {
				repeat = true
				n = allimi.Notification{}
				return json.Unmarshal(body, &n)
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		var id uint64
		if err := tx.QueryRow(s.ctx(), `SELECT nextval('notifications_id_seq')`).Scan(&id); err != nil {
			return err
		}
		n = allimi.Notification{ID: id, Agency: agency, Type: req.Type, Urgent: req.Urgent, Params: req.Params,
			Title: req.Title, Fields: req.Fields, PaymentURL: req.PaymentURL, Template: req.Template, Created: now,
			ExpiresAt: now.Add(allimi.DefaultLifetime), Campaign: req.Audience.All, Status: allimi.StatusSending,
			Progress: map[allimi.Channel]uint32{}}
		if req.ExpiresAt != nil {
			n.ExpiresAt = req.ExpiresAt.UTC()
		}
		if err := tx.QueryRow(s.ctx(), `SELECT name FROM agencies WHERE id = $1`, agency).Scan(&n.AgencyName); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if s.details != nil {
			if err := s.details.PutShared(s.detailWriter(s.ctx(), tx), detail.NoticeKey(n.ID), detail.NoticeDetail(&n)); err != nil {
				return err
			}
		}
		if n.Campaign {
			n.Status = allimi.StatusExpanding
		} else if err := s.addListed(s.ctx(), tx, &n, req.Audience.Citizens); err != nil {
			return err
		}
		body, err := json.Marshal(&n)
		if err != nil {
			return err
		}
		_, err = tx.Exec(s.ctx(), `INSERT INTO notifications (id, agency, idem_key, active, body) VALUES ($1, $2, $3, $4, $5)`,
			id, agency, ik, active(&n), body)
		return err
	})
	return n, repeat, err
}

// active says whether n is still expanding or sending.
func active(n *allimi.Notification) bool {
	return n.Status == allimi.StatusExpanding || n.Status == allimi.StatusSending
}

// addListed adds the listed people who have an active grant of n's type,
// each once; the others count as not subscribed.
func (s *Store) addListed(ctx context.Context, tx pgx.Tx, n *allimi.Notification, cs []allimi.RecipientRequest) error {
	cks := make([][]byte, len(cs))
	for i, c := range cs {
		cks[i] = c.Key
		if cks[i] == nil {
			cks[i] = s.keys.CitizenKey(c.Mobile, c.BirthDate)
		}
	}
	rows, err := tx.Query(ctx, `SELECT ck, bit_or(`+channelBitSQL+`)::smallint FROM consents
		WHERE type = $1 AND action = 'grant' AND ck = ANY($2) GROUP BY ck`, string(n.Type), cks)
	if err != nil {
		return err
	}
	masks := map[string]byte{}
	var ck []byte
	var mask int16
	if _, err := pgx.ForEachRow(rows, []any{&ck, &mask}, func() error {
		masks[string(ck)] = byte(mask)
		return nil
	}); err != nil {
		return err
	}
	seen := map[string]bool{}
	var add []newRecipient
	for i, c := range cs {
		mask := masks[string(cks[i])]
		if mask == 0 || seen[string(cks[i])] {
			if mask == 0 {
				n.NotSubscribed++
			}
			continue
		}
		seen[string(cks[i])] = true
		add = append(add, newRecipient{cks[i], mask, c.Params})
	}
	return s.addRecipients(ctx, tx, n, add)
}

// newRecipient is a recipient about to be added.
type newRecipient struct {
	ck     []byte
	mask   byte
	params map[string]string
}

// addRecipients appends recipients to n, numbered after its last, in one
// statement, with their detail page token numbers, reserved as one range
// per call as central/bolt reserves them.
func (s *Store) addRecipients(ctx context.Context, tx pgx.Tx, n *allimi.Notification, add []newRecipient) error {
	if len(add) == 0 {
		return nil
	}
	var base uint64
	var err error
	if s.details != nil {
		base, err = s.details.Reserve(s.detailWriter(ctx, tx), uint64(len(add)))
	} else {
		base, err = reserveTokens(ctx, tx, uint64(len(add)))
	}
	if err != nil {
		return err
	}
	cks := make([][]byte, len(add))
	masks := make([]int16, len(add))
	params := make([]*string, len(add))
	for i, r := range add {
		cks[i], masks[i] = r.ck, int16(r.mask)
		if len(r.params) > 0 {
			p, err := json.Marshal(r.params)
			if err != nil {
				return err
			}
			ps := string(p)
			params[i] = &ps
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO recipients (notification, seq, ck, mask, token, params)
		SELECT $1, $2 + o, ck, mask, $6 + o, params::jsonb
		FROM unnest($3::bytea[], $4::smallint[], $5::text[]) WITH ORDINALITY AS r(ck, mask, params, o)`,
		n.ID, n.Recipients, cks, masks, params, int64(base)); err != nil {
		return fmt.Errorf("notification %d: recipients: %w", n.ID, err)
	}
	for _, r := range add {
		n.Recipients++
		n.AddDeliveries(r.mask)
	}
	return nil
}

// expandChunk is how many subscribers one expansion transaction copies:
// small enough that the transaction stays short.
var expandChunk = 5000 // a variable so tests can make chunks small

// ExpandCampaign implements allimi.Notifications: it copies the people
// with an active grant of the campaign's type, in the order of their
// keys, into its recipients, a chunk per transaction, resuming where it
// stood (after a crash too, or in another process). After each chunk it
// calls each (if set) with the notification, within the transaction that
// holds the notification's row (FOR UPDATE), as central/bolt calls it
// under its write lock: a dispatcher's transaction that stores the
// notification takes the row too, so its own report of the notification
// never comes before an older one of the expansion. A step whose
// transaction is run again after a conflict is reported again. Its
// audience is read in the order of the people's keys from the partial
// index consents_granted (an index scan grouped by ck, no sort).
func (s *Store) ExpandCampaign(id uint64, each func(allimi.Notification)) (allimi.Notification, error) {
	for {
		var n allimi.Notification
		// READ COMMITTED, the notification's row locked first: the step
		// continues from the cursor the last step committed, and a
		// dispatcher's commit of progress on the same row waits for it
		// instead of failing it (as SERIALIZABLE did, retried with pauses:
		// 50,000 recipients took 3-4 s while being sent, 0.3 s alone).
		err := s.inTx(func(ctx context.Context, tx pgx.Tx) error {
			var err error
			if n, err = getNotification(ctx, tx, id, true); err != nil {
				return err
			}
			if n.Status != allimi.StatusExpanding {
				return nil
			}
			return s.expandStep(ctx, tx, &n, each)
		})
		if err != nil || n.Status != allimi.StatusExpanding {
			return n, err
		}
	}
}

// expandStep adds the next chunk of subscribers to n and stores it.
func (s *Store) expandStep(ctx context.Context, tx pgx.Tx, n *allimi.Notification, each func(allimi.Notification)) error {
	cursor := n.Cursor
	if cursor == nil {
		cursor = []byte{}
	}
	rows, err := tx.Query(ctx, `SELECT ck, bit_or(`+channelBitSQL+`)::smallint FROM consents
		WHERE type = $1 AND action = 'grant' AND ck > $2 GROUP BY ck ORDER BY ck LIMIT $3`,
		string(n.Type), cursor, expandChunk+1)
	if err != nil {
		return err
	}
	var add []newRecipient
	var ck []byte
	var mask int16
	if _, err := pgx.ForEachRow(rows, []any{&ck, &mask}, func() error {
		if mask != 0 {
			add = append(add, newRecipient{ck: bytes.Clone(ck), mask: byte(mask)})
		}
		return nil
	}); err != nil {
		return err
	}
	more := len(add) > expandChunk
	if more {
		add = add[:expandChunk]
	}
	if len(add) > 0 {
		n.Cursor = bytes.Clone(add[len(add)-1].ck)
	}
	if err := s.addRecipients(ctx, tx, n, add); err != nil {
		return err
	}
	if !more {
		n.Status, n.Cursor = allimi.StatusSending, nil
		if err := withSlotProgress(ctx, tx, n); err != nil {
			return err
		}
		if n.AllSent() {
			n.Status = allimi.StatusDone // the dispatcher kept up with the expansion
		}
	}
	if err := putNotification(ctx, tx, n); err != nil {
		return err
	}
	if each != nil {
		each(*n)
	}
	return nil
}

// GetNotification implements allimi.Notifications.
// Its progress is its send slots' when they have any (slots.go).
func (s *Store) GetNotification(id uint64) (allimi.Notification, error) {
	var n allimi.Notification
	err := s.snapshot(s.ctx(), func(tx pgx.Tx) error {
		var err error
		if n, err = getNotification(s.ctx(), tx, id, false); err != nil {
			return err
		}
		return withSlotProgress(s.ctx(), tx, &n)
	})
	return n, err
}

// ActiveNotifications implements allimi.Notifications, in the order of
// their ids.
func (s *Store) ActiveNotifications() ([]allimi.Notification, error) {
	rows, err := s.pool.Query(s.ctx(), `SELECT body FROM notifications WHERE active ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var out []allimi.Notification
	var body []byte
	_, err = pgx.ForEachRow(rows, []any{&body}, func() error {
		var n allimi.Notification
		if err := json.Unmarshal(body, &n); err != nil {
			return err
		}
		out = append(out, n)
		return nil
	})
	return out, err
}

// rowQuerier is what reading one row needs: a pool or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// getNotification reads notification id; lock takes its row for the
// rest of the transaction (FOR UPDATE), as a writer that stores it again
// must.
func getNotification(ctx context.Context, q rowQuerier, id uint64, lock bool) (allimi.Notification, error) {
	sql := `SELECT body FROM notifications WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	var n allimi.Notification
	var body []byte
	if err := q.QueryRow(ctx, sql, id).Scan(&body); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return n, fmt.Errorf("notification %d: %w", id, allimi.ErrNotFound)
		}
		return n, err
	}
	err := json.Unmarshal(body, &n)
	return n, err
}

// putNotification stores n as it stands.
func putNotification(ctx context.Context, tx pgx.Tx, n *allimi.Notification) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `UPDATE notifications SET body = $2, active = $3 WHERE id = $1`, n.ID, body, active(n))
	if err == nil && tag.RowsAffected() == 0 {
		err = fmt.Errorf("notification %d: %w", n.ID, allimi.ErrNotFound)
	}
	return err
}
