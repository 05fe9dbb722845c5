package consult

import (
	"strings"
	"sync"
)

// DefaultRecent is how many recent questions a Session keeps by default.
const DefaultRecent = 5

// Session holds the questions asked by the person at the kiosk, newest
// first, so the screen can offer them again. The kiosk clears it at its
// idle reset, so that the next person never sees them. It is safe for
// concurrent use; the zero value keeps DefaultRecent questions.
type Session struct {
	mu     sync.Mutex
	max    int
	recent []string
}

// NewSession returns a session that keeps the max most recent questions
// (DefaultRecent when max < 1).
func NewSession(max int) *Session { return &Session{max: max} }

// Add records a question. Blank questions are ignored; asking again a
// question already there (spacing and punctuation aside) moves it to the
// front instead of repeating it.
func (s *Session) Add(question string) {
	question = strings.Join(strings.Fields(question), " ")
	if question == "" {
		return
	}
	key := compactText(question)
	s.mu.Lock()
	defer s.mu.Unlock()
	max := s.max
	if max < 1 {
		max = DefaultRecent
	}
	out := make([]string, 0, max)
	out = append(out, question)
	for _, q := range s.recent {
		if len(out) == max {
			break
		}
		if compactText(q) != key {
			out = append(out, q)
		}
	}
	s.recent = out
}

// Recent returns the recorded questions, newest first.
func (s *Session) Recent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.recent...)
}

// Clear forgets every question: the kiosk's idle reset.
func (s *Session) Clear() {
	s.mu.Lock()
	s.recent = nil
	s.mu.Unlock()
}
