package postgres

import (
	"context"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crm"
)

const profileColumns = `id, name, email, phone, locale, attributes, tags, lifecycle_stage, created_at, updated_at, preferred_channel,
	company, timezone, timezone_source, browser_region, browser_language, COALESCE(merged_into, 0), erased_at`

func scanProfile(row pgx.Row) (crm.Profile, error) {
	var p crm.Profile
	c := &p.Customer
	err := row.Scan(&c.ID, &c.Name, &c.Email, &c.Phone, &c.Locale, &c.Attributes, &c.Tags, &c.Stage, &c.CreatedAt, &c.UpdatedAt, &c.PreferredChannel,
		&p.Company, &p.Timezone, &p.TimezoneSource, &p.BrowserRegion, &p.BrowserLanguage, &p.MergedInto, &p.ErasedAt)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	if p.ErasedAt != nil {
		t := p.ErasedAt.UTC()
		p.ErasedAt = &t
	}
	return p, err
}

// Profile returns a customer with the CRM's profile fields.
func (db *DB) Profile(ctx context.Context, id int64) (crm.Profile, error) {
	return getProfile(ctx, db.pool, id, false)
}

func getProfile(ctx context.Context, q querier, id int64, lock bool) (crm.Profile, error) {
	sql := `SELECT ` + profileColumns + ` FROM customers WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	p, err := scanProfile(q.QueryRow(ctx, sql, id))
	if err != nil {
		return p, notFound(err, "customer", id)
	}
	return p, nil
}

// visibleSQL is true when agent $2 may see customer $1's row alias c: a
// conversation of the customer was handled by the agent or sits in a queue
// the agent (or one of their teams) is a member of.
const visibleSQL = `EXISTS (SELECT 1 FROM conversations cv JOIN queues q ON q.id = cv.queue_id
	WHERE cv.customer_id = %s AND (cv.agent_id = $%d OR ($%d)::text = ANY (q.members)
	OR EXISTS (SELECT 1 FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE tm.agent_id = $%d AND 'team:' || t.name = ANY (q.members))))`

func visible(customerExpr string, arg int) string {
	return fmt.Sprintf(visibleSQL, customerExpr, arg, arg, arg)
}

// CustomerVisible reports whether a user may see a customer: supervisors and
// admins see all; agents the customers of conversations they handle or
// their queues handle.
func (db *DB) CustomerVisible(ctx context.Context, agent parley.Agent, customerID int64) (bool, error) {
	if agent.Role.Can(parley.RoleSupervisor) {
		return true, nil
	}
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT `+visible("$1", 2), customerID, agent.ID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("customer %d visible to agent %d: %w", customerID, agent.ID, err)
	}
	return ok, nil
}

// LogCustomerAccess appends to the customer access log (view, export,
// update, note, link, merge, unmerge, erase).
func (db *DB) LogCustomerAccess(ctx context.Context, customerID int64, by parley.Agent, action string, details map[string]any) error {
	return logAccess(ctx, db.pool, customerID, by, action, details)
}

func logAccess(ctx context.Context, q querier, customerID int64, by parley.Agent, action string, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	_, err := q.Exec(ctx, `INSERT INTO customer_access_log (customer_id, actor_id, actor_role, action, details) VALUES ($1, NULLIF($2, 0), $3, $4, $5)`,
		customerID, by.ID, string(by.Role), action, details)
	if err != nil {
		return fmt.Errorf("log customer access: %w", err)
	}
	return nil
}

// AccessEntry is one row of the customer access log.
type AccessEntry struct {
	ID        int64          `json:"id,string"`
	ActorID   int64          `json:"actor_id,string"`
	ActorRole string         `json:"actor_role"`
	Action    string         `json:"action"`
	Details   map[string]any `json:"details"`
	CreatedAt string         `json:"created_at"`
}

// CustomerAccessLog returns a customer's access log, newest first.
func (db *DB) CustomerAccessLog(ctx context.Context, customerID int64, limit int) ([]AccessEntry, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, COALESCE(actor_id, 0), actor_role, action, details, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
		FROM customer_access_log WHERE customer_id = $1 ORDER BY id DESC LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("customer access log: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AccessEntry, error) {
		var e AccessEntry
		err := r.Scan(&e.ID, &e.ActorID, &e.ActorRole, &e.Action, &e.Details, &e.CreatedAt)
		return e, err
	})
}

