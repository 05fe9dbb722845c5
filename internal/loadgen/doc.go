// Package loadgen makes synthetic people and their sign-ups, and the
// sign-ups of the people a file lists (ReadPeople), for the commands that
// simulate kiosks or fill a registry (allimi kiosk-sim, allimi central
// seed, the benchmarks) and for tests. Production code of
// the kiosk and of sync/ does not import it; central's seeder takes its
// people from it (Person).
package loadgen
