package postgres

import (
	"bufio"
	"context"
	"net"
	"time"
)

// readBufferSize is what one read from the server's socket asks for at
// most. lib/pq reads its connection through a buffer of 4 KiB, a system
// call for every 4 KiB of a dump's rows: a ninth of persist-dump's CPU on a
// whole-store scan. A read of the socket returns what has arrived, so a
// larger buffer waits for nothing and takes the rows in far fewer calls.
const readBufferSize = 64 << 10

// dialer is lib/pq's own (a net.Dialer), with the connection's reads
// buffered.
type dialer struct{ d net.Dialer }

func (d dialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d dialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &bufferedConn{Conn: c, r: bufio.NewReaderSize(c, readBufferSize)}, nil
}

// bufferedConn reads c through r; everything else is c's.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
