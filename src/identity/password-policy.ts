import { dictionary } from '@zxcvbn-ts/language-common';
import { registerDecorator, type ValidationOptions } from 'class-validator';

export const PASSWORD_MIN_LENGTH = 12;
/** argon2 hashes any length; the cap keeps a login from being a CPU amplifier. */
export const PASSWORD_MAX_LENGTH = 256;

// The ~49,000 most common passwords, from zxcvbn-ts's maintained dictionary.
const COMMON = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));

/** Why a password is refused, or null when it is acceptable. One policy for every
 *  path that sets a password (create user, invitation, reset, change). */
export function passwordProblem(password: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (password.length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  if (COMMON.has(password.toLowerCase())) return 'is one of the most common passwords; choose another';
  return null;
}

export function IsAcceptablePassword(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isAcceptablePassword',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && passwordProblem(value) === null,
        defaultMessage: (args) =>
          `${args?.property} ${typeof args?.value === 'string' ? passwordProblem(args.value) : 'must be a string'}`,
      },
    });
}
