package pg

import (
	"sort"

	"allimi"
)

// countFeedback counts a "was this helpful?" answer.
func (b *batch) countFeedback(e *allimi.Event) error {
	f, err := e.Feedback()
	if err != nil {
		return err
	}
	helpful, not := 0, 1
	if f.Helpful {
		helpful, not = 1, 0
	}
	b.w.queue(`INSERT INTO feedback (entry, helpful, not_helpful) VALUES ($1, $2, $3)
		ON CONFLICT (entry) DO UPDATE SET helpful = feedback.helpful + EXCLUDED.helpful, not_helpful = feedback.not_helpful + EXCLUDED.not_helpful`,
		f.Entry, helpful, not)
	return nil
}

// Feedback lists the counts, least helpful first: the entries officials
// should look at.
func (s *Store) Feedback() ([]allimi.FeedbackCount, error) {
	rows, err := s.pool.Query(s.ctx(), `SELECT entry, helpful, not_helpful FROM feedback ORDER BY entry COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []allimi.FeedbackCount{}
	for rows.Next() {
		var f allimi.FeedbackCount
		var h, n int64
		if err := rows.Scan(&f.Entry, &h, &n); err != nil {
			return nil, err
		}
		f.Helpful, f.NotHelpful = uint64(h), uint64(n)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].NotHelpful*(out[j].Helpful+out[j].NotHelpful+1) > out[j].NotHelpful*(out[i].Helpful+out[i].NotHelpful+1)
	})
	return out, nil
}
