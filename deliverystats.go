package allimi

import (
	"fmt"
	"strings"
	"time"
)

// DeliveryCell names one figure of the dated delivery statistics: what
// happened (Outcome, one of the dispatcher's metrics: sent, delivered,
// failed, fellBack, deadLetter, expired) on a KST day to the messages of a
// type on a channel whose recipients signed up at a kiosk of Region.
type DeliveryCell struct {
	Day     string // KST date, YYYY-MM-DD (KSTDay)
	Region  string // "시도" or "시도/시군구" of the sign-up's kiosk; "" when unknown
	Type    NotificationType
	Channel Channel
	Outcome string
}

// DeliveryCount is one figure of the dated delivery statistics.
type DeliveryCount struct {
	DeliveryCell
	N int64
}

// KSTDay is the Korean date of t, YYYY-MM-DD.
func KSTDay(t time.Time) string { return t.In(KST).Format(time.DateOnly) }

// ParseKSTDay checks a date as KSTDay writes it.
func ParseKSTDay(field, s string) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, s, KST)
	if err != nil || d.Format(time.DateOnly) != s {
		return time.Time{}, fmt.Errorf("%s %q: not a date (YYYY-MM-DD): %w", field, s, ErrInvalid)
	}
	return d, nil
}

// SplitRegion is a region's 시도 and 시군구 ("" when it names none).
func SplitRegion(region string) (sido, sigungu string) {
	sido, sigungu, _ = strings.Cut(region, "/")
	return sido, sigungu
}

// ChannelStates counts one notification's delivery records on one channel
// by state, and how many of them stand in for a messenger (SMS/LMS
// fallbacks, DeliveryFallback).
type ChannelStates struct {
	States    map[DeliveryState]int64
	Fallbacks int64
}

// Add counts a record.
func (c *ChannelStates) Add(rec DeliveryRecord) {
	if c.States == nil {
		c.States = map[DeliveryState]int64{}
	}
	c.States[rec.State]++
	if rec.Flags&DeliveryFallback != 0 {
		c.Fallbacks++
	}
}

// DeliveryReports are the statistics as the ministry reads them: messages
// per day, region, type and channel, and each notification's deliveries
// per channel and state.
type DeliveryReports interface {
	// DailyDeliveries lists the dated figures of the days from to to (KST
	// dates, both included; ErrInvalid when either is not a date), in the
	// order of day, region, type, channel and outcome.
	DailyDeliveries(from, to string) ([]DeliveryCount, error)
	// NotificationChannels counts notification id's delivery records
	// (deliveries tried at least once) per channel and state; a channel
	// without any is absent.
	NotificationChannels(id uint64) (map[Channel]ChannelStates, error)
}

// SubscriberReports count people, not consents.
type SubscriberReports interface {
	// ChannelSubscribers counts, per channel, the people with at least one
	// active grant on it (a channel with none is absent or zero).
	ChannelSubscribers() (map[Channel]int64, error)
}

// KioskRegions keeps where each kiosk stands: "시도" or "시도/시군구", the
// region its sign-ups are counted under (DeliveryCell.Region).
type KioskRegions interface {
	// SetKioskRegion sets a registered kiosk's region (ErrNotFound for an
	// unknown kiosk; ErrInvalid for a region that is no 시도 or
	// 시도/시군구 of Korea); "" clears it. A sign-up the kiosk sends after
	// is counted under it.
	SetKioskRegion(id, region string) error
	// KioskRegion reads it ("" when none; ErrNotFound for an unknown
	// kiosk).
	KioskRegion(id string) (string, error)
}

// ChannelName is a channel as people in Korea call it: 카카오톡, 네이버,
// 토스, 문자; the channel's id for one this build does not know.
func ChannelName(ch Channel) string {
	if n, ok := channelNames[ch]; ok {
		return n
	}
	return string(ch)
}
