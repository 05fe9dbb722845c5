package main

import "github.com/spf13/cobra"

// subsidyCmd is `allimi subsidy`: the Subsidy 24 catalog and eligibility.
func subsidyCmd() *cobra.Command {
	return &cobra.Command{Use: "subsidy", Short: "Subsidy 24 catalog and eligibility check", Hidden: true}
}
