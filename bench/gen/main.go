// Command gen writes a deterministic persist.v1 stream for the benchmarks.
//
// The stream is in dump order (records by collection and key, then events by
// stream and seq) and has neither header nor trailer, so persist-load takes it
// as a hand-made stream whose lines are complete. Every record is derived from
// (seed, collection, index) alone, which is what lets -differ produce a second
// stream that differs from the first in a known share of its records.
//
//	go run ./bench/gen -records 1000000 -events 200000 | persist-load sqlite:a.db#bench
//	go run ./bench/gen -records 1000000 -events 200000 -differ 1 | persist-load sqlite:b.db#bench
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

func main() {
	var o options
	flag.IntVar(&o.records, "records", 1000, "number of records")
	flag.IntVar(&o.events, "events", 200, "number of events")
	flag.Uint64Var(&o.seed, "seed", 1, "seed; the same flags always give the same bytes")
	flag.Float64Var(&o.differ, "differ", 0, "percentage of records that differ: the B side of a diff benchmark")
	flag.Parse()
	if flag.NArg() != 0 || o.records < 0 || o.events < 0 || o.differ < 0 || o.differ > 100 {
		fmt.Fprintln(os.Stderr, "usage: gen [-records N] [-events M] [-seed S] [-differ PCT]")
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	err := generate(w, o)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(2)
	}
}

type options struct {
	records, events int
	seed            uint64
	differ          float64
}

// collections, sorted bytewise, with their share of the records in percent.
var collections = []struct {
	name   string
	prefix string
	share  int
	value  func(b []byte, r *rng) []byte
}{
	{"accounts", "acct-", 5, accountValue},
	{"audit", "evt-", 15, auditValue},
	{"carts", "cart-", 5, cartValue},
	{"invoices", "inv-", 15, invoiceValue},
	{"orders", "ord-", 25, orderValue},
	{"products", "sku-", 5, productValue},
	{"sessions", "sess-", 15, sessionValue},
	{"users", "u-", 15, userValue},
}

// What -differ does to a record it picks.
const (
	mutValue     = iota // new value, version + 1
	mutAdd              // a new record right after this one
	mutDelete           // gone from B altogether
	mutTombstone        // deleted in B, version + 1
	mutBump             // same value, version + 1, later time
	mutKinds
)

// epoch is where generated times start; every time is in the year after it.
var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

const yearMicros = 365 * 24 * 3600 * 1_000_000

func generate(w io.Writer, o options) error {
	var line []byte
	threshold := uint64(o.differ / 100 * (1 << 53))
	remaining := o.records
	for ci, c := range collections {
		n := o.records * c.share / 100
		if ci == len(collections)-1 {
			n = remaining
		}
		remaining -= n
		for j := 0; j < n; j++ {
			r := newRNG(o.seed, uint64(ci)<<40|uint64(j))
			mut := -1
			if threshold > 0 {
				d := newRNG(o.seed^0x5eed_d1ff, uint64(ci)<<40|uint64(j))
				if d.next()>>11 < threshold {
					mut = int(d.next() % mutKinds)
				}
			}
			// Keys step by two so that -differ can add records between them.
			key := uint64(2 * j)
			if mut != mutDelete {
				line = recordLine(line[:0], ci, key, &r, mut)
				if _, err := w.Write(line); err != nil {
					return fmt.Errorf("write: %w", err)
				}
			}
			if mut == mutAdd {
				a := newRNG(o.seed^0xadd, uint64(ci)<<40|uint64(j))
				line = recordLine(line[:0], ci, key+1, &a, -1)
				if _, err := w.Write(line); err != nil {
					return fmt.Errorf("write: %w", err)
				}
			}
		}
	}
	return events(w, o, threshold)
}

// recordLine appends one record line. mut is -1 for an unchanged record.
func recordLine(b []byte, ci int, key uint64, r *rng, mut int) []byte {
	c := collections[ci]
	version := int64(1 + r.next()%9)
	at := epoch + int64(r.next()%yearMicros)
	tomb := r.next()%50 == 0 // 2%
	switch mut {
	case mutValue, mutBump:
		version++
		at += 1 + int64(r.peek()%3_600_000_000)
	case mutTombstone:
		version++
		at += 1 + int64(r.peek()%3_600_000_000)
		tomb = true
	}
	b = append(b, `{"kind":"record","collection":"`...)
	b = append(b, c.name...)
	b = append(b, `","key":"`...)
	b = append(b, c.prefix...)
	b = appendPadded(b, key, 9)
	b = append(b, `","version":`...)
	b = strconv.AppendInt(b, version, 10)
	b = append(b, `,"updated_at":"`...)
	b = appendTime(b, at)
	if tomb {
		return append(b, `","deleted":true}`+"\n"...)
	}
	b = append(b, `","value":`...)
	if mut == mutValue {
		// A different value: the same shape drawn from another state.
		r2 := newRNG(r.next(), 0x7a1e)
		b = c.value(b, &r2)
	} else {
		b = c.value(b, r)
	}
	return append(b, "}\n"...)
}

