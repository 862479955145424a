import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import type { FieldError } from '../../infra/http/domain-error';
import {
  ALIAS_PATTERN,
  APPROVAL_TRIGGERS,
  BLOCK_SCHEMAS,
  CONFIG_BLOCKS,
  ENTITY_TYPES,
  PATTERN_MESSAGES,
  schemaMessage,
  type ConfigBlock,
} from './block-schemas';
import { CONFIG_FORMATS, addFormats, isUuid } from './formats';
import { checkContractSchema } from './io-contract';
import { checkJsonLogic } from './json-logic';
import { asRecord, joinPointer, nestingDepth } from './json-pointer';
import { parseTemplate, stepAliasOf } from './template';

export type ConfigEntityType = (typeof ENTITY_TYPES)[number];

/** The configuration blocks of a request body (camelCase); only present ones are checked. */
export type EntityConfigInput = Partial<Record<ConfigBlock, unknown>>;

export interface EntityConfigContext {
  type: ConfigEntityType;
  /** Aliases of the entity's children (hierarchy.alias, else the snake-case name). */
  childAliases: readonly string[];
}

/** Deepest nesting accepted in any block (ioContract schemas have their own, lower, bound). */
export const MAX_BLOCK_DEPTH = 64;

const RANK: Record<ConfigEntityType, number> = { ACTION: 1, SKILL: 2, AGENT: 3, PROCESS: 4 };
const ALIAS = new RegExp(ALIAS_PATTERN);
/** Headers the HTTP client derives itself; letting a config set them invites request smuggling or Host tricks. */
const PLATFORM_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
]);

// ---------------------------------------------------------------- schemas, compiled once

const ajv = new Ajv2020({
  allErrors: true,
  strict: true,
  discriminator: true,
  verbose: true,
  allowUnionTypes: true,
});
addFormats(ajv, CONFIG_FORMATS);

const VALIDATORS = Object.fromEntries(
  CONFIG_BLOCKS.map((block) => [block, ajv.compile(BLOCK_SCHEMAS[block])]),
) as Record<ConfigBlock, ValidateFunction>;

const TYPE_NAMES: Record<string, string> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  null: 'null',
};

const FORMAT_MESSAGES: Record<string, string> = {
  uri: 'must be an absolute URL',
  email: 'must be an email address',
  uuid: 'must be a UUID',
  hostname: 'must be a hostname',
};

