package parley

import "time"

// Role is what an authenticated user may do.
type Role string

const (
	RoleAgent      Role = "agent"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAgent || r == RoleSupervisor || r == RoleAdmin }

// Can reports whether r includes the rights of want (admin ⊇ supervisor ⊇ agent).
func (r Role) Can(want Role) bool { return r.rank() >= want.rank() }

func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleSupervisor:
		return 2
	case RoleAgent:
		return 1
	}
	return 0
}

// Presence is an agent's routing status.
type Presence string

const (
	PresenceOffline   Presence = "offline"
	PresenceAvailable Presence = "available"
	PresenceAway      Presence = "away"
)

// Valid reports whether p is a presence an agent may set.
func (p Presence) Valid() bool {
	return p == PresenceOffline || p == PresenceAvailable || p == PresenceAway
}

// Agent is a person who handles conversations (supervisors and admins are
// agents with more rights).
type Agent struct {
	ID        int64          `json:"id,string"`
	Name      string         `json:"name"`
	Email     string         `json:"email"`
	Role      Role           `json:"role"`
	Skills    map[string]int `json:"skills"`
	Languages []string       `json:"languages"`
	Capacity  map[Media]int  `json:"capacity"`
	Teams     []string       `json:"teams"`
	// VoiceBlocksDigital: while on a call the agent gets no chat or email offers.
	VoiceBlocksDigital bool      `json:"voice_blocks_digital"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// DefaultCapacity is the capacity of an agent created without one.
func DefaultCapacity() map[Media]int {
	return map[Media]int{MediaVoice: 1, MediaChat: 3, MediaEmail: 5}
}

// Proficiencies returns the agent's skills with its languages added at level
// 5 (languages are skills for routing: a step may require {"zh": 4}).
func (a Agent) Proficiencies() map[string]int {
	out := make(map[string]int, len(a.Skills)+len(a.Languages))
	for _, l := range a.Languages {
		out[l] = 5
	}
	for s, lvl := range a.Skills {
		out[s] = lvl
	}
	return out
}

// Validate checks the agent's fields.
func (a Agent) Validate() error {
	f := map[string]string{}
	if a.Name == "" {
		f["name"] = "required"
	}
	if a.Email == "" {
		f["email"] = "required"
	}
	if !a.Role.Valid() {
		f["role"] = "must be agent, supervisor or admin"
	}
	for s, lvl := range a.Skills {
		if s == "" || lvl < 1 || lvl > 5 {
			f["skills"] = "skill names must be non-empty with proficiency 1 to 5"
		}
	}
	for m, n := range a.Capacity {
		if !m.Valid() || n < 0 || n > 50 {
			f["capacity"] = "media must be voice, chat or email with 0 to 50 slots"
		}
	}
	if len(f) > 0 {
		return Invalid("Invalid agent.", f)
	}
	return nil
}

// AgentUpdate holds the fields of a PATCH; nil means unchanged.
type AgentUpdate struct {
	Name      *string         `json:"name"`
	Email     *string         `json:"email"`
	Password  *string         `json:"password"`
	Role      *Role           `json:"role"`
	Skills    *map[string]int `json:"skills"`
	Languages *[]string       `json:"languages"`
	Capacity  *map[Media]int  `json:"capacity"`
	Teams     *[]string       `json:"teams"`
	// VoiceBlocksDigital: see Agent.
	VoiceBlocksDigital *bool `json:"voice_blocks_digital"`
}

// Apply copies the set fields onto a.
func (u AgentUpdate) Apply(a *Agent) {
	if u.Name != nil {
		a.Name = *u.Name
	}
	if u.Email != nil {
		a.Email = *u.Email
	}
	if u.Role != nil {
		a.Role = *u.Role
	}
	if u.Skills != nil {
		a.Skills = *u.Skills
	}
	if u.Languages != nil {
		a.Languages = *u.Languages
	}
	if u.Capacity != nil {
		a.Capacity = *u.Capacity
	}
	if u.Teams != nil {
		a.Teams = *u.Teams
	}
	if u.VoiceBlocksDigital != nil {
		a.VoiceBlocksDigital = *u.VoiceBlocksDigital
	}
}
