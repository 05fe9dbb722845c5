package notify

import (
	"fmt"
	"strings"

	"allimi"
	"allimi/central/channel"
	"allimi/central/template"
)

// link returns a recipient's detail page token and link: the secret part
// is keyed, so unguessable, and the same at every resend, so a resent
// message is the same message.
func (d *Dispatcher) link(it *allimi.Outgoing) string {
	link := d.store.DetailLink(it.Ref, it.Token)
	if strings.HasPrefix(link, "/") {
		return d.cfg.LinkBase + link // the store serves no detail pages
	}
	return link
}

// render makes a batch's messages. Their links lead to pages answered
// from the notification's records (Store.ResolveToken) once a provider has
// accepted them.
func (d *Dispatcher) render(b batch) ([]channel.Message, error) {
	msgs := make([]channel.Message, len(b.items))
	// One map for the batch: Render keeps nothing of it. It is filled
	// again only when the notification or the person's own parameters
	// change (a campaign's have none): name and link are always set.
	tmpl := d.tmpl.Load()
	vars := make(map[string]string, 8)
	var filledFor *allimi.Notification
	for i, it := range b.items {
		if it.N != filledFor || len(it.Params) > 0 {
			clear(vars)
			for k, v := range it.N.Params {
				vars[k] = v
			}
			for k, v := range it.Params {
				vars[k] = v
			}
			filledFor = it.N
			if len(it.Params) > 0 {
				filledFor = nil // the next one starts afresh
			}
		}
		link := d.link(&b.items[i])
		vars["name"], vars["link"] = it.Citizen.Name, link
		r, err := tmpl.RenderNamed(it.N.Type, it.N.Template, it.Ref.Channel, vars)
		if err != nil {
			return nil, fmt.Errorf("notification %d: %w", it.N.ID, err)
		}
		msgs[i] = channel.Message{Key: it.Ref.Key(), Recipient: it.Citizen.Mobile, Template: r.Template, Params: channel.Params(r.Params),
			Title: r.Title, Text: r.Text, Link: link, LMS: r.Kind == template.LMS}
	}
	return msgs, nil
}