function messageOf(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type': {
      const types = ([] as unknown[]).concat(params.type).map((t) => TYPE_NAMES[String(t)] ?? String(t));
      return `must be ${types.join(' or ')}`;
    }
    case 'enum':
      return `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'pattern':
      return (
        PATTERN_MESSAGES.get(String(params.pattern)) ?? `must match the pattern ${String(params.pattern)}`
      );
    case 'format':
      return FORMAT_MESSAGES[String(params.format)] ?? `must be a valid ${String(params.format)}`;
    case 'anyOf':
    case 'oneOf':
      return schemaMessage(error.parentSchema) ?? 'does not match any of the allowed forms';
    default:
      return error.message ?? 'is invalid';
  }
}

function discriminatorError(at: string, error: ErrorObject): FieldError {
  const tag = String((error.params as { tag: unknown }).tag);
  const branches = (asRecord(error.parentSchema)?.oneOf ?? []) as Record<string, unknown>[];
  const values = branches.map((branch) => String(asRecord(asRecord(branch.properties)?.[tag])?.const));
  const present = asRecord(error.data)?.[tag] !== undefined;
  return {
    pointer: joinPointer(at, tag),
    message: `${present ? 'must be' : 'is required:'} one of: ${values.join(', ')}`,
  };
}

/** Ajv errors → field errors pointing into the request body, one per problem. */
function toFieldErrors(base: string, errors: readonly ErrorObject[]): FieldError[] {
  // anyOf / oneOf alternatives each fail on their own; report the combination once.
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const inside = (e: ErrorObject, union: ErrorObject) =>
    e !== union &&
    e.schemaPath.startsWith(`${union.schemaPath}/`) &&
    (e.instancePath === union.instancePath || e.instancePath.startsWith(`${union.instancePath}/`));

  return errors
    .filter((e) => e.keyword !== 'if' && e.keyword !== 'propertyNames' && !unions.some((u) => inside(e, u)))
    .map((error): FieldError => {
      const at = base + error.instancePath;
      const params = error.params as Record<string, unknown>;
      const propertyName = (error as { propertyName?: string }).propertyName;
      if (propertyName !== undefined) {
        return { pointer: joinPointer(at, propertyName), message: `invalid key: ${messageOf(error)}` };
      }
      switch (error.keyword) {
        case 'additionalProperties':
          return { pointer: joinPointer(at, String(params.additionalProperty)), message: 'unknown key' };
        case 'required':
          return { pointer: joinPointer(at, String(params.missingProperty)), message: 'is required' };
        case 'dependentRequired':
          return {
            pointer: joinPointer(at, String(params.missingProperty)),
            message: `is required when "${String(params.property)}" is set`,
          };
        case 'discriminator':
          return discriminatorError(at, error);
        case 'uniqueItems': {
          const [first, duplicate] = [Number(params.i), Number(params.j)].sort((a, b) => a - b);
          return { pointer: joinPointer(at, duplicate), message: `duplicates item ${first}` };
        }
        default:
          return { pointer: at, message: messageOf(error) };
      }
    });
}

// ---------------------------------------------------------------- templates

interface StepRefs {
  /** Aliases `{{steps.<alias>.output}}` may name here. */
  allowed: ReadonlySet<string>;
  /** Why another alias may not be named. */
  refuse: (alias: string) => string;
}

const MAX_LISTED = 10;

function listAliases(aliases: readonly string[]): string {
  if (!aliases.length) return 'the entity has no children';
  const shown = aliases.slice(0, MAX_LISTED).join(', ');
  return `children: ${shown}${aliases.length > MAX_LISTED ? ', ...' : ''}`;
}

/** Checks every string in a value (recursively) as a template. */
function checkTemplates(value: unknown, pointer: string, steps: StepRefs, errors: FieldError[]): void {
  if (typeof value === 'string') {
    const parsed = parseTemplate(value);
    if ('error' in parsed) {
      errors.push({ pointer, message: `invalid template: ${parsed.error}` });
      return;
    }
    const refused = new Set(
      parsed.refs.map(stepAliasOf).filter((alias): alias is string => !!alias && !steps.allowed.has(alias)),
    );
    for (const alias of refused) errors.push({ pointer, message: steps.refuse(alias) });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => checkTemplates(item, joinPointer(pointer, i), steps, errors));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value))
      checkTemplates(item, joinPointer(pointer, key), steps, errors);
  }
}

// ---------------------------------------------------------------- rules beyond the schemas

interface Checker {
  type: ConfigEntityType;
  children: ReadonlySet<string>;
  childList: readonly string[];
  /** Template references allowed to any child. */
  childRefs: StepRefs;
  errors: FieldError[];
}

function notAChild(c: Checker, alias: string): string {
  return `"${alias}" is not a child alias (${listAliases(c.childList)})`;
}

function checkIdentity(identity: Record<string, unknown>, c: Checker): void {
  if (typeof identity.instructions === 'string') {
    checkTemplates(identity.instructions, '/identity/instructions', c.childRefs, c.errors);
  }
}

function checkHierarchy(hierarchy: Record<string, unknown>, c: Checker): void {
  if (!Array.isArray(hierarchy.allowedChildTypes)) return;
  const lower = ENTITY_TYPES.filter((t) => RANK[t] < RANK[c.type]);
  hierarchy.allowedChildTypes.forEach((childType, i) => {
    if (typeof childType !== 'string' || !(childType in RANK)) return;
    if (RANK[childType as ConfigEntityType] < RANK[c.type]) return;
    c.errors.push({
      pointer: `/hierarchy/allowedChildTypes/${i}`,
      message:
        c.type === 'ACTION'
          ? 'an ACTION has no children'
          : `a ${c.type} can only have children of a lower rank (${lower.join(', ')})`,
    });
  });
}

function checkLogicGate(gate: Record<string, unknown>, c: Checker): void {
  if (gate.when !== undefined) c.errors.push(...checkJsonLogic(gate.when, '/logicGate/when'));
  if (gate.routes === undefined) return;
  if (c.type !== 'PROCESS')
    c.errors.push({ pointer: '/logicGate/routes', message: 'routes are only for a PROCESS' });
  if (!Array.isArray(gate.routes)) return;
  gate.routes.forEach((route, i) => {
    const r = asRecord(route);
    if (!r) return;
    const at = `/logicGate/routes/${i}`;
    if (r.when !== undefined) c.errors.push(...checkJsonLogic(r.when, `${at}/when`));
    if (typeof r.to === 'string' && ALIAS.test(r.to) && !c.children.has(r.to)) {
      c.errors.push({ pointer: `${at}/to`, message: notAChild(c, r.to) });
    }
  });
}

function checkPlanning(planning: Record<string, unknown>, c: Checker): void {
  if (planning.strategy === 'react' && c.type !== 'AGENT') {
    c.errors.push({ pointer: '/planning/strategy', message: 'the react strategy is only for an AGENT' });
  }
  if (planning.steps !== undefined && c.type === 'ACTION') {
    c.errors.push({ pointer: '/planning/steps', message: 'an ACTION has no steps' });
  }
  if (Array.isArray(planning.steps)) {
    const parallel = planning.strategy === 'parallel';
    const earlier: string[] = [];
    planning.steps.forEach((step, i) => {
      const s = asRecord(step);
      if (!s) return;
      const at = `/planning/steps/${i}`;
      const alias = typeof s.alias === 'string' && ALIAS.test(s.alias) ? s.alias : undefined;
      if (alias && !c.children.has(alias)) {
        c.errors.push({ pointer: `${at}/alias`, message: notAChild(c, alias) });
      } else if (alias && earlier.includes(alias)) {
        c.errors.push({
          pointer: `${at}/alias`,
          message: `"${alias}" is already step ${earlier.indexOf(alias)}: a child appears once, its output is addressed by alias`,
        });
      }
      const before = new Set(parallel ? [] : earlier);
      checkTemplates(
        s.input,
        `${at}/input`,
        {
          allowed: before,
          refuse: (ref) =>
            parallel
              ? `parallel steps cannot use each other's output (steps.${ref})`
              : c.children.has(ref)
                ? `steps.${ref} is not an earlier step: a step can only use the output of the steps before it`
                : `steps.${ref}: ${notAChild(c, ref)}`,
        },
        c.errors,
      );
      if (alias) earlier.push(alias);
    });
  }
  if (planning.output !== undefined)
    checkTemplates(planning.output, '/planning/output', c.childRefs, c.errors);
}

