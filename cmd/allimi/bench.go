package main

import "github.com/spf13/cobra"

func benchCmd() *cobra.Command {
	c := &cobra.Command{Use: "bench", Short: "Benchmarks (make bench writes BENCHMARKS.md)"}
	return c
}
