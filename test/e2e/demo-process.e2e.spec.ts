import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { seedDemoCatalog } from '../../prisma/demo-catalog';
import { seedDemoEntities } from '../../prisma/demo-entities';
import { FakeAnthropic } from '../../tools/fake-anthropic';
import { startApi, startWorker } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { flushTestRedis } from '../support/redis';
import { bearer, createWorld, login } from '../factories/tenancy';

/**
 * The demo the quick start seeds, run end to end the way a newcomer runs it: the
 * "Candidate screening" PROCESS with its two agents, their skills and every kind of
 * action (LLM, retrieval, builtin, HTTP), against the fake Messages API. The resume
 * reviewer's scoring tool needs a human: the run pauses, an approver approves, and
 * the process completes with every run in its tree completed and its cost rolled up.
 */
describe('the demo "Candidate screening" process', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;
  const anthropic = new FakeAnthropic();

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    const overrides = { ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: await anthropic.start() };
    app = await startApi(db, { overrides });
    await app.listen(0, '127.0.0.1');
    // As in .env.example: the operator lets actions reach the platform itself (the
    // demo's "ATS"), which the egress guard refuses by default.
    const { port } = new URL(await app.getUrl());
    worker = await startWorker(db, { ...overrides, EGRESS_ALLOW_PRIVATE_HOSTS: `127.0.0.1:${port}` });
  });

  afterAll(async () => {
    await worker.close();
    await app.close();
    await anthropic.stop();
    await db.drop();
  });

  const waitFor = async (runId: string, statuses: string[]) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const run = await db.admin.executionRun.findUniqueOrThrow({ where: { id: runId } });
      if (statuses.includes(run.status)) return run;
      if (Date.now() > deadline) throw new Error(`run ${runId} is ${run.status}, not ${statuses.join('/')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('pauses for the scoring approval, then completes with every run of its tree', async () => {
    const world = await createWorld(db.admin);
    const tenant = world.partners[0].tenants[0];
    await seedDemoCatalog(db.admin, world.app.id);
    const processId = await seedDemoEntities(db.admin, tenant.company.id);
    // The demo's ATS call goes to the platform's own health route, on this test's port.
    await db.admin.hierarchicalEntity.updateMany({
      where: { companyId: tenant.company.id, name: 'Notify ATS' },
      data: {
        capabilities: { action: { kind: 'http', method: 'GET', url: `${await app.getUrl()}/health/live` } },
      },
    });
    const member = bearer(await login(app, tenant.users.member.email));
    const approver = bearer(await login(app, tenant.users.approver.email));

    // The model's side of the conversation, in the order the tree asks.
    anthropic.reply(
      { toolUse: [{ name: 'score_candidate', input: { resume: 'Ada: Rust, Postgres, 8 years' } }] },
      { text: 'Rust\nPostgres' }, // extract_skills
      { text: 'Strong candidate.' }, // the reviewer's verdict
      { toolUse: [{ name: 'schedule_interview', input: {} }] },
      { text: 'Interview scheduled.' }, // the scheduler's summary
    );

    const created = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${processId}/runs`,
      headers: member,
      payload: { input: { candidateName: 'Ada', resume: 'Ada: Rust, Postgres, 8 years', role: 'Engineer' } },
    });
    expect(created.statusCode).toBe(202);
    const rootId = created.json<{ id: string }>().id;

    // The reviewer asked for the scoring tool: its run waits for a person, no worker held.
    const pending = await (async () => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const list = await app.inject({
          method: 'GET',
          url: '/api/v1/approvals?status=PENDING',
          headers: approver,
        });
        const items = list.json<{ items: { id: string; runId: string }[] }>().items;
        if (items.length) return items;
        if (Date.now() > deadline) throw new Error('no approval was opened');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    expect(pending).toHaveLength(1);
    expect((await db.admin.executionRun.findUniqueOrThrow({ where: { id: pending[0].runId } })).status).toBe(
      'AWAITING_APPROVAL',
    );
    const approved = await app.inject({
      method: 'POST',
      url: `/api/v1/approvals/${pending[0].id}/approve`,
      headers: approver,
      payload: { notes: 'go ahead' },
    });
    expect(approved.statusCode).toBe(200);

    const root = await waitFor(rootId, ['COMPLETED', 'FAILED']);
    expect({ status: root.status, error: root.errorMessage }).toEqual({ status: 'COMPLETED', error: null });
    const tree = await app.inject({ method: 'GET', url: `/api/v1/runs/${rootId}/tree`, headers: member });
    type Node = { status: string; children: Node[] };
    const statuses: string[] = [];
    const walk = (node: Node) => {
      statuses.push(node.status);
      node.children.forEach(walk);
    };
    walk(tree.json<Node>());
    // process, 2 agents, 2 skills, 4 actions
    expect(statuses).toHaveLength(9);
    expect(new Set(statuses)).toEqual(new Set(['COMPLETED']));
    // Every kind of action left its interaction log; the model calls were priced.
    const tools = await db.admin.toolInteractionLog.findMany({ where: { companyId: tenant.company.id } });
    expect(new Set(tools.map((t) => t.toolKind))).toEqual(new Set(['builtin', 'http', 'retrieval']));
    expect(tools.every((t) => t.status === 'success')).toBe(true);
    expect(await db.admin.llmInteractionLog.count({ where: { companyId: tenant.company.id } })).toBe(5);
    expect(root.totalCostUsd.toNumber()).toBeGreaterThan(0);
  }, 60_000);
});
