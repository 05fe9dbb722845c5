package channel

import (
	"context"
	"time"
)

// Finder is an Adapter whose provider can say what became of messages
// whose send request went out but whose answer was lost (a crash between
// the request and the recording of its answer). Central asks before it
// sends such messages again, because no provider here promises to drop a
// repeat: NHN Cloud takes a repeated recipientGroupingKey as a new message,
// and Naver SENS has no key of ours at all.
type Finder interface {
	// Find asks about msgs, each in a request made at or after since (as
	// the caller's clock saw it), each with the Key, Recipient, Text and
	// Group it was sent with. It returns one Result per message, in
	// order: Accepted when the provider has the message, NotFound when it
	// has none (it may be sent). An error means the provider could not be
	// asked: nothing is known, and nothing may be sent.
	Find(ctx context.Context, since time.Time, msgs []Message) ([]Result, error)
}

// findSlack widens a query's time window on both sides: the provider's
// clock is not ours, and its request date is when it took the request,
// which may be up to a request timeout after we sent it.
const findSlack = 10 * time.Minute

// kst is the providers' clock: NHN Cloud and Naver Cloud take and return
// dates in Korea Standard Time, without a zone.
var kst = time.FixedZone("KST", 9*3600)

// window is the query window for messages sent at or after since.
func window(since time.Time) (from, to time.Time) {
	return since.Add(-findSlack).In(kst), time.Now().Add(findSlack).In(kst)
}

// notFound starts a Find's answer: every message unknown until the
// provider names it.
func notFound(msgs []Message) ([]Result, map[string]int) {
	res := make([]Result, len(msgs))
	idx := make(map[string]int, len(msgs))
	for i, m := range msgs {
		res[i] = Result{Key: m.Key, Status: NotFound}
		idx[m.Key] = i
	}
	return res, idx
}

// groupsOf lists the distinct non-empty Groups of msgs in order, and the
// messages that have none.
func groupsOf(msgs []Message) (groups []string, loose []int) {
	seen := map[string]bool{}
	for i, m := range msgs {
		switch {
		case m.Group == "":
			loose = append(loose, i)
		case !seen[m.Group]:
			seen[m.Group] = true
			groups = append(groups, m.Group)
		}
	}
	return groups, loose
}
