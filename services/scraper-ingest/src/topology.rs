//! The job queues and the connection the consumer uses to reach them.
//!
//! Every queue is on the default exchange (`""`, which routes by queue name and exists on every broker), so
//! no exchange needs declaring and stock RabbitMQ suffices (no delayed-message plugin):
//!
//! - `{prefix}scrape.jobs`: the work queue. Consumed with manual acks; a message the consumer rejects
//!   (unreadable, or naming no job) is dead-lettered by the broker to `scrape.jobs.dead`.
//! - `{prefix}scrape.jobs.retry.{n}`: the retry after the n-th failed attempt waits here for its own
//!   jittered delay (the message's `expiration`), then the broker dead-letters it back to the work queue.
//!   One queue per attempt, so a long delay never holds a short one behind it (expiry happens at the head).
//! - `{prefix}scrape.jobs.wait`: a message of a job another worker is running waits here (`busy_recheck_ms`),
//!   then goes back to the work queue to be looked at again.
//! - `{prefix}scrape.jobs.dead`: given-up jobs, the reason in the `x-failure-reason` header. No consumer: an
//!   operator inspects or re-publishes them.
//!
//! No queue has a queue-wide TTL: the delays are per message, so changing them in the configuration never
//! makes a redeclaration fail with different arguments.

use std::time::Duration;

use anyhow::Context as _;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection};
use uuid::Uuid;

use crate::Config;

/// Header of the reason a job was dead-lettered.
pub const REASON_HEADER: &str = "x-failure-reason";
/// Header of the attempts a dead-lettered job had.
pub const ATTEMPTS_HEADER: &str = "x-attempts";
/// AMQP delivery mode of persistent messages (written to disk by durable queues).
const PERSISTENT: u8 = 2;
/// A connection (TCP, handshake, channels) that takes longer counts as failed.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a publish waits for the broker's confirm.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(15);

/// Arguments that dead-letter a queue's rejected or expired messages to `target` through the default exchange.
fn dead_letter_to(target: &str) -> FieldTable {
    let mut args = FieldTable::default();
    // The default exchange delivers to the queue named by the routing key.
    args.insert("x-dead-letter-exchange".into(), AMQPValue::LongString("".into()));
    args.insert("x-dead-letter-routing-key".into(), AMQPValue::LongString(target.into()));
    args
}

async fn declare(channel: &Channel, queue: &str, arguments: FieldTable) -> anyhow::Result<()> {
    let options = QueueDeclareOptions {
        // Create it when missing (a passive declare would only check that it exists).
        passive: false,
        // Survives a broker restart, like the persistent messages in it: no job is lost when RabbitMQ restarts.
        durable: true,
        // Shared by every replica's connection, not owned by this one.
        exclusive: false,
        // Kept while no consumer is attached: jobs enqueued while every worker is down wait for one.
        auto_delete: false,
        // Wait for declare-ok so a failure (e.g. the queue exists with other arguments) surfaces here.
        nowait: false,
    };
    channel.queue_declare(queue.into(), options, arguments).await.with_context(|| format!("cannot declare {queue}"))?;
    Ok(())
}

/// Declares every queue of the topology (idempotent; see the module documentation).
pub async fn declare_all(channel: &Channel, config: &Config) -> anyhow::Result<()> {
    let work = config.work_queue();
    declare(channel, &config.dead_queue(), FieldTable::default()).await?;
    // A message the consumer rejects without requeueing lands in the dead-letter queue (with the broker's
    // `x-death` header saying why) rather than being dropped.
    declare(channel, &work, dead_letter_to(&config.dead_queue())).await?;
    // Expired messages go back to the work queue: that is the delay.
    declare(channel, &config.wait_queue(), dead_letter_to(&work)).await?;
    for failures in 1..config.max_attempts.max(2) {
        declare(channel, &config.retry_queue(failures), dead_letter_to(&work)).await?;
    }
    Ok(())
}

