package bolt

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/detail"
)

var (
	bucketNotifications = []byte("notifications") // id → Notification
	bucketNotifIdem     = []byte("notif-idem")    // agency 0x00 Idempotency-Key → id
	BucketRecipients    = []byte("recipients")    // id | block(4) → recipients (see appendRecipient)
)

// Notification statuses.
const (
	StatusExpanding = "expanding" // finding the recipients of a campaign
	StatusSending   = "sending"
	StatusDone      = "done"
	StatusExpired   = "expired"
)

// DetailField is one line of the detail page.
type DetailField struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Notification is an agency's notice as central keeps it.
type Notification struct {
	ID         uint64                  `json:"id"`
	Agency     string                  `json:"agency"`
	Type       allimi.NotificationType `json:"type"`
	Urgent     bool                    `json:"urgent"`
	Params     map[string]string       `json:"params,omitempty"`
	Title      string                  `json:"title,omitempty"`
	Fields     []DetailField           `json:"fields,omitempty"`
	PaymentURL string                  `json:"paymentUrl,omitempty"`
	ExpiresAt  time.Time               `json:"expiresAt"`
	Created    time.Time               `json:"created"`
	Campaign   bool                    `json:"campaign"`
	Status     string                  `json:"status"`
	// Recipients counts subscribed recipients; NotSubscribed the listed
	// citizens without an active consent for the type.
	Recipients    int64 `json:"recipients"`
	NotSubscribed int64 `json:"notSubscribed"`
	Deliveries    int64 `json:"deliveries"` // one per recipient and consented channel
	// PerChannel counts the deliveries per channel, so a channel with none
	// skips the recipients instead of reading them all.
	PerChannel map[allimi.Channel]int64 `json:"perChannel,omitempty"`
	// Cursor is where a campaign's expansion stands (the last citizen key).
	Cursor []byte `json:"cursor,omitempty"`
	// Progress is, per channel, the last recipient sequence number handed
	// to the provider and committed.
	Progress map[allimi.Channel]uint32 `json:"progress,omitempty"`
}

// NotificationRequest is the body of POST /api/v1/notifications.
type NotificationRequest struct {
	Type     allimi.NotificationType `json:"type"`
	Audience struct {
		All      bool               `json:"all"`
		Citizens []RecipientRequest `json:"citizens"`
	} `json:"audience"`
	Urgent     bool              `json:"urgent"`
	Params     map[string]string `json:"params"`
	ExpiresAt  *time.Time        `json:"expiresAt"`
	Title      string            `json:"title"`
	Fields     []DetailField     `json:"fields"`
	PaymentURL string            `json:"paymentUrl"`
}

// RecipientRequest is one listed citizen.
type RecipientRequest struct {
	Mobile    string            `json:"mobile"`
	BirthDate string            `json:"birthDate"`
	Params    map[string]string `json:"params"`
}

// FieldError is a 400: which field, and why.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func FieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Limits on what an agency may send.
const (
	maxParamLen      = 200
	maxFields        = 30
	maxNotifLifetime = 366 * 24 * time.Hour
	defaultLifetime  = 30 * 24 * time.Hour
)

// DecodeNotificationRequest reads a JSON body, or an NDJSON one (the
// notification on the first line, then one listed citizen per line) for
// audiences too large for one JSON document.
func DecodeNotificationRequest(r io.Reader, ndjson bool) (*NotificationRequest, error) {
	if !ndjson {
		var req NotificationRequest
		d := json.NewDecoder(r)
		d.DisallowUnknownFields()
		if err := d.Decode(&req); err != nil {
			return nil, bodyError(err)
		}
		return &req, nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var req *NotificationRequest
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if req == nil {
			req = &NotificationRequest{}
			d := json.NewDecoder(bytes.NewReader(b))
			d.DisallowUnknownFields()
			if err := d.Decode(req); err != nil {
				return nil, FieldErr("line 1", "%v", err)
			}
			continue
		}
		var c RecipientRequest
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&c); err != nil {
			return nil, FieldErr(fmt.Sprintf("line %d", line), "%v", err)
		}
		req.Audience.Citizens = append(req.Audience.Citizens, c)
	}
	if err := sc.Err(); err != nil {
		return nil, FieldErr(fmt.Sprintf("line %d", line+1), "%v", err)
	}
	if req == nil {
		return nil, FieldErr("body", "empty")
	}
	return req, nil
}

