package data

// This file owns what a smoke record carries (run, sequence number, checksum) and
// the Verifier that compares what came back with what was acknowledged.

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
	"strconv"
	"strings"
)

// A smoke record's value is a readable header, then filler up to the record size:
//
//	kraftlab-smoke <run> <seq> <crc> <filler...>
//
// run tells this smoke run's records from earlier runs' in the same topic; seq
// numbers records across all partitions; crc is a CRC-32 of everything but
// itself, so a flipped bit anywhere is caught.
const (
	payloadMagic  = "kraftlab-smoke"
	runIDLen      = 8
	seqDigits     = 10
	crcDigits     = 8
	payloadRunAt  = len(payloadMagic) + 1
	payloadSeqAt  = payloadRunAt + runIDLen + 1
	payloadCRCAt  = payloadSeqAt + seqDigits + 1
	payloadBodyAt = payloadCRCAt + crcDigits + 1

	// MinRecordSize is the smallest smoke record: the header alone.
	MinRecordSize = payloadBodyAt
)

// fillerAlphabet makes bodies differ from record to record, so a value swapped
// between two records, or a body from another record, fails its checksum.
const fillerAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// encodePayload returns the value of record seq of run, size bytes long
// (at least MinRecordSize).
func encodePayload(run string, seq int64, size int) []byte {
	b := make([]byte, 0, max(size, MinRecordSize))
	b = fmt.Appendf(b, "%s %s %0*d %0*x ", payloadMagic, run, seqDigits, seq, crcDigits, 0)
	for i := len(b); i < size; i++ {
		b = append(b, fillerAlphabet[(int(seq)+i)%len(fillerAlphabet)])
	}
	copy(b[payloadCRCAt:], fmt.Sprintf("%0*x", crcDigits, payloadCRC(b)))
	return b
}

// payloadCRC covers the value except the checksum digits themselves.
func payloadCRC(value []byte) uint32 {
	crc := crc32.ChecksumIEEE(value[:payloadCRCAt])
	return crc32.Update(crc, crc32.IEEETable, value[payloadCRCAt+crcDigits:])
}

// payload is a decoded smoke record.
type payload struct {
	run    string
	seq    int64
	intact bool // the checksum matches and every field parses
}

// parsePayload decodes value; ok is false when it is not a smoke record at all
// (another producer's data in the same topic).
func parsePayload(value []byte) (p payload, ok bool) {
	if len(value) < MinRecordSize || !bytes.HasPrefix(value, []byte(payloadMagic+" ")) {
		return payload{}, false
	}
	p.run = string(value[payloadRunAt : payloadRunAt+runIDLen])
	seq, seqErr := strconv.ParseInt(string(value[payloadSeqAt:payloadSeqAt+seqDigits]), 10, 64)
	crc, crcErr := strconv.ParseUint(string(value[payloadCRCAt:payloadCRCAt+crcDigits]), 16, 32)
	p.seq = seq
	p.intact = seqErr == nil && crcErr == nil && uint32(crc) == payloadCRC(value)
	return p, true
}

// maxProblems caps how many individual problems a Verification lists; the counts
// are always complete.
const maxProblems = 5

// Verification is what a Verifier found.
type Verification struct {
	Acked int `json:"acked"`
	Read  int `json:"read"` // intact records of this run read back, duplicates included
	// Lost counts acknowledged records never read back intact, so a corrupted
	// record with no intact copy is both corrupted and lost.
	Lost       int `json:"lost"`
	Duplicated int `json:"duplicated"`
	// Reordered counts records read before a record acknowledged earlier in the
	// same partition, or read from another partition than acknowledged.
	Reordered int `json:"reordered"`
	Corrupted int `json:"corrupted"`
	Skipped   int `json:"skipped"` // records of other runs or other producers
	// Problems describes the first few discrepancies, for people.
	Problems []string `json:"problems,omitempty"`
}

// Err is nil when every acknowledged record came back once, intact and in order.
func (v Verification) Err() error {
	if v.Lost+v.Duplicated+v.Reordered+v.Corrupted == 0 {
		return nil
	}
	msg := fmt.Sprintf("%d lost, %d duplicated, %d reordered, %d corrupted of %d acknowledged records",
		v.Lost, v.Duplicated, v.Reordered, v.Corrupted, v.Acked)
	if len(v.Problems) > 0 {
		msg += ": " + strings.Join(v.Problems, "; ")
	}
	return errors.New(msg)
}

// Verifier checks the records a consumer read back against the ones the producer
// had acknowledged, for one smoke run. Calls must not overlap.
type Verifier struct {
	run      string
	acked    map[int64]int32 // seq -> partition it was acknowledged in
	received map[int64]int   // seq -> intact copies read
	last     map[int32]int64 // partition -> highest seq read from it so far
	result   Verification
	extra    int // problems beyond maxProblems
}

// NewVerifier returns a Verifier for the records of run.
func NewVerifier(run string) *Verifier {
	return &Verifier{
		run:      run,
		acked:    make(map[int64]int32),
		received: make(map[int64]int),
		last:     make(map[int32]int64),
	}
}

// Acked notes that the producer's record seq was acknowledged in partition.
func (v *Verifier) Acked(seq int64, partition int32) {
	v.acked[seq] = partition
	v.result.Acked = len(v.acked)
}

// Read checks one consumed record; records of a partition must be passed in the
// order the partition delivered them.
func (v *Verifier) Read(partition int32, offset int64, value []byte) {
	p, ok := parsePayload(value)
	if !ok || p.run != v.run {
		v.result.Skipped++
		return
	}
	at := fmt.Sprintf("partition %d offset %d", partition, offset)
	if !p.intact {
		v.result.Corrupted++
		v.problem("record at %s is corrupted (checksum mismatch)", at)
		return
	}
	v.result.Read++
	v.received[p.seq]++
	if v.received[p.seq] > 1 {
		v.result.Duplicated++
		v.problem("seq %d read again at %s", p.seq, at)
		return
	}
	if want, ok := v.acked[p.seq]; ok && want != partition {
		v.result.Reordered++
		v.problem("seq %d was acknowledged in partition %d but read at %s", p.seq, want, at)
		return
	}
	if last, ok := v.last[partition]; ok && p.seq < last {
		v.result.Reordered++
		v.problem("seq %d read after seq %d at %s", p.seq, last, at)
		return
	}
	v.last[partition] = p.seq
}

// Result returns the counts so far; acknowledged records not read intact are lost.
func (v *Verifier) Result() Verification {
	r := v.result
	r.Problems = append([]string(nil), r.Problems...)
	var lost []int64
	for seq := range v.acked {
		if v.received[seq] == 0 {
			lost = append(lost, seq)
		}
	}
	sort.Slice(lost, func(i, j int) bool { return lost[i] < lost[j] })
	r.Lost = len(lost)
	extra := v.extra
	for _, seq := range lost {
		if len(r.Problems) == maxProblems {
			extra++
			continue
		}
		r.Problems = append(r.Problems, fmt.Sprintf("seq %d (acknowledged in partition %d) never read back intact", seq, v.acked[seq]))
	}
	if extra > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("and %d more", extra))
	}
	return r
}

func (v *Verifier) problem(format string, args ...any) {
	if len(v.result.Problems) == maxProblems {
		v.extra++
		return
	}
	v.result.Problems = append(v.result.Problems, fmt.Sprintf(format, args...))
}
