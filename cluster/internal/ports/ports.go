// Package ports owns a lab's ports before its nodes hold them: the preflight that
// tries each with a real listen, the search for a free window (--ports auto), and
// the reservation that keeps two kraftlab processes — two commands, or two test
// binaries with different lab homes — from picking the same ports at once.
package ports

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/kraftlab/kraftlab/cluster/internal/flock"
	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
)

// Use is one port a node needs.
type Use struct {
	Host string
	Port int
	Node int
	Role string // "broker" or "controller"
}

// Flag is the setting that moves this port.
func (u Use) Flag() string {
	if u.Role == "broker" {
		return "--broker-port (spec: ports.broker)"
	}
	return "--controller-port (spec: ports.controller)"
}

func listenOnce(host string, port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return ln.Close()
}

// Free reports whether nothing listens on host:port.
func Free(host string, port int) bool { return listenOnce(host, port) == nil }

// InUseError is a port another program holds.
type InUseError struct{ Use Use }

func (e *InUseError) Error() string {
	u := e.Use
	return fmt.Sprintf("port %d (node %d %s listener) is already in use by another program; free it or choose another base with %s", u.Port, u.Node, u.Role, u.Flag())
}

// Check listens on every port once and reports all that are taken; owner, when
// not nil, names who holds a taken port ("" when it cannot tell), so a lab's own
// node that its state lost track of is named as such.
func Check(uses []Use, owner func(port int) string) error {
	var errs []error
	for _, u := range uses {
		err := listenOnce(u.Host, u.Port)
		if err == nil {
			continue
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			if who := ownerOf(owner, u.Port); who != "" {
				errs = append(errs, fmt.Errorf("port %d (node %d %s listener) is held by %s", u.Port, u.Node, u.Role, who))
				continue
			}
			errs = append(errs, &InUseError{Use: u})
			continue
		}
		errs = append(errs, fmt.Errorf("port %d (node %d %s listener): %w; choose another base with %s", u.Port, u.Node, u.Role, err, u.Flag()))
	}
	return errors.Join(errs...)
}

func ownerOf(owner func(int) string, port int) string {
	if owner == nil {
		return ""
	}
	return owner(port)
}

// Window is how many ports per role a lab placed by --ports auto keeps to itself:
// room for the largest lab and a node added later, so neighbouring labs never meet.
const Window = 10

// Reservation holds ports against other kraftlab processes until released.
type Reservation struct{ locks []*flock.Lock }

// Release gives the ports back; nil-safe.
func (r *Reservation) Release() {
	if r == nil {
		return
	}
	for _, l := range r.locks {
		l.Unlock()
	}
	r.locks = nil
}

// ReservedError is a port another kraftlab process has reserved.
type ReservedError struct {
	Port int
	PID  string
}

func (e *ReservedError) Error() string {
	who := "another kraftlab process"
	if e.PID != "" {
		who += " (pid " + e.PID + ")"
	}
	return fmt.Sprintf("port %d is reserved by %s that is starting a lab on it", e.Port, who)
}

// Reserve takes every port, or none: a port reserved elsewhere is a *ReservedError.
func Reserve(ports []int) (*Reservation, error) {
	dir, err := reservationDir()
	if err != nil {
		return nil, err
	}
	r := &Reservation{}
	for _, p := range ports {
		l, err := flock.TryLock(filepath.Join(dir, strconv.Itoa(p)+".lock"))
		if err != nil {
			r.Release()
			if errors.Is(err, flock.ErrBusy) {
				return nil, &ReservedError{Port: p, PID: flock.HolderPID(err)}
			}
			return nil, fmt.Errorf("reserve port %d: %w", p, err)
		}
		r.locks = append(r.locks, l)
	}
	return r, nil
}

// reservationDir is the per-user directory of port locks, shared by every kraftlab
// process of this user whatever its lab home.
func reservationDir() (string, error) {
	dir, err := labdir.UserTemp("ports")
	if err != nil {
		return "", fmt.Errorf("port reservations: %w", err)
	}
	return dir, nil
}

// PickBases returns the first pair of bases, from the given ones upward in steps of
// Window, whose windows are wholly free — no port recorded by another lab (which
// may be stopped now but will want its ports back), none listened on, none
// reserved by another kraftlab process — and holds them reserved. Both bases move
// together, so the blocks stay as far apart as asked.
func PickBases(host string, broker, controller int, recorded map[int]bool) (int, int, *Reservation, error) {
	for b, c := broker, controller; max(b, c)+Window-1 <= 65535; b, c = b+Window, c+Window {
		var window []int
		free := true
		for i := 0; i < Window && free; i++ {
			for _, p := range []int{b + i, c + i} {
				if recorded[p] || !Free(host, p) {
					free = false
				}
				window = append(window, p)
			}
		}
		if !free {
			continue
		}
		res, err := Reserve(window)
		var reserved *ReservedError
		if errors.As(err, &reserved) {
			continue
		}
		if err != nil {
			return 0, 0, nil, err
		}
		return b, c, res, nil
	}
	return 0, 0, nil, fmt.Errorf("--ports auto: no free window of %d ports from --broker-port %d and --controller-port %d upward; choose lower bases", Window, broker, controller)
}

// Ephemeral lists the ports inside the kernel's ephemeral port range
// (net.ipv4.ip_local_port_range), and that range. There a client that keeps
// reconnecting to a stopped node (a broker to a killed controller, say) can be
// handed that very port as its source and connect to itself; the socket then holds
// the port, and the node cannot bind it again for a minute.
func Ephemeral(uses []Use) (ports []int, lo, hi int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return nil, 0, 0
	}
	if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil {
		return nil, 0, 0
	}
	for _, u := range uses {
		if u.Port >= lo && u.Port <= hi {
			ports = append(ports, u.Port)
		}
	}
	return ports, lo, hi
}