func bodyError(err error) error {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return FieldErr(ute.Field, "must be %s", ute.Type)
	}
	return FieldErr("body", "%v", err)
}

// validate checks a request and normalises its citizens.
func (req *NotificationRequest) validate(now time.Time) (allimi.TypeInfo, error) {
	ti, ok := req.Type.Info()
	if !ok {
		return ti, FieldErr("type", "unknown notification type %q", req.Type)
	}
	if req.Audience.All == (len(req.Audience.Citizens) > 0) {
		return ti, FieldErr("audience", `give either "all": true or a list of "citizens"`)
	}
	if err := checkParams("params", req.Params, ti, false); err != nil {
		return ti, err
	}
	for i := range req.Audience.Citizens {
		c := &req.Audience.Citizens[i]
		field := fmt.Sprintf("audience.citizens[%d]", i)
		m, err := allimi.NormalizeMobile(c.Mobile)
		if err != nil {
			return ti, FieldErr(field+".mobile", "must be a mobile number 010-NNNN-NNNN")
		}
		c.Mobile = m
		if _, err := allimi.ParseBirthDate(c.BirthDate, now); err != nil {
			return ti, FieldErr(field+".birthDate", "must be a real date of birth YYYY-MM-DD")
		}
		if err := checkParams(field+".params", c.Params, ti, false); err != nil {
			return ti, err
		}
		if err := checkParams(field+".params", mergeParams(req.Params, c.Params), ti, true); err != nil {
			return ti, err
		}
	}
	if req.Audience.All {
		if err := checkParams("params", req.Params, ti, true); err != nil {
			return ti, err
		}
	}
	if req.ExpiresAt != nil {
		if !req.ExpiresAt.After(now) {
			return ti, FieldErr("expiresAt", "already past")
		}
		if req.ExpiresAt.Sub(now) > maxNotifLifetime {
			return ti, FieldErr("expiresAt", "more than a year ahead")
		}
	}
	if utf8.RuneCountInString(req.Title) > 100 {
		return ti, FieldErr("title", "longer than 100 characters")
	}
	if len(req.Fields) > maxFields {
		return ti, FieldErr("fields", "more than %d", maxFields)
	}
	for i, f := range req.Fields {
		if strings.TrimSpace(f.Label) == "" || utf8.RuneCountInString(f.Label) > 50 || utf8.RuneCountInString(f.Value) > 500 {
			return ti, FieldErr(fmt.Sprintf("fields[%d]", i), "a label of 1-50 characters and a value of at most 500")
		}
	}
	if req.PaymentURL != "" {
		u, err := url.Parse(req.PaymentURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return ti, FieldErr("paymentUrl", "must be an https:// URL")
		}
		if !req.Type.Payable() {
			return ti, FieldErr("paymentUrl", "notices of type %s have nothing to pay", req.Type)
		}
	}
	return ti, nil
}

// checkParams refuses unknown parameters and, when complete is set, missing ones.
func checkParams(field string, p map[string]string, ti allimi.TypeInfo, complete bool) error {
	for k, v := range p {
		if !slices.Contains(ti.Params, k) {
			return FieldErr(field+"."+k, "not a parameter of %s (allowed: %s)", ti.ID, strings.Join(ti.Params, ", "))
		}
		if strings.TrimSpace(v) == "" || utf8.RuneCountInString(v) > maxParamLen {
			return FieldErr(field+"."+k, "must be 1-%d characters", maxParamLen)
		}
	}
	if complete {
		for _, k := range ti.Params {
			if _, ok := p[k]; !ok {
				return FieldErr(field+"."+k, "required for %s", ti.ID)
			}
		}
	}
	return nil
}

func mergeParams(base, over map[string]string) map[string]string {
	m := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		m[k] = v
	}
	for k, v := range over {
		m[k] = v
	}
	return m
}

