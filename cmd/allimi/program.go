package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// programClient is an agency speaking to central's programs API.
type programClient struct {
	central, token string
}

func (c *programClient) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.central, "central", "http://127.0.0.1:8080", "central's HTTP address")
	f.StringVar(&c.token, "token", "", "the agency's token (default $ALLIMI_AGENCY_TOKEN)")
}

// do sends one request and prints central's answer; a refusal is an error
// with central's message.
func (c *programClient) do(ctx context.Context, out io.Writer, method, path string, body any, idem string) error {
	token := c.token
	if token == "" {
		token = os.Getenv("ALLIMI_AGENCY_TOKEN")
	}
	if token == "" {
		return usageError{fmt.Errorf("--token or $ALLIMI_AGENCY_TOKEN: the agency's token (from `allimi central agency add`)")}
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.central, "/")+path, rd)
	if err != nil {
		return usageError{fmt.Errorf("--central %q: %w", c.central, err)}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("central at %s: %w", c.central, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("central: %s (HTTP %d)", e.Error, resp.StatusCode)
		}
		return fmt.Errorf("central: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	_, err = fmt.Fprintf(out, "%s\n", bytes.TrimSpace(b))
	return err
}

// keyValues parses repeated NAME=VALUE flags.
func keyValues(flag string, kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageError{fmt.Errorf("--%s %q: want NAME=VALUE", flag, kv)}
		}
		m[k] = v
	}
	return m, nil
}

// anchorsAndParams parses the --anchor and --param flags.
func anchorsAndParams(anchors, params []string) (map[string]string, map[string]string, error) {
	a, err := keyValues("anchor", anchors)
	if err != nil {
		return nil, nil, err
	}
	p, err := keyValues("param", params)
	return a, p, err
}

func programCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "program",
		Short: "As an agency: enrol people in programs of notifications, post their events (central's programs API)",
	}
	c.AddCommand(programEnrolCmd(), programShowCmd(), programChangeCmd(), programCancelCmd(), programEventCmd())
	return c
}

func programEnrolCmd() *cobra.Command {
	var (
		cl                     programClient
		program, mobile, birth string
		idem                   string
		anchors, params        []string
	)
	c := &cobra.Command{
		Use:   "enrol",
		Short: "Enrol a person in a program: POST /api/v1/programs/{program}/enrolments",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, p, err := anchorsAndParams(anchors, params)
			if err != nil {
				return err
			}
			body := map[string]any{"citizen": map[string]string{"mobile": mobile, "birthDate": birth}, "anchors": a}
			if p != nil {
				body["params"] = p
			}
			return cl.do(cmd.Context(), cmd.OutOrStdout(), http.MethodPost, "/api/v1/programs/"+program+"/enrolments", body, idem)
		},
	}
	cl.flags(c)
	f := c.Flags()
	f.StringVar(&program, "program", "", "the program (vaccination, licence-renewal, health-checkup, traffic-penalty, or one of --programs)")
	f.StringVar(&mobile, "mobile", "", "the person's mobile number")
	f.StringVar(&birth, "birth-date", "", "the person's date of birth, YYYY-MM-DD")
	f.StringArrayVar(&anchors, "anchor", nil, "NAME=RFC3339 time, repeatable (dose1=2027-03-10T14:30:00+09:00)")
	f.StringArrayVar(&params, "param", nil, "NAME=VALUE, repeatable (place=종로구 보건소)")
	f.StringVar(&idem, "idempotency-key", "", "the same key again returns the first enrolment")
	for _, r := range []string{"program", "mobile", "birth-date"} {
		_ = c.MarkFlagRequired(r)
	}
	return c
}

func programShowCmd() *cobra.Command {
	var cl programClient
	c := &cobra.Command{
		Use:   "show ID",
		Short: "Show an enrolment and its steps: GET /api/v1/programs/enrolments/{id}",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cl.do(cmd.Context(), cmd.OutOrStdout(), http.MethodGet, "/api/v1/programs/enrolments/"+args[0], nil, "")
		},
	}
	cl.flags(c)
	return c
}

func programChangeCmd() *cobra.Command {
	var (
		cl              programClient
		anchors, params []string
	)
	c := &cobra.Command{
		Use:   "change ID",
		Short: "Give an enrolment new anchors or params: PATCH /api/v1/programs/enrolments/{id}",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, p, err := anchorsAndParams(anchors, params)
			if err != nil {
				return err
			}
			return cl.do(cmd.Context(), cmd.OutOrStdout(), http.MethodPatch, "/api/v1/programs/enrolments/"+args[0],
				map[string]any{"anchors": a, "params": p}, "")
		},
	}
	cl.flags(c)
	c.Flags().StringArrayVar(&anchors, "anchor", nil, "NAME=RFC3339 time, repeatable")
	c.Flags().StringArrayVar(&params, "param", nil, "NAME=VALUE, repeatable")
	return c
}

func programCancelCmd() *cobra.Command {
	var cl programClient
	c := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel an enrolment's steps not sent: DELETE /api/v1/programs/enrolments/{id}",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cl.do(cmd.Context(), cmd.OutOrStdout(), http.MethodDelete, "/api/v1/programs/enrolments/"+args[0], nil, "")
		},
	}
	cl.flags(c)
	return c
}

func programEventCmd() *cobra.Command {
	var (
		cl     programClient
		event  string
		params []string
	)
	c := &cobra.Command{
		Use:   "event ID",
		Short: "Post an event of an enrolment (dose1.administered, paid): POST /api/v1/programs/enrolments/{id}/events",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := keyValues("param", params)
			if err != nil {
				return err
			}
			body := map[string]any{"event": event}
			if p != nil {
				body["params"] = p
			}
			return cl.do(cmd.Context(), cmd.OutOrStdout(), http.MethodPost, "/api/v1/programs/enrolments/"+args[0]+"/events", body, "")
		},
	}
	cl.flags(c)
	c.Flags().StringVar(&event, "event", "", "the event")
	c.Flags().StringArrayVar(&params, "param", nil, "NAME=VALUE, repeatable (vaccine=화이자)")
	_ = c.MarkFlagRequired("event")
	return c
}
