// Package postgres is the PostgreSQL adapter (lib/pq).
//
// A store's rows live in three tables (docs/format.md, "Schema") in the connection's current
// schema, so a search_path in the DSN (options=-csearch_path=NAME) picks
// where they go. Reads run in READ ONLY REPEATABLE READ transactions and need
// only SELECT; writes run in READ COMMITTED transactions whose guarded writes
// never overwrite a newer version.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
)

// defaultConnectTimeout bounds making a connection when the location sets
// no connect_timeout: libpq's own wait is unbounded.
var defaultConnectTimeout = 10 * time.Second

// Options tune Open.
type Options struct {
	ReadOnly bool // never write; Begin fails
}

// ErrReadOnly is returned by Begin on an adapter opened with ReadOnly.
var ErrReadOnly = errors.New("database opened read-only")

// Adapter is a PostgreSQL database.
type Adapter struct {
	db      *sql.DB
	opt     Options
	writers int // Writers

	schemaMu    sync.Mutex
	schemaReady bool

	direct directState // whether new keys are copied straight into the tables

	// Statements run once a batch, prepared when first needed.
	proof lazyStmt // proofQuery
	code  lazyStmt // codeSQL (ForeignCode)
	calls lazyStmt // callsQuery (ForeignCode)
	// callsClean is the catalog's digest (catalogSQL) at which callsQuery
	// last found nothing.
	callsClean atomic.Pointer[string]
}

var _ adapters.Adapter = (*Adapter)(nil)

// Open connects to the database named by a libpq URL (postgres://,
// postgresql://) or key=value string, and checks that it answers. Errors never
// include the DSN's password.
func Open(dsn string, opt Options) (*Adapter, error) {
	return OpenContext(context.Background(), dsn, opt)
}

// OpenContext is Open, giving up when ctx ends.
func OpenContext(ctx context.Context, dsn string, opt Options) (*Adapter, error) {
	cfg, err := newConfig(dsn)
	if err != nil {
		return nil, err
	}
	// lib/pq's default is require; libpq's (and psql's) is prefer, which is
	// what a user who gives no sslmode expects.
	if cfg.SSLMode == "" {
		cfg.SSLMode = pq.SSLModePrefer
	}
	if err := rootCert(cfg); err != nil {
		return nil, err
	}
	// Times are read as integers (pgTime); a session in UTC still shows
	// any time PostgreSQL prints, in a message or a user's own query, in
	// the stream's time zone.
	if cfg.Runtime == nil {
		cfg.Runtime = map[string]string{}
	}
	cfg.Runtime["TimeZone"] = "UTC"
	if cfg.ApplicationName == "" {
		cfg.ApplicationName = "persist"
	}
	// libpq waits for ever on a host that does not answer (a blackholed
	// address, a server stuck in shutdown), and so would every tool: a
	// connection not made within defaultConnectTimeout fails, unless the
	// user chose connect_timeout (0 included) or PGCONNECT_TIMEOUT.
	// The bound is each attempt's, as libpq's is: sslmode=prefer makes two
	// (TLS, then plain), so the first connection is bounded as a whole too.
	pingCtx := ctx
	if cfg.ConnectTimeout == 0 && !strings.Contains(dsn, "connect_timeout") && os.Getenv("PGCONNECT_TIMEOUT") == "" {
		cfg.ConnectTimeout = defaultConnectTimeout
		var cancel context.CancelFunc
		pingCtx, cancel = context.WithTimeout(ctx, defaultConnectTimeout)
		defer cancel()
	}
	conn, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("invalid postgres connection %s: %w", settingsAt(err, dsn), scrubConfigError(err, dsn))
	}
	conn.Dialer(dialer{})
	db := sql.OpenDB(conn)
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		if d, ok := ctx.Deadline(); pingCtx != ctx && ctx.Err() == nil && (!ok || time.Now().Before(d)) && isTimeout(err) {
			err = &explained{why: noAnswer(cfg), err: err}
		}
		return nil, fmt.Errorf("connect to postgres: %w", explain(err))
	}
	return &Adapter{db: db, opt: opt, writers: writersAllowed(ctx, db)}, nil
}

