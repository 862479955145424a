import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getQueueToken } from '@nestjs/bullmq';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import { verifyWebhook } from '../../src/approvals/webhook-signature';
import { Reconciler } from '../../src/execution/engine/reconciler';
import type { Prisma } from '../../src/infra/database/generated/client';
import { ALL_QUEUES } from '../../src/infra/queue/queue-names';
import { FakeAnthropic } from '../../tools/fake-anthropic';
import { startApi, startWorker } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { waitForQueuesDrained } from '../support/queues';
import { flushTestRedis } from '../support/redis';
import { createEntity } from '../factories/entities';
import { bearer, createWorld, login, type World } from '../factories/tenancy';

const SECRET = 'channel-secret-for-tests-0123456789';

describe('human approvals', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;
  const anthropic = new FakeAnthropic();
  let receiver: Server;
  let hookUrl = '';
  const hooks: { headers: IncomingHttpHeaders; body: string }[] = [];
  let flaky = 0;
  let world: World;
  let tenantId: string;
  let h: Record<'member' | 'approver' | 'admin' | 'other', Record<string, string>>;
  let overrides: Record<string, string>;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        hooks.push({ headers: request.headers, body });
        // /flaky fails its first delivery: the retry (with backoff) must get through.
        response.writeHead(request.url === '/flaky' && flaky++ === 0 ? 500 : 204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    overrides = {
      ANTHROPIC_API_KEY: 'sk-test',
      ANTHROPIC_BASE_URL: await anthropic.start(),
      EGRESS_ALLOW_PRIVATE_HOSTS: new URL(hookUrl).host,
      LOGIN_LIMIT_PER_EMAIL: '1000',
      LOGIN_LIMIT_PER_IP: '1000',
    };
    app = await startApi(db, { overrides });
    worker = await startWorker(db, overrides);
    world = await createWorld(db.admin);
    const tenant = world.partners[0].tenants[0];
    tenantId = tenant.company.id;
    const as = async (email: string) => bearer(await login(app, email));
    h = {
      member: await as(tenant.users.member.email),
      approver: await as(tenant.users.approver.email),
      admin: await as(tenant.users.tenant_admin.email),
      other: await as(world.partners[1].tenants[0].users.tenant_admin.email),
    };
  });

  afterAll(async () => {
    await worker.close();
    await app.close();
    await anthropic.stop();
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
    await db.drop();
  });

  const api = (method: 'GET' | 'POST', url: string, headers: object, payload?: object) =>
    app.inject({ method, url: `/api/v1${url}`, headers: headers as Record<string, string>, payload });
  const drain = () => waitForQueuesDrained(worker, 30_000);
  const start = async (entityId: string, input: unknown = {}) => {
    const created = await api('POST', `/entities/${entityId}/runs`, h.member, { input });
    expect(created.statusCode).toBe(202);
    await drain();
    return created.json().id as string;
  };
  const runOf = async (id: string) => (await api('GET', `/runs/${id}`, h.member)).json();
  const approvalOf = async (runId: string) => {
    const list = await api('GET', `/approvals?runId=${runId}&status=PENDING`, h.approver);
    expect(list.statusCode).toBe(200);
    return list.json().items[0] as {
      id: string;
      checkpoint: string;
      contextSnapshot: Record<string, unknown>;
    };
  };
  const toolCalls = async (runId: string) => db.admin.toolInteractionLog.count({ where: { runId } });
  /** No job of any queue is waiting, active or delayed for this run. */
  const jobsFor = async (runId: string) => {
    let count = 0;
    for (const name of ALL_QUEUES) {
      const queue = worker.get<Queue>(getQueueToken(name), { strict: false });
      const jobs = await queue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
      count += jobs.filter((job) => (job.data as { runId?: string }).runId === runId).length;
    }
    return count;
  };
  const action = (
    governance: Prisma.InputJsonObject,
    extra: Partial<Prisma.HierarchicalEntityUncheckedCreateInput> = {},
  ) =>
    db.admin.hierarchicalEntity.create({
      data: {
        companyId: tenantId,
        type: 'ACTION',
        name: `act-${Math.random()}`,
        status: 'ACTIVE',
        capabilities: {
          action: { kind: 'builtin', name: 'text.template', args: { template: 'hi {{input.name}}' } },
        },
        governance,
        ...extra,
      },
    });

  it('pauses before a run without holding a job, notifies its channels, and resumes once on approval', async () => {
    const entity = await action({
      approvals: [
        {
          trigger: 'before_run',
          channels: [
            { type: 'webhook', url: hookUrl, secret: SECRET },
            { type: 'email', to: ['reviewers@example.com'] },
          ],
        },
      ],
    });
    const runId = await start(entity.id, { name: 'Ada' });
    expect((await runOf(runId)).status).toBe('AWAITING_APPROVAL');
    expect(await jobsFor(runId)).toBe(0);
    expect(await toolCalls(runId)).toBe(0);

    const approval = await approvalOf(runId);
    expect(approval.checkpoint).toBe('before_run');
    expect(approval.contextSnapshot).toMatchObject({
      input: { name: 'Ada' },
      costSoFarUsd: '0.000000',
      pending: { kind: 'run', arguments: { name: 'Ada' } },
    });
    // The webhook arrived signed; the email is in the outbox.
    const hook = hooks.find((x) => x.body.includes(approval.id))!;
    expect(JSON.parse(hook.body)).toMatchObject({
      event: 'approval.requested',
      approval: { id: approval.id },
    });
    expect(verifyWebhook(SECRET, hook.body, String(hook.headers['x-hirebuddha-signature']))).toBe(true);
    const deliveries = await db.admin.webhookDelivery.findMany({ where: { approvalId: approval.id } });
    expect(deliveries).toEqual([
      expect.objectContaining({ status: 'delivered', attempts: 1, lastStatusCode: 204 }),
    ]);
    expect(await db.admin.mailOutbox.count({ where: { toAddress: 'reviewers@example.com' } })).toBe(1);

    // Scope before role; a member may not answer; bad input changes nothing.
    expect((await api('POST', `/approvals/${approval.id}/approve`, h.other, {})).statusCode).toBe(404);
    expect((await api('POST', `/approvals/${approval.id}/approve`, h.member, {})).statusCode).toBe(403);
    expect(
      (await api('POST', `/approvals/${approval.id}/approve`, h.approver, { bogus: 1 })).statusCode,
    ).toBe(400);
    expect(
      (await api('POST', `/approvals/${approval.id}/approve`, h.approver, { editedOutput: 'x' })).json().code,
    ).toBe('EDIT_NOT_APPLICABLE');

    const approved = await api('POST', `/approvals/${approval.id}/approve`, h.approver, { notes: 'fine' });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({
      status: 'APPROVED',
      reviewerNotes: 'fine',
      respondedBy: expect.any(String),
    });
    await drain();
    expect(await runOf(runId)).toMatchObject({ status: 'COMPLETED', resultData: 'hi Ada' });
    expect(await toolCalls(runId)).toBe(1);
    const again = await api('POST', `/approvals/${approval.id}/approve`, h.approver, {});
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('APPROVAL_ALREADY_ANSWERED');
    const events = await db.admin.runEvent.findMany({ where: { runId }, orderBy: { id: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['approval.requested', 'approval.resolved']),
    );
    expect(hooks.some((x) => x.body.includes('approval.resolved') && x.body.includes(approval.id))).toBe(
      true,
    );
  });

  it('retries a webhook the receiver refused, with backoff, and logs every attempt', async () => {
    const flakyUrl = hookUrl.replace('/hook', '/flaky');
    const entity = await action({
      approvals: [{ trigger: 'before_run', channels: [{ type: 'webhook', url: flakyUrl, secret: SECRET }] }],
    });
    const runId = await start(entity.id);
    const approval = await approvalOf(runId);
    const [delivery] = await db.admin.webhookDelivery.findMany({ where: { approvalId: approval.id } });
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 204 });
    const attempts = hooks.filter((x) => x.body.includes(approval.id));
    expect(attempts).toHaveLength(2);
    expect(attempts[0].body).toBe(attempts[1].body);
    expect(attempts[0].headers['x-hirebuddha-delivery']).toBe(delivery.id);
  });

  it('sends notifications whose jobs were lost: the reconciler finds their outbox rows', async () => {
    const entity = await action({
      approvals: [{ trigger: 'before_run', channels: [{ type: 'webhook', url: hookUrl, secret: SECRET }] }],
    });
    const runId = await start(entity.id);
    const approval = await approvalOf(runId);
    // As if the process died between the commit and the enqueue: rows without jobs.
    const delivery = await db.admin.webhookDelivery.create({
      data: {
        companyId: tenantId,
        approvalId: approval.id,
        event: 'approval.requested',
        url: hookUrl,
        payload: { event: 'approval.requested', approval: { id: approval.id, lost: true } },
        createdAt: new Date(Date.now() - 120_000),
      },
    });
    const mail = await db.admin.mailOutbox.create({
      data: {
        toAddress: 'lost@example.com',
        subject: 's',
        text: 't',
        html: 'h',
        createdAt: new Date(Date.now() - 120_000),
      },
    });
    const before = hooks.length;
    const report = await worker.get(Reconciler, { strict: false }).reconcile(60_000);
    expect(report.notificationsRequeued).toBeGreaterThanOrEqual(2);
    await drain();
    expect(await db.admin.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject({
      status: 'delivered',
    });
    expect(hooks.slice(before).some((x) => x.body.includes('"lost":true'))).toBe(true);
    expect((await db.admin.mailOutbox.findUniqueOrThrow({ where: { id: mail.id } })).status).not.toBe(
      'pending',
    );
  });

  it('lets exactly one of 50 concurrent answers win, and the run resumes once', async () => {
    const entity = await action({ approvals: [{ trigger: 'before_run' }] });
    const runId = await start(entity.id, { name: 'Race' });
    const approval = await approvalOf(runId);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api(
          'POST',
          `/approvals/${approval.id}/${i % 5 === 4 ? 'reject' : 'approve'}`,
          i % 2 ? h.admin : h.approver,
          {},
        ),
      ),
    );
    const codes = answers.map((a) => a.statusCode);
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(49);
    await drain();
    const final = await runOf(runId);
    const winner = answers.find((a) => a.statusCode === 200)!.json();
    expect(final.status).toBe(winner.status === 'APPROVED' ? 'COMPLETED' : 'REJECTED');
    expect(await toolCalls(runId)).toBe(winner.status === 'APPROVED' ? 1 : 0);
    expect(await db.admin.runEvent.count({ where: { runId, type: 'approval.resolved' } })).toBe(1);
  });

  it('refuses an approver who lost the role', async () => {
    const entity = await action({ approvals: [{ trigger: 'before_run' }] });
    const runId = await start(entity.id);
    const approval = await approvalOf(runId);
    const approver = world.partners[0].tenants[0].users.approver;
    await db.admin.user.update({ where: { id: approver.id }, data: { role: 'member' } });
    expect((await api('POST', `/approvals/${approval.id}/approve`, h.approver, {})).statusCode).toBe(403);
    await db.admin.user.update({ where: { id: approver.id }, data: { role: 'approver' } });
    expect(
      (await api('POST', `/approvals/${approval.id}/reject`, h.approver, { notes: 'no' })).statusCode,
    ).toBe(200);
    await drain();
    expect(await runOf(runId)).toMatchObject({ status: 'REJECTED', errorCode: 'APPROVAL_REJECTED' });
  });

  describe('an agent’s tool calls', () => {
    const agent = async () => {
      const parent = await db.admin.hierarchicalEntity.create({
        data: {
          companyId: tenantId,
          type: 'AGENT',
          name: `agent-${Math.random()}`,
          status: 'ACTIVE',
          planning: { strategy: 'react', maxIterations: 4 },
          capabilities: { model: { name: 'claude-sonnet-5-5', maxTokens: 128 } },
          governance: { approvals: [{ trigger: 'before_tool', match: 'lookup' }] },
        },
      });
      await db.admin.hierarchicalEntity.create({
        data: {
          companyId: tenantId,
          parentId: parent.id,
          type: 'ACTION',
          name: `lookup-${Math.random()}`,
          status: 'ACTIVE',
          hierarchy: { alias: 'lookup' },
          ioContract: {
            input: {
              type: 'object',
              properties: { q: { type: 'string' } },
              required: ['q'],
              additionalProperties: false,
            },
          },
          capabilities: {
            action: { kind: 'builtin', name: 'text.template', args: { template: 'found {{input.q}}' } },
          },
        },
      });
      return parent;
    };

    it('holds a tool call for approval; an edit changes the call and no earlier turn is repeated', async () => {
      anthropic.reply({ toolUse: [{ name: 'lookup', input: { q: 'cats' } }] }, { text: 'done' });
      const before = anthropic.requests.length;
      const runId = await start((await agent()).id, { task: 'find' });
      expect((await runOf(runId)).status).toBe('AWAITING_APPROVAL');
      expect(anthropic.requests.length - before).toBe(1);
      expect(await db.admin.executionRun.count({ where: { parentRunId: runId } })).toBe(0);
      const approval = await approvalOf(runId);
      expect(approval.contextSnapshot.pending).toMatchObject({
        kind: 'tool',
        name: 'lookup',
        arguments: { q: 'cats' },
      });

      const invalid = await api('POST', `/approvals/${approval.id}/approve`, h.approver, {
        editedInput: { q: 7 },
      });
      expect(invalid.statusCode).toBe(422);
      expect(invalid.json().code).toBe('EDIT_VIOLATES_CONTRACT');
      const ok = await api('POST', `/approvals/${approval.id}/approve`, h.approver, {
        editedInput: { q: 'dogs' },
      });
      expect(ok.statusCode).toBe(200);
      await drain();
      expect(await runOf(runId)).toMatchObject({ status: 'COMPLETED', resultData: 'done' });
      expect(anthropic.requests.length - before).toBe(2);
      const [child] = await db.admin.executionRun.findMany({ where: { parentRunId: runId } });
      expect(child).toMatchObject({ inputData: { q: 'dogs' }, resultData: 'found dogs' });
      const toolResult = JSON.stringify(anthropic.requests.at(-1)!.body.messages.at(-1));
      expect(toolResult).toContain('found dogs');
    });

    it('gives the agent a rejection as the tool result, and it carries on', async () => {
      anthropic.reply({ toolUse: [{ name: 'lookup', input: { q: 'secrets' } }] }, { text: 'understood' });
      const runId = await start((await agent()).id);
      const approval = await approvalOf(runId);
      await api('POST', `/approvals/${approval.id}/reject`, h.approver, { notes: 'not that' });
      await drain();
      expect(await runOf(runId)).toMatchObject({ status: 'COMPLETED', resultData: 'understood' });
      expect(await db.admin.executionRun.count({ where: { parentRunId: runId } })).toBe(0);
      const last = JSON.stringify(anthropic.requests.at(-1)!.body.messages.at(-1));
      expect(last).toContain('did not allow');
      expect(last).toContain('not that');
    });
  });

  it('holds a child step, its parent waits, and a rejection ends the process', async () => {
    const processEntity = await db.admin.hierarchicalEntity.create({
      data: {
        companyId: tenantId,
        type: 'PROCESS',
        name: `p-${Math.random()}`,
        status: 'ACTIVE',
        planning: { strategy: 'sequential' },
      },
    });
    const skill = await db.admin.hierarchicalEntity.create({
      data: {
        companyId: tenantId,
        parentId: processEntity.id,
        type: 'SKILL',
        name: `s-${Math.random()}`,
        status: 'ACTIVE',
        hierarchy: { alias: 'review' },
        planning: { strategy: 'sequential' },
        governance: { approvals: [{ trigger: 'before_child', match: 'second' }] },
      },
    });
    for (const [alias, order] of [
      ['first', 1],
      ['second', 2],
    ] as const)
      await createEntity(db.admin, {
        companyId: tenantId,
        type: 'ACTION',
        status: 'ACTIVE',
        parentId: skill.id,
        hierarchy: { alias, order },
        capabilities: { action: { kind: 'builtin', name: 'text.template', args: { template: alias } } },
      });
    const runId = await start(processEntity.id);
    const [skillRun] = await db.admin.executionRun.findMany({ where: { parentRunId: runId } });
    expect(skillRun.status).toBe('AWAITING_APPROVAL');
    expect((await runOf(runId)).status).toBe('WAITING_CHILDREN');
    const steps = await db.admin.executionRun.findMany({ where: { parentRunId: skillRun.id } });
    expect(steps.map((s) => s.status)).toEqual(['COMPLETED']);
    const approval = await approvalOf(skillRun.id);
    expect(approval.contextSnapshot.pending).toMatchObject({ kind: 'child', name: 'second' });
    await api('POST', `/approvals/${approval.id}/reject`, h.approver, {});
    await drain();
    expect((await db.admin.executionRun.findUniqueOrThrow({ where: { id: skillRun.id } })).status).toBe(
      'REJECTED',
    );
    expect(await runOf(runId)).toMatchObject({ status: 'FAILED', errorCode: 'CHILD_FAILED' });
  });

  it('pauses when the cost so far passes a threshold, before the next model call', async () => {
    await db.admin.integrationRegistry.create({
      data: {
        companyId: world.app.id,
        providerName: 'anthropic',
        modelName: 'claude-sonnet-5-5',
        serviceSku: 'anthropic/claude-sonnet-5-5:output',
        componentType: 'llm',
        internalCost: '15',
        costUnit: 'TOKENS_1M',
      },
    });
    const parent = await db.admin.hierarchicalEntity.create({
      data: {
        companyId: tenantId,
        type: 'AGENT',
        name: `spender-${Math.random()}`,
        status: 'ACTIVE',
        capabilities: { model: { name: 'claude-sonnet-5-5', maxTokens: 64 } },
        governance: { approvals: [{ trigger: 'cost_above', thresholdUsd: '0.00001' }] },
      },
    });
    await createEntity(db.admin, {
      companyId: tenantId,
      type: 'ACTION',
      status: 'ACTIVE',
      parentId: parent.id,
      hierarchy: { alias: 'echo' },
      capabilities: { action: { kind: 'builtin', name: 'time.now' } },
    });
    anthropic.reply(
      { toolUse: [{ name: 'echo', input: {} }], usage: { output_tokens: 10 } },
      { text: 'spent' },
    );
    const before = anthropic.requests.length;
    const runId = await start(parent.id);
    expect((await runOf(runId)).status).toBe('AWAITING_APPROVAL');
    expect(anthropic.requests.length - before).toBe(1);
    const approval = await approvalOf(runId);
    expect(approval).toMatchObject({
      checkpoint: 'cost_above',
      contextSnapshot: { costSoFarUsd: '0.000150' },
    });
    await api('POST', `/approvals/${approval.id}/approve`, h.approver, {});
    await drain();
    expect(await runOf(runId)).toMatchObject({ status: 'COMPLETED', resultData: 'spent' });
    expect(anthropic.requests.length - before).toBe(2);
  });

  it('pauses a run about to overrun its own budget, when governance says so, until an approver raises it', async () => {
    // Priced by the output SKU the cost_above test put in the catalog.
    const entity = () =>
      action(
        { budget: { maxCostUsd: '0.000001', onExceeded: 'approval' } },
        {
          capabilities: {
            model: { name: 'claude-sonnet-5-5', maxTokens: 32 },
            action: { kind: 'llm', prompt: 'go' },
          },
        },
      );
    const before = anthropic.requests.length;
    const raised = await start((await entity()).id);
    expect((await runOf(raised)).status).toBe('AWAITING_APPROVAL');
    expect(anthropic.requests.length).toBe(before);
    const approval = await approvalOf(raised);
    expect(approval).toMatchObject({
      checkpoint: 'budget_exceeded',
      contextSnapshot: { pending: { kind: 'budget' } },
    });
    const invalid = await api('POST', `/approvals/${approval.id}/approve`, h.approver, {
      editedInput: { maxCostUsd: 'lots' },
    });
    expect(invalid.statusCode).toBe(422);
    await api('POST', `/approvals/${approval.id}/approve`, h.approver, {
      editedInput: { maxCostUsd: '0.5' },
    });
    await drain();
    expect(await runOf(raised)).toMatchObject({ status: 'COMPLETED' });
    expect(
      (await db.admin.executionRun.findUniqueOrThrow({ where: { id: raised } })).budgetUsd?.toFixed(2),
    ).toBe('0.50');

    // Approved without an edit: just this call may go through.
    const once = await start((await entity()).id);
    await api('POST', `/approvals/${(await approvalOf(once)).id}/approve`, h.approver, {});
    await drain();
    expect(await runOf(once)).toMatchObject({ status: 'COMPLETED' });
    expect(anthropic.requests.length).toBe(before + 2);
    const row = await db.admin.executionRun.findUniqueOrThrow({ where: { id: once } });
    expect(row.totalCostUsd.lte(row.budgetUsd!)).toBe(true);

    // Without onExceeded: approval, the run fails at once, as before.
    const strict = await start(
      (
        await action(
          { budget: { maxCostUsd: '0.000001' } },
          {
            capabilities: {
              model: { name: 'claude-sonnet-5-5', maxTokens: 32 },
              action: { kind: 'llm', prompt: 'go' },
            },
          },
        )
      ).id,
    );
    expect(await runOf(strict)).toMatchObject({ status: 'FAILED', errorCode: 'BUDGET_EXCEEDED' });
  });

  it('keeps an edited before_run approval valid when the run pauses again later', async () => {
    const entity = await action({ approvals: [{ trigger: 'before_run' }, { trigger: 'output_review' }] });
    const runId = await start(entity.id, { name: 'Original' });
    const first = await approvalOf(runId);
    await api('POST', `/approvals/${first.id}/approve`, h.approver, { editedInput: { name: 'Edited' } });
    await drain();
    expect((await runOf(runId)).status).toBe('AWAITING_APPROVAL');
    const review = await approvalOf(runId);
    expect(review).toMatchObject({ checkpoint: 'output_review', contextSnapshot: { output: 'hi Edited' } });
    await api('POST', `/approvals/${review.id}/approve`, h.approver, {});
    await drain();
    expect(await runOf(runId)).toMatchObject({
      status: 'COMPLETED',
      resultData: 'hi Edited',
      inputData: { name: 'Edited' },
    });
  });

  it('reviews the output: an edit replaces it, and must fit the output contract', async () => {
    anthropic.reply({ text: 'draft' });
    const entity = await action(
      { approvals: [{ trigger: 'output_review' }] },
      {
        capabilities: {
          model: { name: 'claude-sonnet-5-5', maxTokens: 32 },
          action: { kind: 'llm', prompt: 'write' },
        },
        ioContract: { output: { type: 'string' } },
      },
    );
    const before = anthropic.requests.length;
    const runId = await start(entity.id);
    const approval = await approvalOf(runId);
    expect(approval.contextSnapshot.output).toBe('draft');
    expect(
      (await api('POST', `/approvals/${approval.id}/approve`, h.approver, { editedOutput: 42 })).statusCode,
    ).toBe(422);
    await api('POST', `/approvals/${approval.id}/approve`, h.approver, { editedOutput: 'final text' });
    await drain();
    expect(await runOf(runId)).toMatchObject({ status: 'COMPLETED', resultData: 'final text' });
    expect(anthropic.requests.length - before).toBe(1);
  });

  it('applies onTimeout at the deadline: reject expires the run, approve lets it go on', async () => {
    const expiring = await action({ approvals: [{ trigger: 'before_run', timeoutMs: 1000 }] });
    const approving = await action({
      approvals: [{ trigger: 'before_run', timeoutMs: 1000, onTimeout: 'approve' }],
    });
    // Draining the queues waits for the delayed timeout jobs too.
    const first = await start(expiring.id);
    const second = await start(approving.id);
    expect(await runOf(first)).toMatchObject({ status: 'EXPIRED', errorCode: 'APPROVAL_EXPIRED' });
    expect(await runOf(second)).toMatchObject({ status: 'COMPLETED' });
    const pending = await db.admin.humanApproval.findFirstOrThrow({ where: { runId: first } });
    expect(pending).toMatchObject({ status: 'EXPIRED', respondedBy: null });
    const late = await api('POST', `/approvals/${pending.id}/approve`, h.approver, {});
    expect(late.statusCode).toBe(409);
  });
});
