import { ValidateIf } from 'class-validator';
import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { ValidationFailed, type FieldError } from './domain-error';

function flatten(errors: ValidationError[], prefix: string): FieldError[] {
  return errors.flatMap((error) => {
    const pointer = `${prefix}/${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ pointer, message }));
    return [...own, ...flatten(error.children ?? [], pointer)];
  });
}

/** Postgres text and jsonb cannot hold U+0000: refuse it at the edge (400) rather
 *  than fail in the database (500). Returns the path (keys) of the first one found;
 *  the pointer is built only then, as every request walks its body through here. */
function findNul(value: unknown, depth = 0): string[] | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? [] : undefined;
  if (depth > 64 || value === null || typeof value !== 'object') return undefined;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (key.includes('\u0000')) return [key];
    const found = findNul((value as Record<string, unknown>)[key], depth + 1);
    if (found !== undefined) return [key, ...found];
  }
  return undefined;
}

const pointerOf = (path: string[]) =>
  path.map((key) => `/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

/**
 * The global validation pipe: DTOs are class-validator classes; unknown fields
 * are refused (not silently dropped) so a typo never passes unnoticed. Pointers
 * address the body; query and path parameters get a `/query` or `/params` prefix.
 */
export class ProblemValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => new ValidationFailed(flatten(errors, '')),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Custom parameters are the platform's own (the caller), not what a client sent.
    const nul = metadata.type === 'custom' ? undefined : findNul(value);
    if (nul !== undefined) {
      const prefix = metadata.type === 'body' ? '' : metadata.type === 'query' ? '/query' : '/params';
      throw new ValidationFailed([
        { pointer: `${prefix}${pointerOf(nul)}`, message: 'must not contain NUL characters' },
      ]);
    }
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      if (!(error instanceof ValidationFailed) || metadata.type === 'body') throw error;
      const prefix = metadata.type === 'query' ? '/query' : '/params';
      throw new ValidationFailed(
        (error.errors ?? []).map((e) => ({ ...e, pointer: `${prefix}${e.pointer}` })),
      );
    }
  }
}

/**
 * Like @IsOptional(), but only for an absent field: null is validated (and refused by
 * the field's other rules). For fields whose column cannot hold null, so `{"name": null}`
 * is a 400, not a failed write.
 */
export const IsOptionalNotNull = (): PropertyDecorator => ValidateIf((_, value) => value !== undefined);
