import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fc from 'fast-check';
import { startApi } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { flushTestRedis } from '../support/redis';
import { createEntity } from '../factories/entities';
import { createWorld, sessions, type World } from '../factories/tenancy';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

describe('entity registry', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let world: World;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    app = await startApi(db, { overrides: { LOGIN_LIMIT_PER_EMAIL: '1000', LOGIN_LIMIT_PER_IP: '1000' } });
    world = await createWorld(db.admin);
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  const tenant = () => world.partners[0].tenants[0];
  const member = () => tenant().users.member;
  const as = sessions(() => app);
  const call = async (method: Method, url: string, payload?: unknown, user: { email: string } = member()) =>
    app.inject({ method, url: `/api/v1${url}`, headers: await as(user), payload: payload as object });
  const create = async (body: object, user?: { email: string }) => {
    const response = await call('POST', '/entities', body, user);
    if (response.statusCode !== 201)
      throw new Error(`create answered ${response.statusCode}: ${response.body}`);
    return response.json<{ id: string; status: string; alias: string; version: string; name: string }>();
  };
  const action = (name: string, parentId?: string, extra: object = {}) =>
    create({
      type: 'ACTION',
      name,
      parentId,
      capabilities: { action: { kind: 'builtin', name: 'time.now', args: {} } },
      ...extra,
    });

  describe('lifecycle', () => {
    it('creates a DRAFT, activates it, and then refuses changes with 409 ENTITY_IMMUTABLE', async () => {
      const created = await action('Clock');
      expect(created).toMatchObject({ status: 'DRAFT', version: '1.0.0', alias: 'clock' });
      const edited = await call('PATCH', `/entities/${created.id}`, { description: 'Tells the time' });
      expect(edited.statusCode).toBe(200);
      expect((await call('POST', `/entities/${created.id}/activate`)).json().status).toBe('ACTIVE');
      const refused = await call('PATCH', `/entities/${created.id}`, { description: 'changed' });
      expect(refused.statusCode).toBe(409);
      expect(refused.json().code).toBe('ENTITY_IMMUTABLE');
      expect(
        (await db.admin.hierarchicalEntity.findUniqueOrThrow({ where: { id: created.id } })).description,
      ).toBe('Tells the time');
    });

    it('follows DRAFT → ACTIVE → DEPRECATED → ARCHIVED and refuses other transitions', async () => {
      const created = await action('Lifecycle');
      expect((await call('POST', `/entities/${created.id}/deprecate`)).statusCode).toBe(409);
      await call('POST', `/entities/${created.id}/activate`);
      expect((await call('POST', `/entities/${created.id}/activate`)).statusCode).toBe(409);
      expect((await call('POST', `/entities/${created.id}/deprecate`)).json().status).toBe('DEPRECATED');
      expect((await call('DELETE', `/entities/${created.id}`)).statusCode).toBe(204);
      expect((await call('GET', `/entities/${created.id}`)).json().status).toBe('ARCHIVED');
      expect((await call('POST', `/entities/${created.id}/activate`)).statusCode).toBe(409);
    });

    it('makes new versions as DRAFTs with the same name, only upwards', async () => {
      const v1 = await action('Versioned');
      await call('POST', `/entities/${v1.id}/activate`);
      const v2 = await call('POST', `/entities/${v1.id}/versions`, {
        version: '1.1.0',
        description: 'second',
      });
      expect(v2.statusCode).toBe(201);
      expect(v2.json()).toMatchObject({
        name: 'Versioned',
        version: '1.1.0',
        status: 'DRAFT',
        description: 'second',
      });
      expect(v2.json().capabilities).toEqual({ action: { kind: 'builtin', name: 'time.now', args: {} } });
      const lower = await call('POST', `/entities/${v1.id}/versions`, { version: '1.0.5' });
      expect(lower.statusCode).toBe(422);
      expect(lower.json().code).toBe('VERSION_NOT_GREATER');
      const notSemver = await call('POST', `/entities/${v1.id}/versions`, { version: 'two' });
      expect(notSemver.statusCode).toBe(400);
      const duplicate = await call('POST', '/entities', {
        type: 'ACTION',
        name: 'Versioned',
        version: '1.0.0',
        capabilities: { action: { kind: 'builtin', name: 'time.now', args: {} } },
      });
      expect(duplicate.statusCode).toBe(409);
      expect(duplicate.json().code).toBe('ENTITY_VERSION_EXISTS');
    });

    it('lets a viewer read but not write', async () => {
      const viewer = tenant().users.viewer;
      expect((await call('GET', '/entities', undefined, viewer)).statusCode).toBe(200);
      const refused = await call('POST', '/entities', { type: 'SKILL', name: 'Nope' }, viewer);
      expect(refused.statusCode).toBe(403);
    });
  });

  describe('hierarchy rules', () => {
    it('requires a child to rank strictly below its parent', async () => {
      const skill = await create({ type: 'SKILL', name: 'Rank skill' });
      const agentUnderSkill = await call('POST', '/entities', {
        type: 'AGENT',
        name: 'Too high',
        parentId: skill.id,
      });
      expect(agentUnderSkill.statusCode).toBe(422);
      expect(agentUnderSkill.json().code).toBe('INVALID_HIERARCHY');
      const skillUnderSkill = await call('POST', '/entities', {
        type: 'SKILL',
        name: 'Same rank',
        parentId: skill.id,
      });
      expect(skillUnderSkill.statusCode).toBe(422);
      expect((await action('Fine child', skill.id)).alias).toBe('fine_child');
    });

    it('gives an ACTION no children', async () => {
      const leaf = await action('Leaf');
      const child = await call('POST', '/entities', {
        type: 'ACTION',
        name: 'Under leaf',
        parentId: leaf.id,
        capabilities: { action: { kind: 'builtin', name: 'time.now' } },
      });
      expect(child.statusCode).toBe(422);
    });

    it('keeps parent and child in the same company', async () => {
      const partnerAdmin = world.partners[0].admin;
      const skill = await create(
        { type: 'SKILL', name: 'Company A skill', companyId: world.partners[0].tenants[0].company.id },
        partnerAdmin,
      );
      const foreignChild = await call(
        'POST',
        '/entities',
        {
          type: 'ACTION',
          name: 'Company B action',
          companyId: world.partners[0].tenants[1].company.id,
          parentId: skill.id,
          capabilities: { action: { kind: 'builtin', name: 'time.now' } },
        },
        partnerAdmin,
      );
      expect(foreignChild.statusCode).toBe(422);
    });

    it('honours allowedChildTypes', async () => {
      const agent = await create({
        type: 'AGENT',
        name: 'Picky agent',
        hierarchy: { allowedChildTypes: ['SKILL'] },
      });
      expect(
        (
          await call('POST', '/entities', {
            type: 'ACTION',
            name: 'Unwanted',
            parentId: agent.id,
            capabilities: { action: { kind: 'builtin', name: 'time.now' } },
          })
        ).statusCode,
      ).toBe(422);
      expect(
        (await call('POST', '/entities', { type: 'SKILL', name: 'Wanted', parentId: agent.id })).statusCode,
      ).toBe(201);
    });

    it('refuses cycles', async () => {
      const process = await create({ type: 'PROCESS', name: 'Cycle process' });
      const agent = await create({ type: 'AGENT', name: 'Cycle agent', parentId: process.id });
      const skill = await create({ type: 'SKILL', name: 'Cycle skill', parentId: agent.id });
      // Ranks already forbid most cycles; moving a node under its own descendant is refused too.
      const underSelf = await call('PATCH', `/entities/${skill.id}`, { parentId: skill.id });
      expect(underSelf.statusCode).toBe(422);
      expect((await call('GET', `/entities/${skill.id}`)).json().parentId).toBe(agent.id);
    });

    it('refuses a duplicate alias among siblings, and an archived parent', async () => {
      const skill = await create({ type: 'SKILL', name: 'Alias parent' });
      await action('Fetch', skill.id);
      const clash = await call('POST', '/entities', {
        type: 'ACTION',
        name: 'Other',
        hierarchy: { alias: 'fetch' },
        parentId: skill.id,
        capabilities: { action: { kind: 'builtin', name: 'time.now' } },
      });
      expect(clash.statusCode).toBe(422);
      const archived = await create({ type: 'SKILL', name: 'Archived parent' });
      await call('DELETE', `/entities/${archived.id}`);
      expect(
        (
          await call('POST', '/entities', {
            type: 'ACTION',
            name: 'Orphan',
            parentId: archived.id,
            capabilities: { action: { kind: 'builtin', name: 'time.now' } },
          })
        ).statusCode,
      ).toBe(422);
    });

    it('refuses to archive a parent with live children', async () => {
      const skill = await create({ type: 'SKILL', name: 'Busy parent' });
      const child = await action('Busy child', skill.id);
      const refused = await call('DELETE', `/entities/${skill.id}`);
      expect(refused.statusCode).toBe(409);
      expect(refused.json().code).toBe('ENTITY_HAS_CHILDREN');
      await call('DELETE', `/entities/${child.id}`);
      expect((await call('DELETE', `/entities/${skill.id}`)).statusCode).toBe(204);
    });

    it('checks step aliases and templates against the children', async () => {
      const skill = await create({ type: 'SKILL', name: 'Templated skill' });
      await action('Lookup', skill.id);
      const good = await call('PATCH', `/entities/${skill.id}`, {
        planning: {
          strategy: 'sequential',
          steps: [{ alias: 'lookup', input: { q: '{{input.query}}' } }],
          output: '{{steps.lookup.output}}',
        },
      });
      expect(good.statusCode).toBe(200);
      const bad = await call('PATCH', `/entities/${skill.id}`, {
        planning: { strategy: 'sequential', steps: [{ alias: 'missing' }], output: '{{steps.ghost.output}}' },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual(
        expect.arrayContaining(['/planning/steps/0/alias']),
      );
    });

    it('returns the tree in one call', async () => {
      const process = await create({ type: 'PROCESS', name: 'Tree process' });
      const agent = await create({ type: 'AGENT', name: 'Tree agent', parentId: process.id });
      const skill = await create({ type: 'SKILL', name: 'Tree skill', parentId: agent.id });
      await action('Tree action', skill.id);
      const tree = (await call('GET', `/entities/${process.id}/tree`)).json();
      expect(tree.children[0].name).toBe('Tree agent');
      expect(tree.children[0].children[0].children[0].name).toBe('Tree action');
    });
  });

  describe('configuration blocks', () => {
    const cases: [string, object, string][] = [
      [
        'unknown identity key',
        { type: 'SKILL', name: 'b1', identity: { colour: 'red' } },
        '/identity/colour',
      ],
      ['bad strategy', { type: 'SKILL', name: 'b2', planning: { strategy: 'random' } }, '/planning/strategy'],
      [
        'maxIterations too large',
        { type: 'AGENT', name: 'b3', planning: { maxIterations: 100000 } },
        '/planning/maxIterations',
      ],
      ['action missing on an ACTION', { type: 'ACTION', name: 'b4' }, '/capabilities/action'],
      [
        'unknown builtin',
        { type: 'ACTION', name: 'b5', capabilities: { action: { kind: 'builtin', name: 'rm.rf' } } },
        '/capabilities/action',
      ],
      [
        'http without url',
        { type: 'ACTION', name: 'b6', capabilities: { action: { kind: 'http', method: 'GET' } } },
        '/capabilities/action',
      ],
      [
        'bad approval trigger',
        { type: 'AGENT', name: 'b7', governance: { approvals: [{ trigger: 'whenever' }] } },
        '/governance/approvals/0/trigger',
      ],
      [
        'negative budget',
        { type: 'AGENT', name: 'b8', governance: { budget: { maxCostUsd: -1 } } },
        '/governance/budget/maxCostUsd',
      ],
      [
        'input contract that is not a schema',
        { type: 'SKILL', name: 'b9', ioContract: { input: { type: 'strnig' } } },
        '/ioContract/input',
      ],
      [
        'unknown JSONLogic operator',
        { type: 'SKILL', name: 'b10', logicGate: { when: { explode: [1] } } },
        '/logicGate/when',
      ],
      [
        'template with code',
        { type: 'SKILL', name: 'b11', identity: { instructions: 'Hi {{ process.exit() }}' } },
        '/identity/instructions',
      ],
      [
        'redact pointer without slash',
        { type: 'SKILL', name: 'b12', observability: { redact: ['password'] } },
        '/observability/redact/0',
      ],
      [
        'temperature out of range',
        {
          type: 'AGENT',
          name: 'b13',
          capabilities: { model: { name: 'claude-sonnet-4-5', temperature: 3 } },
        },
        '/capabilities/model/temperature',
      ],
      [
        'routes on a SKILL',
        { type: 'SKILL', name: 'b14', logicGate: { routes: [{ when: true, to: 'x' }] } },
        '/logicGate/routes',
      ],
    ];

    it.each(cases)('answers 400 with the pointer for %s and writes nothing', async (_name, body, pointer) => {
      const before = await db.admin.hierarchicalEntity.count();
      const response = await call('POST', '/entities', body);
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      const pointers = response.json().errors.map((e: { pointer: string }) => e.pointer);
      expect(pointers.some((p: string) => p === pointer || p.startsWith(`${pointer}/`))).toBe(true);
      expect(await db.admin.hierarchicalEntity.count()).toBe(before);
    });

    it('refuses null for a list field instead of failing (a fuzzing find), and no field answers null with a 5xx', async () => {
      const target = await action('Null tags');
      const response = await call('PATCH', `/entities/${target.id}`, { tags: null });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors[0].pointer).toBe('/tags');
      for (const field of [
        'displayName',
        'description',
        'parentId',
        'hierarchy',
        'identity',
        'logicGate',
        'planning',
        'capabilities',
        'governance',
        'ioContract',
        'observability',
      ]) {
        const answer = await call('PATCH', `/entities/${target.id}`, { [field]: null });
        expect(`${field} ${answer.statusCode < 500 ? 'ok' : answer.statusCode}`).toBe(`${field} ok`);
      }
    });

    it('never answers 5xx to random JSON, and writes a row only with 201', async () => {
      const target = await action('Fuzz target');
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.jsonValue({ stringUnit: 'binary' }),
            fc.dictionary(
              fc.constantFrom(
                'type',
                'name',
                'version',
                'parentId',
                'identity',
                'planning',
                'capabilities',
                'governance',
                'ioContract',
                'logicGate',
                'observability',
                'tags',
                'hierarchy',
              ),
              fc.jsonValue({ stringUnit: 'binary' }),
            ),
          ),
          fc.boolean(),
          async (body, patch) => {
            const before = await db.admin.hierarchicalEntity.count();
            const stamp = (await db.admin.hierarchicalEntity.findUniqueOrThrow({ where: { id: target.id } }))
              .updatedAt;
            const response = patch
              ? await call('PATCH', `/entities/${target.id}`, body)
              : await call('POST', '/entities', body);
            expect(response.statusCode).toBeLessThan(500);
            const after = await db.admin.hierarchicalEntity.count();
            const restamp = (
              await db.admin.hierarchicalEntity.findUniqueOrThrow({ where: { id: target.id } })
            ).updatedAt;
            if (response.statusCode >= 400) {
              expect(after).toBe(before);
              expect(restamp).toEqual(stamp);
            } else {
              expect(after).toBe(patch ? before : before + 1);
            }
          },
        ),
        { numRuns: 300 },
      );
    }, 120_000);
  });

  it('publishes every block schema in the OpenAPI document, referenced by the entity bodies', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    for (const name of [
      'IdentityBlock',
      'PlanningBlock',
      'CapabilitiesBlock',
      'GovernanceBlock',
      'IoContractBlock',
    ]) {
      expect(doc.components.schemas[name]).toMatchObject({ type: 'object', additionalProperties: false });
    }
    expect(JSON.stringify(doc.components.schemas.CreateEntityDto)).toContain(
      '#/components/schemas/GovernanceBlock',
    );
    expect(JSON.stringify(doc.paths['/api/v1/entities'].post)).toContain('CreateEntityDto');
  });

  describe('catalog', () => {
    it('shows shared entities of the APP company and the partner to the companies below, read-only', async () => {
      const fromApp = await createEntity(db.admin, {
        companyId: world.app.id,
        type: 'AGENT',
        name: 'Platform agent',
        status: 'ACTIVE',
        shared: true,
      });
      const privateApp = await createEntity(db.admin, {
        companyId: world.app.id,
        type: 'AGENT',
        name: 'Private platform agent',
        status: 'ACTIVE',
      });
      const fromPartner = await createEntity(db.admin, {
        companyId: world.partners[0].company.id,
        type: 'SKILL',
        name: 'Partner skill',
        status: 'ACTIVE',
        shared: true,
      });

      const got = await call('GET', `/entities/${fromApp.id}`);
      expect(got.statusCode).toBe(200);
      expect(got.json().readOnly).toBe(true);
      expect((await call('GET', `/entities/${fromPartner.id}`)).statusCode).toBe(200);
      expect((await call('GET', `/entities/${privateApp.id}`)).statusCode).toBe(404);

      const listed = (await call('GET', '/entities?catalog=only&limit=200'))
        .json()
        .items.map((e: { id: string }) => e.id);
      expect(listed).toEqual(expect.arrayContaining([fromApp.id, fromPartner.id]));
      expect(listed).not.toContain(privateApp.id);

      const edit = await call('PATCH', `/entities/${fromApp.id}`, { description: 'mine now' });
      expect(edit.statusCode).toBe(403);
      expect(edit.json().code).toBe('CATALOG_READ_ONLY');

      // Another partner's tenants do not see partner 1's catalog.
      const outsider = world.partners[1].tenants[0].users.member;
      expect((await call('GET', `/entities/${fromPartner.id}`, undefined, outsider)).statusCode).toBe(404);
      expect((await call('GET', `/entities/${fromApp.id}`, undefined, outsider)).statusCode).toBe(200);

      // The same reads, all at once: reads arriving together are answered per caller scope.
      const asks = [
        { id: fromApp.id, user: member(), status: 200 },
        { id: fromPartner.id, user: member(), status: 200 },
        { id: privateApp.id, user: member(), status: 404 },
        { id: fromPartner.id, user: outsider, status: 404 },
        { id: fromApp.id, user: outsider, status: 200 },
      ];
      const answers = await Promise.all(
        Array.from({ length: 25 }, (_, i) => asks[i % asks.length]).map(async (ask) => ({
          ask,
          answer: await call('GET', `/entities/${ask.id}`, undefined, ask.user),
        })),
      );
      for (const { ask, answer } of answers) {
        expect(answer.statusCode).toBe(ask.status);
        if (ask.status === 200) expect(answer.json().id).toBe(ask.id);
      }
    });
  });

  describe('listing', () => {
    it('filters by type, status, parentId, name, tag and q, with keyset pages', async () => {
      const skill = await create({
        type: 'SKILL',
        name: 'Filter skill',
        tags: ['finance'],
        description: 'Reconciles invoices',
      });
      await action('Filter child', skill.id);
      const ids = async (query: string) =>
        (
          (await call('GET', `/entities?limit=200&catalog=exclude&${query}`)).json().items as {
            id: string;
            name: string;
          }[]
        ).map((e) => e.name);
      expect(await ids('tag=finance')).toEqual(['Filter skill']);
      expect(await ids('q=INVOICE')).toEqual(['Filter skill']);
      expect(await ids(`parentId=${skill.id}`)).toEqual(['Filter child']);
      expect(await ids('name=Filter%20skill&type=SKILL&status=DRAFT')).toEqual(['Filter skill']);

      const first = (await call('GET', '/entities?limit=2&catalog=exclude')).json();
      const second = (
        await call('GET', `/entities?limit=2&catalog=exclude&cursor=${first.nextCursor}`)
      ).json();
      expect(first.items).toHaveLength(2);
      expect(second.items[0].id > first.items[1].id).toBe(true);
    });
  });
});
