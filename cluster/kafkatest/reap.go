package kafkatest

// This file owns removing labs whose test process is gone: one at a time for the
// watchdog, and all of them, once per process, before the first lab starts —
// which catches what a killed watchdog left.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/internal/flock"
)

// reapOnce guards the look for leftovers: once per process is enough.
var reapOnce sync.Once

var labNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// reapLeftovers removes every lab under cfg.Home whose owner process is gone and
// says what it removed.
func reapLeftovers(ctx context.Context, cfg cluster.Config) []string {
	entries, err := os.ReadDir(cfg.Home)
	if err != nil {
		return []string{fmt.Sprintf("look for labs left behind in %s: %v", cfg.Home, err)}
	}
	var names []string
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".owner")
		if labNameRE.MatchString(name) && (e.IsDir() || name != e.Name()) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var reports []string
	for _, name := range slices.Compact(names) {
		what, err := reap(ctx, cfg, name, false)
		switch {
		case errors.Is(err, flock.ErrBusy):
			// Its owner runs.
		case err != nil:
			reports = append(reports, fmt.Sprintf("lab %s was left behind by a test process that ended, and removing it failed: %v", name, err))
		case what != "":
			reports = append(reports, fmt.Sprintf("lab %s was left behind by a test process that ended: %s", name, what))
		}
	}
	return reports
}

// reap removes lab name if its owner is gone, and says what it found ("" when
// there was no lab). The owner lock tells: held, the owner runs (flock.ErrBusy);
// wait waits for it instead, as the watchdog does while its test process exits.
func reap(ctx context.Context, cfg cluster.Config, name string, wait bool) (string, error) {
	path := ownerFile(cfg.Home, name)
	var lock *flock.Lock
	var err error
	if wait {
		lock, err = flock.Wait(ctx, path, 20*time.Millisecond)
	} else {
		lock, err = flock.TryLock(path)
	}
	if err != nil {
		return "", err
	}
	defer lock.Unlock()
	res, err := teardown(ctx, cfg, name)
	if err != nil {
		return "", err
	}
	_ = os.Remove(path)
	if !res.Existed {
		return "", nil
	}
	return describe(res), nil
}

// describe says what teardown did, e.g. "killed nodes [1 2 3] and removed /tmp/...".
func describe(res *cluster.DownResult) string {
	what := "no node was running"
	if len(res.Stopped) > 0 {
		what = fmt.Sprintf("killed nodes %v", res.Stopped)
	}
	if res.Purged {
		return what + " and removed " + res.Dir
	}
	return what + "; " + filepath.Base(res.Dir) + " is left"
}
