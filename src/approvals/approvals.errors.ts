import type { ApprovalStatus } from '../infra/database/generated/client';
import { DomainError, type FieldError } from '../infra/http/domain-error';

export class ApprovalNotPending extends DomainError {
  constructor(status: ApprovalStatus, expired = false) {
    super(
      'conflict',
      expired ? 'APPROVAL_EXPIRED' : 'APPROVAL_ALREADY_ANSWERED',
      expired
        ? 'The approval passed its deadline; it can no longer be answered.'
        : `The approval was already answered: it is ${status}.`,
    );
  }
}

export class EditNotApplicable extends DomainError {
  constructor(field: 'editedInput' | 'editedOutput', checkpoint: string) {
    super('unprocessable', 'EDIT_NOT_APPLICABLE', `${field} cannot be given for a ${checkpoint} approval.`);
  }
}

export class EditInvalid extends DomainError {
  constructor(errors: FieldError[]) {
    super(
      'unprocessable',
      'EDIT_VIOLATES_CONTRACT',
      'The edit does not match the contract it replaces.',
      errors,
    );
  }
}