function checkModel(model: Record<string, unknown>, c: Checker): void {
  const thinking = asRecord(model.thinking);
  if (!thinking) return;
  const { maxTokens } = model;
  if (
    typeof thinking.budgetTokens === 'number' &&
    typeof maxTokens === 'number' &&
    thinking.budgetTokens >= maxTokens
  ) {
    c.errors.push({
      pointer: '/capabilities/model/thinking/budgetTokens',
      message: `must be below maxTokens (${maxTokens})`,
    });
  }
  if (model.temperature !== undefined && model.temperature !== 1) {
    c.errors.push({
      pointer: '/capabilities/model/temperature',
      message: 'must be 1 (or absent) with extended thinking',
    });
  }
}

function checkAction(action: Record<string, unknown>, c: Checker): void {
  const at = '/capabilities/action';
  const templates = (key: string) => {
    if (action[key] !== undefined) checkTemplates(action[key], `${at}/${key}`, c.childRefs, c.errors);
  };
  switch (action.kind) {
    case 'llm':
      templates('prompt');
      break;
    case 'http': {
      templates('url');
      templates('body');
      const headers = asRecord(action.headers) ?? {};
      for (const [name, value] of Object.entries(headers)) {
        const pointer = joinPointer(`${at}/headers`, name);
        if (PLATFORM_HEADERS.has(name.toLowerCase())) {
          c.errors.push({ pointer, message: `the ${name} header is set by the platform` });
        } else {
          checkTemplates(value, pointer, c.childRefs, c.errors);
        }
      }
      if (action.body !== undefined && (action.method === 'GET' || action.method === 'HEAD')) {
        c.errors.push({ pointer: `${at}/body`, message: `a ${action.method} request has no body` });
      }
      break;
    }
    case 'builtin':
      templates('args');
      break;
    case 'retrieval':
      templates('query');
      break;
    default:
      break; // an unknown kind is a schema error already
  }
}

function checkCapabilities(capabilities: Record<string, unknown> | undefined, c: Checker): void {
  const action = capabilities?.action;
  if (c.type === 'ACTION' && action === undefined) {
    c.errors.push({ pointer: '/capabilities/action', message: 'is required for an ACTION' });
  } else if (c.type !== 'ACTION' && action !== undefined) {
    c.errors.push({
      pointer: '/capabilities/action',
      message: `only an ACTION has an action, not a ${c.type}`,
    });
  }
  if (!capabilities) return;
  const model = asRecord(capabilities.model);
  if (model) checkModel(model, c);
  if (capabilities.tools !== undefined && c.type !== 'AGENT') {
    c.errors.push({ pointer: '/capabilities/tools', message: 'tools are only for an AGENT' });
  }
  if (Array.isArray(capabilities.tools)) {
    capabilities.tools.forEach((tool, i) => {
      if (typeof tool === 'string' && ALIAS.test(tool) && !isUuid(tool) && !c.children.has(tool)) {
        c.errors.push({
          pointer: `/capabilities/tools/${i}`,
          message: `${notAChild(c, tool)}; a shared entity is named by its id`,
        });
      }
    });
  }
  const actionRecord = asRecord(action);
  if (actionRecord) checkAction(actionRecord, c);
}

