package consult

import (
	_ "embed" // the dev set
	"fmt"
	"strings"
	"time"
)

//go:embed testdata/devset.tsv
var defaultDevSet string

// DevQuestion is one paraphrased question of the dev set.
type DevQuestion struct {
	// Split is "dev" (the weights and the lexicon were tuned on these) or
	// "test" (held out: only reported).
	Split string
	// IDs are the entries that answer the question; none when no entry
	// does (the retriever should then not be Confident).
	IDs      []string
	Question string
}

// Dev set splits.
const (
	SplitDev  = "dev"
	SplitTest = "test"
)

// ParseDevSet reads a dev set: lines of split, ids (comma separated, or
// "-" for none) and question, separated by tabs; blank lines and lines
// starting with "#" are skipped.
func ParseDevSet(text string) ([]DevQuestion, error) {
	var out []DevQuestion
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 3 {
			return nil, fmt.Errorf("dev set line %d: want split, ids and question separated by tabs, got %d columns", i+1, len(cols))
		}
		q := DevQuestion{Split: cols[0], Question: strings.TrimSpace(cols[2])}
		if q.Split != SplitDev && q.Split != SplitTest {
			return nil, fmt.Errorf("dev set line %d: split %q, want %s or %s", i+1, q.Split, SplitDev, SplitTest)
		}
		if q.Question == "" {
			return nil, fmt.Errorf("dev set line %d: empty question", i+1)
		}
		if cols[1] != "-" {
			for _, id := range strings.Split(cols[1], ",") {
				if err := ValidateID(id); err != nil {
					return nil, fmt.Errorf("dev set line %d: %w", i+1, err)
				}
				q.IDs = append(q.IDs, id)
			}
		}
		out = append(out, q)
	}
	return out, nil
}

// DefaultDevSet returns the dev set built into the package
// (testdata/devset.tsv).
func DefaultDevSet() []DevQuestion {
	qs, err := ParseDevSet(defaultDevSet)
	if err != nil {
		panic("consult: testdata/devset.tsv: " + err.Error()) // tested
	}
	return qs
}

// Accuracy counts hits on the questions of one split that the KB answers.
type Accuracy struct {
	Questions int     `json:"questions"`
	Top1      float64 `json:"top1"`
	Top3      float64 `json:"top3"`
}

// ConfidenceFigures say how well Result.Confident separates, on one split,
// questions whose first answer is right from the rest.
type ConfidenceFigures struct {
	// ConfidentRight: share of answerable questions with a right first
	// answer that are Confident (higher is better).
	ConfidentRight float64 `json:"confidentRight"`
	// ConfidentWrong: share of answerable questions with a wrong first
	// answer that are Confident (lower is better).
	ConfidentWrong float64 `json:"confidentWrong"`
	// Unanswerable questions (no entry answers them), and the share that
	// are Confident (lower is better).
	Unanswerable          int     `json:"unanswerable"`
	ConfidentUnanswerable float64 `json:"confidentUnanswerable"`
}

// SplitFigures are one retriever's figures on one split.
type SplitFigures struct {
	Accuracy
	Confidence *ConfidenceFigures `json:"confidence,omitempty"`
}

// Evaluation compares the retriever with the BM25 baseline on a dev set,
// in one run.
type Evaluation struct {
	Entries      int `json:"entries"`
	LexiconRules int `json:"lexiconRules"`
	// Per split ("dev", "test"): the retriever, the retriever without the
	// lexicon, and the baseline.
	Retriever  map[string]SplitFigures `json:"retriever"`
	NoLexicon  map[string]Accuracy     `json:"noLexicon"`
	Baseline   map[string]Accuracy     `json:"bm25"`
	BuildMs    float64                 `json:"indexBuildMs"`
	NsPerQuery float64                 `json:"nsPerQuery"`
	// BaselineNsPerQuery is the baseline's time per query in the same run.
	BaselineNsPerQuery float64 `json:"bm25NsPerQuery"`
}

