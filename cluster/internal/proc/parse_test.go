package proc

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    Info
		wantErr string
	}{
		{name: "sleeping", stat: "1234 (java) S 1 1234 1234 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 30 0 5550123 1000 100 18446744073709551615", want: Info{StartTime: 5550123}},
		{name: "name with spaces and parens", stat: "77 (a (b) c) T 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 42 0 0", want: Info{StartTime: 42, Stopped: true}},
		{name: "zombie", stat: "9 (java) Z 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 7 0 0\n", want: Info{StartTime: 7, Zombie: true}},
		{name: "stopped by a tracer is not a pause", stat: "9 (gdb me) t 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 7 0 0", want: Info{StartTime: 7}},
		{name: "exactly 20 fields after the name", stat: "5 (x) R 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99", want: Info{StartTime: 99}},
		{name: "no command name", stat: "nonsense", wantErr: "no command name"},
		{name: "empty", stat: "", wantErr: "no command name"},
		{name: "nothing after the name", stat: "1 (java)", wantErr: "0 fields"},
		{name: "cut short", stat: "1 (java) S 1 1 1 0 -1 0", wantErr: "7 fields"},
		{name: "start time not a number", stat: "5 (x) R 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 soon 0", wantErr: "start time"},
		{name: "negative start time", stat: "5 (x) R 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -3 0", wantErr: "start time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.stat))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.StartTime != tt.want.StartTime || got.Stopped != tt.want.Stopped || got.Zombie != tt.want.Zombie || got.Argv != nil {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseCmdline(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "java node", in: "java\x00-Xmx512M\x00kafka.Kafka\x00/l/node1/server.properties\x00", want: []string{"java", "-Xmx512M", "kafka.Kafka", "/l/node1/server.properties"}},
		{name: "no trailing NUL", in: "sleep\x0030", want: []string{"sleep", "30"}},
		{name: "empty argument inside kept", in: "sh\x00\x00x\x00", want: []string{"sh", "", "x"}},
		{name: "title padded with NULs", in: "postgres: writer\x00\x00\x00\x00", want: []string{"postgres: writer"}},
		{name: "empty (zombie or kernel thread)", in: "", want: nil},
		{name: "only NULs", in: "\x00\x00", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseCmdline([]byte(tt.in)); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// procargs2 builds a kern.procargs2 buffer: argc, the path, pad NULs, then strs.
func procargs2(argc int32, path string, pad int, strs ...string) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.NativeEndian, argc)
	b.WriteString(path)
	b.WriteByte(0)
	b.Write(make([]byte, pad))
	for _, s := range strs {
		b.WriteString(s)
		b.WriteByte(0)
	}
	return b.Bytes()
}

func TestParseProcargs2(t *testing.T) {
	const java = "/Library/Java/JavaVirtualMachines/jdk-21.jdk/Contents/Home/bin/java"
	tests := []struct {
		name    string
		in      []byte
		want    []string
		wantErr string
	}{
		{
			name: "java node with padding and environment",
			in:   procargs2(4, java, 3, java, "-Xmx512M", "kafka.Kafka", "/l/node1/server.properties", "HOME=/Users/k", "PATH=/usr/bin"),
			want: []string{java, "-Xmx512M", "kafka.Kafka", "/l/node1/server.properties"},
		},
		{name: "no padding", in: procargs2(2, "/bin/sleep", 0, "sleep", "30"), want: []string{"sleep", "30"}},
		{name: "empty argument inside kept", in: procargs2(3, "/bin/sh", 1, "sh", "", "x"), want: []string{"sh", "", "x"}},
		{name: "argc 0", in: procargs2(0, "/bin/true", 2), want: []string{}},
		{name: "argc 0 and nothing after the path", in: procargs2(0, "", 0), want: []string{}},
		{name: "empty", in: nil, wantErr: "too short for argc"},
		{name: "only part of argc", in: []byte{2, 0}, wantErr: "too short for argc"},
		{name: "negative argc", in: procargs2(-1, "/bin/sh", 0, "sh"), wantErr: "argc -1"},
		{name: "argc larger than the buffer", in: procargs2(1<<30, "/bin/sh", 0, "sh"), wantErr: "argc 1073741824"},
		{name: "path not terminated", in: append(binary.NativeEndian.AppendUint32(nil, 1), "/bin/sh"...), wantErr: "not NUL-terminated"},
		{name: "fewer arguments than argc", in: procargs2(5, "/bin/sh", 0, "sh", "-c"), wantErr: "2 of 5 arguments"},
		{name: "last argument not terminated", in: append(procargs2(2, "/bin/sleep", 0, "sleep"), "30"...), wantErr: "1 of 2 arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcargs2(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestListensOn(t *testing.T) {
	// Lines as /proc/net/tcp and tcp6 show them: local address, remote, state.
	const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:4E21 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:D431 0100007F:4E21 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:7531 0100007F:0050 06 00000000:00000000 03:00000F2A 00000000     0        0 0 3 0000000000000000
`
	const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:5208 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0
`
	tests := []struct {
		name  string
		table string
		port  int
		want  bool
	}{
		{name: "listener on 20001", table: tcp, port: 20001, want: true},
		{name: "only a client socket from 54321", table: tcp, port: 54321},
		{name: "only TIME_WAIT on 30001", table: tcp, port: 30001},
		{name: "client's remote port is not a listener", table: tcp, port: 80},
		{name: "tcp6 listener on 21000", table: tcp6, port: 21000, want: true},
		{name: "hex digits must match the whole port", table: tcp, port: 0x4E2, want: false},
		{name: "empty table", table: "", port: 20001},
		{name: "garbage", table: "\x00\x00 0A\n:4E21", port: 20001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listensOn([]byte(tt.table), tt.port); got != tt.want {
				t.Errorf("listensOn(%d) = %v, want %v", tt.port, got, tt.want)
			}
		})
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("1234 (java) S 1 1234 1234 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 30 0 5550123 1000 100 18446744073709551615"))
	f.Add([]byte("77 (a (b) c) T 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 42 0 0"))
	f.Add([]byte("1 ()"))
	f.Fuzz(func(t *testing.T, stat []byte) {
		info, err := parseStat(stat)
		if err != nil {
			return
		}
		// A parse that succeeds found the start time as a field after the name.
		end := bytes.LastIndexByte(stat, ')')
		found := slices.ContainsFunc(strings.Fields(string(stat[end+1:])), func(f string) bool {
			n, err := strconv.ParseUint(f, 10, 64)
			return err == nil && n == info.StartTime
		})
		if !found {
			t.Errorf("start time %d is not among the fields of %q", info.StartTime, stat)
		}
		if info.Stopped && info.Zombie {
			t.Errorf("both stopped and zombie from %q", stat)
		}
	})
}

func FuzzParseProcargs2(f *testing.F) {
	f.Add(procargs2(2, "/bin/sleep", 3, "sleep", "30", "HOME=/"))
	f.Add(procargs2(0, "", 0))
	f.Add(procargs2(-7, "/x", 1, "a"))
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		argv, err := parseProcargs2(b)
		if err != nil {
			return
		}
		if argc := int(int32(binary.NativeEndian.Uint32(b))); len(argv) != argc {
			t.Errorf("%d arguments for argc %d from %q", len(argv), argc, b)
		}
		for _, a := range argv {
			if strings.IndexByte(a, 0) >= 0 {
				t.Errorf("argument %q holds a NUL", a)
			}
		}
	})
}
