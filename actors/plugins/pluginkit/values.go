package pluginkit

import "github.com/daz-bot/daz/messages"

// Row is one result row with typed accessors (messages.Row): plugins read
// what the SQL writer answers through it and never type-switch themselves.
type Row = messages.Row

// Rows returns the rows of res.
func Rows(res *messages.SQLResponse) []Row { return messages.RowsOf(res) }
