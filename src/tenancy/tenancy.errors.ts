import { DomainError } from '../infra/http/domain-error';

export class InvalidPlacement extends DomainError {
  constructor(detail: string) {
    super('unprocessable', 'INVALID_PLACEMENT', detail);
  }
}

export class CompanySuspended extends DomainError {
  constructor() {
    super('locked', 'COMPANY_SUSPENDED', 'The company (or one above it) is suspended.');
  }
}

export class NotAboveCompany extends DomainError {
  constructor(field: string) {
    super('forbidden', 'NOT_ABOVE_COMPANY', `Only an admin of a company above this one may change ${field}.`);
  }
}
