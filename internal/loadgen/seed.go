package loadgen

import "allimi"

// Importer is a registry that takes people in bulk (central/bolt's Store).
type Importer interface {
	ImportSubscribers(n int, person func(i uint64) allimi.Citizen, types []allimi.NotificationType, channels []allimi.Channel) error
}

// SeedKiosk is the kiosk seeded people are recorded as signed up at.
const SeedKiosk = "seed"

// Seed writes n subscribers into a registry, Person(SeedKiosk, 1) …
// Person(SeedKiosk, n), each consenting to types on channels: the
// population of a benchmark or a demo without n kiosk records.
func Seed(st Importer, n int, types []allimi.NotificationType, channels []allimi.Channel) error {
	return st.ImportSubscribers(n, func(i uint64) allimi.Citizen { return Person(SeedKiosk, i) }, types, channels)
}
