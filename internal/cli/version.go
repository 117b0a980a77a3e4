package cli

import "runtime/debug"

// Version is set at build time with -ldflags "-X github.com/cuitty/persist/internal/cli.Version=v1.2.3";
// without it the module version from the build info is used.
var Version = ""

// VersionString is what --version prints.
func VersionString(name string) string {
	v := Version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok {
			if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			} else {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" && len(s.Value) >= 12 {
						v = "devel-" + s.Value[:12]
					}
				}
			}
		}
	}
	return name + " " + v
}
