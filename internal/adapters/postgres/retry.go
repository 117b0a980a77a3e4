package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/backoff"
	"github.com/cuitty/persist/internal/hint"
)

// retryableCodes are the SQLSTATEs after which running the whole transaction
// again can succeed, with what each means in plain words.
var retryableCodes = map[pqerror.Code]string{
	"40001": "a serialization failure: another transaction changed the same rows",
	"40P01": "a deadlock with another transaction",
	"55P03": "a lock not granted in time (lock_timeout)",
	"57P01": "the session was terminated by an administrator or a server shutdown",
	"57P02": "the server is recovering from the crash of one of its processes",
	"57P03": "the server does not accept connections now",
	"53300": "the server has no connection slot left (max_connections)",
}

// Retryable reports whether err is transient: a serialization failure or
// deadlock, an administrator's or crash shutdown, or a lost connection.
func (a *Adapter) Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, adapters.ErrCommitUnknown) {
		return false
	}
	var perr *pq.Error
	if errors.As(err, &perr) {
		_, ok := retryableCodes[perr.Code]
		return ok || perr.Code.Class() == "08" // connection_exception
	}
	return isConnLoss(err)
}

// isConnLoss reports whether err says the connection to the server is gone.
func isConnLoss(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) {
		return true
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		return true
	}
	var ex *explained
	if errors.As(err, &ex) {
		// Its words replace the driver's, which are what is matched below.
		return isConnLoss(ex.err)
	}
	msg := err.Error()
	return strings.Contains(msg, "connection reset") || strings.Contains(msg, "broken pipe")
}

// explained is an error said in plain words. It wraps what the driver
// said, so that Retryable and errors.Is see through it.
type explained struct {
	why string
	err error
}

func (e *explained) Error() string { return e.why }
func (e *explained) Unwrap() error { return e.err }

// closedUnexpectedly is how libpq (and so psql) says that the server ended
// the connection without a word the client could read. lib/pq reports even
// the server's last word (a FATAL error such as "terminating connection due
// to administrator command") as driver.ErrBadConn, and drops the word.
const closedUnexpectedly = "the server closed the connection unexpectedly"

// connReset is a connection ended abruptly: by the server (a session
// terminated while the client's words were still on their way) or by the
// network.
const connReset = "the connection was reset (by the server, or by the network between)"

// Explain says in plain words why a connection or a transaction failed, for
// the errors Retryable accepts; any other error is returned as it is. The
// result wraps err.
func (a *Adapter) Explain(err error) error { return explain(err) }

func explain(err error) error {
	if why := cause(err); why != "" {
		return &explained{why: why, err: err}
	}
	var perr *pq.Error
	if errors.As(err, &perr) && perr.Code == "57014" && strings.Contains(perr.Message, "statement timeout") {
		// Not transient: the same statement, tried again, runs as long.
		return hint.With(err, "the server ends any statement that runs longer than its statement_timeout, set for this role, "+
			"database or server: raise it for these sessions (PGOPTIONS='-c statement_timeout=0' before the command, or "+
			"ALTER ROLE … SET statement_timeout)")
	}
	return err
}

// cause is what Explain says about err, "" when it has nothing to add.
func cause(err error) string {
	var ex *explained
	var perr *pq.Error
	var oerr *net.OpError
	var dnsErr *net.DNSError
	var nerr net.Error
	switch {
	case err == nil, errors.As(err, &ex), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ""
	case errors.As(err, &perr):
		if perr.Code == "53300" && strings.Contains(perr.Message, "for role") {
			// The same code as max_connections, said of the role's own
			// limit: the server has slots, the role may not take one.
			return "the role may open no more connections (its CONNECTION LIMIT, taken by its other sessions: a load holds two when the limit allows two) (" + perr.Message + ")"
		}
		if why, ok := retryableCodes[perr.Code]; ok {
			return why + " (" + perr.Message + ")"
		}
		if perr.Code.Class() == "08" {
			return "the connection failed: " + perr.Message
		}
		return ""
	case errors.Is(err, syscall.ECONNREFUSED):
		by := ""
		if errors.As(err, &oerr) && oerr.Addr != nil {
			by = " by " + oerr.Addr.String()
		}
		return "connection refused" + by + " (no server listens there: it is stopped or restarting, or the address is wrong)"
	case errors.As(err, &dnsErr):
		return "the server's host name cannot be resolved: " + dnsErr.Error()
	case errors.Is(err, syscall.ECONNRESET):
		return connReset
	case errors.As(err, &nerr) && nerr.Timeout():
		return "the server did not answer in time (network timeout)"
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
		return closedUnexpectedly
	case errors.As(err, &oerr):
		return "the connection failed: " + oerr.Err.Error()
	case isConnLoss(err):
		return closedUnexpectedly
	}
	return ""
}

