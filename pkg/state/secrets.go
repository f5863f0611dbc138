package state

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// secretCols lists what a secret read selects. Without data it does not
// name the data column at all: viewer roles have no privilege on it, and
// Postgres checks column privileges on every column a query mentions.
func secretCols(withData bool) string {
	cols := `s.id::text, s.name, s.backend_id::text, b.name, b.type, s.external_ref, s.has_data, s.data_version,
		s.data_owner, s.keys, s.backend_version, s.fingerprint, s.managed, s.labels, s.annotations, s.protected,
		s.generation, s.created_at, s.updated_at`
	if withData {
		cols += `, s.data`
	}
	return cols
}

const secretFrom = ` FROM {s}.secrets s JOIN {s}.backends b ON b.id = s.backend_id`

func scanSecret(row pgx.Row, withData bool) (Secret, error) {
	return scanSecretShared(row, withData, nil)
}

// scanSecretShared is scanSecret for bulk reads: with in set, strings and
// label/annotation maps that repeat across rows (backend names, key names,
// a team's labels) are kept once and shared.
func scanSecretShared(row pgx.Row, withData bool, in *interner) (Secret, error) {
	var (
		s                         Secret
		labels, annotations, data []byte
	)
	dest := []any{&s.ID, &s.Name, &s.BackendID, &s.BackendName, &s.BackendType, &s.ExternalRef,
		&s.HasData, &s.DataVersion, &s.DataOwner, &s.Keys, &s.BackendVersion, &s.Fingerprint, &s.Managed,
		&labels, &annotations, &s.Protected, &s.Generation, &s.CreatedAt, &s.UpdatedAt}
	if withData {
		dest = append(dest, &data)
	}
	if err := row.Scan(dest...); err != nil {
		return s, err
	}
	var err error
	if s.Labels, err = in.stringMap(labels); err != nil {
		return s, err
	}
	if s.Annotations, err = in.stringMap(annotations); err != nil {
		return s, err
	}
	if in != nil {
		s.BackendID, s.BackendName, s.BackendType = in.str(s.BackendID), in.str(s.BackendName), in.str(s.BackendType)
		s.Keys = in.keys(s.Keys)
		if s.DataOwner == s.ID {
			s.DataOwner = s.ID
		}
	}
	if withData && data != nil {
		if s.Data, err = decodeData(data); err != nil {
			return s, fmt.Errorf("secret %q: data column: %w", s.Name, err)
		}
	}
	return s, nil
}

// interner keeps one copy of equal strings and label maps over one bulk
// read. The maps it returns are shared between rows: callers replace a
// row's Labels or Annotations, never modify them in place.
type interner struct {
	strs map[string]string
	maps map[string]map[string]string
	// keyLists holds one copy of each list of key names: most secrets of
	// a table share their key names with many others.
	keyLists map[string][]string
}

// internMax bounds how many distinct entries the interner keeps, so a table
// where nothing repeats does not also fill it.
const internMax = 4096

func (in *interner) str(s string) string {
	if in == nil {
		return s
	}
	if c, ok := in.strs[s]; ok {
		return c
	}
	if in.strs == nil {
		in.strs = map[string]string{}
	}
	if len(in.strs) < internMax {
		in.strs[s] = s
	}
	return s
}

// keys returns the list of key names equal to keys read before, if any, or
// keys with its names interned.
func (in *interner) keys(keys []string) []string {
	if in == nil || len(keys) == 0 {
		return keys
	}
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
	}
	id := b.String()
	if c, ok := in.keyLists[id]; ok {
		return c
	}
	for i, k := range keys {
		keys[i] = in.str(k)
	}
	if in.keyLists == nil {
		in.keyLists = map[string][]string{}
	}
	if len(in.keyLists) < internMax {
		in.keyLists[id] = keys
	}
	return keys
}

// stringMap decodes a labels/annotations column, sharing the map of an
// equal column read before.
func (in *interner) stringMap(b []byte) (map[string]string, error) {
	if in == nil {
		return decodeStringMap(b)
	}
	if m, ok := in.maps[string(b)]; ok {
		return m, nil
	}
	m, err := decodeStringMap(b)
	if err != nil || m == nil {
		return m, err
	}
	if in.maps == nil {
		in.maps = map[string]map[string]string{}
	}
	if len(in.maps) < internMax {
		in.maps[string(b)] = m
	}
	return m, nil
}

