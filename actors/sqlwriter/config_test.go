package sqlwriter

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	t.Parallel()
	w := &writer{cfg: Config{RetryBase: 100 * time.Millisecond, RetryMax: time.Second}.withDefaults()}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, d := range want {
		if got := w.backoff(i + 1); got != d*time.Millisecond {
			t.Errorf("attempt %d: %v, want %v", i+1, got, d*time.Millisecond)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none means valid
	}{
		{"valid", Config{DatabaseURL: "postgres://postgres@127.0.0.1:5432/daz", DataDir: "/var/lib/daz"}, nil},
		{"empty", Config{}, []string{"database URL is empty", "data directory"}},
		{"bad URL", Config{DatabaseURL: "postgres://%zz", DataDir: "d"}, []string{"database URL"}},
		{"negative cap", Config{DatabaseURL: "postgres://h/d", DataDir: "d", MaxSpillBytes: -1}, []string{"negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("valid config rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid config accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want failureKind
	}{
		{errors.New("dial tcp: connection refused"), failDown},
		{&pgconn.PgError{Code: "08006"}, failDown},
		{&pgconn.PgError{Code: "57P01"}, failDown},
		{&pgconn.PgError{Code: "53300"}, failDown},
		{&pgconn.PgError{Code: "22021"}, failRejected},
		{&pgconn.PgError{Code: "23514"}, failRejected},
		{&pgconn.PgError{Code: "54000"}, failRejected},
		{&pgconn.PgError{Code: "42P01"}, failOther},
		{&pgconn.PgError{Code: "40P01"}, failOther},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("classify(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// While the database is away the writer probes it at most RetryMax apart,
// so by default writing resumes within a second of its return.
func TestDefaultProbeIntervalIsAtMostASecond(t *testing.T) {
	t.Parallel()
	w := &writer{cfg: Config{}.withDefaults()}
	for attempt := 1; attempt <= 50; attempt++ {
		if d := w.backoff(attempt); d > time.Second || d <= 0 {
			t.Fatalf("attempt %d waits %v", attempt, d)
		}
	}
}
