package desk

import (
	"context"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/redis/go-redis/v9"
)

// Assigned is a conversation in an agent's hello frame.
type Assigned struct {
	Conversation parley.Conversation `json:"conversation"`
	Customer     parley.Customer360  `json:"customer"`
}

// Hello returns what an agent's socket gets on connect: their presence and
// assigned conversations with messages and customers.
func (d *Desk) Hello(ctx context.Context, agent parley.Agent) (map[string]any, error) {
	p, err := d.router.Presence(ctx, agent.ID)
	if err != nil {
		return nil, err
	}
	convs, err := d.db.AgentConversations(ctx, agent.ID)
	if err != nil {
		return nil, err
	}
	list := make([]Assigned, 0, len(convs))
	for _, c := range convs {
		conv, cust, err := d.ConversationView(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		list = append(list, Assigned{conv, cust})
	}
	return map[string]any{"type": "hello", "agent": agent, "presence": p, "conversations": list}, nil
}

// socketsKey holds an agent's open sockets on every instance, scored by
// their last heartbeat.
func (d *Desk) socketsKey(agentID int64) string {
	return "{" + d.prefix + "}:sockets:" + strconv.FormatInt(agentID, 10)
}

// SocketStale is how long a socket may go without a heartbeat before it is
// taken for gone (its instance crashed).
const SocketStale = 90 * time.Second

// SocketAlive records (or refreshes) one of an agent's sockets.
func (d *Desk) SocketAlive(ctx context.Context, agentID int64, socketID string) error {
	return d.rdb.ZAdd(ctx, d.socketsKey(agentID), redis.Z{Score: float64(d.now().UnixMilli()), Member: socketID}).Err()
}

// SocketGone forgets a socket; when it was the agent's last, the agent goes
// offline and their pending offers are canceled (not counted as misses).
func (d *Desk) SocketGone(ctx context.Context, agentID int64, socketID string) error {
	key := d.socketsKey(agentID)
	rdb := d.rdb
	stale := strconv.FormatInt(d.now().Add(-SocketStale).UnixMilli(), 10)
	pipe := rdb.TxPipeline()
	pipe.ZRem(ctx, key, socketID)
	pipe.ZRemRangeByScore(ctx, key, "-inf", "("+stale)
	left := pipe.ZCard(ctx, key)
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	if left.Val() > 0 {
		return nil
	}
	if p, err := d.router.Presence(ctx, agentID); err != nil || p == parley.PresenceOffline {
		return err
	}
	return d.SetPresence(ctx, agentID, parley.PresenceOffline, "disconnected")
}