// UpdateProfile applies a validated patch to a customer.
func (db *DB) UpdateProfile(ctx context.Context, id int64, patch crm.Patch, by parley.Agent) (crm.Profile, error) {
	var p crm.Profile
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if p, err = getProfile(ctx, tx, id, true); err != nil {
			return err
		}
		if p.ErasedAt != nil || p.MergedInto != 0 {
			return parley.Errorf(parley.ECONFLICT, "Customer %d was erased or merged and cannot be changed.", id)
		}
		list, err := attributeDefs(ctx, tx)
		if err != nil {
			return err
		}
		settings, err := crmSettings(ctx, tx, false)
		if err != nil {
			return err
		}
		oldStage, oldAttrs := p.Stage, maps.Clone(p.Attributes)
		if err := patch.Apply(&p, crm.DefsByKey(list)); err != nil {
			return err
		}
		if patch.PreferredChannel != nil {
			ids, err := identities(ctx, tx, id)
			if err != nil {
				return err
			}
			if err := crm.CheckPreferredChannel(p.PreferredChannel, ids); err != nil {
				return err
			}
		}
		reason, actor := crm.ReasonHand, by.ID
		if p.Stage == oldStage {
			if to, ok := settings.StageOnPurchase(oldStage, oldAttrs, p.Attributes); ok {
				p.Stage, reason, actor = to, crm.ReasonFirstPurchase, 0
			}
		}
		p, err = scanProfile(tx.QueryRow(ctx, `UPDATE customers SET name = $2, email = $3, phone = $4, company = $5, locale = $6, timezone = $7,
			lifecycle_stage = $8, tags = $9, attributes = $10, timezone_source = $11, preferred_channel = $12, updated_at = now()
			WHERE id = $1 RETURNING `+profileColumns,
			id, p.Name, p.Email, p.Phone, p.Company, p.Locale, p.Timezone, p.Stage, p.Tags, p.Attributes, p.TimezoneSource, string(p.PreferredChannel)))
		if err != nil {
			return fmt.Errorf("update customer %d: %w", id, err)
		}
		if oldStage != p.Stage {
			if err := recordStage(ctx, tx, id, oldStage, p.Stage, reason, actor); err != nil {
				return err
			}
		}
		return logAccess(ctx, tx, id, by, "update", nil)
	})
	return p, err
}

// LinkIdentity links a (normalised) identity to a customer. An identity
// another customer owns is not moved: owner is that customer and linked is
// false, for the caller to suggest a merge.
func (db *DB) LinkIdentity(ctx context.Context, customerID int64, id parley.Identity, by parley.Agent) (linked bool, owner int64, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		p, err := getProfile(ctx, tx, customerID, true)
		if err != nil {
			return err
		}
		if p.ErasedAt != nil || p.MergedInto != 0 {
			return parley.Errorf(parley.ECONFLICT, "Customer %d was erased or merged and cannot be changed.", customerID)
		}
		err = tx.QueryRow(ctx, `INSERT INTO customer_identities (customer_id, channel, address) VALUES ($1, $2, $3)
			ON CONFLICT (channel, address) DO UPDATE SET channel = EXCLUDED.channel RETURNING customer_id`,
			customerID, string(id.Channel), id.Address).Scan(&owner)
		if err != nil {
			return fmt.Errorf("link identity: %w", err)
		}
		linked = owner == customerID
		return logAccess(ctx, tx, customerID, by, "link_identity", map[string]any{"channel": id.Channel, "linked": linked})
	})
	return linked, owner, err
}

