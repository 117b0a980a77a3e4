package sqlite

/*
typedef struct sqlite3 sqlite3;
int sqlite3_db_config(sqlite3*, int op, ...);

// persist_set_triggers turns the main schema's triggers on or off for one
// connection (SQLITE_DBCONFIG_ENABLE_TRIGGER, 1003) and returns whether
// they are as asked.
static int persist_set_triggers(void *db, int on) {
	int now = -1;
	if (sqlite3_db_config((sqlite3*)db, 1003, on, &now) != 0) {
		return 0;
	}
	return now == on;
}

// persist_triggers_on reports whether the connection runs triggers: 1 or
// 0, -1 when it cannot tell.
static int persist_triggers_on(void *db) {
	int on = -1;
	if (sqlite3_db_config((sqlite3*)db, 1003, -1, &on) != 0) {
		return -1;
	}
	return on;
}
*/
import "C"

import (
	"database/sql/driver"
	"reflect"
	"strings"
	"unsafe"

	"github.com/mattn/go-sqlite3"
)

// setTriggers runs at the start of each of Persist's write transactions,
// which hold the write lock, so the schema holds still until they end. It
// turns the connection's triggers off: the change-tracking triggers are for
// other programs, and Persist's transactions stamp their rows and log their
// removals themselves. A table with triggers makes SQLite give every
// statement a statement journal and a trigger program, which cost a load a
// quarter of its time, one statement per row. Where the file has triggers
// of its own on Persist's tables (an application's audit log, say), they
// must run for Persist's writes too, and the connection keeps them all on.
// Either way nothing is lost but that time: quiet (schema.go) keeps the
// change-tracking triggers from stamping Persist's rows.
// off reports that the connection now runs no trigger, for certain.
func setTriggers(dc any) (off bool, err error) {
	c, ok := dc.(*sqlite3.SQLiteConn)
	if !ok {
		return false, nil
	}
	n, err := othersTriggers(c)
	if err != nil {
		return false, err
	}
	if n > 0 {
		setTriggersOn(c, true)
		return false, nil
	}
	setTriggersOn(c, false)
	return triggersOff(c), nil
}

// ownTriggers are the change-tracking triggers (schema.go).
var ownTriggers = []string{"persist_records_ins", "persist_records_upd", "persist_records_del",
	"persist_events_ins", "persist_events_upd", "persist_events_del", "persist_records_pre"}

// othersTriggers counts the triggers on Persist's tables that are not its own.
func othersTriggers(c *sqlite3.SQLiteConn) (int64, error) {
	rows, err := c.Query(`SELECT count(*) FROM sqlite_master WHERE type = 'trigger'
		AND tbl_name IN ('persist_records', 'persist_events') AND name NOT IN ('`+strings.Join(ownTriggers, "', '")+`')`, nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return 0, err
	}
	n, _ := v[0].(int64)
	return n, nil
}

// setTriggersOn turns c's triggers on or off and reports whether it could.
func setTriggersOn(c *sqlite3.SQLiteConn, on bool) bool {
	db := handle(c)
	v := C.int(0)
	if on {
		v = 1
	}
	return db != nil && C.persist_set_triggers(db, v) == 1
}

// triggersOn reports whether c runs triggers (false when it cannot tell).
func triggersOn(c *sqlite3.SQLiteConn) bool {
	db := handle(c)
	return db != nil && C.persist_triggers_on(db) == 1
}

// triggersOff reports whether c runs no trigger, for certain.
func triggersOff(c *sqlite3.SQLiteConn) bool {
	db := handle(c)
	return db != nil && C.persist_triggers_on(db) == 0
}

// handle is c's sqlite3 pointer, which the driver keeps to itself.
func handle(c *sqlite3.SQLiteConn) unsafe.Pointer {
	f := reflect.ValueOf(c).Elem().FieldByName("db")
	if !f.IsValid() || f.Kind() != reflect.Pointer {
		return nil
	}
	return *(*unsafe.Pointer)(unsafe.Pointer(f.UnsafeAddr()))
}