// ListSecrets reads every secret in one query, sorted by name, with
// BackendName and BackendType joined. withData=false never selects the data
// column, so it works for roles denied it (HasData still says whether there
// are values). On an uninitialised schema it returns no secrets and no error.
func (d *db) ListSecrets(ctx context.Context, withData bool) ([]Secret, error) {
	var out []Secret
	err := d.EachSecret(ctx, withData, func(s *Secret) error {
		out = append(out, *s)
		return nil
	})
	return out, err
}

// EachSecret is ListSecrets one row at a time: fn sees every secret in name
// order as the rows arrive, and no slice of them is built. Readers that
// keep a part of each row (the plaintext driver's bulk Stat) use it so that
// a large table is not held twice. An error from fn stops the read and is
// returned as is.
func (d *db) EachSecret(ctx context.Context, withData bool, fn func(*Secret) error) error {
	rows, err := d.q.Query(ctx, d.sql(`SELECT `+secretCols(withData)+secretFrom+` ORDER BY s.name`))
	if err != nil {
		if isUninitialized(err) {
			return nil
		}
		return mapErr("list secrets", err)
	}
	defer rows.Close()
	var in interner
	for rows.Next() {
		s, err := scanSecretShared(rows, withData, &in)
		if err != nil {
			return fmt.Errorf("list secrets: %w", err)
		}
		if err := fn(&s); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		if isUninitialized(err) {
			return nil
		}
		return mapErr("list secrets", err)
	}
	return nil
}