// rootCert refuses, as libpq does, a verify-ca or verify-full connection
// without the certificate authority to verify against: lib/pq would take
// the system's authorities instead, and verify-ca, which does not check the
// host name, then accept any certificate any of them signed. A root file
// named but missing is said as such, not as a server that hung up.
func rootCert(cfg pq.Config) error {
	if (cfg.SSLMode != pq.SSLModeVerifyCA && cfg.SSLMode != pq.SSLModeVerifyFull) || cfg.SSLRootCert == "system" {
		return nil
	}
	if cfg.SSLInline {
		if cfg.SSLRootCert != "" {
			return nil // the authority's certificate itself
		}
		// lib/pq looks for no file then, and trusts the system's.
		return hint.With(fmt.Errorf("connect to postgres: sslmode=%s with sslinline: no sslrootcert to verify the server against", cfg.SSLMode),
			"give the certificate of the server's authority in sslrootcert=… (or, without sslinline, its file: sslrootcert=FILE), or sslrootcert=system with sslmode=verify-full to trust the system's authorities")
	}
	path := cfg.SSLRootCert
	if path == "" {
		home := homeDir()
		if home == "" {
			return hint.With(fmt.Errorf("connect to postgres: sslmode=%s: no home directory to find ~/.postgresql/root.crt in", cfg.SSLMode),
				"name the server's certificate authority with sslrootcert=FILE in the location's query")
		}
		path = filepath.Join(home, ".postgresql", "root.crt")
	}
	if _, err := os.Stat(path); err != nil {
		return hint.With(fmt.Errorf("connect to postgres: sslmode=%s: root certificate file %q: %w", cfg.SSLMode, path, err),
			"give the file of the server's certificate authority (sslrootcert=FILE in the location's query, or %s), "+
				"or sslrootcert=system with sslmode=verify-full to trust the system's authorities", filepath.Join("~", ".postgresql", "root.crt"))
	}
	return nil
}

// homeDir is the home directory as lib/pq finds it: $HOME, else the
// user's entry in the password database.
func homeDir() string {
	if home, _ := os.UserHomeDir(); home != "" {
		return home
	}
	if u, err := user.Current(); err == nil {
		return u.HomeDir
	}
	return ""
}

// newConfig is lib/pq's reading of dsn, refusing a secret it would send
// as a session setting.
func newConfig(dsn string) (pq.Config, error) {
	cfg, err := pq.NewConfig(socketHost(dsn))
	if err != nil {
		return cfg, fmt.Errorf("invalid postgres connection %s: %w", settingsAt(err, dsn), scrubConfigError(err, dsn))
	}
	return cfg, secretSetting(cfg.Runtime)
}

// socketHost rewrites a URL whose host is a percent-encoded socket
// directory (postgresql://%2Fvar%2Frun%2Fpostgresql/db, which libpq
// documents) into the host parameter lib/pq reads (postgresql:///db?host=
// /var/run/postgresql): its URL parser refuses an escape in a host name.
// Anything else is returned as it is.
func socketHost(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok || (scheme != "postgres" && scheme != "postgresql") {
		return dsn
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	at := strings.LastIndexByte(authority, '@')
	userinfo, hostport := authority[:at+1], authority[at+1:]
	if !strings.HasPrefix(strings.ToLower(hostport), "%2f") || strings.Contains(hostport, ",") {
		return dsn // not a socket directory, or a list of hosts (which lib/pq does not take)
	}
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		host, port = hostport[:i], hostport[i:]
	}
	dir, err := url.PathUnescape(host)
	if err != nil {
		return dsn
	}
	path, query, _ := strings.Cut(tail, "?")
	if query != "" {
		query += "&"
	}
	return scheme + "://" + userinfo + port + path + "?" + query + "host=" + url.QueryEscape(dir)
}

// secretSetting refuses a connection parameter lib/pq does not read that
// names a secret (sslpassword, PASSWORD): lib/pq sends every parameter it
// does not know to the server as a session setting, in the startup message,
// which the server then refuses; the secret would have gone out for
// nothing, in clear text where the connection is not encrypted.
func secretSetting(runtime map[string]string) error {
	for k := range runtime {
		if strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword") {
			return hint.With(fmt.Errorf("invalid postgres connection: %s is not a parameter this client reads, and would be sent to the server as a session setting", k),
				"%s", secretHint(k))
		}
	}
	return nil
}

func secretHint(k string) string {
	if strings.EqualFold(k, "sslpassword") {
		return "give the client's TLS key unencrypted (openssl pkey -in KEY -out KEY.plain), with sslkey=KEY.plain"
	}
	return "write the key in lower case: password=…"
}

