package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/cuitty/persist/internal/adapters"
)

func init() {
	adapters.Register(&adapters.Driver{
		Name:    "postgres",
		Schemes: []string{"postgres", "postgresql"},
		Target:  target,
		Check:   checkItem,
		Bare:    bareKV.MatchString,
		Open: func(ctx context.Context, dsn string, opt adapters.OpenOptions) (adapters.Adapter, error) {
			return OpenContext(ctx, dsn, Options{ReadOnly: opt.ReadOnly})
		},
	})
}

// bareKV matches a keyword/value connection string written without its
// scheme: one of libpq's keywords and '=' first (in any case: a file name
// is no place for a password either way), or two KEY=VALUE pairs.
var bareKV = regexp.MustCompile(`(?i)^\s*(?:(?:host|hostaddr|port|dbname|user|password|passfile|service|servicefile|options|application_name|fallback_application_name|client_encoding|connect_timeout|keepalives|keepalives_idle|keepalives_interval|keepalives_count|tcp_user_timeout|replication|target_session_attrs|load_balance_hosts|sslmode|sslnegotiation|sslcompression|sslcert|sslkey|sslpassword|sslcertmode|sslrootcert|sslcrl|sslcrldir|sslsni|ssl_min_protocol_version|ssl_max_protocol_version|requiressl|requirepeer|require_auth|channel_binding|gssencmode|gsslib|gssdelegation|krbsrvname|disable_prepared_binary_result|binary_parameters)\s*=|\w+\s*=\S*\s+\w+\s*=)`)

// ErrNotPostgres is wrapped when a location's text is not a libpq
// connection string at all.
var ErrNotPostgres = errors.New("not a PostgreSQL connection string")

// target takes postgres://… and postgresql://… as the URL they are, and
// postgres:URL or postgres:KEY=VALUE … with the prefix dropped.
func target(scheme, rest string) (string, error) {
	if strings.HasPrefix(rest, "//") {
		return scheme + ":" + ipv6Port(escapeUserinfo(rest)), nil
	}
	dsn := strings.TrimSpace(rest)
	switch {
	case dsn == "":
		return "", fmt.Errorf("no connection string after the %s scheme", scheme)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s, u, _ := strings.Cut(dsn, ":")
		return s + ":" + ipv6Port(escapeUserinfo(u)), nil
	case strings.Contains(dsn, "="):
		return rest, nil
	case strings.ContainsAny(dsn, " \t"):
		// Not echoed: a malformed key=value string may hold a password.
		return "", fmt.Errorf("%w: expected postgres://HOST/DB or KEY=VALUE pairs", ErrNotPostgres)
	}
	return "", fmt.Errorf("%w: %q: expected postgres://HOST/DB or KEY=VALUE pairs (host=… dbname=…)", ErrNotPostgres, dsn)
}

// escapeUserinfo percent-encodes a '#', '/' or '?' in the user-info of u
// (//USER:PASSWORD@HOST…; a password such as p#w or p/w, written raw): a URL
// parser would end the authority there and take the password for a port.
// The user-info runs to the last '@'.
func escapeUserinfo(u string) string {
	at := strings.LastIndexByte(u, '@')
	if at < 2 || !strings.HasPrefix(u, "//") {
		return u
	}
	return "//" + userinfoEscaper.Replace(u[2:at]) + u[at:]
}

// ipv6Port gives an IPv6 host of u (//…@[::1]/db) without a port the one
// libpq would use, $PGPORT or 5432: lib/pq would bracket the address a
// second time, and fail on "[[::1]]:5432".
func ipv6Port(u string) string {
	end := len(u)
	if i := strings.IndexAny(u[2:], "/?"); i >= 0 {
		end = i + 2
	}
	host := u[2:end]
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		host = host[at+1:]
	}
	if !strings.HasPrefix(host, "[") || !strings.HasSuffix(host, "]") {
		return u
	}
	port := os.Getenv("PGPORT")
	switch {
	case port == "":
		port = "5432"
	case strings.Trim(port, "0123456789") != "":
		return u // the driver names $PGPORT in its own error
	}
	return u[:end] + ":" + port + u[end:]
}

var userinfoEscaper = strings.NewReplacer("#", "%23", "/", "%2F", "?", "%3F")

// quoted matches the quoted pieces of lib/pq's DSN parse errors.
var quoted = regexp.MustCompile(`"[^"]*"|'[^']*'`)

// scrubConfigError keeps a DSN parse error whole (`invalid port "notaport"`
// says what to fix) but for the quoted pieces that overlap the DSN's password,
// which lib/pq may echo from a malformed string.
func scrubConfigError(err error, dsn string) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	secrets := passwordParts(dsn)
	msg := quoted.ReplaceAllStringFunc(err.Error(), func(q string) string {
		inner := q[1 : len(q)-1]
		for _, s := range secrets {
			if inner != "" && (strings.Contains(s, inner) || strings.Contains(inner, s)) {
				return `"…"`
			}
		}
		return q
	})
	return errors.New(msg)
}

// settingsAt says where a setting the driver refused came from: the
// connection string, or a PG* environment variable (PGDATESTYLE=German),
// which the driver reads too and which a user would not think to look for
// when told the string is wrong.
func settingsAt(err error, dsn string) string {
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "PG") || v == "" || strings.Contains(k, "PASSWORD") {
			continue
		}
		if strings.Contains(err.Error(), `"`+v+`"`) && !strings.Contains(dsn, v) {
			return fmt.Sprintf("setting: %s=%s in the environment (unset it, or set it to what the error asks for)", k, v)
		}
	}
	return "string"
}

// kvPassword finds a key=value password, even one missing its '=' or its
// quotes: everything up to the next key=, since a password with an
// unquoted space ("password=hunter2 secret") runs on past it.
var kvPassword = regexp.MustCompile(`(?is)password\s*=?\s*(.*?)(?:\s+[a-z_]+\s*=|$)`)

// passwordParts finds what may be a password in a DSN too broken to parse:
// a URL's user-info after the first ':', a password query parameter, a
// key=value password.
func passwordParts(dsn string) []string {
	var out []string
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			if _, p, ok := strings.Cut(rest[:at], ":"); ok && p != "" {
				out = append(out, p)
			}
		}
	}
	for _, m := range kvPassword.FindAllStringSubmatch(dsn, -1) {
		out = append(out, strings.Fields(strings.Trim(m[1], "'&"))...)
	}
	return out
}
