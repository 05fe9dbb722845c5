package kiosk

import (
	"bytes"
	"fmt"
	"image"
	_ "image/png" // qrcode.Encode returns a PNG

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	qrcode "github.com/skip2/go-qrcode"

	"allimi"
)

// ReceiptCode is the code earlier kiosks printed for record seq of kiosk
// (allimi.ReceiptCode); a sign-up's slip now carries the random code drawn
// in SignupDraft (allimi.NewReceiptCode), under which central indexes it.
func ReceiptCode(kiosk string, seq uint64) string { return allimi.ReceiptCode(kiosk, seq) }

// ReceiptURL is the address the QR code holds: base (the config's
// receiptURL) followed by the code.
func ReceiptURL(base, code string) string { return base + code }

// qrImage renders url as a QR code with whole-pixel modules, scaled up
// without smoothing so that phone cameras (and zbarimg) read it.
func qrImage(url string, size float32) (*canvas.Image, error) {
	png, err := qrcode.Encode(url, qrcode.Medium, -8)
	if err != nil {
		return nil, fmt.Errorf("QR code for %s: %w", url, err)
	}
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		return nil, fmt.Errorf("QR code for %s: %w", url, err)
	}
	ci := canvas.NewImageFromImage(img)
	ci.ScaleMode = canvas.ImageScalePixels
	ci.FillMode = canvas.ImageFillContain
	ci.SetMinSize(fyne.NewSquareSize(size))
	return ci, nil
}
