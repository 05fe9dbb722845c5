// Package consult answers citizens' questions from the call-centre
// knowledge base (국민콜 110 / 정부민원안내 answers), offline, on the kiosk.
//
// The knowledge base (KB) is a list of entries, each a question an official
// answered, its answer as plain text and its keywords. It travels as a JSON
// catalog (EncodeCatalog, DecodeCatalog): the build embeds one (package
// assets), and central publishes newer ones as signed catalogs named
// CatalogName, in which officials have added or retired entries (KB.Apply).
//
// Seniors ask the way they speak ("집세 보태 주는 거 있어요?"), often through
// a speech recogniser that mishears, so the Index does not match words. It
// normalises the question (NFC, no spacing, spoken endings and particles
// removed), expands everyday words into the administrative terms the
// answers use (the lexicon, lexicon.tsv), and scores entries by character
// n-grams of syllables and of jamo, field by field (question, keywords,
// answer), with BM25 saturation. BM25 is the plain word-level baseline it is
// measured against (Evaluate).
//
// The kiosk also gets autocompletion while typing (Index.Autocomplete), the
// recent questions of the person in front of it (Session), a confidence
// flag below which it should offer a person instead (Result.Confident) and
// the "was this helpful?" record it sends to central (Feedback).
package consult
