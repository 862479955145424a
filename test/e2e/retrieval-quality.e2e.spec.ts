import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startApi, startWorker } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ROOT } from '../support/env';
import { waitForQueuesDrained } from '../support/queues';
import { flushTestRedis } from '../support/redis';
import { bearer, createCompany, createUser, login } from '../factories/tenancy';

interface Corpus {
  documents: { id: string; filename: string; text: string }[];
  queries: { id: string; query: string; relevant: string[] }[];
}

const MODES = ['keyword', 'vector', 'hybrid'] as const;

/**
 * Retrieval quality on the labelled corpus the project ships
 * (test/fixtures/retrieval-corpus.json: 40 documents, 30 queries with their relevant
 * documents), with the built-in local embedder: recall@5 per mode. Hybrid must not be
 * worse than the better of keyword and vector.
 */
describe('retrieval quality (recall@5, local embedder)', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    const overrides = { LOGIN_LIMIT_PER_EMAIL: '1000', LOGIN_LIMIT_PER_IP: '1000' };
    app = await startApi(db, { overrides });
    worker = await startWorker(db, overrides);
  });

  afterAll(async () => {
    await worker.close();
    await app.close();
    await db.drop();
  });

  it('finds the relevant documents, hybrid at least as well as the better single mode', async () => {
    const corpus = JSON.parse(
      readFileSync(join(ROOT, 'test/fixtures/retrieval-corpus.json'), 'utf8'),
    ) as Corpus;
    expect(corpus.documents).toHaveLength(40);
    expect(corpus.queries).toHaveLength(30);
    const platform = await createCompany(db.admin, { type: 'APP' });
    const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: platform.id });
    const user = await createUser(db.admin, { companyId: tenant.id, role: 'member' });
    const headers = bearer(await login(app, user.email));

    const idOf = new Map<string, string>();
    for (const document of corpus.documents) {
      const boundary = `----hb${document.id}`;
      const payload = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${document.filename}"\r\n` +
          `Content-Type: text/markdown\r\n\r\n${document.text}\r\n--${boundary}--\r\n`,
      );
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/documents',
        headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload,
      });
      expect(response.statusCode).toBe(202);
      idOf.set(response.json().id, document.id);
    }
    await waitForQueuesDrained(worker, 60_000);
    expect(await db.admin.document.count({ where: { companyId: tenant.id, uploadStatus: 'READY' } })).toBe(
      40,
    );

    const recall: Record<string, number> = {};
    for (const mode of MODES) {
      let sum = 0;
      for (const query of corpus.queries) {
        const response = await app.inject({
          method: 'POST',
          url: '/api/v1/search',
          headers,
          payload: { query: query.query, mode, topK: 5 },
        });
        expect(response.statusCode).toBe(200);
        const found = new Set(
          (response.json().items as { documentId: string }[]).map((hit) => idOf.get(hit.documentId)),
        );
        sum += query.relevant.filter((id) => found.has(id)).length / query.relevant.length;
      }
      recall[mode] = sum / corpus.queries.length;
    }
    // The figures go to the test output (and the README): what each mode finds.
    console.log(
      `recall@5 over ${corpus.queries.length} queries: ${MODES.map((m) => `${m} ${recall[m].toFixed(3)}`).join(', ')}`,
    );
    expect(recall.vector).toBeGreaterThan(0.5);
    expect(recall.hybrid).toBeGreaterThanOrEqual(Math.max(recall.keyword, recall.vector));
  }, 120_000);
});
