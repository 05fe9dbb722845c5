package kiosk

import (
	"context"
	"errors"
	"fmt"

	"allimi"
	"allimi/sync/outbox"
	"allimi/sync/uplink"
)

// SyncHandover is the Handover of a real kiosk: questions go through the
// outbox (chunked audio and the question, in one transaction), answers are
// fetched from central over the sender's connection.
type SyncHandover struct {
	outbox  *outbox.Outbox
	central *uplink.Central // nil: the kiosk has no connection configured
}

var _ Handover = (*SyncHandover)(nil)

// NewSyncHandover hands questions over through outbox and asks central for
// answers; central may be nil for a kiosk that never connects.
func NewSyncHandover(outbox *outbox.Outbox, central *uplink.Central) *SyncHandover {
	return &SyncHandover{outbox: outbox, central: central}
}

// ErrNoSuchQuestion: central knows no question with this receipt code, and
// the kiosk has none waiting to be sent.
var ErrNoSuchQuestion = errors.New("no question has this receipt code")

// Submit implements Handover. The returned code is random (see
// allimi.NewQuestionCode): whoever holds it reads the answer.
func (h *SyncHandover) Submit(q HandoverQuestion) (string, error) {
	if len(q.Audio.Data) > 0 {
		if q.Audio.SampleRate != allimi.QuestionSampleRate || q.Audio.Channels != 1 || q.Audio.Bits != 16 {
			return "", fmt.Errorf("question audio: %d Hz, %d channels, %d bits: must be 16000 Hz mono 16-bit: %w",
				q.Audio.SampleRate, q.Audio.Channels, q.Audio.Bits, allimi.ErrInvalid)
		}
	}
	reply := string(q.Reply)
	var contact allimi.Citizen
	if reply == "" {
		reply = allimi.ReplyAtKiosk
	} else {
		contact = allimi.Citizen{Name: q.Name, Mobile: q.Mobile}
	}
	code, err := allimi.NewQuestionCode()
	if err != nil {
		return "", err
	}
	drafts, err := outbox.QuestionDrafts(allimi.QuestionPayload{Code: code, Lang: string(q.Lang), Text: q.Text, Reply: reply},
		contact, q.Audio.Data)
	if err != nil {
		return "", err
	}
	if _, err := h.outbox.Append(drafts...); err != nil {
		return "", err
	}
	return code, nil
}

// Answer implements Handover. A code as a person types it (lower case,
// no dash) is accepted. A question still in this kiosk's outbox is "not
// answered yet"; a code neither central nor the outbox knows is
// ErrNoSuchQuestion; a typo that cannot be a code wraps allimi.ErrInvalid.
func (h *SyncHandover) Answer(ctx context.Context, code string) (string, bool, error) {
	norm, ok := allimi.NormalizeReceiptCode(code)
	if !ok {
		return "", false, fmt.Errorf("receipt code %q: 12 letters and digits as on the slip (10 on older slips): %w", code, allimi.ErrInvalid)
	}
	waiting, err := h.outbox.HasQuestion(norm)
	if err != nil {
		return "", false, err
	}
	if waiting {
		// Central cannot have answered a question it has not got.
		return "", false, nil
	}
	if h.central == nil {
		return "", false, uplink.ErrOffline
	}
	answer, answered, err := h.central.QuestionAnswer(ctx, norm)
	var re *uplink.ReplyError
	if errors.As(err, &re) && re.Code == "not-found" {
		return "", false, fmt.Errorf("%s: %w", norm, ErrNoSuchQuestion)
	}
	return answer, answered, err
}
