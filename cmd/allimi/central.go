package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/spf13/cobra"

	"allimi"
	"allimi/central"
	"allimi/central/api"
	"allimi/central/bolt"
	"allimi/central/pg"
	"allimi/internal/loadgen"
	"allimi/subsidy"
	"allimi/sync/catalog"
)

func centralCmd() *cobra.Command {
	c := &cobra.Command{Use: "central", Short: "Run and administer central"}
	c.AddCommand(serveCmd(), centralKioskCmd(), centralCatalogCmd(), centralAgencyCmd(), centralTypeCmd(), centralSeedCmd(),
		centralBackupCmd(), centralCompactCmd(), centralRestoreCmd(), centralAuditCmd(), centralOfficialCmd(), centralMigrateCmd(), centralPortCmd(),
		centralNATSConfigCmd())
	return c
}

func serveCmd() *cobra.Command {
	cfg := central.DefaultConfig()
	var configFile, store, uplink, keys string
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve the broker, the ingest of kiosk records and the HTTP API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Logger = slog.Default()
			if err := scaleOut(cmd, store, uplink); err != nil {
				return err
			}
			if store != "" {
				cfg.Store, cfg.Data = store, keys
			}
			cfg.Uplink = uplink
			central.TuneGC()
			srv, err := central.Start(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			<-cmd.Context().Done()
			slog.Info("stopping")
			return srv.Close()
		},
	}
	f := c.Flags()
	f.StringVar(&cfg.Data, "data", cfg.Data, "data directory (central.db, keys.json)")
	f.StringVar(&store, "store", "", "`URL` of central's PostgreSQL database (postgres://…), instead of --data's bbolt file; migrate it first (allimi central migrate)")
	f.StringVar(&keys, "keys", cfg.Data, "with --store: the `directory` of central's keys.json (every central on the database needs the same one) and of the kiosk CA")
	f.StringVar(&uplink, "uplink", "", "NATS servers kiosks reach central through (`nats://h1:4222,h2:4222`), instead of the embedded broker or --broker")
	f.StringVar(&cfg.UplinkMQTT, "uplink-mqtt", "", "with --uplink: the NATS servers' MQTT listeners (`tcp://h1:1883,…`), for the retained acks and catalogs (default: those `central nats-config --store` recorded)")
	f.StringVar(&cfg.MQTT, "mqtt", cfg.MQTT, "listen address of the embedded MQTT broker")
	f.StringVar(&cfg.Broker, "broker", "", "use this external broker (tcp://host:port or ssl://host:port; several separated by commas, tried in order) instead of the embedded one")
	f.StringVar(&cfg.BrokerUsername, "broker-username", "", "user name on the external broker")
	f.StringVar(&cfg.BrokerPassword, "broker-password", "", "password on the external broker")
	f.StringVar(&cfg.HTTP, "http", cfg.HTTP, "listen address of the HTTP API")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate (PEM) for the embedded broker")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "TLS private key (PEM) for the embedded broker")
	f.StringVar(&cfg.TLSCA, "tls-ca", "", "CA (PEM) that signs kiosk client certificates (besides central's own kiosk CA); with --broker, the CA to trust")
	f.StringVar(&cfg.TLSServerCA, "tls-server-ca", "", "CA (PEM) enrolled kiosks trust the broker's certificate by (default: the last certificate in --tls-cert)")
	f.BoolVar(&cfg.TLSRequireClientCert, "tls-require-client-cert", false, "refuse kiosks without a client certificate (enrolment gives each one, signed by the kiosk CA in --data)")
	f.DurationVar(&cfg.ConflictWindow, "conflict-window", cfg.ConflictWindow, "a grant and a withdrawal from different kiosks this close in time are concurrent")
	f.IntVar(&cfg.BatchMax, "batch-max", cfg.BatchMax, "most kiosk records committed in one transaction")
	f.StringVar(&cfg.ProviderURL, "provider-url", "", "send to every provider at this base URL (e.g. the fakes of `allimi fake-providers`)")
	f.StringVar(&cfg.Programs, "programs", "", "directory of more programs of notifications, one TOML file each, besides those shipped (see assets/programs/README.md)")
	f.StringVar(&cfg.Dispatch.LinkBase, "link-base", cfg.Dispatch.LinkBase, "public base URL of the detail pages in messages (default http:// and the --http address)")
	f.DurationVar(&cfg.Dispatch.Horizon, "retry-horizon", cfg.Dispatch.Horizon, "keep retrying a delivery this long, then fall back or dead-letter it")
	f.IntVar(&cfg.Dispatch.Senders, "senders", cfg.Dispatch.Senders, "provider requests in flight per channel")
	f.IntVar(&cfg.Dispatch.BreakerFailures, "breaker-failures", cfg.Dispatch.BreakerFailures, "failed requests in a row that trip a provider (its traffic falls back to SMS)")
	f.StringVar(&cfg.PublicBroker, "public-broker", "", "broker URL given to enrolled kiosks (default: --broker, else tcp://<--mqtt>)")
	f.DurationVar(&cfg.Dispatch.BreakerCooldown, "breaker-cooldown", cfg.Dispatch.BreakerCooldown, "how long a tripped provider is left alone")
	f.DurationVar(&cfg.QuestionAudio.KeepAnswered, "question-audio-keep", cfg.QuestionAudio.KeepAnswered,
		"keep a question's recording this long after it is answered (for quality review); 0 deletes it with the answer")
	f.DurationVar(&cfg.QuestionAudio.MaxAge, "question-audio-max-age", cfg.QuestionAudio.MaxAge,
		"delete any question recording, answered or not, this long after it arrived (0: never)")
	f.DurationVar(&cfg.HTTPTimeouts.ReadHeader, "http-read-header-timeout", cfg.HTTPTimeouts.ReadHeader, "time a client has to send a request's headers")
	f.DurationVar(&cfg.HTTPTimeouts.Read, "http-read-timeout", cfg.HTTPTimeouts.Read, "time a client has to send a whole request (slow clients are cut off)")
	f.DurationVar(&cfg.HTTPTimeouts.Write, "http-write-timeout", cfg.HTTPTimeouts.Write, "time to answer a request, from the end of its headers")
	f.DurationVar(&cfg.HTTPTimeouts.Idle, "http-idle-timeout", cfg.HTTPTimeouts.Idle, "how long an idle keep-alive connection is kept")
	f.DurationVar(&cfg.HTTPTimeouts.Long, "http-long-timeout", cfg.HTTPTimeouts.Long, "read and write time of authorised big requests: agency notifications, catalog uploads, backups")
	f.IntVar(&cfg.Limits.SMSPerHour, "sms-per-kiosk-hour", cfg.Limits.SMSPerHour, "verification SMS one kiosk may send an hour; beyond, it is told over-quota and nothing is sent")
	f.IntVar(&cfg.Limits.SMSPerDay, "sms-per-kiosk-day", cfg.Limits.SMSPerDay, "verification SMS one kiosk may send a day")
	f.Var((*proxyList)(&cfg.TrustedProxies), "http-trusted-proxies",
		"comma-separated addresses or prefixes of the reverse proxies in front of the HTTP API: their X-Forwarded-For names the client the per-address limits count")
	f.StringVar(&configFile, "config", "", "YAML file with the rest of the settings (provider URLs and keys, rates); flags win")
	c.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if configFile == "" {
			return nil
		}
		return loadConfigFile(configFile, &cfg, cmd.Flags())
	}
	return c
}

