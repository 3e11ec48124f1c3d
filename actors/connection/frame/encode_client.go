package frame

import "encoding/json"

// The client payloads CyTube expects; field order matches the web client.
type (
	chatMsgPayload struct {
		Msg  string          `json:"msg"`
		Meta json.RawMessage `json:"meta"`
	}
	pmPayload struct {
		To   string          `json:"to"`
		Msg  string          `json:"msg"`
		Meta json.RawMessage `json:"meta"`
	}
	namePasswordPayload struct {
		Name string `json:"name"`
		PW   string `json:"pw,omitempty"`
	}
)

// metaOrEmpty gives {}, which is what the web client sends when a line has no meta.
func metaOrEmpty(meta json.RawMessage) json.RawMessage {
	if len(meta) == 0 {
		return json.RawMessage("{}")
	}
	return meta
}

// EncodeChatMsg builds 42["chatMsg",{"msg":...,"meta":{}}]; a nil meta is {}.
func EncodeChatMsg(msg string, meta json.RawMessage) ([]byte, error) {
	return EncodeEvent("chatMsg", chatMsgPayload{Msg: msg, Meta: metaOrEmpty(meta)})
}

// EncodePM builds 42["pm",{"to":...,"msg":...,"meta":{}}]; a nil meta is {}.
func EncodePM(to, msg string, meta json.RawMessage) ([]byte, error) {
	return EncodeEvent("pm", pmPayload{To: to, Msg: msg, Meta: metaOrEmpty(meta)})
}

// EncodeJoinChannel builds 42["joinChannel",{"name":...}], adding "pw" for
// a password-protected channel when pw is not empty.
func EncodeJoinChannel(name, pw string) ([]byte, error) {
	return EncodeEvent("joinChannel", namePasswordPayload{Name: name, PW: pw})
}

// EncodeLogin builds 42["login",{"name":...,"pw":...}]; an empty pw makes a
// guest login ({"name":...} only).
func EncodeLogin(name, pw string) ([]byte, error) {
	return EncodeEvent("login", namePasswordPayload{Name: name, PW: pw})
}
