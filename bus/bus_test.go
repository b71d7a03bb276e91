package bus_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parleyhq/parley/bus"
	"github.com/parleyhq/parley/internal/testenv"
)

func TestBusDeliversAcrossInstancesAfterSubscribeReturns(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b := bus.New(rdb, prefix, log), bus.New(rdb, prefix, log)
	go a.Run(ctx)
	go b.Run(ctx)

	sub, err := b.Subscribe(ctx, "agent:1")
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Close()
	// Published right after Subscribe returned: must arrive.
	if err := a.Publish(ctx, "agent:1", map[string]string{"type": "hello"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(ctx, "agent:2", map[string]string{"type": "other"}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-sub.C:
		if string(got) != `{"type":"hello"}` {
			t.Fatalf("got %s; want the hello frame", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no frame within 5s")
	}
	sub.Remove(ctx, "agent:1")
	if err := sub.Add(ctx, "agent:2"); err != nil {
		t.Fatal(err)
	}
	a.Publish(ctx, "agent:1", map[string]string{"type": "gone"})
	a.Publish(ctx, "agent:2", map[string]string{"type": "two"})
	select {
	case got := <-sub.C:
		if string(got) != `{"type":"two"}` {
			t.Fatalf("got %s; want only agent:2's frame", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no frame within 5s")
	}
}

func TestBusCutsOffLaggingSubscriber(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := bus.New(rdb, prefix, log)
	go b.Run(ctx)
	sub, err := b.Subscribe(ctx, "conv:9")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for i := 0; i < bus.SubBuffer+10; i++ {
		if err := b.Publish(ctx, "conv:9", i); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-sub.Lagged():
	case <-time.After(5 * time.Second):
		t.Fatal("subscriber that never read was not cut off")
	}
}
