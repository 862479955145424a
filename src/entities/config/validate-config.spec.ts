import type { FieldError } from '../../infra/http/domain-error';
import { validateEntityConfig, type ConfigEntityType, type EntityConfigInput } from './validate-config';

const SHARED_ID = '0b7e5d4c-1f2a-4b3c-8d9e-0a1b2c3d4e5f';
const DOC_ID = '7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a0f';
const LLM = { kind: 'llm', prompt: 'Hi {{input.name}}' };

const validate = (type: ConfigEntityType, input: EntityConfigInput, childAliases: readonly string[] = []) =>
  validateEntityConfig(input, { type, childAliases });

/** Pointers of the errors, once each, sorted: the assertion of the table below. */
const pointersOf = (errors: FieldError[]) => [...new Set(errors.map((e) => e.pointer))].sort();

describe('validateEntityConfig: valid configurations', () => {
  const contract = {
    input: {
      type: 'object',
      required: ['text'],
      properties: { text: { type: 'string', maxLength: 10_000 } },
    },
    output: { type: 'string' },
  };

  it.each<[string, EntityConfigInput]>([
    [
      'an llm ACTION with every block',
      {
        identity: {
          role: 'Summariser',
          persona: 'Terse.',
          instructions: 'You summarise for {{context.company}}; reply in {{ input.language }}.',
          avatarUrl: 'https://cdn.example.com/a.png',
        },
        hierarchy: { alias: 'summarize', order: 2 },
        logicGate: { when: { '!!': { var: 'input.text' } } },
        planning: { strategy: 'single', maxSteps: 1 },
        capabilities: {
          model: { name: 'claude-sonnet-4-5', maxTokens: 4096, temperature: 0.2 },
          action: {
            kind: 'llm',
            prompt: 'Summarise:\n{{input.text}}\nAs JSON like {"summary": {"text": "..."}}',
          },
        },
        governance: {
          budget: { maxCostUsd: '0.50', maxTokens: 10_000, maxDurationMs: 60_000 },
          retries: { maxAttempts: 3, backoffMs: 500 },
        },
        ioContract: contract,
        observability: { logPrompts: false, redact: ['/input/ssn', '/output/a~1b'], traceSampleRate: 0.1 },
        metadataExtensions: { shared: true, owner: 'team-x', anything: { nested: [1, 'two'] } },
      },
    ],
    [
      'an http ACTION',
      {
        capabilities: {
          action: {
            kind: 'http',
            method: 'POST',
            url: 'https://api.example.com/orders/{{input.orderId}}?tenant={{context.tenant}}',
            headers: { Authorization: 'Bearer {{context.token}}', 'X-Request-Id': 'fixed' },
            body: {
              items: '{{input.items}}',
              note: 'for {{input.customer.name}}',
              lines: [{ sku: '{{input.sku}}' }],
            },
          },
        },
        governance: { allowedHosts: ['api.example.com', '*.example.org'], budget: { maxCostUsd: 0.25 } },
      },
    ],
    [
      'a GET http ACTION',
      { capabilities: { action: { kind: 'http', method: 'GET', url: 'http://example.com' } } },
    ],
    [
      'a text.template builtin ACTION',
      {
        capabilities: {
          action: { kind: 'builtin', name: 'text.template', args: { template: 'Dear {{input.name}},' } },
        },
      },
    ],
    ['a time.now builtin ACTION', { capabilities: { action: { kind: 'builtin', name: 'time.now' } } }],
    [
      'a time.now builtin ACTION with empty args',
      { capabilities: { action: { kind: 'builtin', name: 'time.now', args: {} } } },
    ],
    [
      'a json.transform builtin ACTION',
      {
        capabilities: {
          action: {
            kind: 'builtin',
            name: 'json.transform',
            args: { expression: '$sum(items.(price * qty))', data: '{{input.order}}' },
          },
        },
      },
    ],
    [
      'a math.evaluate builtin ACTION',
      {
        capabilities: {
          action: {
            kind: 'builtin',
            name: 'math.evaluate',
            args: { expression: 'a * b + 1', scope: { a: '{{input.a}}', b: 2 } },
          },
        },
      },
    ],
    [
      'a retrieval ACTION',
      {
        capabilities: {
          knowledge: { documentIds: [DOC_ID], entityScoped: true, topK: 5 },
          action: { kind: 'retrieval', query: 'What does {{input.question}} mean?', topK: 8 },
        },
      },
    ],
  ])('accepts %s', (_name, input) => {
    expect(validate('ACTION', input)).toEqual([]);
  });

  it('accepts a SKILL with steps, templates and an output mapping', () => {
    const input: EntityConfigInput = {
      identity: { role: 'Order summary' },
      hierarchy: { alias: 'order_summary', allowedChildTypes: ['ACTION'] },
      logicGate: {
        when: { and: [{ '!!': { var: 'input.orderId' } }, { '!=': [{ var: 'context.tier' }, 'blocked'] }] },
      },
      planning: {
        strategy: 'sequential',
        maxSteps: 10,
        steps: [
          { alias: 'fetch_order', input: { id: '{{input.orderId}}' } },
          {
            alias: 'summarize',
            input: { text: '{{steps.fetch_order.output.body}}', meta: ['{{context.user}}', 3, null, true] },
          },
        ],
        output: { summary: '{{steps.summarize.output}}', orderId: '{{steps.fetch_order.output.body.id}}' },
      },
      governance: {
        approvals: [{ trigger: 'before_child', match: 'fetch_order' }, { trigger: 'output_review' }],
      },
      ioContract: contract,
    };
    expect(validate('SKILL', input, ['fetch_order', 'summarize'])).toEqual([]);
    expect(
      validate('SKILL', { planning: { output: 'Done: {{steps.summarize.output}}' } }, ['summarize']),
    ).toEqual([]);
  });

  it('accepts an AGENT with tools, knowledge, a thinking model and approvals', () => {
    const input: EntityConfigInput = {
      identity: { role: 'Researcher', instructions: 'Research {{input.topic}} thoroughly.' },
      hierarchy: { alias: 'researcher', allowedChildTypes: ['ACTION', 'SKILL'] },
      planning: { strategy: 'react', maxIterations: 12, maxSteps: 40 },
      capabilities: {
        model: {
          name: 'claude-opus-4-1',
          maxTokens: 16_000,
          temperature: 1,
          thinking: { budgetTokens: 4096 },
        },
        tools: ['search_web', 'calculator', SHARED_ID],
        knowledge: { entityScoped: false, topK: 10, documentIds: [DOC_ID] },
      },
      governance: {
        budget: { maxCostUsd: '2.000000', maxTokens: 500_000 },
        approvals: [
          { trigger: 'before_run' },
          {
            trigger: 'before_tool',
            match: 'search_web',
            timeoutMs: 3_600_000,
            onTimeout: 'approve',
            channels: [
              {
                type: 'webhook',
                url: 'https://hooks.example.com/approvals',
                secret: 'a-very-long-secret-1234',
              },
              { type: 'email', to: ['ops@example.com', 'lead@example.co.uk'] },
            ],
          },
          { trigger: 'cost_above', thresholdUsd: '1.50' },
          { trigger: 'cost_above', thresholdUsd: 3 },
          { trigger: 'before_child', match: 'calculator' },
          {
            trigger: 'output_review',
            channels: [{ type: 'webhook', url: 'http://approvals.internal.example/x' }],
          },
        ],
      },
      observability: { redact: ['/input/apiKey'] },
    };
    expect(validate('AGENT', input, ['search_web', 'calculator'])).toEqual([]);
  });

  it('accepts a PROCESS with a parallel strategy and routes', () => {
    const input: EntityConfigInput = {
      hierarchy: { allowedChildTypes: ['AGENT', 'SKILL', 'ACTION'] },
      logicGate: {
        when: { '<': [{ var: 'input.priority' }, 5] },
        routes: [
          { when: { '==': [{ var: 'input.kind' }, 'billing'] }, to: 'billing' },
          { when: { in: [{ var: 'input.kind' }, ['bug', 'outage']] }, to: 'support' },
          { when: true, to: 'triage' },
        ],
      },
      planning: {
        strategy: 'parallel',
        maxSteps: 20,
        steps: [
          { alias: 'triage', input: { ticket: '{{input.ticket}}' } },
          { alias: 'billing', input: '{{input}}' },
        ],
      },
      governance: { approvals: [{ trigger: 'before_child', match: 'billing', timeoutMs: 60_000 }] },
    };
    expect(validate('PROCESS', input, ['triage', 'billing', 'support'])).toEqual([]);
  });

  it('accepts empty blocks (an ACTION still needs its action)', () => {
    const empty: EntityConfigInput = {
      identity: {},
      hierarchy: {},
      logicGate: {},
      planning: {},
      capabilities: {},
      governance: {},
      ioContract: {},
      observability: {},
      metadataExtensions: {},
    };
    expect(validate('SKILL', empty)).toEqual([]);
    expect(validate('AGENT', {})).toEqual([]);
    expect(validate('ACTION', { ...empty, capabilities: { action: LLM } })).toEqual([]);
  });
});

