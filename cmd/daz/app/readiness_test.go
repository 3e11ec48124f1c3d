package app

import (
	"testing"

	"github.com/daz-bot/daz/messages"
)

// Only an online channel is ready; a stopped one names its reason; an old
// failure is not reported once the channel is online again.
func TestChannelReadiness(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		st         messages.ConnectionState
		known      bool
		ready      bool
		state      string
		wantDetail string
	}{
		{"not started", messages.ConnectionState{}, false, false, "starting", ""},
		{"online", messages.ConnectionState{State: messages.StateOnline}, true, true, "online", ""},
		{"online after a ban was lifted", messages.ConnectionState{State: messages.StateOnline,
			LastError: "banned: You're banned!"}, true, true, "online", ""},
		{"banned", messages.ConnectionState{State: messages.StateStopped, Reason: "banned: You're banned!"},
			true, false, "stopped", "banned: You're banned!"},
		{"login refused", messages.ConnectionState{State: messages.StateStopped,
			Reason: "bad-credentials: Invalid username/password combination"}, true, false, "stopped",
			"bad-credentials: Invalid username/password combination"},
		{"channel password refused", messages.ConnectionState{State: messages.StateStopped,
			Reason: "need-password: channel password rejected"}, true, false, "stopped", "need-password: channel password rejected"},
		{"backing off", messages.ConnectionState{State: messages.StateBackingOff, LastError: "dial: refused"},
			true, false, "backing off", "dial: refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cr := channelReadiness("TestChan", tc.st, tc.known)
			if cr.Channel != "testchan" || cr.Ready != tc.ready || cr.State != tc.state || cr.Detail != tc.wantDetail {
				t.Fatalf("readiness %+v, want ready=%v state=%q detail=%q", cr, tc.ready, tc.state, tc.wantDetail)
			}
		})
	}
}
