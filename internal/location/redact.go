package location

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/cuitty/persist/internal/hint"
)

const mask = "***"

// A key=value password is quoted, or runs to the next unescaped space
// (libpq lets a backslash escape one inside it). A quote left open masks to
// the end, and a password whose '=' was left out (password s3cret) is
// masked too: the string is refused either way, and its error shows it.
var kvPassword = regexp.MustCompile(`(?i)(password(?:\s*=\s*|\s+))('(?:[^'\\]|\\.)*(?:'|\\?$)|(?:[^\s\\]|\\.)+\\?)`)

// Redact masks the password of a location or connection string:
// postgres://u:secret@h/db becomes postgres://u:***@h/db, password=secret
// becomes password=***. Anything else is returned unchanged.
func Redact(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return kvPassword.ReplaceAllString(s, "${1}"+mask)
	}
	out := s
	// The user-info runs to the last '@': a password may hold '/', '?' or
	// '#' (unescaped, the URL is invalid, and its error must still not show
	// it). An '@' later in the URL only makes the mask reach further.
	whole, store := splitStore(out)
	rest := whole[i+3:]
	if store != "" {
		store = "#" + store
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		// The #NAME stays out of the query's masking: it is no password's.
		return maskQuery(whole) + store
	}
	userinfo := rest[:at]
	if c := strings.IndexByte(userinfo, ':'); c >= 0 {
		userinfo = userinfo[:c+1] + mask
	}
	return maskQuery(out[:i+3]+userinfo+rest[at:]) + store
}

// maskQuery masks a password given as a URL query parameter.
func maskQuery(s string) string {
	q := strings.IndexByte(s, '?')
	if q < 0 {
		return s
	}
	parts := strings.Split(s[q+1:], "&")
	for i, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		if ok {
			if uk, err := url.QueryUnescape(k); err == nil && isPasswordKey(uk) {
				parts[i] = k + "=" + mask
			}
		}
	}
	return s[:q+1] + strings.Join(parts, "&")
}

// isPasswordKey reports whether a connection parameter holds a secret: the
// password, or sslpassword (the passphrase of the client's TLS key).
func isPasswordKey(k string) bool {
	return strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword")
}

// Unmask drops a password that Redact masked, so that a location read back
// from saved output (persist-sum --check) connects with the password from
// PGPASSWORD or ~/.pgpass instead of the literal "***".
func Unmask(s string) string {
	s = strings.ReplaceAll(s, ":"+mask+"@", "@")
	for _, k := range []string{"password", "sslpassword"} {
		s = strings.ReplaceAll(s, "&"+k+"="+mask, "")
		s = strings.ReplaceAll(s, "?"+k+"="+mask+"&", "?")
		s = strings.ReplaceAll(s, "?"+k+"="+mask, "")
	}
	return maskedKV.ReplaceAllString(s, "")
}

var maskedKV = regexp.MustCompile(`(?i)(?:ssl)?password\s*=\s*\*\*\*`)

// Secrets returns the passwords found in raw, so that error texts from
// drivers can be scrubbed of them too.
func Secrets(raw string) []string {
	var out []string
	for _, m := range kvPassword.FindAllStringSubmatch(raw, -1) {
		out = append(out, strings.Trim(m[2], "'"))
	}
	if i := strings.Index(raw, "://"); i >= 0 {
		// Also by hand, for URLs too broken for url.Parse.
		whole, _ := splitStore(raw)
		rest := whole[i+3:]
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			if _, p, ok := strings.Cut(rest[:at], ":"); ok && p != "" {
				out = append(out, p)
			}
		}
	}
	// A URL, with or without a scheme: prefix in front of it.
	u := raw
	if _, rest, ok := splitScheme(raw); ok && !strings.HasPrefix(rest, "//") {
		u = rest
	}
	if parsed, err := url.Parse(u); err == nil {
		if p, ok := parsed.User.Password(); ok && p != "" {
			out = append(out, p)
		}
		for k, vs := range parsed.Query() {
			for _, v := range vs {
				if isPasswordKey(k) && v != "" {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// Scrub replaces every password of the given locations found in text.
func Scrub(text string, raws ...string) string {
	for _, raw := range raws {
		for _, s := range Secrets(raw) {
			if len(s) >= 4 { // shorter ones would garble the message; drivers do not echo them
				text = strings.ReplaceAll(text, s, mask)
			}
			if e := url.QueryEscape(s); e != s {
				text = strings.ReplaceAll(text, e, mask)
			}
		}
	}
	return text
}

// ScrubError is err with its message scrubbed as Scrub does; errors.Is and
// errors.As still see err and what it wraps, so that a caller can tell the
// cases apart without the message showing a password.
func ScrubError(err error, raws ...string) error {
	return &scrubbed{msg: Scrub(err.Error(), raws...), err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

// ForShell is raw as a person can paste it into a shell: its password left
// out (libpq then takes it from PGPASSWORD or ~/.pgpass, and says so if
// neither has it) and quoted where the shell would split or expand it.
func ForShell(raw string) string {
	return ShellQuote(Unmask(Redact(raw)))
}

// HasPassword reports whether raw carries a password.
func HasPassword(raw string) bool { return Redact(raw) != raw }

// ShellQuote quotes s for a POSIX shell when it needs it (hint.Quote).
func ShellQuote(s string) string { return hint.Quote(s) }
