/**
 * JSON Schemas (draft 2020-12, compiled with `ajv/dist/2020` in strict mode) of the
 * entity configuration blocks. They are the single source of truth: the validator
 * compiles them once and the OpenAPI document publishes them, so every bound is
 * stated in a `description`. Every structured object rejects unknown keys; only
 * maps (HTTP headers, mapping objects, free-form data) accept arbitrary keys.
 *
 * Checks a schema cannot express (aliases that must name children, templates,
 * JSONLogic operators, the ioContract schemas themselves, rules that depend on the
 * entity type) live in validate-config.ts.
 */

export type JsonSchema = Record<string, unknown>;

/** Messages for schema nodes whose default Ajv message would be unhelpful (anyOf). */
const SCHEMA_MESSAGES = new WeakMap<object, string>();

function withMessage<T extends JsonSchema>(schema: T, message: string): T {
  SCHEMA_MESSAGES.set(schema, message);
  return schema;
}

/** The custom error message registered for a schema node, if any. */
export function schemaMessage(schema: unknown): string | undefined {
  return typeof schema === 'object' && schema !== null ? SCHEMA_MESSAGES.get(schema) : undefined;
}

// ---------------------------------------------------------------- patterns

export const ENTITY_TYPES = ['ACTION', 'SKILL', 'AGENT', 'PROCESS'] as const;

/** How a parent names a child: a lowercase letter, then up to 62 of `[a-z0-9_]`. */
export const ALIAS_PATTERN = '^[a-z][a-z0-9_]{0,62}$';
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const TOOL_PATTERN = `^(?:${ALIAS_PATTERN.slice(1, -1)}|${UUID_PATTERN.slice(1, -1)})$`;
/** Money as a decimal string: up to 12 integer digits and 6 fractional digits. */
export const DECIMAL_PATTERN = '^(?:0|[1-9][0-9]{0,11})(?:\\.[0-9]{1,6})?$';
const HTTP_URL_PATTERN = '^https?://';
const MODEL_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$';
const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$";
const JSON_POINTER_PATTERN = '^(?:/(?:[^~/]|~[01])*)+$';
const LABEL = '(?!-)[a-z0-9-]{1,63}(?<!-)';
const HOST_PATTERN = `^(?:\\*\\.)?(?:${LABEL}\\.)*${LABEL}$`;

/** Human messages for the patterns above, used instead of echoing the regex. */
export const PATTERN_MESSAGES: ReadonlyMap<string, string> = new Map([
  [
    ALIAS_PATTERN,
    'must be an alias: a lowercase letter, then up to 62 lowercase letters, digits or underscores',
  ],
  [UUID_PATTERN, 'must be a UUID'],
  [TOOL_PATTERN, 'must be a child alias or the id (UUID) of a shared entity'],
  [
    DECIMAL_PATTERN,
    'must be a non-negative decimal such as "1.50" (up to 12 integer and 6 fractional digits)',
  ],
  [HTTP_URL_PATTERN, 'must start with http:// or https://'],
  [MODEL_PATTERN, 'must be a model id such as claude-sonnet-5-5 (letters, digits and . _ : @ -)'],
  [HEADER_NAME_PATTERN, "must be an HTTP header name (a token of letters, digits and !#$%&'*+.^_`|~-)"],
  [JSON_POINTER_PATTERN, 'must be a JSON pointer starting with "/" (write ~ as ~0 and / as ~1)'],
  [
    HOST_PATTERN,
    'must be a lowercase hostname such as api.example.com, optionally prefixed with "*." for its subdomains',
  ],
]);

// ---------------------------------------------------------------- shared pieces

const alias = (description: string): JsonSchema => ({ type: 'string', pattern: ALIAS_PATTERN, description });

const money = (description: string): JsonSchema =>
  withMessage(
    {
      description: `${description} A decimal string ("1.50", up to 6 decimals) or a non-negative JSON number.`,
      anyOf: [
        { type: 'string', pattern: DECIMAL_PATTERN },
        { type: 'number', minimum: 0, maximum: 1e12 },
      ],
    },
    'must be a non-negative amount: a decimal string such as "1.50" or a number',
  );

const TEMPLATE_NOTE =
  'May contain {{input.x}}, {{context.y}} and {{steps.<alias>.output.z}} references (Mustache-style, no code).';

const httpUrl = (description: string): JsonSchema => ({
  type: 'string',
  format: 'uri',
  pattern: HTTP_URL_PATTERN,
  maxLength: 2048,
  description: `${description} An absolute http(s) URL, at most 2048 characters.`,
});