// Duplicates suggests customers who may be the same person: the same
// email or phone (in the profile or as an identity), or the same name of at
// least two words compared case- and space-insensitively. Merged and
// erased customers are never suggested.
func (db *DB) Duplicates(ctx context.Context, id int64) ([]crm.Duplicate, error) {
	p, err := db.Profile(ctx, id)
	if err != nil {
		return nil, err
	}
	ids, err := db.Identities(ctx, id)
	if err != nil {
		return nil, err
	}
	var emails, phones []string
	add := func(list *[]string, v string) {
		if v != "" && !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	add(&emails, strings.ToLower(p.Email))
	add(&phones, p.Phone)
	for _, i := range ids {
		if i.Channel == parley.ChannelEmail {
			add(&emails, i.Address)
		} else if crm.IsPhoneChannel(i.Channel) {
			add(&phones, strings.TrimPrefix(i.Address, "whatsapp:"))
		}
	}
	if emails == nil {
		emails = []string{}
	}
	if phones == nil {
		phones = []string{}
	}
	rows, err := db.pool.Query(ctx, `
		SELECT c.id, 'same_email' FROM customers c WHERE lower(c.email) = ANY ($1)
		UNION SELECT ci.customer_id, 'same_email' FROM customer_identities ci WHERE ci.channel = 'email' AND ci.address = ANY ($1)
		UNION SELECT c.id, 'same_phone' FROM customers c WHERE c.phone = ANY ($2)
		UNION SELECT ci.customer_id, 'same_phone' FROM customer_identities ci WHERE ci.channel IN ('sms', 'whatsapp', 'voice')
			AND (ci.address = ANY ($2) OR replace(ci.address, 'whatsapp:', '') = ANY ($2))
		UNION SELECT c.id, 'similar_name' FROM customers c WHERE $3 <> '' AND c.name <> ''
			AND lower(regexp_replace(btrim(c.name), '\s+', ' ', 'g')) = $3`,
		emails, phones, crm.NameKey(p.Name))
	if err != nil {
		return nil, fmt.Errorf("duplicates of customer %d: %w", id, err)
	}
	reasons := map[int64][]string{}
	var order []int64
	for rows.Next() {
		var cid int64
		var reason string
		if err := rows.Scan(&cid, &reason); err != nil {
			rows.Close()
			return nil, err
		}
		if cid == id {
			continue
		}
		if _, ok := reasons[cid]; !ok {
			order = append(order, cid)
		}
		if !slices.Contains(reasons[cid], reason) {
			reasons[cid] = append(reasons[cid], reason)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(order)
	out := []crm.Duplicate{}
	for _, cid := range order {
		d, err := db.Profile(ctx, cid)
		if err != nil {
			return nil, err
		}
		if d.MergedInto != 0 || d.ErasedAt != nil {
			continue
		}
		r := reasons[cid]
		slices.Sort(r)
		out = append(out, crm.Duplicate{Customer: d, Reasons: r})
	}
	return out, nil
}

// Merge merges customer fromID into targetID: identities, conversations,
// notes, visitor sessions and consents move to the target; profile fields
// the target lacks are filled; attributes follow crm.MergeAttributes (the
// target's value wins, the other is kept under merged.<key>); tags are
// united. The merged customer is kept (merged_into set) and the merge is
// recorded so Unmerge can undo it.
func (db *DB) Merge(ctx context.Context, targetID, fromID int64, by parley.Agent) (crm.Merge, error) {
	var m crm.Merge
	if targetID == fromID {
		return m, parley.Invalid("A customer cannot be merged into itself.", map[string]string{"from": "another customer"})
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var t, f crm.Profile
		var err error
		// lock in id order so concurrent merges cannot deadlock
		first, second := min(targetID, fromID), max(targetID, fromID)
		a, err := getProfile(ctx, tx, first, true)
		if err != nil {
			return err
		}
		b, err := getProfile(ctx, tx, second, true)
		if err != nil {
			return err
		}
		if a.ID == targetID {
			t, f = a, b
		} else {
			t, f = b, a
		}
		for _, c := range []crm.Profile{t, f} {
			if c.MergedInto != 0 || c.ErasedAt != nil {
				return parley.Errorf(parley.ECONFLICT, "Customer %d was already merged or erased.", c.ID)
			}
		}
		var clash bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversations a JOIN conversations b ON a.inbox_id = b.inbox_id
			WHERE a.customer_id = $1 AND b.customer_id = $2 AND a.status IN ('queued', 'assigned') AND b.status IN ('queued', 'assigned')
			AND a.channel <> 'email')`, targetID, fromID).Scan(&clash); err != nil {
			return fmt.Errorf("check open conversations: %w", err)
		}
		if clash {
			return parley.Errorf(parley.ECONFLICT, "Both customers have an open conversation in the same inbox: resolve one before merging.")
		}
		d := crm.MergeDetails{FilledFields: map[string]string{}}
		rows, err := tx.Query(ctx, `UPDATE customer_identities SET customer_id = $1 WHERE customer_id = $2 RETURNING channel, address`, targetID, fromID)
		if err != nil {
			return fmt.Errorf("move identities: %w", err)
		}
		if d.Identities, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Identity, error) {
			var i parley.Identity
			var ch string
			err := r.Scan(&ch, &i.Address)
			i.Channel = parley.Channel(ch)
			return i, err
		}); err != nil {
			return fmt.Errorf("move identities: %w", err)
		}
		if d.Conversations, err = collectIDs(ctx, tx, `UPDATE conversations SET customer_id = $1, updated_at = now() WHERE customer_id = $2 RETURNING id`, targetID, fromID); err != nil {
			return fmt.Errorf("move conversations: %w", err)
		}
		if d.Notes, err = collectIDs(ctx, tx, `UPDATE customer_notes SET customer_id = $1 WHERE customer_id = $2 RETURNING id`, targetID, fromID); err != nil {
			return fmt.Errorf("move notes: %w", err)
		}
		rows, err = tx.Query(ctx, `UPDATE visitor_sessions SET customer_id = $1 WHERE customer_id = $2 RETURNING token_hash`, targetID, fromID)
		if err != nil {
			return fmt.Errorf("move visitor sessions: %w", err)
		}
		if d.VisitorSessions, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
			var h []byte
			err := r.Scan(&h)
			return hex.EncodeToString(h), err
		}); err != nil {
			return fmt.Errorf("move visitor sessions: %w", err)
		}
		rows, err = tx.Query(ctx, `UPDATE customer_consents SET customer_id = $1 WHERE customer_id = $2 RETURNING channel, address`, targetID, fromID)
		if err != nil {
			return fmt.Errorf("move consents: %w", err)
		}
		if d.Consents, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Identity, error) {
			var i parley.Identity
			var ch string
			err := r.Scan(&ch, &i.Address)
			i.Channel = parley.Channel(ch)
			return i, err
		}); err != nil {
			return fmt.Errorf("move consents: %w", err)
		}
		fill := func(name string, dst *string, v string) {
			if *dst == "" && v != "" {
				*dst = v
				d.FilledFields[name] = v
			}
		}
		fill("name", &t.Name, f.Name)
		fill("email", &t.Email, f.Email)
		fill("phone", &t.Phone, f.Phone)
		fill("locale", &t.Locale, f.Locale)
		fill("company", &t.Company, f.Company)
		if t.Timezone == "" && f.Timezone != "" {
			t.TimezoneSource = f.TimezoneSource
		}
		fill("timezone", &t.Timezone, f.Timezone)
		fill("browser_region", &t.BrowserRegion, f.BrowserRegion)
		fill("browser_language", &t.BrowserLanguage, f.BrowserLanguage)
		if t.PreferredChannel == "" && f.PreferredChannel != "" {
			t.PreferredChannel = f.PreferredChannel
			d.FilledFields["preferred_channel"] = string(f.PreferredChannel)
		}
		t.Attributes, d.AddedAttributes = crm.MergeAttributes(t.Attributes, f.Attributes)
		t.Tags, d.AddedTags = crm.MergeTags(t.Tags, f.Tags)
		if err := saveMergedFields(ctx, tx, t); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE customers SET merged_into = $1, updated_at = now() WHERE id = $2`, targetID, fromID); err != nil {
			return fmt.Errorf("mark merged: %w", err)
		}
		m = crm.Merge{TargetID: targetID, FromID: fromID, ActorID: by.ID, ActorName: by.Name, Details: d}
		if err := tx.QueryRow(ctx, `INSERT INTO customer_merges (target_id, from_id, actor_id, actor_name, details) VALUES ($1, $2, NULLIF($3, 0), $4, $5)
			RETURNING id, created_at`, targetID, fromID, by.ID, by.Name, d).Scan(&m.ID, &m.CreatedAt); err != nil {
			return fmt.Errorf("record merge: %w", err)
		}
		m.CreatedAt = m.CreatedAt.UTC()
		if err := writeEvent(ctx, tx, "customer.merged", 0, by.ID, targetID, map[string]any{"merge_id": m.ID, "from": fromID}); err != nil {
			return err
		}
		if err := logAccess(ctx, tx, targetID, by, "merge", map[string]any{"merge_id": m.ID, "from": fromID}); err != nil {
			return err
		}
		return logAccess(ctx, tx, fromID, by, "merged_into", map[string]any{"merge_id": m.ID, "target": targetID})
	})
	return m, err
}

