package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	const pw = "hunter2-very-secret"
	opts := Options{
		Channels:    []ChannelOptions{{Name: "c", Username: "bot", Password: pw, ChannelPassword: pw}},
		DatabaseURL: "postgres://u:" + pw + "@h/db",
		DebugToken:  pw,
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "options", opts, "pw", opts.Channels[0].Password)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "options", opts)
	js, err := json.Marshal(opts.Channels)
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{
		"slog": logs.String(), "%v": fmt.Sprintf("%v", opts), "%+v": fmt.Sprintf("%+v", opts),
		"%#v": fmt.Sprintf("%#v", opts), "json": string(js),
	} {
		if strings.Contains(out, pw) {
			t.Errorf("%s output contains the secret: %s", name, out)
		}
	}
	if opts.Channels[0].Password.Reveal() != pw {
		t.Fatal("Reveal lost the value")
	}
}
