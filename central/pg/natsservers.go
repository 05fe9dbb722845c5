package pg

import (
	"github.com/jackc/pgx/v5"
)

// NATSServer is a NATS server nats-config wrote a configuration for.
type NATSServer struct {
	Name   string // unique in its cluster
	Listen string // client listener, host:port
	MQTT   string // MQTT listener, host:port
}

// PutNATSServer records (or updates) a server's listeners.
func (s *Store) PutNATSServer(srv NATSServer) error {
	_, err := s.pool.Exec(s.ctx(), `INSERT INTO nats_servers (name, listen, mqtt) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET listen = excluded.listen, mqtt = excluded.mqtt, written_at = now()`,
		srv.Name, srv.Listen, srv.MQTT)
	return err
}

// NATSServers lists the servers recorded, by name.
func (s *Store) NATSServers() ([]NATSServer, error) {
	rows, err := s.pool.Query(s.ctx(), `SELECT name, listen, mqtt FROM nats_servers ORDER BY name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[NATSServer])
}