func centralAgencyCmd() *cobra.Command {
	c := &cobra.Command{Use: "agency", Short: "Administer agencies that send notifications"}
	var stores storeFlags
	var id, types, hosts, name string
	var asJSON bool
	// withPolicy reads --types and --payment-hosts, opens central's store
	// (central stopped, for --data) and runs f.
	withPolicy := func(cmd *cobra.Command, f func(st credentialStore, policy allimi.AgencyPolicy) error) error {
		policy, err := agencyPolicy(types, hosts)
		if err != nil {
			return err
		}
		st, _, err := stores.open(cmd)
		if err != nil {
			return err
		}
		defer st.Close()
		return f(st, policy)
	}
	add := &cobra.Command{
		Use:   "add",
		Short: "Register an agency, say what it may send, and print its API token (central must be stopped)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withPolicy(cmd, func(st credentialStore, policy allimi.AgencyPolicy) error {
				if name != "" {
					if err := allimi.ValidateAgencyName(name); err != nil {
						return usageError{err}
					}
				}
				cred, err := st.AddAgency(id)
				if err != nil {
					return usageError{err}
				}
				if name != "" {
					if err := st.SetAgencyName(id, name); err != nil {
						return usageError{err}
					}
				}
				// Without --types a new token keeps the lists the agency
				// had: renewing a token must not lift its restrictions.
				if policy.Restricted() {
					if err := st.SetAgencyPolicy(id, policy); err != nil {
						return usageError{err}
					}
				}
				if kept, err := st.AgencyPolicyOf(id); err != nil {
					return err
				} else if !kept.Restricted() {
					fmt.Fprintf(os.Stderr, "agency %s may send every type, with payment links to any host: restrict it with `allimi central agency allow --id %s --types … --payment-hosts …`\n", id, id)
				}
				if asJSON {
					return printJSON(os.Stdout, cred)
				}
				fmt.Printf("agency %s\ntoken %s\n", cred.ID, cred.Token)
				return nil
			})
		},
	}
	allow := &cobra.Command{
		Use:   "allow",
		Short: "Set the notification types an agency may send and the hosts of its payment links, replacing the lists (central must be stopped)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withPolicy(cmd, func(st credentialStore, policy allimi.AgencyPolicy) error {
				if err := st.SetAgencyPolicy(id, policy); err != nil {
					return usageError{err}
				}
				fmt.Fprintf(os.Stderr, "agency %s may send %s; payment links to %s\n", id, types, orNone(hosts))
				return nil
			})
		},
	}
	for _, sub := range []*cobra.Command{add, allow} {
		stores.add(sub, false)
		sub.Flags().StringVar(&id, "id", "", "agency id: lower-case letters, digits and dashes (e.g. police, nhis)")
		sub.Flags().StringVar(&types, "types", "", "comma-separated notification types the agency may send (e.g. traffic-penalty,traffic-fine); none: every type")
		sub.Flags().StringVar(&hosts, "payment-hosts", "", "comma-separated host names its payment links may point at (e.g. pay.police.go.kr); none: no payment links once --types is given")
		_ = sub.MarkFlagRequired("id")
	}
	_ = allow.MarkFlagRequired("types")
	add.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	add.Flags().StringVar(&name, "name", "", "the agency's name as people read it on its notices' pages (e.g. 경찰청); kept when omitted")
	c.AddCommand(add, allow)
	return c
}

