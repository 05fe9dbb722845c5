package central

import (
	"context"
	"fmt"
	"time"

	"allimi"
	"allimi/central/api"
	"allimi/central/bolt"
	"allimi/central/channel"
	"allimi/central/detail"
	"allimi/central/ingest"
	"allimi/central/keyring"
	"allimi/central/notify"
	"allimi/central/pg"
	"allimi/central/requests"
	"allimi/central/throttle"
	"allimi/subsidy"
	"allimi/sync/catalog"
)

// Store is what central keeps its state in: central/bolt, one file in the
// data directory (the default), or central/pg, a PostgreSQL database
// (--store) that several central processes share.
type Store interface {
	ingest.Store
	notify.Store
	requests.Store
	api.Store
	allimi.Confirmations
	allimi.QueueIntents
	allimi.Enrolments
	allimi.TypeDefs
	catalog.Keeper
	// SubsidyCatalog is the Subsidy 24 catalog kept, and its version;
	// subsidy.ErrNoCatalog when there is none.
	SubsidyCatalog() (*subsidy.Catalog, uint64, error)
	// NotifyNewBenefits tells the people who asked of the services next
	// newly makes them eligible for (see central/bolt).
	NotifyNewBenefits(prev, next *subsidy.Catalog, version uint64, now time.Time) (allimi.BenefitsOutcome, error)
	// Subscribers counts the citizens with at least one active consent.
	Subscribers() (int64, error)
	// CheckKiosk is the kiosk whose broker credentials these are.
	CheckKiosk(username, password string) (id string, ok bool)
	// HW is the high-water mark stored for a kiosk.
	HW(kiosk string) (uint64, error)
	Close() error
}

// opened is a store with what central builds on it: its limiters of
// guesses, its detail pages (nil when it serves none) and its backup
// (nil when the database is backed up by its own tools).
type opened struct {
	Store
	keys    *keyring.Keys
	limits  *throttle.Limits
	details *detail.Store
	backup  api.Backup
	// lead runs f while this central leads the job name among those on
	// the same database (pg.Store.Lead), with the store as the leader
	// writes to it (pg.Fenced); nil when nothing is shared.
	lead func(ctx context.Context, name string, f func(ctx context.Context, st Store))
	// share runs f on each send slot this central holds of those the
	// centrals on the same database share out (pg.Store.Share), with the
	// slot's view of the store; nil when one central sends everything.
	share func(ctx context.Context, f func(ctx context.Context, slot int, st notify.Store))
	// tokens are the providers' token buckets the centrals on the same
	// database share (pg.Store.TakeTokens), so that a provider's rate
	// limit holds for all of them together; nil on bbolt (one box).
	tokens channel.SharedTokens
}

// sharedRescan is how often, on a database several centrals share, the
// one that sends looks for what the others stored (notifications,
// confirmations and answers to send): their pokes do not reach it.
const sharedRescan = 2 * time.Second

// queue is a queue of messages to people, looking every sharedRescan
// when others may fill it.
func (o *opened) queue() notify.Queue {
	if o.lead != nil {
		return notify.NewQueueEvery(sharedRescan)
	}
	return notify.NewQueue()
}

// openStore opens the store cfg names: PostgreSQL when cfg.Store is set,
// with the keys in cfg.Data, else the bbolt file in cfg.Data.
func openStore(ctx context.Context, cfg Config) (*opened, error) {
	if cfg.Store == "" {
		st, keys, err := bolt.OpenData(cfg.Data, bolt.StoreOptions{ConflictWindow: cfg.ConflictWindow, LinkBase: cfg.Dispatch.LinkBase,
			Logger: cfg.Logger, Limits: cfg.Limits})
		if err != nil {
			return nil, err
		}
		return &opened{Store: st, keys: keys, limits: st.Limits, details: st.Details, backup: st}, nil
	}
	keys, err := keyring.Load(cfg.Data)
	if err != nil {
		return nil, err
	}
	st, err := pg.Open(ctx, cfg.Store, pg.WithKeys(keys), pg.WithConflictWindow(cfg.ConflictWindow), pg.WithLogger(cfg.Logger))
	if err != nil {
		return nil, err
	}
	limits, err := throttle.OpenLimits(st, keys.Derive("limits"), cfg.Limits)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("limits: %w", err)
	}
	var details *detail.Store
	if cfg.Dispatch.LinkBase != "" {
		if details, err = st.OpenDetails(cfg.Dispatch.LinkBase, limits.Detail); err != nil {
			st.Close()
			return nil, fmt.Errorf("detail pages: %w", err)
		}
	}
	lead := func(ctx context.Context, name string, f func(context.Context, Store)) {
		st.Lead(ctx, name, func(ctx context.Context, l pg.Lease) { f(ctx, st.Fenced(l)) })
	}
	share := func(ctx context.Context, f func(context.Context, int, notify.Store)) {
		st.Share(ctx, func(ctx context.Context, i int, slot *pg.Slot) { f(ctx, i, slot) })
	}
	return &opened{Store: st, keys: keys, limits: limits, lead: lead, share: share, details: details, tokens: st}, nil
}
