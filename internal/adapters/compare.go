package adapters

import (
	"bytes"

	"github.com/cuitty/persist/internal/record"
)

// Problems ReadBack reports, besides the column that differs.
const (
	ProblemMissing    = "not in the store"
	ProblemNotOurs    = "written by another transaction"
	ProblemStillThere = "still in the store"
)

// Differs says which column of got, an item read back, differs from want,
// the item written ("version differs", …), or "" when a dump would show the
// two as the same line. Values must be canonical: they are compared as
// bytes, an absent value as the JSON null it means.
func Differs(want, got *record.Item) string {
	switch {
	case want.Kind != got.Kind || want.IsRecord() != got.IsRecord():
		return "kind differs"
	case want.IsRecord():
		return recordDiffers(want, got)
	}
	return eventDiffers(want, got)
}

func recordDiffers(want, got *record.Item) string {
	switch {
	case want.Collection != got.Collection || want.Key != got.Key:
		return "key differs"
	case want.Version != got.Version:
		return "version differs"
	case want.UpdatedAt != got.UpdatedAt:
		return "updated_at differs"
	case want.Deleted != got.Deleted:
		return "deleted differs"
	case !want.Deleted && !bytes.Equal(orNull(want.Value), orNull(got.Value)):
		return "value differs"
	}
	return ""
}

func eventDiffers(want, got *record.Item) string {
	switch {
	case want.Stream != got.Stream || want.Seq != got.Seq:
		return "key differs"
	case want.Type != got.Type:
		return "type differs"
	case want.At != got.At:
		return "at differs"
	case !bytes.Equal(orNull(want.Data), orNull(got.Data)):
		return "data differs"
	}
	return ""
}

var jsonNull = []byte("null")

func orNull(v []byte) []byte {
	if v == nil {
		return jsonNull
	}
	return v
}
