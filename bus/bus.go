// Package bus fans events out to every Parley instance through Redis pub/sub.
// Delivery is at-most-once: frames carry per-conversation sequence numbers
// and clients resync from the API when they see a gap or reconnect.
package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// SubBuffer is how many frames a subscriber may fall behind before it is
// cut off (its Lagged channel closes; the socket then closes and the client
// resyncs on reconnect).
const SubBuffer = 256

// Bus publishes and subscribes topics ("agent:12", "conv:7", ...). One Redis
// pub/sub connection serves every local subscriber.
type Bus struct {
	rdb    redis.UniversalClient
	prefix string
	log    *slog.Logger

	mu      sync.Mutex
	ps      *redis.PubSub
	subs    map[string]map[*Sub]struct{}
	waiters map[string][]chan struct{} // channels whose SUBSCRIBE Redis has not confirmed yet
}

// New returns a bus whose Redis channels are named "{prefix}:ev:<topic>".
func New(rdb redis.UniversalClient, prefix string, log *slog.Logger) *Bus {
	return &Bus{
		rdb: rdb, prefix: prefix, log: log,
		subs:    map[string]map[*Sub]struct{}{},
		waiters: map[string][]chan struct{}{},
	}
}

func (b *Bus) channel(topic string) string { return "{" + b.prefix + "}:ev:" + topic }

func (b *Bus) topic(channel string) string { return channel[len(b.prefix)+6:] }

// Publish sends v, encoded as JSON, to every subscriber of topic on every
// instance.
func (b *Bus) Publish(ctx context.Context, topic string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s frame: %w", topic, err)
	}
	if err := b.rdb.Publish(ctx, b.channel(topic), data).Err(); err != nil {
		return fmt.Errorf("publish to %s: %w", topic, err)
	}
	return nil
}

// Run receives from Redis and delivers to local subscribers until ctx ends.
func (b *Bus) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.ps == nil {
		b.ps = b.rdb.Subscribe(ctx)
	}
	ps := b.ps
	b.mu.Unlock()
	defer ps.Close()
	ch := ps.ChannelWithSubscriptions(redis.WithChannelSize(1024))
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-ch:
			if !ok {
				return nil
			}
			switch m := m.(type) {
			case *redis.Subscription:
				if m.Kind == "subscribe" {
					b.confirm(m.Channel)
				}
			case *redis.Message:
				b.deliver(b.topic(m.Channel), []byte(m.Payload))
			}
		}
	}
}

func (b *Bus) confirm(channel string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, w := range b.waiters[channel] {
		close(w)
	}
	delete(b.waiters, channel)
}

func (b *Bus) deliver(topic string, data []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[topic] {
		s.push(data)
	}
}

// Sub is one local subscriber (a socket) to any number of topics.
type Sub struct {
	b      *Bus
	C      chan []byte
	lagged chan struct{}
	topics map[string]struct{}
	over   bool
}

// Lagged is closed when the subscriber fell more than SubBuffer frames behind.
func (s *Sub) Lagged() <-chan struct{} { return s.lagged }

func (s *Sub) push(data []byte) {
	if s.over {
		return
	}
	select {
	case s.C <- data:
	default:
		s.over = true
		close(s.lagged)
	}
}

// Subscribe returns a subscriber to topics; it returns once Redis confirmed
// the subscriptions, so nothing published afterwards is missed.
func (b *Bus) Subscribe(ctx context.Context, topics ...string) (*Sub, error) {
	s := &Sub{b: b, C: make(chan []byte, SubBuffer), lagged: make(chan struct{}), topics: map[string]struct{}{}}
	return s, s.Add(ctx, topics...)
}

// Add subscribes s to more topics, waiting for Redis to confirm new ones.
func (s *Sub) Add(ctx context.Context, topics ...string) error {
	b := s.b
	var fresh []string
	var waits []chan struct{}
	b.mu.Lock()
	if b.ps == nil {
		b.ps = b.rdb.Subscribe(context.WithoutCancel(ctx))
	}
	for _, t := range topics {
		if _, ok := s.topics[t]; ok {
			continue
		}
		s.topics[t] = struct{}{}
		ch := b.channel(t)
		if b.subs[t] == nil {
			b.subs[t] = map[*Sub]struct{}{}
			fresh = append(fresh, ch)
			b.waiters[ch] = []chan struct{}{}
		}
		if _, pending := b.waiters[ch]; pending {
			w := make(chan struct{})
			b.waiters[ch] = append(b.waiters[ch], w)
			waits = append(waits, w)
		}
		b.subs[t][s] = struct{}{}
	}
	ps := b.ps
	b.mu.Unlock()
	if len(fresh) > 0 {
		if err := ps.Subscribe(ctx, fresh...); err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
	}
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for _, w := range waits {
		select {
		case <-w:
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout.C:
			return fmt.Errorf("subscribe: Redis did not confirm within 5s")
		}
	}
	return nil
}

// Remove unsubscribes s from topics.
func (s *Sub) Remove(ctx context.Context, topics ...string) {
	b := s.b
	var gone []string
	b.mu.Lock()
	for _, t := range topics {
		if _, ok := s.topics[t]; !ok {
			continue
		}
		delete(s.topics, t)
		delete(b.subs[t], s)
		if len(b.subs[t]) == 0 {
			delete(b.subs, t)
			gone = append(gone, b.channel(t))
		}
	}
	ps := b.ps
	b.mu.Unlock()
	if len(gone) > 0 && ps != nil {
		if err := ps.Unsubscribe(ctx, gone...); err != nil {
			b.log.Warn("unsubscribe", "error", err)
		}
	}
}

// Close unsubscribes s from every topic.
func (s *Sub) Close() {
	s.b.mu.Lock()
	topics := make([]string, 0, len(s.topics))
	for t := range s.topics {
		topics = append(topics, t)
	}
	s.b.mu.Unlock()
	s.Remove(context.Background(), topics...)
}
