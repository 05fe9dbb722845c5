package api

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"allimi"
)

// The statistics as the ministry reads them: people (not consents) per
// channel with each channel's share, and messages per type and channel —
// sent, delivered, failed, fell back — per KST day or per region of the
// kiosks people signed up at. JSON, or CSV with a header row for
// `Accept: text/csv` or `?format=csv`.

// SubscriberStats answers GET /api/v1/stats/subscribers.
type SubscriberStats struct {
	// Total counts the people with at least one active grant.
	Total    int64                `json:"total"`
	Channels []ChannelSubscribers `json:"channels"`
}

// ChannelSubscribers is one channel's line of SubscriberStats.
type ChannelSubscribers struct {
	Channel allimi.Channel `json:"channel"`
	Name    string         `json:"name"` // 카카오톡, 네이버, 토스, 문자
	// People with at least one active grant on the channel.
	Subscribers int64 `json:"subscribers"`
	// Share is the channel's percentage of all channels' subscribers (the
	// channels' shares add up to 100, as in the ministry's table);
	// OfPeople its percentage of Total (someone on two channels counts on
	// each).
	Share    float64 `json:"share"`
	OfPeople float64 `json:"ofPeople"`
}

// subscriberStats reads them.
func (s *Server) subscriberStats() (SubscriberStats, error) {
	total, err := s.Store.Subscribers()
	if err != nil {
		return SubscriberStats{}, err
	}
	per, err := s.Store.ChannelSubscribers()
	if err != nil {
		return SubscriberStats{}, err
	}
	var sum int64
	for _, ch := range allimi.Channels {
		sum += per[ch]
	}
	out := SubscriberStats{Total: total, Channels: []ChannelSubscribers{}}
	for _, ch := range allimi.Channels {
		out.Channels = append(out.Channels, ChannelSubscribers{Channel: ch, Name: allimi.ChannelName(ch), Subscribers: per[ch],
			Share: percent(per[ch], sum), OfPeople: percent(per[ch], total)})
	}
	return out, nil
}

// percent is n of total in percent, to one decimal; 0 of nothing.
func percent(n, total int64) float64 {
	if total == 0 {
		return 0
	}
	return math.Round(float64(n)*1000/float64(total)) / 10
}

func (s *Server) handleSubscriberStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.subscriberStats()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if !wantsCSV(r) {
		writeJSON(w, http.StatusOK, st)
		return
	}
	rows := [][]string{{"channel", "name", "subscribers", "share", "ofPeople"}}
	for _, c := range st.Channels {
		rows = append(rows, []string{string(c.Channel), c.Name, itoa(c.Subscribers), ftoa(c.Share), ftoa(c.OfPeople)})
	}
	rows = append(rows, []string{"total", "합계", itoa(st.Total), "", ""})
	writeCSV(w, "subscribers.csv", rows)
}

// MessageStats answers GET /api/v1/stats/messages.
type MessageStats struct {
	From string       `json:"from"`
	To   string       `json:"to"`
	By   string       `json:"by"` // day, region or type
	Rows []MessageRow `json:"rows"`
}

// MessageRow is one line: the messages of a type on a channel, on a day
// (by=day) or to people who signed up in a region (by=region), or over the
// whole period (by=type). Percentages are of Sent, to one decimal.
type MessageRow struct {
	Day      string                  `json:"day,omitempty"`
	Sido     string                  `json:"sido,omitempty"`    // "" (with by=region): signed up at a kiosk without a region
	Sigungu  string                  `json:"sigungu,omitempty"` // "" when the kiosk's region names none
	Type     allimi.NotificationType `json:"type"`
	TypeName string                  `json:"typeName"`
	Channel  allimi.Channel          `json:"channel"`
	// Sent: accepted by the provider. Delivered: its receipt said so.
	// Failed: given up on this channel (dead letters among them). FellBack:
	// refused or given up on a messenger, sent by SMS instead (the
	// person's own SMS delivery, or one standing in).
	Sent         int64   `json:"sent"`
	Delivered    int64   `json:"delivered"`
	Failed       int64   `json:"failed"`
	FellBack     int64   `json:"fellBack"`
	DeadLetters  int64   `json:"deadLetters"`
	Expired      int64   `json:"expired"`
	DeliveredPct float64 `json:"deliveredPct"`
	FailedPct    float64 `json:"failedPct"`
	FellBackPct  float64 `json:"fellBackPct"`
}

