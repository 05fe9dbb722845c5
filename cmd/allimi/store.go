package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"allimi"
	"allimi/central"
	"allimi/central/bolt"
	"allimi/central/keyring"
	"allimi/central/pg"
)

// credentialStore is what the administration commands change: the
// credentials of kiosks, agencies and officials, in central's bbolt file
// (--data) or in PostgreSQL (--store).
type credentialStore interface {
	allimi.Kiosks
	allimi.KioskRegions
	allimi.Agencies
	allimi.Officials
	Close() error
}

// storeFlags are a command's choice of store: --data, central's data
// directory, or --store, a PostgreSQL URL; and, with --store, --keys,
// where central's keys.json is (it lives in --data otherwise).
type storeFlags struct {
	data, store, keys string
	withKeys          bool
}

// add puts --data and --store on c, and --keys when withKeys.
func (f *storeFlags) add(c *cobra.Command, withKeys bool) {
	f.withKeys = withKeys
	c.Flags().StringVar(&f.data, "data", central.DefaultConfig().Data, "central's data directory")
	c.Flags().StringVar(&f.store, "store", "", "`URL` of central's PostgreSQL database (postgres://…), instead of --data's bbolt file; migrate it first (allimi central migrate)")
	if withKeys {
		c.Flags().StringVar(&f.keys, "keys", central.DefaultConfig().Data, "with --store: the `directory` of central's keys.json (made there when absent, as in --data)")
	}
}

// check refuses --store with --data: which store is meant?
func (f *storeFlags) check(c *cobra.Command) error {
	if f.store != "" && c.Flags().Changed("data") {
		return usageError{fmt.Errorf("--store and --data: give one (--store is PostgreSQL, --data the bbolt file in a data directory)")}
	}
	if f.store == "" && c.Flags().Changed("keys") {
		return usageError{fmt.Errorf("--keys goes with --store (with --data, keys.json is in the data directory)")}
	}
	if f.store != "" && f.withKeys && f.keys == "" {
		return usageError{fmt.Errorf("--keys: the directory of central's keys.json, needed with --store")}
	}
	return nil
}

// open opens the store the flags name (central stopped, for bbolt), and
// central's keys.
func (f *storeFlags) open(c *cobra.Command) (credentialStore, *keyring.Keys, error) {
	if err := f.check(c); err != nil {
		return nil, nil, err
	}
	if f.store == "" {
		return bolt.OpenData(f.data, bolt.StoreOptions{})
	}
	var keys *keyring.Keys
	var opts []pg.Option
	if f.keys != "" {
		var err error
		if keys, err = keyring.Load(f.keys); err != nil {
			return nil, nil, err
		}
		opts = append(opts, pg.WithKeys(keys))
	}
	st, err := pg.Open(c.Context(), f.store, opts...)
	if err != nil {
		return nil, nil, err
	}
	return st, keys, nil
}

func centralMigrateCmd() *cobra.Command {
	var store string
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Bring central's PostgreSQL database to this build's schema (safe while central serves, and to run twice)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if store == "" {
				return usageError{fmt.Errorf("--store: required (postgres://…)")}
			}
			applied, err := pg.Migrate(cmd.Context(), store)
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Printf("schema up to date (version %d)\n", pg.Version())
				return nil
			}
			for _, v := range applied {
				fmt.Printf("applied migration %d\n", v)
			}
			fmt.Printf("schema at version %d\n", pg.Version())
			return nil
		},
	}
	c.Flags().StringVar(&store, "store", "", "`URL` of central's PostgreSQL database (postgres://…)")
	return c
}

func centralPortCmd() *cobra.Command {
	var from, to string
	c := &cobra.Command{
		Use:   "port",
		Short: "Copy a stopped central's bbolt data directory into an empty PostgreSQL database of this build's schema, in one transaction",
		Long: `port copies central's bbolt file (--from DIR: central.db and keys.json; central
must be stopped) into a PostgreSQL database migrated to this build's schema
(allimi central migrate) and empty, in one transaction: either everything
is copied and checked, or nothing changes. It prints what it copied per
kind, checked against what it reads back from PostgreSQL, and what it did
not copy and why. The PostgreSQL central needs the same keys.json: give
its directory with --keys.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return usageError{fmt.Errorf("--from: required (central's data directory)")}
			}
			if to == "" {
				return usageError{fmt.Errorf("--to: required (postgres://…)")}
			}
			return portCentral(cmd, from, to)
		},
	}
	c.Flags().StringVar(&from, "from", "", "central's data `directory` (central.db and keys.json); central must be stopped")
	c.Flags().StringVar(&to, "to", "", "`URL` of the PostgreSQL database (postgres://…), migrated and empty")
	return c
}

func portCentral(cmd *cobra.Command, from, to string) error {
	path, keysPath := filepath.Join(from, bolt.DBFile), filepath.Join(from, keyring.KeysFile)
	for _, f := range []string{path, keysPath} {
		// keyring.Load would make new keys: a file without its keys is
		// unreadable, and nothing is copied.
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("--from %s: %w (port needs central.db and the keys.json it was written under)", from, err)
		}
	}
	keys, err := keyring.Load(from)
	if err != nil {
		return err
	}
	r, err := bolt.OpenReader(path)
	if err != nil {
		return err
	}
	defer r.Close()
	st, err := pg.Open(cmd.Context(), to, pg.WithKeys(keys))
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := st.Port(r)
	if err != nil {
		return err
	}
	fmt.Printf("copied %s into PostgreSQL, in one transaction:\n", path)
	for _, c := range rep.Counts {
		fmt.Printf("  %s: %d (read back from PostgreSQL: %d)\n", c.Kind, c.Copied, c.Read)
	}
	fmt.Printf("checked: every count read back from PostgreSQL matches; the registry's counters equal the file's (%d subscribers, %d records stored); the audit chain verifies (%d entries)\n",
		rep.Stats.Subscribers, rep.Stats.Records.Stored, rep.Audit.Entries)
	fmt.Println("not copied:")
	for _, l := range rep.NotCopied {
		fmt.Printf("  %s (%d entries): %s\n", l.Bucket, l.Entries, l.Why)
	}
	fmt.Printf("keys: %s — the PostgreSQL central needs these same keys (everything personal is sealed under them): keep keys.json with the database, and give its directory to commands with --store as --keys %s\n",
		keysPath, from)
	return nil
}
