package record

import "strings"

// Compare orders items in dump order: records by (collection, key), then
// events by (stream, seq); strings as bytes. A remove line compares as the
// item it names.
func Compare(a, b *Item) int {
	ar, br := a.IsRecord(), b.IsRecord()
	switch {
	case ar && !br:
		return -1
	case !ar && br:
		return 1
	case ar:
		if c := strings.Compare(a.Collection, b.Collection); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	}
	if c := strings.Compare(a.Stream, b.Stream); c != 0 {
		return c
	}
	switch {
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}