// maxStatsDays bounds a period asked for.
const maxStatsDays = 3660

// messageStats reads and groups the dated statistics of from to to.
func (s *Server) messageStats(from, to, by string) (MessageStats, error) {
	switch by {
	case "":
		by = "type"
	case "day", "region", "type":
	default:
		return MessageStats{}, fmt.Errorf("by %q: day, region or type: %w", by, allimi.ErrInvalid)
	}
	today := allimi.KSTDay(time.Now())
	if to == "" {
		to = today
	}
	toDay, err := allimi.ParseKSTDay("to", to)
	if err != nil {
		return MessageStats{}, err
	}
	if from == "" {
		from = allimi.KSTDay(toDay.AddDate(0, 0, -29))
	}
	fromDay, err := allimi.ParseKSTDay("from", from)
	if err != nil {
		return MessageStats{}, err
	}
	switch {
	case fromDay.After(toDay):
		return MessageStats{}, fmt.Errorf("from %s is after to %s: %w", from, to, allimi.ErrInvalid)
	case toDay.Sub(fromDay) > maxStatsDays*24*time.Hour:
		return MessageStats{}, fmt.Errorf("from %s to %s: at most %d days: %w", from, to, maxStatsDays, allimi.ErrInvalid)
	}
	counts, err := s.Store.DailyDeliveries(from, to)
	if err != nil {
		return MessageStats{}, err
	}
	type key struct {
		day, region string
		t           allimi.NotificationType
		ch          allimi.Channel
	}
	rows := map[key]*MessageRow{}
	for _, c := range counts {
		k := key{t: c.Type, ch: c.Channel}
		switch by {
		case "day":
			k.day = c.Day
		case "region":
			k.region = c.Region
		}
		row := rows[k]
		if row == nil {
			row = &MessageRow{Day: k.day, Type: c.Type, TypeName: string(c.Type), Channel: c.Channel}
			if ti, ok := c.Type.Info(); ok {
				row.TypeName = ti.Name
			}
			row.Sido, row.Sigungu = allimi.SplitRegion(k.region)
			rows[k] = row
		}
		switch c.Outcome {
		case "sent":
			row.Sent += c.N
		case "delivered":
			row.Delivered += c.N
		case "failed":
			row.Failed += c.N
		case "fellBack":
			row.FellBack += c.N
		case "deadLetter":
			row.DeadLetters += c.N
		case "expired":
			row.Expired += c.N
		}
	}
	out := MessageStats{From: from, To: to, By: by, Rows: make([]MessageRow, 0, len(rows))}
	for _, row := range rows {
		row.DeliveredPct, row.FailedPct, row.FellBackPct = percent(row.Delivered, row.Sent), percent(row.Failed, row.Sent), percent(row.FellBack, row.Sent)
		out.Rows = append(out.Rows, *row)
	}
	slices.SortFunc(out.Rows, func(a, b MessageRow) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Sido, b.Sido), cmp.Compare(a.Sigungu, b.Sigungu),
			cmp.Compare(typeOrder(a.Type), typeOrder(b.Type)), cmp.Compare(a.Type, b.Type),
			cmp.Compare(channelOrder(a.Channel), channelOrder(b.Channel)))
	})
	return out, nil
}

// typeOrder and channelOrder sort as allimi.Types() and allimi.Channels.
func typeOrder(t allimi.NotificationType) int {
	return slices.IndexFunc(allimi.Types(), func(ti allimi.TypeInfo) bool { return ti.ID == t })
}

func channelOrder(ch allimi.Channel) int { return slices.Index(allimi.Channels, ch) }