// CreateNotification stores a validated request. A repeat of an agency's
// Idempotency-Key returns the notification the first request created.
// Listed recipients are resolved in the same transaction; a campaign is
// expanded afterwards by ExpandCampaign.
func (s *Store) CreateNotification(agency, idemKey string, req *NotificationRequest) (Notification, bool, error) {
	now := s.now().UTC()
	if _, err := req.validate(now); err != nil {
		return Notification{}, false, err
	}
	var n Notification
	repeat := false
	err := s.Db.Update(func(tx *bbolt.Tx) error {
		nb := tx.Bucket(bucketNotifications)
		var ik []byte
		if idemKey != "" {
			ik = []byte(agency + "\x00" + idemKey)
			if v := tx.Bucket(bucketNotifIdem).Get(ik); v != nil {
				repeat = true
				return json.Unmarshal(nb.Get(v), &n)
			}
		}
		id, _ := nb.NextSequence()
		n = Notification{ID: id, Agency: agency, Type: req.Type, Urgent: req.Urgent, Params: req.Params,
			Title: req.Title, Fields: req.Fields, PaymentURL: req.PaymentURL, Created: now,
			ExpiresAt: now.Add(defaultLifetime), Campaign: req.Audience.All, Status: StatusSending,
			Progress: map[allimi.Channel]uint32{}}
		if req.ExpiresAt != nil {
			n.ExpiresAt = req.ExpiresAt.UTC()
		}
		if err := s.putShared(tx, &n); err != nil {
			return err
		}
		if n.Campaign {
			n.Status = StatusExpanding
		} else if err := s.addListed(tx, &n, req.Audience.Citizens); err != nil {
			return err
		}
		if ik != nil {
			if err := tx.Bucket(bucketNotifIdem).Put(ik, U64(id)); err != nil {
				return err
			}
		}
		return PutNotification(tx, &n)
	})
	return n, repeat, err
}

func (s *Store) addListed(tx *bbolt.Tx, n *Notification, cs []RecipientRequest) error {
	subs := tx.Bucket(bucketSubs)
	seen := map[string]bool{}
	var add []newRecipient
	for _, c := range cs {
		ck := s.keys.CitizenKey(c.Mobile, c.BirthDate)
		var mask byte
		if v := subs.Get(subsKey(n.Type, ck)); len(v) >= 1 {
			mask = v[0]
		}
		if mask == 0 || seen[string(ck)] {
			if mask == 0 {
				n.NotSubscribed++
			}
			continue
		}
		seen[string(ck)] = true
		add = append(add, newRecipient{ck, mask, c.Params})
	}
	return s.addRecipients(tx, n, add)
}

// newRecipient is a recipient about to be added.
type newRecipient struct {
	ck     []byte
	mask   byte
	params map[string]string
}

// addRecipients appends recipients to a notification with their detail
// page token numbers, reserved as one range per call: a campaign's
// recipients can be sent while later ones are still being added.
func (s *Store) addRecipients(tx *bbolt.Tx, n *Notification, add []newRecipient) error {
	if len(add) == 0 {
		return nil
	}
	var base uint64
	first := uint32(n.Recipients) + 1
	if s.Details != nil {
		var err error
		if base, err = s.Details.Reserve(tx, uint64(len(add))); err != nil {
			return err
		}
		v := binary.BigEndian.AppendUint32(U64(n.ID), first)
		if err := tx.Bucket(bucketTokenRanges).Put(U64(base+1), v); err != nil {
			return err
		}
	}
	rb := tx.Bucket(BucketRecipients)
	rb.FillPercent = 1 // keys only ever grow: full pages halve the file
	seq := first
	var blk []byte
	if (seq-1)%recipientsPerBlock != 0 {
		// The last block is not full: it grows by this call's first ones.
		last := rb.Get(RecipientBlockKey(n.ID, seq))
		if last == nil {
			return fmt.Errorf("notification %d: recipients before %d: %w", n.ID, seq, errDamagedRecipients)
		}
		blk = append(make([]byte, 0, recipientBlockBytes), last...)
	}
	for i, r := range add {
		if blk == nil {
			blk = make([]byte, 0, recipientBlockBytes)
		}
		blk = appendRecipient(blk, r.ck, r.mask, base+1+uint64(i), r.params)
		n.Recipients++
		n.addDeliveries(r.mask)
		if seq%recipientsPerBlock == 0 || i == len(add)-1 {
			// bbolt keeps the value until the commit: each block is its own.
			if err := rb.Put(RecipientBlockKey(n.ID, seq), blk); err != nil {
				return err
			}
			blk = nil
		}
		seq++
	}
	return nil
}

// expandChunk is how many subscribers one expansion transaction copies.
var expandChunk = 20000 // a variable so tests can make chunks small