function checkGovernance(governance: Record<string, unknown>, c: Checker): void {
  if (!Array.isArray(governance.approvals)) return;
  governance.approvals.forEach((approval, i) => {
    const a = asRecord(approval);
    if (!a) return;
    const at = `/governance/approvals/${i}`;
    const { trigger, match } = a;
    if (typeof trigger !== 'string' || !(APPROVAL_TRIGGERS as readonly string[]).includes(trigger)) return;
    if (trigger === 'before_tool' && c.type !== 'AGENT') {
      c.errors.push({
        pointer: `${at}/trigger`,
        message: 'before_tool is only for an AGENT (only agents call tools)',
      });
    }
    if (trigger === 'before_child' && c.type === 'ACTION') {
      c.errors.push({
        pointer: `${at}/trigger`,
        message: 'before_child does not apply: an ACTION has no children',
      });
    }
    if (match !== undefined && trigger !== 'before_tool' && trigger !== 'before_child') {
      c.errors.push({
        pointer: `${at}/match`,
        message: 'only before_tool and before_child checkpoints take a match',
      });
    } else if (typeof match === 'string' && trigger === 'before_child' && !c.children.has(match)) {
      c.errors.push({ pointer: `${at}/match`, message: notAChild(c, match) });
    } else if (typeof match === 'string' && trigger === 'before_tool' && !ALIAS.test(match)) {
      c.errors.push({ pointer: `${at}/match`, message: PATTERN_MESSAGES.get(ALIAS_PATTERN)! });
    }
    if (a.thresholdUsd !== undefined && trigger !== 'cost_above') {
      c.errors.push({
        pointer: `${at}/thresholdUsd`,
        message: 'only cost_above checkpoints take a thresholdUsd',
      });
    }
  });
}

function checkIoContract(contract: Record<string, unknown>, c: Checker): void {
  for (const key of ['input', 'output'] as const) {
    if (!asRecord(contract[key])) continue; // absent, or a schema error already
    const problem = checkContractSchema(contract[key]);
    if (problem) c.errors.push({ pointer: `/ioContract/${key}`, message: problem });
  }
}

const CHECKS: Partial<Record<ConfigBlock, (block: Record<string, unknown>, c: Checker) => void>> = {
  identity: checkIdentity,
  hierarchy: checkHierarchy,
  logicGate: checkLogicGate,
  planning: checkPlanning,
  capabilities: checkCapabilities,
  governance: checkGovernance,
  ioContract: checkIoContract,
};

// ---------------------------------------------------------------- entry point

/**
 * Validates the configuration blocks of an entity of the given type: each present
 * block against its JSON Schema, then JSONLogic, templates, child aliases, the
 * ioContract schemas and the rules that depend on the type. Pass the effective
 * blocks (stored ones overlaid with the request's): `capabilities.action` is
 * required for an ACTION even when the request does not touch `capabilities`.
 * Returns [] when valid; otherwise one error per problem, pointing into the body.
 */
export function validateEntityConfig(input: EntityConfigInput, ctx: EntityConfigContext): FieldError[] {
  const childList = [...new Set(ctx.childAliases)];
  const children = new Set(childList);
  const checker: Checker = {
    type: ctx.type,
    children,
    childList,
    childRefs: { allowed: children, refuse: (alias) => `steps.${alias}: ${notAChild(checker, alias)}` },
    errors: [],
  };

  for (const block of CONFIG_BLOCKS) {
    const value = input[block];
    if (value === undefined) {
      if (block === 'capabilities') checkCapabilities(undefined, checker);
      continue;
    }
    if (nestingDepth(value, MAX_BLOCK_DEPTH) > MAX_BLOCK_DEPTH) {
      checker.errors.push({ pointer: `/${block}`, message: `nested deeper than ${MAX_BLOCK_DEPTH} levels` });
      continue;
    }
    const validate = VALIDATORS[block];
    if (!validate(value)) checker.errors.push(...toFieldErrors(`/${block}`, validate.errors ?? []));
    const record = asRecord(value);
    if (record) CHECKS[block]?.(record, checker);
  }

  const seen = new Set<string>();
  return checker.errors.filter((error) => {
    const key = `${error.pointer}\u0000${error.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