func saveMergedFields(ctx context.Context, tx pgx.Tx, t crm.Profile) error {
	if t.Timezone == "" {
		t.TimezoneSource = ""
	}
	_, err := tx.Exec(ctx, `UPDATE customers SET name = $2, email = $3, phone = $4, locale = $5, company = $6, timezone = $7,
		attributes = $8, tags = $9, timezone_source = $10, browser_region = $11, browser_language = $12, preferred_channel = $13,
		updated_at = now() WHERE id = $1`,
		t.ID, t.Name, t.Email, t.Phone, t.Locale, t.Company, t.Timezone, t.Attributes, t.Tags,
		t.TimezoneSource, t.BrowserRegion, t.BrowserLanguage, string(t.PreferredChannel))
	if err != nil {
		return fmt.Errorf("update customer %d: %w", t.ID, err)
	}
	return nil
}

func collectIDs(ctx context.Context, tx pgx.Tx, sql string, args ...any) ([]int64, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if ids == nil {
		ids = []int64{}
	}
	return ids, err
}

func scanMerge(row pgx.Row) (crm.Merge, error) {
	var m crm.Merge
	err := row.Scan(&m.ID, &m.TargetID, &m.FromID, &m.ActorID, &m.ActorName, &m.Details, &m.CreatedAt, &m.UnmergedAt)
	m.CreatedAt = m.CreatedAt.UTC()
	return m, err
}

