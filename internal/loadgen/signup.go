package loadgen

import (
	"fmt"
	"hash/fnv"
	"time"

	"allimi"
	"allimi/sync/outbox"
)

var (
	surnames = []rune("김이박최정강조윤장임한오서신권황안송류홍")
	given    = []string{"영자", "순자", "정숙", "영수", "영호", "말순", "옥순", "정희", "철수", "광수", "복순", "경자", "상철", "명숙", "춘자"}
)

// Person is the made-up person of record n of kiosk: a distinct person for
// every n of one kiosk (the mobile number is derived from the kiosk id and
// n), whose name, number and date of birth validate as they are.
func Person(kiosk string, n uint64) allimi.Citizen {
	h := fnv.New32a()
	h.Write([]byte(kiosk))
	block := uint64(h.Sum32() % 10000)
	mobile := fmt.Sprintf("010-%04d-%04d", (block+n/10000)%10000, n%10000)
	name := string(surnames[n%uint64(len(surnames))]) + given[(n/7)%uint64(len(given))]
	birth := time.Date(1935, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(n*37%18000))
	return allimi.Citizen{Name: name, Mobile: mobile, BirthDate: birth.Format(allimi.DateLayout)}
}

// Signup is the made-up sign-up a simulated kiosk writes as record n:
// Person(kiosk, n), consenting at at to every notification type on the
// given channels. Its payload is an *allimi.ConsentPayload.
func Signup(kiosk string, n uint64, channels []allimi.Channel, at time.Time) outbox.Draft {
	types := make([]allimi.NotificationType, len(allimi.Types()))
	for i, t := range allimi.Types() {
		types[i] = t.ID
	}
	return SignupOf(Person(kiosk, n), types, channels, "", at)
}

// SignupOf is the sign-up a simulated kiosk writes for person c: a grant
// at at of each type on each channel, by the person, in language lang
// (allimi.ConsentPayload.Lang; empty names none), the number not
// verified and no receipt code, as Signup's. Its payload is an
// *allimi.ConsentPayload.
func SignupOf(c allimi.Citizen, types []allimi.NotificationType, channels []allimi.Channel, lang string, at time.Time) outbox.Draft {
	consents := make([]allimi.Consent, 0, len(types)*len(channels))
	for _, t := range types {
		for _, ch := range channels {
			consents = append(consents, allimi.Consent{Type: t, Channel: ch, Action: allimi.ActionGrant,
				By: allimi.Actor{Kind: allimi.ActorSelf}, At: at})
		}
	}
	return outbox.Draft{Kind: allimi.KindSignup, Citizen: c,
		Payload: &allimi.ConsentPayload{Consents: consents, Lang: lang}}
}