func (s *Server) handleMessageStats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	st, err := s.messageStats(q.Get("from"), q.Get("to"), q.Get("by"))
	if errors.Is(err, allimi.ErrInvalid) {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if !wantsCSV(r) {
		writeJSON(w, http.StatusOK, st)
		return
	}
	var head []string
	switch st.By {
	case "day":
		head = []string{"day"}
	case "region":
		head = []string{"sido", "sigungu"}
	}
	head = append(head, "type", "typeName", "channel", "sent", "delivered", "failed", "fellBack", "deadLetters", "expired",
		"deliveredPct", "failedPct", "fellBackPct")
	rows := [][]string{head}
	for _, m := range st.Rows {
		var line []string
		switch st.By {
		case "day":
			line = []string{m.Day}
		case "region":
			line = []string{m.Sido, m.Sigungu}
		}
		line = append(line, string(m.Type), m.TypeName, string(m.Channel), itoa(m.Sent), itoa(m.Delivered), itoa(m.Failed),
			itoa(m.FellBack), itoa(m.DeadLetters), itoa(m.Expired), ftoa(m.DeliveredPct), ftoa(m.FailedPct), ftoa(m.FellBackPct))
		rows = append(rows, line)
	}
	writeCSV(w, "messages-"+st.By+"-"+st.From+"-"+st.To+".csv", rows)
}

// wantsCSV: ?format=csv, or an Accept header that names text/csv (and not
// JSON first).
func wantsCSV(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "csv":
		return true
	case "json":
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "text/csv":
			return true
		case "application/json":
			return false
		}
	}
	return false
}

func writeCSV(w http.ResponseWriter, name string, rows [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.WriteAll(rows)
}

func itoa(n int64) string   { return strconv.FormatInt(n, 10) }
func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// ChannelStatus is where a notification's deliveries on one channel
// stand (GET /api/v1/notifications/{id}): Deliveries are the
// notification's own on the channel (one per recipient who consented to
// it); on SMS, Fallbacks are those standing in for a messenger besides.
// Sent counts those the provider took (Delivered among them); Failed
// those given up on this channel (DeadLetters among them, and Expired);
// FellBack the messengers' that went by SMS instead; Pending those not
// yet tried or to be tried again (Retrying among them).
type ChannelStatus struct {
	Deliveries  int64 `json:"deliveries"`
	Fallbacks   int64 `json:"fallbacks,omitempty"`
	Sent        int64 `json:"sent"`
	Delivered   int64 `json:"delivered"`
	Failed      int64 `json:"failed"`
	FellBack    int64 `json:"fellBack"`
	DeadLetters int64 `json:"deadLetters"`
	Expired     int64 `json:"expired"`
	Retrying    int64 `json:"retrying"`
	Pending     int64 `json:"pending"`
}

// channelStatus is a notification's ChannelStatus per channel: every
// channel it has deliveries on.
func channelStatus(n allimi.Notification, states map[allimi.Channel]allimi.ChannelStates) map[allimi.Channel]ChannelStatus {
	out := map[allimi.Channel]ChannelStatus{}
	for _, ch := range allimi.Channels {
		cs, recorded := states[ch]
		if n.PerChannel[ch] == 0 && !recorded {
			continue
		}
		st := cs.States
		c := ChannelStatus{Deliveries: n.PerChannel[ch], Fallbacks: cs.Fallbacks,
			Sent:      st[allimi.DeliveryAccepted] + st[allimi.DeliveryDelivered],
			Delivered: st[allimi.DeliveryDelivered],
			Failed:    st[allimi.DeliveryFailed] + st[allimi.DeliveryDeadLetter] + st[allimi.DeliveryExpired],
			FellBack:  st[allimi.DeliveryFellBack], DeadLetters: st[allimi.DeliveryDeadLetter], Expired: st[allimi.DeliveryExpired],
			Retrying: st[allimi.DeliveryRetrying]}
		settled := c.Sent + c.Failed + c.FellBack
		c.Pending = max(0, c.Deliveries+c.Fallbacks-settled)
		out[ch] = c
	}
	return out
}
