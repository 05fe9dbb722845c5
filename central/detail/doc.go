// Package detail serves the page behind the short link every notice
// carries. The link holds only an unguessable token; the page asks for the
// date of birth and only then shows the notice's details and, for
// penalties, the payment link.
//
// Tokens live in central's bbolt file so that the dispatcher issues them
// inside the transactions it already runs. A token is a 40-bit sequence
// number followed by 128 random bits: the sequence makes the bbolt key
// grow in order, so a campaign of a million tokens appends to the last
// page instead of rewriting pages all over the tree; the random part is
// the secret. The file holds neither: each record is sealed with a key
// derived from the whole token, so a copy of the file, even with the
// secret, yields no working link and no recipient's details, and the date
// of birth is kept only as a keyed hash.
package detail
