// Package allimi holds Allimi's domain: citizens, notification types,
// channels, consents and their conflicts, and the sync event a kiosk sends
// to central. It imports nothing of the project; the subpackages implement
// what it describes.
package allimi