// agencyPolicy reads the --types and --payment-hosts of `agency add` and `agency allow`.
func agencyPolicy(types, hosts string) (allimi.AgencyPolicy, error) {
	var p allimi.AgencyPolicy
	if types == "" {
		if hosts != "" {
			return p, usageError{fmt.Errorf("--payment-hosts restricts an agency's links, and needs --types")}
		}
		return p, nil // unrestricted: `agency add --id ID`, as always
	}
	ts, err := parseList("--types", types, func(s string) (allimi.NotificationType, error) {
		t := allimi.NotificationType(s)
		if _, ok := t.Info(); !ok {
			return t, fmt.Errorf("%q: not a notification type", s)
		}
		return t, nil
	})
	if err != nil {
		return p, err
	}
	p.Types = ts
	if hosts != "" {
		p.PaymentHosts, _ = parseList("--payment-hosts", hosts, func(s string) (string, error) { return s, nil })
	}
	return p, nil
}

func orNone(s string) string {
	if s == "" {
		return "nowhere"
	}
	return s
}

func centralKioskCmd() *cobra.Command {
	c := &cobra.Command{Use: "kiosk", Short: "Administer kiosks"}
	var stores storeFlags
	var id, region string
	var asJSON bool
	add := &cobra.Command{
		Use:   "add",
		Short: "Register a kiosk and print its broker credentials (central must be stopped)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			setRegion := cmd.Flags().Changed("region")
			if setRegion {
				// Checked before anything is stored: a kiosk is not
				// registered with a region it cannot have.
				if _, err := subsidy.CanonicalRegion(region); err != nil {
					return usageError{fmt.Errorf("--region: %w", err)}
				}
			}
			st, keys, err := stores.open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			cred, err := st.AddKiosk(id)
			if err != nil {
				return usageError{err}
			}
			if setRegion {
				if err := st.SetKioskRegion(id, region); err != nil {
					return usageError{fmt.Errorf("--region: %w", err)}
				}
				got, err := st.KioskRegion(id)
				if err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "kiosk %s stands in %s: its sign-ups are counted there\n", id, orNone(got))
			}
			cred.CatalogKey = catalog.EncodePublicKey(keys.CatalogPublicKey())
			if asJSON {
				return printJSON(os.Stdout, cred)
			}
			fmt.Printf("kiosk %s\nusername %s\npassword %s\ncatalog key %s\n", cred.ID, cred.Username, cred.Password, cred.CatalogKey)
			return nil
		},
	}
	stores.add(add, true)
	add.Flags().StringVar(&id, "id", "", "kiosk id: lower-case letters, digits and dashes")
	add.Flags().StringVar(&region, "region", "", `where the kiosk stands, "시도" or "시도/시군구" (e.g. "서울특별시/종로구"): the statistics count its sign-ups there; "" clears it; without the flag an existing kiosk keeps its own`)
	add.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = add.MarkFlagRequired("id")
	c.AddCommand(add, centralEnrolCmd())
	return c
}

