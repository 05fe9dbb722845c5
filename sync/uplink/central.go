package uplink

import (
	"context"
	"fmt"

	"allimi"
	"allimi/sync/wire"
)

// Central is what a kiosk asks central over its sender's connection:
// verification codes and consent conflicts. Every call fails at once with
// ErrOffline when the kiosk is not connected.
type Central struct{ s *Sender }

// NewCentral asks central through s (which must be running).
func NewCentral(s *Sender) *Central { return &Central{s: s} }

// ReplyError is central's refusal of a request.
type ReplyError struct {
	Op   string
	Code string // as in wire.Reply.Code
	Msg  string
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("central refused %s (%s): %s", e.Op, e.Code, e.Msg)
}

func (c *Central) do(ctx context.Context, r wire.Request) (wire.Reply, error) {
	rep, err := c.s.Request(ctx, r)
	if err != nil {
		return rep, err
	}
	if !rep.OK {
		return rep, &ReplyError{Op: r.Op, Code: rep.Code, Msg: rep.Error}
	}
	return rep, nil
}

// RequestCode asks central to text a verification code to mobile.
func (c *Central) RequestCode(ctx context.Context, mobile string) error {
	_, err := c.do(ctx, wire.Request{Op: wire.OpSendCode, Mobile: mobile})
	return err
}

// CheckCode reports whether code is the one central sent to mobile; a
// wrong code is (false, nil), while an expired code or too many tries is a
// *ReplyError.
func (c *Central) CheckCode(ctx context.Context, mobile, code string) (bool, error) {
	_, err := c.do(ctx, wire.Request{Op: wire.OpCheckCode, Mobile: mobile, Code: code})
	if re, ok := err.(*ReplyError); ok && re.Code == "wrong-code" {
		return false, nil
	}
	return err == nil, err
}

// Conflicts lists the open consent conflicts that involve this kiosk. Each
// names the person masked and its sides only by time (Grant.At,
// Withdrawal.At): what the kiosk's official needs to ask the person.
func (c *Central) Conflicts(ctx context.Context) ([]allimi.Conflict, error) {
	rep, err := c.do(ctx, wire.Request{Op: wire.OpListConflicts})
	return rep.Conflicts, err
}

// Resolve settles conflict id with the person's decision, by official.
func (c *Central) Resolve(ctx context.Context, id uint64, decision allimi.ConsentAction, official string) error {
	_, err := c.do(ctx, wire.Request{Op: wire.OpResolveConflict, Conflict: id, Decision: decision, Official: official})
	return err
}

// QuestionAnswer asks central for the official's answer to the question
// with receipt code; answered is false while nobody has answered. An
// unknown code is a *ReplyError with Code "not-found"; too many unknown
// codes from this kiosk, "too-many-tries".
func (c *Central) QuestionAnswer(ctx context.Context, code string) (answer string, answered bool, err error) {
	rep, err := c.do(ctx, wire.Request{Op: wire.OpQuestionAnswer, Code: code})
	return rep.Answer, rep.Answered, err
}
