package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"allimi"
	"allimi/internal/loadgen"
	"allimi/sync/catalog"
	"allimi/sync/outbox"
	"allimi/sync/transport"
	"allimi/sync/uplink"
)

type kioskSimOptions struct {
	conn       transport.Conn
	id, data   string
	signups    int
	people     string
	wait       bool
	asJSON     bool
	channels   string
	catalogKey string
	timeout    time.Duration
	window     int
	tlsCA      string
	tlsCert    string
	tlsKey     string
}

func kioskSimCmd() *cobra.Command {
	var o kioskSimOptions
	c := &cobra.Command{
		Use:   "kiosk-sim",
		Short: "A headless kiosk: append synthetic signups (or a file's people) to its outbox and, with --wait, sync them to central",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runKioskSim(cmd.Context(), o) },
	}
	f := c.Flags()
	f.StringVar(&o.conn.Broker, "broker", "tcp://127.0.0.1:1883", "broker URL; several separated by commas (a cluster's servers), tried in order")
	f.StringVar(&o.id, "id", "", "kiosk id")
	f.StringVar(&o.conn.Username, "username", "", "broker user name (from `allimi central kiosk add`)")
	f.StringVar(&o.conn.Password, "password", "", "broker password")
	f.StringVar(&o.data, "data", "./kiosk-data", "kiosk data directory (kiosk.db)")
	f.IntVar(&o.signups, "signups", 0, "synthetic signups to append")
	f.StringVar(&o.people, "people", "", "append a sign-up for each person of this NDJSON file, one a line: "+
		`{"name","mobile","birthDate","types":[…],"channels":[…],"lang"} (lang optional: Korean); `+
		"the whole file is checked first and a bad line appends nothing; with --signups, the synthetic ones come first")
	f.BoolVar(&o.wait, "wait", false, "sync until nothing is pending")
	f.BoolVar(&o.asJSON, "json", false, "print the result as JSON")
	f.StringVar(&o.channels, "channels", "kakao", "comma-separated channels each synthetic person consents on")
	f.StringVar(&o.catalogKey, "catalog-key", "", "central's catalog public key (base64): accept signed catalogs")
	f.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up waiting after this long")
	f.IntVar(&o.window, "window", 0, "records in flight before central's ack (default 1000)")
	f.StringVar(&o.tlsCA, "tls-ca", "", "CA (PEM) that signed the broker's certificate; use with an ssl:// broker")
	f.StringVar(&o.tlsCert, "tls-cert", "", "kiosk client certificate (PEM), when central asks for one")
	f.StringVar(&o.tlsKey, "tls-key", "", "kiosk client key (PEM)")
	_ = c.MarkFlagRequired("id")
	return c
}

type kioskSimResult struct {
	Enqueued int `json:"enqueued"`
	Acked    int `json:"acked"`
	Pending  int `json:"pending"`
}

func runKioskSim(ctx context.Context, o kioskSimOptions) error {
	if err := allimi.ValidateKioskID(o.id); err != nil {
		return usageError{err}
	}
	if o.signups < 0 {
		return usageError{fmt.Errorf("--signups %d: must not be negative", o.signups)}
	}
	channels, err := parseChannels(o.channels)
	if err != nil {
		return err
	}
	if o.tlsCA != "" || o.tlsCert != "" {
		t, err := transport.ClientTLS(o.tlsCA, o.tlsCert, o.tlsKey)
		if err != nil {
			return usageError{err}
		}
		o.conn.TLS = t
	}
	// The file is read and checked whole before anything is appended,
	// before the outbox is even opened.
	var people []outbox.Draft
	if o.people != "" {
		if people, err = readPeople(o.people); err != nil {
			return usageError{err}
		}
	}
	db, err := outbox.OpenDB(o.data)
	if err != nil {
		return err
	}
	defer db.Close()
	ob, err := outbox.Open(db, o.id)
	if err != nil {
		return err
	}
	res := kioskSimResult{}
	if res.Enqueued, err = appendSynthetic(ob, o.signups, channels); err != nil {
		return err
	}
	if len(people) > 0 {
		// One transaction: all the file's people, or none.
		if _, err := ob.Append(people...); err != nil {
			return fmt.Errorf("--people %s: %w", o.people, err)
		}
		res.Enqueued += len(people)
	}
	if o.wait {
		if res.Acked, err = drain(ctx, ob, o); err != nil {
			return err
		}
	}
	st, err := ob.State()
	if err != nil {
		return err
	}
	res.Pending = st.Pending
	if o.asJSON {
		return printJSON(os.Stdout, res)
	}
	fmt.Printf("enqueued %d, acked %d, pending %d\n", res.Enqueued, res.Acked, res.Pending)
	return nil
}

// appendSynthetic writes n signups, 500 to a transaction (a real kiosk
// writes one at a time; this is a kiosk that was offline for a long while).
func appendSynthetic(ob *outbox.Outbox, n int, channels []allimi.Channel) (int, error) {
	done := 0
	for done < n {
		st, err := ob.State()
		if err != nil {
			return done, err
		}
		k := min(500, n-done)
		drafts := make([]outbox.Draft, k)
		now := time.Now()
		for i := range drafts {
			drafts[i] = loadgen.Signup(ob.Kiosk(), st.LastSeq+uint64(i)+1, channels, now)
		}
		if _, err := ob.Append(drafts...); err != nil {
			return done, err
		}
		done += k
	}
	return done, nil
}

// readPeople reads the sign-ups of a people file (loadgen.ReadPeople).
func readPeople(path string) ([]outbox.Draft, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--people: %w", err)
	}
	defer f.Close()
	drafts, err := loadgen.ReadPeople(f, time.Now())
	if err != nil {
		return nil, fmt.Errorf("--people %s: %w", path, err)
	}
	return drafts, nil
}

// drain runs the sender until the outbox is empty.
func drain(ctx context.Context, ob *outbox.Outbox, o kioskSimOptions) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	cfg := uplink.Config{Conn: o.conn, Window: o.window}
	if o.catalogKey != "" {
		pub, err := catalog.DecodePublicKey(o.catalogKey)
		if err != nil {
			return 0, usageError{fmt.Errorf("--catalog-key: %w", err)}
		}
		if cfg.Catalogs, err = catalog.NewStore(ob.DB(), pub); err != nil {
			return 0, err
		}
	}
	s := uplink.NewSender(cfg, ob)
	runErr := make(chan error, 1)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { runErr <- s.Run(runCtx) }()
	drained := make(chan error, 1)
	go func() { drained <- s.WaitDrained(runCtx) }()
	var waitErr error
	select {
	case err := <-runErr: // refused credentials, or ctx ended
		if err != nil {
			return s.Status().Acked, err
		}
		waitErr = ctx.Err()
	case waitErr = <-drained:
		stop()
		if err := <-runErr; err != nil {
			return s.Status().Acked, err
		}
	}
	if waitErr != nil {
		st, _ := ob.State()
		return s.Status().Acked, fmt.Errorf("%d records still pending after %s: %w", st.Pending, o.timeout, waitErr)
	}
	return s.Status().Acked, nil
}
