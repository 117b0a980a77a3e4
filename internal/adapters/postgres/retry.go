package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/lib/pq"
)

// retryableCodes are the SQLSTATEs after which running the whole transaction
// again can succeed.
var retryableCodes = map[pq.ErrorCode]bool{
	"40001": true, // serialization_failure
	"40P01": true, // deadlock_detected
	"55P03": true, // lock_not_available (lock_timeout)
	"57P01": true, // admin_shutdown (pg_terminate_backend, fast shutdown)
	"57P02": true, // crash_shutdown
	"57P03": true, // cannot_connect_now (starting up, recovering)
	"53300": true, // too_many_connections
}

// Retryable reports whether err is transient: a serialization failure or
// deadlock, an administrator's or crash shutdown, or a lost connection.
func (a *Adapter) Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var perr *pq.Error
	if errors.As(err, &perr) {
		return retryableCodes[perr.Code] || perr.Code.Class() == "08" // connection_exception
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
	msg := err.Error()
	return strings.Contains(msg, "connection reset") || strings.Contains(msg, "broken pipe")
}
