package sqlwriter

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// failureKind says what a database error means for the data involved.
type failureKind int

const (
	// failDown: PostgreSQL could not be reached or dropped the session; the
	// same statement will work once it is back.
	failDown failureKind = iota
	// failRejected: PostgreSQL refused these values (bad data, a constraint);
	// retrying the same row will fail the same way.
	failRejected
	// failOther: PostgreSQL answered with an error that is not about one
	// row's values (a missing table, a lock, a deadlock); retry later.
	failOther
)

// classify sorts an error from a database call. Anything that is not an
// answer from the server (a refused or reset connection, a timeout, a
// cancelled context) counts as the database being down.
func classify(err error) failureKind {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return failDown
	}
	switch pgErr.Code[:2] {
	case "08", // connection exception
		"53", // insufficient resources (too many connections, disk full)
		"57", // operator intervention (shutdown, query cancelled)
		"58": // system error (I/O)
		return failDown
	case "22", // data exception: bad encoding, bad JSON, value out of range
		"23", // integrity constraint violation
		"54": // program limit exceeded: a value too large
		return failRejected
	}
	return failOther
}
