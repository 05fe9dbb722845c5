package sync

import (
	"fmt"
	"hash/fnv"
	"time"

	"allimi"
)

var (
	synthSurnames = []rune("김이박최정강조윤장임한오서신권황안송류홍")
	synthGiven    = []string{"영자", "순자", "정숙", "영수", "영호", "말순", "옥순", "정희", "철수", "광수", "복순", "경자", "상철", "명숙", "춘자"}
)

// SyntheticSignup is the made-up signup a simulated kiosk writes as record
// n: a distinct person for every n of one kiosk (mobile numbers are derived
// from the kiosk id and n), consenting to every notification type on the
// given channels.
func SyntheticSignup(kiosk string, n uint64, channels []allimi.Channel, at time.Time) Draft {
	h := fnv.New32a()
	h.Write([]byte(kiosk))
	block := uint64(h.Sum32() % 10000)
	mobile := fmt.Sprintf("010-%04d-%04d", (block+n/10000)%10000, n%10000)
	name := string(synthSurnames[n%uint64(len(synthSurnames))]) + synthGiven[(n/7)%uint64(len(synthGiven))]
	birth := time.Date(1935, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(n*37%18000))
	var consents []allimi.Consent
	for _, t := range allimi.Types {
		for _, ch := range channels {
			consents = append(consents, allimi.Consent{Type: t.ID, Channel: ch, Action: allimi.ActionGrant,
				By: allimi.Actor{Kind: allimi.ActorSelf}, At: at})
		}
	}
	return Draft{Kind: allimi.KindSignup,
		Citizen: allimi.Citizen{Name: name, Mobile: mobile, BirthDate: birth.Format(allimi.DateLayout)},
		Payload: allimi.ConsentPayload{Consents: consents}}
}