// GetSecrets reads the named secrets in one query, in name order; names
// without a row are left out.
func (d *db) GetSecrets(ctx context.Context, names []string, withData bool) ([]Secret, error) {
	rows, err := d.q.Query(ctx, d.sql(`SELECT `+secretCols(withData)+secretFrom+` WHERE s.name = ANY($1) ORDER BY s.name`), names)
	if err != nil {
		return nil, mapErr(fmt.Sprintf("read %d secrets", len(names)), err)
	}
	defer rows.Close()
	var out []Secret
	for rows.Next() {
		s, err := scanSecret(rows, withData)
		if err != nil {
			return nil, fmt.Errorf("read %d secrets: %w", len(names), err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(fmt.Sprintf("read %d secrets", len(names)), err)
	}
	return out, nil
}

// GetSecret reads one secret; ErrNotFound if there is none by that name.
func (d *db) GetSecret(ctx context.Context, name string, withData bool) (Secret, error) {
	s, err := scanSecret(d.q.QueryRow(ctx, d.sql(`SELECT `+secretCols(withData)+secretFrom+` WHERE s.name = $1`), name), withData)
	if errors.Is(err, pgx.ErrNoRows) || isUninitialized(err) {
		return Secret{}, &dbError{what: secretWhat(name), kind: ErrNotFound}
	}
	if err != nil {
		return Secret{}, mapErr(secretWhat(name), err)
	}
	return s, nil
}

// backendMatch selects the secret's backend by BackendID, or by BackendName
// when BackendID is empty ($2 id, $3 name).
const backendMatch = `SELECT id, name, type FROM {s}.backends
	WHERE id = NULLIF($2, '')::uuid OR (NULLIF($2, '') IS NULL AND name = $3)`

// secretReturning reads back what the database decided for a written row.
const secretReturning = `RETURNING s.id, s.backend_id, s.generation, s.data_version, s.backend_version, s.data_owner, s.keys, s.has_data, s.created_at, s.updated_at`

const secretWritten = `SELECT w.id::text, w.backend_id::text, b.name, b.type, w.generation, w.data_version, w.backend_version,
		w.data_owner, w.keys, w.has_data, w.created_at, w.updated_at
	FROM w JOIN b ON b.id = w.backend_id`

func scanWritten(row pgx.Row, sec *Secret) error {
	return row.Scan(&sec.ID, &sec.BackendID, &sec.BackendName, &sec.BackendType, &sec.Generation,
		&sec.DataVersion, &sec.BackendVersion, &sec.DataOwner, &sec.Keys, &sec.HasData, &sec.CreatedAt, &sec.UpdatedAt)
}

// CreateSecret inserts sec, data included (nil Data is NULL), and fills ID,
// BackendID/Name/Type, Generation (1), DataVersion, DataOwner, HasData and
// timestamps. The row gets sec.ID when set (NewID: an object written before
// the row names it as owner), a new random one otherwise. The backend is
// sec.BackendID, or sec.BackendName when the ID is empty. With Data set,
// Keys become its sorted key names. ErrExists if the name (or the ID) is
// taken, ErrNotFound if the backend does not exist.
func (d *db) CreateSecret(ctx context.Context, sec *Secret) error {
	return d.createSecret(ctx, sec, nil)
}

// CreateSecretAudited is CreateSecret whose statement also appends audit
// to the audit log: apply records the create of a secret with the insert
// that completes it (one round trip, and no created row without its entry).
func (d *db) CreateSecretAudited(ctx context.Context, sec *Secret, audit AuditEntry) error {
	return d.createSecret(ctx, sec, &audit)
}

func (d *db) createSecret(ctx context.Context, sec *Secret, audit *AuditEntry) error {
	what := secretWhat(sec.Name)
	p, err := secretParams(sec, true)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	args := append(p.args, p.data, sec.DataOwner, sec.ID)
	// $15..$22: the audit entry, inserted with the row.
	args, auditCTE := auditWith(args, audit, "w")
	err = scanWritten(d.q.QueryRow(ctx, d.sql(`
		WITH b AS (`+backendMatch+`),
		w AS (
			INSERT INTO {s}.secrets AS s (id, name, backend_id, external_ref, keys, backend_version, fingerprint, managed,
				labels, annotations, protected, data, data_owner)
			SELECT COALESCE(NULLIF($14, '')::uuid, gen_random_uuid()), $1, b.id, $4, $5, `+versionWithData+`,
				$7, $8, $9, $10, $11, $12, $13 FROM b
			`+secretReturning+`)`+auditCTE+`
		`+secretWritten), args...), sec)
	if errors.Is(err, pgx.ErrNoRows) {
		return &dbError{what: what, kind: ErrNotFound, msg: "backend " + backendRef(sec) + " not found"}
	}
	return mapErr(what, err)
}

// UpdateSecret writes sec where the row still has sec.Generation
// (ErrConflict otherwise) and sets its new generation, data version and
// timestamps. It writes every column but data; withData=true writes data
// too (nil Data is NULL: the values are gone). The flag is explicit because
// a Secret read without data has nil Data, and writing that back would
// erase the values. With Data set, Keys become its sorted key names and
// DataOwner is recorded (the row's ID when empty).
func (d *db) UpdateSecret(ctx context.Context, sec *Secret, withData bool) error {
	what := secretWhat(sec.Name)
	p, err := secretParams(sec, withData)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	args, version := p.args, "$6"
	if withData {
		args = append(args, p.data, sec.DataOwner)
		version = versionWithData
	}
	set := `backend_id = b.id, external_ref = $4, keys = $5, backend_version = ` + version + `, fingerprint = $7,
		managed = $8, labels = $9, annotations = $10, protected = $11`
	if withData {
		set += `, data = $12, data_owner = COALESCE(NULLIF($13, ''), s.id::text)`
	}
	args = append(args, sec.Generation)
	genParam := fmt.Sprintf("$%d", len(args))
	err = scanWritten(d.q.QueryRow(ctx, d.sql(`
		WITH b AS (`+backendMatch+`),
		w AS (
			UPDATE {s}.secrets s SET `+set+`
			FROM b
			WHERE s.name = $1 AND s.generation = `+genParam+`
			`+secretReturning+`)
		`+secretWritten), args...), sec)
	if errors.Is(err, pgx.ErrNoRows) {
		var found bool
		err := d.q.QueryRow(ctx, d.sql(`SELECT EXISTS (SELECT 1 FROM {s}.backends
			WHERE id = NULLIF($1, '')::uuid OR (NULLIF($1, '') IS NULL AND name = $2))`),
			sec.BackendID, sec.BackendName).Scan(&found)
		if err != nil {
			return mapErr(what, err)
		}
		if !found {
			return &dbError{what: what, kind: ErrNotFound, msg: "backend " + backendRef(sec) + " not found"}
		}
		return d.whyNoRow(ctx, "secrets", what, sec.Name, sec.Generation)
	}
	return mapErr(what, err)
}

// DeleteSecret deletes the secret if its generation is still expectedGen.
// ErrProtected if it is protected, ErrConflict, ErrNotFound.
func (d *db) DeleteSecret(ctx context.Context, name string, expectedGen int64) error {
	what := secretWhat(name)
	tag, err := d.q.Exec(ctx, d.sql(`DELETE FROM {s}.secrets WHERE name = $1 AND generation = $2`), name, expectedGen)
	if err != nil {
		return mapErr(what, err)
	}
	if tag.RowsAffected() == 0 {
		return d.whyNoRow(ctx, "secrets", what, name, expectedGen)
	}
	return nil
}

func backendRef(sec *Secret) string {
	if sec.BackendID != "" {
		return "id " + sec.BackendID
	}
	return fmt.Sprintf("%q", sec.BackendName)
}

type secretWrite struct {
	// args are $1..$11: name, backend id, backend name, external_ref, keys,
	// backend_version, fingerprint, managed, labels, annotations, protected.
	args []any
	data any // $12 when data is written: JSON text or nil (NULL)
}

func secretParams(sec *Secret, withData bool) (secretWrite, error) {
	if sec.BackendID == "" && sec.BackendName == "" {
		return secretWrite{}, errors.New("no backend given")
	}
	var w secretWrite
	if withData && sec.Data != nil {
		text, err := encodeData(sec.Data)
		if err != nil {
			return w, err
		}
		w.data = text
	}
	// With data, the database derives keys from it.
	keys := slices.Clone(sec.Keys)
	if keys == nil {
		keys = []string{}
	}
	slices.Sort(keys)
	labels, err := encodeStringMap(sec.Labels)
	if err != nil {
		return w, err
	}
	annotations, err := encodeStringMap(sec.Annotations)
	if err != nil {
		return w, err
	}
	w.args = []any{sec.Name, sec.BackendID, sec.BackendName, sec.ExternalRef, keys, sec.BackendVersion,
		sec.Fingerprint, sec.Managed, labels, annotations, sec.Protected}
	return w, nil
}

// versionWithData is the backend_version of a statement that writes data
// ($12) into a row placed on backend b. On a plaintext backend the row's
// values are the object: -1 asks the set_data_columns trigger for the
// data_version they get, which only it knows. Elsewhere values in the row
// are a kept copy of a migration's source, and the object's version is the
// caller's ($6).
//
// The statement decides, not the trigger: it already has the backend row,
// and a trigger looking the type up runs dynamic SQL (its schema varies)
// that Postgres parses and plans on every row written (see
// 0003_data_version.sql).
const versionWithData = `CASE WHEN b.type = 'plaintext' AND $12::jsonb IS NOT NULL THEN -1 ELSE $6 END`

// binaryValue is how data holds a value jsonb cannot hold as text: jsonb
// rejects NUL, and encoding/json would silently replace invalid UTF-8.
type binaryValue struct {
	Base64 string `json:"base64"`
}

// encodeData renders values as a JSON object: plain strings where jsonb can
// hold them, {"base64": ...} otherwise, so every value reads back byte for
// byte. Key names must be valid UTF-8 without NUL (they are also stored as
// text[]). Errors name the key, never the value.
func encodeData(m map[string]string) (string, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if !utf8.ValidString(k) || strings.ContainsRune(k, 0) {
			return "", fmt.Errorf("key %q: key names must be valid UTF-8 without NUL characters", strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", ""), "?"))
		}
		if utf8.ValidString(v) && !strings.ContainsRune(v, 0) {
			out[k] = v
		} else {
			out[k] = binaryValue{Base64: base64.StdEncoding.EncodeToString([]byte(v))}
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// decodeData reverses encodeData. An empty object is values with no keys,
// not nil.
func decodeData(b []byte) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(raw))
	for k, r := range raw {
		if len(r) > 0 && r[0] == '{' {
			var bv binaryValue
			if err := json.Unmarshal(r, &bv); err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			v, err := base64.StdEncoding.DecodeString(bv.Base64)
			if err != nil {
				return nil, fmt.Errorf("key %q: bad base64 value", k)
			}
			out[k] = string(v)
			continue
		}
		var v string
		if err := json.Unmarshal(r, &v); err != nil {
			// json's messages name types, not values.
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}
