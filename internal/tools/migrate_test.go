package tools

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/hint"
)

// A migration whose target cannot be counted once it ended (here a file
// that is not there) does not pass for a copy: notACopy is an error, with
// the comparison that shows each difference, not a warning that -q hides
// beside a summary of no differences.
func TestMigrationUncountedTargetFails(t *testing.T) {
	dir := t.TempDir()
	o := MigrateOptions{Name: "app", Source: "sqlite:" + filepath.Join(dir, "s.db"), Target: "sqlite:" + filepath.Join(dir, "gone.db")}
	o.LoadFlags.Store = "app"
	warned := false
	err := notACopy(context.Background(), func(string) { warned = true }, persist.Result{Records: 1}, persist.LoadResult{}, o)
	if err == nil || !strings.Contains(err.Error(), "could not be counted after the migration") {
		t.Fatalf("notACopy of a target that cannot be counted: %v, want an error", err)
	}
	if h := strings.Join(hint.All(err), " "); !strings.Contains(h, "persist-diff") && !strings.Contains(h, "persist verify") {
		t.Errorf("hints %q name no comparison", h)
	}
	if warned {
		t.Error("it warned as well as failing")
	}
}
