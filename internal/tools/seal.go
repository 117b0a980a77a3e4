package tools

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/source"
)

// SealOptions are persist-seal's flags.
type SealOptions struct {
	cli.Common
	Input, Output, Store string
	Unframed             bool
}

// Seal writes an edited stream again with a new header and trailer.
func Seal(ctx context.Context, st Stdio, o SealOptions) error {
	return streamHint(seal(ctx, st, o), false)
}

func seal(ctx context.Context, st Stdio, o SealOptions) error {
	const name = "persist-seal"
	if err := cli.CheckOutputName(o.Output); err != nil {
		return err
	}
	var err error
	if o.Output, err = streamOutput(ctx, o.Output); err != nil {
		return err
	}
	if err := guard(ctx, []string{o.Input}, cli.Named{What: "-o", Path: o.Output}); err != nil {
		return err
	}
	report(ctx).Update(func(r *cli.Result) {
		r.Sources = []cli.Side{readSide(o.Input, "")}
		r.Output = cli.Ptr(o.Output)
	})
	var in io.Reader = st.Stdin
	if o.Input != "-" && o.Input != "" {
		f, err := source.OpenFile(ctx, o.Input)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	out, err := cli.CreateOutput(o.Output, st.Stdout)
	if err != nil {
		return err
	}
	defer out.Abort()
	res, err := persist.Seal(ctx, in, out, persist.SealOptions{Store: o.Store, Unframed: o.Unframed})
	if err != nil {
		return sealErr(err, o.Unframed)
	}
	if err := out.Commit(); err != nil {
		return err
	}
	report(ctx).Update(func(r *cli.Result) { r.Records, r.Events, r.Sum = res.Records, res.Events, cli.Ptr(res.Sum) })
	summary(st, o.Common, name, fmt.Sprintf("sealed %d records and %d events, %s", res.Records, res.Events, res.Sum))
	return nil
}

// sealLineErr is sealErr for a bad line, le.
func sealLineErr(err error, le *record.LineError, unframed bool) error {
	switch {
	case le.Line == 1 && !unframed:
		// Left out, the first line takes the header with it.
		return cli.Hint(err, "fix line 1, where the stream's header belongs (docs/format.md); without one, persist-seal refuses the stream unless --unframed says it is hand-made")
	case record.CauseNamed(le.Err):
		// The message says how to mend the line, which may hold several
		// items run together (lines ended by \r alone): leaving it out
		// would drop them all.
		return err
	}
	return cli.Hint(err, "fix line %d, or leave it out (sed '%dd') before persist-seal: the old trailer is not held against what is left", le.Line, le.Line)
}

// sealErr is err, a stream Seal refused, with what to do about it.
func sealErr(err error, unframed bool) error {
	var le *record.LineError
	switch {
	case errors.Is(err, persist.ErrPatch):
		// Sealed, a filtered patch would be loaded as if whole: the hint
		// leads to the patch as it was made, or to a new one.
		return cli.Hint(err, "load the patch unedited into the store it was made for (persist-load STORE < PATCH); "+
			"a patch that should do less is made again, not edited: change A and run persist-diff --patch A B")
	case errors.Is(err, persist.ErrBadHeader) && errors.Is(err, record.ErrFormat):
		return cli.Hint(err, `if the header was edited, put back "format":"persist.v1" on line 1; `+
			"a stream in another format is read by the persist version that wrote it")
	case errors.Is(err, persist.ErrBadHeader):
		return cli.Hint(err, "fix the header on line 1 (its fields: docs/format.md), or drop it (tail -n +2) and add --unframed")
	case errors.As(err, &le):
		return sealLineErr(err, le, unframed)
	case errors.Is(err, persist.ErrUnframed):
		return cli.Hint(err, `keep the header and trailer lines in the filter (jq -c 'select(.kind == "header" or .kind == "trailer" or …)'), or add --unframed for a hand-made stream`)
	case errors.Is(err, persist.ErrCursor):
		return cli.Hint(err, "seal a stream that persist-dump of this release wrote, with its header's since and its trailer's cursor as it wrote them; "+
			"or drop the header (tail -n +2) and add --unframed: the sealed stream then starts no chain of deltas")
	case errors.Is(err, persist.ErrTruncated):
		return cli.Hint(err, "the stream was cut short before this step: run the pipeline again from the start")
	}
	return err
}