const anyJson = (description: string): JsonSchema => ({ description });

// ---------------------------------------------------------------- identity

export const IDENTITY_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'Who the entity is: role, persona, system prompt and avatar.',
  additionalProperties: false,
  properties: {
    role: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: 'Short role label, 1-200 characters.',
    },
    persona: {
      type: 'string',
      maxLength: 4000,
      description: 'Persona description, at most 4000 characters.',
    },
    instructions: {
      type: 'string',
      maxLength: 100_000,
      description: `The system prompt, at most 100 000 characters. ${TEMPLATE_NOTE}`,
    },
    avatarUrl: httpUrl('Avatar image.'),
  },
};

// ---------------------------------------------------------------- hierarchy

export const HIERARCHY_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'Place of the entity in the composition tree.',
  additionalProperties: false,
  properties: {
    alias: alias(
      'How the parent calls this child in steps, routes, tools and templates (pattern ^[a-z][a-z0-9_]{0,62}$). Defaults to the name in snake case.',
    ),
    order: {
      type: 'integer',
      minimum: 0,
      maximum: 1_000_000,
      description: 'Position among siblings (ascending), 0-1 000 000.',
    },
    allowedChildTypes: {
      type: 'array',
      description: 'Entity types this entity accepts as children; each must rank below the entity itself.',
      maxItems: 3,
      uniqueItems: true,
      items: { enum: [...ENTITY_TYPES] },
    },
  },
};

// ---------------------------------------------------------------- logicGate

const JSON_LOGIC_NOTE =
  'A JSONLogic expression (https://jsonlogic.com) over {input, context}; only the standard json-logic-js operators except "log"; at most 64 levels deep.';

export const LOGIC_GATE_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'Whether the entity runs at all, and (PROCESS only) which child handles the run.',
  additionalProperties: false,
  properties: {
    when: anyJson(`${JSON_LOGIC_NOTE} Falsy → the run ends SKIPPED.`),
    routes: {
      type: 'array',
      description: 'PROCESS only: at most 50 routes; the first whose `when` is truthy picks the child `to`.',
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['when', 'to'],
        properties: {
          when: anyJson(JSON_LOGIC_NOTE),
          to: alias('Alias of the child that handles the run.'),
        },
      },
    },
  },
};

// ---------------------------------------------------------------- planning

export const PLANNING_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'How the entity works through its children.',
  additionalProperties: false,
  properties: {
    strategy: {
      enum: ['single', 'sequential', 'parallel', 'react'],
      description: '`react` only for AGENT; `sequential` runs steps in order, `parallel` all at once.',
    },
    steps: {
      type: 'array',
      description:
        'Not for ACTION. At most 100 steps, each naming a child by alias (once); its `input` is a mapping whose strings are templates; a step may only use the output of earlier steps.',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['alias'],
        properties: {
          alias: alias('Alias of the child run at this step.'),
          input: anyJson(
            `Input of the child: any JSON value; every string in it is a template. ${TEMPLATE_NOTE}`,
          ),
        },
      },
    },
    maxIterations: {
      type: 'integer',
      minimum: 1,
      maximum: 100,
      description: 'Upper bound on tool-use iterations (AGENT), 1-100.',
    },
    maxSteps: {
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      description: 'Upper bound on child runs, 1-1000.',
    },
    output: {
      type: ['object', 'string'],
      maxLength: 100_000,
      description: `How the output is built from the steps: a template string (at most 100 000 characters) or an object whose strings are templates. ${TEMPLATE_NOTE}`,
    },
  },
};

// ---------------------------------------------------------------- capabilities.action

export const BUILTIN_NAMES = ['text.template', 'time.now', 'json.transform', 'math.evaluate'] as const;

export const LLM_ACTION_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'One LLM call with `capabilities.model`.',
  additionalProperties: false,
  required: ['kind', 'prompt'],
  properties: {
    kind: { const: 'llm' },
    prompt: {
      type: 'string',
      minLength: 1,
      maxLength: 100_000,
      description: `The user message, 1-100 000 characters. ${TEMPLATE_NOTE}`,
    },
  },
};

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;

/** A priced tool call names the registry SKU it is billed under. */
const TOOL_SKU: JsonSchema = {
  type: 'string',
  pattern: '^[\\x21-\\x7e]{1,300}$',
  description:
    'Integration registry SKU (component type tool) the call is billed under, nearest company first: cost unit `call` bills 1 per call, `1K_chars` the characters of the JSON output; other units bill 1 per call.',
};