func centralEnrolCmd() *cobra.Command {
	var stores storeFlags
	var id, url string
	var ttl time.Duration
	var asJSON bool
	c := &cobra.Command{
		Use:   "enrol",
		Short: "Issue a one-time code with which a new kiosk fetches its credentials (works while central serves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var code string
			var expires time.Time
			// PostgreSQL takes the code while central serves; a bbolt
			// file in use is reached through central's API.
			st, _, err := stores.open(cmd)
			switch {
			case err == nil:
				code, expires, err = st.AddEnrolment(id, ttl)
				st.Close()
			case errors.Is(err, bolt.ErrInUse):
				code, expires, err = enrolOnline(cmd.Context(), url, stores.data, id, ttl)
			}
			if err != nil {
				if errors.Is(err, allimi.ErrInvalid) {
					return usageError{err}
				}
				return err
			}
			if asJSON {
				return printJSON(os.Stdout, map[string]any{"kiosk": id, "code": code, "expires": expires})
			}
			qr, err := qrcode.New(code, qrcode.Medium)
			if err != nil {
				return err
			}
			fmt.Printf("kiosk %s: enrolment code %s (once, until %s)\n\n%s\n", id, code,
				expires.Local().Format("2006-01-02 15:04"), qr.ToSmallString(false))
			return nil
		},
	}
	stores.add(c, false)
	c.Flags().StringVar(&id, "id", "", "kiosk id: lower-case letters, digits and dashes")
	c.Flags().DurationVar(&ttl, "ttl", 24*time.Hour, "how long the code is valid")
	c.Flags().StringVar(&url, "url", "http://127.0.0.1:8080", "central's HTTP API, used when central is running")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = c.MarkFlagRequired("id")
	return c
}

