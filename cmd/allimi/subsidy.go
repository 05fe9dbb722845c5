package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"allimi"
	"allimi/assets"
	"allimi/central/bolt"
	"allimi/subsidy"
)

// subsidyCmd is `allimi subsidy`: the Subsidy 24 catalog and eligibility
// (shared/specs/subsidy-eligibility.md).
func subsidyCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "subsidy",
		Short: "Subsidy 24 (보조금24) catalog and eligibility check",
		Long: "Fetch the gov24 v3 API into a directory of pages, import and check it, publish the compiled\n" +
			"catalog to kiosks, and check a person's profile against it as a kiosk does.",
	}
	// A mistyped flag is a usage error too (exit code 2), for every subcommand.
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	c.AddCommand(subsidyMatchCmd(), subsidyImportCmd(), subsidyFetchCmd(), subsidyPublishCmd(), subsidyCodesCmd())
	return c
}

// required returns a usage error for the first flag left empty.
func required(flags ...[2]string) error {
	for _, f := range flags {
		if f[1] == "" {
			return usageError{fmt.Errorf("--%s is required", f[0])}
		}
	}
	return nil
}

// asUsageIfInput marks errors of the input (bad pages, profiles, codes,
// dates, a missing file) as usage errors: exit code 2.
func asUsageIfInput(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, allimi.ErrInvalid) || errors.Is(err, fs.ErrNotExist) {
		return usageError{err}
	}
	return err
}

// loadSubsidyCatalog reads --catalog (a page directory or a compiled
// file), or the embedded demo catalog with --demo.
func loadSubsidyCatalog(path string, demo bool) (*subsidy.Catalog, error) {
	switch {
	case demo && path != "":
		return nil, usageError{errors.New("--catalog and --demo: give one")}
	case demo:
		c, _, err := subsidy.ImportFS(assets.SubsidyDemo())
		return c, err
	case path == "":
		return nil, usageError{errors.New("--catalog: give a directory of gov24 pages or a compiled catalog file (or --demo)")}
	}
	c, err := subsidy.Load(path)
	return c, asUsageIfInput(err)
}

func subsidyMatchCmd() *cobra.Command {
	var catalog, profile, asOf, region string
	var all, asJSON, demo bool
	c := &cobra.Command{
		Use:   "match",
		Short: "Check a profile against the catalog: which services might this person get?",
		Long: "Prints each service's verdict (eligible, needs_check, ineligible) and its reasons. Without --all,\n" +
			"ineligible services are left out. Bad profile JSON, an unknown code or an impossible date exit with 2.\n\n" +
			"A profile is JSON with only what the person told (an absent key is unknown):\n" +
			`  {"birthDate": "1951-04-02", "sex": "F", "income": "JA0202", "traits": ["JA0328"], "household": []}`,
		Example: "  allimi subsidy match --catalog pages/ --profile me.json --as-of 2026-05-01 --region 경기/성남시 --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required([2]string{"profile", profile}); err != nil {
				return err
			}
			day, err := subsidy.ParseDate(asOf)
			if err != nil {
				return usageError{fmt.Errorf("--as-of: %w", err)}
			}
			r, err := subsidy.ParseRegion(region)
			if err != nil {
				return usageError{fmt.Errorf("--region: %w", err)}
			}
			who, err := readPerson(cmd.InOrStdin(), profile, day)
			if err != nil {
				return err
			}
			cat, err := loadSubsidyCatalog(catalog, demo)
			if err != nil {
				return err
			}
			results := cat.Match(who, subsidy.Options{Region: r, All: all})
			out := cmd.OutOrStdout()
			if asJSON {
				if results == nil {
					results = []subsidy.Result{}
				}
				return printJSON(out, struct {
					AsOf    string           `json:"asOf"`
					Results []subsidy.Result `json:"results"`
				}{day.Format(subsidy.DateLayout), results})
			}
			return printMatch(out, cat, day, r, results)
		},
	}
	f := c.Flags()
	f.StringVar(&catalog, "catalog", "", "directory of gov24 pages, or a compiled catalog file (allimi subsidy import --out)")
	f.BoolVar(&demo, "demo", false, "use the embedded demo catalog (real services, made-up conditions)")
	f.StringVar(&profile, "profile", "", `profile JSON file, or "-" for standard input`)
	f.StringVar(&asOf, "as-of", time.Now().Format(subsidy.DateLayout), "the day to check on (YYYY-MM-DD): ages are counted to it")
	f.StringVar(&region, "region", "", "the kiosk's 시도[/시군구], e.g. 경기/성남시; local governments' services elsewhere are left out")
	f.BoolVar(&all, "all", false, "list ineligible services too")
	f.BoolVar(&asJSON, "json", false, `print {"asOf": …, "results": [{"serviceId", "name", "verdict", "reasons": [{"rule", "code", "text"}]}]}`)
	return c
}