// ExpandCampaign copies the type's subscribers into the notification's
// recipients, a chunk per transaction, resuming where it stood (after a
// crash too). After each chunk it calls each (if set) with the
// notification, whose recipients so far may be sent at once. It returns
// the notification when done.
func (s *Store) ExpandCampaign(id uint64, each func(Notification)) (Notification, error) {
	for {
		var n Notification
		err := s.Db.Update(func(tx *bbolt.Tx) error {
			if err := GetNotification(tx, id, &n); err != nil {
				return err
			}
			if n.Status != StatusExpanding {
				return nil
			}
			prefix := []byte(string(n.Type) + "\x00")
			c := tx.Bucket(bucketSubs).Cursor()
			k, v := c.Seek(prefix)
			if n.Cursor != nil {
				k, v = c.Seek(append(append([]byte{}, prefix...), n.Cursor...))
				if k != nil && bytes.Equal(k[len(prefix):], n.Cursor) {
					k, v = c.Next()
				}
			}
			add := make([]newRecipient, 0, expandChunk)
			for ; k != nil && bytes.HasPrefix(k, prefix) && len(add) < expandChunk; k, v = c.Next() {
				add = append(add, newRecipient{ck: k[len(prefix):], mask: v[0]})
			}
			if len(add) > 0 {
				n.Cursor = bytes.Clone(add[len(add)-1].ck)
			}
			if err := s.addRecipients(tx, &n, add); err != nil {
				return err
			}
			if k == nil || !bytes.HasPrefix(k, prefix) {
				n.Status, n.Cursor = StatusSending, nil
				if AllSent(&n) {
					n.Status = StatusDone // the dispatcher kept up with the expansion
				}
			}
			if err := PutNotification(tx, &n); err != nil {
				return err
			}
			if each != nil {
				// Under the write lock, so the dispatcher's own updates,
				// made under it too, are never overtaken by an older one.
				each(n)
			}
			return nil
		})
		if err != nil || n.Status != StatusExpanding {
			return n, err
		}
	}
}

// putShared stores what every recipient's detail page shows.
func (s *Store) putShared(tx *bbolt.Tx, n *Notification) error {
	if s.Details == nil {
		return nil
	}
	ti, _ := n.Type.Info()
	title := n.Title
	if title == "" {
		title = ti.Name
	}
	fields := make([]detail.Field, len(n.Fields))
	for i, f := range n.Fields {
		fields[i] = detail.Field{Label: f.Label, Value: f.Value}
	}
	return s.Details.PutShared(tx, sharedDetailKey(n.ID), detail.Detail{Type: n.Type, Title: title, Agency: n.Agency,
		Fields: fields, PaymentURL: n.PaymentURL, Expires: n.ExpiresAt})
}

func sharedDetailKey(id uint64) string { return "n" + strconv.FormatUint(id, 10) }

// GetNotification reads one notification.
func (s *Store) GetNotification(id uint64) (Notification, error) {
	var n Notification
	err := s.Db.View(func(tx *bbolt.Tx) error { return GetNotification(tx, id, &n) })
	return n, err
}

// ActiveNotifications lists notifications still expanding or sending.
func (s *Store) ActiveNotifications() ([]Notification, error) {
	var out []Notification
	err := s.Db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketNotifications).ForEach(func(_, v []byte) error {
			var n Notification
			if err := json.Unmarshal(v, &n); err != nil {
				return err
			}
			if n.Status == StatusExpanding || n.Status == StatusSending {
				out = append(out, n)
			}
			return nil
		})
	})
	return out, err
}

func GetNotification(tx *bbolt.Tx, id uint64, n *Notification) error {
	v := tx.Bucket(bucketNotifications).Get(U64(id))
	if v == nil {
		return fmt.Errorf("notification %d: %w", id, allimi.ErrNotFound)
	}
	return json.Unmarshal(v, n)
}

func PutNotification(tx *bbolt.Tx, n *Notification) error {
	v, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketNotifications).Put(U64(n.ID), v)
}

// A notification's recipients are stored recipientsPerBlock to an entry,
// in the order of their sequence numbers (from 1): a campaign writes and
// reads a thirty-first of the entries it would one by one. 31 recipients
// without parameters (42 bytes each) make an entry of 1,330 bytes with
// bbolt's element header and key, three to a 4 KiB page (97.8% full);
// 32 would fit only two.
const (
	recipientsPerBlock  = 31
	recipientBlockBytes = recipientsPerBlock * (recipientFixed + 1)
)

// RecipientBlockKey is the key of the block that holds recipient seq.
func RecipientBlockKey(id uint64, seq uint32) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 12), id)
	return binary.BigEndian.AppendUint32(k, (seq-1)/recipientsPerBlock)
}

