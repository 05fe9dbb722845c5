package template

import (
	"strings"
	"testing"

	"allimi"
)

// BenchmarkRender renders the traffic-fine notice as central does once per
// delivery. The baselines, measured in the same run, are the naive way
// (a strings.Replacer over the raw body, built per call as the values
// change) and the floor (copying a string of the same length).
func BenchmarkRender(b *testing.B) {
	s, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	for _, ch := range []allimi.Channel{allimi.ChannelKakao, allimi.ChannelSMS} {
		b.Run(string(ch), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Render(allimi.TypeTrafficFine, ch, sampleVars); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(ch)+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Render(allimi.TypeTrafficFine, ch, sampleVars); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})

		c := s.byKey[key{allimi.TypeTrafficFine, "", ch, allimi.DefaultLanguage}]
		var raw strings.Builder
		for _, sg := range c.segs {
			if sg.v < 0 {
				raw.WriteString(sg.text)
			} else {
				raw.WriteString("{{" + c.vars[sg.v] + "}}")
			}
		}
		body := raw.String()
		b.Run(string(ch)+"/baseline-replacer", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				pairs := make([]string, 0, 2*len(sampleVars))
				for k, v := range sampleVars {
					pairs = append(pairs, "{{"+k+"}}", v)
				}
				_ = strings.NewReplacer(pairs...).Replace(body)
			}
		})
		r, _ := s.Render(allimi.TypeTrafficFine, ch, sampleVars)
		b.Run(string(ch)+"/baseline-copy", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = strings.Clone(r.Text)
			}
		})
	}
}
