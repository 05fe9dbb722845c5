package channel

import (
	"html/template"
	"net/http"
	"slices"
)

// The inbox page shows, for `make demo`, what each phone would have
// received: one card per phone number, its messages newest first, with the
// channel as a coloured badge. It refreshes itself every 2 seconds.
var inboxPage = template.Must(template.New("inbox").Parse(`<!doctype html>
<html lang="ko"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="2">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Allimi — fake providers: phones</title>
<style>
body { font-family: "Noto Sans CJK KR", "Noto Sans KR", "NanumGothic", "Malgun Gothic", sans-serif; background: #eef1f5; margin: 0; padding: 1.5rem; color: #1b1f24; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
p.note { color: #555; margin: 0 0 1.5rem; font-size: 1rem; }
.phones { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
.phone { background: #fff; border: 10px solid #222; border-radius: 28px; width: 25rem; max-height: 42rem; overflow-y: auto; padding: 1rem; box-shadow: 0 4px 14px rgba(0,0,0,.15); }
.number { font-size: 1.4rem; font-weight: bold; text-align: center; margin-bottom: .8rem; }
.msg { border-radius: 14px; padding: .8rem 1rem; margin: 0 0 .9rem; background: #f6f7f9; }
.msg.undelivered { opacity: .45; }
.badge { display: inline-block; font-size: .9rem; font-weight: bold; border-radius: 8px; padding: .1rem .55rem; margin-right: .4rem; }
.kakao { background: #fee500; color: #191919; }
.naver { background: #03c75a; color: #fff; }
.toss  { background: #0064ff; color: #fff; }
.sms   { background: #6b7280; color: #fff; }
.when { color: #666; font-size: .9rem; }
.title { font-size: 1.3rem; font-weight: bold; margin: .5rem 0 .2rem; }
.text { font-size: 1.3rem; line-height: 1.55; white-space: pre-wrap; word-break: keep-all; overflow-wrap: anywhere; margin-top: .4rem; }
.empty { font-size: 1.2rem; color: #555; }
</style></head><body>
<h1>Allimi — what each phone received</h1>
<p class="note">Fake providers · {{.Total}} messages accepted · newest first · refreshes every 2 s</p>
{{if .Phones}}<div class="phones">
{{range .Phones}}<div class="phone"><div class="number">{{.Number}}</div>
{{range .Messages}}<div class="msg{{if .Undelivered}} undelivered{{end}}">
<span class="badge {{.Channel}}">{{.Channel}}</span><span class="when">{{.At.Format "15:04:05"}}{{if .Undelivered}} · not delivered{{end}}</span>
{{if .Title}}<div class="title">{{.Title}}</div>{{end}}<div class="text">{{.Text}}</div>
</div>{{end}}
</div>{{end}}
</div>{{else}}<p class="empty">No messages yet{{if .Lean}} (the fake runs with --keep-text=false: it keeps no texts){{end}}.</p>{{end}}
</body></html>
`))

const (
	inboxPhones   = 60 // most recent phones shown
	inboxMessages = 20 // most recent messages per phone
)

type inboxPhone struct {
	Number   string
	Messages []FakeMessage
	last     int64
}

func (f *Fake) serveInbox(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	byNumber := map[string]*inboxPhone{}
	var phones []*inboxPhone
	total := 0
	for i := len(f.recs) - 1; i >= 0; i-- {
		r := &f.recs[i]
		if !r.accepted {
			continue
		}
		total++
		p := byNumber[r.recipient]
		if p == nil {
			if len(phones) == inboxPhones {
				continue
			}
			p = &inboxPhone{Number: hyphenate(r.recipient), last: r.at}
			byNumber[r.recipient] = p
			phones = append(phones, p)
		}
		if len(p.Messages) < inboxMessages {
			p.Messages = append(p.Messages, r.message())
		}
	}
	lean := f.opts.Lean
	f.mu.Unlock()
	slices.SortStableFunc(phones, func(a, b *inboxPhone) int { return compareUint(uint64(b.last), uint64(a.last)) })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = inboxPage.Execute(w, struct {
		Phones []*inboxPhone
		Total  int
		Lean   bool
	}{phones, total, lean})
}
