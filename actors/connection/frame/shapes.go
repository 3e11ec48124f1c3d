package frame

import (
	"encoding/json"
	"fmt"
)

// The shape helpers check the JSON kind before unmarshalling because
// encoding/json silently accepts null for every target type, and a null
// chatMsg must not become an empty chat line.

func firstByte(p json.RawMessage) byte {
	p = trimJSONSpace(p)
	if len(p) == 0 {
		return 0
	}
	return p[0]
}

func expectKind(p json.RawMessage, want byte) error {
	got := firstByte(p)
	if got == want {
		return nil
	}
	kind := "an array"
	if want == '{' {
		kind = "an object"
	}
	if got == 0 {
		return fmt.Errorf("missing payload, want %s", kind)
	}
	return fmt.Errorf("payload starting with %q, want %s", got, kind)
}

func object[T any](p json.RawMessage) (*T, error) {
	if err := expectKind(p, '{'); err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(p, v); err != nil {
		return nil, err
	}
	return v, nil
}

func objectMap[V any](p json.RawMessage) (map[string]V, error) {
	if err := expectKind(p, '{'); err != nil {
		return nil, err
	}
	var m map[string]V
	if err := json.Unmarshal(p, &m); err != nil {
		return nil, err
	}
	return m, nil
}

func array[T any](p json.RawMessage) ([]T, error) {
	if err := expectKind(p, '['); err != nil {
		return nil, err
	}
	items := []T{}
	if err := json.Unmarshal(p, &items); err != nil {
		return nil, err
	}
	return items, nil
}

// value decodes a bare scalar payload such as 42["rank",2].
func value[T any](p json.RawMessage) (T, error) {
	var v T
	switch firstByte(p) {
	case 0:
		return v, fmt.Errorf("missing payload, want a %T", v)
	case 'n':
		return v, fmt.Errorf("null payload, want a %T", v)
	}
	err := json.Unmarshal(p, &v)
	return v, err
}

// rawOf keeps a payload raw after checking its kind.
func rawOf(kind byte, p json.RawMessage) (json.RawMessage, error) {
	if err := expectKind(p, kind); err != nil {
		return nil, err
	}
	return p, nil
}
