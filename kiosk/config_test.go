package kiosk

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`{"id":"demo-kiosk","username":"u","password":"p",
		"broker":"tcp://10.0.0.1:1883","catalogKey":"a2V5","region":"경기/성남시","future":1}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{ID: "demo-kiosk", Username: "u", Password: "p", Broker: "tcp://10.0.0.1:1883", CatalogKey: "a2V5", Region: "경기/성남시",
		IdleSeconds: DefaultIdleSeconds, IdleWarningSeconds: DefaultIdleWarningSeconds, ReceiptURL: DefaultReceiptURL}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v, want %+v", c, want)
	}

	c, err = ParseConfig([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Broker != DefaultBroker {
		t.Errorf("broker defaults to %q, want %q", c.Broker, DefaultBroker)
	}

	if _, err := ParseConfig([]byte(`{"id":`)); err == nil {
		t.Error("truncated JSON parsed without error")
	}
}

func TestLoadConfig(t *testing.T) {
	c, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if c.Loaded() || c.Broker != DefaultBroker {
		t.Errorf("no file: got %+v, want defaults and not loaded", c)
	}

	path := filepath.Join(t.TempDir(), "kiosk.json")
	if err := os.WriteFile(path, []byte(`{"id":"k1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Loaded() || c.Path != path || c.ID != "k1" || c.Broker != DefaultBroker {
		t.Errorf("got %+v", c)
	}

	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file loaded without error")
	}
}
