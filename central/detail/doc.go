// Package detail serves the page behind the short link every notice
// carries. The link holds only an unguessable token; the page asks for the
// date of birth and only then shows the notice's details and, for
// penalties, the payment link.
//
// The Store holds the page logic: tokens, the check of the date of birth,
// wrong tries and locks, the sealing of records, the page. What it keeps
// goes through a Storage: Bolt, central's bbolt file, in which the
// dispatcher issues tokens inside the transactions it already runs
// (BoltTx), or central/pg's PostgreSQL tables.
//
// A token is a 40-bit sequence number followed by 128 random bits: the
// sequence makes the bbolt key grow in order, so a campaign of a million
// tokens appends to the last page instead of rewriting pages all over the
// tree; the random part is the secret. The storage holds neither: each
// record is sealed with a key derived from the whole token, so a copy of
// the file or the tables, even with the secret, yields no working link and
// no recipient's details, and the date of birth is kept only as a keyed
// hash. Tokens a caller makes itself (Reserve, TokenFor) have no record:
// the storage answers for them from the caller's own records (Resolver on
// bbolt).
//
// The page speaks the recipient's language (Detail.Lang, Resolved.Lang):
// one template, page.html, whose words come from text.toml, a table per
// language of the kiosk with Korean for what a language lacks; the notice's
// own title, agency and fields are shown as the agency wrote them.
package detail