export const HTTP_ACTION_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'One HTTP call to a public host (narrowed by `governance.allowedHosts`).',
  additionalProperties: false,
  required: ['kind', 'method', 'url'],
  properties: {
    kind: { const: 'http' },
    sku: TOOL_SKU,
    method: { enum: [...HTTP_METHODS], description: 'Upper-case HTTP method. GET and HEAD take no body.' },
    url: {
      type: 'string',
      minLength: 1,
      maxLength: 4096,
      pattern: HTTP_URL_PATTERN,
      description: `Absolute http(s) URL, at most 4096 characters; the scheme must be literal. ${TEMPLATE_NOTE}`,
    },
    headers: {
      type: 'object',
      description:
        'At most 50 request headers; values (at most 8192 characters) are templates. Host, Content-Length and hop-by-hop headers are set by the platform.',
      maxProperties: 50,
      propertyNames: { type: 'string', pattern: HEADER_NAME_PATTERN },
      additionalProperties: { type: 'string', maxLength: 8192 },
    },
    body: anyJson(
      `Request body: any JSON value (sent as JSON; a string is sent as is); every string in it is a template. ${TEMPLATE_NOTE}`,
    ),
  },
};

const builtinArgs = (name: string, args: JsonSchema, required: boolean): JsonSchema => ({
  if: { required: ['name'], properties: { name: { const: name } } },
  then: { ...(required ? { required: ['args'] } : {}), properties: { args: args } },
});

export const BUILTIN_ACTION_SCHEMA: JsonSchema = {
  type: 'object',
  description:
    'One built-in function; its args are templated first. `text.template {template}` → the rendered string; `time.now {}` → ISO timestamp; `json.transform {expression, data?}` → JSONata result over `data` (default: the run input); `math.evaluate {expression, scope?}` → number.',
  additionalProperties: false,
  required: ['kind', 'name'],
  properties: {
    kind: { const: 'builtin' },
    sku: TOOL_SKU,
    name: { enum: [...BUILTIN_NAMES] },
    args: {
      type: 'object',
      description: `Arguments of the builtin; every string in it is a template. ${TEMPLATE_NOTE}`,
    },
  },
  allOf: [
    builtinArgs(
      'text.template',
      {
        type: 'object',
        additionalProperties: false,
        required: ['template'],
        properties: { template: { type: 'string', maxLength: 100_000 } },
      },
      true,
    ),
    builtinArgs('time.now', { type: 'object', additionalProperties: false, properties: {} }, false),
    builtinArgs(
      'json.transform',
      {
        type: 'object',
        additionalProperties: false,
        required: ['expression'],
        properties: {
          expression: { type: 'string', minLength: 1, maxLength: 10_000, description: 'JSONata expression.' },
          data: anyJson('Data to transform; default the run input.'),
        },
      },
      true,
    ),
    builtinArgs(
      'math.evaluate',
      {
        type: 'object',
        additionalProperties: false,
        required: ['expression'],
        properties: {
          expression: {
            type: 'string',
            minLength: 1,
            maxLength: 1000,
            description: 'Arithmetic expression (no code execution).',
          },
          scope: { type: 'object', maxProperties: 100, description: 'Variables of the expression.' },
        },
      },
      true,
    ),
  ],
};

export const RETRIEVAL_ACTION_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'One knowledge search (`capabilities.knowledge` narrows the documents).',
  additionalProperties: false,
  required: ['kind', 'query'],
  properties: {
    kind: { const: 'retrieval' },
    sku: TOOL_SKU,
    query: {
      type: 'string',
      minLength: 1,
      maxLength: 4000,
      description: `Search query, 1-4000 characters. ${TEMPLATE_NOTE}`,
    },
    topK: { type: 'integer', minimum: 1, maximum: 50, description: 'Number of chunks returned, 1-50.' },
  },
};

export const ACTION_SCHEMAS = {
  llm: LLM_ACTION_SCHEMA,
  http: HTTP_ACTION_SCHEMA,
  builtin: BUILTIN_ACTION_SCHEMA,
  retrieval: RETRIEVAL_ACTION_SCHEMA,
} as const;

export type ActionKind = keyof typeof ACTION_SCHEMAS;

export const ACTION_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'What an ACTION does (required for ACTION, forbidden otherwise), chosen by `kind`.',
  discriminator: { propertyName: 'kind' },
  oneOf: Object.values(ACTION_SCHEMAS),
};

// ---------------------------------------------------------------- capabilities

