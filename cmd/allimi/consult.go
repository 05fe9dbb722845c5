package main

import "github.com/spf13/cobra"

// consultCmd is `allimi consult`: answers from the call-centre knowledge base.
func consultCmd() *cobra.Command {
	return &cobra.Command{Use: "consult", Short: "answer a question from the knowledge base", Hidden: true}
}