// readPerson reads and checks the profile of --profile.
func readPerson(stdin io.Reader, path string, asOf time.Time) (subsidy.Person, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return subsidy.Person{}, usageError{fmt.Errorf("--profile: %w", err)}
	}
	p, err := subsidy.ParseProfile(b)
	if err != nil {
		return subsidy.Person{}, usageError{fmt.Errorf("--profile %s: %w", path, err)}
	}
	who, err := subsidy.NewPerson(p, asOf)
	if err != nil {
		return subsidy.Person{}, usageError{fmt.Errorf("--profile %s: %w", path, err)}
	}
	return who, nil
}

func printMatch(w io.Writer, cat *subsidy.Catalog, day time.Time, r subsidy.Region, results []subsidy.Result) error {
	var b bytes.Buffer
	where := "everywhere"
	if !r.IsZero() {
		where = r.String()
	}
	fmt.Fprintf(&b, "%d services of %d on %s, %s", len(results), cat.Len(), day.Format(subsidy.DateLayout), where)
	if cat.About.Demo {
		b.WriteString(" (DEMO catalog: made-up conditions)")
	}
	b.WriteString("\n")
	for _, res := range results {
		fmt.Fprintf(&b, "\n%-11s %s  [%s, %s]\n", res.Verdict, res.Service.Name, res.Service.ID, res.Service.Org)
		for _, rs := range res.Reasons {
			fmt.Fprintf(&b, "            - %s\n", rs.Text())
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func subsidyImportCmd() *cobra.Command {
	var pages, out string
	var asJSON bool
	c := &cobra.Command{
		Use:   "import",
		Short: "Check a directory of gov24 pages and write the compiled catalog",
		Long: "Reads serviceList*.json, serviceDetail*.json and supportConditions*.json, joined on 서비스ID.\n" +
			"Bad input is reported with file, row and field, exits with 2 and leaves --out as it was.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required([2]string{"pages", pages}); err != nil {
				return err
			}
			cat, rep, err := subsidy.Import(pages)
			if err != nil {
				return asUsageIfInput(err)
			}
			if out != "" {
				if err := cat.WriteFile(out); err != nil {
					return err
				}
			}
			size := 0
			if out != "" {
				if st, err := os.Stat(out); err == nil {
					size = int(st.Size())
				}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return printJSON(w, struct {
					*subsidy.Report
					Source string `json:"source"`
					Demo   bool   `json:"demo"`
					Out    string `json:"out,omitempty"`
					Bytes  int    `json:"bytes,omitempty"`
				}{rep, cat.About.Source, cat.About.Demo, out, size})
			}
			fmt.Fprintf(w, "%d services (%d with conditions) from %d page files of %s\n", rep.Services, rep.WithConditions, rep.Files, pages)
			for _, warning := range rep.Warnings {
				fmt.Fprintf(w, "warning: %s\n", warning)
			}
			if out != "" {
				fmt.Fprintf(w, "wrote %s (%d bytes)\n", out, size)
			}
			return nil
		},
	}
	c.Flags().StringVar(&pages, "pages", "", "directory of gov24 v3 pages (allimi subsidy fetch --out)")
	c.Flags().StringVar(&out, "out", "", "write the compiled catalog here (replaced whole, or not at all)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the import report as JSON")
	return c
}

func subsidyFetchCmd() *cobra.Command {
	f := &subsidy.Fetcher{}
	var out, endpoints string
	c := &cobra.Command{
		Use:   "fetch",
		Short: "Page through the gov24 v3 API into a directory (resumable)",
		Long: "Fetches serviceList, serviceDetail and supportConditions, 1,000 rows a page, retrying with backoff.\n" +
			"Pages already in --out are kept: run it again to complete a fetch that was cut short.\n" +
			"The service key may also come from $ALLIMI_GOV24_SERVICE_KEY, so that it stays out of the process list.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.ServiceKey == "" {
				f.ServiceKey = os.Getenv("ALLIMI_GOV24_SERVICE_KEY")
			}
			if err := required([2]string{"out", out}); err != nil {
				return err
			}
			if f.ServiceKey == "" {
				return usageError{errors.New("--service-key (or $ALLIMI_GOV24_SERVICE_KEY): the data.go.kr key of 대한민국 공공서비스 정보")}
			}
			if endpoints != "" {
				eps, err := parseList("--endpoints", endpoints, func(s string) (string, error) {
					for _, e := range subsidy.Endpoints {
						if s == e {
							return s, nil
						}
					}
					return "", fmt.Errorf("%q: want %s", s, strings.Join(subsidy.Endpoints, ", "))
				})
				if err != nil {
					return err
				}
				f.Endpoints = eps
			}
			rep, err := f.Fetch(cmd.Context(), out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d pages fetched, %d kept from before, %d retries; import with: allimi subsidy import --pages %s\n",
				rep.Fetched, rep.Kept, rep.Retries, out)
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.ServiceKey, "service-key", "", "data.go.kr service key (decoded or URL-encoded)")
	fl.StringVar(&out, "out", "", "directory to write the pages into")
	fl.StringVar(&f.BaseURL, "base-url", subsidy.DefaultBaseURL, "API base URL")
	fl.IntVar(&f.PerPage, "per-page", subsidy.DefaultPerPage, "rows per page")
	fl.IntVar(&f.Attempts, "attempts", 6, "requests per page before giving up")
	fl.DurationVar(&f.MinBackoff, "backoff", time.Second, "first wait before a retry; it doubles, up to --max-backoff")
	fl.DurationVar(&f.MaxBackoff, "max-backoff", time.Minute, "longest wait before a retry")
	fl.StringVar(&endpoints, "endpoints", "", "comma-separated endpoints (default all three)")
	return c
}

