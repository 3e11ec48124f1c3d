package messages

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

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
	// Patience is how long the sender waits for the answer from sending
	// it; a request still waiting for a free connection after that is
	// answered unavailable instead of run. A duration rather than a time,
	// so sender and writer need not share a clock. Zero: the sender waits
	// as long as it takes (the writer answers every request, if only with
	// ErrDatabaseUnavailable).
	Patience time.Duration
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

// DatabaseState is published on the EventStream (topic sql.database) by the
// SQL writer whenever its view of PostgreSQL changes: Up false when it found
// the database unreachable, Up true when its probe got an answer again (and
// the schema was brought up, on a start with the database down). The
// writer's probe is daz's one loop asking "is the database back?"; anything
// else that talks to PostgreSQL retries on Up instead of keeping a schedule
// of its own.
type DatabaseState struct {
	Up  bool
	At  time.Time
	Err string // why it is down
}

// ErrDatabaseUnavailable is the SQLResponse error while PostgreSQL cannot be
// reached; commands answer briefly instead of hanging.
var ErrDatabaseUnavailable = errors.New("database unavailable")

// SQLResponseOf turns what an actor request to the SQL writer returned (its
// answer, or the request's error) into a response; a writer that did not
// answer in time counts as the database being unavailable.
func SQLResponseOf(id uint64, res any, err error) *SQLResponse {
	if err != nil {
		if errors.Is(err, actor.ErrTimeout) {
			return &SQLResponse{ID: id, Err: fmt.Errorf("SQL writer did not answer in time: %w", ErrDatabaseUnavailable)}
		}
		return &SQLResponse{ID: id, Err: fmt.Errorf("SQL request: %w", err)}
	}
	switch r := res.(type) {
	case *SQLResponse:
		return r
	case SQLResponse:
		return &r
	default:
		return &SQLResponse{ID: id, Err: fmt.Errorf("SQL writer answered %T, want *messages.SQLResponse", res)}
	}
}
