package tools

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/location"
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
	head := &headRecorder{r: in}
	in = head
	out, err := cli.CreateOutput(o.Output, st.Stdout)
	if err != nil {
		return err
	}
	defer out.Abort()
	res, err := persist.Seal(ctx, in, out, persist.SealOptions{Store: o.Store, Unframed: o.Unframed})
	if err != nil {
		return sealErr(err, o.Unframed, head.lines(o))
	}
	if err := out.Commit(); err != nil {
		return err
	}
	report(ctx).Update(func(r *cli.Result) { r.Records, r.Events, r.Sum = res.Records, res.Events, cli.Ptr(res.Sum) })
	summary(st, o.Common, name, fmt.Sprintf("sealed %d records and %d events, %s", res.Records, res.Events, res.Sum))
	return nil
}

// headRecorder keeps the first bytes read through it: whether the input
// is compressed, which a hint's pipeline has to undo first.
type headRecorder struct {
	r    io.Reader
	head []byte
}

func (h *headRecorder) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if len(h.head) < 4 {
		h.head = append(h.head, p[:min(n, 4-len(h.head))]...)
	}
	return n, err
}

// lines gives a hint's pipeline: cmd over the input's lines (after the
// command that uncompresses them, where they are compressed) into
// persist-seal with o's flags, and --unframed where the input was, or
// where unframed says the command leaves the header out.
func (h *headRecorder) lines(o SealOptions) func(cmd string, unframed bool) string {
	from := ""
	switch {
	case o.Input != "" && o.Input != "-":
		from = " " + location.ShellQuote(o.Input)
	case cli.StdinFile() != "":
		from = " " + location.ShellQuote(cli.StdinFile()) // < FILE, read by name
	}
	seal := " | persist-seal"
	if o.Store != "" {
		seal += " --store " + location.ShellQuote(o.Store)
	}
	if o.Output != "" && o.Output != "-" {
		seal += " -o " + location.ShellQuote(o.Output)
	}
	unpack := record.Unpacker(h.head)
	return func(cmd string, unframed bool) string {
		line := seal
		if unframed || o.Unframed {
			line += " --unframed"
		}
		if unpack == "" {
			return cmd + from + line
		}
		return unpack + from + " | " + cmd + line
	}
}

// sealLineErr is sealErr for a bad line, le; via writes a command over
// the input's lines, piped into persist-seal.
func sealLineErr(err error, le *record.LineError, unframed bool, via func(string, bool) string) error {
	switch {
	case le.Line == 1 && !unframed:
		// Left out, the first line takes the header with it.
		return cli.Hint(err, "fix line 1, where the stream's header belongs (docs/format.md); without one, persist-seal refuses the stream unless --unframed says it is hand-made")
	case record.CauseNamed(le.Err):
		// The message says how to mend the line, which may hold several
		// items run together (lines ended by \r alone): leaving it out
		// would drop them all.
		return err
	case le.Last && !unframed:
		// Left out, the last line leaves the stream without a trailer,
		// which persist-seal takes for one cut short.
		return cli.Hint(err, "line %d is the stream's last, where its trailer belongs: fix it (docs/format.md), or leave out the header and it "+
			"and seal the items alone (%s): the sealed stream then starts no chain of deltas", le.Line, via(fmt.Sprintf("sed '1d;%dd'", le.Line), true))
	}
	return cli.Hint(err, "fix line %d, or leave it out (%s): the old trailer is not held against what is left", le.Line, via(fmt.Sprintf("sed '%dd'", le.Line), false))
}

// sealErr is err, a stream Seal refused, with what to do about it; via
// as for sealLineErr.
func sealErr(err error, unframed bool, via func(string, bool) string) error {
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
		return cli.Hint(err, "fix the header on line 1 (its fields: docs/format.md), or drop it: %s", via("tail -n +2", true))
	case errors.As(err, &le):
		return sealLineErr(err, le, unframed, via)
	case errors.Is(err, persist.ErrUnframed):
		return cli.Hint(err, `keep the header and trailer lines in the filter (jq -c 'select(.kind == "header" or .kind == "trailer" or …)'), or add --unframed for a hand-made stream`)
	case errors.Is(err, persist.ErrCursor):
		return cli.Hint(err, "seal a stream that persist-dump of this release wrote, with its header's since and its trailer's cursor as it wrote them; "+
			"or drop the header (%s): the sealed stream then starts no chain of deltas", via("tail -n +2", true))
	case errors.Is(err, persist.ErrTruncated):
		return cli.Hint(err, "the stream was cut short before this step: run the pipeline again from the start")
	}
	return err
}