func subsidyPublishCmd() *cobra.Command {
	var catalog, data, centralURL, token string
	var version uint64
	c := &cobra.Command{
		Use:   "publish",
		Short: "Sign the catalog as the next version of " + subsidy.CatalogName + " for every kiosk",
		Long: "Imports --catalog (pages or a compiled file); only a good catalog is published, so that kiosks keep\n" +
			"the current one otherwise. With --central, through a running central's HTTP API (admin token from\n" +
			"--token or $ALLIMI_ADMIN_TOKEN); with --data, into a stopped central's store (it publishes at start).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required([2]string{"catalog", catalog}); err != nil {
				return err
			}
			if (centralURL == "") == (data == "") {
				return usageError{errors.New("give --central URL (running central) or --data DIR (stopped central)")}
			}
			cat, err := loadSubsidyCatalog(catalog, false)
			if err != nil {
				return err
			}
			body, err := subsidy.Encode(cat)
			if err != nil {
				return err
			}
			if centralURL != "" {
				if token == "" {
					token = os.Getenv("ALLIMI_ADMIN_TOKEN")
				}
				return putCatalogHTTP(cmd.Context(), cmd.OutOrStdout(), centralURL, token, version, body)
			}
			st, _, err := bolt.OpenData(data, bolt.StoreOptions{})
			if err != nil {
				return err
			}
			defer st.Close()
			m, err := st.PutCatalog(subsidy.CatalogName, version, body)
			if err != nil {
				return asUsageIfInput(err)
			}
			return printJSON(cmd.OutOrStdout(), m)
		},
	}
	c.Flags().StringVar(&catalog, "catalog", "", "directory of gov24 pages, or a compiled catalog file")
	c.Flags().StringVar(&data, "data", "", "central's data directory (central stopped)")
	c.Flags().StringVar(&centralURL, "central", "", "base URL of a running central's HTTP API, e.g. http://127.0.0.1:8080")
	c.Flags().StringVar(&token, "token", "", "central's admin token (default $ALLIMI_ADMIN_TOKEN)")
	c.Flags().Uint64Var(&version, "version", 0, "version (default: the current one + 1)")
	return c
}

func putCatalogHTTP(ctx context.Context, w io.Writer, base, token string, version uint64, body []byte) error {
	u, err := url.Parse(strings.TrimSuffix(base, "/") + "/api/v1/catalogs/" + subsidy.CatalogName)
	if err != nil {
		return usageError{fmt.Errorf("--central %q: %w", base, err)}
	}
	if version != 0 {
		u.RawQuery = "version=" + strconv.FormatUint(version, 10)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), bytes.NewReader(body))
	if err != nil {
		return usageError{fmt.Errorf("--central %q: %w", base, err)}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("central answered %s: %s", resp.Status, strings.TrimSpace(string(answer)))
	}
	_, err = w.Write(answer)
	return err
}

func subsidyCodesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "codes",
		Short: "List the condition codes a profile may use, with their Korean names",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			for _, g := range []struct {
				field string
				group subsidy.Group
			}{{"sex (as M or F)", subsidy.GroupSex}, {"income", subsidy.GroupIncome}, {"traits", subsidy.GroupTraits}, {"household", subsidy.GroupHousehold}} {
				fmt.Fprintf(w, "%s:\n", g.field)
				for _, code := range subsidy.Codes(g.group) {
					fmt.Fprintf(w, "  %s  %s\n", code, subsidy.CodeName(code))
				}
			}
			return nil
		},
	}
}
