package allimi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
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
	ID         uint64            `json:"id"`
	Agency     string            `json:"agency"`
	Type       NotificationType  `json:"type"`
	Urgent     bool              `json:"urgent"`
	Params     map[string]string `json:"params,omitempty"`
	Title      string            `json:"title,omitempty"`
	Fields     []DetailField     `json:"fields,omitempty"`
	PaymentURL string            `json:"paymentUrl,omitempty"`
	ExpiresAt  time.Time         `json:"expiresAt"`
	Created    time.Time         `json:"created"`
	Campaign   bool              `json:"campaign"`
	Status     string            `json:"status"`
	// Recipients counts subscribed recipients; NotSubscribed the listed
	// citizens without an active consent for the type.
	Recipients    int64 `json:"recipients"`
	NotSubscribed int64 `json:"notSubscribed"`
	Deliveries    int64 `json:"deliveries"` // one per recipient and consented channel
	// PerChannel counts the deliveries per channel, so a channel with none
	// skips the recipients instead of reading them all.
	PerChannel map[Channel]int64 `json:"perChannel,omitempty"`
	// Cursor is where a campaign's expansion stands (the last citizen key).
	Cursor []byte `json:"cursor,omitempty"`
	// Progress is, per channel, the last recipient sequence number handed
	// to the provider and committed.
	Progress map[Channel]uint32 `json:"progress,omitempty"`
	// Template names the templates it is written with when they are not
	// its type's: a program's step ("vaccination/dose1.reminder").
	Template string `json:"template,omitempty"`
	// AgencyName is the agency's name as people read it, when it has one
	// (Agencies.SetAgencyName), as it was when the notification was made.
	AgencyName string `json:"agencyName,omitempty"`
}

// NotificationRequest is the body of POST /api/v1/notifications.
type NotificationRequest struct {
	Type     NotificationType `json:"type"`
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
	// Template and ExtraParams are central's own, never an agency's JSON:
	// the templates of a program's step (Notification.Template) and the
	// parameters they take besides the type's.
	Template    string   `json:"-"`
	ExtraParams []string `json:"-"`
}

// RecipientRequest is one listed citizen.
type RecipientRequest struct {
	Mobile    string            `json:"mobile"`
	BirthDate string            `json:"birthDate"`
	Params    map[string]string `json:"params"`
	// Key is the citizen's key when central has it already (a program's
	// enrolment keeps no number): Mobile and BirthDate are then empty.
	// Never from an agency's JSON.
	Key []byte `json:"-"`
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
	DefaultLifetime  = 30 * 24 * time.Hour
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

// Validate checks a request and normalises its citizens.
func (req *NotificationRequest) Validate(now time.Time) (TypeInfo, error) {
	ti, ok := req.Type.Info()
	if !ok {
		return ti, FieldErr("type", "unknown notification type %q", req.Type)
	}
	if req.Audience.All == (len(req.Audience.Citizens) > 0) {
		return ti, FieldErr("audience", `give either "all": true or a list of "citizens"`)
	}
	if len(req.ExtraParams) > 0 {
		ti.Params = append(slices.Clip(ti.Params), req.ExtraParams...)
	}
	if err := checkParams("params", req.Params, ti, false); err != nil {
		return ti, err
	}
	for i := range req.Audience.Citizens {
		c := &req.Audience.Citizens[i]
		field := fmt.Sprintf("audience.citizens[%d]", i)
		if c.Key != nil {
			if c.Mobile != "" || c.BirthDate != "" {
				return ti, FieldErr(field, "a citizen is given by key or by number and date of birth, not both")
			}
			if err := checkParams(field+".params", mergeParams(req.Params, c.Params), ti, true); err != nil {
				return ti, err
			}
			continue
		}
		m, err := NormalizeMobile(c.Mobile)
		if err != nil {
			return ti, FieldErr(field+".mobile", "must be a mobile number 010-NNNN-NNNN")
		}
		c.Mobile = m
		if _, err := ParseBirthDate(c.BirthDate, now); err != nil {
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

// checkParams refuses unknown parameters (neither the type's nor its
// optional ones) and, when complete is set, missing ones.
func checkParams(field string, p map[string]string, ti TypeInfo, complete bool) error {
	for k, v := range p {
		if !slices.Contains(ti.Params, k) && !slices.Contains(ti.Optional, k) {
			return FieldErr(field+"."+k, "not a parameter of %s (allowed: %s)", ti.ID, strings.Join(append(slices.Clip(ti.Params), ti.Optional...), ", "))
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

// AddDeliveries counts a recipient's deliveries, one per channel in mask.
func (n *Notification) AddDeliveries(mask byte) {
	if n.PerChannel == nil {
		n.PerChannel = map[Channel]int64{}
	}
	for _, ch := range Channels {
		if mask&ChannelBit(ch) != 0 {
			n.PerChannel[ch]++
			n.Deliveries++
		}
	}
}

// NoneFor reports whether the notification has no delivery on ch, once
// its recipients are all known.
func (n *Notification) NoneFor(ch Channel) bool {
	return n.Status != StatusExpanding && n.PerChannel != nil && n.PerChannel[ch] == 0
}

// Notifications keeps agency notifications and their audiences.
type Notifications interface {
	// CreateNotification stores a request and returns the notification
	// and false; with the same agency and a non-empty idempotency key, the
	// notification made the first time and true (a repeat). A request that
	// fails its Validate is refused (a *FieldError) and nothing stored. A
	// listed audience's citizens are resolved at once: each subscribed one
	// counts once among Recipients, the others among NotSubscribed.
	CreateNotification(agency, idemKey string, req *NotificationRequest) (Notification, bool, error)
	// GetNotification is one notification by id (ErrNotFound when unknown).
	GetNotification(id uint64) (Notification, error)
	// ActiveNotifications lists those still expanding or sending.
	ActiveNotifications() ([]Notification, error)
	// ExpandCampaign adds, in steps, everyone subscribed to a campaign's
	// type; each is called after every step with the notification as far
	// as it has come. A notification with nothing to expand is returned as
	// it is; an unknown id is ErrNotFound.
	ExpandCampaign(id uint64, each func(Notification)) (Notification, error)
}
