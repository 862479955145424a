import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FakeAnthropic } from '../../tools/fake-anthropic';
import { FakeEmbeddings } from '../../tools/fake-embeddings';
import { startApi, startWorker } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { waitForQueuesDrained } from '../support/queues';
import { flushTestRedis } from '../support/redis';
import { createEntity } from '../factories/entities';
import { bearer, createWorld, login, type World } from '../factories/tenancy';

/** A one-page PDF with the given lines of text, its xref offsets computed. */
function pdf(lines: string[]): Buffer {
  const stream = `BT /F1 12 Tf 72 720 Td 14 TL ${lines.map((l) => `(${l}) Tj T*`).join(' ')} ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  body += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

/** A multipart/form-data body, as a browser or curl would send it. */
function multipart(filename: string, content: Buffer, fields: Record<string, string> = {}) {
  const boundary = `----hb${Math.random().toString(16).slice(2)}`;
  const parts = [
    ...Object.entries(fields).map(
      ([name, value]) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
    ),
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  ];
  return {
    payload: Buffer.concat([Buffer.from(parts.join('')), content, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

const paragraph = (topic: string, i: number) =>
  `Section ${i} covers ${topic}. It explains how ${topic} relates to hiring engineers, with details number ${i}. ` +
  `Teams that value ${topic} tend to write it down, review it, and measure it over quarters.`;

describe('knowledge: documents, ingestion and search', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;
  const anthropic = new FakeAnthropic();
  const embeddings = new FakeEmbeddings();
  let embeddingsUrl: string;
  let world: World;
  let a: Record<string, string>;
  let b: Record<string, string>;
  let tenantA: string;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    embeddingsUrl = await embeddings.start();
    const overrides = {
      EGRESS_ALLOW_PRIVATE_HOSTS: new URL(embeddingsUrl).host,
      ANTHROPIC_API_KEY: 'sk-test',
      ANTHROPIC_BASE_URL: await anthropic.start(),
      DOCUMENT_MAX_BYTES: String(64 * 1024),
      CHUNK_SIZE_TOKENS: '80',
      CHUNK_OVERLAP_TOKENS: '10',
      LOGIN_LIMIT_PER_EMAIL: '1000',
      LOGIN_LIMIT_PER_IP: '1000',
    };
    app = await startApi(db, { overrides });
    worker = await startWorker(db, overrides);
    world = await createWorld(db.admin);
    tenantA = world.partners[0].tenants[0].company.id;
    a = bearer(await login(app, world.partners[0].tenants[0].users.member.email));
    b = bearer(await login(app, world.partners[1].tenants[0].users.member.email));
  });

  afterAll(async () => {
    await worker.close();
    await app.close();
    await anthropic.stop();
    await embeddings.stop();
    await db.drop();
  });

  const upload = async (
    headers: object,
    filename: string,
    content: Buffer,
    fields: Record<string, string> = {},
  ) => {
    const body = multipart(filename, content, fields);
    return app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      headers: { ...(headers as Record<string, string>), ...body.headers },
      payload: body.payload,
    });
  };
  const ingest = async (
    headers: object,
    filename: string,
    content: Buffer,
    fields: Record<string, string> = {},
  ) => {
    const response = await upload(headers, filename, content, fields);
    expect(response.statusCode).toBe(202);
    await waitForQueuesDrained(worker, 30_000);
    return (
      await app.inject({
        method: 'GET',
        url: `/api/v1/documents/${response.json().id}`,
        headers: headers as Record<string, string>,
      })
    ).json();
  };
  const search = (headers: object, body: object) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/search',
      headers: headers as Record<string, string>,
      payload: body,
    });

  it('ingests every supported type into searchable chunks', async () => {
    const files: [string, Buffer, string][] = [
      ['notes.txt', Buffer.from('Plain text about kubernetes operators.'), 'kubernetes'],
      ['guide.md', Buffer.from('# Guide\n\nMarkdown about *terraform* modules.'), 'terraform'],
      [
        'page.html',
        Buffer.from('<html><body><h1>Careers</h1><p>We use elixir daily.</p></body></html>'),
        'elixir',
      ],
      ['data.json', Buffer.from(JSON.stringify({ team: { language: 'haskell', size: 4 } })), 'haskell'],
      ['people.csv', Buffer.from('name,skill\nAda,fortran\nGrace,cobol\n'), 'fortran'],
      ['brief.pdf', pdf(['The candidate knows clojure well.', 'Second line of the brief.']), 'clojure'],
    ];
    for (const [filename, content, word] of files) {
      const document = await ingest(a, filename, content);
      expect(document).toMatchObject({ filename, uploadStatus: 'READY', errorMessage: null });
      expect(document.chunkCount).toBeGreaterThan(0);
      expect(document.chunksDone).toBe(document.chunksTotal);
      const found = await search(a, { query: word, mode: 'keyword', topK: 3 });
      expect(found.statusCode).toBe(200);
      expect(found.json().items[0]).toMatchObject({ documentId: document.id, filename, chunkIndex: 0 });
      expect(found.json().items[0].content.toLowerCase()).toContain(word);
    }
  });

  it('fails a corrupt PDF cleanly, and answers 413, 415 and 400 to bad uploads', async () => {
    const broken = await ingest(a, 'broken.pdf', Buffer.from('%PDF-1.7\nthis is not really a pdf at all'));
    expect(broken).toMatchObject({ uploadStatus: 'FAILED', chunkCount: 0 });
    expect(broken.errorMessage).toMatch(/pdf/i);
    const big = await upload(a, 'big.txt', Buffer.alloc(70 * 1024, 'a'));
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('DOCUMENT_TOO_LARGE');
    const png = await upload(a, 'photo.txt', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
    expect(png.statusCode).toBe(415);
    expect((await upload(a, 'tool.exe', Buffer.from('MZ...'))).statusCode).toBe(415);
    const json = await app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      headers: a,
      payload: { file: 'x' },
    });
    expect(json.statusCode).toBe(415);
    expect((await upload(a, 'x.txt', Buffer.from('x'), { entityId: 'nope' })).statusCode).toBe(400);
  });

  it('ingests again after a failed upload: identical bytes retry, a fixed file replaces it', async () => {
    const corrupt = Buffer.from('%PDF-1.7\nthe scanner cut this file short');
    const failed = await ingest(a, 'contract.pdf', corrupt);
    expect(failed).toMatchObject({ uploadStatus: 'FAILED', chunkCount: 0 });

    // Unlike a READY document, a FAILED one is not "already there": the same bytes run again.
    const retried = await ingest(a, 'contract.pdf', corrupt);
    expect(retried).toMatchObject({ id: failed.id, uploadStatus: 'FAILED', chunkCount: 0 });
    expect(new Date(retried.updatedAt).getTime()).toBeGreaterThan(new Date(failed.updatedAt).getTime());

    const fixed = await ingest(
      a,
      'contract.pdf',
      pdf(['Termination requires ninety days notice in writing.']),
    );
    expect(fixed).toMatchObject({ id: failed.id, uploadStatus: 'READY' });
    expect(fixed.chunkCount).toBeGreaterThan(0);
    expect(fixed.errorMessage ?? null).toBeNull();
    const hits = (await search(a, { query: 'termination notice', mode: 'keyword' })).json().items;
    expect(hits.map((hit: { documentId: string }) => hit.documentId)).toContain(failed.id);
  });

  it('re-embeds only the changed chunks of a re-upload, and ignores an identical one', async () => {
    const topics = [
      'testing',
      'design',
      'security',
      'databases',
      'observability',
      'mentoring',
      'hiring',
      'budgets',
    ];
    const text = (changed?: number) =>
      topics.map((t, i) => (i === changed ? paragraph('accessibility', i) : paragraph(t, i))).join('\n\n');
    const first = await ingest(a, 'handbook.md', Buffer.from(text()));
    expect(first.chunkCount).toBeGreaterThan(4);
    expect(first.metadata).toMatchObject({ chunksReused: 0, chunksEmbedded: first.chunkCount });

    const again = await upload(a, 'handbook.md', Buffer.from(text()));
    expect(again.json()).toMatchObject({ id: first.id, updatedAt: first.updatedAt });

    const changed = await ingest(a, 'handbook.md', Buffer.from(text(5)));
    expect(changed.id).toBe(first.id);
    expect(changed.uploadStatus).toBe('READY');
    expect(changed.metadata.chunksEmbedded).toBeGreaterThan(0);
    expect(changed.metadata.chunksEmbedded).toBeLessThanOrEqual(2);
    expect(changed.metadata.chunksReused).toBe(changed.chunkCount - changed.metadata.chunksEmbedded);
    const hits = (await search(a, { query: 'accessibility', mode: 'keyword' })).json().items;
    expect(hits[0].documentId).toBe(first.id);
  });

  it('never returns another tenant’s chunk, even for the same text', async () => {
    const same = Buffer.from(paragraph('quantum annealing', 1));
    const mine = await ingest(a, 'same.txt', same);
    const theirs = await ingest(b, 'same.txt', same);
    for (const mode of ['vector', 'keyword', 'hybrid']) {
      const fromA = (await search(a, { query: 'quantum annealing hiring engineers', mode, topK: 50 })).json()
        .items;
      const fromB = (await search(b, { query: 'quantum annealing hiring engineers', mode, topK: 50 })).json()
        .items;
      expect(fromA.map((h: { documentId: string }) => h.documentId)).toContain(mine.id);
      expect(fromA.map((h: { documentId: string }) => h.documentId)).not.toContain(theirs.id);
      expect(fromB.map((h: { documentId: string }) => h.documentId)).toEqual([theirs.id]);
    }
    expect(
      (await app.inject({ method: 'GET', url: `/api/v1/documents/${mine.id}`, headers: b })).statusCode,
    ).toBe(404);
  });

  it('ranks by vector, keyword and hybrid, returns topK rows when that many exist, and filters by document', async () => {
    for (const mode of ['vector', 'hybrid']) {
      const items = (await search(a, { query: 'anything at all', mode, topK: 7 })).json().items;
      expect(items).toHaveLength(7);
      const scores = items.map((h: { score: number }) => h.score);
      expect([...scores].sort((x, y) => y - x)).toEqual(scores);
    }
    const only = await db.admin.document.findFirstOrThrow({
      where: { companyId: tenantA, filename: 'handbook.md' },
    });
    const filtered = (await search(a, { query: 'teams', topK: 50, documentIds: [only.id] })).json().items;
    expect(filtered.length).toBeGreaterThan(0);
    expect(new Set(filtered.map((h: { documentId: string }) => h.documentId))).toEqual(new Set([only.id]));
    expect((await search(a, { query: '', mode: 'vector' })).statusCode).toBe(400);
    expect((await search(a, { query: 'x', mode: 'psychic' })).statusCode).toBe(400);
  });

  it('keeps an entity’s documents to that entity; deleting a document deletes its chunks', async () => {
    const entity = await createEntity(db.admin, { companyId: tenantA, type: 'ACTION', status: 'ACTIVE' });
    const doc = await ingest(a, 'private.txt', Buffer.from('The zanzibar protocol is internal.'), {
      entityId: entity.id,
    });
    expect(doc.entityId).toBe(entity.id);
    expect((await search(a, { query: 'zanzibar', mode: 'keyword' })).json().items).toEqual([]);
    const scoped = (await search(a, { query: 'zanzibar', mode: 'keyword', entityId: entity.id })).json()
      .items;
    expect(scoped.map((h: { documentId: string }) => h.documentId)).toEqual([doc.id]);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/documents/${doc.id}`, headers: a })).statusCode,
    ).toBe(204);
    expect(await db.admin.documentChunk.count({ where: { documentId: doc.id } })).toBe(0);
  });

  it('serves retrieval ACTIONs and an agent’s search_knowledge tool, logged as tool calls', async () => {
    const retrieval = await createEntity(db.admin, {
      companyId: tenantA,
      type: 'ACTION',
      status: 'ACTIVE',
      capabilities: { action: { kind: 'retrieval', query: '{{input.q}}', topK: 2 } },
    });
    const created = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${retrieval.id}/runs`,
      headers: a,
      payload: { input: { q: 'terraform modules' } },
    });
    await waitForQueuesDrained(worker, 30_000);
    const run = (
      await app.inject({ method: 'GET', url: `/api/v1/runs/${created.json().id}`, headers: a })
    ).json();
    expect(run.status).toBe('COMPLETED');
    expect(run.resultData).toHaveLength(2);
    expect(run.resultData[0]).toMatchObject({ filename: 'guide.md', chunkIndex: 0 });
    const [log] = (
      await app.inject({ method: 'GET', url: `/api/v1/runs/${run.id}/tool-logs`, headers: a })
    ).json().items;
    expect(log).toMatchObject({ toolName: 'search_knowledge', toolKind: 'retrieval' });

    const agent = await db.admin.hierarchicalEntity.create({
      data: {
        companyId: tenantA,
        type: 'AGENT',
        name: `reader-${Math.random()}`,
        status: 'ACTIVE',
        capabilities: { model: { name: 'claude-sonnet-5-5', maxTokens: 64 }, knowledge: { topK: 3 } },
      },
    });
    anthropic.reply(
      { toolUse: [{ name: 'search_knowledge', input: { query: 'elixir' } }] },
      { text: 'They use elixir.' },
    );
    const before = anthropic.requests.length;
    const agentRun = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${agent.id}/runs`,
      headers: a,
      payload: { input: { question: 'What language?' } },
    });
    await waitForQueuesDrained(worker, 30_000);
    const done = (
      await app.inject({ method: 'GET', url: `/api/v1/runs/${agentRun.json().id}`, headers: a })
    ).json();
    expect(done).toMatchObject({ status: 'COMPLETED', resultData: 'They use elixir.' });
    const offered = anthropic.requests[before].body.tools as { name: string }[];
    expect(offered.map((t) => t.name)).toContain('search_knowledge');
    expect(JSON.stringify(anthropic.requests.at(-1)!.body.messages.at(-1))).toContain('We use elixir daily');
  });

  it('embeds through a provider from the registry, bills it, and re-embeds when the provider changes', async () => {
    const tenantB = world.partners[1].tenants[0];
    const admin = bearer(await login(app, tenantB.users.tenant_admin.email));
    const before = await db.admin.document.findFirstOrThrow({ where: { companyId: tenantB.company.id } });
    expect(before.metadata).toMatchObject({ embedder: 'local-lexical-v1' });
    embeddings.failures = [429];
    const row = await app.inject({
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
        apiKey: 'sk-embed-canary-42',
        baseUrl: embeddingsUrl,
      },
    });
    expect(row.statusCode).toBe(201);
    await waitForQueuesDrained(worker, 30_000);
    // The company's existing document was embedded again by the provider (after a 429).
    const reembedded = await db.admin.document.findUniqueOrThrow({ where: { id: before.id } });
    expect(reembedded).toMatchObject({
      uploadStatus: 'READY',
      metadata: { embedder: 'openai/text-embedding-3-large' },
    });
    const first = embeddings.requests[0];
    expect(first.headers.authorization).toBe('Bearer sk-embed-canary-42');
    expect(first.body).toMatchObject({ model: 'text-embedding-3-large', dimensions: 1024 });
    expect(embeddings.requests.length).toBeGreaterThanOrEqual(2);

    const doc = await ingest(b, 'provider.txt', Buffer.from(paragraph('distributed tracing', 3)));
    expect(doc.metadata).toMatchObject({
      embedder: 'openai/text-embedding-3-large',
      chunksEmbedded: doc.chunkCount,
    });
    const usage = await db.admin.usageLog.findMany({
      where: { companyId: tenantB.company.id, serviceSku: 'openai/text-embedding-3-large' },
    });
    expect(usage.length).toBeGreaterThanOrEqual(2);
    expect(usage.every((u) => u.runId === null && u.calculatedCost.gt(0))).toBe(true);

    const searched = embeddings.requests.length;
    const hits = (await search(b, { query: 'distributed tracing', mode: 'vector', topK: 3 })).json().items;
    expect(hits[0].documentId).toBe(doc.id);
    expect(embeddings.requests.length).toBe(searched + 1);
    expect(embeddings.requests.at(-1)!.body.input).toEqual(['distributed tracing']);

    // Voyage speaks the same route with its own parameters.
    const tenantC = world.partners[0].tenants[1];
    const voyageAdmin = bearer(await login(app, tenantC.users.tenant_admin.email));
    await app.inject({
      method: 'POST',
      url: '/api/v1/integrations',
      headers: voyageAdmin,
      payload: {
        providerName: 'voyage',
        modelName: 'voyage-3.5',
        serviceSku: 'voyage/voyage-3.5',
        componentType: 'embedding',
        internalCost: '0.06',
        costUnit: '1M_tokens',
        apiKey: 'pa-voyage-key-1234',
        baseUrl: embeddingsUrl,
      },
    });
    await ingest(voyageAdmin, 'voyage.txt', Buffer.from('Voyage embeds this.'));
    expect(embeddings.requests.at(-1)!.body).toMatchObject({
      model: 'voyage-3.5',
      output_dimension: 1024,
      input_type: 'document',
    });
  });
});
