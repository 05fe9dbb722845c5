package bolt

import (
	"strconv"
)

// Send-intents make a delivery go out once without the provider's help.
//
// Before a batch's request goes out, the dispatcher commits one intent per
// message (batched: whatever batches are ready share one transaction, as
// the results do), and it deletes them in the transaction that records the
// request's answer. An intent left over at a lane's start is a request whose
// answer was lost (a crash, a restart of the pipeline): the provider may or
// may not have taken it. Before anything is sent again the lane asks the
// provider (channel.Finder): a message it has is recorded as accepted and
// never resent; one it does not have is queued to be sent; when it cannot
// be asked, the intent stays and the question is asked again later — the
// message is neither sent nor given up.
//
// NHN Cloud takes a repeated recipientGroupingKey as a new message and
// Naver SENS has no key of ours, so resending "with the same keys" reached
// people twice.
var BucketSendIntents = []byte("send-intents") // channel(1) | id(8) | seq(4) → sendIntent

// GroupName is a request's name for the provider (NHN senderGroupingKey).
func GroupName(g uint64) string {
	return "allimi-" + strconv.FormatUint(g, 36)
}