// serverState is what a snapshot notes about the server when it starts, so
// that it can tell later why its connection was lost: lib/pq keeps no word
// of it.
type serverState struct {
	started string // pg_postmaster_start_time(): changes when the server restarts
	// sessions_killed of the database (PostgreSQL 14 and later; read through
	// to_jsonb so that an older server gives NULL rather than an error):
	// grows when a session is terminated by an administrator.
	killed sql.NullInt64
}

const (
	killedQuery      = `(SELECT (to_jsonb(d)->>'sessions_killed')::bigint FROM pg_stat_database d WHERE d.datname = current_database())`
	serverStateQuery = `SELECT pg_postmaster_start_time()::text, ` + killedQuery
)

// readServerState reads the server's state. A role that may not call
// pg_postmaster_start_time (an administrator may revoke it from PUBLIC)
// gets started "": what the state is for is a better message, and a
// reader that needs no more than SELECT must not fail for it.
func readServerState(ctx context.Context, q querier) (serverState, error) {
	var s serverState
	err := q.QueryRowContext(ctx, serverStateQuery).Scan(&s.started, &s.killed)
	var perr *pq.Error
	if errors.As(err, &perr) && perr.Code == "42501" {
		err = q.QueryRowContext(ctx, `SELECT `+killedQuery).Scan(&s.killed)
	}
	return s, err
}

// diagnoseTimeout bounds the look at the server after a lost connection.
const diagnoseTimeout = 10 * time.Second

// lost explains err, an error of a connection that had state when it was
// opened. Where the server just closed the connection, a new connection
// tells whether the server is down, restarted, or terminated the session.
// A read that row security refused says which table, and what to do.
func (a *Adapter) lost(err error, state serverState) error {
	if rls := rowSecurityRefused(err); rls != nil {
		return rls
	}
	said := cause(err)
	if said != closedUnexpectedly && said != connReset {
		return a.Explain(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), diagnoseTimeout)
	defer cancel()
	now, qerr := readServerState(ctx, a.db)
	if qerr != nil {
		return &explained{why: said + a.unreachable(qerr), err: err}
	}
	return &explained{why: state.since(now, said), err: err}
}

// unreachable is what a connection made again after a loss says, qerr its
// failure.
func (a *Adapter) unreachable(qerr error) string {
	if errors.Is(qerr, syscall.ECONNREFUSED) {
		return "; the server refuses connections now: it is stopped or restarting"
	}
	return "; connecting again failed: " + a.Explain(qerr).Error()
}

// since says why a session whose server was in state (when it began) and
// is in now lost its connection, which the driver said as said.
func (state serverState) since(now serverState, said string) string {
	switch {
	case now.started != "" && state.started != "" && now.started != state.started:
		return said + "; the server has restarted since"
	case state.killed.Valid && now.killed.Int64 > state.killed.Int64:
		return "the session was terminated by an administrator (pg_terminate_backend): " + said
	case now.started == "" || state.started == "":
		return said + "; the server answers again (whether it restarted meanwhile is not known: this role may not call pg_postmaster_start_time())"
	}
	return said + "; the server kept running without a restart, so the session was ended on the server " +
		"(by pg_terminate_backend, a session timeout such as idle_in_transaction_session_timeout, or the crash of its server process)"
}

// commitOutcomeFor bounds how long a lost commit's outcome is asked after:
// a restart or a failover answers within it, or the outcome stays unknown.
var commitOutcomeFor = 30 * time.Second

// commitOutcome asks the server, on a new connection, what became of
// transaction xid, whose COMMIT lost its connection before the answer:
// committed is success; aborted is the loss itself, retried as ever
// (nothing was written); anything else the server says (too old to tell,
// an id it does not know: another server after a failover), or no server
// to ask within commitOutcomeFor and ctx, is ErrCommitUnknown, which
// nothing retries. A server restarting, or out of connections, is asked
// again.
func (a *Adapter) commitOutcome(ctx context.Context, xid int64, lost error) error {
	ctx, cancel := context.WithTimeout(ctx, commitOutcomeFor)
	defer cancel()
	for {
		var status sql.NullString
		err := a.db.QueryRowContext(ctx, `SELECT pg_catalog.txid_status($1)`, xid).Scan(&status)
		var perr *pq.Error
		switch {
		case err == nil && status.String == "committed":
			return nil
		case err == nil && status.String == "aborted":
			return lost
		case err == nil && status.String != "in progress", errors.As(err, &perr) && !a.Retryable(err), ctx.Err() != nil:
			return hint.With(fmt.Errorf("%w: the connection was lost while the COMMIT of transaction %d was under way (%v), "+
				"and the server could not say whether it took effect", adapters.ErrCommitUnknown, xid, lost),
				"read what was written before writing it again (persist get --record, persist events): it may be there already; "+
					"a load is run again as it is (what committed counts as unchanged)")
		}
		// The server is still finishing it, or not back yet: the next turn
		// asks again, or says unknown once the time is up.
		_ = backoff.Sleep(ctx, 200*time.Millisecond)
	}
}
