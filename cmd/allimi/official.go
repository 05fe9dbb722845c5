package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func centralOfficialCmd() *cobra.Command {
	c := &cobra.Command{Use: "official", Short: "Administer the officials who answer people's questions"}
	var stores storeFlags
	var id string
	var asJSON, rotate bool
	add := &cobra.Command{
		Use:   "add",
		Short: "Register an official and print their sign-in token, shown once (central must be stopped)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, _, err := stores.open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			cred, err := st.AddOfficial(id, rotate)
			if err != nil {
				return usageError{err}
			}
			if asJSON {
				return printJSON(os.Stdout, cred)
			}
			fmt.Printf("official %s\ntoken %s\n(sign in at /officials/login; central keeps only a hash of the token)\n", cred.ID, cred.Token)
			return nil
		},
	}
	stores.add(add, false)
	add.Flags().StringVar(&id, "id", "", "official id: lower-case letters, digits, dots, dashes (e.g. kim.minji)")
	add.Flags().BoolVar(&rotate, "rotate", false, "give an existing official a new token (the old one stops working)")
	add.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = add.MarkFlagRequired("id")
	c.AddCommand(add)
	return c
}
