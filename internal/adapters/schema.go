package adapters

// Upgraded is what Adapter.Upgrade did to a database's Persist schema.
type Upgraded struct {
	From, To int // the schema's versions before and after (0: there was none)
	// Repaired: the schema was at this release's version, but its change
	// tracking had been turned off by hand (a trigger dropped or disabled,
	// the history emptied). It is whole again, and a new history starts:
	// every cursor from before is refused, so the next dump of each store
	// in the database must be a full one.
	Repaired bool
	// Refreshed: the schema was at this release's version, with change
	// tracking an earlier release made, now this release's. Where the
	// database cannot carry a cursor across that (PostgreSQL), every
	// cursor from before is refused.
	Refreshed bool
}

// SchemaWork is what a migration does to a database's Persist schema.
type SchemaWork int

const (
	SchemaAsIs    SchemaWork = iota // nothing (or no schema, and none to make)
	SchemaUpgrade                   // make it, or bring it to this release's version
	SchemaRepair                    // at this release's version: make its tracking whole
	SchemaTooNew                    // a later release's: leave it alone, and refuse
)

// PlanSchema decides what a migration does with a schema at version from
// (0: none) where this release's is current; each adapter runs its own SQL
// for it. create is a writer's migration: it makes a missing schema, and
// leaves a repair to Upgrade, since the new history a repair starts refuses
// every cursor, which only the tables' owner asking for it should cause.
// intact says whether change tracking is whole; it is asked only of a
// schema at version current, and only by Upgrade.
func PlanSchema(from, current int, create bool, intact func() (bool, error)) (SchemaWork, error) {
	switch {
	case from > current:
		return SchemaTooNew, nil
	case from == 0 && !create:
		return SchemaAsIs, nil
	case from < current:
		return SchemaUpgrade, nil
	case create:
		return SchemaAsIs, nil
	}
	ok, err := intact()
	if err != nil || ok {
		return SchemaAsIs, err
	}
	return SchemaRepair, nil
}
