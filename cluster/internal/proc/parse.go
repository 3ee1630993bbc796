package proc

// The byte formats the kernels hand out, parsed without build tags so every
// parser is tested (and fuzzed) on any machine.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// parseStat reads the state (field 3) and start time (field 22) of Linux's
// /proc/<pid>/stat. The command name (field 2) may hold spaces and parentheses, so
// fields are counted from the last ')'.
func parseStat(stat []byte) (Info, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return Info{}, errors.New("malformed /proc stat: no command name")
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 20 {
		return Info{}, fmt.Errorf("malformed /proc stat: %d fields after the command name, want at least 20", len(fields))
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return Info{}, fmt.Errorf("malformed /proc stat start time: %w", err)
	}
	// 'T' is a stop by signal; 't' (stopped by a tracer) is not a pause kraftlab made.
	state := fields[0][0]
	return Info{StartTime: start, Stopped: state == 'T', Zombie: state == 'Z'}, nil
}

// parseCmdline splits Linux's /proc/<pid>/cmdline: arguments each ended by a NUL.
// Trailing NULs are dropped as a whole, since a process that rewrites its title may
// pad with them.
func parseCmdline(b []byte) []string {
	s := strings.TrimRight(string(b), "\x00")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}

// parseProcargs2 reads the argument vector from macOS's kern.procargs2: argc as a
// host-order int32, the executable path ended by a NUL, NULs padding it to an
// aligned end, then argc NUL-ended arguments (and the environment, ignored).
func parseProcargs2(b []byte) ([]string, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("malformed kern.procargs2: %d bytes, too short for argc", len(b))
	}
	argc := int32(binary.NativeEndian.Uint32(b))
	rest := b[4:]
	// Each argument takes at least its NUL, so a larger count cannot be true.
	if argc < 0 || int(argc) > len(rest) {
		return nil, fmt.Errorf("malformed kern.procargs2: argc %d with %d bytes of strings", argc, len(rest))
	}
	path := bytes.IndexByte(rest, 0)
	if path < 0 {
		return nil, errors.New("malformed kern.procargs2: executable path not NUL-terminated")
	}
	rest = rest[path:]
	// The padding cannot be told apart from an empty argv[0]; such a command line
	// is not one kraftlab starts or looks for.
	rest = bytes.TrimLeft(rest, "\x00")
	argv := make([]string, 0, argc)
	for range argc {
		end := bytes.IndexByte(rest, 0)
		if end < 0 {
			return nil, fmt.Errorf("malformed kern.procargs2: %d of %d arguments found", len(argv), argc)
		}
		argv = append(argv, string(rest[:end]))
		rest = rest[end+1:]
	}
	return argv, nil
}

// listensOn reports whether Linux's /proc/net/tcp or tcp6 content has a socket in
// state 0A (LISTEN) on port.
func listensOn(table []byte, port int) bool {
	suffix := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(table), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 3 && fields[3] == "0A" && strings.HasSuffix(fields[1], suffix) {
			return true
		}
	}
	return false
}
