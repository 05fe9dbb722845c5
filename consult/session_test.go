package consult

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSession_RecentNewestFirst(t *testing.T) {
	s := NewSession(3)
	s.Add("주거급여 신청")
	s.Add("  여권   분실 ")
	s.Add("")
	s.Add("   ")
	assert.Equal(t, []string{"여권 분실", "주거급여 신청"}, s.Recent())
}

func TestSession_RepeatMovesToFront(t *testing.T) {
	s := NewSession(3)
	s.Add("주거급여 신청")
	s.Add("여권 분실")
	s.Add("주거 급여 신청?")
	assert.Equal(t, []string{"주거 급여 신청?", "여권 분실"}, s.Recent())
}

func TestSession_KeepsAtMostMax(t *testing.T) {
	s := NewSession(2)
	for _, q := range []string{"하나", "둘", "셋"} {
		s.Add(q)
	}
	assert.Equal(t, []string{"셋", "둘"}, s.Recent())
	var zero Session
	for _, q := range []string{"1", "2", "3", "4", "5", "6", "7"} {
		zero.Add(q)
	}
	assert.Len(t, zero.Recent(), DefaultRecent)
}

func TestSession_ClearAtIdleReset(t *testing.T) {
	s := NewSession(3)
	s.Add("주거급여 신청")
	got := s.Recent()
	got[0] = "changed"
	assert.Equal(t, []string{"주거급여 신청"}, s.Recent(), "Recent returns a copy")
	s.Clear()
	assert.Empty(t, s.Recent())
}

func TestSession_Concurrent(t *testing.T) {
	s := NewSession(5)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				s.Add(string(rune('가' + i*50 + j)))
				_ = s.Recent()
				if j%17 == 0 {
					s.Clear()
				}
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, len(s.Recent()), 5)
}