type Case = [
  name: string,
  type: ConfigEntityType,
  input: EntityConfigInput,
  pointers: string[],
  children?: string[],
];

const CHILDREN = ['alpha', 'beta'];

describe('validateEntityConfig: one rule per case', () => {
  const cases: Case[] = [
    // identity
    ['identity: unknown key', 'SKILL', { identity: { colour: 'red' } }, ['/identity/colour']],
    [
      'identity: unknown key with a slash is escaped',
      'SKILL',
      { identity: { 'a/b~c': 1 } },
      ['/identity/a~1b~0c'],
    ],
    ['identity: the block is an object', 'SKILL', { identity: 'me' }, ['/identity']],
    ['identity: role is a string', 'SKILL', { identity: { role: 7 } }, ['/identity/role']],
    ['identity: role is not empty', 'SKILL', { identity: { role: '' } }, ['/identity/role']],
    [
      'identity: persona ≤ 4000 characters',
      'SKILL',
      { identity: { persona: 'x'.repeat(4001) } },
      ['/identity/persona'],
    ],
    [
      'identity: instructions ≤ 100 000 characters',
      'SKILL',
      { identity: { instructions: 'x'.repeat(100_001) } },
      ['/identity/instructions'],
    ],
    [
      'identity: avatarUrl is http(s)',
      'SKILL',
      { identity: { avatarUrl: 'ftp://x.example/a.png' } },
      ['/identity/avatarUrl'],
    ],
    [
      'identity: avatarUrl is a URL',
      'SKILL',
      { identity: { avatarUrl: 'https://exa mple.com/a' } },
      ['/identity/avatarUrl'],
    ],
    [
      'identity: instructions template is well formed',
      'SKILL',
      { identity: { instructions: 'Hi {{input.name' } },
      ['/identity/instructions'],
    ],
    [
      'identity: instructions template names a child',
      'SKILL',
      { identity: { instructions: '{{steps.gamma.output}}' } },
      ['/identity/instructions'],
    ],
    // hierarchy
    ['hierarchy: unknown key', 'SKILL', { hierarchy: { parent: 'x' } }, ['/hierarchy/parent']],
    ['hierarchy: alias pattern', 'SKILL', { hierarchy: { alias: 'Fetch-Order' } }, ['/hierarchy/alias']],
    [
      'hierarchy: alias ≤ 63 characters',
      'SKILL',
      { hierarchy: { alias: `a${'b'.repeat(63)}` } },
      ['/hierarchy/alias'],
    ],
    ['hierarchy: order is an integer', 'SKILL', { hierarchy: { order: 1.5 } }, ['/hierarchy/order']],
    ['hierarchy: order ≥ 0', 'SKILL', { hierarchy: { order: -1 } }, ['/hierarchy/order']],
    [
      'hierarchy: allowedChildTypes are entity types',
      'PROCESS',
      { hierarchy: { allowedChildTypes: ['ACTION', 'ROBOT'] } },
      ['/hierarchy/allowedChildTypes/1'],
    ],
    [
      'hierarchy: allowedChildTypes are distinct',
      'PROCESS',
      { hierarchy: { allowedChildTypes: ['SKILL', 'ACTION', 'SKILL'] } },
      ['/hierarchy/allowedChildTypes/2'],
    ],
    [
      'hierarchy: allowedChildTypes rank below the entity',
      'SKILL',
      { hierarchy: { allowedChildTypes: ['ACTION', 'AGENT'] } },
      ['/hierarchy/allowedChildTypes/1'],
    ],
    [
      'hierarchy: an ACTION allows no children',
      'ACTION',
      { hierarchy: { allowedChildTypes: ['ACTION'] }, capabilities: { action: LLM } },
      ['/hierarchy/allowedChildTypes/0'],
    ],
    // logicGate
    ['logicGate: unknown key', 'AGENT', { logicGate: { if: true } }, ['/logicGate/if']],
    [
      'logicGate: when uses known operators',
      'AGENT',
      { logicGate: { when: { and: [true, { nope: 1 }] } } },
      ['/logicGate/when/and/1'],
    ],
    [
      'logicGate: when reads input or context',
      'AGENT',
      { logicGate: { when: { var: 'env.HOME' } } },
      ['/logicGate/when/var'],
    ],
    [
      'logicGate: routes only on a PROCESS',
      'AGENT',
      { logicGate: { routes: [{ when: true, to: 'alpha' }] } },
      ['/logicGate/routes'],
    ],
    [
      'logicGate: routes are an array',
      'PROCESS',
      { logicGate: { routes: { when: true, to: 'alpha' } } },
      ['/logicGate/routes'],
    ],
    [
      'logicGate: route needs to',
      'PROCESS',
      { logicGate: { routes: [{ when: true }] } },
      ['/logicGate/routes/0/to'],
    ],
    [
      'logicGate: route needs when',
      'PROCESS',
      { logicGate: { routes: [{ to: 'alpha' }] } },
      ['/logicGate/routes/0/when'],
    ],
    [
      'logicGate: route unknown key',
      'PROCESS',
      { logicGate: { routes: [{ when: true, to: 'alpha', priority: 1 }] } },
      ['/logicGate/routes/0/priority'],
    ],
    [
      'logicGate: route to a child alias',
      'PROCESS',
      {
        logicGate: {
          routes: [
            { when: true, to: 'alpha' },
            { when: true, to: 'gamma' },
          ],
        },
      },
      ['/logicGate/routes/1/to'],
    ],
    [
      'logicGate: route to matches the alias pattern',
      'PROCESS',
      { logicGate: { routes: [{ when: true, to: 'Alpha' }] } },
      ['/logicGate/routes/0/to'],
    ],
    [
      'logicGate: route when is JSONLogic',
      'PROCESS',
      { logicGate: { routes: [{ when: { '==': [1, { bad: [] }] }, to: 'alpha' }] } },
      ['/logicGate/routes/0/when/==/1'],
    ],
    // planning
    ['planning: unknown key', 'SKILL', { planning: { loops: 3 } }, ['/planning/loops']],
    ['planning: strategy is known', 'SKILL', { planning: { strategy: 'random' } }, ['/planning/strategy']],
    [
      'planning: react only for an AGENT',
      'PROCESS',
      { planning: { strategy: 'react' } },
      ['/planning/strategy'],
    ],
    [
      'planning: no steps on an ACTION',
      'ACTION',
      { planning: { steps: [] }, capabilities: { action: LLM } },
      ['/planning/steps'],
    ],
    [
      'planning: a step needs an alias',
      'SKILL',
      { planning: { steps: [{ input: {} }] } },
      ['/planning/steps/0/alias'],
    ],
    [
      'planning: a step names a child',
      'SKILL',
      { planning: { steps: [{ alias: 'alpha' }, { alias: 'gamma' }] } },
      ['/planning/steps/1/alias'],
    ],
    [
      'planning: a child appears once in steps',
      'SKILL',
      { planning: { steps: [{ alias: 'alpha' }, { alias: 'alpha' }] } },
      ['/planning/steps/1/alias'],
    ],
    [
      'planning: step unknown key',
      'SKILL',
      { planning: { steps: [{ alias: 'alpha', retries: 2 }] } },
      ['/planning/steps/0/retries'],
    ],
    [
      'planning: a step uses only earlier outputs',
      'SKILL',
      { planning: { steps: [{ alias: 'alpha', input: { x: '{{steps.beta.output}}' } }, { alias: 'beta' }] } },
      ['/planning/steps/0/input/x'],
    ],
    [
      'planning: parallel steps use no step output',
      'PROCESS',
      {
        planning: {
          strategy: 'parallel',
          steps: [{ alias: 'alpha' }, { alias: 'beta', input: ['{{steps.alpha.output}}'] }],
        },
      },
      ['/planning/steps/1/input/0'],
    ],
    [
      'planning: step input templates are well formed',
      'SKILL',
      { planning: { steps: [{ alias: 'alpha', input: { deep: { x: '{{ input.a | upper }}' } } }] } },
      ['/planning/steps/0/input/deep/x'],
    ],
    ['planning: maxIterations ≥ 1', 'AGENT', { planning: { maxIterations: 0 } }, ['/planning/maxIterations']],
    [
      'planning: maxIterations ≤ 100',
      'AGENT',
      { planning: { maxIterations: 101 } },
      ['/planning/maxIterations'],
    ],
    ['planning: maxSteps ≤ 1000', 'SKILL', { planning: { maxSteps: 1001 } }, ['/planning/maxSteps']],
    [
      'planning: output is an object or a string',
      'SKILL',
      { planning: { output: 42 } },
      ['/planning/output'],
    ],
    [
      'planning: output templates name children',
      'SKILL',
      { planning: { output: { a: '{{steps.gamma.output}}' } } },
      ['/planning/output/a'],
    ],
    // capabilities: the action and the type
    ['capabilities: an ACTION needs an action (no block)', 'ACTION', {}, ['/capabilities/action']],
    [
      'capabilities: an ACTION needs an action (empty block)',
      'ACTION',
      { capabilities: {} },
      ['/capabilities/action'],
    ],
    [
      'capabilities: only an ACTION has an action',
      'AGENT',
      { capabilities: { action: LLM } },
      ['/capabilities/action'],
    ],
    ['capabilities: unknown key', 'AGENT', { capabilities: { skills: [] } }, ['/capabilities/skills']],
    [
      'action: kind is required',
      'ACTION',
      { capabilities: { action: { prompt: 'x' } } },
      ['/capabilities/action/kind'],
    ],
    [
      'action: kind is known',
      'ACTION',
      { capabilities: { action: { kind: 'shell', command: 'ls' } } },
      ['/capabilities/action/kind'],
    ],
    ['action: is an object', 'ACTION', { capabilities: { action: 'llm' } }, ['/capabilities/action']],
    [
      'llm: prompt is required',
      'ACTION',
      { capabilities: { action: { kind: 'llm' } } },
      ['/capabilities/action/prompt'],
    ],
    [
      'llm: unknown key',
      'ACTION',
      { capabilities: { action: { ...LLM, url: 'https://x.example' } } },
      ['/capabilities/action/url'],
    ],
    [
      'llm: prompt templates name children',
      'ACTION',
      { capabilities: { action: { kind: 'llm', prompt: 'Use {{steps.alpha.output}}' } } },
      ['/capabilities/action/prompt'],
    ],
    [
      'http: method is known',
      'ACTION',
      { capabilities: { action: { kind: 'http', method: 'get', url: 'https://x.example' } } },
      ['/capabilities/action/method'],
    ],
    [
      'http: url is required',
      'ACTION',
      { capabilities: { action: { kind: 'http', method: 'GET' } } },
      ['/capabilities/action/url'],
    ],
    [
      'http: url is http(s)',
      'ACTION',
      { capabilities: { action: { kind: 'http', method: 'GET', url: 'file:///etc/passwd' } } },
      ['/capabilities/action/url'],
    ],
    [
      'http: url template is well formed',
      'ACTION',
      { capabilities: { action: { kind: 'http', method: 'GET', url: 'https://x.example/{{input.id' } } },
      ['/capabilities/action/url'],
    ],
    [
      'http: header names are tokens',
      'ACTION',
      {
        capabilities: {
          action: { kind: 'http', method: 'GET', url: 'https://x.example', headers: { 'Bad Header': 'x' } },
        },
      },
      ['/capabilities/action/headers/Bad Header'],
    ],
    [
      'http: header values are strings',
      'ACTION',
      {
        capabilities: {
          action: { kind: 'http', method: 'GET', url: 'https://x.example', headers: { 'X-N': 1 } },
        },
      },
      ['/capabilities/action/headers/X-N'],
    ],
    [
      'http: header values are templates',
      'ACTION',
      {
        capabilities: {
          action: {
            kind: 'http',
            method: 'GET',
            url: 'https://x.example',
            headers: { 'X-A': '{{ context.a() }}' },
          },
        },
      },
      ['/capabilities/action/headers/X-A'],
    ],
    [
      'http: platform headers are refused',
      'ACTION',
      {
        capabilities: {
          action: { kind: 'http', method: 'GET', url: 'https://x.example', headers: { Host: 'internal' } },
        },
      },
      ['/capabilities/action/headers/Host'],
    ],
    [
      'http: GET has no body',
      'ACTION',
      { capabilities: { action: { kind: 'http', method: 'GET', url: 'https://x.example', body: { a: 1 } } } },
      ['/capabilities/action/body'],
    ],
    [
      'http: body templates (nested)',
      'ACTION',
      {
        capabilities: {
          action: {
            kind: 'http',
            method: 'POST',
            url: 'https://x.example',
            body: { items: [{ n: '{{steps.alpha.output}}' }] },
          },
        },
      },
      ['/capabilities/action/body/items/0/n'],
    ],
    [
      'builtin: name is known',
      'ACTION',
      { capabilities: { action: { kind: 'builtin', name: 'shell.exec' } } },
      ['/capabilities/action/name'],
    ],
    [
      'builtin: name is required',
      'ACTION',
      { capabilities: { action: { kind: 'builtin' } } },
      ['/capabilities/action/name'],
    ],
    [
      'builtin: text.template needs args',
      'ACTION',
      { capabilities: { action: { kind: 'builtin', name: 'text.template' } } },
      ['/capabilities/action/args'],
    ],
    [
      'builtin: text.template needs args.template',
      'ACTION',
      { capabilities: { action: { kind: 'builtin', name: 'text.template', args: {} } } },
      ['/capabilities/action/args/template'],
    ],
    [
      'builtin: time.now takes no args',
      'ACTION',
      { capabilities: { action: { kind: 'builtin', name: 'time.now', args: { tz: 'UTC' } } } },
      ['/capabilities/action/args/tz'],
    ],
    [
      'builtin: json.transform needs an expression',
      'ACTION',
      { capabilities: { action: { kind: 'builtin', name: 'json.transform', args: { data: {} } } } },
      ['/capabilities/action/args/expression'],
    ],
    [
      'builtin: math.evaluate scope is an object',
      'ACTION',
      {
        capabilities: {
          action: { kind: 'builtin', name: 'math.evaluate', args: { expression: '1', scope: [1] } },
        },
      },
      ['/capabilities/action/args/scope'],
    ],
    [
      'builtin: args templates (nested)',
      'ACTION',
      {
        capabilities: {
          action: { kind: 'builtin', name: 'text.template', args: { template: 'Hi {{ name }}' } },
        },
      },
      ['/capabilities/action/args/template'],
    ],
    [
      'retrieval: query is required',
      'ACTION',
      { capabilities: { action: { kind: 'retrieval' } } },
      ['/capabilities/action/query'],
    ],
    [
      'retrieval: topK ≤ 50',
      'ACTION',
      { capabilities: { action: { kind: 'retrieval', query: 'q', topK: 51 } } },
      ['/capabilities/action/topK'],
    ],
    [
      'retrieval: query templates',
      'ACTION',
      { capabilities: { action: { kind: 'retrieval', query: '{{steps.x.output}}' } } },
      ['/capabilities/action/query'],
    ],
    // capabilities: model, tools, knowledge
    [
      'model: unknown key',
      'AGENT',
      { capabilities: { model: { name: 'claude-x', topP: 0.9 } } },
      ['/capabilities/model/topP'],
    ],
    [
      'model: name pattern',
      'AGENT',
      { capabilities: { model: { name: 'claude sonnet' } } },
      ['/capabilities/model/name'],
    ],
    [
      'model: maxTokens ≥ 1',
      'AGENT',
      { capabilities: { model: { maxTokens: 0 } } },
      ['/capabilities/model/maxTokens'],
    ],
    [
      'model: maxTokens ≤ 200 000',
      'AGENT',
      { capabilities: { model: { maxTokens: 200_001 } } },
      ['/capabilities/model/maxTokens'],
    ],
    [
      'model: temperature ≤ 1',
      'AGENT',
      { capabilities: { model: { temperature: 1.5 } } },
      ['/capabilities/model/temperature'],
    ],
    [
      'model: thinking needs budgetTokens',
      'AGENT',
      { capabilities: { model: { thinking: {} } } },
      ['/capabilities/model/thinking/budgetTokens'],
    ],
    [
      'model: thinking budget ≥ 1024',
      'AGENT',
      { capabilities: { model: { thinking: { budgetTokens: 1000 } } } },
      ['/capabilities/model/thinking/budgetTokens'],
    ],
    [
      'model: thinking budget below maxTokens',
      'AGENT',
      { capabilities: { model: { maxTokens: 2048, thinking: { budgetTokens: 2048 } } } },
      ['/capabilities/model/thinking/budgetTokens'],
    ],
    [
      'model: no temperature with thinking',
      'AGENT',
      { capabilities: { model: { temperature: 0.3, thinking: { budgetTokens: 2048 } } } },
      ['/capabilities/model/temperature'],
    ],
    ['tools: only for an AGENT', 'SKILL', { capabilities: { tools: ['alpha'] } }, ['/capabilities/tools']],
    [
      'tools: an alias or a UUID',
      'AGENT',
      { capabilities: { tools: ['alpha', 'Not An Alias'] } },
      ['/capabilities/tools/1'],
    ],
    [
      'tools: aliases name children',
      'AGENT',
      { capabilities: { tools: ['alpha', SHARED_ID, 'gamma'] } },
      ['/capabilities/tools/2'],
    ],
    [
      'tools: distinct',
      'AGENT',
      { capabilities: { tools: ['alpha', 'beta', 'alpha'] } },
      ['/capabilities/tools/2'],
    ],
    [
      'knowledge: unknown key',
      'AGENT',
      { capabilities: { knowledge: { mode: 'hybrid' } } },
      ['/capabilities/knowledge/mode'],
    ],
    [
      'knowledge: documentIds are UUIDs',
      'AGENT',
      { capabilities: { knowledge: { documentIds: [DOC_ID, 'doc-1'] } } },
      ['/capabilities/knowledge/documentIds/1'],
    ],
    [
      'knowledge: topK ≥ 1',
      'AGENT',
      { capabilities: { knowledge: { topK: 0 } } },
      ['/capabilities/knowledge/topK'],
    ],
    [
      'knowledge: entityScoped is a boolean',
      'AGENT',
      { capabilities: { knowledge: { entityScoped: 'yes' } } },
      ['/capabilities/knowledge/entityScoped'],
    ],
    // governance
    ['governance: unknown key', 'AGENT', { governance: { quota: 1 } }, ['/governance/quota']],
    [
      'budget: unknown key',
      'AGENT',
      { governance: { budget: { maxCost: 1 } } },
      ['/governance/budget/maxCost'],
    ],
    [
      'budget: maxCostUsd is a decimal string',
      'AGENT',
      { governance: { budget: { maxCostUsd: '1.2.3' } } },
      ['/governance/budget/maxCostUsd'],
    ],
    [
      'budget: maxCostUsd has ≤ 6 decimals',
      'AGENT',
      { governance: { budget: { maxCostUsd: '1.1234567' } } },
      ['/governance/budget/maxCostUsd'],
    ],
    [
      'budget: maxCostUsd is not negative',
      'AGENT',
      { governance: { budget: { maxCostUsd: -1 } } },
      ['/governance/budget/maxCostUsd'],
    ],
    [
      'budget: maxTokens is an integer',
      'AGENT',
      { governance: { budget: { maxTokens: 10.5 } } },
      ['/governance/budget/maxTokens'],
    ],
    [
      'budget: maxDurationMs ≥ 1 s',
      'AGENT',
      { governance: { budget: { maxDurationMs: 10 } } },
      ['/governance/budget/maxDurationMs'],
    ],
    [
      'approvals: trigger is required',
      'AGENT',
      { governance: { approvals: [{ match: 'alpha' }] } },
      ['/governance/approvals/0/trigger'],
    ],
    [
      'approvals: trigger is known',
      'AGENT',
      { governance: { approvals: [{ trigger: 'before_run' }, { trigger: 'after_run' }] } },
      ['/governance/approvals/1/trigger'],
    ],
    [
      'approvals: unknown key',
      'AGENT',
      { governance: { approvals: [{ trigger: 'before_run', approvers: [] }] } },
      ['/governance/approvals/0/approvers'],
    ],
    [
      'approvals: cost_above needs thresholdUsd',
      'AGENT',
      { governance: { approvals: [{ trigger: 'cost_above' }] } },
      ['/governance/approvals/0/thresholdUsd'],
    ],
    [
      'approvals: thresholdUsd only for cost_above',
      'AGENT',
      { governance: { approvals: [{ trigger: 'before_run', thresholdUsd: '1' }] } },
      ['/governance/approvals/0/thresholdUsd'],
    ],
    [
      'approvals: thresholdUsd is an amount',
      'AGENT',
      { governance: { approvals: [{ trigger: 'cost_above', thresholdUsd: 'lots' }] } },
      ['/governance/approvals/0/thresholdUsd'],
    ],
    [
      'approvals: match only for before_tool/before_child',
      'AGENT',
      { governance: { approvals: [{ trigger: 'output_review', match: 'alpha' }] } },
      ['/governance/approvals/0/match'],
    ],
    [
      'approvals: before_child matches a child',
      'AGENT',
      { governance: { approvals: [{ trigger: 'before_child', match: 'gamma' }] } },
      ['/governance/approvals/0/match'],
    ],
    [
      'approvals: before_tool matches an alias',
      'AGENT',
      { governance: { approvals: [{ trigger: 'before_tool', match: 'Search Web' }] } },
      ['/governance/approvals/0/match'],
    ],
    [
      'approvals: before_tool only on an AGENT',
      'SKILL',
      { governance: { approvals: [{ trigger: 'before_tool' }] } },
      ['/governance/approvals/0/trigger'],
    ],
    [
      'approvals: before_child not on an ACTION',
      'ACTION',
      { governance: { approvals: [{ trigger: 'before_child' }] }, capabilities: { action: LLM } },
      ['/governance/approvals/0/trigger'],
    ],
    [
      'approvals: timeoutMs ≥ 1 s',
      'AGENT',
      { governance: { approvals: [{ trigger: 'before_run', timeoutMs: 10 }] } },
      ['/governance/approvals/0/timeoutMs'],
    ],
    [
      'approvals: onTimeout is known',
      'AGENT',
      { governance: { approvals: [{ trigger: 'before_run', timeoutMs: 5000, onTimeout: 'retry' }] } },
      ['/governance/approvals/0/onTimeout'],
    ],
    [
      'approvals: onTimeout needs timeoutMs',
      'AGENT',
      { governance: { approvals: [{ trigger: 'before_run', onTimeout: 'approve' }] } },
      ['/governance/approvals/0/timeoutMs'],
    ],
    [
      'channels: type is known',
      'AGENT',
      { governance: { approvals: [{ trigger: 'before_run', channels: [{ type: 'sms', to: '+1' }] }] } },
      ['/governance/approvals/0/channels/0/type'],
    ],
    [
      'channels: webhook needs a url',
      'AGENT',
      { governance: { approvals: [{ trigger: 'before_run', channels: [{ type: 'webhook' }] }] } },
      ['/governance/approvals/0/channels/0/url'],
    ],
    [
      'channels: webhook url is http(s)',
      'AGENT',
      {
        governance: {
          approvals: [{ trigger: 'before_run', channels: [{ type: 'webhook', url: 'mailto:a@b.co' }] }],
        },
      },
      ['/governance/approvals/0/channels/0/url'],
    ],
    [
      'channels: webhook secret ≥ 16 characters',
      'AGENT',
      {
        governance: {
          approvals: [
            {
              trigger: 'before_run',
              channels: [{ type: 'webhook', url: 'https://h.example', secret: 'short' }],
            },
          ],
        },
      },
      ['/governance/approvals/0/channels/0/secret'],
    ],
    [
      'channels: webhook unknown key',
      'AGENT',
      {
        governance: {
          approvals: [
            {
              trigger: 'before_run',
              channels: [{ type: 'webhook', url: 'https://h.example', to: ['a@b.co'] }],
            },
          ],
        },
      },
      ['/governance/approvals/0/channels/0/to'],
    ],
    [
      'channels: email addresses',
      'AGENT',
      {
        governance: {
          approvals: [
            { trigger: 'before_run', channels: [{ type: 'email', to: ['ok@example.com', 'not-an-email'] }] },
          ],
        },
      },
      ['/governance/approvals/0/channels/0/to/1'],
    ],
    [
      'channels: at least one email address',
      'AGENT',
      { governance: { approvals: [{ trigger: 'before_run', channels: [{ type: 'email', to: [] }] }] } },
      ['/governance/approvals/0/channels/0/to'],
    ],
    [
      'allowedHosts: lowercase hostnames',
      'AGENT',
      { governance: { allowedHosts: ['api.example.com', 'API.example.com'] } },
      ['/governance/allowedHosts/1'],
    ],
    [
      'allowedHosts: hostnames, not URLs',
      'AGENT',
      { governance: { allowedHosts: ['https://api.example.com/'] } },
      ['/governance/allowedHosts/0'],
    ],
    [
      'retries: maxAttempts is required',
      'AGENT',
      { governance: { retries: { backoffMs: 100 } } },
      ['/governance/retries/maxAttempts'],
    ],
    [
      'retries: maxAttempts ≤ 10',
      'AGENT',
      { governance: { retries: { maxAttempts: 11 } } },
      ['/governance/retries/maxAttempts'],
    ],
    [
      'retries: unknown key',
      'AGENT',
      { governance: { retries: { maxAttempts: 1, jitter: true } } },
      ['/governance/retries/jitter'],
    ],
    // ioContract
    ['ioContract: unknown key', 'AGENT', { ioContract: { errors: {} } }, ['/ioContract/errors']],
    ['ioContract: input is an object', 'AGENT', { ioContract: { input: 'string' } }, ['/ioContract/input']],
    [
      'ioContract: input is a valid JSON Schema',
      'AGENT',
      { ioContract: { input: { type: 'strnig' } } },
      ['/ioContract/input'],
    ],
    [
      'ioContract: output compiles',
      'AGENT',
      { ioContract: { output: { $ref: '#/$defs/missing' } } },
      ['/ioContract/output'],
    ],
    // observability
    [
      'observability: unknown key',
      'AGENT',
      { observability: { logLevel: 'debug' } },
      ['/observability/logLevel'],
    ],
    [
      'observability: logPrompts is a boolean',
      'AGENT',
      { observability: { logPrompts: 'no' } },
      ['/observability/logPrompts'],
    ],
    [
      'observability: redact entries are JSON pointers',
      'AGENT',
      { observability: { redact: ['/input/ok', 'input.secret'] } },
      ['/observability/redact/1'],
    ],
    [
      'observability: traceSampleRate ≤ 1',
      'AGENT',
      { observability: { traceSampleRate: 2 } },
      ['/observability/traceSampleRate'],
    ],
    // metadataExtensions
    [
      'metadataExtensions: is an object',
      'AGENT',
      { metadataExtensions: ['shared'] },
      ['/metadataExtensions'],
    ],
    [
      'metadataExtensions: shared is a boolean',
      'AGENT',
      { metadataExtensions: { shared: 'yes' } },
      ['/metadataExtensions/shared'],
    ],
    [
      'metadataExtensions: ≤ 100 keys',
      'AGENT',
      { metadataExtensions: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])) },
      ['/metadataExtensions'],
    ],
  ];

  it.each(cases)('%s', (_name, type, input, expected, children = type === 'ACTION' ? [] : CHILDREN) => {
    const errors = validate(type, input, children);
    expect(pointersOf(errors)).toEqual([...expected].sort());
    for (const error of errors) expect(error.message).toEqual(expect.any(String));
  });

  it('has at least one case per rule', () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
  });
});

