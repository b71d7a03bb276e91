package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
	"golang.org/x/crypto/bcrypt"
)

// SessionTTL is how long a login lasts.
const SessionTTL = 12 * time.Hour

// dummyHash is compared against when an email is unknown, so a login takes as
// long whether the email or the password was wrong.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("parley-dummy-password"), bcrypt.DefaultCost)

const agentColumns = `a.id, a.name, a.email, a.role, a.skills, a.languages, a.capacity,
	COALESCE((SELECT array_agg(t.name ORDER BY t.name) FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE tm.agent_id = a.id), '{}'),
	a.voice_blocks_digital, a.created_at, a.updated_at`

func scanAgent(row pgx.Row) (parley.Agent, error) {
	var a parley.Agent
	var role string
	err := row.Scan(&a.ID, &a.Name, &a.Email, &role, &a.Skills, &a.Languages, &a.Capacity, &a.Teams, &a.VoiceBlocksDigital, &a.CreatedAt, &a.UpdatedAt)
	a.Role = parley.Role(role)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, err
}

func validPassword(pw string) error {
	if len(pw) < 8 || len(pw) > 72 {
		return parley.Invalid("Invalid agent.", map[string]string{"password": "must be 8 to 72 bytes"})
	}
	return nil
}

// CreateAgent stores a new agent with a bcrypt hash of password.
func (db *DB) CreateAgent(ctx context.Context, a *parley.Agent, password string) error {
	a.Email = strings.ToLower(strings.TrimSpace(a.Email))
	if a.Capacity == nil {
		a.Capacity = parley.DefaultCapacity()
	}
	if a.Skills == nil {
		a.Skills = map[string]int{}
	}
	if a.Languages == nil {
		a.Languages = []string{}
	}
	if err := a.Validate(); err != nil {
		return err
	}
	if err := validPassword(password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), db.cost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO agents (name, email, password_hash, role, skills, languages, capacity, voice_blocks_digital)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			a.Name, a.Email, string(hash), string(a.Role), a.Skills, a.Languages, a.Capacity, a.VoiceBlocksDigital).Scan(&a.ID)
		if isUniqueViolation(err, "agents_email_key") {
			return parley.Invalid("Invalid agent.", map[string]string{"email": "already in use"})
		} else if err != nil {
			return fmt.Errorf("insert agent: %w", err)
		}
		if err := setTeams(ctx, tx, a.ID, a.Teams); err != nil {
			return err
		}
		got, err := scanAgent(tx.QueryRow(ctx, `SELECT `+agentColumns+` FROM agents a WHERE a.id = $1`, a.ID))
		*a = got
		return err
	})
}

