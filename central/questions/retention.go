package questions

import (
	"context"
	"log/slog"
	"time"

	"allimi"
	"allimi/internal/periodic"
)

// PurgeAudio applies the retention policy at start and then every
// interval (a tenth of the shortest period, between a minute and an hour)
// until ctx ends.
func PurgeAudio(ctx context.Context, st allimi.Questions, p allimi.RetentionPolicy, log *slog.Logger) {
	every := time.Hour
	for _, d := range []time.Duration{p.KeepAnswered, p.MaxAge} {
		if d > 0 {
			every = min(every, max(d/10, time.Minute))
		}
	}
	purge := func() {
		if n, err := st.PurgeQuestionAudio(time.Now(), p); err != nil {
			log.Error("deleting question recordings", "err", err)
		} else if n > 0 {
			log.Info("deleted question recordings under the retention policy", "count", n)
		}
	}
	purge()
	periodic.Every(ctx, every, purge)
}
