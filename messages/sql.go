package messages

import "errors"

// SQLKind says whether a statement returns rows.
type SQLKind int

// Statement kinds: Query for SELECT (and RETURNING), Exec for the rest.
const (
	SQLExec SQLKind = iota
	SQLQuery
)

// SQLRequest asks the SQL writer to run one parameterized statement
// (topic sql.request). Statements never embed values: Args are bound as $n.
// The writer answers the sender with an SQLResponse carrying the same ID.
type SQLRequest struct {
	ID    uint64
	Kind  SQLKind
	Query string
	Args  []any
}

// SQLResponse answers an SQLRequest (topic sql.response). Err is non-nil when
// the statement failed or the database is unavailable (ErrDatabaseUnavailable).
type SQLResponse struct {
	ID           uint64
	Columns      []string
	Rows         [][]any
	RowsAffected int64
	Err          error
}

// ErrDatabaseUnavailable is the SQLResponse error while PostgreSQL cannot be
// reached; commands answer briefly instead of hanging.
var ErrDatabaseUnavailable = errors.New("database unavailable")
