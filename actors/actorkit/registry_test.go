package actorkit

import (
	"fmt"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
)

// TestShrunkRegistryFindsEveryProcess: the processes protoactor registered
// before the registry was replaced, and actors spawned after, are found by
// id; a stopped actor is gone from it.
func TestShrunkRegistryFindsEveryProcess(t *testing.T) {
	sys := NewSystem(nil, nil)
	if got := len(sys.as.ProcessRegistry.LocalPIDs.LocalPIDs); got != registryBuckets {
		t.Fatalf("%d registry buckets, want %d", got, registryBuckets)
	}
	var pids []*actor.PID
	for i := range 200 {
		pid, err := sys.Root().SpawnNamed(sys.Props("test", func() actor.Actor { return &slow{} }), fmt.Sprintf("a%d", i))
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	stopped := pids[7]
	if err := sys.Root().StopFuture(stopped).Wait(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id    string
		found bool
	}{
		{"deadletter", true},
		{"eventstream", true},
		{"a0", true},
		{"a199", true},
		{stopped.Id, false},
		{"never-spawned", false},
	}
	for _, tc := range tests {
		_, found := sys.as.ProcessRegistry.GetLocal(tc.id)
		if found != tc.found {
			t.Errorf("%s: found %v, want %v", tc.id, found, tc.found)
		}
	}
}