const mergeColumns = `id, target_id, from_id, COALESCE(actor_id, 0), actor_name, details, created_at, unmerged_at`

// Merges returns the merges into or from a customer, newest first.
func (db *DB) Merges(ctx context.Context, customerID int64) ([]crm.Merge, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+mergeColumns+` FROM customer_merges WHERE target_id = $1 OR from_id = $1 ORDER BY id DESC`, customerID)
	if err != nil {
		return nil, fmt.Errorf("merges of customer %d: %w", customerID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (crm.Merge, error) { return scanMerge(r) })
	if out == nil {
		out = []crm.Merge{}
	}
	return out, err
}

// Unmerge undoes a merge into targetID: what moved goes back (when still on
// the target), filled fields, added attributes and tags are removed when
// unchanged since, and the merged customer is active again.
func (db *DB) Unmerge(ctx context.Context, targetID, mergeID int64, by parley.Agent) (crm.Merge, error) {
	var m crm.Merge
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		m, err = scanMerge(tx.QueryRow(ctx, `SELECT `+mergeColumns+` FROM customer_merges WHERE id = $1 AND target_id = $2 FOR UPDATE`, mergeID, targetID))
		if err != nil {
			return notFound(err, "merge", mergeID)
		}
		if m.UnmergedAt != nil {
			return parley.Errorf(parley.ECONFLICT, "Merge %d was already undone.", mergeID)
		}
		first, second := min(m.TargetID, m.FromID), max(m.TargetID, m.FromID)
		a, err := getProfile(ctx, tx, first, true)
		if err != nil {
			return err
		}
		b, err := getProfile(ctx, tx, second, true)
		if err != nil {
			return err
		}
		t, f := a, b
		if a.ID != m.TargetID {
			t, f = b, a
		}
		if t.ErasedAt != nil || t.MergedInto != 0 {
			return parley.Errorf(parley.ECONFLICT, "Customer %d was erased or merged since; unmerge that first.", t.ID)
		}
		d := m.Details
		for _, i := range d.Identities {
			if _, err := tx.Exec(ctx, `UPDATE customer_identities SET customer_id = $1 WHERE customer_id = $2 AND channel = $3 AND address = $4`,
				m.FromID, m.TargetID, string(i.Channel), i.Address); err != nil {
				return fmt.Errorf("move identity back: %w", err)
			}
		}
		for _, i := range d.Consents {
			if _, err := tx.Exec(ctx, `UPDATE customer_consents SET customer_id = $1 WHERE customer_id = $2 AND channel = $3 AND address = $4`,
				m.FromID, m.TargetID, string(i.Channel), i.Address); err != nil {
				return fmt.Errorf("move consent back: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE conversations SET customer_id = $1, updated_at = now() WHERE customer_id = $2 AND id = ANY ($3)`,
			m.FromID, m.TargetID, d.Conversations); err != nil {
			return fmt.Errorf("move conversations back: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE customer_notes SET customer_id = $1 WHERE customer_id = $2 AND id = ANY ($3)`,
			m.FromID, m.TargetID, d.Notes); err != nil {
			return fmt.Errorf("move notes back: %w", err)
		}
		for _, h := range d.VisitorSessions {
			raw, _ := hex.DecodeString(h)
			if _, err := tx.Exec(ctx, `UPDATE visitor_sessions SET customer_id = $1 WHERE customer_id = $2 AND token_hash = $3`,
				m.FromID, m.TargetID, raw); err != nil {
				return fmt.Errorf("move visitor session back: %w", err)
			}
		}
		preferred := string(t.PreferredChannel)
		field := map[string]*string{"name": &t.Name, "email": &t.Email, "phone": &t.Phone, "locale": &t.Locale, "company": &t.Company, "timezone": &t.Timezone,
			"browser_region": &t.BrowserRegion, "browser_language": &t.BrowserLanguage, "preferred_channel": &preferred}
		for k, v := range d.FilledFields {
			if p := field[k]; p != nil && *p == v {
				*p = ""
			}
		}
		t.PreferredChannel = parley.Channel(preferred)
		for _, k := range d.AddedAttributes {
			orig := k
			if o, ok := strings.CutPrefix(k, crm.MergedPrefix); ok {
				if _, had := f.Attributes[k]; !had {
					orig = o
				}
			}
			if v, ok := t.Attributes[k]; ok && v == f.Attributes[orig] {
				delete(t.Attributes, k)
			}
		}
		t.Tags = slices.DeleteFunc(t.Tags, func(tag string) bool { return slices.Contains(d.AddedTags, tag) })
		if err := saveMergedFields(ctx, tx, t); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE customers SET merged_into = NULL, updated_at = now() WHERE id = $1`, m.FromID); err != nil {
			return fmt.Errorf("unmark merged: %w", err)
		}
		if err := tx.QueryRow(ctx, `UPDATE customer_merges SET unmerged_at = now(), unmerged_by = NULLIF($2, 0) WHERE id = $1 RETURNING unmerged_at`,
			mergeID, by.ID).Scan(&m.UnmergedAt); err != nil {
			return fmt.Errorf("record unmerge: %w", err)
		}
		if err := writeEvent(ctx, tx, "customer.unmerged", 0, by.ID, m.TargetID, map[string]any{"merge_id": m.ID, "from": m.FromID}); err != nil {
			return err
		}
		if err := logAccess(ctx, tx, m.TargetID, by, "unmerge", map[string]any{"merge_id": m.ID}); err != nil {
			return err
		}
		return logAccess(ctx, tx, m.FromID, by, "unmerged", map[string]any{"merge_id": m.ID})
	})
	return m, err
}

// AddNote adds a note to a customer.
func (db *DB) AddNote(ctx context.Context, customerID int64, by parley.Agent, body string) (crm.Note, error) {
	n := crm.Note{CustomerID: customerID, AuthorID: by.ID, AuthorName: by.Name, Body: strings.TrimSpace(body)}
	if n.Body == "" || len(n.Body) > 10000 {
		return n, parley.Invalid("A note needs a body of at most 10000 bytes.", map[string]string{"body": "1 to 10000 bytes"})
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		p, err := getProfile(ctx, tx, customerID, false)
		if err != nil {
			return err
		}
		if p.ErasedAt != nil || p.MergedInto != 0 {
			return parley.Errorf(parley.ECONFLICT, "Customer %d was erased or merged.", customerID)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO customer_notes (customer_id, author_id, author_name, body) VALUES ($1, NULLIF($2, 0), $3, $4)
			RETURNING id, created_at`, customerID, by.ID, by.Name, n.Body).Scan(&n.ID, &n.CreatedAt); err != nil {
			return fmt.Errorf("add note: %w", err)
		}
		n.CreatedAt = n.CreatedAt.UTC()
		return logAccess(ctx, tx, customerID, by, "note", map[string]any{"note_id": n.ID})
	})
	return n, err
}

