package kiosk

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"image"
	_ "image/png" // qrcode.Encode returns a PNG
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	qrcode "github.com/skip2/go-qrcode"
)

// receiptAlphabet has no 0/O, 1/I: a person reads the code to an official
// over the phone.
const receiptAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// ReceiptCode is the receipt code of record seq of kiosk: ten characters
// (50 bits) of SHA-256 over "kiosk/seq", shown as XXXXX-XXXXX. It is
// derived from the record's identity, not random, so central can index
// the records it stores by the same code and answer "check or withdraw
// my sign-up" without the kiosk keeping anything; and it carries no
// personal data.
func ReceiptCode(kiosk string, seq uint64) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", kiosk, seq)))
	n := binary.BigEndian.Uint64(sum[:8])
	var b strings.Builder
	for i := 0; i < 10; i++ {
		if i == 5 {
			b.WriteByte('-')
		}
		b.WriteByte(receiptAlphabet[n>>59]) // the top 5 bits
		n <<= 5
	}
	return b.String()
}

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
