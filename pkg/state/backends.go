package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

const backendCols = `id::text, name, type, config, is_default, description, labels, annotations, protected, generation, created_at, updated_at`

func scanBackend(row pgx.Row) (Backend, error) {
	var (
		b                          Backend
		config, labels, annotation []byte
	)
	err := row.Scan(&b.ID, &b.Name, &b.Type, &config, &b.IsDefault, &b.Description,
		&labels, &annotation, &b.Protected, &b.Generation, &b.CreatedAt, &b.UpdatedAt)
	if err != nil {
		return b, err
	}
	b.Config = json.RawMessage(config)
	if b.Labels, err = decodeStringMap(labels); err != nil {
		return b, err
	}
	b.Annotations, err = decodeStringMap(annotation)
	return b, err
}

// ListBackends reads every backend in one query, sorted by name. On an
// uninitialised schema it returns no backends and no error.
func (d *db) ListBackends(ctx context.Context) ([]Backend, error) {
	rows, err := d.q.Query(ctx, d.sql(`SELECT `+backendCols+` FROM {s}.backends ORDER BY name`))
	if err != nil {
		if isUninitialized(err) {
			return nil, nil
		}
		return nil, mapErr("list backends", err)
	}
	defer rows.Close()
	var out []Backend
	for rows.Next() {
		b, err := scanBackend(rows)
		if err != nil {
			return nil, fmt.Errorf("list backends: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		if isUninitialized(err) {
			return nil, nil
		}
		return nil, mapErr("list backends", err)
	}
	return out, nil
}

// GetBackend reads one backend; ErrNotFound if there is none by that name.
func (d *db) GetBackend(ctx context.Context, name string) (Backend, error) {
	b, err := scanBackend(d.q.QueryRow(ctx, d.sql(`SELECT `+backendCols+` FROM {s}.backends WHERE name = $1`), name))
	if errors.Is(err, pgx.ErrNoRows) || isUninitialized(err) {
		return Backend{}, &dbError{what: backendWhat(name), kind: ErrNotFound}
	}
	if err != nil {
		return Backend{}, mapErr(backendWhat(name), err)
	}
	return b, nil
}

// CreateBackend inserts b and fills its ID, Config as stored (jsonb's
// normal form), Generation (1) and timestamps.
// ErrExists if the name is taken, ErrDuplicateDefault if b.IsDefault and
// another backend is the default.
func (d *db) CreateBackend(ctx context.Context, b *Backend) error {
	what := backendWhat(b.Name)
	args, err := backendArgs(b)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	err = d.q.QueryRow(ctx, d.sql(`
		INSERT INTO {s}.backends (name, type, config, is_default, description, labels, annotations, protected)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		RETURNING id::text, config, generation, created_at, updated_at`), args...).
		Scan(&b.ID, &b.Config, &b.Generation, &b.CreatedAt, &b.UpdatedAt)
	return mapErr(what, err)
}

// UpdateBackend writes every column of b where the row still has
// b.Generation (ErrConflict otherwise) and sets b's new generation and
// timestamps. The type cannot change (ErrImmutable).
func (d *db) UpdateBackend(ctx context.Context, b *Backend) error {
	what := backendWhat(b.Name)
	args, err := backendArgs(b)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	err = d.q.QueryRow(ctx, d.sql(`
		UPDATE {s}.backends
		SET type = $2, config = $3, is_default = $4, description = $5, labels = $6, annotations = $7, protected = $8
		WHERE name = $1 AND generation = $9
		RETURNING id::text, config, generation, created_at, updated_at`), append(args, b.Generation)...).
		Scan(&b.ID, &b.Config, &b.Generation, &b.CreatedAt, &b.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return d.whyNoRow(ctx, "backends", what, b.Name, b.Generation)
	}
	return mapErr(what, err)
}

// DeleteBackend deletes the backend if its generation is still expectedGen.
// ErrProtected for the bootstrap backend and protected backends, ErrInUse
// while secrets are placed on it, ErrConflict, ErrNotFound.
func (d *db) DeleteBackend(ctx context.Context, name string, expectedGen int64) error {
	what := backendWhat(name)
	tag, err := d.q.Exec(ctx, d.sql(`DELETE FROM {s}.backends WHERE name = $1 AND generation = $2`), name, expectedGen)
	if sqlstate(err) == "23503" {
		return &dbError{what: what, kind: ErrInUse, msg: "secrets are still placed on it: move or delete them first", cause: err}
	}
	if err != nil {
		return mapErr(what, err)
	}
	if tag.RowsAffected() == 0 {
		return d.whyNoRow(ctx, "backends", what, name, expectedGen)
	}
	return nil
}

// whyNoRow explains a conditional write that matched no row: the row is
// gone (ErrNotFound) or has another generation (ErrConflict).
func (d *db) whyNoRow(ctx context.Context, table, what, name string, expectedGen int64) error {
	var gen int64
	err := d.q.QueryRow(ctx, d.sql(`SELECT generation FROM {s}.`+table+` WHERE name = $1`), name).Scan(&gen)
	if errors.Is(err, pgx.ErrNoRows) {
		return &dbError{what: what, kind: ErrNotFound}
	}
	if err != nil {
		return mapErr(what, err)
	}
	return &dbError{what: what, kind: ErrConflict,
		msg: fmt.Sprintf("%v (expected generation %d, found %d)", ErrConflict, expectedGen, gen)}
}

func backendArgs(b *Backend) ([]any, error) {
	config := "{}"
	if len(b.Config) > 0 && string(b.Config) != "null" {
		var probe map[string]any
		if err := json.Unmarshal(b.Config, &probe); err != nil {
			return nil, fmt.Errorf("config must be a JSON object: %w", err)
		}
		config = string(b.Config)
	}
	labels, err := encodeStringMap(b.Labels)
	if err != nil {
		return nil, err
	}
	annotations, err := encodeStringMap(b.Annotations)
	if err != nil {
		return nil, err
	}
	return []any{b.Name, b.Type, config, b.IsDefault, b.Description, labels, annotations, b.Protected}, nil
}

// encodeStringMap renders labels, annotations and data as JSON text (pgx
// sends a string to a jsonb parameter unchanged).
func encodeStringMap(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func decodeStringMap(b []byte) (map[string]string, error) {
	if len(b) == 0 || string(b) == "{}" || string(b) == "null" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}