// Notes returns a customer's notes, newest first, with ids below before.
func (db *DB) Notes(ctx context.Context, customerID, before int64, limit int) ([]crm.Note, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, customer_id, COALESCE(author_id, 0), author_name, body, created_at FROM customer_notes
		WHERE customer_id = $1 AND ($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3`, customerID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("notes of customer %d: %w", customerID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (crm.Note, error) {
		var n crm.Note
		err := r.Scan(&n.ID, &n.CustomerID, &n.AuthorID, &n.AuthorName, &n.Body, &n.CreatedAt)
		n.CreatedAt = n.CreatedAt.UTC()
		return n, err
	})
	if out == nil {
		out = []crm.Note{}
	}
	return out, err
}

// SearchCustomers finds active customers whose name, email or phone
// contains q (all when empty) and, with a filter, who match it (a
// segment's members), newest first, with ids below before. Agents only
// find customers they may see.
func (db *DB) SearchCustomers(ctx context.Context, agent parley.Agent, q string, filter *crm.Filter, before int64, limit int) ([]crm.Profile, error) {
	q = strings.ToLower(strings.TrimSpace(q))
	like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
	where := `c.merged_into IS NULL AND c.erased_at IS NULL AND ($1 = '' OR lower(c.name) LIKE $2 OR lower(c.email) LIKE $2 OR c.phone LIKE $2
		OR EXISTS (SELECT 1 FROM customer_identities ci WHERE ci.customer_id = c.id AND ci.address LIKE $2))
		AND ($3 = 0 OR c.id < $3)`
	args := []any{q, like, before, limit}
	if !agent.Role.Can(parley.RoleSupervisor) {
		where += ` AND ` + visible("c.id", 5)
		args = append(args, agent.ID)
	}
	if filter != nil {
		where += ` AND ` + filterSQL(*filter, &args)
	}
	rows, err := db.pool.Query(ctx, `SELECT `+profileColumns+` FROM customers c WHERE `+where+` ORDER BY c.id DESC LIMIT $4`, args...)
	if err != nil {
		return nil, fmt.Errorf("search customers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (crm.Profile, error) { return scanProfile(r) })
	if out == nil {
		out = []crm.Profile{}
	}
	return out, err
}

// ExportCustomer returns everything held about a customer (data-subject
// access request) and logs the export.
func (db *DB) ExportCustomer(ctx context.Context, id int64, by parley.Agent) (map[string]any, error) {
	p, err := db.Profile(ctx, id)
	if err != nil {
		return nil, err
	}
	ids, err := db.Identities(ctx, id)
	if err != nil {
		return nil, err
	}
	notes, err := db.Notes(ctx, id, 0, 100000)
	if err != nil {
		return nil, err
	}
	convs, err := db.conversations(ctx, `WHERE c.customer_id = $1 ORDER BY c.id`, id)
	if err != nil {
		return nil, err
	}
	for i := range convs {
		if convs[i].Messages, err = db.Messages(ctx, convs[i].ID, 0, 1000000, true); err != nil {
			return nil, err
		}
	}
	type consent struct {
		Channel string `json:"channel"`
		Address string `json:"address"`
		Status  string `json:"status"`
		Keyword string `json:"keyword"`
	}
	rows, err := db.pool.Query(ctx, `SELECT channel, address, status, keyword FROM customer_consents WHERE customer_id = $1 ORDER BY channel, address`, id)
	if err != nil {
		return nil, fmt.Errorf("consents: %w", err)
	}
	consents, err := pgx.CollectRows(rows, pgx.RowToStructByPos[consent])
	if err != nil {
		return nil, fmt.Errorf("consents: %w", err)
	}
	merges, err := db.Merges(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := db.LogCustomerAccess(ctx, id, by, "export", nil); err != nil {
		return nil, err
	}
	access, err := db.CustomerAccessLog(ctx, id, 100000)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"customer": p, "identities": ids, "notes": notes, "conversations": convs,
		"consents": consents, "merges": merges, "access_log": access,
	}, nil
}

// EraseCustomer removes a customer's personal data: profile fields,
// identities, notes, visitor sessions, consents, message bodies and
// attachments, email sources, call numbers and merge records' contents. The
// customer, conversation and message rows stay (anonymised) so reports
// count the same.
func (db *DB) EraseCustomer(ctx context.Context, id int64, by parley.Agent) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		p, err := getProfile(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if p.MergedInto != 0 {
			return parley.Errorf(parley.ECONFLICT, "Customer %d was merged into %d: erase that customer.", id, p.MergedInto)
		}
		// Customers merged into this one are the same person: erase them too.
		merged, err := collectIDs(ctx, tx, `SELECT id FROM customers WHERE merged_into = $1`, id)
		if err != nil {
			return fmt.Errorf("merged customers: %w", err)
		}
		all := append([]int64{id}, merged...)
		stmts := []string{
			`UPDATE customers SET name = '', email = '', phone = '', company = '', locale = '', timezone = '', attributes = '{}', tags = '{}',
				timezone_source = '', browser_region = '', browser_language = '', preferred_channel = '',
				erased_at = now(), updated_at = now() WHERE id = ANY ($1)`,
			`DELETE FROM customer_identities WHERE customer_id = ANY ($1)`,
			`DELETE FROM customer_notes WHERE customer_id = ANY ($1)`,
			`DELETE FROM visitor_sessions WHERE customer_id = ANY ($1)`,
			`DELETE FROM customer_consents WHERE customer_id = ANY ($1)`,
			`UPDATE customer_merges SET details = '{"erased": true}' WHERE target_id = ANY ($1) OR from_id = ANY ($1)`,
			`UPDATE conversations SET subject = '', meta = '{}', updated_at = now() WHERE customer_id = ANY ($1)`,
			`UPDATE messages SET body = '', attachments = '[]',
				sender_name = CASE WHEN sender_type = 'customer' THEN '' ELSE sender_name END
				WHERE conversation_id IN (SELECT id FROM conversations WHERE customer_id = ANY ($1))`,
			`UPDATE email_attachments SET name = '', data = NULL WHERE email_message_id IN (SELECT e.id FROM email_messages e
				JOIN messages m ON m.id = e.message_row_id JOIN conversations c ON c.id = m.conversation_id WHERE c.customer_id = ANY ($1))`,
			`UPDATE email_messages SET message_id = '', from_address = '', reply_to = '', subject = '', in_reply_to = '{}', refs = '{}',
				text_body = '', html_body = '', raw = ''::bytea WHERE message_row_id IN (SELECT m.id FROM messages m
				JOIN conversations c ON c.id = m.conversation_id WHERE c.customer_id = ANY ($1))`,
			`UPDATE twilio_calls SET caller = 'erased' WHERE conversation_id IN (SELECT id FROM conversations WHERE customer_id = ANY ($1))`,
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s, all); err != nil {
				return fmt.Errorf("erase customer %d: %w", id, err)
			}
		}
		if err := writeEvent(ctx, tx, "customer.erased", 0, by.ID, id, map[string]any{"merged": merged}); err != nil {
			return err
		}
		return logAccess(ctx, tx, id, by, "erase", nil)
	})
}