export const CAPABILITIES_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'Model, tools, knowledge and (ACTION) the action itself.',
  additionalProperties: false,
  properties: {
    model: {
      type: 'object',
      description: 'Anthropic model settings; `name` defaults to ANTHROPIC_DEFAULT_MODEL.',
      additionalProperties: false,
      properties: {
        name: {
          type: 'string',
          pattern: MODEL_PATTERN,
          description: 'Anthropic model id, e.g. claude-sonnet-5-5.',
        },
        maxTokens: {
          type: 'integer',
          minimum: 1,
          maximum: 200_000,
          description: 'Output token cap, 1-200 000.',
        },
        temperature: {
          type: 'number',
          minimum: 0,
          maximum: 1,
          description: 'Sampling temperature, 0-1 (must be 1 or absent with thinking).',
        },
        thinking: {
          type: 'object',
          description: 'Extended thinking; `budgetTokens` 1024-200 000 and below `maxTokens`.',
          additionalProperties: false,
          required: ['budgetTokens'],
          properties: { budgetTokens: { type: 'integer', minimum: 1024, maximum: 200_000 } },
        },
      },
    },
    tools: {
      type: 'array',
      description:
        'AGENT only: at most 64 distinct tools, each a child alias or the id (UUID) of a shared entity.',
      maxItems: 64,
      uniqueItems: true,
      items: { type: 'string', pattern: TOOL_PATTERN },
    },
    knowledge: {
      type: 'object',
      description:
        'Documents the entity may search (AGENT: a search_knowledge tool; retrieval ACTION: its scope).',
      additionalProperties: false,
      properties: {
        documentIds: {
          type: 'array',
          maxItems: 100,
          uniqueItems: true,
          items: { type: 'string', format: 'uuid' },
          description: 'At most 100 document ids.',
        },
        entityScoped: { type: 'boolean', description: "Only the entity's own documents." },
        topK: { type: 'integer', minimum: 1, maximum: 50, description: 'Chunks per search, 1-50.' },
      },
    },
    action: ACTION_SCHEMA,
  },
};

// ---------------------------------------------------------------- governance

export const APPROVAL_TRIGGERS = [
  'before_run',
  'before_tool',
  'before_child',
  'cost_above',
  'output_review',
] as const;

export const WEBHOOK_CHANNEL_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'url'],
  properties: {
    type: { const: 'webhook' },
    url: httpUrl('Receives a signed POST.'),
    secret: {
      type: 'string',
      minLength: 16,
      maxLength: 256,
      description: 'HMAC-SHA256 key, 16-256 characters; default the platform WEBHOOK_SIGNING_SECRET.',
    },
  },
};

export const EMAIL_CHANNEL_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'to'],
  properties: {
    type: { const: 'email' },
    to: {
      type: 'array',
      minItems: 1,
      maxItems: 20,
      uniqueItems: true,
      items: { type: 'string', format: 'email', maxLength: 254 },
      description: '1-20 addresses.',
    },
  },
};

export const APPROVAL_SCHEMA: JsonSchema = {
  type: 'object',
  description:
    'A human checkpoint. `match` (a child or tool alias) only for before_tool / before_child; `thresholdUsd` required for, and only for, cost_above; `onTimeout` needs `timeoutMs`.',
  additionalProperties: false,
  required: ['trigger'],
  properties: {
    trigger: { enum: [...APPROVAL_TRIGGERS] },
    match: { type: 'string', minLength: 1, maxLength: 128, description: 'Alias the checkpoint applies to.' },
    thresholdUsd: money('Cost so far above which the run pauses.'),
    timeoutMs: {
      type: 'integer',
      minimum: 1000,
      maximum: 2_592_000_000,
      description: 'Answer deadline, 1 s to 30 days.',
    },
    onTimeout: {
      enum: ['reject', 'approve'],
      description: 'Applied at the deadline; default reject (run EXPIRED).',
    },
    channels: {
      type: 'array',
      maxItems: 10,
      description: 'At most 10 notification channels.',
      items: {
        type: 'object',
        discriminator: { propertyName: 'type' },
        oneOf: [WEBHOOK_CHANNEL_SCHEMA, EMAIL_CHANNEL_SCHEMA],
      },
    },
  },
  dependentRequired: { onTimeout: ['timeoutMs'] },
  allOf: [
    {
      if: { required: ['trigger'], properties: { trigger: { const: 'cost_above' } } },
      then: { required: ['thresholdUsd'], properties: { thresholdUsd: true } },
    },
  ],
};

