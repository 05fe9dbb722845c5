package subsidy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestAgeNow_AnAgeGivenLastYearIsAYearMoreNow(t *testing.T) {
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, 70, ageNow(70, at, at))
	assert.Equal(t, 70, ageNow(70, at, at.AddDate(0, 11, 0)))
	assert.Equal(t, 71, ageNow(70, at, at.AddDate(1, 0, 1)))
	assert.Equal(t, 72, ageNow(70, at, at.AddDate(2, 1, 0)))
	assert.Equal(t, 70, ageNow(70, time.Time{}, at), "no date: as given")
}