func centralCatalogCmd() *cobra.Command {
	c := &cobra.Command{Use: "catalog", Short: "Administer signed catalogs"}
	var data, name, file string
	var version uint64
	put := &cobra.Command{
		Use:   "put",
		Short: "Sign a file as the next version of a catalog (central must be stopped; it publishes at start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := os.ReadFile(file)
			if err != nil {
				return usageError{err}
			}
			if err := catalog.ValidateName(name); err != nil {
				return usageError{err}
			}
			st, _, err := bolt.OpenData(data, bolt.StoreOptions{})
			if err != nil {
				return err
			}
			defer st.Close()
			m, err := st.PutCatalog(name, version, body)
			if err != nil {
				return err
			}
			return printJSON(os.Stdout, m)
		},
	}
	put.Flags().StringVar(&data, "data", central.DefaultConfig().Data, "central's data directory")
	put.Flags().StringVar(&name, "name", "", "catalog name")
	put.Flags().StringVar(&file, "file", "", "catalog body")
	put.Flags().Uint64Var(&version, "version", 0, "version (default: the stored one + 1)")
	_ = put.MarkFlagRequired("name")
	_ = put.MarkFlagRequired("file")
	c.AddCommand(put)
	return c
}

func centralSeedCmd() *cobra.Command {
	var types, channels string
	var stores storeFlags
	var n int
	c := &cobra.Command{
		Use:   "seed",
		Short: "Add N synthetic consenting subscribers to the registry, for demos and load tests (central must be stopped)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ts, err := parseList("--types", types, func(s string) (allimi.NotificationType, error) {
				t := allimi.NotificationType(s)
				return t, t.Validate()
			})
			if err != nil {
				return err
			}
			chs, err := parseChannels(channels)
			if err != nil {
				return err
			}
			if n <= 0 {
				return usageError{fmt.Errorf("--subscribers %d: must be positive", n)}
			}
			st, _, err := stores.open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			imp, ok := st.(loadgen.Importer)
			if !ok {
				return fmt.Errorf("seed: this store cannot import people")
			}
			return loadgen.Seed(imp, n, ts, chs)
		},
	}
	stores.add(c, true)
	c.Flags().IntVar(&n, "subscribers", 1000, "synthetic people to add (the same people each time: seeding twice adds nobody new)")
	c.Flags().StringVar(&types, "types", "health-checkup", "comma-separated notification types they consent to")
	c.Flags().StringVar(&channels, "channels", "kakao", "comma-separated channels")
	return c
}

func centralBackupCmd() *cobra.Command {
	var data, url, token, out string
	c := &cobra.Command{
		Use:   "backup",
		Short: "Copy a running central's database to a file (consistent, while it serves), then check the copy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError{fmt.Errorf("--out: required")}
			}
			token, err := adminToken(token, data)
			if err != nil {
				return err
			}
			n, err := downloadBackup(cmd.Context(), url, token, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "backup: %d bytes in %s, checked; keep keys.json apart from it\n", n, out)
			return nil
		},
	}
	c.Flags().StringVar(&data, "data", central.DefaultConfig().Data, "central's data directory (for the admin token in keys.json)")
	c.Flags().StringVar(&url, "url", "http://127.0.0.1:8080", "central's HTTP API")
	c.Flags().StringVar(&token, "token", "", "admin token (default: from --data's keys.json)")
	c.Flags().StringVar(&out, "out", "", "backup `file` to write")
	return c
}

func centralCompactCmd() *cobra.Command {
	var data string
	c := &cobra.Command{
		Use:   "compact",
		Short: "Rewrite central's database without its free pages (central must be stopped)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			before, after, err := central.Compact(data)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "compact: %d → %d bytes\n", before, after)
			return nil
		},
	}
	c.Flags().StringVar(&data, "data", central.DefaultConfig().Data, "central's data directory")
	return c
}

