-- The mails the mailer delivered, by the message id of their RabbitMQ message (the outbox row id): a
-- redelivered or republished message whose id is here is acknowledged without sending the mail again. No
-- personal data: neither the address nor the user. Rows older than 30 days are pruned by the mailer.

CREATE TABLE sent_mails (
    message_id UUID PRIMARY KEY,
    kind TEXT NOT NULL,          -- the routing key: email.verification, email.password_reset
    sent_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX sent_mails_sent_at_idx ON sent_mails (sent_at);
