-- +goose Up
-- Routing rules of ROUTING.md that queues and agents configure.
ALTER TABLE queues ADD COLUMN aging boolean NOT NULL DEFAULT false;
ALTER TABLE queues ADD COLUMN proficiency_first boolean NOT NULL DEFAULT false;
ALTER TABLE queues ADD COLUMN sticky_window_s int NOT NULL DEFAULT 0 CHECK (sticky_window_s >= 0);
ALTER TABLE queues ADD COLUMN wrap_up_s int NOT NULL DEFAULT 0 CHECK (wrap_up_s >= 0);
ALTER TABLE queues ADD COLUMN paused boolean NOT NULL DEFAULT false;
ALTER TABLE queues ADD COLUMN short_abandon_s int NOT NULL DEFAULT 5 CHECK (short_abandon_s >= 0);
ALTER TABLE agents ADD COLUMN voice_blocks_digital boolean NOT NULL DEFAULT true;

-- +goose Down
ALTER TABLE agents DROP COLUMN voice_blocks_digital;
ALTER TABLE queues DROP COLUMN short_abandon_s, DROP COLUMN paused, DROP COLUMN wrap_up_s,
    DROP COLUMN sticky_window_s, DROP COLUMN proficiency_first, DROP COLUMN aging;
