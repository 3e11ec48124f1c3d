package migrations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pressly/goose/v3/lock"
)

// advisoryLockID is the session advisory lock that serializes migrations of
// one database (advisory locks are per database). It spells "dazmigr" so it
// cannot collide with goose's default ID used by other tools.
const advisoryLockID int64 = 0x64617a6d696772

// lockWaitLimit bounds how long Up waits for another migrator before giving
// up with an error, even when the caller's context has no deadline.
const lockWaitLimit = 5 * time.Minute

// advisoryLocker is a goose SessionLocker that blocks in pg_advisory_lock
// instead of polling pg_try_advisory_lock like goose's own locker: the waiter
// proceeds the moment the holder finishes rather than up to a poll interval
// later, which matters when many tests and daemons migrate at once.
type advisoryLocker struct {
	id      int64
	maxWait time.Duration
}

var _ lock.SessionLocker = advisoryLocker{}

func newAdvisoryLocker(id int64, maxWait time.Duration) advisoryLocker {
	return advisoryLocker{id: id, maxWait: maxWait}
}

func (l advisoryLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, l.maxWait)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", l.id); err != nil {
		return fmt.Errorf("wait for migration lock %d (another migrator may be running): %w", l.id, err)
	}
	return nil
}

func (l advisoryLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var released bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", l.id).Scan(&released); err != nil {
		return fmt.Errorf("release migration lock %d: %w", l.id, err)
	}
	if !released {
		return errors.New("release migration lock: this session did not hold it")
	}
	return nil
}