// Evaluate builds the index (with lx) and the BM25 baseline over kb and
// measures both on qs: top-1 and top-3 accuracy per split, the confidence
// flag, and the time per query. Questions with no answering entry only
// count for the confidence figures.
func Evaluate(kb KB, lx *Lexicon, qs []DevQuestion) (Evaluation, error) {
	start := time.Now()
	ix, err := NewIndex(kb, lx)
	if err != nil {
		return Evaluation{}, err
	}
	build := time.Since(start)
	plain, err := NewIndex(kb, nil)
	if err != nil {
		return Evaluation{}, err
	}
	base := NewBM25(kb)
	ev := Evaluation{
		Entries:   ix.Len(),
		Retriever: make(map[string]SplitFigures),
		NoLexicon: make(map[string]Accuracy),
		Baseline:  make(map[string]Accuracy),
		BuildMs:   float64(build.Microseconds()) / 1000,
	}
	if lx != nil {
		ev.LexiconRules = lx.Len()
	}
	type tally struct {
		n, top1, top3, p1, p3, b1, b3 int
		right, rightConf              int
		wrong, wrongConf              int
		none, noneConf                int
	}
	tallies := map[string]*tally{SplitDev: {}, SplitTest: {}}
	var ixTime, baseTime time.Duration
	for _, q := range qs {
		t := tallies[q.Split]
		if t == nil {
			return Evaluation{}, fmt.Errorf("dev set: split %q", q.Split)
		}
		s := time.Now()
		r, err := ix.Search(q.Question, 3)
		ixTime += time.Since(s)
		if err != nil {
			return Evaluation{}, fmt.Errorf("question %q: %w", q.Question, err)
		}
		if len(q.IDs) == 0 {
			t.none++
			if r.Confident {
				t.noneConf++
			}
			continue
		}
		t.n++
		h1, h3 := hits(r.Answers, q.IDs)
		t.top1 += h1
		t.top3 += h3
		if h1 == 1 {
			t.right++
			if r.Confident {
				t.rightConf++
			}
		} else {
			t.wrong++
			if r.Confident {
				t.wrongConf++
			}
		}
		pr, _ := plain.Search(q.Question, 3)
		h1, h3 = hits(pr.Answers, q.IDs)
		t.p1 += h1
		t.p3 += h3
		s = time.Now()
		ba, _ := base.Search(q.Question, 3)
		baseTime += time.Since(s)
		h1, h3 = hits(ba, q.IDs)
		t.b1 += h1
		t.b3 += h3
	}
	for split, t := range tallies {
		acc := func(a, b int) Accuracy { return Accuracy{Questions: t.n, Top1: ratio(a, t.n), Top3: ratio(b, t.n)} }
		ev.Retriever[split] = SplitFigures{
			Accuracy: acc(t.top1, t.top3),
			Confidence: &ConfidenceFigures{
				ConfidentRight:        ratio(t.rightConf, t.right),
				ConfidentWrong:        ratio(t.wrongConf, t.wrong),
				Unanswerable:          t.none,
				ConfidentUnanswerable: ratio(t.noneConf, t.none),
			},
		}
		ev.NoLexicon[split] = acc(t.p1, t.p3)
		ev.Baseline[split] = acc(t.b1, t.b3)
	}
	if len(qs) > 0 {
		ev.NsPerQuery = float64(ixTime.Nanoseconds()) / float64(len(qs))
	}
	if n := tallies[SplitDev].n + tallies[SplitTest].n; n > 0 {
		ev.BaselineNsPerQuery = float64(baseTime.Nanoseconds()) / float64(n)
	}
	return ev, nil
}

// hits says whether the first answer, and any of the first three, is one
// of ids.
func hits(answers []Answer, ids []string) (top1, top3 int) {
	for i, a := range answers {
		if i == 3 {
			break
		}
		for _, id := range ids {
			if a.ID == id {
				if i == 0 {
					top1 = 1
				}
				return top1, 1
			}
		}
	}
	return 0, 0
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
