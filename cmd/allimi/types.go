package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"allimi"
	"allimi/central/programs"
	"allimi/central/template"
	"allimi/central/typefile"
	"allimi/sync/catalog"
)

// typeStore is what `central type` changes: the types put, and the
// catalogs kiosks learn them from.
type typeStore interface {
	allimi.TypeDefs
	catalog.Keeper
	Close() error
}

func centralTypeCmd() *cobra.Command {
	c := &cobra.Command{Use: "type", Short: "Notification types as data: put a type's file (its [type] table and templates), list them"}
	var stores storeFlags
	var file, programsDir string
	put := &cobra.Command{
		Use:   "put",
		Short: "Check a type's file and keep it as the type's next version; kiosks learn it from the types' catalog (with --data, central must be stopped: a running central takes PUT /api/v1/types/{id})",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := os.ReadFile(file)
			if err != nil {
				return usageError{fmt.Errorf("--file: %w", err)}
			}
			if data, err = typefile.FromJSON(data); err != nil {
				return usageError{err}
			}
			info, err := typefile.Parse(filepath.Base(file), data)
			if err != nil {
				return usageError{err}
			}
			st, err := openTypeStore(cmd, &stores)
			if err != nil {
				return err
			}
			defer st.Close()
			base, err := typesInUse(st)
			if err != nil {
				return err
			}
			progs, err := programs.WithDir(programsDir)
			if err != nil {
				return err
			}
			if _, _, err := typefile.Check(info.ID, filepath.Base(file), data, base, progs); err != nil {
				return usageError{err}
			}
			def, err := st.PutTypeDef(allimi.TypeDef{ID: info.ID, File: data})
			if err != nil {
				return err
			}
			info.Version = def.Version
			if err := allimi.PutType(info); err != nil {
				return err
			}
			defs, err := st.TypeDefs()
			if err != nil {
				return err
			}
			body, err := typefile.Catalog(defs)
			if err != nil {
				return err
			}
			m, err := st.PutCatalog(allimi.TypesCatalog, 0, body)
			if err != nil {
				return err
			}
			fmt.Printf("type %s version %d put (%s); kiosks get it with the types' catalog version %d\n", info.ID, def.Version, info.Name, m.Version)
			return nil
		},
	}
	put.Flags().StringVar(&file, "file", "", "the type's file (TOML, or the same tables as JSON: see assets/templates/README.md)")
	put.Flags().StringVar(&programsDir, "programs", "", "central's --programs directory, if it has one: its programs must still work with the type")
	_ = put.MarkFlagRequired("file")
	stores.add(put, true)

	var listStores storeFlags
	list := &cobra.Command{
		Use:   "list",
		Short: "List the types: the built-in ones and those put, with their versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openTypeStore(cmd, &listStores)
			if err != nil {
				return err
			}
			defer st.Close()
			if _, err := typesInUse(st); err != nil {
				return err
			}
			for _, ti := range allimi.Types() {
				from := "built in"
				if ti.Version > 0 {
					from = fmt.Sprintf("version %d", ti.Version)
				}
				fmt.Printf("%-24s %-28s %-12s params: %s\n", ti.ID, ti.Name, from, strings.Join(ti.Params, ", "))
			}
			return nil
		},
	}
	listStores.add(list, true)
	c.AddCommand(put, list)
	return c
}

// openTypeStore opens the store for the type commands.
func openTypeStore(cmd *cobra.Command, stores *storeFlags) (typeStore, error) {
	st, _, err := stores.open(cmd)
	if err != nil {
		return nil, err
	}
	ts, ok := st.(typeStore)
	if !ok {
		st.Close()
		return nil, errors.New("this store keeps no types")
	}
	return ts, nil
}

// typesInUse makes known the types put before, as a running central
// would, and returns the templates with theirs.
func typesInUse(st allimi.TypeDefs) (*template.Set, error) {
	base, err := template.Default()
	if err != nil {
		return nil, err
	}
	defs, err := st.TypeDefs()
	if err != nil {
		return nil, err
	}
	set, _, errs := typefile.Apply(defs, base)
	for _, e := range errs {
		fmt.Fprintln(os.Stderr, "warning:", e)
	}
	return set, nil
}
