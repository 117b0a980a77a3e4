package sqlite

/*
typedef struct sqlite3 sqlite3;
int sqlite3_db_config(sqlite3*, int op, ...);

// persist_triggers_off turns the main schema's triggers off for one
// connection (SQLITE_DBCONFIG_ENABLE_TRIGGER, 1003) and returns whether
// they are off.
static int persist_triggers_off(void *db) {
	int on = -1;
	if (sqlite3_db_config((sqlite3*)db, 1003, 0, &on) != 0) {
		return 0;
	}
	return on == 0;
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
	"database/sql"
	"database/sql/driver"
	"reflect"
	"strings"
	"unsafe"

	"github.com/mattn/go-sqlite3"
)

// writerDriver opens the connections Persist writes with. They run
// without the change-tracking triggers, which are for other programs:
// Persist's transactions stamp their rows and log their removals
// themselves. A table with triggers makes SQLite give every statement a
// statement journal and a trigger program, which cost a load a quarter of
// its time, one statement per row. Where the file has triggers of its own
// on Persist's tables (an application's audit log, say), they must run for
// Persist's writes too, so the connection keeps them all. Nothing is lost
// either way but that time: quiet (schema.go) keeps the change-tracking
// triggers from stamping Persist's rows.
const writerDriver = "sqlite3_persist_writer"

func init() {
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		if n, err := othersTriggers(c); err != nil || n > 0 {
			return err
		}
		triggersOff(c)
		return nil
	}})
}

// ownTriggers are the change-tracking triggers (schema.go).
var ownTriggers = []string{"persist_records_ins", "persist_records_upd", "persist_records_del",
	"persist_events_ins", "persist_events_upd", "persist_events_del"}

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

// triggersOff turns the triggers off for c and reports whether it could.
func triggersOff(c *sqlite3.SQLiteConn) bool {
	db := handle(c)
	return db != nil && C.persist_triggers_off(db) == 1
}

// triggersOn reports whether c runs triggers (false when it cannot tell).
func triggersOn(c *sqlite3.SQLiteConn) bool {
	db := handle(c)
	return db != nil && C.persist_triggers_on(db) == 1
}

// handle is c's sqlite3 pointer, which the driver keeps to itself.
func handle(c *sqlite3.SQLiteConn) unsafe.Pointer {
	f := reflect.ValueOf(c).Elem().FieldByName("db")
	if !f.IsValid() || f.Kind() != reflect.Pointer {
		return nil
	}
	return *(*unsafe.Pointer)(unsafe.Pointer(f.UnsafeAddr()))
}
