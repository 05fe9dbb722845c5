package questions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"allimi"
	"allimi/central/channel"
	"allimi/central/notify"
	"allimi/central/template"
)

// AnswerTemplate is the AlimTalk template code of an answer (kakao, naver):
// AlimTalk sends only registered templates; its variables are #{name},
// #{code} and #{answer}.
const AnswerTemplate = "ALLIMI_QNA_ANSWER"

// Answerer sends officials' answers on the channel each person chose,
// falling back to SMS/LMS when the messenger refuses the person (not a
// KakaoTalk user …). Each answer has an idempotency key per channel, so a
// crash between a provider's answer and the queue's update sends nothing
// twice to a provider that deduplicates.
type Answerer struct {
	// Store holds the answers to send and the send-intents that keep them
	// from going twice.
	Store interface {
		allimi.Questions
		allimi.QueueIntents
	}
	Adapters map[allimi.Channel]channel.Adapter
	Msgs     *template.System
	Log      *slog.Logger
	Queue    notify.Queue
}

func (a *Answerer) Run(ctx context.Context) { a.Queue.Run(ctx, a.Log, "answers", a.once) }

// CheckAnswer refuses an answer that cannot be sent as a text message, so
// that it is refused while the official is still there to shorten it.
func (a *Answerer) CheckAnswer(text string) error {
	if _, _, err := a.Msgs.Render(template.QuestionAnswer, map[string]string{"name": "", "code": "", "answer": text}); err != nil {
		return fmt.Errorf("answer: too long for a text message: %w", allimi.ErrInvalid)
	}
	return nil
}

// Poke sends what is queued now.
func (a *Answerer) Poke() { a.Queue.Poke() }

// once sends what is queued, one message per request (answers are few);
// it returns how many it settled.
func (a *Answerer) once(ctx context.Context) (int, error) {
	pend, err := a.Store.PendingAnswers(100)
	if err != nil || len(pend) == 0 {
		return 0, err
	}
	settled := 0
	var errs []error
	for _, p := range pend {
		delivery, err := a.send(ctx, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("question %d: %w", p.Question.ID, err))
			continue
		}
		if err := a.Store.AnswerSent(p.Question.ID, delivery); err != nil {
			return settled, err
		}
		for _, ch := range []allimi.Channel{allimi.Channel(p.Question.Reply), allimi.ChannelSMS} {
			if err := a.Store.QueueSettled(ch, answerKey(p, ch)); err != nil {
				return settled, err
			}
		}
		a.Log.Info("answer sent", "question", p.Question.ID, "delivery", delivery)
		settled++
	}
	return settled, errors.Join(errs...)
}

// send sends one answer and says how it went; an error means "try again".
func (a *Answerer) send(ctx context.Context, p allimi.PendingAnswer) (string, error) {
	text, lms, err := a.Msgs.Render(template.QuestionAnswer, map[string]string{
		"name": p.Citizen.Name, "code": p.Question.Code, "answer": p.Question.Answer})
	if err != nil {
		// The answer was checked when the official gave it: this is a
		// template that no longer fits, which waiting will not fix.
		return "refused: " + err.Error(), nil
	}
	ch := allimi.Channel(p.Question.Reply)
	r, err := a.sendOn(ctx, ch, p, text, lms)
	if err != nil {
		return "", err
	}
	switch {
	case r.Status == channel.Accepted:
		return string(ch), nil
	case r.Status == channel.Retry:
		return "", fmt.Errorf("%s asks to try again: %s %s", ch, r.Code, r.Reason)
	case ch == allimi.ChannelSMS:
		return fmt.Sprintf("refused by sms: %s %s", r.Code, r.Reason), nil
	}
	a.Log.Info("answer falls back to SMS", "question", p.Question.ID, "channel", ch, "code", r.Code)
	r, err = a.sendOn(ctx, allimi.ChannelSMS, p, text, lms)
	switch {
	case err != nil:
		return "", err
	case r.Status == channel.Accepted:
		return fmt.Sprintf("sms (fallback from %s)", ch), nil
	case r.Status == channel.Retry:
		return "", fmt.Errorf("sms asks to try again: %s %s", r.Code, r.Reason)
	}
	return fmt.Sprintf("refused by %s and sms: %s %s", ch, r.Code, r.Reason), nil
}

func (a *Answerer) sendOn(ctx context.Context, ch allimi.Channel, p allimi.PendingAnswer, text string, lms bool) (channel.Result, error) {
	ad := a.Adapters[ch]
	if ad == nil {
		return channel.Result{}, fmt.Errorf("no %s provider configured", ch)
	}
	m := channel.Message{Key: answerKey(p, ch), Recipient: p.Citizen.Mobile, Title: "알리미 답변",
		Text: text, LMS: lms}
	if ch == allimi.ChannelKakao || ch == allimi.ChannelNaver {
		m.Template = AnswerTemplate
		m.Params = channel.ParamsOf("name", p.Citizen.Name, "code", p.Question.Code, "answer", p.Question.Answer)
	}
	res, err := notify.SendOnce(ctx, a.Store, ad, []channel.Message{m})
	if err != nil {
		return channel.Result{}, err
	}
	if len(res) != 1 {
		return channel.Result{}, fmt.Errorf("%s answered for %d messages, not 1", ch, len(res))
	}
	return res[0], nil
}

// answerKey is an answer's idempotency key on ch.
func answerKey(p allimi.PendingAnswer, ch allimi.Channel) string {
	return fmt.Sprintf("qa-%d-%s", p.Question.ID, ch)
}
