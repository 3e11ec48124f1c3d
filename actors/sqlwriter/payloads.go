package sqlwriter

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/daz-bot/daz/actors/internal/jsontext"
)

// Payloads of at least sharedPayloadBytes are stored once in
// daz_core_payload, keyed by their sha256, and the row's metadata names
// them ("payload_sha256") instead of holding a copy; the view
// daz_core_chat_log_full joins them back. Such payloads are the playlist
// and its like, which CyTube sends whole twice per join and on every
// reconnect: storing 733 KB of JSONB twice was most of a join burst's
// commit time. Below the threshold the lookup would cost more than it saves.
const sharedPayloadBytes = 64 << 10

const (
	payloadKey = `{"payload":`

	existingPayloads = `SELECT sha256 FROM daz_core_payload WHERE sha256 = ANY($1::bytea[])`
	insertPayload    = `INSERT INTO daz_core_payload (sha256, payload) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING`
)

// sharedPayload is a payload to store once.
type sharedPayload struct {
	sum  [sha256.Size]byte
	json []byte
}

// splitPayload returns the payload of a record's metadata when it is big
// enough to be shared, and the metadata that names it by its hash instead.
// The writer always puts the payload first (newRecord); metadata of any
// other shape (quarantined rows, unreadable spill lines) is kept whole.
func splitPayload(meta []byte) (p sharedPayload, named []byte, ok bool) {
	if len(meta) < sharedPayloadBytes || !bytes.HasPrefix(meta, []byte(payloadKey)) {
		return p, nil, false
	}
	end, ok := jsontext.ValueEnd(meta, len(payloadKey))
	if !ok || end-len(payloadKey) < sharedPayloadBytes {
		return p, nil, false
	}
	p.json = meta[len(payloadKey):end]
	p.sum = sha256.Sum256(p.json)
	rest := meta[end:] // `,"seq":...}` or `}`
	named = make([]byte, 0, len(rest)+96)
	named = append(named, `{"payload_sha256":"`...)
	named = hex.AppendEncode(named, p.sum[:])
	named = append(named, '"')
	named = append(named, rest...)
	return p, named, true
}

// sharePayloads stores the big payloads of recs that daz_core_payload does
// not hold yet, in tx, and returns recs with those payloads named by hash.
// recs is not modified: on a failed transaction the caller retries with the
// originals.
func sharePayloads(ctx context.Context, tx pgx.Tx, recs []record) ([]record, error) {
	var out []record
	var shared []sharedPayload
	seen := map[[sha256.Size]byte]bool{}
	for i := range recs {
		p, named, ok := splitPayload(recs[i].Metadata)
		if !ok {
			continue
		}
		if out == nil {
			out = append(make([]record, 0, len(recs)), recs...)
		}
		out[i].Metadata = named
		if !seen[p.sum] {
			seen[p.sum] = true
			shared = append(shared, p)
		}
	}
	if out == nil {
		return recs, nil
	}
	sums := make([][]byte, len(shared))
	for i := range shared {
		sums[i] = shared[i].sum[:]
	}
	rows, err := tx.Query(ctx, existingPayloads, sums)
	if err != nil {
		return nil, fmt.Errorf("look up %d shared payloads: %w", len(sums), err)
	}
	stored := map[[sha256.Size]byte]bool{}
	for rows.Next() {
		var sum []byte
		if err := rows.Scan(&sum); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read shared payload hash: %w", err)
		}
		if len(sum) == sha256.Size {
			stored[[sha256.Size]byte(sum)] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up %d shared payloads: %w", len(sums), err)
	}
	for _, p := range shared {
		if stored[p.sum] {
			continue
		}
		if _, err := tx.Exec(ctx, insertPayload, p.sum[:], p.json); err != nil {
			return nil, fmt.Errorf("store shared payload %x: %w", p.sum[:8], err)
		}
	}
	return out, nil
}
