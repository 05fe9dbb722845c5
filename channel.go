package allimi

import "fmt"

// Channel is a way to reach a person's phone.
type Channel string

// The channels. SMS is always possible: every mobile number can get one.
const (
	ChannelKakao Channel = "kakao" // KakaoTalk AlimTalk
	ChannelNaver Channel = "naver" // Naver app notice
	ChannelToss  Channel = "toss"  // Toss push
	ChannelSMS   Channel = "sms"   // SMS / LMS
)

// Channels lists every channel in the order the kiosk offers them.
var Channels = []Channel{ChannelKakao, ChannelNaver, ChannelToss, ChannelSMS}

// Validate reports whether c is a known channel.
func (c Channel) Validate() error {
	for _, x := range Channels {
		if x == c {
			return nil
		}
	}
	return fmt.Errorf("channel %q: unknown: %w", string(c), ErrInvalid)
}

// ChannelBit is a channel's bit in a subscription mask.
func ChannelBit(ch Channel) byte {
	for i, c := range Channels {
		if c == ch {
			return 1 << i
		}
	}
	return 0
}
