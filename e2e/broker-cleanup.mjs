// Deletes the RabbitMQ exchanges and durable queues a platform started by scripts/lib/platform.sh declared
// under its per-run prefix (AMQP has no listing, so the names are the ones the services derive):
//   node e2e/broker-cleanup.mjs AMQP_URL PREFIX
// Deleting a queue or exchange that does not exist is no error.

import amqp from "amqplib";

const [url, prefix] = process.argv.slice(2);
if (!url || !prefix || !/^iknow-e2e-[0-9a-f]+$/.test(prefix)) {
  console.error("usage: node e2e/broker-cleanup.mjs AMQP_URL iknow-e2e-<suffix>");
  process.exit(2);
}

const exchanges = ["catalog.events", "identity.events", "notifications"].map((x) => `${prefix}.${x}`);
const queues = [
  // user-identity's mailer (its queue, then its dead letters)
  `${prefix}.notifications.mailer`,
  `${prefix}.notifications.mailer.dead`,
  // the library's consumer of account deletions
  `${prefix}.identity.events.library.user-deleted`,
  // the ingest's job queues (one retry queue per failed attempt, max_attempts - 1 of them)
  ...["scrape.jobs", "scrape.jobs.dead", "scrape.jobs.wait"].map((q) => `${prefix}.${q}`),
  ...Array.from({ length: 20 }, (_, i) => `${prefix}.scrape.jobs.retry.${i + 1}`),
];

const connection = await amqp.connect(url);
try {
  const channel = await connection.createChannel();
  for (const q of queues) await channel.deleteQueue(q);
  for (const x of exchanges) await channel.deleteExchange(x);
  await channel.close();
} finally {
  await connection.close();
}
