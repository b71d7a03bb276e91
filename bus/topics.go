package bus

import "strconv"

// AgentTopic carries an agent's frames to all their sockets.
func AgentTopic(id int64) string { return "agent:" + strconv.FormatInt(id, 10) }

// ConversationTopic carries every frame of a conversation, private notes
// included, for whoever watches it (supervisors).
func ConversationTopic(id int64) string { return "conv:" + strconv.FormatInt(id, 10) }

// VisitorTopic carries the customer-visible frames of a customer in an inbox.
func VisitorTopic(customerID, inboxID int64) string {
	return "visitor:" + strconv.FormatInt(customerID, 10) + ":" + strconv.FormatInt(inboxID, 10)
}
