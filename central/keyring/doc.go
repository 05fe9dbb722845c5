// Package keyring holds central's secrets — the keys that hash and seal
// personal data, sign catalogs and authorise the broker and the API — in
// DATA/keys.json, apart from the database so that a copy of the database
// alone reveals no phone number.
package keyring