/// One connection to the broker: a channel to consume on and a confirm-mode channel to publish on.
pub struct Link {
    pub connection: Connection,
    pub consume: Channel,
    publish: Channel,
}

impl Link {
    /// Connects and opens both channels within a few seconds.
    pub async fn open(amqp_url: &str) -> anyhow::Result<Self> {
        let open = async { Self::on(iknow_messaging::consume::connect(amqp_url).await?).await };
        tokio::time::timeout(CONNECT_TIMEOUT, open)
            .await
            .map_err(|_| anyhow::anyhow!("cannot connect to RabbitMQ within {} s", CONNECT_TIMEOUT.as_secs()))?
    }

    /// Opens both channels on `connection` (no time limit: the caller sets one).
    pub async fn on(connection: Connection) -> anyhow::Result<Self> {
        let consume = connection.create_channel().await?;
        let publish = connection.create_channel().await?;
        // Publisher confirms: a publish counts only once the broker has taken responsibility for it.
        publish.confirm_select(ConfirmSelectOptions { nowait: false }).await?;
        Ok(Self { connection, consume, publish })
    }

    /// Publishes `body` (JSON) to `queue` as a persistent message that expires (moves on, for the delay
    /// queues) after `expiration`, and waits for the broker's confirm. The message carries `headers` and the
    /// current span's W3C trace context.
    pub async fn publish(
        &self,
        queue: &str,
        body: &[u8],
        headers: &[(&str, String)],
        expiration: Option<Duration>,
    ) -> anyhow::Result<()> {
        let mut table = FieldTable::default();
        for (name, value) in headers {
            table.insert(ShortString::from(*name), AMQPValue::LongString(LongString::from(value.as_str())));
        }
        // The current span's trace context (the job's): the retried or parked delivery continues its trace.
        iknow_messaging::trace::inject_amqp(&mut table);
        let mut properties = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_delivery_mode(PERSISTENT)
            .with_message_id(Uuid::now_v7().to_string().into())
            .with_headers(table);
        if let Some(expiration) = expiration {
            properties = properties.with_expiration(expiration.as_millis().max(1).to_string().into());
        }
        let confirm = async {
            let options = BasicPublishOptions {
                // Every queue of the topology exists (declared before consuming), so no return is needed.
                mandatory: false,
                // Not supported by RabbitMQ.
                immediate: false,
            };
            let confirm = self.publish.basic_publish("".into(), queue.into(), options, body, properties).await?;
            anyhow::Ok(confirm.await?)
        };
        let confirmation = tokio::time::timeout(CONFIRM_TIMEOUT, confirm)
            .await
            .map_err(|_| anyhow::anyhow!("no confirm from RabbitMQ within {} s", CONFIRM_TIMEOUT.as_secs()))??;
        anyhow::ensure!(confirmation.is_ack(), "RabbitMQ refused the message (nack)");
        Ok(())
    }
}

/// Connects once and declares the topology: the outbox relay waits for this before publishing, since the
/// default exchange silently drops a message for a queue that does not exist yet.
pub async fn declare_once(config: &Config) -> anyhow::Result<()> {
    let link = Link::open(config.amqp_url.expose()).await?;
    let declared = declare_all(&link.consume, config).await;
    let _ = link.connection.close(200, "topology declared".into()).await;
    declared
}

/// Deletes every queue of the topology (tests clean up their prefixed queues with it).
pub async fn delete_all(config: &Config) -> anyhow::Result<()> {
    let link = Link::open(config.amqp_url.expose()).await?;
    for queue in config.queues() {
        // Whether or not it is in use or holds messages: the caller is done with it.
        let options = lapin::options::QueueDeleteOptions { if_unused: false, if_empty: false, nowait: false };
        link.consume.queue_delete(queue.as_str().into(), options).await?;
    }
    let _ = link.connection.close(200, "topology deleted".into()).await;
    Ok(())
}
