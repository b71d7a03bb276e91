package parley

import "time"

// Customer is a person or organisation contact who reaches the company.
type Customer struct {
	ID         int64             `json:"id,string"`
	Name       string            `json:"name"`
	Email      string            `json:"email,omitempty"`
	Phone      string            `json:"phone,omitempty"`
	Locale     string            `json:"locale,omitempty"`
	Attributes map[string]string `json:"attributes"`
	Tags       []string          `json:"tags"`
	Stage      string            `json:"lifecycle_stage"`
	// PreferredChannel is the channel the customer prefers to be reached
	// on, one of their identities' channels ("" when none was chosen).
	PreferredChannel Channel   `json:"preferred_channel"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// Identity is how one channel knows a customer. (Channel, Address) is unique.
type Identity struct {
	Channel Channel   `json:"channel"`
	Address string    `json:"address"`
	Since   time.Time `json:"since,omitzero"`
}

// Customer360 is everything an agent needs to know about a customer.
type Customer360 struct {
	Customer
	Identities []Identity `json:"identities"`
	// PastConversations are the customer's other conversations with their
	// messages, most recent first.
	PastConversations []Conversation `json:"past_conversations"`
}

// Visitor is an authenticated web-chat visitor: a customer in an inbox.
type Visitor struct {
	InboxID    int64
	CustomerID int64
	// Topic is what the visitor chose in the pre-chat form.
	Topic string
}
