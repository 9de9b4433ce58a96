-- Customer satisfaction: the requester rates a resolved ticket 1-5.
ALTER TABLE tickets ADD COLUMN satisfaction_score INTEGER CHECK (satisfaction_score BETWEEN 1 AND 5);
ALTER TABLE tickets ADD COLUMN satisfaction_comment TEXT;
