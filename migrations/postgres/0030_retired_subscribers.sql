-- The `magic-link-mail` and `mention-mail` subscribers were replaced by
-- `notifications` (0029). Their rows would hold back the outbox prune (it
-- keeps what every registered subscriber has not passed) and show them as
-- ever further behind in /metrics.
DELETE FROM event_retries WHERE subscriber IN ('magic-link-mail', 'mention-mail');
DELETE FROM event_positions WHERE subscriber IN ('magic-link-mail', 'mention-mail');
DELETE FROM event_subscribers WHERE name IN ('magic-link-mail', 'mention-mail');
