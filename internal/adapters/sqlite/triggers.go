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
	"reflect"
	"unsafe"

	"github.com/mattn/go-sqlite3"
)

// writerDriver opens the connections Persist writes with. They run
// without the change-tracking triggers, which are for other programs:
// Persist's transactions stamp their rows and log their removals
// themselves. A table with triggers makes SQLite give every statement a
// statement journal and a trigger program, which cost a load a quarter of
// its time, one statement per row. Should a connection keep its triggers
// (a driver whose connection hides its handle), nothing is lost but that
// time: quiet (schema.go) keeps them from stamping Persist's rows.
const writerDriver = "sqlite3_persist_writer"

func init() {
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		triggersOff(c)
		return nil
	}})
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
