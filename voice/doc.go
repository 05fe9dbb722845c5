// Package voice speaks and (later) listens for the kiosk: text
// normalisation so that money, dates and phone numbers are read the way a
// Korean official would say them, and speech synthesis with espeak-ng,
// slower and clearer for seniors. Recognition and voice activity detection
// come with the consultation issue's next steps.
package voice
