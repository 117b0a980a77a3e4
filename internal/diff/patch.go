package diff

import (
	"bufio"
	"fmt"
	"io"

	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/spool"
)

// patchSink writes a patch stream that, loaded into B, makes it equal to A:
// A's lines for items only in A or changed, remove lines for items only in
// B. The header must carry B's sum, known only once the merge has seen all
// of B (unless the caller knew it), and the counts of the body, so the body
// is spooled and written after the header at the end.
type patchSink struct {
	w         io.Writer
	targetSum string
	body      spool.Spool
	bw        *bufio.Writer
	records   int64
	events    int64
	sum       record.Sum
	line      []byte
	rm        record.Item
}

func newPatchSink(w io.Writer, targetSum, dir string) *patchSink {
	p := &patchSink{w: w, targetSum: targetSum}
	p.body.Dir, p.body.Pattern = dir, "persist-diff-*"
	p.bw = bufio.NewWriterSize(&p.body, 64<<10)
	return p
}

func (p *patchSink) add(it *record.Item) error {
	// As record.Reader and record.Writer count them: remove lines are in
	// the sum (so that losing one shows) but in neither count.
	switch it.Kind {
	case record.KindRecord:
		p.records++
	case record.KindEvent:
		p.events++
	}
	line, err := record.WriteItemLine(p.bw, it, p.line, &p.sum)
	p.line = line
	if err != nil {
		return fmt.Errorf("write patch: %w", err)
	}
	return nil
}

func (p *patchSink) onlyA(a *record.Item) error { return p.add(a) }

func (p *patchSink) changed(a, _ *record.Item) error { return p.add(a) }

func (p *patchSink) onlyB(b *record.Item) error {
	p.rm = record.Item{Kind: record.KindRemove}
	if b.IsRecord() {
		p.rm.Collection, p.rm.Key = b.Collection, b.Key
	} else {
		p.rm.Stream, p.rm.Seq = b.Stream, b.Seq
	}
	return p.add(&p.rm)
}

func (p *patchSink) finish(_ Stats, sumA, sumB record.Sum) error {
	if err := p.bw.Flush(); err != nil {
		return fmt.Errorf("write patch: %w", err)
	}
	target := p.targetSum
	if target == "" {
		target = sumB.String()
	}
	h := record.Header{Format: record.Format, Patch: true, TargetSum: target, ResultSum: sumA.String(),
		Records: p.records, Events: p.events}
	p.line = append(record.AppendHeader(p.line[:0], &h), '\n')
	if _, err := p.w.Write(p.line); err != nil {
		return fmt.Errorf("write patch: %w", err)
	}
	if _, err := p.body.WriteTo(p.w); err != nil {
		return fmt.Errorf("write patch: %w", err)
	}
	t := record.Trailer{Records: p.records, Events: p.events, Sum: p.sum.String()}
	p.line = append(record.AppendTrailer(p.line[:0], &t), '\n')
	if _, err := p.w.Write(p.line); err != nil {
		return fmt.Errorf("write patch: %w", err)
	}
	return nil
}

func (p *patchSink) Close() error { return p.body.Close() }