describe('validateEntityConfig: messages and combinations', () => {
  it('says "unknown key" at the unknown key', () => {
    expect(validate('SKILL', { identity: { colour: 'red' } })).toEqual([
      { pointer: '/identity/colour', message: 'unknown key' },
    ]);
  });

  it('reports every problem of every block at once', () => {
    const errors = validate(
      'SKILL',
      {
        identity: { colour: 'red', avatarUrl: 'nope' },
        planning: { strategy: 'react', steps: [{ alias: 'gamma' }] },
        capabilities: { model: { maxTokens: 0 } },
        governance: { approvals: [{ trigger: 'cost_above' }] },
      },
      CHILDREN,
    );
    expect(pointersOf(errors)).toEqual([
      '/capabilities/model/maxTokens',
      '/governance/approvals/0/thresholdUsd',
      '/identity/avatarUrl',
      '/identity/colour',
      '/planning/steps/0/alias',
      '/planning/strategy',
    ]);
  });

  it('explains aliases, kinds and amounts in words', () => {
    const messages = (type: ConfigEntityType, input: EntityConfigInput) =>
      validate(type, input, CHILDREN).map((e) => e.message);
    expect(messages('SKILL', { planning: { steps: [{ alias: 'gamma' }] } })).toEqual([
      '"gamma" is not a child alias (children: alpha, beta)',
    ]);
    expect(messages('ACTION', { capabilities: { action: { kind: 'shell' } } })).toEqual([
      'must be one of: llm, http, builtin, retrieval',
    ]);
    expect(messages('AGENT', { governance: { budget: { maxCostUsd: 'ten' } } })).toEqual([
      'must be a non-negative amount: a decimal string such as "1.50" or a number',
    ]);
    expect(
      messages('ACTION', { capabilities: { action: { kind: 'llm', prompt: '{{ input.a + 1 }}' } } })[0],
    ).toMatch(/^invalid template: .* is not a plain reference/);
    expect(messages('ACTION', { capabilities: {} })).toEqual(['is required for an ACTION']);
  });

  it('refuses a pathologically deep block with one error instead of crashing', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(validate('AGENT', { metadataExtensions: deep, ioContract: { input: deep } })).toEqual([
      { pointer: '/ioContract', message: 'nested deeper than 64 levels' },
      { pointer: '/metadataExtensions', message: 'nested deeper than 64 levels' },
    ]);
  });

  it('refuses a pathological ioContract schema within the block limit', () => {
    let schema: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 40; i++) schema = { type: 'array', items: schema };
    const errors = validate('AGENT', {
      ioContract: { input: schema, output: { type: 'string', pattern: '(x+x+)+y' } },
    });
    expect(errors).toEqual([
      { pointer: '/ioContract/input', message: 'the schema is nested deeper than 32 levels' },
      { pointer: '/ioContract/output', message: expect.stringMatching(/nests quantifiers/) },
    ]);
  });

  it('does not mutate its input', () => {
    const input = {
      capabilities: {
        action: { kind: 'http', method: 'POST', url: 'https://x.example', body: { a: '{{input.a}}' } },
      },
    };
    const copy = structuredClone(input);
    validate('ACTION', input);
    expect(input).toEqual(copy);
  });
});
