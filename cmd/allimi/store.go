package main

import (
	"fmt"

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
