package central

// publicBroker is the broker address kiosks are told to use.
func publicBroker(cfg Config) string {
	if cfg.PublicBroker != "" {
		return cfg.PublicBroker
	}
	if cfg.Broker != "" {
		return cfg.Broker
	}
	if cfg.UplinkMQTT != "" {
		return cfg.UplinkMQTT
	}
	if cfg.TLSCert != "" {
		return "ssl://" + cfg.MQTT
	}
	return "tcp://" + cfg.MQTT
}
