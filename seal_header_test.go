package persist_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cuitty/persist"
)

// A first line that is a header Seal cannot take is that fault, not a
// missing header, and nothing is written before it is said — with
// Unframed too, where a header line once came out ahead of the error.
func TestSealFirstLineRefusedBeforeWriting(t *testing.T) {
	const body = `{"kind":"record","collection":"users","key":"u1","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":1}
{"kind":"trailer","records":1,"events":0,"sum":"persist1:0000000000000000000000000000000000000000000000000000000000000000"}
`
	for _, tc := range []struct {
		name, first string
		is          error
		says        string
	}{
		{"other format", `{"kind":"header","format":"persist.v2","store":"app"}`, persist.ErrBadHeader, `unsupported format: "persist.v2"`},
		{"unknown field", `{"kind":"header","format":"persist.v1","bogus":1}`, persist.ErrBadHeader, `"bogus": unknown field`},
		{"patch", `{"kind":"header","format":"persist.v1","patch":true,"target_sum":"persist1:0000000000000000000000000000000000000000000000000000000000000000"}`, persist.ErrPatch, "does not seal a patch"},
		{"bad first item", `{"kind":"record","collection":"users"}`, nil, "line 1: invalid field: key"},
	} {
		for _, unframed := range []bool{false, true} {
			var out bytes.Buffer
			_, err := persist.Seal(context.Background(), strings.NewReader(tc.first+"\n"+body), &out, persist.SealOptions{Unframed: unframed})
			if err == nil {
				t.Fatalf("%s (unframed %v): sealed", tc.name, unframed)
			}
			if errors.Is(err, persist.ErrUnframed) {
				t.Errorf("%s (unframed %v): said to have no header: %v", tc.name, unframed, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%s (unframed %v): %v is not %v", tc.name, unframed, err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("%s (unframed %v): %v does not say %q", tc.name, unframed, err, tc.says)
			}
			if out.Len() != 0 {
				t.Errorf("%s (unframed %v): wrote %q before refusing", tc.name, unframed, out.String())
			}
		}
	}
}
