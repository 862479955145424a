import { createHash } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentsRepository } from '../../src/knowledge/documents.repository';
import type { TenantScope } from '../../src/infra/database/tenant-scope';
import { startApi } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createCompany } from '../factories/tenancy';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
/** A 1024-dimension vector literal, as the ingestion worker hands it over. */
const vector = (seed: number) =>
  `[${Array.from({ length: 1024 }, (_, i) => (i === seed % 1024 ? 1 : 0)).join(',')}]`;

/**
 * An ingestion job belongs to one upload (its content hash). A job that finishes after
 * the document was uploaded again, or that fails late, must not overwrite the newer
 * upload: the repository locks the document row and writes only while it still holds
 * the job's upload.
 */
describe('an ingestion job for an upload that is no longer current', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let documents: DocumentsRepository;
  let scope: TenantScope;
  let companyId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startApi(db);
    documents = app.get(DocumentsRepository);
    const platform = await createCompany(db.admin, { type: 'APP' });
    companyId = (await createCompany(db.admin, { type: 'TENANT', parentId: platform.id })).id;
    scope = { companyIds: [companyId] };
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  const upload = (text: string) =>
    db.admin.document.create({
      data: {
        companyId,
        filename: 'notes.txt',
        mimeType: 'text/plain',
        sizeBytes: text.length,
        contentHash: sha(text),
        content: Buffer.from(text),
        uploadStatus: 'PROCESSING',
      },
    });
  const chunksOf = (text: string) => [
    {
      index: 0,
      content: text,
      tokenCount: 3,
      contentHash: sha(`chunk:${text}`),
      embedding: vector(text.length),
    },
  ];

  it('stores nothing when the document holds a newer upload, and the current job still lands', async () => {
    const document = await upload('version one');
    // Uploaded again while the first job was embedding.
    await db.admin.document.update({ where: { id: document.id }, data: { contentHash: sha('version two') } });

    const stale = await documents.replaceChunks(scope, document, chunksOf('version one'), 'local', {});
    expect(stale).toBe(false);
    expect(await db.admin.documentChunk.count({ where: { documentId: document.id } })).toBe(0);
    expect((await db.admin.document.findUniqueOrThrow({ where: { id: document.id } })).uploadStatus).toBe(
      'PROCESSING',
    );

    const current = { ...document, contentHash: sha('version two') };
    expect(await documents.replaceChunks(scope, current, chunksOf('version two'), 'local', {})).toBe(true);
    const chunks = await db.admin.documentChunk.findMany({ where: { documentId: document.id } });
    expect(chunks.map((c) => c.content)).toEqual(['version two']);
    expect((await db.admin.document.findUniqueOrThrow({ where: { id: document.id } })).uploadStatus).toBe(
      'READY',
    );
  });

  it("ignores a late failure of an older upload's job: the newer upload's chunks stay", async () => {
    const document = await upload('first text');
    const current = { ...document, contentHash: sha('second text') };
    await db.admin.document.update({
      where: { id: document.id },
      data: { contentHash: current.contentHash },
    });
    await documents.replaceChunks(scope, current, chunksOf('second text'), 'local', {});

    await documents.fail(scope, document.id, document.contentHash, 'the old job broke');
    const after = await db.admin.document.findUniqueOrThrow({ where: { id: document.id } });
    expect({ status: after.uploadStatus, error: after.errorMessage }).toEqual({
      status: 'READY',
      error: null,
    });
    expect(await db.admin.documentChunk.count({ where: { documentId: document.id } })).toBe(1);

    // The current upload's own failure does clear it: nothing half-stored stays.
    await documents.fail(scope, document.id, current.contentHash, 'broken');
    const failed = await db.admin.document.findUniqueOrThrow({ where: { id: document.id } });
    expect({ status: failed.uploadStatus, error: failed.errorMessage }).toEqual({
      status: 'FAILED',
      error: 'broken',
    });
    expect(await db.admin.documentChunk.count({ where: { documentId: document.id } })).toBe(0);
  });
});
