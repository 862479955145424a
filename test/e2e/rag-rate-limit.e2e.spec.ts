import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FakeEmbeddings } from '../../tools/fake-embeddings';
import { startApi, startWorker } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { waitForQueuesDrained } from '../support/queues';
import { flushTestRedis } from '../support/redis';
import { bearer, createWorld, login } from '../factories/tenancy';

const RATE = 4; // EMBEDDING_REQUESTS_PER_SECOND
const GAP_MS = 1000 / RATE;

/** A document of `n` paragraphs, each its own chunk at 40 tokens per chunk. */
const document = (topic: string, n: number) =>
  Array.from(
    { length: n },
    (_, i) =>
      `Paragraph ${i} about ${topic}: the team measured ${topic} every week and wrote down what changed, ` +
      `why it changed, and who reviewed it before the quarter ended.`,
  ).join('\n\n');

describe('knowledge: embedding requests are rate-limited per worker process', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;
  const embeddings = new FakeEmbeddings();
  /** When each request reached the fake provider. */
  const arrivals: number[] = [];

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    const url = await embeddings.start();
    // The fake server records each request by pushing it; its arrival time is recorded beside.
    const record = embeddings.requests.push.bind(embeddings.requests);
    embeddings.requests.push = (...items) => {
      arrivals.push(performance.now());
      return record(...items);
    };
    const overrides = {
      EGRESS_ALLOW_PRIVATE_HOSTS: new URL(url).host,
      EMBEDDING_REQUESTS_PER_SECOND: String(RATE),
      EMBEDDING_BATCH_SIZE: '1',
      CHUNK_SIZE_TOKENS: '40',
      CHUNK_OVERLAP_TOKENS: '0',
      INGESTION_CONCURRENCY: '2',
      LOGIN_LIMIT_PER_EMAIL: '1000',
      LOGIN_LIMIT_PER_IP: '1000',
    };
    app = await startApi(db, { overrides });
    worker = await startWorker(db, overrides);
    const world = await createWorld(db.admin);
    const tenant = world.partners[0].tenants[0];
    const admin = bearer(await login(app, tenant.users.tenant_admin.email));
    const integration = await app.inject({
      method: 'POST',
      url: '/api/v1/integrations',
      headers: admin,
      payload: {
        providerName: 'openai',
        modelName: 'text-embedding-3-large',
        serviceSku: 'openai/text-embedding-3-large',
        componentType: 'embedding',
        internalCost: '0.13',
        costUnit: '1M_tokens',
        apiKey: 'sk-embed-rate',
        baseUrl: url,
      },
    });
    expect(integration.statusCode).toBe(201);
    await waitForQueuesDrained(worker, 30_000);
    // Two documents at once: two ingestion jobs embed concurrently, one chunk per request.
    for (const [name, topic] of [
      ['latency.md', 'latency'],
      ['hiring.md', 'hiring'],
    ]) {
      const boundary = `----hb${name}`;
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/documents',
        headers: { ...admin, 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload:
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
          `Content-Type: text/markdown\r\n\r\n${document(topic, 5)}\r\n--${boundary}--\r\n`,
      });
      expect(response.statusCode).toBe(202);
    }
    await waitForQueuesDrained(worker, 30_000);
  });

  afterAll(async () => {
    await worker.close();
    await app.close();
    await embeddings.stop();
    await db.drop();
  });

  it('starts at most EMBEDDING_REQUESTS_PER_SECOND requests a second across concurrent jobs', async () => {
    const ready = await db.admin.document.findMany({ where: { uploadStatus: 'READY' } });
    expect(ready).toHaveLength(2);
    expect(ready.every((d) => (d.metadata as { embedder?: string }).embedder?.startsWith('openai/'))).toBe(
      true,
    );
    // One request per chunk (batch size 1) of both documents.
    expect(arrivals.length).toBe(ready.reduce((n, d) => n + d.chunksTotal, 0));
    expect(arrivals.length).toBeGreaterThanOrEqual(8);
    // Starts are 1000 / rate ms apart. Arrivals at the local server may drift from
    // their starts by scheduling jitter, so the checks leave it a little room: no second
    // holds more than one extra request, and the whole run cannot be shorter than the rate allows.
    const inAnySecond = Math.max(
      ...arrivals.map((at) => arrivals.filter((t) => t >= at && t < at + 1000).length),
    );
    expect(inAnySecond).toBeLessThanOrEqual(RATE + 1);
    expect(arrivals.at(-1)! - arrivals[0]).toBeGreaterThanOrEqual((arrivals.length - 1) * GAP_MS - 100);
  });
});