func centralRestoreCmd() *cobra.Command {
	var data, in string
	c := &cobra.Command{
		Use:   "restore",
		Short: "Put a backup in place as central's database (central must be stopped; the old one is kept beside it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in == "" {
				return usageError{fmt.Errorf("--in: required")}
			}
			if err := central.Restore(data, in); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "restore: %s is central's database in %s now\n", in, data)
			return nil
		},
	}
	c.Flags().StringVar(&data, "data", central.DefaultConfig().Data, "central's data directory (with the keys.json the backup was made with)")
	c.Flags().StringVar(&in, "in", "", "backup `file`")
	return c
}

func centralAuditCmd() *cobra.Command {
	c := &cobra.Command{Use: "audit", Short: "The hash-chained audit log of consent changes and views of people's data"}
	var data, url, token string
	var asJSON bool
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check that no entry of the audit log was changed or removed (exit 1 when one was)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var r allimi.AuditReport
			var err error
			if url != "" {
				r, err = verifyAuditOnline(cmd.Context(), url, token, data)
			} else {
				var st *bolt.Store
				if st, _, err = bolt.OpenData(data, bolt.StoreOptions{}); err != nil {
					if errors.Is(err, bolt.ErrInUse) {
						return fmt.Errorf("%w (or give --url to ask the running central)", err)
					}
					return err
				}
				r, err = st.VerifyAudit()
				st.Close()
			}
			if asJSON {
				if perr := printJSON(os.Stdout, r); perr != nil {
					return perr
				}
			} else if err == nil {
				fmt.Printf("audit log whole: %d entries, head %s\n", r.Entries, r.Head)
			}
			return err
		},
	}
	verify.Flags().StringVar(&data, "data", central.DefaultConfig().Data, "central's data directory (central stopped), or its keys.json for the admin token with --url")
	verify.Flags().StringVar(&url, "url", "", "ask a running central at this HTTP address instead")
	verify.Flags().StringVar(&token, "token", "", "admin token for --url (default: from --data's keys.json)")
	verify.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.AddCommand(verify)
	return c
}

// proxyList is the value of --http-trusted-proxies.
type proxyList []netip.Prefix

func (l *proxyList) String() string {
	ss := make([]string, len(*l))
	for i, p := range *l {
		ss[i] = p.String()
	}
	return strings.Join(ss, ",")
}

func (l *proxyList) Set(v string) error {
	ps, err := api.ParseTrustedProxies(v)
	if err != nil {
		return err
	}
	*l = ps
	return nil
}

func (l *proxyList) Type() string { return "addresses" }

// scaleOut checks --store and --uplink, which put central on PostgreSQL
// and a NATS cluster. A database that is not at this build's schema is
// refused, saying which (unmigrated, or migrated by a newer build), as
// central.Start would.
func scaleOut(cmd *cobra.Command, store, uplink string) error {
	if uplink == "" && cmd.Flags().Changed("uplink-mqtt") {
		return usageError{fmt.Errorf("--uplink-mqtt goes with --uplink")}
	}
	if store == "" && uplink == "" {
		if cmd.Flags().Changed("keys") {
			return usageError{fmt.Errorf("--keys goes with --store (with --data, keys.json is in the data directory)")}
		}
		return nil
	}
	if store != "" && cmd.Flags().Changed("data") {
		return usageError{fmt.Errorf("--store and --data: give one (--store is PostgreSQL, --data the bbolt file in a data directory; with --store, keys.json is in --keys)")}
	}
	if uplink != "" {
		for _, u := range strings.Split(uplink, ",") {
			if !strings.HasPrefix(strings.TrimSpace(u), "nats://") {
				return usageError{fmt.Errorf("--uplink %q: NATS servers as nats://host:port, separated by commas", u)}
			}
		}
		if cmd.Flags().Changed("broker") {
			return usageError{fmt.Errorf("--uplink and --broker: give one (--uplink is a NATS cluster's JetStream, --broker an MQTT broker)")}
		}
	}
	if store != "" {
		st, err := pg.Open(cmd.Context(), store)
		if err != nil {
			return err
		}
		st.Close()
	}
	return nil
}
