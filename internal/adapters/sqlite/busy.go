package sqlite

/*
typedef struct sqlite3 sqlite3;
int sqlite3_busy_handler(sqlite3*, int(*)(void*,int), void*);
int sqlite3_is_interrupted(sqlite3*);
int sqlite3_sleep(int);
void sqlite3_interrupt(sqlite3*);

// The whole wait, in ms: busyTimeoutMS (a compile-time check holds them equal).
#define PERSIST_BUSY_MS 5000

// persist_busy waits for a lock as sqlite3_busy_timeout does (the same
// delays, PERSIST_BUSY_MS in all), but gives up once the connection is
// interrupted: SQLite's own busy wait reads no interruption, and a
// caller's deadline would wait out the whole timeout.
static int persist_busy(void *p, int n) {
	static const int delays[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
	const int ndelays = sizeof(delays) / sizeof(delays[0]);
	sqlite3 *db = (sqlite3*)p;
	if (sqlite3_is_interrupted(db)) {
		return 0;
	}
	int slept = 0;
	for (int i = 0; i < n && i < ndelays; i++) {
		slept += delays[i];
	}
	if (n > ndelays) {
		slept += (n - ndelays) * 100;
	}
	int d = n < ndelays ? delays[n] : 100;
	if (slept + d > PERSIST_BUSY_MS) {
		d = PERSIST_BUSY_MS - slept;
		if (d <= 0) {
			return 0;
		}
	}
	sqlite3_sleep(d);
	return 1;
}

static void persist_set_busy(void *db) { sqlite3_busy_handler((sqlite3*)db, persist_busy, db); }
static void persist_interrupt_db(void *db) { sqlite3_interrupt((sqlite3*)db); }
*/
import "C"

import (
	"context"

	"github.com/mattn/go-sqlite3"
)

// The busy handler waits as long as the connections' busy timeout.
var _ [busyTimeoutMS - C.PERSIST_BUSY_MS]struct{}
var _ [C.PERSIST_BUSY_MS - busyTimeoutMS]struct{}

// boundWait makes c's waits for a lock end when ctx does, and returns the
// function that stops watching ctx (call it once the waiting statement has
// returned). A transaction is begun detached from its context (Begin), so
// the driver's own watch of the context does not reach its BEGIN, and a
// write with a deadline of 300 ms behind another connection's lock waited
// the whole busy timeout (5 s).
func boundWait(ctx context.Context, c *sqlite3.SQLiteConn) (stop func()) {
	db := handle(c)
	if db == nil {
		return func() {}
	}
	C.persist_set_busy(db)
	if ctx.Done() == nil {
		return func() {}
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-ctx.Done():
			C.persist_interrupt_db(db)
		case <-done:
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}
