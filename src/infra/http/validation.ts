import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { ValidationFailed, type FieldError } from './domain-error';

function flatten(errors: ValidationError[], prefix: string): FieldError[] {
  return errors.flatMap((error) => {
    const pointer = `${prefix}/${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ pointer, message }));
    return [...own, ...flatten(error.children ?? [], pointer)];
  });
}

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