func setTeams(ctx context.Context, tx pgx.Tx, agentID int64, teams []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM team_members WHERE agent_id = $1`, agentID); err != nil {
		return fmt.Errorf("clear teams: %w", err)
	}
	for _, name := range teams {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		_, err := tx.Exec(ctx, `WITH t AS (
				INSERT INTO teams (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id)
			INSERT INTO team_members (team_id, agent_id) SELECT id, $2 FROM t ON CONFLICT DO NOTHING`, name, agentID)
		if err != nil {
			return fmt.Errorf("add agent %d to team %q: %w", agentID, name, err)
		}
	}
	return nil
}

// Agent returns an agent by id.
func (db *DB) Agent(ctx context.Context, id int64) (parley.Agent, error) {
	a, err := scanAgent(db.pool.QueryRow(ctx, `SELECT `+agentColumns+` FROM agents a WHERE a.id = $1 AND a.deleted_at IS NULL`, id))
	if err != nil {
		return a, notFound(err, "agent", id)
	}
	return a, nil
}

// Agents returns every agent, ordered by id.
func (db *DB) Agents(ctx context.Context) ([]parley.Agent, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+agentColumns+` FROM agents a WHERE a.deleted_at IS NULL ORDER BY a.id`)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Agent, error) { return scanAgent(r) })
}

// UpdateAgent applies a partial update.
func (db *DB) UpdateAgent(ctx context.Context, id int64, u parley.AgentUpdate) (parley.Agent, error) {
	a, err := db.Agent(ctx, id)
	if err != nil {
		return a, err
	}
	u.Apply(&a)
	a.Email = strings.ToLower(strings.TrimSpace(a.Email))
	if err := a.Validate(); err != nil {
		return a, err
	}
	var hash string
	if u.Password != nil {
		if err := validPassword(*u.Password); err != nil {
			return a, err
		}
		h, err := bcrypt.GenerateFromPassword([]byte(*u.Password), db.cost)
		if err != nil {
			return a, fmt.Errorf("hash password: %w", err)
		}
		hash = string(h)
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE agents SET name = $2, email = $3, role = $4, skills = $5, languages = $6, capacity = $7,
			password_hash = COALESCE(NULLIF($8, ''), password_hash), voice_blocks_digital = $9, updated_at = now() WHERE id = $1`,
			id, a.Name, a.Email, string(a.Role), a.Skills, a.Languages, a.Capacity, hash, a.VoiceBlocksDigital)
		if isUniqueViolation(err, "agents_email_key") {
			return parley.Invalid("Invalid agent.", map[string]string{"email": "already in use"})
		} else if err != nil {
			return fmt.Errorf("update agent %d: %w", id, err)
		}
		if u.Teams != nil {
			if err := setTeams(ctx, tx, id, a.Teams); err != nil {
				return err
			}
		}
		if u.Password != nil {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE agent_id = $1`, id); err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return a, err
	}
	return db.Agent(ctx, id)
}

// DeleteAgent deactivates an agent and ends their sessions; their history stays.
func (db *DB) DeleteAgent(ctx context.Context, id int64) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE agents SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL`, id)
		if err != nil {
			return fmt.Errorf("delete agent %d: %w", id, err)
		} else if tag.RowsAffected() == 0 {
			return parley.Errorf(parley.ENOTFOUND, "agent %d not found.", id)
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE agent_id = $1`, id)
		return err
	})
}

// Login checks an email and password and opens a session. Any failure is the
// same EUNAUTHORIZED error, taking the same time.
func (db *DB) Login(ctx context.Context, email, password string) (string, parley.Agent, error) {
	var id int64
	var hash string
	err := db.pool.QueryRow(ctx, `SELECT id, password_hash FROM agents WHERE lower(email) = lower($1) AND deleted_at IS NULL`,
		strings.TrimSpace(email)).Scan(&id, &hash)
	if err != nil && err != pgx.ErrNoRows {
		return "", parley.Agent{}, fmt.Errorf("find agent by email: %w", err)
	}
	if err == pgx.ErrNoRows {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return "", parley.Agent{}, parley.Errorf(parley.EUNAUTHORIZED, "Wrong email or password.")
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", parley.Agent{}, parley.Errorf(parley.EUNAUTHORIZED, "Wrong email or password.")
	}
	tok, h := newToken()
	if _, err := db.pool.Exec(ctx, `INSERT INTO sessions (token_hash, agent_id, expires_at) VALUES ($1, $2, $3)`,
		h, id, db.now().Add(SessionTTL)); err != nil {
		return "", parley.Agent{}, fmt.Errorf("create session: %w", err)
	}
	a, err := db.Agent(ctx, id)
	return tok, a, err
}

// SessionAgent returns the agent a session token belongs to.
func (db *DB) SessionAgent(ctx context.Context, token string) (parley.Agent, error) {
	a, err := scanAgent(db.pool.QueryRow(ctx, `SELECT `+agentColumns+` FROM sessions s JOIN agents a ON a.id = s.agent_id
		WHERE s.token_hash = $1 AND s.expires_at > now() AND a.deleted_at IS NULL`, hashToken(token)))
	if err == pgx.ErrNoRows {
		return a, parley.Errorf(parley.EUNAUTHORIZED, "Not logged in.")
	}
	return a, err
}

// Logout ends a session.
func (db *DB) Logout(ctx context.Context, token string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hashToken(token))
	return err
}