func events(w io.Writer, o options, threshold uint64) error {
	if o.events == 0 {
		return nil
	}
	streams := 1000
	if o.events < streams {
		streams = o.events
	}
	// Uneven streams, as in life: each event picks its stream at random.
	counts := make([]int, streams)
	r := newRNG(o.seed, 0xe7e7)
	for i := 0; i < o.events; i++ {
		counts[r.next()%uint64(streams)]++
	}
	var line []byte
	for s := 0; s < streams; s++ {
		n := counts[s]
		if threshold > 0 {
			// B gains a few events at the end of PCT% of the streams.
			d := newRNG(o.seed^0x5eed_d1ff, 0xe7e7<<32|uint64(s))
			if d.next()>>11 < threshold {
				n += 1 + int(d.next()%5)
			}
		}
		sr := newRNG(o.seed, 0x57<<48|uint64(s))
		at := epoch + int64(sr.next()%(yearMicros/2))
		for seq := 1; seq <= n; seq++ {
			er := newRNG(o.seed, 0x57<<48|uint64(s)<<20|uint64(seq))
			at += 1 + int64(er.next()%60_000_000)
			line = eventLine(line[:0], s, seq, at, &er)
			if _, err := w.Write(line); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		}
	}
	return nil
}

var eventTypes = []string{"placed", "paid", "packed", "shipped", "delivered", "refunded", "noted"}

func eventLine(b []byte, s, seq int, at int64, r *rng) []byte {
	b = append(b, `{"kind":"event","stream":"order-`...)
	b = appendPadded(b, uint64(s), 4)
	b = append(b, `","seq":`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `,"type":"`...)
	b = append(b, pick(r, eventTypes)...)
	b = append(b, `","at":"`...)
	b = appendTime(b, at)
	b = append(b, `","data":{"by":"`...)
	b = append(b, pick(r, firstNames)...)
	b = append(b, `","amount":`...)
	b = appendMoney(b, r)
	b = append(b, `,"currency":"`...)
	b = append(b, pick(r, currencies)...)
	b = append(b, `","lines":[`...)
	for i, n := 0, 1+int(r.next()%3); i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"sku":"sku-`...)
		b = appendPadded(b, r.next()%100000, 9)
		b = append(b, `","qty":`...)
		b = strconv.AppendUint(b, 1+r.next()%4, 10)
		b = append(b, '}')
	}
	b = append(b, `],"note":"`...)
	b = append(b, pick(r, notes)...)
	return append(b, "\"}}\n"...)
}

// appendTime writes microseconds since the Unix epoch as RFC 3339 UTC with six
// fractional digits.
func appendTime(b []byte, us int64) []byte {
	t := time.UnixMicro(us).UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendPadded(b, uint64(y), 4)
	b = append(b, '-')
	b = appendPadded(b, uint64(mo), 2)
	b = append(b, '-')
	b = appendPadded(b, uint64(d), 2)
	b = append(b, 'T')
	b = appendPadded(b, uint64(h), 2)
	b = append(b, ':')
	b = appendPadded(b, uint64(mi), 2)
	b = append(b, ':')
	b = appendPadded(b, uint64(s), 2)
	b = append(b, '.')
	b = appendPadded(b, uint64(us%1_000_000), 6)
	return append(b, 'Z')
}

func appendPadded(b []byte, v uint64, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v > 0 || i == len(buf) {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	for k := len(buf) - i; k < width; k++ {
		b = append(b, '0')
	}
	return append(b, buf[i:]...)
}

// appendMoney writes an amount with two decimals, trailing zero kept (12.50),
// as applications write them; canonical JSON turns it into 12.5.
func appendMoney(b []byte, r *rng) []byte {
	cents := r.next() % 100000
	b = strconv.AppendUint(b, cents/100, 10)
	b = append(b, '.')
	return appendPadded(b, cents%100, 2)
}

// rng is splitmix64: tiny, fast and good enough for test data.
type rng struct{ s uint64 }

func newRNG(seed, stream uint64) rng {
	r := rng{seed*0x9e3779b97f4a7c15 ^ stream}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// peek returns the next value without advancing, so that a mutation does not
// shift the values drawn after it.
func (r *rng) peek() uint64 {
	c := *r
	return c.next()
}

func pick(r *rng, list []string) string { return list[r.next()%uint64(len(list))] }