// writersAllowed is 2, or 1 when the role's or the database's CONNECTION
// LIMIT lets a load hold no second connection: the second batch's would be
// refused, and retried, until --retry-for ran out. Where the limits cannot
// be read (a pooler in between), 2; a refusal is then retried as before.
func writersAllowed(ctx context.Context, db *sql.DB) int {
	var limit sql.NullInt64
	// A superuser is held to neither limit.
	err := db.QueryRowContext(ctx, `SELECT min(n) FROM (
		SELECT rolconnlimit FROM pg_catalog.pg_roles WHERE rolname = current_user
		UNION ALL SELECT datconnlimit FROM pg_catalog.pg_database WHERE datname = current_database()) l(n)
		WHERE n >= 0 AND NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)`).Scan(&limit)
	if err == nil && limit.Valid && limit.Int64 < 2 {
		return 1
	}
	return 2
}

func isTimeout(err error) bool {
	var nerr net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &nerr) && nerr.Timeout()
}

// noAnswer says why a connection was not made within the default timeout,
// and how to wait longer.
func noAnswer(cfg pq.Config) string {
	where := cfg.Host
	if cfg.Port != 0 {
		where = fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)
	}
	return fmt.Sprintf("%s did not answer within %s (the server is down, shutting down or overloaded, or the network drops "+
		"the packets); to wait longer, add connect_timeout=SECONDS to the location", where, defaultConnectTimeout)
}

// Close releases the connections.
func (a *Adapter) Close() error {
	a.proof.close()
	a.code.close()
	a.calls.close()
	return a.db.Close()
}

// Writers is 2: while one batch's COPY keeps a server process busy, the
// other's read-back and commit need another. Three or four were no faster
// beyond the noise with the loader and the server sharing two cores, and
// each batch in flight costs the loader memory (docs/performance.md). It is
// 1 for a role or database whose CONNECTION LIMIT allows one connection.
func (a *Adapter) Writers() int { return a.writers }

// storesSQL names every store the database holds: those of
// persist_stores, and those whose records or events another program wrote
// without a row there, which a database holding "one store" must not leave
// unread. Each table's stores are found by a seek of its primary key per
// store (min), not a scan of its rows.
const storesSQL = `WITH RECURSIVE
	r(s) AS (SELECT (SELECT min(store) FROM persist_records)
		UNION ALL SELECT (SELECT min(store) FROM persist_records WHERE store > r.s) FROM r WHERE r.s IS NOT NULL),
	e(s) AS (SELECT (SELECT min(store) FROM persist_events)
		UNION ALL SELECT (SELECT min(store) FROM persist_events WHERE store > e.s) FROM e WHERE e.s IS NOT NULL)
	SELECT name COLLATE "C" FROM persist_stores
	UNION SELECT s COLLATE "C" FROM r WHERE s IS NOT NULL
	UNION SELECT s COLLATE "C" FROM e WHERE s IS NOT NULL`

// rowsOfStoreSQL says whether the data tables hold rows of the store $1,
// which storesSQL lists even where persist_stores lacks it. A snapshot
// asks only for a store persist_stores lacks: the server locks every table
// a statement names, and a snapshot takes no lock on the data tables
// before it reads them.
const rowsOfStoreSQL = `SELECT EXISTS (SELECT 1 FROM persist_records WHERE store = $1) OR EXISTS (SELECT 1 FROM persist_events WHERE store = $1)`

// Stores lists the stores, bytewise sorted; none when the schema is absent.
func (a *Adapter) Stores(ctx context.Context) ([]string, error) {
	var exists bool
	if err := a.db.QueryRowContext(ctx, `SELECT to_regclass('persist_stores') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("list stores: %w", explain(err))
	}
	if !exists {
		if err := outOfReach(ctx, a.db); err != nil {
			return nil, fmt.Errorf("list stores: %w", err)
		}
		return nil, nil
	}
	rows, err := a.db.QueryContext(ctx, storesSQL)
	if err != nil {
		return nil, fmt.Errorf("list stores: %w", explain(err))
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list stores: %w", explain(err))
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list stores: %w", explain(err))
	}
	// The column is COLLATE "C", so this only guards against a table made
	// by hand with another collation.
	sort.Strings(names)
	return names, nil
}
