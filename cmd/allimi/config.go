package main

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"allimi/central"
	"allimi/central/channel"
)

// fileConfig is the optional YAML file of `central serve --config`: the
// flags' names for what flags also set, and the provider section for URLs,
// keys and rates that do not belong on a command line.
type fileConfig struct {
	Data        *string `yaml:"data"`
	MQTT        *string `yaml:"mqtt"`
	Broker      *string `yaml:"broker"`
	HTTP        *string `yaml:"http"`
	ProviderURL *string `yaml:"provider-url"`
	LinkBase    *string `yaml:"link-base"`
	Programs    *string `yaml:"programs"`

	PublicBroker         *string         `yaml:"public-broker"`
	TLSCert              *string         `yaml:"tls-cert"`
	TLSKey               *string         `yaml:"tls-key"`
	TLSCA                *string         `yaml:"tls-ca"`
	TLSServerCA          *string         `yaml:"tls-server-ca"`
	TLSRequireClientCert *bool           `yaml:"tls-require-client-cert"`
	Providers            *channel.Config `yaml:"providers"`

	RetryHorizon    *time.Duration `yaml:"retry-horizon"`
	Senders         *int           `yaml:"senders"`
	BreakerFailures *int           `yaml:"breaker-failures"`
	BreakerCooldown *time.Duration `yaml:"breaker-cooldown"`

	QuestionAudioKeep   *time.Duration `yaml:"question-audio-keep"`
	QuestionAudioMaxAge *time.Duration `yaml:"question-audio-max-age"`

	HTTPReadHeaderTimeout *time.Duration `yaml:"http-read-header-timeout"`
	HTTPReadTimeout       *time.Duration `yaml:"http-read-timeout"`
	HTTPWriteTimeout      *time.Duration `yaml:"http-write-timeout"`
	HTTPIdleTimeout       *time.Duration `yaml:"http-idle-timeout"`
	HTTPLongTimeout       *time.Duration `yaml:"http-long-timeout"`
	SMSPerKioskHour       *int           `yaml:"sms-per-kiosk-hour"`
	SMSPerKioskDay        *int           `yaml:"sms-per-kiosk-day"`
	HTTPTrustedProxies    *string        `yaml:"http-trusted-proxies"`
}

// loadConfigFile applies the file to cfg, except for flags given on the
// command line, which win.
func loadConfigFile(path string, cfg *central.Config, flags *pflag.FlagSet) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return usageError{err}
	}
	// Decoded in place: what the file leaves out keeps its default.
	fc := fileConfig{Providers: &cfg.Providers}
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if err := d.Decode(&fc); err != nil {
		return usageError{fmt.Errorf("%s: %w", path, err)}
	}
	setValue(flags, "data", &cfg.Data, fc.Data)
	setValue(flags, "mqtt", &cfg.MQTT, fc.MQTT)
	setValue(flags, "broker", &cfg.Broker, fc.Broker)
	setValue(flags, "http", &cfg.HTTP, fc.HTTP)
	setValue(flags, "provider-url", &cfg.ProviderURL, fc.ProviderURL)
	setValue(flags, "public-broker", &cfg.PublicBroker, fc.PublicBroker)
	setValue(flags, "tls-cert", &cfg.TLSCert, fc.TLSCert)
	setValue(flags, "tls-key", &cfg.TLSKey, fc.TLSKey)
	setValue(flags, "tls-ca", &cfg.TLSCA, fc.TLSCA)
	setValue(flags, "tls-server-ca", &cfg.TLSServerCA, fc.TLSServerCA)
	setValue(flags, "tls-require-client-cert", &cfg.TLSRequireClientCert, fc.TLSRequireClientCert)
	setValue(flags, "link-base", &cfg.Dispatch.LinkBase, fc.LinkBase)
	setValue(flags, "programs", &cfg.Programs, fc.Programs)
	setValue(flags, "retry-horizon", &cfg.Dispatch.Horizon, fc.RetryHorizon)
	setValue(flags, "senders", &cfg.Dispatch.Senders, fc.Senders)
	setValue(flags, "breaker-failures", &cfg.Dispatch.BreakerFailures, fc.BreakerFailures)
	setValue(flags, "breaker-cooldown", &cfg.Dispatch.BreakerCooldown, fc.BreakerCooldown)
	setValue(flags, "question-audio-keep", &cfg.QuestionAudio.KeepAnswered, fc.QuestionAudioKeep)
	setValue(flags, "question-audio-max-age", &cfg.QuestionAudio.MaxAge, fc.QuestionAudioMaxAge)
	setValue(flags, "http-read-header-timeout", &cfg.HTTPTimeouts.ReadHeader, fc.HTTPReadHeaderTimeout)
	setValue(flags, "http-read-timeout", &cfg.HTTPTimeouts.Read, fc.HTTPReadTimeout)
	setValue(flags, "http-write-timeout", &cfg.HTTPTimeouts.Write, fc.HTTPWriteTimeout)
	setValue(flags, "http-idle-timeout", &cfg.HTTPTimeouts.Idle, fc.HTTPIdleTimeout)
	setValue(flags, "http-long-timeout", &cfg.HTTPTimeouts.Long, fc.HTTPLongTimeout)
	setValue(flags, "sms-per-kiosk-hour", &cfg.Limits.SMSPerHour, fc.SMSPerKioskHour)
	setValue(flags, "sms-per-kiosk-day", &cfg.Limits.SMSPerDay, fc.SMSPerKioskDay)
	if fc.HTTPTrustedProxies != nil && !flags.Changed("http-trusted-proxies") {
		if err := (*proxyList)(&cfg.TrustedProxies).Set(*fc.HTTPTrustedProxies); err != nil {
			return usageError{fmt.Errorf("%s: http-trusted-proxies: %w", path, err)}
		}
	}
	if cfg.QuestionAudio.KeepAnswered < 0 || cfg.QuestionAudio.MaxAge < 0 {
		return usageError{fmt.Errorf("%s: question-audio-keep and question-audio-max-age: must not be negative", path)}
	}
	if err := cfg.Dispatch.Validate(); err != nil {
		return usageError{fmt.Errorf("%s: %w", path, err)}
	}
	return nil
}

// setValue applies a file setting unless its flag was given.
func setValue[T any](flags *pflag.FlagSet, name string, dst *T, v *T) {
	if v != nil && !flags.Changed(name) {
		*dst = *v
	}
}
