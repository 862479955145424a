import type { ValidateFunction } from 'ajv';
import { createContractAjv } from '../entities/config/io-contract';
import type { FieldError } from '../infra/http/domain-error';

// Compiled validators, keyed by the schema text: entities are immutable once active, so
// a run of the same version reuses its compiled contract.
const ajv = createContractAjv();
const compiled = new Map<string, ValidateFunction>();
const MAX_CACHED = 500;

/** Violations of `schema` by `value`, as JSON pointers under `prefix`; [] when it
 *  conforms or when there is no schema. */
export function contractViolations(schema: unknown, value: unknown, prefix: string): FieldError[] {
  if (!schema || typeof schema !== 'object' || Object.keys(schema).length === 0) return [];
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => ({
    pointer: `${prefix}${error.instancePath}`,
    message: error.message ?? 'is not valid',
  }));
}
