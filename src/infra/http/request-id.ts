import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

// A caller-supplied id is kept when it is short and plain, so it can be traced
// through a gateway; anything else is replaced rather than logged verbatim.
const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFor(request: IncomingMessage): string {
  const supplied = request.headers[REQUEST_ID_HEADER];
  return typeof supplied === 'string' && ACCEPTABLE.test(supplied) ? supplied : randomUUID();
}