// appendRecipient appends one recipient to a block: citizen key(32) |
// channel mask(1) | detail token number(8) | length of the parameters
// (uvarint) | parameters as JSON. The person's sealed contact stays in the
// subs index, where the dispatcher reads it in the same order: a copy here
// would double what a campaign touches.
func appendRecipient(v, ck []byte, mask byte, token uint64, params map[string]string) []byte {
	v = append(v, ck...)
	v = append(v, mask)
	v = binary.BigEndian.AppendUint64(v, token)
	if len(params) == 0 {
		return append(v, 0)
	}
	p, _ := json.Marshal(params)
	v = binary.AppendUvarint(v, uint64(len(p)))
	return append(v, p...)
}

// recipient is a decoded recipients entry.
type recipient struct {
	Seq    uint32
	CK     []byte
	Mask   byte
	Token  uint64 // number of the detail page token; 0 when central issues no links
	Params map[string]string
}

const recipientFixed = 32 + 1 + 8

var errDamagedRecipients = errors.New("damaged recipients entry")

// recipientBlock walks one stored block of recipients.
type recipientBlock struct {
	seq  uint32 // of the next recipient
	rest []byte
}

func OpenRecipientBlock(k, v []byte) (recipientBlock, error) {
	if len(k) != 12 || len(v) == 0 {
		return recipientBlock{}, errDamagedRecipients
	}
	return recipientBlock{seq: binary.BigEndian.Uint32(k[8:])*recipientsPerBlock + 1, rest: v}, nil
}

// Next decodes the next recipient; ok is false after the last.
func (b *recipientBlock) Next() (r recipient, ok bool, err error) {
	p, ok, err := b.step(&r)
	if !ok || err != nil || len(p) == 0 {
		return r, ok, err
	}
	var params map[string]string // not &r.Params: r would move to the heap
	if err := json.Unmarshal(p, &params); err != nil {
		return r, false, fmt.Errorf("recipient %d params: %w", r.Seq, err)
	}
	r.Params = params
	return r, true, nil
}

// SkipTo passes over the recipients before seq without decoding their
// parameters.
func (b *recipientBlock) SkipTo(seq uint32) error {
	for b.seq < seq && len(b.rest) > 0 {
		var r recipient
		if _, _, err := b.step(&r); err != nil {
			return err
		}
	}
	return nil
}

// step reads the next recipient's fixed part into r and returns its raw
// parameters.
func (b *recipientBlock) step(r *recipient) ([]byte, bool, error) {
	if len(b.rest) == 0 {
		return nil, false, nil
	}
	v := b.rest
	if len(v) < recipientFixed+1 {
		return nil, false, errDamagedRecipients
	}
	*r = recipient{Seq: b.seq, CK: v[:32:32], Mask: v[32], Token: binary.BigEndian.Uint64(v[33:])}
	n, w := binary.Uvarint(v[recipientFixed:])
	if w <= 0 || n > uint64(len(v)-recipientFixed-w) {
		return nil, false, errDamagedRecipients
	}
	start := recipientFixed + w
	b.rest, b.seq = v[start+int(n):], b.seq+1
	return v[start : start+int(n)], true, nil
}

// getRecipient reads recipient seq of notification id; ok is false when
// there is none.
func getRecipient(tx *bbolt.Tx, id uint64, seq uint32) (r recipient, ok bool, err error) {
	k := RecipientBlockKey(id, seq)
	v := tx.Bucket(BucketRecipients).Get(k)
	if v == nil || seq == 0 {
		return r, false, nil
	}
	b, err := OpenRecipientBlock(k, v)
	if err != nil {
		return r, false, err
	}
	if err := b.SkipTo(seq); err != nil {
		return r, false, err
	}
	if b.seq != seq {
		return r, false, nil
	}
	return b.Next()
}

// addDeliveries counts a recipient's deliveries, one per channel in mask.
func (n *Notification) addDeliveries(mask byte) {
	if n.PerChannel == nil {
		n.PerChannel = map[allimi.Channel]int64{}
	}
	for _, ch := range allimi.Channels {
		if mask&ChannelBit(ch) != 0 {
			n.PerChannel[ch]++
			n.Deliveries++
		}
	}
}

// NoneFor reports whether the notification has no delivery on ch, once
// its recipients are all known.
func (n *Notification) NoneFor(ch allimi.Channel) bool {
	return n.Status != StatusExpanding && n.PerChannel != nil && n.PerChannel[ch] == 0
}