export const GOVERNANCE_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'Budget, human approvals, egress and retries.',
  additionalProperties: false,
  properties: {
    budget: {
      type: 'object',
      description: 'Per-run limits, reserved before each call at its worst case.',
      additionalProperties: false,
      properties: {
        maxCostUsd: money('Cost cap of the run including its descendants.'),
        maxTokens: {
          type: 'integer',
          minimum: 1,
          maximum: 100_000_000,
          description: 'Token cap, 1-100 000 000.',
        },
        maxDurationMs: {
          type: 'integer',
          minimum: 1000,
          maximum: 604_800_000,
          description: 'Wall-clock cap, 1 s to 7 days.',
        },
        onExceeded: {
          enum: ['fail', 'approval'],
          description:
            'When a call would overrun this run’s own budget: `fail` (default) ends the run BUDGET_EXCEEDED; `approval` pauses it for an approver, who may raise the budget (editedInput `{maxCostUsd?, maxTokens?}`) or let just this call through.',
        },
      },
    },
    approvals: {
      type: 'array',
      maxItems: 20,
      description: 'At most 20 checkpoints.',
      items: APPROVAL_SCHEMA,
    },
    allowedHosts: {
      type: 'array',
      maxItems: 100,
      uniqueItems: true,
      description:
        'At most 100 lowercase hostnames ("*.example.com" for subdomains) http actions may call; never opens private addresses.',
      items: { type: 'string', maxLength: 253, pattern: HOST_PATTERN },
    },
    retries: {
      type: 'object',
      description: 'Retries of transient provider errors with exponential backoff.',
      additionalProperties: false,
      required: ['maxAttempts'],
      properties: {
        maxAttempts: {
          type: 'integer',
          minimum: 0,
          maximum: 10,
          description: 'Retries after the first try, 0-10.',
        },
        backoffMs: {
          type: 'integer',
          minimum: 0,
          maximum: 600_000,
          description: 'First backoff delay, 0-600 000 ms (doubles each retry).',
        },
      },
    },
  },
};

// ---------------------------------------------------------------- ioContract

export const IO_CONTRACT_SCHEMA: JsonSchema = {
  type: 'object',
  description:
    'JSON Schemas (draft 2020-12) of the run input (checked when a run is created) and output (checked when it completes). Each at most 64 KiB and 32 levels deep; no remote $ref, no $async.',
  additionalProperties: false,
  properties: {
    input: { type: 'object', description: 'JSON Schema of the run input.' },
    output: { type: 'object', description: 'JSON Schema of the run output.' },
  },
};

// ---------------------------------------------------------------- observability

export const OBSERVABILITY_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'What the logs keep.',
  additionalProperties: false,
  properties: {
    logPrompts: {
      type: 'boolean',
      default: true,
      description: 'Store prompts and completions (default true).',
    },
    redact: {
      type: 'array',
      maxItems: 100,
      uniqueItems: true,
      description: 'At most 100 JSON pointers whose values become "[REDACTED]" in every log row.',
      items: { type: 'string', maxLength: 512, pattern: JSON_POINTER_PATTERN },
    },
    traceSampleRate: { type: 'number', minimum: 0, maximum: 1, description: 'Share of runs traced, 0-1.' },
  },
};

// ---------------------------------------------------------------- metadataExtensions

export const METADATA_EXTENSIONS_SCHEMA: JsonSchema = {
  type: 'object',
  description:
    'Free-form (at most 100 keys). `shared: true` publishes an APP or partner entity read-only to the companies below.',
  maxProperties: 100,
  additionalProperties: true,
  properties: { shared: { type: 'boolean' } },
};

// ---------------------------------------------------------------- all blocks

export const CONFIG_BLOCKS = [
  'identity',
  'hierarchy',
  'logicGate',
  'planning',
  'capabilities',
  'governance',
  'ioContract',
  'observability',
  'metadataExtensions',
] as const;

export type ConfigBlock = (typeof CONFIG_BLOCKS)[number];

export const BLOCK_SCHEMAS: Readonly<Record<ConfigBlock, JsonSchema>> = {
  identity: IDENTITY_SCHEMA,
  hierarchy: HIERARCHY_SCHEMA,
  logicGate: LOGIC_GATE_SCHEMA,
  planning: PLANNING_SCHEMA,
  capabilities: CAPABILITIES_SCHEMA,
  governance: GOVERNANCE_SCHEMA,
  ioContract: IO_CONTRACT_SCHEMA,
  observability: OBSERVABILITY_SCHEMA,
  metadataExtensions: METADATA_EXTENSIONS_SCHEMA,
};
