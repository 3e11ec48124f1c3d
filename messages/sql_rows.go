package messages

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Row is one result row with typed accessors. The SQL writer hands back
// driver values (int64, int32, float64, string, time.Time, bool, nil, ...);
// the accessors accept every shape those take so that plugins never
// type-switch themselves. Casting in SQL (count(*)::bigint, x::text) keeps
// the shapes narrow.
type Row []any

// RowsOf returns the rows of res with typed accessors.
func RowsOf(res *SQLResponse) []Row {
	out := make([]Row, len(res.Rows))
	for i, r := range res.Rows {
		out[i] = r
	}
	return out
}

// String returns column i as text; NULL is "".
func (r Row) String(i int) string {
	if i >= len(r) || r[i] == nil {
		return ""
	}
	switch v := r[i].(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case fmt.Stringer:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}

// Int returns column i as an int64; NULL or a non-number is 0.
func (r Row) Int(i int) int64 {
	if i >= len(r) || r[i] == nil {
		return 0
	}
	switch v := r[i].(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	case int16:
		return int64(v)
	case int:
		return int64(v)
	case uint32:
		return int64(v)
	case float64:
		return int64(math.Round(v))
	case float32:
		return int64(math.Round(float64(v)))
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// Float returns column i as a float64; NULL or a non-number is 0.
func (r Row) Float(i int) float64 {
	if i >= len(r) || r[i] == nil {
		return 0
	}
	switch v := r[i].(type) {
	case float64:
		return v
	case float32:
		return float64(v)
	case string:
		f, _ := strconv.ParseFloat(v, 64)
		return f
	}
	return float64(r.Int(i))
}

// Time returns column i as a time; NULL is the zero time.
func (r Row) Time(i int) time.Time {
	if i >= len(r) || r[i] == nil {
		return time.Time{}
	}
	switch v := r[i].(type) {
	case time.Time:
		return v
	case string:
		t, _ := time.Parse(time.RFC3339Nano, v)
		return t
	}
	return time.Time{}
}

// Bool returns column i as a bool; NULL is false.
func (r Row) Bool(i int) bool {
	if i >= len(r) || r[i] == nil {
		return false
	}
	switch v := r[i].(type) {
	case bool:
		return v
	case string:
		b, _ := strconv.ParseBool(v)
		return b
	}
	return false
}

// IsNull reports whether column i is NULL.
func (r Row) IsNull(i int) bool { return i >= len(r) || r[i] == nil }
