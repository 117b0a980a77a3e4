package adapters

import (
	"strings"
)

// UnknownIdentity is the Identity of a database whose connection cannot
// tell which server (instance) it is on, as its role may not read what
// tells it: kind is the adapter's name (Register), database the database
// in that instance as a known identity has it (after its instance and a
// space), why what would let it tell, for a hint. Two such identities of
// one kind and database, or one and a known identity of them, may be one
// database: Relate says Unknown, and a caller refuses what it would refuse
// for one database, rather than take them for two.
func UnknownIdentity(kind, database, why string) string {
	return kind + ":? " + database + "\x01" + why
}

// Relation is how two store identities relate (Relate).
type Relation int

const (
	Apart   Relation = iota // two stores: another store, another database
	Same                    // one store of one database
	Unknown                 // one store's name in one database's name, of instances that cannot be told apart
)

// Relate compares two store identities, each an Identity, NUL, and the
// store's name ("" for a stream or a database not made yet, apart from
// any). It says, where it is Unknown, what would let it tell (why).
func Relate(a, b string) (r Relation, why string) {
	if a == "" || b == "" {
		return Apart, ""
	}
	dbA, storeA, _ := strings.Cut(a, "\x00")
	dbB, storeB, _ := strings.Cut(b, "\x00")
	ua, whyA := unknown(dbA)
	ub, whyB := unknown(dbB)
	switch {
	case storeA != storeB:
		return Apart, ""
	case !ua && !ub && dbA == dbB:
		return Same, ""
	case !ua && !ub:
		return Apart, ""
	case kindOf(dbA) != kindOf(dbB) || databaseOf(dbA) != databaseOf(dbB):
		return Apart, ""
	case ua:
		return Unknown, whyA
	}
	return Unknown, whyB
}

// unknown reports whether id is an UnknownIdentity, and its why.
func unknown(id string) (bool, string) {
	_, rest, _ := strings.Cut(id, ":")
	if !strings.HasPrefix(rest, "? ") {
		return false, ""
	}
	_, why, _ := strings.Cut(rest, "\x01")
	return true, why
}

func kindOf(id string) string {
	kind, _, _ := strings.Cut(id, ":")
	return kind
}

// databaseOf is the database part of id: after its instance and a space.
func databaseOf(id string) string {
	_, rest, _ := strings.Cut(id, ":")
	_, database, _ := strings.Cut(rest, " ")
	database, _, _ = strings.Cut(database, "\x01")
	return database
}
