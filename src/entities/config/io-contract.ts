import Ajv2020, { type SchemaObject } from 'ajv/dist/2020';
import { CONTRACT_FORMATS, addFormats } from './formats';
import { asRecord, nestingDepth } from './json-pointer';

/** Bounds on a user-supplied ioContract schema, so a hostile one cannot hog a worker. */
export const IO_CONTRACT_LIMITS = { maxBytes: 64 * 1024, maxDepth: 32, maxPatternLength: 1000 } as const;

/**
 * The Ajv set-up for ioContract schemas: draft 2020-12, lenient about unknown
 * keywords (users add `examples`, `x-...`), the formats of CONTRACT_FORMATS
 * (others are annotations), schemas with an `$id` not registered globally.
 * The execution engine should validate run input and output with an instance
 * from here, so write-time and run-time agree.
 */
export function createContractAjv(options: { validateSchema?: boolean } = {}): Ajv2020 {
  const ajv = new Ajv2020({
    strict: false,
    allErrors: true,
    addUsedSchema: false,
    logger: false,
    ...options,
  });
  addFormats(ajv, CONTRACT_FORMATS);
  return ajv;
}

/** Checks schemas against the meta-schema only: validateSchema() caches nothing of the user schema. */
const metaValidator = createContractAjv();

/**
 * A regular expression whose quantified group itself contains a quantifier
 * (`(a+)+`, `(\w*x)*`, `(a|b+){2,}`): the classic shape of catastrophic
 * backtracking. A heuristic: it refuses a few harmless patterns, never misses
 * that shape.
 */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*(?:[*+]|\{\d+,?\d*\})(?:[^()\\]|\\.)*\)(?:[*+]|\{\d+,?\d*\})/;

function patternProblem(pattern: string): string | undefined {
  if (pattern.length > IO_CONTRACT_LIMITS.maxPatternLength) {
    return `a pattern longer than ${IO_CONTRACT_LIMITS.maxPatternLength} characters`;
  }
  if (NESTED_QUANTIFIER.test(pattern))
    return `the pattern "${pattern.slice(0, 80)}" nests quantifiers (catastrophic backtracking)`;
  return undefined;
}

/** Finds `pattern` strings and `patternProperties` keys anywhere in the schema (iteratively). */
function unsafePattern(schema: unknown): string | undefined {
  const stack: unknown[] = [schema];
  while (stack.length) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    const record = asRecord(node);
    if (record) {
      const problem =
        (typeof record.pattern === 'string' ? patternProblem(record.pattern) : undefined) ??
        Object.keys(asRecord(record.patternProperties) ?? {})
          .map(patternProblem)
          .find(Boolean);
      if (problem) return problem;
    }
    stack.push(...Object.values(node as Record<string, unknown>));
  }
  return undefined;
}

/**
 * Why a value is not an acceptable ioContract schema (size, depth, dangerous
 * patterns, meta-schema violations, compile errors such as an unresolvable
 * `$ref`), or undefined when it compiles. Never throws.
 */
export function checkContractSchema(value: unknown): string | undefined {
  if (!asRecord(value)) return 'must be a JSON Schema object';
  const schema = value as SchemaObject;
  if (nestingDepth(schema, IO_CONTRACT_LIMITS.maxDepth) > IO_CONTRACT_LIMITS.maxDepth) {
    return `the schema is nested deeper than ${IO_CONTRACT_LIMITS.maxDepth} levels`;
  }
  const size = Buffer.byteLength(JSON.stringify(schema), 'utf8');
  if (size > IO_CONTRACT_LIMITS.maxBytes) {
    return `the schema is larger than ${IO_CONTRACT_LIMITS.maxBytes / 1024} KiB (${size} bytes)`;
  }
  if (schema.$async !== undefined) return '$async schemas are not supported';
  const pattern = unsafePattern(schema);
  if (pattern) return `the schema uses ${pattern}`;

  try {
    if (!(metaValidator.validateSchema(schema) as boolean)) {
      const byLocation = new Map<string, string>();
      for (const error of metaValidator.errors ?? []) {
        const at = error.instancePath || '/';
        if (!byLocation.has(at)) byLocation.set(at, `${at} ${error.message ?? 'is invalid'}`);
      }
      const details = [...byLocation.values()].slice(0, 3);
      return `not a valid JSON Schema: ${details.join('; ') || 'rejected by the draft 2020-12 meta-schema'}`;
    }
    // A throwaway instance (well under a millisecond): compile() caches by object
    // identity and a user `$id` could shadow a meta-schema in a shared one.
    createContractAjv({ validateSchema: false }).compile(schema);
    return undefined;
  } catch (error) {
    return `the schema does not compile: ${error instanceof Error ? error.message : String(error)}`;
  }
}
