// Package allimi holds Allimi's domain: citizens, notification types,
// channels, consents and their conflicts, the sync event a kiosk sends to
// central, notifications and their deliveries, questions, the audit log
// and credentials — and the storage interfaces central's services use
// (Registry, Confirmations, Notifications, Deliveries, DeliveryQueue,
// QueueIntents, Questions, AuditLog, Kiosks, Agencies, Officials), which
// central/bolt implements and central/storetest checks. It imports nothing
// of the project; the subpackages implement what it describes.
package allimi
