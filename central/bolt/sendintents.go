package bolt

import (
	"encoding/binary"
	"fmt"

	"allimi"
)

// Send-intents make a delivery go out once without the provider's help
// (central/notify/sendintents.go says how the dispatcher uses them).
// NHN Cloud takes a repeated recipientGroupingKey as a new message and
// Naver SENS has no key of ours, so resending "with the same keys" reached
// people twice.

const sendIntentSize = 18

func sendIntentKey(r allimi.DeliveryRef) []byte {
	k := make([]byte, 0, 13)
	k = append(k, channelIndex(r.Channel))
	k = binary.BigEndian.AppendUint64(k, r.Notification)
	return binary.BigEndian.AppendUint32(k, r.Seq)
}

func sendIntentValue(si *allimi.SendIntent) []byte {
	v := make([]byte, 0, sendIntentSize)
	v = binary.BigEndian.AppendUint64(v, uint64(si.At))
	v = binary.BigEndian.AppendUint64(v, si.Group)
	fresh := byte(0)
	if si.Fresh {
		fresh = 1
	}
	return append(v, si.Flags, fresh)
}

func decodeSendIntent(k, v []byte) (allimi.SendIntent, error) {
	if len(k) != 13 || int(k[0]) >= len(allimi.Channels) || len(v) != sendIntentSize {
		return allimi.SendIntent{}, fmt.Errorf("send intent %x: damaged", k)
	}
	return allimi.SendIntent{
		Ref: allimi.DeliveryRef{Notification: binary.BigEndian.Uint64(k[1:]), Seq: binary.BigEndian.Uint32(k[9:]),
			Channel: allimi.Channels[k[0]]},
		At: int64(binary.BigEndian.Uint64(v)), Group: binary.BigEndian.Uint64(v[8:]), Flags: v[16], Fresh: v[17] == 1,
	}, nil
}
