// Package ackcheck is chaos's second, independent checker. During a run every
// acknowledged record is written to an acknowledgement log; afterwards Check reads
// the topic back with its own franz-go consumer and its own decoding, and compares
// the two. It shares no code with kraftlab's producer path or with kraftlab's own
// verifier (cluster/data): it imports nothing of kraftlab, and it never parses the
// record values kraftlab writes, only the key, one header and a checksum of the
// bytes. So a bug in how kraftlab encodes, tracks or verifies records cannot hide
// itself from this check.
//
// The log is plain text, so any other tool can re-check a run (RELIABILITY.md):
//
//	# kraftlab ack log v1
//	# run 3kd7xq2a
//	# topic chaos
//	# partition offset sequence crc32c
//	0 0 0 8d1f06a2
//	2 0 1 41f0a1c9
//
// Lines starting with # are comments; the first names the format, and "# run" and
// "# topic" name the run and the topic. Every other line is one acknowledged
// record: its partition, its offset there, its sequence number, and the CRC-32C
// (Castagnoli) of its value as 8 lower-case hex digits, separated by one space, in
// the order the acknowledgements arrived. A record of the run carries its sequence
// number in decimal as its key and the run id in the kraftlab-run header.
package ackcheck

// This file owns the acknowledgement log: writing it during a run and reading it
// back.

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

var errClosed = errors.New("ack log closed")

// Magic is the first line of an acknowledgement log.
const Magic = "# kraftlab ack log v1"

// RunHeader is the record header that carries the run id.
const RunHeader = "kraftlab-run"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum is the CRC-32C of a record value, as the log records it.
func Checksum(value []byte) uint32 { return crc32.Checksum(value, castagnoli) }

// Ack is one acknowledged record.
type Ack struct {
	Partition int32
	Offset    int64
	Seq       int64
	CRC       uint32
}

// Writer appends to an acknowledgement log; it is safe for concurrent use.
type Writer struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	n    int
	err  error
	path string
}

// Create starts a new log at path, which must not exist yet.
func Create(path, run, topic string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create ack log: %w", err)
	}
	w := &Writer{f: f, w: bufio.NewWriterSize(f, 1<<16), path: path}
	fmt.Fprintf(w.w, "%s\n# run %s\n# topic %s\n# partition offset sequence crc32c\n", Magic, run, topic)
	return w, nil
}

// Append logs one acknowledged record. A write error is kept and returned by
// Close; the records after it are not logged.
func (w *Writer) Append(partition int32, offset, seq int64, value []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	b := w.w.AvailableBuffer()
	b = strconv.AppendInt(b, int64(partition), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, offset, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, seq, 10)
	b = fmt.Appendf(b, " %08x\n", Checksum(value))
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("write ack log %s after %d records: %w", w.path, w.n, err)
		return
	}
	w.n++
}

// Records counts the records logged.
func (w *Writer) Records() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Path is where the log is.
func (w *Writer) Path() string { return w.path }

// Close flushes and closes the log, returning the first write error.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.err
	if err == nil {
		if ferr := w.w.Flush(); ferr != nil {
			err = fmt.Errorf("write ack log %s: %w", w.path, ferr)
		}
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close ack log %s: %w", w.path, cerr)
	}
	w.err = errClosed
	return err
}

// Log is an acknowledgement log as read back.
type Log struct {
	Run   string
	Topic string
	Acks  []Ack
}

// ReadLogFile reads the log at path.
func ReadLogFile(path string) (*Log, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read ack log: %w", err)
	}
	defer f.Close()
	l, err := ReadLog(f)
	if err != nil {
		return nil, fmt.Errorf("ack log %s: %w", path, err)
	}
	return l, nil
}

// ReadLog parses a log. It is strict: a line it cannot read is an error naming
// the line, since a check against a log it misread would prove nothing.
func ReadLog(r io.Reader) (*Log, error) {
	sc := bufio.NewScanner(r)
	l := &Log{}
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if line == 1 {
			if text != Magic {
				return nil, fmt.Errorf("line 1: %q is not an ack log (want %q)", text, Magic)
			}
			continue
		}
		if rest, ok := strings.CutPrefix(text, "#"); ok {
			switch f := strings.Fields(rest); {
			case len(f) == 2 && f[0] == "run":
				l.Run = f[1]
			case len(f) == 2 && f[0] == "topic":
				l.Topic = f[1]
			}
			continue
		}
		a, err := parseAck(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %q: %w", line, text, err)
		}
		l.Acks = append(l.Acks, a)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	switch {
	case line == 0:
		return nil, errors.New("empty: not an ack log")
	case l.Run == "" || l.Topic == "":
		return nil, errors.New(`no "# run" or "# topic" line: the log does not say which records it covers`)
	}
	return l, nil
}

func parseAck(text string) (Ack, error) {
	f := strings.Split(text, " ")
	if len(f) != 4 {
		return Ack{}, errors.New("want 4 fields: partition offset sequence crc32c")
	}
	p, perr := strconv.ParseInt(f[0], 10, 32)
	off, oerr := strconv.ParseInt(f[1], 10, 64)
	seq, serr := strconv.ParseInt(f[2], 10, 64)
	crc, cerr := strconv.ParseUint(f[3], 16, 32)
	switch {
	case perr != nil || p < 0:
		return Ack{}, fmt.Errorf("partition %q: want a number, 0 or more", f[0])
	case oerr != nil || off < 0:
		return Ack{}, fmt.Errorf("offset %q: want a number, 0 or more", f[1])
	case serr != nil || seq < 0:
		return Ack{}, fmt.Errorf("sequence %q: want a number, 0 or more", f[2])
	case cerr != nil || len(f[3]) != 8:
		return Ack{}, fmt.Errorf("crc32c %q: want 8 hex digits", f[3])
	}
	return Ack{Partition: int32(p), Offset: off, Seq: seq, CRC: uint32(crc)}, nil
}
