package sqlite

/*
#include <stdlib.h>

typedef struct sqlite3 sqlite3;
int sqlite3_busy_handler(sqlite3*, int(*)(void*,int), void*);
int sqlite3_busy_timeout(sqlite3*, int);
int sqlite3_sleep(int);
void sqlite3_interrupt(sqlite3*);

// The whole wait, in ms: busyTimeoutMS (a compile-time check holds them equal).
#define PERSIST_BUSY_MS 5000

// persist_wait is one bounded wait: the connection, and whether the
// caller's context has ended. SQLite clears a connection's own interrupt
// flag whenever no statement runs, so one sent just before the statement
// started would be lost: this flag is the wait's own.
typedef struct {
	sqlite3 *db;
	int ended;
} persist_wait;

// persist_busy waits for a lock as sqlite3_busy_timeout does (the same
// delays, PERSIST_BUSY_MS in all), but gives up once the wait's context
// has ended: SQLite's own busy wait reads no interruption, and a caller's
// deadline would wait out the whole timeout.
static int persist_busy(void *p, int n) {
	static const int delays[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
	const int ndelays = sizeof(delays) / sizeof(delays[0]);
	persist_wait *w = (persist_wait*)p;
	if (__atomic_load_n(&w->ended, __ATOMIC_SEQ_CST)) {
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

static persist_wait *persist_wait_start(void *db) {
	persist_wait *w = calloc(1, sizeof(persist_wait));
	if (w == 0) {
		return 0;
	}
	w->db = (sqlite3*)db;
	sqlite3_busy_handler(w->db, persist_busy, w);
	return w;
}

static void persist_wait_end(persist_wait *w) {
	__atomic_store_n(&w->ended, 1, __ATOMIC_SEQ_CST);
	sqlite3_interrupt(w->db);
}

// persist_wait_free puts SQLite's own busy timeout back on the connection,
// then lets the wait go.
static void persist_wait_free(persist_wait *w) {
	sqlite3_busy_timeout(w->db, PERSIST_BUSY_MS);
	free(w);
}
*/
import "C"

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

// The busy handler waits as long as the connections' busy timeout.
var _ [busyTimeoutMS - C.PERSIST_BUSY_MS]struct{}
var _ [C.PERSIST_BUSY_MS - busyTimeoutMS]struct{}

// beginBounded begins a transaction on conn detached from ctx (see
// Begin), with its wait for another connection's lock ended by ctx: the
// driver's own watch of the context does not reach a detached BEGIN, and
// a write with a deadline of 300 ms behind another connection's lock
// waited the whole busy timeout (5 s). A BEGIN that fails once ctx has
// ended says so, with the driver's error.
func beginBounded(ctx context.Context, conn *sql.Conn) (*sql.Tx, error) {
	stop := func() {}
	conn.Raw(func(dc any) error {
		if c, ok := dc.(*sqlite3.SQLiteConn); ok {
			stop = boundWait(ctx, c)
		}
		return nil
	})
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
	stop()
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("waiting for another connection's lock: %w (%w)", context.Cause(ctx), err)
	}
	return tx, err
}

// boundWait makes c's waits for a lock end when ctx does, and returns the
// function that stops watching ctx and puts SQLite's busy timeout back
// (call it once the waiting statement has returned).
func boundWait(ctx context.Context, c *sqlite3.SQLiteConn) (stop func()) {
	db := handle(c)
	if db == nil || ctx.Done() == nil {
		return func() {}
	}
	w := C.persist_wait_start(db)
	if w == nil {
		return func() {}
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-ctx.Done():
			C.persist_wait_end(w)
		case <-done:
		}
	}()
	return func() {
		close(done)
		<-exited
		C.persist_wait_free(w)
	}
}
